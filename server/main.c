/*
 * bp-server: serves web/, the REST API and the /ws live feed from the state
 * it follows in Redis. libwebsockets runs on our own libuv loop (Debian's
 * lws loads libuv support from a plugin and does not export its loop
 * helpers, see DESIGN §10). Usage: bp-server [--settings FILE].
 *
 * Shutdown (SIGINT/SIGTERM): close the reader, destroy the lws context
 * while the loop still runs, run the loop until every handle is released.
 */
#include "app.h"
#include "bp_apply.h"
#include "bp_havexml.h"
#include "bp_log.h"
#include "bp_notify.h"
#include "alerting.h"
#include "public.h"
#include "bp_alerts.h"
#include "bp_rate.h"
#include "bp_time.h"
#include "history.h"
#include "outlook.h"
#include "conn.h"
#include "derived.h"
#include "feed.h"
#include "listener.h"
#include "notifier.h"
#include "request.h"
#include "static.h"
#include "writes.h"

#include <curl/curl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* "http" first: lws binds a WebSocket upgrade that asked for no protocol
 * we serve to protocols[0], whose filter refuses it (conn.c). */
static struct lws_protocols protocols[] = {
    {"http", bp_conn_callback, 0, 0, 0, NULL, 0},
    {"bedpulse.v1", bp_hub_ws_callback, 0, 4096, 0, NULL, 0},
    {"static", bp_static_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Offered only with server.deflate = 1: compression runs per client (each
 * has its own window), which undoes serialize-once; worth it only for
 * clients on slow links. */
static const struct lws_extension extensions[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate,
     "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
    {NULL, NULL, NULL},
};

#define N_MOUNTS 5
static struct lws_http_mount mounts[N_MOUNTS];

/* Callback mounts: "/" for everything from the static file table
 * ("static", static.c: web/ and Leaflet, from memory), the API and probes
 * for "http" (conn.c). Order matters: lws 4.1 picks the last matching
 * callback mount of the list, not the longest, so "/" goes first. */
static void setup_mounts(void) {
    static const char *const paths[] = {"/", "/api", "/healthz", "/readyz", "/metrics"};
    memset(mounts, 0, sizeof mounts);
    for (int i = 0; i < N_MOUNTS; i++) {
        mounts[i].mountpoint = paths[i];
        mounts[i].mountpoint_len = (unsigned char)strlen(paths[i]);
        mounts[i].origin = i == 0 ? "static" : "http";
        mounts[i].origin_protocol = LWSMPRO_CALLBACK;
        if (i + 1 < N_MOUNTS) mounts[i].mount_next = &mounts[i + 1];
    }
}

/* The static file table: web_root at /, Leaflet at /vendor/leaflet. NULL
 * (logged) when a directory cannot be read whole. */
static bp_static_t *load_static(const char *web_root, const char *leaflet_root) {
    bp_static_t *st = bp_static_create();
    if (!st || bp_static_add(st, web_root, "") ||
        (leaflet_root && bp_static_add(st, leaflet_root, "/vendor/leaflet"))) {
        bp_static_destroy(st);
        return NULL;
    }
    bp_static_finish(st);
    bp_info("static: %zu files, %zu KiB in memory", bp_static_files(st),
            bp_static_bytes(st) / 1024);
    return st;
}

/* Security headers on every response (ours, not lws' fixed best-practice
 * set, so the CSP can admit the configured map tile server). */
static char csp[1024];
static struct lws_protocol_vhost_options headers[] = {
    {&headers[1], NULL, "content-security-policy:", csp},
    {&headers[2], NULL, "x-content-type-options:", "nosniff"},
    {&headers[3], NULL, "x-frame-options:", "DENY"},
    {&headers[4], NULL, "referrer-policy:", "no-referrer"},
    {&headers[5], NULL, "cross-origin-opener-policy:", "same-origin"},
    {NULL, NULL, "permissions-policy:", "geolocation=(), camera=(), microphone=(), payment=()"},
    /* linked in with TLS only: browsers then refuse plain HTTP for a year */
    {NULL, NULL, "strict-transport-security:", "max-age=31536000"},
};

/* The origin of a tile URL template, {s} (subdomain) as a CSP wildcard:
 * https://{s}.tile.example.org/{z}/{x}/{y}.png gives https://STAR.tile.example.org (STAR = an
 * asterisk) */
static void tile_origin(const char *url, char *out, size_t len) {
    out[0] = '\0';
    const char *host = strstr(url, "://");
    if (!host) return;
    host += 3;
    const char *end = strchr(host, '/');
    size_t n = end ? (size_t)(end - url) : strlen(url);
    size_t o = 0;
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (strncmp(url + i, "{s}", 3) == 0) {
            out[o++] = '*';
            i += 2;
        } else {
            out[o++] = url[i];
        }
    }
    out[o] = '\0';
}

static void setup_headers(const bp_settings_t *s) {
    char origin[300];
    tile_origin(s->web_tile_url, origin, sizeof origin);
    snprintf(csp, sizeof csp,
             "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:%s%s; "
             "connect-src 'self'; font-src 'self'; manifest-src 'self'; media-src 'self'; "
             "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
             origin[0] ? " " : "", origin);
    if (s->server_tls_cert[0]) headers[5].next = &headers[6];
}

static void on_reader_closed(void *data) {
    (void)data;
}

static void stop(bp_app_t *app, int signum) {
    if (app->stopping) return;
    app->stopping = true;
    bp_info("signal %d: shutting down", signum);
    bp_notify_stopping(app->notify);
    bp_notify_close(app->notify);
    app->notify = NULL;
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    uv_timer_stop(&app->housekeeping);
    uv_close((uv_handle_t *)&app->housekeeping, NULL);
    bp_listener_close(app->listener);
    bp_outlook_srv_close(app->outlook);
    app->outlook = NULL;
    bp_history_close(app->history, NULL, NULL);
    bp_tokens_close(app->tokens, NULL, NULL);
    app->tokens = NULL;
    bp_feed_stop(app);
    bp_apply_close(app->apply, NULL, NULL);
    app->apply = NULL;
    bp_notifier_close(app->notifier, NULL, NULL);
    app->notifier = NULL;
    bp_reader_close(app->reader, on_reader_closed, app);
    lws_context_destroy(app->ctx);
    app->ctx = NULL;
    bp_writes_on_state(app); /* writes still waiting: their clients are gone */
}

/* The reader's callbacks: the hub, then writes waiting to see their result. */
/* Handover figures start again from the state as loaded: a unit at a
 * hospital has waited since its report (samples of finished handovers are
 * kept across reloads of the same stream, dropped with a new epoch). */
static void seed_handover(bp_app_t *app, bool forget) {
    const bp_registry_t *reg = &app->cfg.registry;
    if (forget) bp_handover_reset(app->handover);
    for (size_t i = 0; i < reg->n_units; i++) {
        const bp_ambulance_state_t *a = bp_state_ambulance(app->state, i);
        if (a->version)
            bp_handover_on_ambulance(app->handover, i, a->status, a->destination, a->at_ms);
    }
}

/* The handovers of the last hours, replayed from the stream once per epoch
 * (a server that starts knows the medians at once, not only who is
 * waiting): the ambulance status changes in order, then the state again. */
#define HANDOVER_REPLAY_EVENTS 50000

static void on_handover_history(void *data, bool ok, const bp_change_t *cs, size_t n) {
    bp_app_t *app = data;
    if (!ok) app->handover_ready = true; /* medians start empty, as logged */
    if (!ok || !app->handover) return;
    bp_handover_reset(app->handover);
    for (size_t i = 0; i < n; i++) {
        const bp_change_t *c = &cs[i];
        if (c->kind != BP_KIND_AMBULANCE || !(c->amb_fields & BP_AF_STATUS)) continue;
        int u = bp_registry_unit(&app->cfg.registry, c->id, strlen(c->id));
        if (u >= 0)
            bp_handover_on_ambulance(
                app->handover, (size_t)u, c->amb.status,
                (c->amb_fields & BP_AF_DESTINATION) ? c->amb.destination : NULL, c->at_ms);
    }
    seed_handover(app, false);
    app->handover_ready = true;
    bp_info("handover: %zu events replayed from the stream", n);
}

static void on_reload(void *data, const char *epoch, uint64_t offset, const char *reason) {
    bp_app_t *app = data;
    bool new_epoch = strcmp(app->handover_epoch, epoch) != 0;
    snprintf(app->handover_epoch, sizeof app->handover_epoch, "%s", epoch);
    seed_handover(app, new_epoch);
    if (new_epoch && offset > 0) {
        /* alert rules wait for the medians (a handover alert must not clear
         * and fire again because a restarted server forgot them) */
        app->handover_ready = false;
        uint64_t from = offset > HANDOVER_REPLAY_EVENTS ? offset - HANDOVER_REPLAY_EVENTS : 0;
        if (bp_reader_range(app->reader, from, offset, HANDOVER_REPLAY_EVENTS, on_handover_history,
                            app)) {
            bp_warn("handover: cannot replay the stream; medians start empty");
            app->handover_ready = true;
        }
    } else if (new_epoch) {
        app->handover_ready = true;
    }
    bp_hub_on_reload(app->hub, epoch, offset, reason);
    bp_writes_on_state(app);
}

static void on_event(void *data, const bp_change_t *c, bool live) {
    bp_app_t *app = data;
    if (live && c->kind == BP_KIND_AMBULANCE && (c->amb_fields & BP_AF_STATUS)) {
        int u = bp_registry_unit(&app->cfg.registry, c->id, strlen(c->id));
        if (u >= 0)
            bp_handover_on_ambulance(
                app->handover, (size_t)u, c->amb.status,
                (c->amb_fields & BP_AF_DESTINATION) ? c->amb.destination : NULL, c->at_ms);
    }
    bp_hub_on_event(app->hub, c, live);
}

static void on_batch(void *data) {
    bp_app_t *app = data;
    bp_hub_on_batch(app->hub);
    bp_writes_on_state(app);
    bp_writes_save_checks(app);
    bp_alerting_kick(app);
}

static void on_signal(uv_signal_t *s, int signum) {
    stop(s->data, signum);
}

static void on_housekeeping(uv_timer_t *t) {
    bp_app_t *app = t->data;
    bp_hub_sweep(app->hub);
    bp_writes_on_state(app);
    bp_writes_save_checks(app);
    bp_derived_tick(app);
}

/* lws' own log lines go through ours (same format: text or JSON lines). */
static void lws_log_line(int level, const char *line) {
    bp_log_foreign(level & LLL_ERR    ? BP_LOG_ERROR
                   : level & LLL_WARN ? BP_LOG_WARN
                                      : BP_LOG_DEBUG,
                   "lws", line);
}

/* lws sizes its fd table from the limit: make it as large as we may. */
static unsigned raise_fd_limit(unsigned want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return want;
    if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur < want ? (unsigned)rl.rlim_cur : want;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fprintf(stderr, "usage: bp-server [--settings FILE]\n");
            return 0;
        }
        if ((strcmp(argv[i], "--settings") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            i++;
            continue;
        }
        fprintf(stderr, "bp-server: unknown argument \"%s\"\n", argv[i]);
        return 2;
    }

