/* REST API: the lws glue, who is asking, and the reads (see http.h). */
#include "http.h"
#include "bp_compress.h"
#include "bp_conneg.h"
#include "bp_httputil.h"
#include "bp_procstat.h"
#include "bp_route.h"
#include "bp_log.h"
#include "bp_rate.h"
#include "bp_registry.h"
#include "bp_time.h"
#include "alerting.h"
#include "history.h"
#include "notifier.h"
#include "public.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_CHUNK (32u * 1024)
#define RESP_MAX   (64u << 20)
/* After a 413 was sent, the rest of the body is read and thrown away (so
 * the client, still sending, reads our answer instead of a reset) for at
 * most this many bytes and LINGER_S seconds; then the connection closes. */
#define DRAIN_MAX (8u << 20)
#define LINGER_S  5
/* Answers from this size on are compressed when the client takes it
 * (brotli, else gzip): the list of all hospitals, 91 KiB, goes as 6 KiB for a
 * millisecond or two of CPU. Below it the headers cost more. */
#define COMPRESS_MIN   1024
#define BROTLI_QUALITY 5
#define GZIP_LEVEL     6

typedef struct {
    bp_req_t *req;
} hss_t;

/* The body limit of a path: feeds post batches (docs/protocol.md). */
static long long body_limit(const bp_app_t *app, const char *path) {
    return strcmp(path, "/api/v1/feed") == 0 ? app->cfg.settings.server_feed_max_body_bytes
                                              : app->cfg.settings.server_max_body_bytes;
}

/* -- answers ---------------------------------------------------------------------- */

void bp_req_error(bp_req_t *r, int status, const char *code, const char *message) {
    bp_http_resp_t *o = &r->resp;
    o->status = status;
    o->content_type = "application/json; charset=utf-8";
    bp_buf_reset(&o->body);
    bp_buf_puts(&o->body, "{\"error\":");
    bp_json_cstr(&o->body, code);
    bp_buf_puts(&o->body, ",\"message\":");
    bp_json_cstr(&o->body, message);
    bp_buf_putc(&o->body, '}');
    r->decided = true;
}

_Static_assert(BP_BLOB_PRE >= LWS_PRE, "a blob's headroom must hold lws' LWS_PRE");

bp_blob_t *bp_blob_make(const void *p, size_t len) {
    bp_blob_t *b = malloc(sizeof *b + BP_BLOB_PRE + len);
    if (!b) return NULL;
    b->refs = 1;
    b->len = len;
    memcpy(b->data + BP_BLOB_PRE, p, len);
    return b;
}

void bp_blob_unref(bp_blob_t *b) {
    if (b && --b->refs == 0) free(b);
}

/* The body to send: a shared blob's bytes, or the request's own. */
static size_t body_len(const bp_req_t *r) {
    return r->blob ? r->blob->len : r->resp.body.len;
}

static void req_free(bp_req_t *r) {
    if (!r) return;
    bp_blob_unref(r->blob);
    bp_buf_free(&r->in);
    bp_buf_free(&r->resp.body);
    explicit_bzero(r->set_cookie, sizeof r->set_cookie);
    free(r);
}

void bp_req_done(bp_req_t *r) {
    r->decided = true;
    r->pending = false;
    if (!r->wsi) {
        req_free(r);
        return;
    }
    if (r->resp.body.failed) bp_req_error(r, 500, "internal", "response too large");
    bp_app_t *app = r->app;
    if (r->resp.status >= 400) app->http_errors++;
    if (r->resp.status == 401) app->http_unauthorized++;
    if (r->resp.status == 403) app->http_forbidden++;
    if (r->resp.status == 429) app->http_limited++;
    /* decided while on_request still runs: it sends the answer itself,
     * without a round through WRITEABLE (two poll changes fewer) */
    if (r->in_request) return;
    /* a body still coming in holds WRITEABLE back until it is read */
    lws_callback_on_writable(r->wsi);
}

/* -- who is asking ------------------------------------------------------------------ */

/* Reads the credentials of the request: Authorization: Bearer wins over the
 * bp_session cookie. A presented credential that does not check out is an
 * error (401), never a silent fall back to anonymous. */
