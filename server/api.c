/*
 * The REST routes that go beyond the in-memory state (docs/api.md):
 *
 *   POST   /api/v1/session              {"token":..} -> session cookie
 *   GET    /api/v1/session              who am I
 *   DELETE /api/v1/session              sign out (the session id is denied)
 *   PATCH  /api/v1/hospitals/{id}       a manager's update, If-Match: <version>
 *   POST   /api/v1/hospitals/{id}/import[?dry_run=1]   CSV, all or nothing
 *   GET    /api/v1/audit?hospital=&actor=&from=&to=&limit=&before=
 *   GET    /api/v1/recommend?lat=&lon=&category=&priority=&limit=
 *   GET    /api/v1/incidents[/{id}]         open incidents, each with its top destinations
 *   GET    /api/v1/handover                 inbound, at the door, offload times
 *   /api/v1/alerts...                       alerting.c (records, acknowledgements, mutes)
 *   /api/v1/subscriptions..., /api/v1/notify/dead-letters   notifier.c
 *
 * Writes go through the same Lua apply as the feeds (source "web:<token
 * id>", no sequence number: the version check is what keeps two writers
 * apart). A write is answered once this server's own live state shows it,
 * so the answer and the live view agree.
 */
#include "alerting.h"
#include "notifier.h"
#include "bp_alerts.h"
#include "bp_apply.h"
#include "bp_codec.h"
#include "bp_csv.h"
#include "bp_httputil.h"
#include "bp_log.h"
#include "bp_rate.h"
#include "bp_recommend.h"
#include "bp_time.h"
#include "request.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#define WAIT_MAX_MS   3000 /* for the live state to show an accepted write */
#define AUDIT_SCAN    2000 /* stream entries read per audit request at most */
#define AUDIT_LIMIT   1000

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool bp_req_is_json(const bp_req_t *r) {
    return strncmp(r->content_type, "application/json", 16) == 0 &&
           (r->content_type[16] == '\0' || r->content_type[16] == ';');
}

void bp_req_invalid(bp_req_t *r, const char *message, const bp_errors_t *errs) {
    bp_buf_t *b = &r->resp.body;
    r->resp.status = 422;
    bp_buf_reset(b);
    bp_buf_puts(b, "{\"error\":\"invalid\",\"message\":");
    bp_json_cstr(b, message);
    bp_buf_puts(b, ",\"errors\":[");
    for (size_t i = 0; i < errs->n; i++) {
        if (i) bp_buf_putc(b, ',');
        bp_buf_puts(b, "{\"field\":");
        bp_json_cstr(b, errs->e[i].field);
        bp_buf_puts(b, ",\"code\":");
        bp_json_cstr(b, errs->e[i].code);
        bp_buf_puts(b, ",\"message\":");
        bp_json_cstr(b, errs->e[i].message);
        bp_buf_putc(b, '}');
    }
    bp_buf_puts(b, "]}");
    r->decided = true;
}

static void write_principal(bp_buf_t *b, const bp_app_t *app, const bp_principal_t *p) {
    const bp_registry_t *reg = &app->cfg.registry;
    bp_buf_puts(b, "{\"token_id\":");
    bp_json_cstr(b, p->id);
    bp_buf_puts(b, ",\"role\":");
    bp_json_cstr(b, bp_role_name(p->role));
    bp_buf_puts(b, ",\"name\":");
    bp_json_cstr(b, p->name);
    bp_buf_puts(b, ",\"hospitals\":");
    if (p->all_hospitals) {
        bp_buf_puts(b, "\"*\"");
    } else {
        bp_buf_putc(b, '[');
        bool first = true;
        for (size_t i = 0; i < reg->n_hospitals; i++) {
            if (!bp_principal_in_scope(p, (int)i)) continue;
            if (!first) bp_buf_putc(b, ',');
            first = false;
            bp_json_cstr(b, reg->hospitals[i].id);
        }
        bp_buf_putc(b, ']');
    }
    bp_buf_printf(b, ",\"fleet\":%s,\"token_expires\":", p->fleet ? "true" : "false");
    bp_json_time(b, p->expires_ms);
}

/* -- sessions ---------------------------------------------------------------------- */

