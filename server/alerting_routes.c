/*
 * The alerts' routes (alerting_int.h; listed in alerting.h): the list with
 * acks and mutes, a dispatcher's acknowledgement, and mutes set or ended,
 * each written to Redis through io/bp_alertstore and then told to every
 * console on this server at once. The rules and the sync with Redis are
 * alerting.c.
 */
#include "alerting_int.h"
#include "bp_alertstore.h"
#include "bp_events.h"
#include "bp_log.h"
#include "bp_time.h"
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- the routes -----------------------------------------------------------------------------------
 */

void bp_api_alerts_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_principal_t *p = r->principal;
    /* incident alerts only for those who may see incidents */
    bool incidents = bp_auth_allows(p, bp_auth_anonymous_role(app->cfg.settings.auth_anonymous),
                                    BP_ACT_READ_AMBULANCES, -1, bp_time_now_ms());
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    bp_alerting_write(&w, app, incidents);
    bp_jw_end(&w);
}

/* Who may act on alerts: dispatchers and admins (the route checked
 * BP_ACT_READ_AMBULANCES), signed in. */
static const bp_principal_t *actor(bp_req_t *r, const char *what) {
    const bp_principal_t *p = r->principal;
    if (!p) {
        char msg[96];
        snprintf(msg, sizeof msg, "sign in to %s", what);
        bp_req_error(r, 401, "unauthorized", msg);
        r->www_authenticate = true;
        return NULL;
    }
    return p;
}

static void unavailable(bp_req_t *r, const char *msg) {
    r->retry_after_s = 2;
    bp_req_error(r, 503, "unavailable", msg);
}

/* Who does it, for the audit row. */
static bp_alert_actor_t actor_of(const bp_req_t *r, const char *id, const char *role, int64_t now) {
    return (bp_alert_actor_t){
        .actor = id,
        .role = role,
        .addr = r->addr,
        .now_ms = now,
        .retain_from_ms = now - (int64_t)r->app->cfg.settings.audit_retention_days * 86400000LL};
}

/* What a pending acknowledgement or mute needs when Redis answers. */
typedef struct {
    bp_req_t *r;
    char id[BP_ALERT_ID_MAX + 1];           /* the alert acknowledged */
    char by[BP_TOKEN_ID_MAX + 1], role[16]; /* who acknowledges */
    int rule;                               /* the rule muted or unmuted */
    mute_t mute;                            /* set: the mute; until 0: ended */
} pending_t;

/* A write that did not end well: 503 with why (Redis's refusal, no answer,
 * or too few replicas confirmed it), true; false when it did. */
static bool write_failed(bp_req_t *r, const bp_alertstore_done_t *d, const char *what) {
    char msg[300];
    if (!d->answered && d->error)
        snprintf(msg, sizeof msg, "storage (Redis) refused the change (%s); %s: retry", d->error,
                 what);
    else if (!d->answered)
        snprintf(msg, sizeof msg, "storage did not answer; %s: retry", what);
    else if (!d->replicated)
        snprintf(msg, sizeof msg,
                 "storage saved the change but fewer than %d replicas confirmed it within %d ms "
                 "(redis.min_replicas_ack); it may be lost in a failover: retry",
                 r->app->cfg.settings.redis_min_replicas_ack,
                 r->app->cfg.settings.redis_replica_ack_timeout_ms);
    else
        return false;
    unavailable(r, msg);
    return true;
}

/* Acknowledged means replicated: the WAIT the stored writes are sent with. */
static bp_alertstore_wait_t wait_of(const bp_app_t *app) {
    return (bp_alertstore_wait_t){app->cfg.settings.redis_min_replicas_ack,
                                  app->cfg.settings.redis_replica_ack_timeout_ms};
}

static void on_ack(void *data, const bp_alertstore_done_t *d, int code, const char *by,
                   int64_t at) {
    pending_t *pd = data;
    bp_req_t *r = pd->r;
    bp_app_t *app = r->app;
    bp_buf_t *b = &r->resp.body;
    if (d->answered && code == 0) {
        bp_req_error(r, 404, "unknown_alert", "no active alert with this id (it may have cleared)");
        bp_req_done(r);
        free(pd);
        return;
    }
    /* an acknowledgement is idempotent: a retry is safe (answered "already") */
    if (write_failed(r, d, "the alert may not be acknowledged")) {
        bp_req_done(r);
        free(pd);
        return;
    }
    if (app->alerting) {
        bp_alerting_ack_put(app->alerting, pd->id, by, at);
        bp_alerting_push(app, true); /* every console here hears it at once */
    }
    if (code == 1) {
        app->alerting->events++;
        bp_info("http %s: alert %s acknowledged by %s", r->addr, pd->id, by);
    }
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "id");
    bp_jw_cstr(&w, pd->id);
    BP_JW_KEY(&w, "ack");
    bp_jw_obj(&w);
    bp_alerting_who(&w, app, by);
    BP_JW_KEY(&w, "at");
    bp_jw_time(&w, at);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "already");
    bp_jw_bool(&w, code == 2);
    bp_jw_end(&w);
    bp_req_done(r);
    free(pd);
}