static void read_credentials(bp_req_t *r, struct lws *wsi) {
    bp_tokens_t *t = r->app->tokens;
    char hdr[BP_SESSION_MAX + 1024];
    const char *v;
    size_t vl;
    int n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 0) {
        r->has_cred = true;
        if (bp_http_bearer(hdr, (size_t)n, &v, &vl)) {
            r->cred_bad = true;
        } else if (bp_tokens_ready(t)) {
            const bp_principal_t *p = bp_tokens_find(t, v, vl);
            if (p) snprintf(r->token_id, sizeof r->token_id, "%s", p->id);
            else r->cred_bad = true;
        }
        explicit_bzero(hdr, sizeof hdr);
        return;
    }
    n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_COOKIE);
    if (n > 0 && bp_http_cookie(hdr, (size_t)n, "bp_session", &v, &vl) == 0) {
        r->has_cred = true;
        if (bp_tokens_ready(t)) {
            const bp_principal_t *p =
                bp_tokens_session(t, v, vl, bp_time_now_ms(), r->session_id, &r->session_exp);
            if (p) snprintf(r->token_id, sizeof r->token_id, "%s", p->id);
            else r->cred_bad = true;
        }
    }
    explicit_bzero(hdr, sizeof hdr);
}

const bp_principal_t *bp_req_principal(bp_req_t *r) {
    if (r->decided) return NULL;
    if (!r->has_cred) return NULL;
    if (!bp_tokens_ready(r->app->tokens)) {
        bp_req_error(r, 503, "unavailable", "credentials cannot be checked yet; retry shortly");
        r->retry_after_s = 1;
        return NULL;
    }
    const bp_principal_t *p = r->token_id[0] ? bp_tokens_by_id(r->app->tokens, r->token_id) : NULL;
    int64_t now = bp_time_now_ms();
    const char *why = NULL;
    if (r->cred_bad || !p)
        why = r->session_id[0] || !r->token_id[0]
                  ? (r->session_id[0] ? "the session has ended; sign in again"
                                      : "the token or session is not valid; sign in again")
                  : "the token is not valid";
    else if (p->revoked_ms) why = "the token was revoked";
    else if (p->expires_ms && p->expires_ms <= now) why = "the token has expired";
    else if (r->session_id[0] && bp_tokens_session_denied(r->app->tokens, r->session_id))
        why = "the session has ended; sign in again";
    if (why) {
        bp_req_error(r, 401, "unauthorized", why);
        r->www_authenticate = true;
        if (r->session_id[0] || !r->token_id[0]) {
            /* clear a cookie that no longer works */
            snprintf(r->set_cookie, sizeof r->set_cookie,
                     "bp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                     r->app->tls ? "; Secure" : "");
        }
        return NULL;
    }
    return p;
}

bool bp_req_allow(bp_req_t *r, const bp_principal_t *p, bp_action_t a, int hospital) {
    if (r->decided) return false;
    int anon = bp_auth_anonymous_role(r->app->cfg.settings.auth_anonymous);
    if (bp_auth_allows(p, anon, a, hospital, bp_time_now_ms())) return true;
    if (!p) {
        bp_req_error(r, 401, "unauthorized",
                     "sign in first: send Authorization: Bearer <token> or a session cookie");
        r->www_authenticate = true;
    } else if (a == BP_ACT_WRITE_HOSPITAL) {
        bp_req_error(r, 403, "forbidden",
                     hospital >= 0 && p->role == BP_ROLE_MANAGER
                         ? "this token may not change this hospital's figures"
                         : "this role may not change hospital figures");
    } else {
        char msg[160];
        snprintf(msg, sizeof msg, "a %s token may not read this", bp_role_name(p->role));
        bp_req_error(r, 403, "forbidden", msg);
    }
    return false;
}

/* -- reads ----------------------------------------------------------------------------- */

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* What a health department's monitoring wants to page on: hospitals whose
 * reports are late or stale, the oldest report's age, open alerts. */
static void domain_metrics(bp_app_t *app, bp_buf_t *o) {
    const bp_registry_t *reg = &app->cfg.registry;
    int64_t now = bp_time_now_ms();
    size_t count[4] = {0, 0, 0, 0};
    int64_t oldest = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_state_t *hs = bp_state_hospital(app->state, i);
        bp_freshness_t f = bp_freshness(hs->at_ms, reg->hospitals[i].report_interval_s, now);
        count[f]++;
        if (hs->at_ms && (oldest == 0 || hs->at_ms < oldest)) oldest = hs->at_ms;
    }
    bp_buf_puts(o, "# HELP bedpulse_hospitals Hospitals by the freshness of their last report.\n"
                   "# TYPE bedpulse_hospitals gauge\n");
    for (int f = 0; f < 4; f++)
        bp_buf_printf(o, "bedpulse_hospitals{freshness=\"%s\"} %zu\n",
                      bp_freshness_name((bp_freshness_t)f), count[f]);
    bp_buf_printf(o,
                  "# HELP bedpulse_oldest_report_age_seconds Age of the oldest hospital report "
                  "held (0: none yet).\n"
                  "# TYPE bedpulse_oldest_report_age_seconds gauge\n"
                  "bedpulse_oldest_report_age_seconds %.3f\n"
                  "# HELP bedpulse_alerts_open Alerts raised and not cleared.\n"
                  "# TYPE bedpulse_alerts_open gauge\nbedpulse_alerts_open %zu\n",
                  oldest ? (double)(now - oldest) / 1000.0 : 0.0, bp_alerts_count(app->alerts));
}