static void sign_in(bp_req_t *r) {
    bp_app_t *app = r->app;
    int64_t now = bp_time_now_ms(), retry;
    if (!bp_req_is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the token as application/json");
        return;
    }
    if (!bp_rate_check(app->rate_login, r->addr, now, &retry)) {
        r->retry_after_s = (int)((retry + 999) / 1000);
        bp_req_error(r, 429, "rate_limited",
                     "too many failed sign-ins from this address; wait and retry");
        return;
    }
    char token[BP_TOKEN_MAX + 1];
    bp_error_t err;
    if (bp_codec_parse_sign_in(bp_buf_data(&r->in), r->in.len, token, &err)) {
        bp_errors_t errs = {.n = 1};
        errs.e[0] = err;
        bp_req_invalid(r, err.message, &errs);
        return;
    }
    if (!bp_tokens_ready(app->tokens)) {
        explicit_bzero(token, sizeof token);
        r->retry_after_s = 1;
        bp_req_error(r, 503, "unavailable", "credentials cannot be checked yet; retry shortly");
        return;
    }
    const bp_principal_t *p = bp_tokens_find(app->tokens, token, strlen(token));
    explicit_bzero(token, sizeof token);
    const char *why = !p                                            ? "this token is not valid"
                      : p->revoked_ms                               ? "this token was revoked"
                      : p->expires_ms && p->expires_ms <= now       ? "this token has expired"
                                                                    : NULL;
    if (why) {
        bp_rate_take(app->rate_login, r->addr, now, &retry);
        app->sign_in_failures++;
        bp_info("http %s: sign-in refused: %s", r->addr, why);
        bp_req_error(r, 401, "unauthorized", why);
        return;
    }
    if (p->role == BP_ROLE_FEED) {
        bp_req_error(r, 403, "forbidden", "a feed token cannot sign in to the web views");
        return;
    }
    size_t klen;
    const unsigned char *key = bp_tokens_secret(app->tokens, &klen);
    unsigned char raw[16];
    char sid[33], cookie[BP_SESSION_MAX + 1];
    int64_t exp = now + (int64_t)app->cfg.settings.auth_session_hours * 3600 * 1000;
    if (p->expires_ms && p->expires_ms < exp) exp = p->expires_ms;
    if (!key || RAND_bytes(raw, (int)sizeof raw) != 1) {
        bp_req_error(r, 503, "unavailable", "sessions cannot be created now; retry shortly");
        return;
    }
    for (size_t i = 0; i < sizeof raw; i++) snprintf(sid + 2 * i, 3, "%02x", raw[i]);
    if (bp_session_sign(key, klen, p->id, now, exp, sid, cookie, sizeof cookie)) {
        bp_req_error(r, 500, "internal", "session cookie too long");
        return;
    }
    snprintf(r->set_cookie, sizeof r->set_cookie,
             "bp_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", cookie,
             (long long)((exp - now) / 1000), app->tls ? "; Secure" : "");
    explicit_bzero(cookie, sizeof cookie);
    app->sessions_created++;
    bp_info("http %s: session for token %s (%s) until %lld", r->addr, p->id, bp_role_name(p->role),
            (long long)exp);
    write_principal(&r->resp.body, app, p);
    bp_buf_puts(&r->resp.body, ",\"session_expires\":");
    bp_json_time(&r->resp.body, exp);
    bp_buf_putc(&r->resp.body, '}');
}

static void session(bp_req_t *r) {
    bp_app_t *app = r->app;
    if (strcmp(r->method, "POST") == 0) {
        sign_in(r);
        return;
    }
    bool del = strcmp(r->method, "DELETE") == 0;
    if (!del && strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        bp_req_error(r, 405, "method_not_allowed", "use POST to sign in, GET, or DELETE to sign out");
        return;
    }
    if (del) {
        if (r->cred.token_id[0] && !r->cred.session_id[0]) {
            bp_req_error(r, 400, "no_session",
                         "a bearer token has no session to end; revoke it with bp-admin");
            return;
        }
        /* sign out; a session that already ended is simply forgotten */
        if (r->cred.session_id[0])
            bp_tokens_deny_session(app->tokens, r->cred.session_id, r->cred.session_exp);
        snprintf(r->set_cookie, sizeof r->set_cookie,
                 "bp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                 app->tls ? "; Secure" : "");
        bp_buf_puts(&r->resp.body, "{\"signed_out\":true}");
        return;
    }
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided) return;
    if (!p) {
        int anon = bp_auth_anonymous_role(app->cfg.settings.auth_anonymous);
        bp_buf_puts(&r->resp.body, "{\"role\":");
        if (anon < 0) bp_buf_puts(&r->resp.body, "null");
        else bp_json_cstr(&r->resp.body, bp_role_name((bp_role_t)anon));
        bp_buf_puts(&r->resp.body, ",\"anonymous\":true}");
        return;
    }
    write_principal(&r->resp.body, app, p);
    bp_buf_puts(&r->resp.body, ",\"session_expires\":");
    bp_json_time(&r->resp.body, r->cred.session_id[0] ? r->cred.session_exp : 0);
    bp_buf_putc(&r->resp.body, '}');
}

/* -- writes -------------------------------------------------------------------------- */

/* The answer to a write, once the live state shows its result (or the wait
 * gave up: then what Redis said, without the state). */
static void finish_write(bp_req_t *r, bool caught_up) {
    bp_app_t *app = r->app;
    bp_buf_t *b = &r->resp.body;
    int64_t now = bp_time_now_ms();
    const bp_hospital_state_t *hs = bp_state_hospital(app->state, (size_t)r->hospital);
    bp_buf_reset(b);
    r->resp.status = 200;
    r->resp.content_type = "application/json; charset=utf-8";
    if (r->result_status == BP_APPLY_OK) {
        app->writes_ok++;
        snprintf(r->etag, sizeof r->etag, "\"%llu\"", (unsigned long long)r->want_version);
        if (caught_up) {
            bp_state_write_hospital(b, app->state, (size_t)r->hospital, now);
        } else {
            r->resp.status = 202;
            bp_buf_printf(b,
                          "{\"accepted\":true,\"version\":%llu,\"offset\":%llu,\"message\":"
                          "\"accepted; the live view will show it shortly\"}",
                          (unsigned long long)r->want_version,
                          (unsigned long long)r->result_offset);
        }
    } else {
        /* CONFLICT: someone else changed it first; here is what they set */
        app->writes_conflict++;
        r->resp.status = 409;
        snprintf(r->etag, sizeof r->etag, "\"%llu\"", (unsigned long long)hs->version);
        bp_buf_printf(b,
                      "{\"error\":\"conflict\",\"message\":\"someone else changed these figures "
                      "first (version %llu); compare and send again with If-Match: %llu\","
                      "\"current\":",
                      (unsigned long long)hs->version, (unsigned long long)hs->version);
        bp_state_write_hospital(b, app->state, (size_t)r->hospital, now);
        bp_buf_putc(b, '}');
    }
    bp_req_done(r);
}

