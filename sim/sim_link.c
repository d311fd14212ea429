/*
 * bp-sim's connection to the collector (sim_app.h): resolve, connect with
 * a watchdog, TLS (the certificate verified against collector.tls_ca for
 * collector.host) and the hello with sim.token, then reply lines to
 * main.c and writes from it; jittered exponential backoff between tries.
 */
#include "bp_log.h"
#include "sim_app.h"

#include <stdlib.h>
#include <string.h>

/* -- writing -------------------------------------------------------------- */

static void on_written(uv_write_t *req, int status);

/* Hands w (w->data holds len bytes) to libuv; on failure closes the link. */
static void send_write(app_t *app, write_t *w, size_t len) {
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&app->tcp, &buf, 1, on_written);
    if (rc < 0) {
        free(w);
        bp_warn("write to collector failed: %s", uv_strerror(rc));
        sim_link_close(app, NULL);
    }
}

/* Sends what OpenSSL has for the network. */
static void tls_send(app_t *app) {
    size_t n = app->tls ? bp_tls_pending(app->tls) : 0;
    if (n == 0 || !app->tcp_open || app->link == LINK_CLOSING) return;
    write_t *w = malloc(sizeof *w + n);
    if (!w) {
        sim_link_close(app, "out of memory");
        return;
    }
    w->app = app;
    send_write(app, w, bp_tls_take(app->tls, w->data, n));
}

/* Sends w's len plaintext bytes: as they are, or encrypted. Takes w. */
void sim_link_send(app_t *app, write_t *w, size_t len) {
    if (!app->tls) {
        send_write(app, w, len);
        return;
    }
    int rc = bp_tls_write(app->tls, w->data, len);
    free(w);
    if (rc) {
        bp_warn("TLS to the collector: %s", bp_tls_why(app->tls));
        sim_link_close(app, NULL);
        return;
    }
    tls_send(app);
}

static void on_written(uv_write_t *req, int status) {
    write_t *w = (write_t *)req;
    app_t *app = w->app;
    free(w);
    if (status < 0 && status != UV_ECANCELED && app->link == LINK_UP) {
        bp_warn("write to collector failed: %s", uv_strerror(status));
        sim_link_close(app, NULL);
    }
}

/* Sends entries [from, inflight.n) of the in-flight queue in one write. */

/* -- reading -------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    app_t *app = h->data;
    *buf = uv_buf_init(app->read_buf, sizeof app->read_buf);
}

/* Reply bytes (plaintext): every complete line is handled. -1 when the
 * link was closed meanwhile. */
static int take_replies(app_t *app, const char *data, size_t n) {
    if (bp_lines_push(&app->replies, data, n)) {
        sim_link_close(app, "reply buffer full");
        return -1;
    }
    for (;;) {
        const char *line;
        size_t len;
        bp_lines_result_t r = bp_lines_next(&app->replies, &line, &len);
        if (r == BP_LINES_NONE) return 0;
        if (r == BP_LINES_TOO_LONG) {
            app->errors++;
            sim_link_close(app, "reply line too long");
            return -1;
        }
        app->calls->reply(app, line, len);
        if (app->link != LINK_UP) return -1;
    }
}

static void link_up(app_t *app);

