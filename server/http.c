/* REST API routing and its lws glue. */
#include "http.h"
#include "history.h"
#include "bp_log.h"
#include "bp_registry.h"
#include "bp_time.h"

#include <stdio.h>
#include <string.h>

#define HTTP_CHUNK (32u * 1024)
#define BODY_MAX   (64u << 20)
#define PATH_MAX_  512

typedef struct {
    bp_http_resp_t resp;
    size_t sent;
    bool active;
} hss_t;

static void error_body(bp_http_resp_t *r, int status, const char *code, const char *message) {
    r->status = status;
    r->content_type = "application/json; charset=utf-8";
    bp_buf_reset(&r->body);
    bp_buf_puts(&r->body, "{\"error\":");
    bp_json_cstr(&r->body, code);
    bp_buf_puts(&r->body, ",\"message\":");
    bp_json_cstr(&r->body, message);
    bp_buf_putc(&r->body, '}');
}

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void metrics(bp_app_t *app, bp_buf_t *o) {
    bp_hub_metrics(app->hub, o);
    bp_history_stats_t hs;
    bp_history_stats(app->history, &hs);
    bp_buf_printf(o,
                  "# HELP bedpulse_history_samples_written_total Trend samples this server wrote.\n"
                  "# TYPE bedpulse_history_samples_written_total counter\n"
                  "bedpulse_history_samples_written_total %llu\n"
                  "# HELP bedpulse_history_points_loaded_total Trend points read from Redis.\n"
                  "# TYPE bedpulse_history_points_loaded_total counter\n"
                  "bedpulse_history_points_loaded_total %llu\n",
                  (unsigned long long)hs.samples_written, (unsigned long long)hs.samples_loaded);
    bp_reader_stats_t rs;
    bp_reader_stats(app->reader, &rs);
    bp_buf_printf(o,
                  "# HELP bedpulse_reloads_total Snapshot loads from Redis.\n"
                  "# TYPE bedpulse_reloads_total counter\nbedpulse_reloads_total %llu\n"
                  "# HELP bedpulse_redis_reconnects_total Redis connections lost.\n"
                  "# TYPE bedpulse_redis_reconnects_total counter\n"
                  "bedpulse_redis_reconnects_total %llu\n"
                  "# HELP bedpulse_bad_events_total Stream entries that could not be read.\n"
                  "# TYPE bedpulse_bad_events_total counter\nbedpulse_bad_events_total %llu\n"
                  "# HELP bedpulse_ready Whether the server follows the stream (1) or not (0).\n"
                  "# TYPE bedpulse_ready gauge\nbedpulse_ready %d\n"
                  "# HELP bedpulse_http_requests_total HTTP API requests.\n"
                  "# TYPE bedpulse_http_requests_total counter\n"
                  "bedpulse_http_requests_total %llu\n"
                  "# HELP bedpulse_http_errors_total HTTP API requests answered with 4xx/5xx.\n"
                  "# TYPE bedpulse_http_errors_total counter\nbedpulse_http_errors_total %llu\n",
                  (unsigned long long)rs.reloads, (unsigned long long)rs.redis_reconnects,
                  (unsigned long long)rs.bad_events, bp_reader_ready(app->reader) ? 1 : 0,
                  (unsigned long long)app->http_requests, (unsigned long long)app->http_errors);
}

/* The value of name in a query string ("a=1&b=2"), copied into out, or
 * NULL when absent. Values we accept are ids and numbers: no decoding. */
