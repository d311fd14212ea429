/*
 * bp-collector: accepts bed-status and 115 fleet feeds on TCP and applies
 * them to Redis; answers health and metrics on its own small HTTP listener
 * (collector.http_port). Usage: bp-collector [--settings FILE]. Stops
 * cleanly on SIGINT/SIGTERM: stops listening, answers nothing more, closes
 * Redis.
 */
#include "bp_config.h"
#include "bp_log.h"
#include "bp_notify.h"
#include "bp_time.h"
#include "feed_server.h"
#include "http.h"
#include "poller.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    bp_feed_server_t *fs;
    bp_chttp_t *http;
    bp_poller_t *poller;
    bp_notify_t *notify; /* systemd, when under it */
    bool stopping;
} app_t;

static void on_closed(void *data) {
    (void)data;
}

static void on_signal(uv_signal_t *s, int signum) {
    app_t *app = s->data;
    if (app->stopping) return;
    app->stopping = true;
    bp_info("signal %d: shutting down", signum);
    bp_notify_stopping(app->notify);
    bp_notify_close(app->notify);
    app->notify = NULL;
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    bp_chttp_destroy(app->http); /* while the loop runs: lws lets go on it */
    app->http = NULL;
    bp_poller_close(app->poller, on_closed, app);
    app->poller = NULL;
    bp_feed_server_close(app->fs, on_closed, app);
}

/* The pollers' sources (collector.sources): none when the default file is
 * absent; any other problem stops start-up naming the field. */
static int load_sources(const bp_config_t *cfg, bp_sources_t *out) {
    const char *path = cfg->settings.collector_sources;
    memset(out, 0, sizeof *out);
    if (strcmp(path, "config/sources.json") == 0 && access(path, F_OK) != 0) return 0;
    char *text = NULL;
    size_t len = 0;
    bp_error_t err;
    bp_error_clear(&err);
    if (bp_read_file(path, 16u << 20, &text, &len, &err) ||
        bp_sources_parse(text, len, &cfg->registry, out, &err)) {
        bp_error("configuration error [%s%s%s]: sources file %s: %s", err.code,
                 err.field[0] ? " " : "", err.field, path, err.message);
        free(text);
        return -1;
    }
    free(text);
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: bp-collector [--settings FILE]\n"
            "Settings: config/settings.json, overridden by BP_<SECTION>_<KEY> variables.\n");
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
        if ((strcmp(argv[i], "--settings") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            i++;
            continue;
        }
        fprintf(stderr, "bp-collector: unknown argument \"%s\"\n", argv[i]);
        usage();
        return 2;
    }

    static bp_config_t cfg;
    if (bp_program_start("collector", &cfg, argc, argv)) return 1;
    static bp_sources_t sources;
    if (load_sources(&cfg, &sources)) {
        bp_config_free(&cfg);
        return 1;
    }
    static app_t app;
    uv_loop_init(&app.loop);
    app.fs = bp_feed_server_create(&app.loop, &cfg.settings, &cfg.registry);
    if (!app.fs) {
        bp_config_free(&cfg);
        return 1;
    }
    app.http = bp_chttp_create(&app.loop, &cfg.settings, app.fs, bp_time_now_ms());
    app.poller =
        app.http ? bp_poller_create(&app.loop, &cfg.settings, &cfg.registry, &sources) : NULL;
    if (app.http && !app.poller) {
        bp_chttp_destroy(app.http);
        app.http = NULL;
    }
    if (app.http) bp_chttp_set_poller(app.http, app.poller);
    if (!app.http) {
        bp_feed_server_close(app.fs, on_closed, &app);
        uv_run(&app.loop, UV_RUN_DEFAULT);
        uv_loop_close(&app.loop);
        bp_config_free(&cfg);
        return 1;
    }
    bool tls = bp_feed_server_tls(app.fs);
    bp_info("listening on %s:%d%s (registry: %zu hospitals, %zu ambulances); health and metrics "
            "on http://%s:%d/",
            cfg.settings.collector_host, bp_feed_server_port(app.fs), tls ? " with TLS" : "",
            cfg.registry.n_hospitals, cfg.registry.n_units, cfg.settings.collector_host,
            bp_chttp_port(app.http));
    if (!tls && !bp_settings_loopback(cfg.settings.collector_host))
        bp_warn("feeds on %s without TLS: their tokens cross the network in clear; set "
                "collector.tls_cert and collector.tls_key",
                cfg.settings.collector_host);
    uv_signal_init(&app.loop, &app.sigint);
    uv_signal_init(&app.loop, &app.sigterm);
    app.sigint.data = app.sigterm.data = &app;
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);
    app.notify = bp_notify_create(&app.loop);
    char status[128];
    snprintf(status, sizeof status, "feeds on %.64s:%d, health on port %d",
             cfg.settings.collector_host, bp_feed_server_port(app.fs), bp_chttp_port(app.http));
    bp_notify_ready(app.notify, status);

    /* lws stops the loop when its context goes; run again until all is released */
    while (uv_run(&app.loop, UV_RUN_DEFAULT) && app.stopping) {
    }
    uv_run(&app.loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&app.loop);
    if (rc) bp_warn("loop closed with handles still open: %s", uv_strerror(rc));
    bp_sources_free(&sources);
    bp_config_free(&cfg);
    bp_info("stopped");
    return 0;
}
