/* Subscriptions and fan-out of notifications, the timer that schedules
 * reads, claims and deliveries, and the notifier's life (see notifier.h);
 * one delivery's attempt is in notify_delivery.c. */
#include "notifier.h"
#include "notifier_int.h"
#include "bp_httputil.h"
#include "bp_jw.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_notify_rules.h"
#include "bp_rargs.h"
#include "bp_redis.h"
#include "bp_substore.h"
#include "bp_subs.h"
#include "bp_time.h"
#include "curl_uv.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS        250
#define FANOUT_BATCH   "50"
#define AUTOCLAIM_MS   10000
#define AUTOCLAIM_IDLE "30000" /* an event read but not fanned out for this long: take it over */
#define SUBS_POLL_MS   1000
#define GROUP          "fanout"

/* -- state ------------------------------------------------------------------------------------- */

/* -- small helpers -------------------------------------------------------------------------------
 */

/* -- subscriptions, as every server holds them
 * ------------------------------------------------------ */

static void on_subs(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->subs_busy = false;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return;
    const redisReply *ver = reply->element[0], *all = reply->element[1];
    uint64_t v = ver->type == REDIS_REPLY_STRING ? strtoull(ver->str, NULL, 10) : 0;
    if (all->type != REDIS_REPLY_ARRAY) return;
    size_t cap = all->elements / 2;
    bp_sub_t *subs = cap ? calloc(cap, sizeof *subs) : NULL;
    if (cap && !subs) return;
    size_t k = 0;
    for (size_t i = 0; i + 1 < all->elements && k < cap; i += 2) {
        const redisReply *val = all->element[i + 1];
        bp_errors_t errs;
        if (val->type != REDIS_REPLY_STRING) continue;
        if (bp_sub_parse(val->str, val->len, &n->app->cfg.registry, true, &subs[k], &errs) == 0)
            k++;
        else
            bp_warn("notify: subscription %s in Redis is malformed (%s); ignored",
                    all->element[i]->str, errs.n ? errs.e[0].message : "?");
    }
    if (n->subs) explicit_bzero(n->subs, n->n_subs * sizeof *n->subs);
    free(n->subs);
    n->subs = subs;
    n->n_subs = k;
    n->subs_ver = v;
    n->subs_loaded = true;
    n->subs_stale = false;
}

static void on_subs_ver(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->subs_busy = false;
    if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL)) return;
    uint64_t v = reply->type == REDIS_REPLY_STRING ? strtoull(reply->str, NULL, 10) : 0;
    if (n->subs_loaded && v == n->subs_ver) {
        /* (a fan-out found the table stale and a reload caught up meanwhile) */
        n->subs_stale = false;
        return;
    }
    /* the version and the table in one step, so they agree */
    bp_rargs_t g = {0};
    const char *keys[] = {n->keys[K_VER], n->keys[K_SUBS]};
    bp_rargs_eval(&g, "return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2])}",
                  2, keys);
    if (bp_rargs_send(&g, n->redis, on_subs, n) == 0) n->subs_busy = true;
}

/* -- fan-out
 * ---------------------------------------------------------------------------------------- */

static bool may_see(const struct bp_notifier *n, const bp_sub_t *s, const char *type,
                    const char *data, int64_t now) {
    const bp_principal_t *p = bp_tokens_by_id(n->app->tokens, s->owner);
    if (!p || p->role == BP_ROLE_PUBLIC || p->role == BP_ROLE_FEED) return false;
    /* the alerts about 115 incidents are for those who may see incidents */
    bool incident = strncmp(type, "alert.", 6) == 0 && strstr(data, "\"rule\":\"unassigned\"");
    return bp_auth_allows(p, -1, incident ? BP_ACT_READ_AMBULANCES : BP_ACT_READ_HOSPITALS, -1,
                          now);
}

static void on_enqueued(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->reading = false;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->integer < 0) {
        /* the subscriptions changed: read them, then these events again */
        n->subs_polled = 0;
        n->read_own = true;
        n->subs_stale = true;
    } else if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        n->jobs += (uint64_t)reply->element[0]->integer;
        n->refused += (uint64_t)reply->element[1]->integer;
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        bp_error("notify: fan-out refused: %s", reply->str);
    }
}

