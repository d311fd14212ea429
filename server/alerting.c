/* Alerts shared by every server, and the events of what changed (see alerting.h). */
#include "alerting.h"
#include "alerting_int.h"
#include "handlers.h"
#include "bp_alert_groups.h"
#include "bp_events.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_alertstore.h"
#include "bp_rargs.h"
#include "bp_time.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOIN_MS 10000 /* a young group takes the rest of a burst this long */
#define PUSH_MS 2000  /* value changes reach the live feed at most this often */
#define KICK_MS 250   /* new events make the rules run early, at most this often */

struct bp_alerting *bp_alerting_create(bp_app_t *app) {
    struct bp_alerting *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->app = app;
    const char *p = app->cfg.settings.redis_prefix;
    static const char *const names[N_KEYS] = {"alerts:active", "alerts:ver",   "alerts:clock",
                                              "alert_acks",    "alert_mutes",  "alerts:raised",
                                              "notify:obs",    "mcis",         "notify:mcis",
                                              "notify:init",   "notify:events"};
    for (int i = 0; i < N_KEYS; i++)
        snprintf(a->keys[i], sizeof a->keys[i], "%.64s%s", p, names[i]);
    snprintf(a->prefix, sizeof a->prefix, "%.64s", p);
    a->obs = calloc(app->cfg.registry.n_hospitals + 1, sizeof *a->obs);
    bp_arecs_init(&a->recs);
    bp_arecs_init(&a->next);
    bp_buf_init(&a->full, 0, 8u << 20);
    bp_buf_init(&a->other, 0, 8u << 20);
    bp_buf_init(&a->last, 0, 8u << 20);
    if (!a->obs) {
        bp_alerting_destroy(a);
        return NULL;
    }
    return a;
}

void bp_alerting_destroy(struct bp_alerting *a) {
    if (!a) return;
    bp_arecs_free(&a->recs);
    bp_arecs_free(&a->next);
    bp_buf_free(&a->full);
    bp_buf_free(&a->other);
    bp_buf_free(&a->last);
    free(a->acks);
    free(a->obs);
    free(a);
}

/* -- what clients see ------------------------------------------------------------------------- */

static const ack_t *ack_find(const struct bp_alerting *a, const char *id) {
    for (size_t i = 0; i < a->n_acks; i++)
        if (strcmp(a->acks[i].id, id) == 0) return &a->acks[i];
    return NULL;
}

void bp_alerting_ack_put(struct bp_alerting *a, const char *id, const char *by, int64_t at) {
    ack_t *x = (ack_t *)ack_find(a, id);
    if (!x) {
        if (a->n_acks == a->cap_acks) {
            size_t cap = a->cap_acks ? 2 * a->cap_acks : 16;
            ack_t *n = realloc(a->acks, cap * sizeof *n);
            if (!n) return;
            a->acks = n;
            a->cap_acks = cap;
        }
        x = &a->acks[a->n_acks++];
    }
    snprintf(x->id, sizeof x->id, "%s", id);
    snprintf(x->by, sizeof x->by, "%s", by);
    x->at_ms = at;
}

static bool is_acked(const char *id, void *ctx) {
    return ack_find(ctx, id) != NULL;
}

static const mute_t *mute_of(const struct bp_alerting *a, bp_alert_rule_t r, int64_t now) {
    const mute_t *m = &a->mutes[r];
    return m->until_ms > now ? m : NULL;
}

void bp_alerting_who(bp_jw_t *w, const bp_app_t *app, const char *by) {
    const bp_principal_t *p = bp_tokens_by_id(app->tokens, by);
    BP_JW_KEY(w, "by");
    bp_jw_cstr(w, by);
    BP_JW_KEY(w, "name");
    bp_jw_cstr(w, p ? p->name : "");
}

/* {"by","name",<key>:<time>} or null: an acknowledgement or a mute. */
static void who_at(bp_jw_t *w, const bp_app_t *app, bool present, const char *by, const char *key,
                   int64_t ms) {
    if (!present) {
        bp_jw_null(w);
        return;
    }
    bp_jw_obj(w);
    bp_alerting_who(w, app, by);
    bp_jw_key(w, key);
    bp_jw_time(w, ms);
    bp_jw_end(w);
}

/* "alerts":[...],"mutes":[...],"raised_total":N, members of w's open
 * object. */