void bp_api_on_state(bp_app_t *app) {
    int64_t now = bp_time_now_ms();
    for (bp_req_t **pp = &app->waiting; *pp;) {
        bp_req_t *r = *pp;
        const bp_hospital_state_t *hs = bp_state_hospital(app->state, (size_t)r->hospital);
        bool caught_up = hs->version >= r->want_version;
        if (!caught_up && now < r->wait_until_ms && r->wsi) {
            pp = &r->wait_next;
            continue;
        }
        *pp = r->wait_next;
        r->wait_next = NULL;
        finish_write(r, caught_up);
    }
}

void bp_api_on_applied(void *privdata, const bp_apply_result_t *res) {
    bp_req_t *r = privdata;
    bp_app_t *app = r->app;
    switch (res->status) {
    case BP_APPLY_OK:
    case BP_APPLY_CONFLICT:
        r->result_status = (int)res->status;
        r->want_version = res->version;
        r->result_offset = res->offset;
        r->wait_until_ms = bp_time_now_ms() + WAIT_MAX_MS;
        r->wait_next = app->waiting;
        app->waiting = r;
        bp_api_on_state(app);
        return;
    case BP_APPLY_OUT_OF_ORDER: {
        char msg[160];
        snprintf(msg, sizeof msg, "a newer report (%lld) is already stored; reload and retry",
                 (long long)res->stored_at);
        bp_req_error(r, 409, "newer_report", msg);
        break;
    }
    case BP_APPLY_UNAVAILABLE:
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable",
                     res->message ? "storage saved the change but fewer replicas than required "
                                    "confirmed it in time; it may be lost in a failover: reload "
                                    "and retry"
                                  : "storage did not answer; the change may not be saved: reload "
                                    "and retry");
        break;
    default:
        bp_error("http: write for %s failed: %s", app->cfg.registry.hospitals[r->hospital].id,
                 res->message ? res->message : "?");
        bp_req_error(r, 500, "internal", "storage refused the change");
        break;
    }
    bp_req_done(r);
}

/* Submits a hospital change for the request's principal. */
static void submit(bp_req_t *r, const bp_principal_t *p, bp_change_t *c, int64_t version) {
    bp_app_t *app = r->app;
    snprintf(c->id, sizeof c->id, "%s", app->cfg.registry.hospitals[r->hospital].id);
    snprintf(c->source, sizeof c->source, "web:%s", p->id);
    c->seq = -1;
    bp_actor_t actor = {p->id, bp_role_name(p->role), r->addr};
    int rc = bp_apply_submit(app->apply, 0, c, version, &actor, r);
    if (rc == 0) {
        r->pending = true;
        return;
    }
    r->retry_after_s = rc == -2 ? 1 : 2;
    bp_req_error(r, 503, "unavailable",
                 rc == -2 ? "too many changes waiting for storage; retry in a moment"
                          : "storage is unreachable; nothing was changed, retry shortly");
}

/* What every write needs: rights on the hospital, If-Match, the rate. */
static const bp_principal_t *write_checks(bp_req_t *r, int64_t *version) {
    bp_app_t *app = r->app;
    int64_t now = bp_time_now_ms(), retry;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided) return NULL;
    if (!bp_req_allow(r, p, BP_ACT_WRITE_HOSPITAL, r->hospital)) return NULL;
    if (!p) {
        /* anonymous may never write (bp_auth_allows says so too) */
        bp_req_error(r, 401, "unauthorized", "sign in to change figures");
        return NULL;
    }
    if (!r->has_if_match) {
        bp_req_error(r, 428, "precondition_required",
                     "send If-Match: <version> (the version you saw) so a newer figure is "
                     "never overwritten by mistake");
        return NULL;
    }
    if (bp_http_if_match(r->if_match, strlen(r->if_match), version)) {
        bp_req_error(r, 400, "bad_if_match", "If-Match must be one version number, e.g. \"12\"");
        return NULL;
    }
    if (!bp_rate_take(app->rate_writes, p->id, now, &retry)) {
        r->retry_after_s = (int)((retry + 999) / 1000);
        bp_req_error(r, 429, "rate_limited", "too many changes from this token; wait and retry");
        return NULL;
    }
    return p;
}

static void patch_hospital(bp_req_t *r) {
    bp_app_t *app = r->app;
    int64_t version;
    const bp_principal_t *p = write_checks(r, &version);
    if (!p) return;
    if (!bp_req_is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the change as application/json");
        return;
    }
    bp_change_t c;
    bp_errors_t errs;
    if (bp_codec_parse_patch(bp_buf_data(&r->in), r->in.len, bp_time_now_ms(), &c, &errs)) {
        app->writes_invalid++;
        bp_req_invalid(r, errs.n == 1 ? errs.e[0].message : "some fields are not valid; see errors",
                    &errs);
        return;
    }
    submit(r, p, &c, version);
}