/* Acknowledges the record as stored (read back first: another server may
 * have raised it a moment ago, before this one's next read). */
static void on_ack_record(void *data, bool ok, const char *record, size_t len) {
    pending_t *pd = data;
    bp_req_t *r = pd->r;
    bp_app_t *app = r->app;
    struct bp_alerting *a = app->alerting;
    if (!ok) {
        unavailable(r, "storage did not answer; the alert is not acknowledged: retry");
        goto done;
    }
    bp_arecs_t one;
    bp_arecs_init(&one);
    if (!record || !app->apply || bp_arecs_add_stored(&one, pd->id, record, len)) {
        bp_req_error(r, 404, "unknown_alert", "no active alert with this id (it may have cleared)");
        bp_arecs_free(&one);
        goto done;
    }
    const bp_principal_t *p = bp_tokens_by_id(app->tokens, pd->by);
    int64_t now = bp_time_now_ms();
    bp_keys_t keys;
    bp_keys_init(&keys, app->cfg.settings.redis_prefix);
    bp_event_out_t ev;
    bp_event_out_init(&ev);
    bp_event_of_ack(&ev, &one.r[0], app->alerts, app->state, pd->by, p ? p->name : "", now);
    bp_arecs_free(&one);
    bp_alert_actor_t w = actor_of(r, pd->by, pd->role, now);
    bp_alertstore_wait_t wait = wait_of(app);
    bool failed =
        bp_alertstore_ack(bp_apply_redis(app->apply), a->keys[K_ALERTS], a->keys[K_ACKS],
                          keys.audit, a->keys[K_EVENTS], pd->id, &w, &ev, &wait, on_ack, pd);
    bp_event_out_free(&ev);
    if (!failed) return; /* on_ack answers */
    unavailable(r, "storage is unreachable; the alert is not acknowledged");
done:
    bp_req_done(r);
    free(pd);
}

/* POST /api/v1/alerts/{id}/ack */
void bp_api_alert_ack(bp_req_t *r) {
    bp_app_t *app = r->app;
    const char *rest = r->path + strlen("/api/v1/alerts/");
    char id[BP_ALERT_ID_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int)(strlen(rest) - 4), rest);
    struct bp_alerting *a = app->alerting;
    const bp_principal_t *p = actor(r, "acknowledge alerts");
    if (!p) return;
    pending_t *pd = calloc(1, sizeof *pd);
    if (!pd) {
        unavailable(r, "out of memory");
        return;
    }
    pd->r = r;
    snprintf(pd->id, sizeof pd->id, "%s", id);
    snprintf(pd->by, sizeof pd->by, "%s", p->id);
    snprintf(pd->role, sizeof pd->role, "%s", bp_role_name(p->role));
    if (bp_alertstore_record(bp_apply_redis(app->apply), a->keys[K_ALERTS], id, on_ack_record,
                             pd)) {
        free(pd);
        unavailable(r, "storage is unreachable; the alert is not acknowledged");
        return;
    }
    r->pending = true;
}

static void on_mute(void *data, const bp_alertstore_done_t *d, bool done) {
    pending_t *pd = data;
    bp_req_t *r = pd->r;
    if (d->answered && !done) {
        bp_req_error(r, 404, "not_muted", "this rule is not muted");
    } else if (write_failed(r, d, "the mute may not be changed")) {
        /* answered 503: setting or ending a mute again is safe */
    } else if (r->app->alerting) {
        /* the next read brings it to every server; this one shows it now */
        r->app->alerting->mutes[pd->rule] = pd->mute;
        bp_alerting_push(r->app, true);
    }
    bp_req_done(r);
    free(pd);
}
static int rule_of(const char *s) {
    for (int k = 0; k < BP_ALERT__COUNT; k++)
        if (strcmp(bp_alert_rule_name((bp_alert_rule_t)k), s) == 0) return k;
    return -1;
}

