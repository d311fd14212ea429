/*
 * What drives a Redis link (bp_redis_int.h): creating and closing it, and
 * the one periodic tick that does everything hiredis will not (connect and
 * command timeouts, the heartbeat, deferred resets, reconnect attempts),
 * over the connection (bp_redis.c) and Sentinel discovery
 * (bp_redis_sentinel.c). Also closing several links and a timer at once.
 */
#include "bp_log.h"
#include "bp_redis_int.h"
#include "bp_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 50

static char *dup_or_empty(const char *s) {
    return strdup(s ? s : "");
}

static void seed_random(bp_redis_t *r) {
    if (uv_random(NULL, NULL, &r->rng, sizeof r->rng, 0, NULL) != 0 || r->rng == 0)
        r->rng = bp_time_mono_ns() ^ ((uint64_t)uv_os_getpid() << 32) ^ (uintptr_t)r;
    if (r->rng == 0) r->rng = 0x9E3779B97F4A7C15ULL;
}

static void link_free(bp_redis_t *r) {
    free(r->user);
    free(r->password);
    free(r->name);
    free(r->master_name);
    free(r->sentinel_password);
    free(r->ring);
    free(r);
}

static void on_tick(uv_timer_t *t) {
    bp_redis_t *r = t->data;
    int64_t now = bp_redis_now_ms();
    if (r->reset_requested) {
        r->reset_requested = false;
        if (r->ac) bp_redis_teardown(r, r->reset_reason);
        return;
    }
    if (r->sentinel) bp_redis_sentinel_tick(r, now);
    switch (r->state) {
    case ST_DOWN:
        if (now >= r->next_attempt_ms) bp_redis_attempt(r);
        break;
    case ST_RESOLVING: break; /* sentinel_tick */
    case ST_CONNECTING:
        if (now - r->state_since_ms > r->o.connect_timeout_ms) {
            r->stats.timeouts++;
            bp_redis_teardown(r, "connect timeout");
        }
        break;
    case ST_AUTH:
        /* connected: a Redis busy with a slow fsync answers late, not never */
        if (now - r->state_since_ms > r->o.command_timeout_ms) {
            r->stats.timeouts++;
            bp_redis_teardown(r, "no answer to AUTH/PING within the command timeout");
        }
        break;
    case ST_UP:
        /* Dead = commands waiting and no reply at all for the command
         * timeout. Progress counts, not the age of the oldest command: a
         * long pipeline worked through under load (or a slow fsync with
         * appendfsync always) is a slow Redis, not a lost one. */
        if (r->count &&
            now - (r->last_reply_ms > r->ring[r->head].sent_ms ? r->last_reply_ms
                                                               : r->ring[r->head].sent_ms) >
                r->o.command_timeout_ms) {
            r->stats.timeouts++;
            bp_redis_teardown(r, "no reply within the command timeout");
            break;
        }
        if (r->o.ping_interval_ms > 0 && now - r->last_ping_ms >= r->o.ping_interval_ms) {
            r->last_ping_ms = now;
            const char *ping[1] = {"PING"};
            bp_redis_internal(r, "ping", 1, ping);
        }
        break;
    case ST_CLOSING: break;
    }
}

bp_redis_t *bp_redis_create(uv_loop_t *loop, const bp_redis_opts_t *o) {
    if (!loop || !o || o->max_pending == 0) return NULL;
    bool sentinel = o->sentinels && o->sentinels[0];
    if (!sentinel && (!o->host || o->port <= 0 || strlen(o->host) > BP_SENTINEL_HOST_MAX))
        return NULL;
    if (sentinel && (!o->master_name || !bp_sentinel_name_ok(o->master_name))) return NULL;
    bp_redis_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->loop = loop;
    r->o = *o;
    r->o.host = r->o.sentinels = r->o.master_name = r->o.sentinel_password = NULL; /* copied */
    r->sentinel = sentinel;
    if (sentinel && bp_sentinel_list_parse(&r->sentinels, o->sentinels, NULL)) {
        free(r);
        return NULL;
    }
    if (!sentinel) {
        snprintf(r->host, sizeof r->host, "%s", o->host);
        r->port = o->port;
    }
    r->user = dup_or_empty(o->user);
    r->password = dup_or_empty(o->password);
    r->name = dup_or_empty(o->name ? o->name : "redis");
    r->master_name = dup_or_empty(o->master_name);
    r->sentinel_password = dup_or_empty(o->sentinel_password);
    r->cap = o->max_pending + 5; /* room for AUTH, ROLE and PINGs */
    r->ring = calloc(r->cap, sizeof *r->ring);
    if (!r->user || !r->password || !r->name || !r->master_name || !r->sentinel_password ||
        !r->ring) {
        link_free(r);
        return NULL;
    }
    if (r->o.connect_timeout_ms <= 0) r->o.connect_timeout_ms = 2000;
    if (r->o.command_timeout_ms <= 0) r->o.command_timeout_ms = 5000;
    if (r->o.reconnect_max_ms <= 0) r->o.reconnect_max_ms = 5000;
    r->backoff_ms = 100;
    seed_random(r);
    uv_timer_init(loop, &r->tick);
    r->tick.data = r;
    bp_redis_set_state(r, ST_DOWN);
    bp_redis_attempt(r);
    uv_timer_start(&r->tick, on_tick, TICK_MS, TICK_MS);
    return r;
}

static void on_tick_closed(uv_handle_t *h) {
    bp_redis_t *r = h->data;
    void (*cb)(void *) = r->on_closed;
    void *data = r->closed_data;
    link_free(r);
    if (cb) cb(data);
}

void bp_redis_close(bp_redis_t *r, void (*on_closed)(void *), void *data) {
    if (!r) {
        if (on_closed) on_closed(data);
        return;
    }
    r->on_closed = on_closed;
    r->closed_data = data;
    bp_redis_set_state(r, ST_CLOSING);
    bp_redis_teardown(r, "closing");
    bp_redis_sentinel_free(r);
    uv_timer_stop(&r->tick);
    uv_close((uv_handle_t *)&r->tick, on_tick_closed);
}

typedef struct {
    size_t left;
    void (*done)(void *);
    void *data;
} closer_t;

static void closer_part(void *p) {
    closer_t *c = p;
    if (--c->left) return;
    void (*done)(void *) = c->done;
    void *data = c->data;
    free(c);
    if (done) done(data);
}

static void closer_timer(uv_handle_t *h) {
    closer_part(h->data);
}

void bp_redis_close_with(uv_timer_t *timer, bp_redis_t *const *links, size_t n,
                         void (*done)(void *), void *data) {
    closer_t *c = malloc(sizeof *c);
    if (!c) abort(); /* a few bytes at shutdown: nothing sensible is left to do */
    *c = (closer_t){n + 1, done, data};
    uv_timer_stop(timer);
    timer->data = c;
    uv_close((uv_handle_t *)timer, closer_timer);
    for (size_t i = 0; i < n; i++)
        bp_redis_close(links[i], closer_part, c);
}