static void import_csv(bp_req_t *r) {
    bp_app_t *app = r->app;
    char dry[8];
    int d = bp_http_arg(r->query, r->query_len, "dry_run", dry, sizeof dry);
    bool dry_run = d > 0 && strcmp(dry, "0") != 0 && strcmp(dry, "false") != 0;
    int64_t version = -1;
    const bp_principal_t *p;
    if (dry_run) {
        p = bp_req_principal(r);
        if (r->decided || !bp_req_allow(r, p, BP_ACT_WRITE_HOSPITAL, r->hospital)) return;
    } else if (!(p = write_checks(r, &version))) {
        return;
    }
    if (strncmp(r->content_type, "text/csv", 8) != 0) {
        bp_req_error(r, 415, "unsupported_media_type", "send the spreadsheet as text/csv");
        return;
    }
    static bp_csv_row_t rows[BP_CSV_MAX_ROWS]; /* one loop thread */
    bp_errors_t errs;
    int n = bp_csv_parse_beds(bp_buf_data(&r->in), r->in.len, rows, &errs);
    if (n < 0) {
        app->writes_invalid++;
        bp_req_invalid(r, "the file has errors; nothing was changed", &errs);
        return;
    }
    if (n == 0) {
        errs.n = 1;
        bp_error_set(&errs.e[0], "empty", "", "the file has no rows after the header");
        bp_req_invalid(r, errs.e[0].message, &errs);
        return;
    }
    if (!dry_run) {
        bp_change_t c;
        bp_csv_to_change(rows, n, &c);
        c.at_ms = bp_time_now_ms();
        submit(r, p, &c, version);
        return;
    }
    /* the preview: each row's figures now and after */
    const bp_hospital_state_t *hs = bp_state_hospital(app->state, (size_t)r->hospital);
    bp_buf_t *b = &r->resp.body;
    snprintf(r->etag, sizeof r->etag, "\"%llu\"", (unsigned long long)hs->version);
    bp_buf_printf(b, "{\"dry_run\":true,\"version\":%llu,\"rows\":[",
                  (unsigned long long)hs->version);
    static const char *const names[] = {"staffed", "occupied", "surge24"};
    for (int i = 0; i < n; i++) {
        const bp_csv_row_t *row = &rows[i];
        const bp_beds_t *now = &hs->beds[row->bed_type];
        int32_t cur[3] = {now->staffed, now->occupied, now->surge24};
        int32_t nxt[3] = {row->beds.staffed, row->beds.occupied, row->beds.surge24};
        if (i) bp_buf_putc(b, ',');
        bp_buf_printf(b, "{\"row\":%d,\"bed_type\":", row->row);
        bp_json_cstr(b, bp_bed_type_name((bp_bed_type_t)row->bed_type));
        for (int f = 0; f < 3; f++) {
            if (!(row->fields & (1 << f))) continue;
            bp_buf_printf(b, ",\"%s\":{\"from\":", names[f]);
            if (cur[f] < 0) bp_buf_puts(b, "null");
            else bp_json_int(b, cur[f]);
            bp_buf_printf(b, ",\"to\":%d}", nxt[f]);
        }
        bp_buf_putc(b, '}');
    }
    bp_buf_puts(b, "],\"errors\":[]}");
}

/* -- audit ------------------------------------------------------------------------------ */

typedef struct {
    char hospital[BP_ID_MAX + 1], actor[BP_TOKEN_ID_MAX + 8];
    int limit;
} audit_q_t;

static const char *field(const redisReply *f, const char *name, size_t *len) {
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
            strcmp(k->str, name) == 0) {
            *len = v->len;
            return v->str;
        }
    }
    *len = 0;
    return NULL;
}

static void on_audit(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_req_t *r = privdata;
    (void)redis;
    audit_q_t q;
    memcpy(&q, bp_buf_data(&r->in), sizeof q); /* stashed by audit() */
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the audit trail cannot be read now; retry shortly");
        bp_req_done(r);
        return;
    }
    bp_buf_t *b = &r->resp.body;
    bp_buf_puts(b, "{\"entries\":[");
    int n = 0;
    const char *last_id = NULL;
    for (size_t i = 0; i < reply->elements && n < q.limit; i++) {
        const redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        const redisReply *f = e->element[1];
        last_id = e->element[0]->str;
        size_t l;
        const char *kind = field(f, "kind", &l), *id = field(f, "id", &l);
        const char *actor = field(f, "actor", &l);
        if (q.hospital[0] && (!kind || strcmp(kind, "hospital") || !id || strcmp(id, q.hospital)))
            continue;
        if (q.actor[0] && (!actor || strcmp(actor, q.actor))) continue;
        if (n++) bp_buf_putc(b, ',');
        bp_buf_puts(b, "{\"id\":");
        bp_json_cstr(b, last_id);
        const char *t = field(f, "t", &l);
        bp_buf_puts(b, ",\"time\":");
        bp_json_time(b, t ? strtoll(t, NULL, 10) : 0);
        static const char *const text[][2] = {{"actor", "actor"},   {"role", "role"},
                                              {"addr", "address"},  {"kind", "kind"},
                                              {"id", "entity"},     {"source", "source"},
                                              {"action", "action"}};
        for (size_t k = 0; k < sizeof text / sizeof *text; k++) {
            const char *v = field(f, text[k][0], &l);
            if (!v) continue;
            bp_buf_printf(b, ",\"%s\":", text[k][1]);
            bp_json_str(b, v, l);
        }
        static const char *const nums[] = {"offset", "version"};
        for (size_t k = 0; k < 2; k++) {
            const char *v = field(f, nums[k], &l);
            if (v) bp_buf_printf(b, ",\"%s\":%lld", nums[k], strtoll(v, NULL, 10));
        }
        static const char *const raw[] = {"before", "after"};
        for (size_t k = 0; k < 2; k++) {
            const char *v = field(f, raw[k], &l);
            if (!v) continue;
            bp_buf_printf(b, ",\"%s\":", raw[k]);
            /* written by our apply script and bp-admin: JSON objects */
            if (l && v[0] == '{' && v[l - 1] == '}') bp_buf_put(b, v, l);
            else bp_json_str(b, v, l);
        }
        bp_buf_putc(b, '}');
    }
    /* more may follow when the page is full or the scan bound was hit */
    bool more = last_id && (n == q.limit || reply->elements == AUDIT_SCAN);
    bp_buf_puts(b, "],\"next\":");
    if (more) bp_json_cstr(b, last_id);
    else bp_buf_puts(b, "null");
    bp_buf_printf(b, ",\"scanned\":%zu,\"filter\":{\"hospital\":", reply->elements);
    bp_json_cstr(b, q.hospital);
    bp_buf_puts(b, ",\"actor\":");
    bp_json_cstr(b, q.actor);
    bp_buf_puts(b, "}}");
    bp_req_done(r);
}