/* POST /api/v1/alerts/mutes (rule_name NULL) and DELETE /api/v1/alerts/mutes/{rule}. */
static void set_mute(bp_req_t *r, const char *rule_name) {
    bp_app_t *app = r->app;
    struct bp_alerting *a = app->alerting;
    const bp_principal_t *p = actor(r, "mute alerts");
    if (!p) return;
    int64_t now = bp_time_now_ms();
    bp_alert_rule_t rule;
    int minutes = 0;
    if (!rule_name) {
        if (!bp_req_is_json(r)) {
            bp_req_error(r, 415, "unsupported_media_type", "send the mute as application/json");
            return;
        }
        bp_errors_t errs;
        if (bp_alert_mute_parse(bp_buf_data(&r->in), r->in.len, &rule, &minutes, &errs)) {
            bp_req_invalid(
                r, errs.n == 1 ? errs.e[0].message : "some fields are not valid; see errors",
                &errs);
            return;
        }
    } else {
        int k = rule_of(rule_name);
        if (k < 0) {
            bp_req_error(r, 404, "unknown_rule", "no alert rule with this name");
            return;
        }
        rule = (bp_alert_rule_t)k;
    }
    bp_keys_t keys;
    bp_keys_init(&keys, app->cfg.settings.redis_prefix);
    int64_t until = now + (int64_t)minutes * 60000;
    pending_t *pd = calloc(1, sizeof *pd);
    if (pd) {
        pd->r = r;
        pd->rule = (int)rule;
        if (minutes) {
            snprintf(pd->mute.by, sizeof pd->mute.by, "%s", p->id);
            pd->mute.until_ms = until;
            pd->mute.at_ms = now;
        }
    }
    bp_alert_actor_t w = actor_of(r, p->id, bp_role_name(p->role), now);
    bp_alertstore_wait_t wait = wait_of(app);
    if (!pd ||
        bp_alertstore_mute(bp_apply_redis(app->apply), a->keys[K_MUTES], keys.audit,
                           bp_alert_rule_name(rule), minutes, until, &w, &wait, on_mute, pd)) {
        free(pd);
        unavailable(r, "storage is unreachable; nothing was changed");
    } else {
        r->pending = true;
        bp_info("http %s: alert rule %s %s by %s%s", r->addr, bp_alert_rule_name(rule),
                minutes ? "muted" : "unmuted", p->id, minutes ? " (minutes in the audit)" : "");
        bp_jw_t jw;
        bp_jw_init(&jw, &r->resp.body);
        bp_jw_obj(&jw);
        BP_JW_KEY(&jw, "rule");
        bp_jw_cstr(&jw, bp_alert_rule_name(rule));
        bp_alerting_who(&jw, app, p->id);
        if (minutes) {
            r->resp.status = 201;
            BP_JW_KEY(&jw, "until");
            bp_jw_time(&jw, until);
            BP_JW_KEY(&jw, "at");
            bp_jw_time(&jw, now);
        } else {
            BP_JW_KEY(&jw, "unmuted");
            bp_jw_bool(&jw, true);
        }
        bp_jw_end(&jw);
    }
}

/* The alert records and mutes need this server's alerting and its Redis
 * link: 503 before them. */
bool bp_api_alerts_ready(bp_req_t *r) {
    if (!r->app->alerting || !r->app->apply) {
        unavailable(r, "alerts are not available yet");
        return false;
    }
    return true;
}

/* .../{id}/ack: ready, and an id of an alert's length (404 otherwise). */
bool bp_api_alert_ack_ok(bp_req_t *r) {
    if (!bp_api_alerts_ready(r)) return false;
    size_t n = strlen(r->path + strlen("/api/v1/alerts/"));
    if (n < 5 || n - 4 > BP_ALERT_ID_MAX) {
        bp_req_error(r, 404, "not_found", "no such resource");
        return false;
    }
    return true;
}

void bp_api_mute_post(bp_req_t *r) {
    set_mute(r, NULL);
}

void bp_api_mute_delete(bp_req_t *r) {
    set_mute(r, r->path + strlen("/api/v1/alerts/mutes/"));
}

/* Any other path under /api/v1/alerts/: "/api/v1/alerts/" is the list. */
void bp_api_alerts_other(bp_req_t *r) {
    if (!r->path[strlen("/api/v1/alerts/")]) {
        if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
            bp_req_error(r, 405, "method_not_allowed", "this resource answers GET only");
            return;
        }
        const bp_principal_t *p = bp_req_principal(r);
        if (r->decided || !bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, -1)) return;
        r->principal = p;
        bp_api_alerts_get(r);
    } else if (bp_api_alerts_ready(r)) {
        bp_req_error(r, 404, "not_found", "no such resource");
    }
}
