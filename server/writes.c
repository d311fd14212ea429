/*
 * A manager's writes (routes.c): PATCH /api/v1/hospitals/{id} with
 * If-Match: <version>, and what every write shares (writes.h: the checks,
 * the submit, the wait for the live state) with the CSV import (import.c).
 *
 * Writes go through the same Lua apply as the feeds (source "web:<token
 * id>", no sequence number: the version check is what keeps two writers
 * apart). A write is answered once this server's own live state shows it,
 * so the answer and the live view agree.
 */
#include "writes.h"
#include "bp_codec.h"
#include "bp_httputil.h"
#include "bp_jw.h"
#include "bp_log.h"
#include "bp_plausible.h"
#include "bp_rate.h"
#include "bp_time.h"
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#define WAIT_MAX_MS 3000 /* for the live state to show an accepted write */

bool bp_writes_hospital(bp_req_t *r) {
    const char *id = r->path + strlen("/api/v1/hospitals/");
    const char *slash = strchr(id, '/');
    size_t idl = slash ? (size_t)(slash - id) : strlen(id);
    int i = bp_is_slug(id, idl) ? bp_registry_hospital(&r->app->cfg.registry, id, idl) : -1;
    if (i < 0) {
        /* who asks is checked first: an unknown id tells strangers nothing */
        const bp_principal_t *p = bp_req_principal(r);
        if (!r->decided && bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, -1))
            bp_req_error(r, 404, "unknown_hospital", "no hospital with this id");
        return false;
    }
    r->ctx.write.hospital = i;
    return true;
}

/* The answer to a write, once the live state shows its result (or the wait
 * gave up: then what Redis said, without the state). */
static void finish_write(bp_req_t *r, bool caught_up) {
    bp_app_t *app = r->app;
    bp_buf_t *b = &r->resp.body;
    int64_t now = bp_time_now_ms();
    const bp_hospital_state_t *hs = bp_state_hospital(app->state, (size_t)r->ctx.write.hospital);
    bp_buf_reset(b);
    r->resp.status = 200;
    r->resp.content_type = "application/json; charset=utf-8";
    if (r->ctx.write.result_status == BP_APPLY_OK) {
        app->writes_ok++;
        snprintf(r->etag, sizeof r->etag, "\"%llu\"",
                 (unsigned long long)r->ctx.write.want_version);
        if (caught_up) {
            bp_state_write_hospital(b, app->state, (size_t)r->ctx.write.hospital, now);
        } else {
            r->resp.status = 202;
            bp_jw_t w;
            bp_jw_init(&w, b);
            bp_jw_obj(&w);
            BP_JW_KEY(&w, "accepted");
            bp_jw_bool(&w, true);
            BP_JW_KEY(&w, "version");
            bp_jw_int(&w, (int64_t)r->ctx.write.want_version);
            BP_JW_KEY(&w, "offset");
            bp_jw_int(&w, (int64_t)r->ctx.write.result_offset);
            BP_JW_KEY(&w, "message");
            bp_jw_cstr(&w, "accepted; the live view will show it shortly");
            bp_jw_end(&w);
        }
    } else {
        /* CONFLICT: someone else changed it first; here is what they set */
        app->writes_conflict++;
        r->resp.status = 409;
        snprintf(r->etag, sizeof r->etag, "\"%llu\"", (unsigned long long)hs->version);
        char msg[160];
        snprintf(msg, sizeof msg,
                 "someone else changed these figures first (version %llu); compare and send "
                 "again with If-Match: %llu",
                 (unsigned long long)hs->version, (unsigned long long)hs->version);
        bp_jw_t w;
        bp_jw_init(&w, b);
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "error");
        bp_jw_cstr(&w, "conflict");
        BP_JW_KEY(&w, "message");
        bp_jw_cstr(&w, msg);
        BP_JW_KEY(&w, "current");
        bp_jw_splice(&w);
        bp_state_write_hospital(b, app->state, (size_t)r->ctx.write.hospital, now);
        bp_jw_end(&w);
    }
    bp_req_done(r);
}

void bp_writes_on_state(bp_app_t *app) {
    int64_t now = bp_time_now_ms();
    for (bp_req_t **pp = &app->waiting; *pp;) {
        bp_req_t *r = *pp;
        const bp_hospital_state_t *hs =
            bp_state_hospital(app->state, (size_t)r->ctx.write.hospital);
        bool caught_up = hs->version >= r->ctx.write.want_version;
        if (!caught_up && now < r->ctx.write.wait_until_ms && r->wsi) {
            pp = &r->wait_next;
            continue;
        }
        *pp = r->wait_next;
        r->wait_next = NULL;
        finish_write(r, caught_up);
    }
}

/* The server whose checks are being stored (one per process), and whether
 * Redis failed one since (then every unsaved check is sent again). */
static bp_app_t *saving_app;
static bool saving_failed;

/* data: the hospital's slot in checks_sent, which holds the version sent */
static void on_check_stored(void *data, int stored) {
    uint64_t *slot = data;
    if (!saving_app) return;
    if (stored == 1 || stored == 2) /* 2: another server stored it at this version */
        bp_state_check_saved(saving_app->state, (size_t)(slot - saving_app->checks_sent), *slot);
    else if (stored < 0)
        saving_failed = true; /* stored 0: a newer change, derived again */
}