void bp_alerting_write(bp_jw_t *w, bp_app_t *app, bool incidents) {
    struct bp_alerting *a = app->alerting;
    int64_t now = bp_time_now_ms();
    BP_JW_KEY(w, "alerts");
    bp_jw_arr(w);
    for (size_t i = 0; i < a->recs.n; i++) {
        const bp_arec_t *r = &a->recs.r[i];
        if (r->rule == BP_ALERT_UNASSIGNED && !incidents) continue;
        bp_arec_write_open(w, r, app->alerts, app->state);
        const ack_t *k = ack_find(a, r->id);
        BP_JW_KEY(w, "ack");
        who_at(w, app, k != NULL, k ? k->by : "", "at", k ? k->at_ms : 0);
        const mute_t *m = mute_of(a, r->rule, now);
        BP_JW_KEY(w, "muted");
        who_at(w, app, m != NULL, m ? m->by : "", "until", m ? m->until_ms : 0);
        bp_jw_end(w);
    }
    bp_jw_end(w);
    BP_JW_KEY(w, "mutes");
    bp_jw_arr(w);
    for (int r = 0; r < BP_ALERT__COUNT; r++) {
        const mute_t *m = mute_of(a, (bp_alert_rule_t)r, now);
        if (!m || (r == BP_ALERT_UNASSIGNED && !incidents)) continue;
        bp_jw_obj(w);
        BP_JW_KEY(w, "rule");
        bp_jw_cstr(w, bp_alert_rule_name((bp_alert_rule_t)r));
        bp_alerting_who(w, app, m->by);
        BP_JW_KEY(w, "until");
        bp_jw_time(w, m->until_ms);
        BP_JW_KEY(w, "at");
        bp_jw_time(w, m->at_ms);
        bp_jw_end(w);
    }
    bp_jw_end(w);
    BP_JW_KEY(w, "raised_total");
    bp_jw_int(w, (int64_t)a->raised);
}

/* {"type":"alerts",...} for the live feed (with or without incidents). */
static void alerts_message(bp_buf_t *b, bp_app_t *app, bool incidents) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "type");
    bp_jw_cstr(&w, "alerts");
    bp_alerting_write(&w, app, incidents);
    bp_jw_end(&w);
}

/* Sends the list over the live feed when it changed: at once when alerts
 * came or went or an acknowledgement or mute changed (`now`), else at
 * most every PUSH_MS (values that flap at a threshold must not flood
 * every console). */
void bp_alerting_push(bp_app_t *app, bool now) {
    struct bp_alerting *a = app->alerting;
    int64_t t = bp_time_now_ms();
    if (!a->loaded) return;
    if (!now && !a->ids_changed && t - a->pushed_ms < PUSH_MS) return;
    bp_buf_reset(&a->full);
    bp_buf_reset(&a->other);
    alerts_message(&a->full, app, true);
    alerts_message(&a->other, app, false);
    if (a->full.failed || a->other.failed) return;
    a->ids_changed = false;
    if (a->last.len == a->full.len &&
        memcmp(bp_buf_data(&a->last), bp_buf_data(&a->full), a->full.len) == 0)
        return;
    bp_buf_reset(&a->last);
    bp_buf_put(&a->last, bp_buf_data(&a->full), a->full.len);
    a->pushed_ms = t;
    bp_hub_broadcast(app->hub, BP_BCAST_ALERTS, bp_buf_data(&a->full), a->full.len,
                     bp_buf_data(&a->other), a->other.len);
}

/* -- arguments of one Lua call -------------------------------------------------------------------
 */

/* The keys after EVAL script numkeys. */
static void args_script(bp_rargs_t *g, const struct bp_alerting *a, const char *script, int nkeys) {
    bp_rargs_add(g, "EVAL");
    bp_rargs_add(g, script);
    bp_rargs_addf(g, "%d", nkeys);
    for (int i = 0; i < nkeys; i++)
        bp_rargs_add(g, a->keys[i]);
}

static void op_event(bp_rargs_t *g, int gate, const bp_event_out_t *e) {
    bp_rargs_op(g, "E");
    bp_rargs_addf(g, "%d", gate);
    bp_rargs_add(g, bp_event_type_name(e->type));
    bp_rargs_addf(g, "%d", e->level);
    bp_rargs_addf(g, "%lld", (long long)e->at_ms);
    bp_rargs_put(g, e->hospitals.len ? bp_buf_data(&e->hospitals) : "", e->hospitals.len);
    bp_rargs_add(g, e->vi);
    bp_rargs_add(g, e->en);
    bp_rargs_put(g, bp_buf_data(&e->data) ? bp_buf_data(&e->data) : "{}",
                 e->data.len ? e->data.len : 2);
    if (e->hospitals.failed || e->data.failed) g->failed = true;
}