/* A time argument: ISO 8601 with a zone, or milliseconds since the epoch. */
int bp_req_time_arg(bp_req_t *r, const char *name, int64_t *ms) {
    char v[48];
    int n = bp_http_arg(r->query, r->query_len, name, v, sizeof v);
    if (n == -1) return 0;
    char *e;
    long long x = n > 0 ? strtoll(v, &e, 10) : 0;
    if (n > 0 && !*e && x >= 0) {
        *ms = x;
        return 0;
    }
    if (n > 0 && bp_time_parse(v, (size_t)n, ms) == 0) return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "%s must be a time with a zone (2026-11-23T08:00:00+07:00) or "
                              "milliseconds since 1970", name);
    bp_req_error(r, 400, "bad_request", msg);
    return -1;
}

static void audit(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided || !bp_req_allow(r, p, BP_ACT_READ_AUDIT, -1)) return;
    audit_q_t q = {.limit = 100};
    int n = bp_http_arg(r->query, r->query_len, "hospital", q.hospital, sizeof q.hospital);
    if (n == -2 || (n >= 0 && bp_registry_hospital(&app->cfg.registry, q.hospital, (size_t)n) < 0)) {
        bp_req_error(r, 400, "bad_request", "hospital must be the id of a known hospital");
        return;
    }
    if (bp_http_arg(r->query, r->query_len, "actor", q.actor, sizeof q.actor) == -2) {
        bp_req_error(r, 400, "bad_request", "actor must be a token id or a feed source");
        return;
    }
    char lim[16], before[48];
    n = bp_http_arg(r->query, r->query_len, "limit", lim, sizeof lim);
    if (n >= 0) {
        char *e;
        long v = strtol(lim, &e, 10);
        if (n == 0 || *e || v < 1 || v > AUDIT_LIMIT) {
            bp_req_error(r, 400, "bad_request", "limit must be an integer from 1 to 1000");
            return;
        }
        q.limit = (int)v;
    } else if (n == -2) {
        bp_req_error(r, 400, "bad_request", "limit must be an integer from 1 to 1000");
        return;
    }
    int64_t from = -1, to = -1;
    if (bp_req_time_arg(r, "from", &from) || bp_req_time_arg(r, "to", &to)) return;
    char start[32] = "-", end[64] = "+";
    if (from >= 0) snprintf(start, sizeof start, "%lld", (long long)from);
    if (to >= 0) snprintf(end, sizeof end, "%lld", (long long)to);
    n = bp_http_arg(r->query, r->query_len, "before", before, sizeof before);
    if (n >= 0) {
        /* a cursor: the "next" of the previous page, "<ms>-<seq>" */
        unsigned long long ms, seq;
        char tail;
        if (sscanf(before, "%llu-%llu%c", &ms, &seq, &tail) != 2) {
            bp_req_error(r, 400, "bad_request", "before must be the next value of a previous page");
            return;
        }
        if (to < 0 || (long long)ms <= to) snprintf(end, sizeof end, "(%llu-%llu", ms, seq);
    } else if (n == -2) {
        bp_req_error(r, 400, "bad_request", "before must be the next value of a previous page");
        return;
    }
    /* the query rides along in the (unused) request body buffer */
    bp_buf_reset(&r->in);
    bp_buf_put(&r->in, (const char *)&q, sizeof q);
    char count[16];
    snprintf(count, sizeof count, "%d", q.hospital[0] || q.actor[0] ? AUDIT_SCAN : q.limit);
    bp_keys_t keys;
    bp_keys_init(&keys, app->cfg.settings.redis_prefix);
    const char *key = keys.audit;
    const char *argv[] = {"XREVRANGE", key, end, start, "COUNT", count};
    if (r->in.failed || bp_redis_command_argv(bp_apply_redis(app->apply), on_audit, r, 6, argv, NULL)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the audit trail cannot be read now; retry shortly");
        return;
    }
    r->pending = true;
}

/* -- where to send a patient ----------------------------------------------------------------- */

static int num_arg(bp_req_t *r, const char *name, double lo, double hi, double *v, bool required,
                   const char *rule) {
    char s[40];
    int n = bp_http_arg(r->query, r->query_len, name, s, sizeof s);
    if (n == -1 && !required) return 0;
    char *e = NULL;
    double x = n > 0 ? strtod(s, &e) : 0;
    if (n <= 0 || *e || !(x >= lo && x <= hi)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s must be %s", name, rule);
        bp_req_error(r, 400, "bad_request", msg);
        return -1;
    }
    *v = x;
    return 0;
}