static void metrics(bp_app_t *app, bp_buf_t *o) {
    bp_process_metrics(o, "server", app->started_ms);
    domain_metrics(app, o);
    bp_feed_metrics(app, o);
    bp_reqstats_write(o, "bedpulse_http_request_duration_seconds",
                      "HTTP requests by route and status, and the time to answer them.",
                      &app->http_stats);
    bp_hub_metrics(app->hub, o);
    bp_notifier_metrics(app->notifier, o);
    bp_public_metrics(app->pub, o);
    bp_alerting_stats_t als;
    bp_alerting_stats(app, &als);
    bp_buf_printf(o,
                  "# HELP bedpulse_alert_records Alerts open, as grouped and shown (all servers).\n"
                  "# TYPE bedpulse_alert_records gauge\nbedpulse_alert_records %zu\n"
                  "# HELP bedpulse_alert_events_total Notification events this server appended.\n"
                  "# TYPE bedpulse_alert_events_total counter\nbedpulse_alert_events_total %llu\n"
                  "# HELP bedpulse_alert_conflicts_total Alert changes another server made first.\n"
                  "# TYPE bedpulse_alert_conflicts_total counter\nbedpulse_alert_conflicts_total %llu\n",
                  als.open, (unsigned long long)als.events, (unsigned long long)als.conflicts);
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
    bp_buf_printf(o,
                  "# HELP bedpulse_incidents_open Open 115 incidents held in memory.\n"
                  "# TYPE bedpulse_incidents_open gauge\nbedpulse_incidents_open %zu\n"
                  "# HELP bedpulse_incidents_dropped_total Incident creates not held: the table "
                  "was full (stream.max_open_incidents differs from the collector's?).\n"
                  "# TYPE bedpulse_incidents_dropped_total counter\n"
                  "bedpulse_incidents_dropped_total %llu\n",
                  bp_state_incident_count(app->state),
                  (unsigned long long)bp_state_incidents_dropped(app->state));
    bp_reader_stats_t rs;
    bp_reader_stats(app->reader, &rs);
    bp_apply_stats_t as;
    bp_apply_stats(app->apply, &as);
    bp_buf_printf(o,
                  "# HELP bedpulse_reloads_total Snapshot loads from Redis.\n"
                  "# TYPE bedpulse_reloads_total counter\nbedpulse_reloads_total %llu\n"
                  "# HELP bedpulse_redis_reconnects_total Redis connections lost.\n"
                  "# TYPE bedpulse_redis_reconnects_total counter\n"
                  "bedpulse_redis_reconnects_total %llu\n"
                  "# HELP bedpulse_bad_events_total Stream entries that could not be read.\n"
                  "# TYPE bedpulse_bad_events_total counter\nbedpulse_bad_events_total %llu\n"
                  "# HELP bedpulse_history_rewrites_total Failovers that lost stream entries this "
                  "server had read (a new epoch followed).\n"
                  "# TYPE bedpulse_history_rewrites_total counter\n"
                  "bedpulse_history_rewrites_total %llu\n"
                  "# HELP bedpulse_writes_not_replicated_total Manager writes answered 503 because "
                  "fewer than redis.min_replicas_ack replicas confirmed them in time.\n"
                  "# TYPE bedpulse_writes_not_replicated_total counter\n"
                  "bedpulse_writes_not_replicated_total %llu\n"
                  "# HELP bedpulse_ready Whether the server follows the stream (1) or not (0).\n"
                  "# TYPE bedpulse_ready gauge\nbedpulse_ready %d\n"
                  "# HELP bedpulse_http_requests_total HTTP API requests.\n"
                  "# TYPE bedpulse_http_requests_total counter\n"
                  "bedpulse_http_requests_total %llu\n"
                  "# HELP bedpulse_http_errors_total HTTP API requests answered with 4xx/5xx.\n"
                  "# TYPE bedpulse_http_errors_total counter\nbedpulse_http_errors_total %llu\n",
                  (unsigned long long)rs.reloads, (unsigned long long)rs.redis_reconnects,
                  (unsigned long long)rs.bad_events, (unsigned long long)rs.rewrites,
                  (unsigned long long)as.not_replicated, bp_reader_ready(app->reader) ? 1 : 0,
                  (unsigned long long)app->http_requests, (unsigned long long)app->http_errors);
    bp_buf_printf(o,
                  "# HELP bedpulse_http_denied_total API requests refused by who asked.\n"
                  "# TYPE bedpulse_http_denied_total counter\n"
                  "bedpulse_http_denied_total{status=\"401\"} %llu\n"
                  "bedpulse_http_denied_total{status=\"403\"} %llu\n"
                  "bedpulse_http_denied_total{status=\"429\"} %llu\n"
                  "# HELP bedpulse_writes_total Manager writes by outcome.\n"
                  "# TYPE bedpulse_writes_total counter\n"
                  "bedpulse_writes_total{outcome=\"ok\"} %llu\n"
                  "bedpulse_writes_total{outcome=\"conflict\"} %llu\n"
                  "bedpulse_writes_total{outcome=\"invalid\"} %llu\n"
                  "# HELP bedpulse_sessions_created_total Browser sessions signed in.\n"
                  "# TYPE bedpulse_sessions_created_total counter\n"
                  "bedpulse_sessions_created_total %llu\n"
                  "# HELP bedpulse_sign_in_failures_total Sign-ins with a token that is not valid.\n"
                  "# TYPE bedpulse_sign_in_failures_total counter\n"
                  "bedpulse_sign_in_failures_total %llu\n",
                  (unsigned long long)app->http_unauthorized,
                  (unsigned long long)app->http_forbidden, (unsigned long long)app->http_limited,
                  (unsigned long long)app->writes_ok, (unsigned long long)app->writes_conflict,
                  (unsigned long long)app->writes_invalid,
                  (unsigned long long)app->sessions_created,
                  (unsigned long long)app->sign_in_failures);
    /* tests wait for it to advance to know the rules have seen a change */
    bp_buf_printf(o,
                  "# HELP bedpulse_alert_evaluations_total Passes of the alert rules over the "
                  "state (once a second while the server follows the stream, and right after a "
                  "batch of events).\n"
                  "# TYPE bedpulse_alert_evaluations_total counter\n"
                  "bedpulse_alert_evaluations_total %llu\n",
                  (unsigned long long)app->alert_evaluations);
}