/* Entries of XREADGROUP / XAUTOCLAIM: [[id, [field, value, ...]], ...] */
static void fan_out(struct bp_notifier *n, const redisReply *entries) {
    const bp_registry_t *reg = &n->app->cfg.registry;
    int64_t now = bp_time_now_ms();
    bp_rargs_t g = {0};
    const char *keys[] = {n->keys[K_EVENTS], n->keys[K_DUE], n->keys[K_DEAD], n->keys[K_VER]};
    bp_rargs_eval(&g, bp_notify_enqueue_lua, 4, keys);
    bp_rargs_add(&g, n->prefix);
    bp_rargs_add(&g, GROUP);
    bp_rargs_addf(&g, "%lld", (long long)now);
    bp_rargs_addf(&g, "%d", n->s->notify_queue_max);
    bp_rargs_addf(&g, "%d", DEAD_MAX);
    bp_rargs_addf(&g, "%llu", (unsigned long long)n->subs_ver);
    int header = g.n;
    int *hosp = calloc(reg->n_hospitals + 1, sizeof *hosp);
    if (!hosp) {
        bp_rargs_free(&g);
        n->reading = false;
        return;
    }
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const redisReply *f = e->element[1];
        const char *type = bp_notify_field(f, "type", NULL),
                   *hl = bp_notify_field(f, "hospitals", NULL);
        size_t dl;
        const char *data = bp_notify_field(f, "data", &dl);
        int t = bp_event_type_parse(type, strlen(type));
        bp_event_match_t m = {(bp_event_type_t)(t < 0 ? 0 : t),
                              atoi(bp_notify_field(f, "level", NULL)), hosp, 0};
        for (const char *p = hl; *p && m.n_hospitals < reg->n_hospitals;) {
            const char *comma = strchr(p, ',');
            size_t l = comma ? (size_t)(comma - p) : strlen(p);
            int h = bp_registry_hospital(reg, p, l);
            if (h >= 0) hosp[m.n_hospitals++] = h;
            p += l + (comma ? 1 : 0);
        }
        /* the event, then the subscriptions it goes to */
        bp_rargs_add(&g, e->element[0]->str);
        int count_at = g.n;
        bp_rargs_add(&g, "0");
        static const char *const copy[] = {"type", "level", "at", "hospitals", "vi", "en", "data"};
        for (int c = 0; c < 7; c++) {
            size_t l;
            const char *v = bp_notify_field(f, copy[c], &l);
            bp_rargs_put(&g, v, l);
        }
        int count = 0;
        for (size_t s = 0; t >= 0 && s < n->n_subs; s++) {
            const bp_sub_t *sub = &n->subs[s];
            bp_sub_verdict_t v =
                bp_sub_match(sub, reg, &m, now, n->app->cfg.dispatch.utc_offset_min);
            if (v == BP_SUB_QUIET) n->quiet++;
            if (v != BP_SUB_DELIVER || !may_see(n, sub, type, data, now)) continue;
            bp_rargs_add(&g, sub->id);
            count++;
        }
        if (!g.failed) {
            free(g.v[count_at]);
            char num[16];
            snprintf(num, sizeof num, "%d", count);
            g.v[count_at] = strdup(num);
            g.len[count_at] = strlen(num);
            if (!g.v[count_at]) g.failed = true;
        }
        n->fanned++;
    }
    free(hosp);
    if (g.n == header) {
        bp_rargs_free(&g);
        n->reading = false;
        return;
    }
    if (bp_rargs_send(&g, n->redis, on_enqueued, n)) n->reading = false;
}

static void on_events(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    if (!reply || n->closing) {
        n->reading = false;
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        if (strstr(reply->str, "NOGROUP")) n->group_ready = false; /* the stream was lost: again */
        n->reading = false;
        return;
    }
    /* XREADGROUP: [[stream, entries]] or nil; XAUTOCLAIM: [next, entries, deleted] */
    const redisReply *entries = NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
        entries = reply->element[0]->element[1];
    else if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
             reply->element[0]->type == REDIS_REPLY_STRING)
        entries = reply->element[1];
    if (!entries || entries->type != REDIS_REPLY_ARRAY || entries->elements == 0 ||
        !n->subs_loaded) {
        if (n->read_kind == READ_OWN && entries && entries->type == REDIS_REPLY_ARRAY &&
            entries->elements == 0)
            n->read_own = false; /* nothing of ours left unfanned */
        n->reading = false;
        return;
    }
    fan_out(n, entries);
}

static void on_group(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->group_busy = false;
    if (!reply) return;
    if (reply->type == REDIS_REPLY_STATUS ||
        (reply->type == REDIS_REPLY_ERROR && strstr(reply->str, "BUSYGROUP")))
        n->group_ready = true;
    else if (reply->type == REDIS_REPLY_ERROR)
        bp_error("notify: cannot create the consumer group: %s", reply->str);
}