/* -- the tick: read, plan, apply -----------------------------------------------------------------
 */

static const char *hget(const redisReply *h, const char *name) {
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING)
            return h->element[i + 1]->str;
    return "";
}

static void mci_brief(const redisReply *m, bp_mci_brief_t *out) {
    memset(out, 0, sizeof *out);
    const redisReply *h = m->elements > 1 ? m->element[1] : NULL;
    snprintf(out->id, sizeof out->id, "%s",
             m->element[0]->type == REDIS_REPLY_STRING ? m->element[0]->str : "");
    out->lat = strtod(hget(h, "lat"), NULL);
    out->lon = strtod(hget(h, "lon"), NULL);
    out->radius_km = strtod(hget(h, "radius_km"), NULL);
    snprintf(out->address, sizeof out->address, "%s", hget(h, "address"));
    out->expected[0] = atoi(hget(h, "ei"));
    out->expected[1] = atoi(hget(h, "ed"));
    out->expected[2] = atoi(hget(h, "em"));
    snprintf(out->by, sizeof out->by, "%s", hget(h, "by"));
}

static void on_applied(bp_redis_t *redis, redisReply *reply, void *privdata);

/* The observation of hospital i now: "<effective ED status>|<stale 0/1>". */
static void observe(const bp_app_t *app, size_t i, int64_t now, char out[16]) {
    const bp_hospital_state_t *h = bp_state_hospital(app->state, i);
    int ed = h->version ? (int)bp_ed_effective(&h->ed, now) : BP_ED_NORMAL;
    bool stale =
        bp_freshness(h->at_ms, app->cfg.registry.hospitals[i].report_interval_s, now) == BP_STALE;
    snprintf(out, 16, "%d|%d", ed, stale ? 1 : 0);
}

/* Plans from what was just read and sends the apply when anything changed. */
static void plan_and_apply(bp_app_t *app, const redisReply *opened, const redisReply *closed) {
    struct bp_alerting *a = app->alerting;
    const bp_registry_t *reg = &app->cfg.registry;
    int64_t now = bp_time_now_ms();
    bp_achanges_t ch = {0};
    bp_rargs_t g = {0};
    bp_event_out_t ev;
    bp_event_out_init(&ev);
    if (bp_agroups_plan(&a->recs, app->alerts, is_acked, a, JOIN_MS, now, &a->next, &ch)) goto out;
    args_script(&g, a, bp_alerts_apply_lua, N_KEYS);
    if (ch.n)
        bp_rargs_addf(&g, "%llu", (unsigned long long)a->ver);
    else
        bp_rargs_add(&g, "");
    char clock[BP_EPOCH_MAX + 32];
    snprintf(clock, sizeof clock, "%s %llu",
             bp_reader_epoch(app->reader)[0] ? bp_reader_epoch(app->reader) : "-",
             (unsigned long long)bp_reader_offset(app->reader));
    bp_rargs_add(&g, clock);
    bp_rargs_addf(&g, "%lld", (long long)now);
    int header = g.n;
    /* alert records */
    int raised = 0;
    bp_buf_t json;
    bp_buf_init(&json, 0, 1u << 20);
    for (size_t i = 0; i < ch.n; i++) {
        const bp_achange_t *c = &ch.c[i];
        int gate;
        if (c->kind == BP_ACH_CLEARED) {
            gate = bp_rargs_op(&g, "D");
            bp_rargs_add(&g, c->delta.id);
        } else {
            const bp_arec_t *r = bp_arecs_find(&a->next, c->delta.id);
            if (!r) continue;
            bp_buf_reset(&json);
            bp_arec_write_stored(&json, r);
            gate = bp_rargs_op(&g, "A");
            bp_rargs_add(&g, r->id);
            bp_rargs_put(&g, bp_buf_data(&json), json.len);
        }
        if (c->kind == BP_ACH_RAISED) raised++;
        bp_event_of_alert(&ev, c, app->alerts, app->state, now);
        op_event(&g, gate, &ev);
    }
    bp_buf_free(&json);
    if (raised) {
        bp_rargs_op(&g, "R");
        bp_rargs_addf(&g, "%d", raised);
    }
    a->next_changes_alerts = ch.n > 0;
    /* ED status and stale reports: compare-and-set per hospital */
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        char now_obs[16];
        observe(app, i, now, now_obs);
        if (a->obs_init && strcmp(now_obs, a->obs[i]) == 0) continue;
        int gate = bp_rargs_op(&g, "O");
        bp_rargs_add(&g, reg->hospitals[i].id);
        bp_rargs_add(&g, a->obs[i]);
        bp_rargs_add(&g, now_obs);
        if (!a->obs_init || !a->obs[i][0]) continue; /* first sight: nothing to tell */
        int ed0 = atoi(a->obs[i]), ed1 = atoi(now_obs);
        bool st0 = strchr(a->obs[i], '|') && strchr(a->obs[i], '|')[1] == '1';
        bool st1 = now_obs[strlen(now_obs) - 1] == '1';
        if (ed0 != ed1 && ed0 >= 0 && ed0 < BP_ED__COUNT) {
            bp_event_of_ed(&ev, app->state, i, (bp_ed_status_t)ed0, (bp_ed_status_t)ed1, now);
            op_event(&g, gate, &ev);
        }
        if (st1 && !st0) {
            bp_event_of_stale(&ev, app->state, i, now);
            op_event(&g, gate, &ev);
        }
    }
    /* MCIs opened and closed since last seen */
    for (int pass = 0; pass < 2; pass++) {
        const redisReply *list = pass ? closed : opened;
        for (size_t k = 0; list && list->type == REDIS_REPLY_ARRAY && k < list->elements; k++) {
            const redisReply *m = list->element[k];
            if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
                m->element[0]->type != REDIS_REPLY_STRING)
                continue;
            int gate = bp_rargs_op(&g, pass ? "G" : "M");
            bp_rargs_add(&g, m->element[0]->str);
            if (!a->obs_init) continue;
            bp_mci_brief_t brief;
            mci_brief(m, &brief);
            bp_event_of_mci(&ev, reg, &brief, pass == 1, now);
            op_event(&g, gate, &ev);
        }
    }
    if (!a->obs_init) bp_rargs_op(&g, "I");
    if (g.n == header || g.failed) goto out;
    if (bp_redis_command_argv(bp_apply_redis(app->apply), on_applied, app, g.n, (const char **)g.v,
                              g.len) == 0)
        a->applying = true;