static const char *query_arg(const char *query, const char *name, char *out, size_t len) {
    size_t nl = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            snprintf(out, len, "%.*s", (int)(n - nl - 1), p + nl + 1);
            return out;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

void bp_http_route(bp_app_t *app, const char *method, const char *path, const char *query,
                   bp_http_resp_t *r) {
    int64_t now = bp_time_now_ms();
    const bp_registry_t *reg = &app->cfg.registry;
    bp_buf_reset(&r->body);
    r->status = 200;
    r->content_type = "application/json; charset=utf-8";
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    if (strcmp(path, "/healthz") == 0) {
        if (!get) goto method;
        bp_buf_printf(&r->body, "{\"status\":\"ok\",\"uptime_s\":%lld}",
                      (long long)((now - app->started_ms) / 1000));
        return;
    }
    if (strcmp(path, "/readyz") == 0) {
        if (!get) goto method;
        if (!bp_reader_ready(app->reader)) {
            error_body(r, 503, "not_ready", "not following the Redis event stream yet");
            return;
        }
        bp_buf_puts(&r->body, "{\"ready\":true,\"epoch\":");
        bp_json_cstr(&r->body, bp_reader_epoch(app->reader));
        bp_buf_printf(&r->body, ",\"offset\":%llu,\"clients\":%zu}",
                      (unsigned long long)bp_reader_offset(app->reader), bp_hub_clients(app->hub));
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        if (!get) goto method;
        r->content_type = "text/plain; version=0.0.4; charset=utf-8";
        metrics(app, &r->body);
        return;
    }
    if (!starts(path, "/api/")) {
        error_body(r, 404, "not_found", "no such resource");
        return;
    }
    if (!get) goto method;
    /* Data endpoints need a loaded snapshot: baselines alone are not figures. */
    if (bp_reader_offset(app->reader) == 0 && !bp_reader_ready(app->reader)) {
        error_body(r, 503, "not_ready", "the server has not loaded the current state yet");
        return;
    }
    if (strcmp(path, "/api/v1/history") == 0) {
        char series[64], hours[16];
        r->status = bp_history_query(app->history, query_arg(query, "series", series, sizeof series),
                                     query_arg(query, "hours", hours, sizeof hours), now, &r->body);
    } else if (strcmp(path, "/api/v1/config") == 0) {
        const bp_settings_t *st = &app->cfg.settings;
        bp_buf_puts(&r->body, "{\"tile_url\":");
        bp_json_cstr(&r->body, st->web_tile_url);
        bp_buf_puts(&r->body, ",\"tile_attribution\":");
        bp_json_cstr(&r->body, st->web_tile_attribution);
        bp_buf_printf(&r->body, ",\"tick_interval_s\":%d,\"history_interval_s\":%d,"
                                "\"history_retention_h\":%d}",
                      st->server_tick_interval_s, st->history_interval_s, st->history_retention_h);
    } else if (strcmp(path, "/api/v1/hospitals") == 0) {
        bp_state_write_hospitals(&r->body, app->state, now);
    } else if (starts(path, "/api/v1/hospitals/")) {
        const char *id = path + strlen("/api/v1/hospitals/");
        int i = bp_is_slug(id, strlen(id)) ? bp_registry_hospital(reg, id, strlen(id)) : -1;
        if (i < 0) {
            error_body(r, 404, "unknown_hospital", "no hospital with this id");
            return;
        }
        bp_state_write_hospital(&r->body, app->state, (size_t)i, now);
    } else if (strcmp(path, "/api/v1/ambulances") == 0) {
        bp_state_write_ambulances(&r->body, app->state);
    } else if (strcmp(path, "/api/v1/summary") == 0) {
        bp_state_write_summary(&r->body, app->state, now);
    } else {
        error_body(r, 404, "not_found", "no such resource");
    }
    return;
method:
    error_body(r, 405, "method_not_allowed", "this resource answers GET only");
}

/* -- lws glue ---------------------------------------------------------------------- */

static const char *request_method(struct lws *wsi, enum lws_token_indexes *tok) {
    static const struct {
        enum lws_token_indexes t;
        const char *m;
    } methods[] = {
        {WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
        {WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_PATCH_URI, "PATCH"},
        {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_HEAD_URI, "HEAD"},
        {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
    };
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        if (lws_hdr_total_length(wsi, methods[i].t) > 0) {
            *tok = methods[i].t;
            return methods[i].m;
        }
    }
    return NULL;
}

static int send_headers(struct lws *wsi, bp_app_t *app, hss_t *s, bool head) {
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    size_t len = s->resp.body.failed ? 0 : s->resp.body.len;
    if (lws_add_http_common_headers(wsi, (unsigned)s->resp.status, s->resp.content_type, len, &p,
                                    end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        return -1;
    char off[32];
    int n = snprintf(off, sizeof off, "%llu", (unsigned long long)bp_reader_offset(app->reader));
    const char *epoch = bp_reader_epoch(app->reader);
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-bedpulse-offset:",
                                    (const unsigned char *)off, n, &p, end) ||
        (epoch[0] && lws_add_http_header_by_name(wsi, (const unsigned char *)"x-bedpulse-epoch:",
                                                 (const unsigned char *)epoch, (int)strlen(epoch),
                                                 &p, end)))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    if (head || len == 0) {
        s->active = false;
        bp_buf_free(&s->resp.body);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

int bp_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len) {
    hss_t *s = user;
    bp_app_t *app = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* A WebSocket upgrade lands here when it did not ask for a
         * subprotocol we serve: lws binds it to the first protocol. The live
         * feed is /ws with bedpulse.v1 only, so refuse it instead of keeping
         * an upgraded connection that nothing will ever serve. */
        return 1;
    case LWS_CALLBACK_HTTP: {
        char path[PATH_MAX_];
        enum lws_token_indexes tok = WSI_TOKEN_GET_URI;
        const char *method = request_method(wsi, &tok);
        app->http_requests++;
        memset(s, 0, sizeof *s);
        bp_buf_init(&s->resp.body, LWS_PRE, BODY_MAX);
        s->active = true;
        int n = method ? lws_hdr_copy(wsi, path, sizeof path, tok) : -1;
        if (n <= 0) {
            error_body(&s->resp, n == -1 && method ? 414 : 400, "bad_request",
                       "request line missing or longer than 511 bytes");
        } else {
            /* lws keeps each argument as a fragment: join them with '&' */
            char query[512], frag[256];
            size_t qlen = 0;
            query[0] = '\0';
            for (int i = 0; i < 16; i++) {
                int f = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
                if (f <= 0) break;
                if (qlen + (size_t)f + 2 > sizeof query) break;
                if (qlen) query[qlen++] = '&';
                memcpy(query + qlen, frag, (size_t)f + 1);
                qlen += (size_t)f;
            }
            bp_http_route(app, method, path, qlen ? query : NULL, &s->resp);
        }
        if (s->resp.body.failed) error_body(&s->resp, 500, "internal", "response too large");
        if (s->resp.status >= 400) app->http_errors++;
        (void)in;
        (void)len;
        return send_headers(wsi, app, s, method && strcmp(method, "HEAD") == 0);
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!s || !s->active) return 0;
        unsigned char buf[LWS_PRE + HTTP_CHUNK];
        size_t left = s->resp.body.len - s->sent;
        size_t n = left < HTTP_CHUNK ? left : HTTP_CHUNK;
        memcpy(buf + LWS_PRE, bp_buf_data(&s->resp.body) + s->sent, n);
        bool last = s->sent + n == s->resp.body.len;
        if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        s->sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        s->active = false;
        bp_buf_free(&s->resp.body);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
        /* No resource takes a body (the answer is already decided from the
         * request line): read it and drop it. */
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        /* lws holds writeable callbacks back while it reads a request body,
         * and its default handler would end the transaction here, leaving
         * the client waiting for a body we never sent: send it now. */
        if (s && s->active) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        break;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (s && s->active) {
            s->active = false;
            bp_buf_free(&s->resp.body);
        }
        break;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

size_t bp_http_session_size(void) {
    return sizeof(hss_t);
}