static void on_claimed(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->claiming = false;
    if (!reply || n->closing) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        bp_error("notify: claim refused: %s", reply->str);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY) return;
    for (size_t i = 0; i < reply->elements; i++)
        bp_notify_deliver(n, reply->element[i]);
}

static void on_queue_len(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    if (reply && reply->type == REDIS_REPLY_INTEGER) n->queue_len = reply->integer;
}

/* -- the timer
 * ---------------------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t) {
    struct bp_notifier *n = t->data;
    if (n->closing || !bp_redis_up(n->redis)) return;
    int64_t now = bp_time_now_ms();
    if (!n->subs_busy && now - n->subs_polled >= SUBS_POLL_MS) {
        n->subs_polled = now;
        if (bp_redis_command(n->redis, on_subs_ver, n, "GET %s", n->keys[K_VER]) == 0)
            n->subs_busy = true;
    }
    if (!n->group_ready) {
        if (!n->group_busy &&
            bp_redis_command(n->redis, on_group, n, "XGROUP CREATE %s " GROUP " 0 MKSTREAM",
                             n->keys[K_EVENTS]) == 0)
            n->group_busy = true;
        return;
    }
    /* fan-out: new events, and now and then those a dead server left */
    if (!n->reading && n->subs_loaded && !n->subs_stale) {
        int rc;
        if (!n->read_own && now - n->autoclaimed >= AUTOCLAIM_MS) {
            n->autoclaimed = now;
            n->read_kind = READ_CLAIM;
            rc = bp_redis_command(n->redis, on_events, n,
                                  "XAUTOCLAIM %s " GROUP " %s " AUTOCLAIM_IDLE
                                  " 0-0 COUNT " FANOUT_BATCH,
                                  n->keys[K_EVENTS], n->consumer);
        } else {
            /* ">": new events; "0": ours read before and not yet fanned out */
            n->read_kind = n->read_own ? READ_OWN : READ_NEW;
            rc = bp_redis_command(n->redis, on_events, n,
                                  "XREADGROUP GROUP " GROUP " %s COUNT " FANOUT_BATCH
                                  " STREAMS %s %s",
                                  n->consumer, n->keys[K_EVENTS], n->read_own ? "0" : ">");
        }
        if (rc == 0) n->reading = true;
    }
    /* delivery: claim what is due, within the deliveries in flight */
    size_t room = (size_t)n->s->notify_max_inflight > n->inflight
                      ? (size_t)n->s->notify_max_inflight - n->inflight
                      : 0;
    if (!n->claiming && room) {
        bp_rargs_t g = {0};
        const char *keys[] = {n->keys[K_DUE], n->keys[K_SUBS]};
        bp_rargs_eval(&g, bp_notify_claim_lua, 2, keys);
        bp_rargs_add(&g, n->prefix);
        bp_rargs_addf(&g, "%lld", (long long)now);
        bp_rargs_addf(&g, "%zu", room);
        /* a lease past the longest attempt (resolve + connect + transfer) */
        bp_rargs_addf(&g, "%lld", (long long)(3 * n->s->notify_timeout_s + 30) * 1000LL);
        bp_rargs_addf(&g, "%d", n->s->notify_rate_per_min);
        if (bp_rargs_send(&g, n->redis, on_claimed, n) == 0) n->claiming = true;
    }
    if (now - n->queue_checked >= 5000) {
        n->queue_checked = now;
        bp_redis_command(n->redis, on_queue_len, n, "ZCARD %s", n->keys[K_DUE]);
    }
}

static void on_up(bp_redis_t *r, void *data) {
    struct bp_notifier *n = data;
    (void)r;
    n->group_ready = false; /* the stream may be new: make sure of the group */
}

/* -- lifecycle
 * ------------------------------------------------------------------------------------------ */

