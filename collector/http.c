/* The collector's health and metrics listener (http.h). */
#include "http.h"
#include "bp_buf.h"
#include "bp_jw.h"
#include "bp_log.h"
#include "bp_procstat.h"
#include "bp_time.h"
#include "poller.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (1u << 20)

struct bp_chttp {
    struct lws_context *ctx;
    const bp_settings_t *s;
    bp_feed_server_t *fs;
    const bp_poller_t *poller;
    int64_t started_ms;
    int port;
};

/* per request: the answer, sent from WRITEABLE */
typedef struct {
    bp_buf_t body;
    int status;
    const char *type;
    bool headers_sent;
    size_t sent;
} req_t;

static void metrics(bp_chttp_t *h, bp_buf_t *o) {
    bp_process_metrics(o, "collector", h->started_ms);
    bp_feed_stats_t st;
    bp_feed_server_stats(h->fs, &st);
    bp_redis_stats_t rs;
    bp_apply_stats_t as;
    bp_feed_server_redis_stats(h->fs, &rs, &as);
    bp_buf_printf(o,
                  "# HELP bedpulse_feed_lines_total Feed lines read.\n"
                  "# TYPE bedpulse_feed_lines_total counter\nbedpulse_feed_lines_total %llu\n"
                  "# HELP bedpulse_feed_acknowledged_total Lines answered ok (applied, or "
                  "duplicates of applied ones).\n"
                  "# TYPE bedpulse_feed_acknowledged_total counter\n"
                  "bedpulse_feed_acknowledged_total{kind=\"applied\"} %llu\n"
                  "bedpulse_feed_acknowledged_total{kind=\"duplicate\"} %llu\n"
                  "# HELP bedpulse_feed_connections_total Feed connections accepted.\n"
                  "# TYPE bedpulse_feed_connections_total counter\n"
                  "bedpulse_feed_connections_total %llu\n"
                  "# HELP bedpulse_feed_connections_rejected_total Feed connections over the "
                  "limit.\n"
                  "# TYPE bedpulse_feed_connections_rejected_total counter\n"
                  "bedpulse_feed_connections_rejected_total %llu\n"
                  "# HELP bedpulse_feed_connections Feed connections open now.\n"
                  "# TYPE bedpulse_feed_connections gauge\nbedpulse_feed_connections %zu\n"
                  "# HELP bedpulse_feed_in_flight Lines waiting for Redis now.\n"
                  "# TYPE bedpulse_feed_in_flight gauge\nbedpulse_feed_in_flight %zu\n"
                  "# HELP bedpulse_ready Whether lines can be applied (Redis link up).\n"
                  "# TYPE bedpulse_ready gauge\nbedpulse_ready %d\n"
                  "# HELP bedpulse_redis_reconnects_total Redis connections for lines lost.\n"
                  "# TYPE bedpulse_redis_reconnects_total counter\n"
                  "bedpulse_redis_reconnects_total %llu\n"
                  "# HELP bedpulse_redis_timeouts_total Redis connect or command timeouts (first "
                  "link).\n"
                  "# TYPE bedpulse_redis_timeouts_total counter\n"
                  "bedpulse_redis_timeouts_total %llu\n"
                  "# HELP bedpulse_feed_replica_waits_total WAITs sent for replicas to confirm.\n"
                  "# TYPE bedpulse_feed_replica_waits_total counter\n"
                  "bedpulse_feed_replica_waits_total %llu\n"
                  "# HELP bedpulse_feed_not_replicated_total Lines answered unavailable because "
                  "replicas did not confirm them in time.\n"
                  "# TYPE bedpulse_feed_not_replicated_total counter\n"
                  "bedpulse_feed_not_replicated_total %llu\n",
                  (unsigned long long)st.lines_in, (unsigned long long)st.accepted,
                  (unsigned long long)st.duplicates, (unsigned long long)st.connections,
                  (unsigned long long)st.rejected, st.open, st.in_flight,
                  bp_feed_server_ready(h->fs) ? 1 : 0, (unsigned long long)as.reconnects,
                  (unsigned long long)rs.timeouts, (unsigned long long)as.waits,
                  (unsigned long long)as.not_replicated);
    bp_buf_puts(o, "# HELP bedpulse_feed_errors_total Error replies by code.\n"
                   "# TYPE bedpulse_feed_errors_total counter\n");
    for (size_t i = 0; i < st.n_errors; i++)
        bp_buf_printf(o, "bedpulse_feed_errors_total{code=\"%s\"} %llu\n", st.errors[i].code,
                      (unsigned long long)st.errors[i].n);
    bp_hist_header(o, "bedpulse_feed_apply_seconds",
                   "Time from a line sent to Redis to Redis's answer.");
    bp_hist_write(o, "bedpulse_feed_apply_seconds", "", &st.apply_time);
    bp_poller_metrics(h->poller, o);
}