/* Data answers need a loaded snapshot; false (503 decided) before it. */
static bool state_ready(bp_req_t *r) {
    if (bp_reader_offset(r->app->reader) == 0 && !bp_reader_ready(r->app->reader)) {
        bp_req_error(r, 503, "not_ready", "the server has not loaded the current state yet");
        return false;
    }
    return true;
}

/* Ambulances transporting to each hospital now, malloc'd (NULL: 503 decided). */
static int *inbound_now(bp_req_t *r) {
    const bp_registry_t *reg = &r->app->cfg.registry;
    int *inbound = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *inbound);
    if (!inbound) bp_req_error(r, 503, "unavailable", "out of memory");
    else bp_recommend_inbound(r->app->state, inbound);
    return inbound;
}

/* Ranks hospitals for a patient at (lat, lon) with the dispatch table's
 * need for the category; fills q (the question asked) and out. */
static size_t rank(bp_app_t *app, double lat, double lon, int priority, bp_category_t cat,
                   const int *inbound, bp_rec_query_t *q, bp_candidate_t *out, size_t max) {
    const bp_dispatch_cfg_t *cfg = &app->cfg.dispatch;
    *q = (bp_rec_query_t){.lat = lat, .lon = lon, .priority = priority, .need = cfg->needs[cat],
                          .now_ms = bp_time_now_ms(), .inbound = inbound};
    return bp_recommend(app->state, cfg, q, out, max);
}

static void write_candidates(bp_buf_t *b, const bp_registry_t *reg, const bp_rec_query_t *q,
                             const bp_candidate_t *out, size_t k) {
    bp_buf_putc(b, '[');
    for (size_t i = 0; i < k; i++) {
        if (i) bp_buf_putc(b, ',');
        bp_candidate_write(b, &out[i], reg, &q->need, i + 1);
    }
    bp_buf_putc(b, ']');
}

static void recommend(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_registry_t *reg = &app->cfg.registry;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided || !bp_req_allow(r, p, BP_ACT_READ_AMBULANCES, -1) || !state_ready(r)) return;
    double lat, lon, prio = 2, limit = 5;
    if (num_arg(r, "lat", -90, 90, &lat, true, "a latitude in degrees (-90 to 90)") ||
        num_arg(r, "lon", -180, 180, &lon, true, "a longitude in degrees (-180 to 180)") ||
        num_arg(r, "priority", 1, 3, &prio, false, "1 (most urgent), 2 or 3") ||
        num_arg(r, "limit", 1, 20, &limit, false, "from 1 to 20"))
        return;
    if (prio != (int)prio || limit != (int)limit) {
        bp_req_error(r, 400, "bad_request", "priority and limit must be whole numbers");
        return;
    }
    char cat[24];
    int n = bp_http_arg(r->query, r->query_len, "category", cat, sizeof cat);
    int c = n >= 0 ? bp_category_parse(cat, (size_t)n) : BP_CAT_OTHER;
    if (c < 0 || n == -2) {
        bp_req_error(r, 400, "bad_request",
                     "category must be one of trauma, stroke, cardiac, obstetric, pediatric, burn, "
                     "respiratory, psychiatric, other");
        return;
    }
    int *inbound = inbound_now(r);
    if (!inbound) return;
    bp_rec_query_t q;
    bp_candidate_t out[20];
    size_t k = rank(app, lat, lon, (int)prio, (bp_category_t)c, inbound, &q, out, (size_t)limit);
    bp_buf_t *b = &r->resp.body;
    bp_buf_puts(b, "{\"query\":{\"lat\":");
    bp_json_num(b, lat, 5);
    bp_buf_puts(b, ",\"lon\":");
    bp_json_num(b, lon, 5);
    bp_buf_printf(b, ",\"category\":\"%s\",\"priority\":%d,\"bed_types\":[",
                  bp_category_name((bp_category_t)c), (int)prio);
    for (int i = 0; i < q.need.n_beds; i++)
        bp_buf_printf(b, "%s\"%s\"", i ? "," : "", bp_bed_type_name((bp_bed_type_t)q.need.beds[i]));
    bp_buf_puts(b, "],\"specialties\":[");
    for (int s = 0, first = 1; s < BP_SPEC__COUNT; s++) {
        if (!(q.need.specialties >> s & 1)) continue;
        bp_buf_printf(b, "%s\"%s\"", first ? "" : ",", bp_specialty_name((bp_specialty_t)s));
        first = 0;
    }
    bp_buf_puts(b, "],\"at\":");
    bp_json_time(b, q.now_ms);
    bp_buf_puts(b, "},\"candidates\":");
    write_candidates(b, reg, &q, out, k);
    bp_buf_putc(b, '}');
    free(inbound);
}

/* -- open incidents ------------------------------------------------------------------------ */

#define INCIDENT_CANDIDATES 3 /* destinations recommended with each incident */

/* One incident with its recommendation. */
static void write_incident(bp_app_t *app, bp_buf_t *b, const bp_incident_state_t *inc,
                           const int *inbound) {
    bp_rec_query_t q;
    bp_candidate_t out[INCIDENT_CANDIDATES];
    size_t k = rank(app, inc->lat, inc->lon, inc->priority, inc->category, inbound, &q, out,
                    INCIDENT_CANDIDATES);
    bp_buf_putc(b, '{');
    bp_state_write_incident_members(b, inc);
    bp_buf_puts(b, ",\"recommend\":");
    write_candidates(b, &app->cfg.registry, &q, out, k);
    bp_buf_putc(b, '}');
}