struct bp_notifier *bp_notifier_create(bp_app_t *app) {
    struct bp_notifier *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->app = app;
    n->s = &app->cfg.settings;
    snprintf(n->prefix, sizeof n->prefix, "%.64s", n->s->redis_prefix);
    static const char *const names[N_KEYS] = {"subs",          "subs:count", "subs:ver",
                                              "notify:events", "notify:due", "notify:dead"};
    for (int i = 0; i < N_KEYS; i++)
        snprintf(n->keys[i], sizeof n->keys[i], "%s%s", n->prefix, names[i]);
    unsigned char raw[6];
    if (RAND_bytes(raw, sizeof raw) != 1) memset(raw, 0, sizeof raw);
    snprintf(n->consumer, sizeof n->consumer, "server-%02x%02x%02x%02x%02x%02x", raw[0], raw[1],
             raw[2], raw[3], raw[4], raw[5]);
    bp_retry_defaults(&n->retry);
    n->retry.base_ms = n->s->notify_retry_base_ms;
    n->retry.max_age_ms = (int64_t)n->s->notify_retry_max_s * 1000;
    if (n->retry.cap_ms > n->retry.max_age_ms) n->retry.cap_ms = n->retry.max_age_ms;
    n->curl = bp_curl_create(&app->loop);
    bp_redis_opts_t o = bp_redis_opts(n->s, "notify");
    o.max_pending = 64;
    o.on_up = on_up;
    o.data = n;
    n->redis = n->curl ? bp_redis_create(&app->loop, &o) : NULL;
    if (!n->redis) {
        if (n->curl) bp_curl_close(n->curl, NULL, NULL);
        free(n);
        return NULL;
    }
    uv_timer_init(&app->loop, &n->timer);
    n->timer.data = n;
    uv_timer_start(&n->timer, on_tick, TICK_MS, TICK_MS);
    return n;
}

static void part_closed(void *data) {
    struct bp_notifier *n = data;
    if (--n->parts) return;
    void (*cb)(void *) = n->on_closed;
    void *cd = n->closed_data;
    if (n->subs) explicit_bzero(n->subs, n->n_subs * sizeof *n->subs);
    free(n->subs);
    free(n);
    if (cb) cb(cd);
}

void bp_notifier_close(struct bp_notifier *n, void (*on_closed)(void *), void *data) {
    if (!n) {
        if (on_closed) on_closed(data);
        return;
    }
    n->closing = true;
    n->on_closed = on_closed;
    n->closed_data = data;
    n->parts = 2;
    /* lookups still running end with UV_ECANCELED (or finish and see closing) */
    for (delivery_t *d = n->active; d; d = d->next)
        if (d->resolving) uv_cancel((uv_req_t *)&d->gai);
    bp_curl_close(n->curl, part_closed, n);
    n->curl = NULL;
    bp_redis_close_with(&n->timer, &n->redis, 1, part_closed, n);
}

void bp_notifier_metrics(const struct bp_notifier *n, bp_buf_t *o) {
    if (!n) return;
    bp_buf_printf(
        o,
        "# HELP bedpulse_notify_events_total Notification events this server fanned out.\n"
        "# TYPE bedpulse_notify_events_total counter\nbedpulse_notify_events_total %llu\n"
        "# HELP bedpulse_notify_jobs_total Deliveries queued by this server.\n"
        "# TYPE bedpulse_notify_jobs_total counter\nbedpulse_notify_jobs_total %llu\n"
        "# HELP bedpulse_notify_quiet_total Deliveries not made: quiet hours.\n"
        "# TYPE bedpulse_notify_quiet_total counter\nbedpulse_notify_quiet_total %llu\n"
        "# HELP bedpulse_notify_deliveries_total Delivery attempts by outcome.\n"
        "# TYPE bedpulse_notify_deliveries_total counter\n"
        "bedpulse_notify_deliveries_total{outcome=\"delivered\"} %llu\n"
        "bedpulse_notify_deliveries_total{outcome=\"retry\"} %llu\n"
        "bedpulse_notify_deliveries_total{outcome=\"dead\"} %llu\n"
        "bedpulse_notify_deliveries_total{outcome=\"queue_full\"} %llu\n"
        "# HELP bedpulse_notify_in_flight Deliveries in progress on this server.\n"
        "# TYPE bedpulse_notify_in_flight gauge\nbedpulse_notify_in_flight %zu\n"
        "# HELP bedpulse_notify_queue Deliveries waiting (all servers).\n"
        "# TYPE bedpulse_notify_queue gauge\nbedpulse_notify_queue %lld\n"
        "# HELP bedpulse_notify_subscriptions Subscriptions held.\n"
        "# TYPE bedpulse_notify_subscriptions gauge\nbedpulse_notify_subscriptions %zu\n",
        (unsigned long long)n->fanned, (unsigned long long)n->jobs, (unsigned long long)n->quiet,
        (unsigned long long)n->delivered, (unsigned long long)n->retried,
        (unsigned long long)n->dead, (unsigned long long)n->refused, n->inflight, n->queue_len,
        n->n_subs);
}