/* The value of a query argument, or NULL when absent or too long (then a
 * 400 is decided). */
static const char *arg(bp_req_t *r, const char *name, char *out, size_t len) {
    int n = bp_http_arg(r->query, r->query_len, name, out, len);
    if (n == -2 && !r->decided) {
        char msg[128];
        snprintf(msg, sizeof msg, "query argument %s is too long", name);
        bp_req_error(r, 400, "bad_request", msg);
    }
    return n >= 0 ? out : NULL;
}

/* GET routes answered from memory. */
static void route_read(bp_req_t *r) {
    bp_app_t *app = r->app;
    int64_t now = bp_time_now_ms();
    const bp_registry_t *reg = &app->cfg.registry;
    bp_http_resp_t *o = &r->resp;
    const char *path = r->path;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided) return;
    /* Data endpoints need a loaded snapshot: baselines alone are not figures. */
    if (bp_reader_offset(app->reader) == 0 && !bp_reader_ready(app->reader)) {
        bp_req_error(r, 503, "not_ready", "the server has not loaded the current state yet");
        return;
    }
    if (strcmp(path, "/api/v1/history") == 0) {
        if (!bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, -1)) return;
        char series[64], hours[16];
        const char *se = arg(r, "series", series, sizeof series);
        const char *ho = arg(r, "hours", hours, sizeof hours);
        if (r->decided) return;
        o->status = bp_history_query(app->history, se, ho, now, &o->body);
    } else if (strcmp(path, "/api/v1/hospitals") == 0) {
        if (!bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, -1)) return;
        char scope[8];
        const char *sc = arg(r, "scope", scope, sizeof scope);
        if (r->decided) return;
        if (!sc) {
            bp_state_write_hospitals(&o->body, app->state, now);
        } else if (strcmp(sc, "mine") == 0) {
            /* ?scope=mine: the hospitals this token may change (a manager's
             * page needs hers, not the city) */
            static uint64_t mine[BP_REGISTRY_MAX / 64];
            memset(mine, 0, sizeof mine);
            int anon = bp_auth_anonymous_role(app->cfg.settings.auth_anonymous);
            for (size_t i = 0; i < reg->n_hospitals; i++)
                if (bp_auth_allows(p, anon, BP_ACT_WRITE_HOSPITAL, (int)i, now))
                    mine[i / 64] |= (uint64_t)1 << (i % 64);
            bp_state_write_hospitals_in(&o->body, app->state, now, mine);
        } else {
            bp_req_error(r, 400, "bad_request", "scope must be \"mine\" (or absent: all hospitals)");
        }
    } else if (starts(path, "/api/v1/hospitals/")) {
        const char *id = path + strlen("/api/v1/hospitals/");
        int i = bp_is_slug(id, strlen(id)) ? bp_registry_hospital(reg, id, strlen(id)) : -1;
        if (!bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, i)) return;
        if (i < 0) {
            bp_req_error(r, 404, "unknown_hospital", "no hospital with this id");
            return;
        }
        bp_state_write_hospital(&o->body, app->state, (size_t)i, now);
        snprintf(r->etag, sizeof r->etag, "\"%llu\"",
                 (unsigned long long)bp_state_hospital(app->state, (size_t)i)->version);
    } else if (strcmp(path, "/api/v1/ambulances") == 0) {
        if (!bp_req_allow(r, p, BP_ACT_READ_AMBULANCES, -1)) return;
        bp_state_write_ambulances(&o->body, app->state);
    } else if (strcmp(path, "/api/v1/summary") == 0) {
        if (!bp_req_allow(r, p, BP_ACT_READ_SUMMARY, -1)) return;
        bp_state_write_summary(&o->body, app->state, now);
    } else {
        bp_req_error(r, 404, "not_found", "no such resource");
    }
}