out:
    if (g.failed) bp_warn("alerts: a plan did not fit in memory; trying again next second");
    bp_rargs_free(&g);
    bp_achanges_free(&ch);
    bp_event_out_free(&ev);
}

static void on_applied(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_app_t *app = privdata;
    (void)redis;
    struct bp_alerting *a = app->alerting;
    if (!a) return;
    a->applying = false;
    if (!reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        bp_error("alerts: apply refused: %s", reply->str);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 4) return;
    bool applied = reply->element[0]->integer == 1;
    a->events += (uint64_t)reply->element[3]->integer;
    if (a->next_changes_alerts && applied) {
        /* ours is the new state: no need to wait for the next read */
        a->ver = strtoull(reply->element[1]->str, NULL, 10);
        bp_arecs_copy(&a->recs, &a->next);
        a->ids_changed = true;
        bp_alerting_push(app, true);
    } else if (a->next_changes_alerts) {
        a->conflicts++; /* another server was first, or ahead: read again */
    }
}

static void on_read(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_app_t *app = privdata;
    (void)redis;
    struct bp_alerting *a = app->alerting;
    if (!a) return;
    a->reading = false;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 10) {
        if (reply && reply->type == REDIS_REPLY_ERROR)
            bp_error("alerts: read failed: %s", reply->str);
        return;
    }
    const redisReply *const *e = (const redisReply *const *)reply->element;
    a->ver = e[0]->type == REDIS_REPLY_STRING ? strtoull(e[0]->str, NULL, 10) : 0;
    /* records */
    size_t before = a->recs.n;
    char first_before[BP_ALERT_ID_MAX + 1] = "";
    if (before) snprintf(first_before, sizeof first_before, "%s", a->recs.r[0].id);
    bp_arecs_clear(&a->recs);
    for (size_t i = 0; e[2]->type == REDIS_REPLY_ARRAY && i + 1 < e[2]->elements; i += 2) {
        const redisReply *k = e[2]->element[i], *v = e[2]->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        if (bp_arecs_add_stored(&a->recs, k->str, v->str, v->len))
            bp_warn("alerts: record %s in Redis is malformed; ignored", k->str);
    }
    bp_arecs_sort(&a->recs);
    if (a->recs.n != before || (before && strcmp(first_before, a->recs.r[0].id)))
        a->ids_changed = true;
    /* acknowledgements: "<token id>|<ms>" */
    a->n_acks = 0;
    for (size_t i = 0; e[3]->type == REDIS_REPLY_ARRAY && i + 1 < e[3]->elements; i += 2) {
        const redisReply *k = e[3]->element[i], *v = e[3]->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        const char *bar = strchr(v->str, '|');
        if (!bar || (size_t)(bar - v->str) > BP_TOKEN_ID_MAX) continue;
        char by[BP_TOKEN_ID_MAX + 1];
        snprintf(by, sizeof by, "%.*s", (int)(bar - v->str), v->str);
        bp_alerting_ack_put(a, k->str, by, strtoll(bar + 1, NULL, 10));
    }
    /* mutes: rule -> "<token id>|<until>|<at>" */
    memset(a->mutes, 0, sizeof a->mutes);
    for (size_t i = 0; e[4]->type == REDIS_REPLY_ARRAY && i + 1 < e[4]->elements; i += 2) {
        const redisReply *k = e[4]->element[i], *v = e[4]->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        for (int r = 0; r < BP_ALERT__COUNT; r++) {
            if (strcmp(k->str, bp_alert_rule_name((bp_alert_rule_t)r))) continue;
            char by[BP_TOKEN_ID_MAX + 1];
            long long until, at;
            if (sscanf(v->str, "%24[^|]|%lld|%lld", by, &until, &at) == 3) {
                snprintf(a->mutes[r].by, sizeof a->mutes[r].by, "%s", by);
                a->mutes[r].until_ms = until;
                a->mutes[r].at_ms = at;
            }
        }
    }
    a->raised = e[5]->type == REDIS_REPLY_STRING ? strtoull(e[5]->str, NULL, 10) : 0;
    /* observations */
    const bp_registry_t *reg = &app->cfg.registry;
    for (size_t i = 0; i < reg->n_hospitals; i++)
        a->obs[i][0] = '\0';
    for (size_t i = 0; e[6]->type == REDIS_REPLY_ARRAY && i + 1 < e[6]->elements; i += 2) {
        const redisReply *k = e[6]->element[i], *v = e[6]->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        int h = bp_registry_hospital(reg, k->str, k->len);
        if (h >= 0) snprintf(a->obs[h], sizeof a->obs[h], "%.15s", v->str);
    }
    a->obs_init = e[9]->type == REDIS_REPLY_INTEGER && e[9]->integer == 1;
    a->loaded = true;
    /* plan only from figures followed live, with the handover medians replayed */
    if (bp_reader_ready(app->reader) && app->handover_ready && app->apply)
        plan_and_apply(app, e[7], e[8]);
    bp_alerting_push(app, false);
}