/* GET /api/v1/incidents (id NULL) and /api/v1/incidents/{id}. */
static void incidents(bp_req_t *r, const char *id, size_t idl) {
    bp_app_t *app = r->app;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided || !bp_req_allow(r, p, BP_ACT_READ_AMBULANCES, -1) || !state_ready(r)) return;
    int one = -1;
    if (id) {
        char key[BP_INCIDENT_MAX + 1];
        snprintf(key, sizeof key, "%.*s", (int)idl, id);
        one = bp_is_incident_id(id, idl) ? bp_state_incident_find(app->state, key) : -1;
        if (one < 0) {
            bp_req_error(r, 404, "unknown_incident", "no open incident with this id");
            return;
        }
    }
    int *inbound = inbound_now(r);
    if (!inbound) return;
    bp_buf_t *b = &r->resp.body;
    if (one >= 0) {
        write_incident(app, b, bp_state_incident(app->state, (size_t)one), inbound);
    } else {
        bp_buf_putc(b, '[');
        for (size_t i = 0; i < bp_state_incident_count(app->state); i++) {
            if (i) bp_buf_putc(b, ',');
            write_incident(app, b, bp_state_incident(app->state, i), inbound);
        }
        bp_buf_putc(b, ']');
    }
    free(inbound);
}

/* Per hospital: ambulances inbound and at the door, handover times. */
static void handover(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_registry_t *reg = &app->cfg.registry;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided || !bp_req_allow(r, p, BP_ACT_READ_AMBULANCES, -1)) return;
    int64_t now = bp_time_now_ms();
    bp_buf_t *b = &r->resp.body;
    bp_buf_puts(b, "{\"at\":");
    bp_json_time(b, now);
    bp_buf_puts(b, ",\"hospitals\":[");
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        bp_handover_figures_t f;
        bp_handover_figures(app->handover, i, now, &f);
        if (i) bp_buf_putc(b, ',');
        bp_buf_puts(b, "{\"id\":");
        bp_json_cstr(b, reg->hospitals[i].id);
        bp_buf_printf(b, ",\"inbound\":%d,\"waiting\":%d,\"longest_wait_min\":", f.inbound, f.waiting);
        bp_json_num(b, (double)f.longest_wait_ms / 60000.0, 1);
        bp_buf_printf(b, ",\"handovers\":%d,\"median_min\":", f.samples);
        if (f.median_ms >= 0) bp_json_num(b, (double)f.median_ms / 60000.0, 1);
        else bp_buf_puts(b, "null");
        bp_buf_printf(b, ",\"offload\":\"%s\",\"inbound_units\":[", f.delayed ? "delayed" : "normal");
        /* each ambulance on its way, with its ETA from where it last was */
        const bp_hospital_info_t *hi = &reg->hospitals[i];
        int k = 0;
        for (size_t u = 0; u < reg->n_units; u++) {
            const bp_ambulance_state_t *a = bp_state_ambulance(app->state, u);
            if (a->status != BP_AMB_TRANSPORTING || strcmp(a->destination, hi->id) != 0) continue;
            if (k++) bp_buf_putc(b, ',');
            bp_buf_puts(b, "{\"id\":");
            bp_json_cstr(b, reg->units[u].id);
            bp_buf_puts(b, ",\"eta_min\":");
            if (a->has_position)
                bp_json_num(b, bp_travel_min(&app->cfg.dispatch,
                                             bp_distance_km(a->lat, a->lon, hi->lat, hi->lon), now),
                            1);
            else bp_buf_puts(b, "null");
            bp_buf_putc(b, '}');
        }
        bp_buf_puts(b, "]}");
    }
    bp_buf_puts(b, "]}");
}

/* -- alerts (the lists pushed besides them) ------------------------------------------------------- */

/* The recommendations frame, and what was sent (the alerts themselves:
 * alerting.c). */
struct bp_acks {
    bp_buf_t rec, rec_last;
    int64_t rec_ms;
};

struct bp_acks *bp_acks_create(void) {
    struct bp_acks *a = calloc(1, sizeof(struct bp_acks));
    if (!a) return NULL;
    bp_buf_init(&a->rec, 0, 16u << 20);
    bp_buf_init(&a->rec_last, 0, 16u << 20);
    return a;
}

void bp_acks_destroy(struct bp_acks *a) {
    if (!a) return;
    bp_buf_free(&a->rec);
    bp_buf_free(&a->rec_last);
    free(a);
}

/* Every open incident's top destinations, pushed to dispatchers when they
 * change (capacity, inbound, a new incident), at most every REC_PUSH_MS:
 * {"type":"recommendations","incidents":[{"id","candidates":[..3..]}]}. */