    static bp_app_t app;
    if (bp_program_start("server", &app.cfg, argc, argv)) return 1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        bp_error("cannot initialise libcurl");
        return 1;
    }
    const bp_settings_t *s = &app.cfg.settings;
    static char web_root[PATH_MAX];
    if (!realpath(s->server_web_root, web_root)) {
        bp_error("configuration error [bad_setting server.web_root]: %s is not a directory",
                 s->server_web_root);
        bp_config_free(&app.cfg);
        return 1;
    }
    app.started_ms = bp_time_now_ms();
    uv_loop_init(&app.loop);
    app.state =
        bp_state_create(&app.cfg.registry, &s->pressure, (size_t)s->stream_max_open_incidents);
    if (app.state) bp_state_set_plausibility(app.state, &app.cfg.dispatch.plausibility);
    app.checks_sent = calloc(app.cfg.registry.n_hospitals + 1, sizeof *app.checks_sent);
    app.hub = app.state ? bp_hub_create(s, app.state) : NULL;
    bp_handover_cfg_t hcfg = {.window_ms = 3 * 3600 * 1000LL, .delayed_ms = 30 * 60 * 1000LL};
    app.handover = bp_handover_create(&app.cfg.registry, &hcfg);
    app.alerts = bp_alerts_create();
    app.derived = bp_derived_create();
    app.alerting = bp_alerting_create(&app);
    app.pub = bp_pubcache_create();
    app.have_cache = bp_havexml_cache_create();
    if (!app.hub || !app.checks_sent || !app.handover || !app.alerts || !app.derived ||
        !app.alerting || !app.pub || !app.have_cache) {
        bp_error("out of memory");
        return 1;
    }

    protocols[0].per_session_data_size = bp_conn_session_size();
    protocols[1].per_session_data_size = bp_hub_session_size();
    protocols[1].user = app.hub;
    /* Without tx_packet_size lws sends at most rx_buffer_size per lws_write
     * and copies the rest into a per-connection buffer: every snapshot chunk
     * and coalesced frame would be copied once per client. */
    protocols[0].tx_packet_size = 64 * 1024;
    protocols[1].tx_packet_size = (size_t)s->server_max_frame_bytes + 64 * 1024;
    static char leaflet_root[PATH_MAX];
    bool leaflet = realpath(s->web_leaflet_root, leaflet_root) != NULL;
    if (!leaflet)
        bp_warn("web.leaflet_root %s not found (install libjs-leaflet): the map view has no map",
                s->web_leaflet_root);
    static bp_static_t *statics;
    statics = load_static(web_root, leaflet ? leaflet_root : NULL);
    if (!statics) {
        bp_error("configuration error [bad_setting server.web_root]: cannot serve %s", web_root);
        return 1;
    }
    protocols[2].per_session_data_size = bp_static_session_size();
    protocols[2].user = statics;
    protocols[2].tx_packet_size = 64 * 1024;
    setup_mounts();
    setup_headers(s);

    /* twice the clients: in a reconnect storm the old connections are still
     * being closed while their replacements arrive */
    unsigned fds = raise_fd_limit(2 * (unsigned)s->server_max_clients + 256);
    void *foreign[1] = {&app.loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    /* we listen ourselves and hand accepted sockets to lws (listener.h) */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.mounts = mounts;
    info.vhost_name = "bedpulse";
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.headers = headers;
    info.foreign_loops = foreign;
    info.user = &app;
    info.fd_limit_per_thread = fds;
    if (s->server_deflate) info.extensions = extensions;
    /* Optional TLS (server.tls_cert / tls_key): the sockets our listener
     * adopts are then TLS on the same port; session cookies get Secure. */
    if (s->server_tls_cert[0]) { /* with tls_key: bp_settings_check */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = s->server_tls_cert;
        info.ssl_private_key_filepath = s->server_tls_key;
        app.tls = true;
    }
    info.timeout_secs = 10;
    /* An explicit policy with secs_since_valid_hangup = 0: lws then arms no
     * validity timer per connection. Without it lws applies a default one,
     * and lws 4.1 keeps timers in one sorted list, so every accept walked
     * all connections (O(n^2) in a reconnect storm). Heartbeats are done by
     * the hub's sweep instead. */
    static const lws_retry_bo_t no_validity_timers = {0};
    info.retry_and_idle_policy = &no_validity_timers;
    info.server_string = "bedpulse";
    lws_set_log_level(bp_log_enabled(BP_LOG_DEBUG) ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO
                                                   : LLL_ERR | LLL_WARN,
                      lws_log_line);
    app.ctx = lws_create_context(&info);
    if (!app.ctx) {
        bp_error("cannot start the HTTP/WebSocket server on %s:%d", s->server_host, s->server_port);
        return 1;
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(app.ctx, "bedpulse");
    app.listener = vh ? bp_listener_create(&app.loop, s->server_host, s->server_port,
                                           s->server_listen_backlog, vh)
                      : NULL;
    if (!app.listener) {
        lws_context_destroy(app.ctx);
        return 1;
    }
    int port = bp_listener_port(app.listener);

    bp_reader_cbs_t cbs = {on_reload, on_event, on_batch};
    app.reader =
        bp_reader_create(&app.loop, s, app.state, (size_t)s->server_ring_events, &cbs, &app);
    if (!app.reader) {
        bp_error("out of memory");
        return 1;
    }
    app.tokens = bp_tokens_create(&app.loop, s, &app.cfg.registry);
    if (!app.tokens) {
        bp_error("out of memory");
        return 1;
    }
    bp_hub_attach(app.hub, app.ctx, &protocols[1], app.reader, app.tokens);
    /* manager writes: bounded like a feed connection's backlog */
    app.apply = bp_apply_create(&app.loop, s, &app.cfg.registry, 1, 256, bp_writes_on_applied);
    app.rate_api =
        bp_rate_create(4096, s->server_api_requests_per_min, s->server_api_requests_per_min);
    app.rate_login =
        bp_rate_create(4096, s->auth_login_failures_per_min, s->auth_login_failures_per_min);
    app.rate_writes = bp_rate_create(4096, s->auth_writes_per_min, s->auth_writes_per_min);
    if (!app.apply || !app.rate_api || !app.rate_login || !app.rate_writes || bp_feed_start(&app)) {
        bp_error("out of memory");
        return 1;
    }
    app.history = bp_history_create(&app.loop, s, app.state, app.reader);
    app.notifier = bp_notifier_create(&app);
    app.outlook = app.history ? bp_outlook_srv_create(&app) : NULL;
    if (!app.history || !app.notifier || !app.outlook) {
        bp_error("out of memory");
        return 1;
    }

    uv_signal_init(&app.loop, &app.sigint);
    uv_signal_init(&app.loop, &app.sigterm);
    app.sigint.data = app.sigterm.data = &app;
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);
    uv_timer_init(&app.loop, &app.housekeeping);
    app.housekeeping.data = &app;
    uv_timer_start(&app.housekeeping, on_housekeeping, 1000, 1000);

    app.notify = bp_notify_create(&app.loop);
    char status[128];
    snprintf(status, sizeof status, "serving on %.64s:%d", s->server_host, port);
    bp_notify_ready(app.notify, status);
    bp_info("listening on %s://%s:%d/ (web root %s, %zu hospitals, %zu ambulances, fd limit %u)",
            app.tls ? "https" : "http", s->server_host, port, web_root,
            app.cfg.registry.n_hospitals, app.cfg.registry.n_units, fds);
    /* lws stops the loop when its context goes; run again until all is released */
    while (uv_run(&app.loop, UV_RUN_DEFAULT) && app.stopping) {
    }
    if (!app.stopping) bp_warn("event loop ended unexpectedly");
    uv_run(&app.loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&app.loop);
    if (rc) bp_warn("loop closed with handles still open: %s", uv_strerror(rc));
    bp_hub_destroy(app.hub);
    bp_handover_destroy(app.handover);
    bp_alerts_destroy(app.alerts);
    bp_derived_destroy(app.derived);
    bp_alerting_destroy(app.alerting);
    bp_pubcache_destroy(app.pub);
    bp_havexml_cache_destroy(app.have_cache);
    bp_rate_destroy(app.rate_api);
    bp_rate_destroy(app.rate_login);
    bp_rate_destroy(app.rate_writes);
    bp_state_destroy(app.state);
    free(app.checks_sent);
    bp_static_destroy(statics);
    bp_config_free(&app.cfg);
    curl_global_cleanup();
    bp_info("stopped");
    return 0;
}