void bp_alerting_kick(bp_app_t *app) {
    struct bp_alerting *a = app->alerting;
    int64_t now = bp_time_now_ms();
    if (!a || !app->apply || !bp_reader_ready(app->reader) || now - a->kicked_ms < KICK_MS) return;
    a->kicked_ms = now;
    bp_alerts_update(app->alerts, app->state, app->handover, &app->cfg.dispatch.alerts, now);
    app->alert_evaluations++;
    bp_alerting_tick(app);
}

void bp_alerting_tick(bp_app_t *app) {
    struct bp_alerting *a = app->alerting;
    if (!a || !app->apply) return;
    bp_redis_t *redis = bp_apply_redis(app->apply);
    if (!a->reading && !a->applying && bp_redis_up(redis)) {
        bp_rargs_t g = {0};
        args_script(&g, a, bp_alerts_read_lua, N_KEYS);
        bp_rargs_add(&g, a->prefix);
        if (!g.failed &&
            bp_redis_command_argv(redis, on_read, app, g.n, (const char **)g.v, g.len) == 0)
            a->reading = true;
        bp_rargs_free(&g);
    }
    bp_alerting_push(app, false);
}

void bp_alerting_stats(const bp_app_t *app, bp_alerting_stats_t *out) {
    const struct bp_alerting *a = app->alerting;
    out->open = a ? a->recs.n : 0;
    out->events = a ? a->events : 0;
    out->conflicts = a ? a->conflicts : 0;
}