/* Ciphertext from the collector: the handshake first, then replies. */
static void tls_read(app_t *app, const char *data, size_t n) {
    if (bp_tls_feed(app->tls, data, n)) {
        bp_warn("TLS from the collector: %s", bp_tls_why(app->tls));
        sim_link_close(app, NULL);
        return;
    }
    if (app->link == LINK_HANDSHAKE) {
        int h = bp_tls_handshake(app->tls);
        tls_send(app);
        if (h == BP_TLS_WANT) return;
        if (h == BP_TLS_ERROR) {
            if (app->connect_failures++ == 0)
                bp_error("TLS handshake with the collector at %s:%d failed: %s (collector.tls_ca: "
                         "%s); not sending anything, retrying",
                         app->cfg->settings.collector_host, app->cfg->settings.collector_port,
                         bp_tls_why(app->tls), app->cfg->settings.collector_tls_ca);
            sim_link_close(app, NULL);
            return;
        }
        uv_timer_stop(&app->reconnect); /* the handshake watchdog */
        link_up(app);
        if (app->link != LINK_UP) return;
    }
    /* one read's worth at a time: the line buffer has room for that once
     * it holds no complete line, which take_replies leaves it with */
    for (;;) {
        long got = bp_tls_read(app->tls, app->plain, sizeof app->plain);
        if (got == BP_TLS_WANT) break;
        if (got == BP_TLS_CLOSED) {
            sim_link_close(app, "the collector closed the connection");
            return;
        }
        if (got < 0) {
            bp_warn("TLS from the collector: %s", bp_tls_why(app->tls));
            sim_link_close(app, NULL);
            return;
        }
        if (take_replies(app, app->plain, (size_t)got)) return;
    }
    tls_send(app); /* what reading made OpenSSL say, if anything */
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
    app_t *app = stream->data;
    if (nread == 0) return;
    if (nread < 0) {
        if (nread == UV_EOF)
            sim_link_close(app, app->link == LINK_HANDSHAKE
                                    ? "the collector closed the connection during the TLS handshake"
                                    : "the collector closed the connection");
        else {
            bp_warn("read from collector failed: %s", uv_strerror((int)nread));
            sim_link_close(app, NULL);
        }
        return;
    }
    if (app->tls) {
        tls_read(app, buf->base, (size_t)nread);
        if (app->link != LINK_UP) return;
    } else if (take_replies(app, buf->base, (size_t)nread)) {
        return;
    }
    if (app->stopping && app->inflight.n == 0) app->calls->stopped(app);
}

/* -- connection ----------------------------------------------------------- */

void sim_link_start(app_t *app);
static void on_reconnect_timer(uv_timer_t *t);

static void schedule_reconnect(app_t *app) {
    if (app->stopping) return;
    app->rng = app->rng * 6364136223846793005ull + 1442695040888963407ull;
    int jitter = (int)((app->rng >> 33) % (uint64_t)(app->connect_backoff / 2 + 1));
    int delay = app->connect_backoff / 2 + jitter;
    app->connect_backoff =
        app->connect_backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : app->connect_backoff * 2;
    app->link = LINK_IDLE;
    uv_timer_start(&app->reconnect, on_reconnect_timer, (uint64_t)delay, 0);
}

static void on_tcp_closed(uv_handle_t *h) {
    app_t *app = h->data;
    app->tcp_open = false;
    app->link = LINK_IDLE;
    bp_tls_destroy(app->tls);
    app->tls = NULL;
    if (app->stopping)
        app->calls->stopped(app);
    else
        schedule_reconnect(app);
}

void sim_link_close(app_t *app, const char *why) {
    if (!app->tcp_open || app->link == LINK_CLOSING) return;
    if (why) bp_warn("%s", why);
    if (app->link == LINK_UP || app->link == LINK_HANDSHAKE) uv_read_stop((uv_stream_t *)&app->tcp);
    app->link = LINK_CLOSING;
    app->hello_pending = false;
    uv_timer_stop(&app->reconnect);
    app->calls->down(app);
    uv_close((uv_handle_t *)&app->tcp, on_tcp_closed);
}

static void on_connect(uv_connect_t *req, int status) {
    app_t *app = req->data;
    if (status == UV_ECANCELED || app->link != LINK_CONNECTING) return;
    if (status < 0) {
        if (app->connect_failures++ == 0)
            bp_warn("cannot connect to the collector at %s:%d: %s; retrying",
                    app->cfg->settings.collector_host, app->cfg->settings.collector_port,
                    uv_strerror(status));
        sim_link_close(app, NULL);
        return;
    }
    uv_timer_stop(&app->reconnect);
    bp_lines_free(&app->replies);
    if (bp_lines_init(&app->replies, REPLY_LINE_MAX, READ_CHUNK)) {
        sim_link_close(app, "out of memory");
        return;
    }
    int rc = uv_read_start((uv_stream_t *)&app->tcp, on_alloc, on_read);
    if (rc < 0) {
        bp_warn("cannot read from the collector: %s", uv_strerror(rc));
        sim_link_close(app, NULL);
        return;
    }
    if (!app->tls_ctx) {
        link_up(app);
        return;
    }
    app->tls = bp_tls_create(app->tls_ctx, app->cfg->settings.collector_host);
    if (!app->tls) {
        sim_link_close(app, "out of memory");
        return;
    }
    app->link = LINK_HANDSHAKE;
    uv_timer_start(&app->reconnect, on_reconnect_timer, CONNECT_TIMEOUT, 0); /* watchdog */
    if (bp_tls_handshake(app->tls) == BP_TLS_ERROR) { /* the ClientHello could not be made */
        sim_link_close(app, bp_tls_why(app->tls));
        return;
    }
    tls_send(app);
}

