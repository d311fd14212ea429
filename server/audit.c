/*
 * The audit trail (routes.c): GET /api/v1/audit?hospital=&actor=&from=&to=
 * &limit=&before=, newest first, from the audit stream in Redis
 * (io/bp_auditstore.c). The query waits in r->ctx.audit for Redis' answer.
 */
#include "bp_httputil.h"
#include "bp_auditstore.h"
#include "bp_jw.h"
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_SCAN  2000 /* stream entries read per audit request at most */
#define AUDIT_LIMIT 1000

static void on_audit(void *data, bool ok, const bp_audit_entry_t *entries, size_t n_entries,
                     size_t scanned) {
    bp_req_t *r = data;
    const bp_audit_q_t q = r->ctx.audit;
    if (!ok) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the audit trail cannot be read now; retry shortly");
        bp_req_done(r);
        return;
    }
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "entries");
    bp_jw_arr(&w);
    int n = 0;
    const char *last_id = NULL;
    for (size_t i = 0; i < n_entries && n < q.limit; i++) {
        const bp_audit_entry_t *f = &entries[i];
        last_id = f->id;
        size_t l;
        const char *kind = bp_audit_field(f, "kind", &l), *id = bp_audit_field(f, "id", &l);
        const char *actor = bp_audit_field(f, "actor", &l);
        if (q.hospital[0] && (!kind || strcmp(kind, "hospital") || !id || strcmp(id, q.hospital)))
            continue;
        if (q.actor[0] && (!actor || strcmp(actor, q.actor))) continue;
        n++;
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "id");
        bp_jw_cstr(&w, last_id);
        const char *t = bp_audit_field(f, "t", &l);
        BP_JW_KEY(&w, "time");
        bp_jw_time(&w, t ? strtoll(t, NULL, 10) : 0);
        static const char *const text[][2] = {
            {"actor", "actor"}, {"role", "role"},     {"addr", "address"}, {"kind", "kind"},
            {"id", "entity"},   {"source", "source"}, {"action", "action"}};
        for (size_t k = 0; k < sizeof text / sizeof *text; k++) {
            const char *v = bp_audit_field(f, text[k][0], &l);
            if (!v) continue;
            bp_jw_key(&w, text[k][1]);
            bp_jw_str(&w, v, l);
        }
        static const char *const nums[] = {"offset", "version"};
        for (size_t k = 0; k < sizeof nums / sizeof *nums; k++) {
            const char *v = bp_audit_field(f, nums[k], &l);
            if (!v) continue;
            bp_jw_key(&w, nums[k]);
            bp_jw_int(&w, strtoll(v, NULL, 10));
        }
        static const char *const raw[] = {"before", "after"};
        for (size_t k = 0; k < sizeof raw / sizeof *raw; k++) {
            const char *v = bp_audit_field(f, raw[k], &l);
            if (!v) continue;
            bp_jw_key(&w, raw[k]);
            /* written by our apply script and bp-admin: JSON objects */
            if (l && v[0] == '{' && v[l - 1] == '}')
                bp_jw_raw(&w, v, l);
            else
                bp_jw_str(&w, v, l);
        }
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    /* more may follow when the page is full or the scan bound was hit */
    bool more = last_id && (n == q.limit || scanned == AUDIT_SCAN);
    BP_JW_KEY(&w, "next");
    bp_jw_cstr_or_null(&w, more ? last_id : NULL);
    BP_JW_KEY(&w, "scanned");
    bp_jw_int(&w, (int64_t)scanned);
    BP_JW_KEY(&w, "filter");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "hospital");
    bp_jw_cstr(&w, q.hospital);
    BP_JW_KEY(&w, "actor");
    bp_jw_cstr(&w, q.actor);
    bp_jw_end(&w);
    bp_jw_end(&w);
    bp_req_done(r);
}

void bp_api_audit_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    bp_audit_q_t q = {.limit = 100};
    int n = bp_http_arg(r->query, r->query_len, "hospital", q.hospital, sizeof q.hospital);
    if (n == -2 ||
        (n >= 0 && bp_registry_hospital(&app->cfg.registry, q.hospital, (size_t)n) < 0)) {
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
    r->ctx.audit = q;
    int count = q.hospital[0] || q.actor[0] ? AUDIT_SCAN : q.limit;
    if (bp_auditstore_page(bp_apply_redis(app->apply), app->cfg.settings.redis_prefix, end, start,
                           count, on_audit, r)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the audit trail cannot be read now; retry shortly");
        return;
    }
    r->pending = true;
}