#define REC_PUSH_MS 3000
#define REC_TOP     3
static void push_recommendations(bp_app_t *app) {
    struct bp_acks *k = app->acks;
    int64_t now = bp_time_now_ms();
    if (now - k->rec_ms < REC_PUSH_MS) return;
    const bp_registry_t *reg = &app->cfg.registry;
    int *inbound = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *inbound);
    if (!inbound) return;
    bp_recommend_inbound(app->state, inbound);
    bp_buf_t *b = &k->rec;
    bp_buf_reset(b);
    bp_buf_puts(b, "{\"type\":\"recommendations\",\"incidents\":[");
    for (size_t i = 0; i < bp_state_incident_count(app->state); i++) {
        const bp_incident_state_t *inc = bp_state_incident(app->state, i);
        bp_rec_query_t q;
        bp_candidate_t out[REC_TOP];
        size_t n = rank(app, inc->lat, inc->lon, inc->priority, inc->category, inbound, &q, out, REC_TOP);
        if (i) bp_buf_putc(b, ',');
        bp_buf_puts(b, "{\"id\":");
        bp_json_cstr(b, inc->id);
        bp_buf_puts(b, ",\"candidates\":");
        write_candidates(b, reg, &q, out, n);
        bp_buf_putc(b, '}');
    }
    bp_buf_puts(b, "]}");
    free(inbound);
    if (b->failed) return;
    k->rec_ms = now;
    if (k->rec_last.len == b->len && memcmp(bp_buf_data(&k->rec_last), bp_buf_data(b), b->len) == 0)
        return;
    bp_buf_reset(&k->rec_last);
    bp_buf_put(&k->rec_last, bp_buf_data(b), b->len);
    bp_hub_broadcast(app->hub, BP_BCAST_RECOMMEND, bp_buf_data(b), b->len, NULL, 0);
}

/* Offload delayed (from the handover figures) feeds each hospital's
 * pressure level; every client gets the list when it changes:
 * {"type":"offload","delayed":["viet-duc",...]}. */
static void update_offload(bp_app_t *app, int64_t now) {
    const bp_registry_t *reg = &app->cfg.registry;
    bool changed = false;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        bp_handover_figures_t f;
        bp_handover_figures(app->handover, i, now, &f);
        changed |= bp_state_set_offload(app->state, i, f.delayed);
    }
    if (!changed) return;
    bp_buf_t b;
    bp_buf_init(&b, 0, 64u << 10);
    bp_buf_puts(&b, "{\"type\":\"offload\",\"delayed\":[");
    int n = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        if (!bp_state_hospital(app->state, i)->offload_delayed) continue;
        if (n++) bp_buf_putc(&b, ',');
        bp_json_cstr(&b, reg->hospitals[i].id);
    }
    bp_buf_puts(&b, "]}");
    if (!b.failed)
        bp_hub_broadcast(app->hub, BP_BCAST_OFFLOAD, bp_buf_data(&b), b.len, bp_buf_data(&b), b.len);
    bp_buf_free(&b);
}

void bp_api_alerts_tick(bp_app_t *app) {
    if (!app->alerts || !app->apply || !bp_reader_ready(app->reader)) return;
    int64_t now = bp_time_now_ms();
    update_offload(app, now);
    bp_alerts_update(app->alerts, app->state, app->handover, &app->cfg.dispatch.alerts, now);
    app->alert_evaluations++;
    bp_alerting_tick(app); /* records, acknowledgements, mutes, events (alerting.c) */
    push_recommendations(app);
}

/* -- routing ------------------------------------------------------------------------------ */

bool bp_api_route(bp_req_t *r) {
    const char *path = r->path;
    if (bp_mci_route(r) || bp_export_route(r) || bp_feed_route(r)) return true;
    if (strcmp(path, "/api/v1/session") == 0) {
        session(r);
        return true;
    }
    if (bp_alerting_route(r)) return true;
    if (bp_notifier_route(r)) return true;
    if (strcmp(path, "/api/v1/handover") == 0) {
        if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
            bp_req_error(r, 405, "method_not_allowed", "this resource answers GET only");
        else handover(r);
        return true;
    }
    if (strcmp(path, "/api/v1/incidents") == 0 || starts(path, "/api/v1/incidents/")) {
        size_t n = strlen("/api/v1/incidents");
        const char *id = path[n] ? path + n + 1 : NULL; /* after the "/" */
        if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
            bp_req_error(r, 405, "method_not_allowed",
                         "incidents answer GET only (they change through the CAD feed)");
        else incidents(r, id, id ? strlen(id) : 0);
        return true;
    }
    if (strcmp(path, "/api/v1/recommend") == 0) {
        if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
            bp_req_error(r, 405, "method_not_allowed", "this resource answers GET only");
        else recommend(r);
        return true;
    }
    if (strcmp(path, "/api/v1/audit") == 0) {
        if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
            bp_req_error(r, 405, "method_not_allowed", "this resource answers GET only");
        else audit(r);
        return true;
    }
    if (!starts(path, "/api/v1/hospitals/")) return false;
    const char *id = path + strlen("/api/v1/hospitals/");
    const char *slash = strchr(id, '/');
    size_t idl = slash ? (size_t)(slash - id) : strlen(id);
    bool import = slash && strcmp(slash, "/import") == 0;
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (!import && get) return false; /* a read */
    if (slash && !import) {
        bp_req_error(r, 404, "not_found", "no such resource");
        return true;
    }
    if (import ? strcmp(r->method, "POST") != 0 : strcmp(r->method, "PATCH") != 0) {
        bp_req_error(r, 405, "method_not_allowed",
                     import ? "import answers POST only" : "a hospital answers GET and PATCH");
        return true;
    }
    int i = bp_is_slug(id, idl) ? bp_registry_hospital(&r->app->cfg.registry, id, idl) : -1;
    if (i < 0) {
        /* who asks is checked first: an unknown id tells strangers nothing */
        const bp_principal_t *p = bp_req_principal(r);
        if (!r->decided && bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, -1))
            bp_req_error(r, 404, "unknown_hospital", "no hospital with this id");
        return true;
    }
    r->hospital = i;
    if (import) import_csv(r);
    else patch_hospital(r);
    return true;
}