static void decide(bp_chttp_t *h, req_t *r, struct lws *wsi) {
    char path[64];
    r->status = 200;
    r->type = "application/json; charset=utf-8";
    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    int n = get ? lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) : -1;
    if (!get) {
        r->status = 405;
        bp_jw_error_doc(&r->body, "method_not_allowed", "GET only");
    } else if (n > 0 && strcmp(path, "/healthz") == 0) {
        bp_jw_t w;
        bp_jw_init(&w, &r->body);
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "status");
        bp_jw_cstr(&w, "ok");
        BP_JW_KEY(&w, "uptime_s");
        bp_jw_int(&w, (bp_time_now_ms() - h->started_ms) / 1000);
        bp_jw_end(&w);
    } else if (n > 0 && strcmp(path, "/readyz") == 0) {
        if (bp_feed_server_ready(h->fs)) {
            bp_feed_stats_t st;
            bp_feed_server_stats(h->fs, &st);
            bp_jw_t w;
            bp_jw_init(&w, &r->body);
            bp_jw_obj(&w);
            BP_JW_KEY(&w, "ready");
            bp_jw_bool(&w, true);
            BP_JW_KEY(&w, "connections");
            bp_jw_int(&w, (int64_t)st.open);
            bp_jw_end(&w);
        } else {
            r->status = 503;
            bp_jw_error_doc(&r->body, "not_ready",
                            "Redis is not reachable: feed lines are answered unavailable");
        }
    } else if (n > 0 && strcmp(path, "/metrics") == 0) {
        r->type = "text/plain; version=0.0.4; charset=utf-8";
        metrics(h, &r->body);
    } else {
        r->status = 404;
        bp_jw_error_doc(&r->body, "not_found", "/healthz, /readyz and /metrics only");
    }
    if (r->body.failed) {
        bp_buf_reset(&r->body);
        r->status = 500;
        bp_jw_error_doc(&r->body, "internal", "answer too large");
    }
}

static int on_writeable(struct lws *wsi, req_t *r) {
    if (!r->headers_sent) {
        unsigned char buf[LWS_PRE + 512], *p = buf + LWS_PRE, *end = buf + sizeof buf;
        if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->type, r->body.len, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                        (const unsigned char *)"no-store", 8, &p, end) ||
            lws_finalize_write_http_header(wsi, buf + LWS_PRE, &p, end))
            return -1;
        r->headers_sent = true;
        lws_callback_on_writable(wsi);
        return 0;
    }
    unsigned char buf[LWS_PRE + 16384];
    size_t left = r->body.len - r->sent, n = left < 16384 ? left : 16384;
    if (n) memcpy(buf + LWS_PRE, bp_buf_data(&r->body) + r->sent, n);
    bool last = r->sent + n == r->body.len;
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    r->sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void req_clear(req_t *r) {
    bp_buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
    req_t *r = user;
    bp_chttp_t *h = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        req_clear(r);
        bp_buf_init(&r->body, 0, BODY_MAX);
        decide(h, r, wsi);
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_HTTP_BODY: return 0; /* GET only: a body is ignored */
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!r || !r->type) return 0;
        return on_writeable(wsi, r);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (r) req_clear(r);
        break;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static struct lws_protocols protocols[] = {
    {"http", callback, sizeof(req_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_line(int level, const char *line) {
    bp_log_foreign(level & LLL_ERR    ? BP_LOG_ERROR
                   : level & LLL_WARN ? BP_LOG_WARN
                                      : BP_LOG_DEBUG,
                   "lws", line);
}

bp_chttp_t *bp_chttp_create(uv_loop_t *loop, const bp_settings_t *s, bp_feed_server_t *fs,
                            int64_t started_ms) {
    bp_chttp_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->s = s;
    h->fs = fs;
    h->started_ms = started_ms;
    lws_set_log_level(bp_log_enabled(BP_LOG_DEBUG) ? LLL_ERR | LLL_WARN | LLL_NOTICE
                                                   : LLL_ERR | LLL_WARN,
                      lws_log_line);
    void *foreign[1] = {loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = s->collector_http_port;
    info.iface = s->collector_host;
    info.protocols = protocols;
    info.vhost_name = "collector";
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = foreign;
    info.user = h;
    info.timeout_secs = 10;
    info.server_string = "bedpulse-collector";
    info.fd_limit_per_thread = 64; /* probes and scrapers only */
    static const lws_retry_bo_t no_validity_timers = {0};
    info.retry_and_idle_policy = &no_validity_timers;
    h->ctx = lws_create_context(&info);
    struct lws_vhost *vh = h->ctx ? lws_get_vhost_by_name(h->ctx, "collector") : NULL;
    if (!vh) {
        bp_error("cannot listen for health and metrics on %s:%d", s->collector_host,
                 s->collector_http_port);
        if (h->ctx) lws_context_destroy(h->ctx);
        free(h);
        return NULL;
    }
    h->port = lws_get_vhost_listen_port(vh);
    return h;
}

void bp_chttp_set_poller(bp_chttp_t *h, const struct bp_poller *p) {
    h->poller = p;
}

int bp_chttp_port(const bp_chttp_t *h) {
    return h->port;
}

void bp_chttp_destroy(bp_chttp_t *h) {
    if (!h) return;
    lws_context_destroy(h->ctx);
    free(h);
}