void bp_writes_save_checks(bp_app_t *app) {
    const bp_registry_t *reg = &app->cfg.registry;
    if (!app->checks_sent) return;
    saving_app = app;
    if (saving_failed) {
        memset(app->checks_sent, 0, reg->n_hospitals * sizeof *app->checks_sent);
        saving_failed = false;
    }
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_state_t *h = bp_state_hospital(app->state, i);
        /* once per version: at a newer one the hospital is derived again */
        if (!h->check_unsaved || app->checks_sent[i] == h->version) continue;
        if (bp_apply_store_check(app->apply, reg->hospitals[i].id, h->version, &h->check,
                                 on_check_stored, &app->checks_sent[i]))
            return; /* Redis is down: the next batch or tick tries again */
        app->checks_sent[i] = h->version;
    }
}

void bp_writes_on_applied(void *privdata, const bp_apply_result_t *res) {
    bp_req_t *r = privdata;
    bp_app_t *app = r->app;
    switch (res->status) {
    case BP_APPLY_OK:
    case BP_APPLY_CONFLICT:
        r->ctx.write.result_status = (int)res->status;
        r->ctx.write.want_version = res->version;
        r->ctx.write.result_offset = res->offset;
        r->ctx.write.wait_until_ms = bp_time_now_ms() + WAIT_MAX_MS;
        r->wait_next = app->waiting;
        app->waiting = r;
        bp_writes_on_state(app);
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
        bp_error("http: write for %s failed: %s",
                 app->cfg.registry.hospitals[r->ctx.write.hospital].id,
                 res->message ? res->message : "?");
        bp_req_error(r, 500, "internal", "storage refused the change");
        break;
    }
    bp_req_done(r);
}

/* Submits a hospital change for the request's principal. */
void bp_writes_submit(bp_req_t *r, const bp_principal_t *p, bp_change_t *c, int64_t version) {
    bp_app_t *app = r->app;
    snprintf(c->id, sizeof c->id, "%s", app->cfg.registry.hospitals[r->ctx.write.hospital].id);
    snprintf(c->source, sizeof c->source, "web:%s", p->id);
    c->seq = -1;
    bp_actor_t actor = {p->id, bp_role_name(p->role), r->addr};
    int rc = bp_apply_submit(app->apply, 0, c, version, -1, &actor, r);
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
const bp_principal_t *bp_writes_check(bp_req_t *r, int64_t *version) {
    bp_app_t *app = r->app;
    int64_t now = bp_time_now_ms(), retry;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided) return NULL;
    if (!bp_req_allow(r, p, BP_ACT_WRITE_HOSPITAL, r->ctx.write.hospital)) return NULL;
    if (!p) {
        /* anonymous may never write (bp_auth_allows says so too) */
        bp_req_error(r, 401, "unauthorized", "sign in to change figures");
        return NULL;
    }
    if ((r->route_flags & BP_RT_IF_MATCH) && !r->has_if_match) {
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

void bp_api_hospital_patch(bp_req_t *r) {
    if (!bp_writes_hospital(r)) return;
    bp_app_t *app = r->app;
    int64_t version;
    const bp_principal_t *p = bp_writes_check(r, &version);
    if (!p) return;
    if (!bp_req_is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the change as application/json");
        return;
    }
    bp_change_t c;
    bp_errors_t errs;
    const bp_hospital_info_t *info = &app->cfg.registry.hospitals[r->ctx.write.hospital];
    if (bp_codec_parse_patch(bp_buf_data(&r->in), r->in.len, bp_time_now_ms(), info, &c, &errs)) {
        app->writes_invalid++;
        bp_req_invalid(r, errs.n == 1 ? errs.e[0].message : "some fields are not valid; see errors",
                       &errs);
        return;
    }
    bp_writes_submit(r, p, &c, version);
}

/* POST /api/v1/hospitals/{id}/confirm with If-Match: the manager confirms
 * the figures a plausibility check flagged; the check is cleared (a change
 * with no figures, audited like every write). 409 when none is pending. */
void bp_api_hospital_confirm(bp_req_t *r) {
    if (!bp_writes_hospital(r)) return;
    int64_t version;
    const bp_principal_t *p = bp_writes_check(r, &version);
    if (!p) return;
    const bp_hospital_state_t *hs = bp_state_hospital(r->app->state, (size_t)r->ctx.write.hospital);
    if (hs->check.rule == BP_CHECK_NONE) {
        bp_req_error(r, 409, "no_check", "no figures of this hospital wait to be confirmed");
        return;
    }
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.at_ms = hs->at_ms; /* the figures stay those of the last report */
    c.has_check = true;
    bp_writes_submit(r, p, &c, version);
}

/* Any other path under /api/v1/hospitals/ that is not a read: an id that
 * is no hospital's (PATCH: 404 once who asks is checked), or a path below
 * one (404). */
void bp_api_hospital_other(bp_req_t *r) {
    const char *id = r->path + strlen("/api/v1/hospitals/");
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) {
        bp_api_hospital_get(r);
    } else if (strchr(id, '/')) {
        bp_req_error(r, 404, "not_found", "no such resource");
    } else if (strcmp(r->method, "PATCH") != 0) {
        bp_req_error(r, 405, "method_not_allowed", "a hospital answers GET and PATCH");
    } else {
        bp_api_hospital_patch(r);
    }
}