/* Decides what to answer, now or (pending) later. */
static void dispatch(bp_req_t *r) {
    bp_app_t *app = r->app;
    int64_t now = bp_time_now_ms();
    bp_http_resp_t *o = &r->resp;
    const char *path = r->path;
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    o->status = 200;
    o->content_type = "application/json; charset=utf-8";
    int64_t retry;

    if (r->too_big) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request body is larger than %lld bytes",
                 body_limit(app, r->path));
        bp_req_error(r, 413, "too_large", msg);
    } else if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
               strcmp(path, "/metrics") == 0 || strcmp(path, "/api/v1/config") == 0) {
        if (!get) {
            bp_req_error(r, 405, "method_not_allowed", "this resource answers GET only");
        } else if (strcmp(path, "/healthz") == 0) {
            bp_buf_printf(&o->body, "{\"status\":\"ok\",\"uptime_s\":%lld}",
                          (long long)((now - app->started_ms) / 1000));
        } else if (strcmp(path, "/readyz") == 0) {
            if (!bp_reader_ready(app->reader)) {
                bp_req_error(r, 503, "not_ready", "not following the Redis event stream yet");
            } else {
                bp_buf_puts(&o->body, "{\"ready\":true,\"epoch\":");
                bp_json_cstr(&o->body, bp_reader_epoch(app->reader));
                bp_buf_printf(&o->body, ",\"offset\":%llu,\"clients\":%zu,\"server\":\"%s\"}",
                              (unsigned long long)bp_reader_offset(app->reader),
                              bp_hub_clients(app->hub), bp_hub_node(app->hub));
            }
        } else if (strcmp(path, "/metrics") == 0) {
            o->content_type = "text/plain; version=0.0.4; charset=utf-8";
            metrics(app, &o->body);
        } else {
            const bp_settings_t *st = &app->cfg.settings;
            bp_buf_puts(&o->body, "{\"tile_url\":");
            bp_json_cstr(&o->body, st->web_tile_url);
            bp_buf_puts(&o->body, ",\"tile_attribution\":");
            bp_json_cstr(&o->body, st->web_tile_attribution);
            bp_buf_printf(&o->body,
                          ",\"tick_interval_s\":%d,\"history_interval_s\":%d,"
                          "\"history_retention_h\":%d,\"anonymous\":",
                          st->server_tick_interval_s, st->history_interval_s,
                          st->history_retention_h);
            bp_json_cstr(&o->body, st->auth_anonymous);
            bp_buf_putc(&o->body, '}');
        }
    } else if (!starts(path, "/api/")) {
        bp_req_error(r, 404, "not_found", "no such resource");
    } else if (bp_public_route(r)) {
        /* open to all and served from bytes made once: before the rate limit */
    } else if (!bp_rate_take(app->rate_api, r->addr, now, &retry)) {
        r->retry_after_s = (int)((retry + 999) / 1000);
        bp_req_error(r, 429, "rate_limited",
                     "too many requests from this address; wait and retry (see Retry-After)");
    } else if (r->has_origin && !r->origin_ok && !get) {
        /* a page elsewhere must not act with the user's cookie */
        bp_req_error(r, 403, "bad_origin", "requests that change data must come from this site");
    } else if (bp_api_route(r)) {
        if (r->pending) return;
    } else if (!get) {
        bp_req_error(r, 405, "method_not_allowed", "this resource answers GET only");
    } else {
        route_read(r);
    }
    bp_req_done(r);
}