/* Connected (and the certificate verified): say hello with the token, or
 * send at once. */
static void link_up(app_t *app) {
    app->link = LINK_UP;
    app->connect_backoff = BACKOFF_MIN_MS;
    bp_info("connected to the collector at %s:%d%s%s", app->cfg->settings.collector_host,
            app->cfg->settings.collector_port, app->tls ? " (TLS, certificate verified)" : "",
            app->ever_connected ? "; sending full reports again" : "");
    if (app->ever_connected) bp_sim_resync(app->sim);
    app->ever_connected = true;
    app->connect_failures = 0;
    const char *token = app->cfg->settings.sim_token;
    if (token[0]) {
        /* the token is plain text from the settings: the writer quotes it */
        bp_buf_t b;
        bp_buf_init(&b, 0, 1024);
        bp_jw_t jw;
        bp_jw_init(&jw, &b);
        bp_jw_obj(&jw);
        BP_JW_KEY(&jw, "type");
        bp_jw_cstr(&jw, "hello");
        BP_JW_KEY(&jw, "token");
        bp_jw_cstr(&jw, token);
        bp_jw_end(&jw);
        bp_buf_putc(&b, '\n');
        write_t *w = b.failed ? NULL : malloc(sizeof *w + b.len);
        if (w) {
            w->app = app;
            memcpy(w->data, bp_buf_data(&b), b.len);
        }
        size_t n = b.len;
        bp_buf_free(&b);
        if (!w) {
            sim_link_close(app, "out of memory");
            return;
        }
        app->hello_pending = true;
        sim_link_send(app, w, n);
        return;
    }
    app->calls->up(app);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    app_t *app = req->data;
    if (app->stopping) {
        if (res) uv_freeaddrinfo(res);
        app->link = LINK_IDLE;
        app->calls->stopped(app);
        return;
    }
    if (status < 0 || !res) {
        if (app->connect_failures++ == 0)
            bp_warn("cannot resolve collector host %s: %s; retrying",
                    app->cfg->settings.collector_host, uv_strerror(status));
        if (res) uv_freeaddrinfo(res);
        schedule_reconnect(app);
        return;
    }
    uv_tcp_init(&app->loop, &app->tcp);
    app->tcp.data = app;
    app->tcp_open = true;
    uv_tcp_nodelay(&app->tcp, 1);
    app->connect_req.data = app;
    app->link = LINK_CONNECTING;
    int rc = uv_tcp_connect(&app->connect_req, &app->tcp, res->ai_addr, on_connect);
    uv_freeaddrinfo(res);
    if (rc < 0) {
        if (app->connect_failures++ == 0)
            bp_warn("cannot connect to the collector: %s; retrying", uv_strerror(rc));
        sim_link_close(app, NULL);
        return;
    }
    uv_timer_start(&app->reconnect, on_reconnect_timer, CONNECT_TIMEOUT, 0); /* watchdog */
}

void sim_link_start(app_t *app) {
    char port[16];
    snprintf(port, sizeof port, "%d", app->cfg->settings.collector_port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    app->gai.data = app;
    app->link = LINK_RESOLVING;
    int rc = uv_getaddrinfo(&app->loop, &app->gai, on_resolved, app->cfg->settings.collector_host,
                            port, &hints);
    if (rc < 0) {
        bp_warn("cannot resolve collector host: %s", uv_strerror(rc));
        schedule_reconnect(app);
    }
}

/* Backoff over: connect again. While connecting: the connect timed out. */
static void on_reconnect_timer(uv_timer_t *t) {
    app_t *app = t->data;
    if (app->stopping) return;
    if (app->link == LINK_IDLE)
        sim_link_start(app);
    else if (app->link == LINK_CONNECTING) {
        if (app->connect_failures++ == 0)
            bp_warn("connecting to the collector timed out; retrying");
        sim_link_close(app, NULL);
    } else if (app->link == LINK_HANDSHAKE) {
        if (app->connect_failures++ == 0)
            bp_warn("no TLS handshake with the collector within %d s; retrying",
                    CONNECT_TIMEOUT / 1000);
        sim_link_close(app, NULL);
    }
}