/* -- lws glue ----------------------------------------------------------------------------- */

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

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end) {
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* Compresses the body in place when it is large and the client takes a
 * coding; left as it is when compressing fails or does not pay. */
static void compress_body(bp_req_t *r) {
    bp_buf_t *b = &r->resp.body;
    /* a shared blob (the public document) comes in its coding already */
    if (r->blob || r->content_encoding) return;
    bp_encoding_t e = bp_conneg_pick(r->accept_enc, BP_ENC_BIT(BP_ENC_GZIP) | BP_ENC_BIT(BP_ENC_BR));
    if (b->len < COMPRESS_MIN || b->failed || e == BP_ENC_IDENTITY) return;
    unsigned char *out;
    size_t n;
    if (bp_compress(e, e == BP_ENC_BR ? BROTLI_QUALITY : GZIP_LEVEL, bp_buf_data(b), b->len, &out, &n))
        return;
    if (n < b->len) {
        bp_buf_reset(b);
        bp_buf_put(b, out, n);
        r->content_encoding = bp_conneg_name(e);
    }
    free(out);
}

static int send_headers(struct lws *wsi, bp_req_t *r) {
    bp_app_t *app = r->app;
    unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    size_t len = body_len(r);
    if (lws_add_http_common_headers(wsi, (unsigned)r->resp.status, r->resp.content_type, len, &p,
                                    end) ||
        add_header(wsi, "cache-control:", r->cache_control ? r->cache_control : "no-store", &p,
                   end))
        return -1;
    char off[32];
    snprintf(off, sizeof off, "%llu", (unsigned long long)bp_reader_offset(app->reader));
    const char *epoch = bp_reader_epoch(app->reader);
    if (add_header(wsi, "x-bedpulse-offset:", off, &p, end) ||
        (epoch[0] && add_header(wsi, "x-bedpulse-epoch:", epoch, &p, end)))
        return -1;
    if (r->etag[0] && add_header(wsi, "etag:", r->etag, &p, end)) return -1;
    if (r->content_encoding &&
        add_header(wsi, "content-encoding:", r->content_encoding, &p, end))
        return -1;
    /* the answer has variants: compressed here (compress_body) or made
     * in several codings ahead (the public document) */
    if ((r->content_encoding || r->vary_encoding) &&
        add_header(wsi, "vary:", "Accept-Encoding", &p, end))
        return -1;
    if (r->set_cookie[0] && add_header(wsi, "set-cookie:", r->set_cookie, &p, end)) return -1;
    if (r->www_authenticate &&
        add_header(wsi, "www-authenticate:", "Bearer realm=\"bedpulse\"", &p, end))
        return -1;
    if (r->retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r->retry_after_s);
        if (add_header(wsi, "retry-after:", ra, &p, end)) return -1;
    }
    if (r->close_after && add_header(wsi, "connection:", "close", &p, end)) return -1;
    explicit_bzero(r->set_cookie, sizeof r->set_cookie);
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

/* One line per request (never a token or cookie: the role stands for who
 * asked), and its time in the histogram by route and status. */
static void account(bp_req_t *r) {
    bp_app_t *app = r->app;
    uint64_t ns = bp_time_mono_ns() - r->start_ns;
    bp_reqstats_observe(&app->http_stats, r->route, r->resp.status, (double)ns / 1e9);
    if (!app->cfg.settings.log_access || !bp_log_enabled(BP_LOG_INFO)) return;
    const bp_principal_t *p = r->token_id[0] ? bp_tokens_by_id(app->tokens, r->token_id) : NULL;
    bp_log_field_t f[] = {
        {"method", r->method, 0},
        {"route", bp_route_name(r->route), 0},
        {"status", NULL, r->resp.status},
        {"ms", NULL, (int64_t)(ns / 1000000u)},
        {"role", p ? bp_role_name(p->role) : r->has_cred ? "invalid" : "anonymous", 0},
        {"addr", r->addr, 0},
        {"bytes", NULL, (int64_t)body_len(r)},
    };
    bp_log_fields(BP_LOG_INFO, f, sizeof f / sizeof *f, "http");
}

/* Ends the transaction; -1 when lws should close the connection. */
static int finish(struct lws *wsi, hss_t *s) {
    bp_req_t *r = s->req;
    account(r);
    bool close = r->close_after;
    s->req = NULL;
    req_free(r);
    if (close) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int on_writeable(struct lws *wsi, hss_t *s) {
    bp_req_t *r = s->req;
    if (!r || !r->decided || r->pending || r->answered) return 0;
    bool head = strcmp(r->method, "HEAD") == 0;
    if (!r->headers_sent) {
        compress_body(r);
        if (send_headers(wsi, r)) return -1;
        r->headers_sent = true;
        if (head || body_len(r) == 0) return finish(wsi, s);
        /* the body follows in the same callback: what the socket does not
         * take at once lws keeps, in order, and sends before anything else */
    }
    if (r->blob) {
        /* shared bytes with headroom: one write, no copy (lws keeps what the
         * socket does not take yet and sends it before the next answer) */
        unsigned char *p = r->blob->data + BP_BLOB_PRE;
        if (lws_write(wsi, p, r->blob->len, LWS_WRITE_HTTP_FINAL) != (int)r->blob->len) return -1;
        r->sent = r->blob->len;
        return finish(wsi, s);
    }
    unsigned char buf[LWS_PRE + HTTP_CHUNK];
    size_t left = r->resp.body.len - r->sent;
    size_t n = left < HTTP_CHUNK ? left : HTTP_CHUNK;
    memcpy(buf + LWS_PRE, bp_buf_data(&r->resp.body) + r->sent, n);
    bool last = r->sent + n == r->resp.body.len;
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    r->sent += n;
    if (last) return finish(wsi, s);
    lws_callback_on_writable(wsi);
    return 0;
}

/* Sends a small decided answer at once, from the HTTP callback, instead of
 * from WRITEABLE (which lws holds back while a body is coming in). Used for
 * a body over the limit: the client gets its 413 while it is still sending,
 * the rest of the body is drained (bounded) and the connection then closed. */
static int answer_now(struct lws *wsi, bp_req_t *r) {
    unsigned char buf[LWS_PRE + 1024];
    size_t n = r->resp.body.len;
    if (n > sizeof buf - LWS_PRE || send_headers(wsi, r)) return -1;
    r->headers_sent = true;
    memcpy(buf + LWS_PRE, bp_buf_data(&r->resp.body), n);
    if (n && lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) != (int)n) return -1;
    r->sent = n;
    r->answered = true;
    account(r);
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, LINGER_S);
    return 0;
}

/* A new request: what it is, who sends it, whether a body follows. */
static int on_request(struct lws *wsi, hss_t *s, bp_app_t *app) {
    bp_req_t *r = calloc(1, sizeof *r);
    if (!r) return -1;
    s->req = r;
    r->app = app;
    r->wsi = wsi;
    r->hospital = -1;
    app->http_requests++;
    r->start_ns = bp_time_mono_ns();
    bp_buf_init(&r->resp.body, LWS_PRE, RESP_MAX);
    r->resp.status = 200;
    r->resp.content_type = "application/json; charset=utf-8";
    lws_get_peer_simple(wsi, r->addr, sizeof r->addr);

    enum lws_token_indexes tok = WSI_TOKEN_GET_URI;
    const char *method = request_method(wsi, &tok);
    int n = method ? lws_hdr_copy(wsi, r->path, sizeof r->path, tok) : -1;
    if (method) snprintf(r->method, sizeof r->method, "%s", method);
    r->route = bp_route_of(n > 0 ? r->path : "");
    bp_buf_init(&r->in, 0, (size_t)body_limit(app, n > 0 ? r->path : ""));
    if (n <= 0) {
        snprintf(r->method, sizeof r->method, "GET");
        r->close_after = true;
        bp_req_error(r, n == -1 && method ? 414 : 400, "bad_request",
                     "request line missing or longer than 511 bytes");
        bp_req_done(r);
        return 0;
    }
    /* lws hands each query argument over as its own fragment, already
     * percent-decoded (so a decoded '&' or '=' stays inside its argument):
     * keep them as they are, one after another, each ended by a NUL, and
     * never decode them again (bp_http_arg). */
    size_t qlen = 0;
    for (int i = 0;; i++) {
        char empty[1];
        int fl = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (fl <= 0 && lws_hdr_copy_fragment(wsi, empty, 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            break; /* no fragment i */
        if (i >= BP_REQ_ARGS_MAX || qlen + (size_t)fl + 1 > sizeof r->query) {
            bp_req_error(r, 414, "uri_too_long",
                         "the query has too many arguments or is longer than 1023 bytes");
            bp_req_done(r);
            return 0;
        }
        int f = lws_hdr_copy_fragment(wsi, r->query + qlen, (int)(sizeof r->query - qlen),
                                      WSI_TOKEN_HTTP_URI_ARGS, i);
        if (f < 0) break;
        qlen += (size_t)f + 1;
    }
    r->query_len = qlen;
    read_credentials(r, wsi);
    if (lws_hdr_copy(wsi, r->content_type, sizeof r->content_type, WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
        r->content_type[0] = '\0';
    char ae[256];
    int an = lws_hdr_copy(wsi, ae, sizeof ae, WSI_TOKEN_HTTP_ACCEPT_ENCODING);
    r->accept_enc = bp_conneg_accept_encoding(ae, an > 0 ? (size_t)an : 0);
    int im = lws_hdr_copy(wsi, r->if_match, sizeof r->if_match, WSI_TOKEN_HTTP_IF_MATCH);
    r->has_if_match = im != 0;
    if (im < 0) snprintf(r->if_match, sizeof r->if_match, "?");
    if (lws_hdr_copy(wsi, r->if_none_match, sizeof r->if_none_match,
                     WSI_TOKEN_HTTP_IF_NONE_MATCH) < 0)
        r->if_none_match[0] = '\0';
    char origin[256], host[256];
    int on = lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
    r->has_origin = on != 0;
    r->origin_ok = on > 0 && lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) > 0 &&
                   bp_http_origin_ok(origin, host, app->cfg.settings.server_allowed_origins);

    char cl[24];
    long long declared = 0;
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        char *e;
        declared = strtoll(cl, &e, 10);
        if (*e || declared < 0) declared = 0;
    }
    long long max = body_limit(app, r->path);
    if (declared > max) {
        /* Answered now, before the body: 413 and Connection: close. */
        bp_info("http %s: %s %s: body of %lld bytes refused (limit %lld)", r->addr, r->method,
                r->path, declared, max);
        r->too_big = true;
        r->close_after = true;
        dispatch(r);
        return answer_now(wsi, r);
    }
    if (declared > 0) {
        r->expect_body = true; /* dispatched at HTTP_BODY_COMPLETION */
        return 0;
    }
    r->in_request = true;
    dispatch(r);
    r->in_request = false;
    /* answered at once (reads of the in-memory state, static files): sent
     * from here, as lws_return_http_status does; a pending one is sent from
     * WRITEABLE when its answer comes */
    if (r->decided && !r->pending) return on_writeable(wsi, s);
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
    case LWS_CALLBACK_HTTP:
        if (s->req) {
            /* a previous request still open on this connection */
            s->req->wsi = NULL;
            if (!s->req->pending) req_free(s->req);
            s->req = NULL;
        }
        return on_request(wsi, s, app);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!s) return 0;
        return on_writeable(wsi, s);
    case LWS_CALLBACK_HTTP_BODY: {
        bp_req_t *r = s ? s->req : NULL;
        if (!r) return 0;
        if (r->too_big || r->in.len + len > r->in.max) {
            /* a body longer than it said (or answered already): drop it */
            r->too_big = true;
            r->discarded += len;
            return r->discarded > DRAIN_MAX ? -1 : 0;
        }
        bp_buf_put(&r->in, in, len);
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        /* lws holds writeable callbacks back while it reads a request body,
         * and its default handler would end the transaction here, leaving
         * the client waiting for an answer: decide it now. */
        if (s && s->req) {
            if (s->req->answered) return -1; /* a 413 sent early: close now */
            if (s->req->expect_body) {
                s->req->expect_body = false;
                dispatch(s->req);
            } else if (s->req->decided && !s->req->pending) {
                lws_callback_on_writable(wsi);
            }
            return 0;
        }
        break;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (s && s->req) {
            bp_req_t *r = s->req;
            s->req = NULL;
            r->wsi = NULL;
            if (!r->pending) req_free(r); /* a pending one is freed when its answer comes */
        }
        break;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

size_t bp_http_session_size(void) {
    return sizeof(hss_t);
}
