/*
 * Resilient hiredis link. One periodic tick drives everything that hiredis
 * will not: connect timeout, command timeout, heartbeat, deferred resets and
 * reconnect attempts. Commands go through one trampoline whose privdata is
 * the link; a FIFO of (sent time, callback, privdata) matches replies to
 * callers, which works because Redis answers in order and hiredis fails the
 * remaining callbacks in order when a context is freed.
 */
#include "bp_redis.h"
#include "bp_log.h"
#include "bp_settings.h"
#include "bp_time.h"

#include <hiredis/async.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 50

typedef enum { ST_DOWN, ST_CONNECTING, ST_AUTH, ST_UP, ST_CLOSING } state_t;

typedef struct {
    int64_t sent_ms;
    bp_redis_reply_cb cb; /* NULL for internal commands (AUTH, PING) */
    void *privdata;
} pending_t;

struct bp_redis {
    uv_loop_t *loop;
    uv_timer_t tick;
    redisAsyncContext *ac;
    state_t state;
    bp_redis_opts_t o;
    char *host, *user, *password, *name;
    int64_t state_since_ms;
    int64_t next_attempt_ms;
    int64_t last_ping_ms;
    int64_t last_reply_ms; /* any reply: Redis is making progress */
    int backoff_ms;
    bool reset_requested;
    char reset_reason[96];
    pending_t *ring;
    size_t cap, head, count;
    bp_redis_stats_t stats;
    uint64_t rng; /* xorshift state for the reconnect jitter, seeded per link */
    void (*on_closed)(void *);
    void *closed_data;
};

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);
static void start_connect(bp_redis_t *r);

/* -- hiredis on libuv ------------------------------------------------------
 * Our own event adapter instead of hiredis 0.14's adapters/libuv.h, which
 * (1) ignores poll errors, so a dead peer goes unnoticed, and (2) calls
 * uv_poll_start() for every command queued, which libuv turns into an
 * epoll_ctl DEL and ADD each time. Here the poll is only touched when the
 * set of events actually changes, and an error is handed to hiredis (a read
 * then fails and the context disconnects). */

typedef struct {
    redisAsyncContext *ac; /* NULL once hiredis let go */
    uv_poll_t poll;
    int events;
} uv_events_t;

static void on_poll(uv_poll_t *h, int status, int events) {
    uv_events_t *e = h->data;
    if (status < 0) events = UV_READABLE; /* let the read find the error */
    if (e->ac && (events & UV_READABLE)) redisAsyncHandleRead(e->ac);
    if (e->ac && (events & UV_WRITABLE)) redisAsyncHandleWrite(e->ac);
}

static void set_events(uv_events_t *e, int events) {
    if (events == e->events) return;
    e->events = events;
    if (events) uv_poll_start(&e->poll, events, on_poll);
    else uv_poll_stop(&e->poll);
}

static void ev_add_read(void *p) {
    uv_events_t *e = p;
    set_events(e, e->events | UV_READABLE);
}
static void ev_del_read(void *p) {
    uv_events_t *e = p;
    set_events(e, e->events & ~UV_READABLE);
}
static void ev_add_write(void *p) {
    uv_events_t *e = p;
    set_events(e, e->events | UV_WRITABLE);
}
static void ev_del_write(void *p) {
    uv_events_t *e = p;
    set_events(e, e->events & ~UV_WRITABLE);
}

static void ev_closed(uv_handle_t *h) {
    free(h->data);
}

static void ev_cleanup(void *p) {
    uv_events_t *e = p;
    e->ac = NULL;
    uv_close((uv_handle_t *)&e->poll, ev_closed);
}

static int attach(redisAsyncContext *ac, uv_loop_t *loop) {
    if (ac->ev.data) return -1;
    uv_events_t *e = calloc(1, sizeof *e);
    if (!e) return -1;
    if (uv_poll_init(loop, &e->poll, ac->c.fd) != 0) {
        free(e);
        return -1;
    }
    e->ac = ac;
    e->poll.data = e;
    ac->ev.data = e;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    return 0;
}

static char *dup_or_empty(const char *s) {
    return strdup(s ? s : "");
}

static int64_t now_ms(void) {
    return (int64_t)(bp_time_mono_ns() / 1000000u);
}

static void set_state(bp_redis_t *r, state_t s) {
    r->state = s;
    r->state_since_ms = now_ms();
}

static int push(bp_redis_t *r, bp_redis_reply_cb cb, void *privdata) {
    if (r->count == r->cap) return -1;
    pending_t *p = &r->ring[(r->head + r->count) % r->cap];
    p->sent_ms = now_ms();
    p->cb = cb;
    p->privdata = privdata;
    r->count++;
    return 0;
}

/* xorshift64*: enough to spread reconnects; seeded from the kernel's
 * randomness per link, so N processes that lost the same Redis do not come
 * back in lockstep (rand() unseeded gave every process the same jitter). */
static uint32_t next_random(bp_redis_t *r) {
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return (uint32_t)((r->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static void seed_random(bp_redis_t *r) {
    if (uv_random(NULL, NULL, &r->rng, sizeof r->rng, 0, NULL) != 0 || r->rng == 0)
        r->rng = bp_time_mono_ns() ^ ((uint64_t)uv_os_getpid() << 32) ^ (uintptr_t)r;
    if (r->rng == 0) r->rng = 0x9E3779B97F4A7C15ULL;
}

static void schedule_reconnect(bp_redis_t *r) {
    /* exponential backoff with full jitter in [backoff/2, backoff] */
    int b = r->backoff_ms;
    int jitter = b / 2 ? (int)(next_random(r) % (uint32_t)(b / 2 + 1)) : 0;
    r->next_attempt_ms = now_ms() + b / 2 + jitter;
    r->backoff_ms = b * 2 > r->o.reconnect_max_ms ? r->o.reconnect_max_ms : b * 2;
}

/* Tears the current context down. Only called from the tick (never from
 * inside a hiredis callback), so redisAsyncFree is safe here. */
static void teardown(bp_redis_t *r, const char *reason) {
    redisAsyncContext *ac = r->ac;
    bool was_up = r->state == ST_UP;
    r->ac = NULL;
    if (r->state != ST_CLOSING) set_state(r, ST_DOWN);
    if (ac) {
        ac->data = NULL;
        redisAsyncFree(ac); /* fails pending callbacks with NULL, in order */
    }
    if (was_up) {
        r->stats.disconnects++;
        bp_warn("redis %s: connection lost (%s)", r->name, reason);
        if (r->o.on_down && r->state != ST_CLOSING) r->o.on_down(r, r->o.data);
    } else if (r->state != ST_CLOSING) {
        bp_warn("redis %s: cannot connect to %s:%d (%s)", r->name, r->host, r->o.port, reason);
    }
    if (r->state != ST_CLOSING) schedule_reconnect(r);
}

static void on_internal(bp_redis_t *r, redisReply *reply, const char *what) {
    if (!reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        bp_redis_reset(r, what);
        return;
    }
    if (r->state == ST_AUTH && strcmp(what, "auth") == 0) {
        set_state(r, ST_UP);
        r->backoff_ms = 100;
        r->stats.connects++;
        bp_info("redis %s: connected to %s:%d", r->name, r->host, r->o.port);
        if (r->o.on_up) r->o.on_up(r, r->o.data);
    }
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata) {
    (void)ac;
    bp_redis_t *r = privdata;
    if (r->count == 0) return; /* cannot happen: every command was pushed */
    if (reply) r->last_reply_ms = now_ms();
    pending_t p = r->ring[r->head];
    r->head = (r->head + 1) % r->cap;
    r->count--;
    if (p.cb) p.cb(r, reply, p.privdata);
    else on_internal(r, reply, p.privdata);
}

/* Internal commands carry their name as privdata. */
static int internal(bp_redis_t *r, const char *what, int argc, const char **argv) {
    if (!r->ac || push(r, NULL, (void *)what)) return -1;
    if (redisAsyncCommandArgv(r->ac, on_reply, r, argc, argv, NULL) != REDIS_OK) {
        r->count--;
        return -1;
    }
    return 0;
}

static void on_connect(const redisAsyncContext *ac, int status) {
    bp_redis_t *r = ac->data;
    if (!r || r->ac != ac) return;
    if (status != REDIS_OK) {
        /* hiredis frees the context itself after a failed connect */
        r->ac = NULL;
        set_state(r, ST_DOWN);
        bp_warn("redis %s: cannot connect to %s:%d (%s)", r->name, r->host, r->o.port,
                ac->errstr[0] ? ac->errstr : "error");
        schedule_reconnect(r);
        return;
    }
    set_state(r, ST_AUTH);
    /* AUTH (when configured) then a PING; the PING's reply marks us up. */
    if (r->password[0]) {
        const char *argv[3] = {"AUTH", r->user, r->password};
        int argc = 3;
        if (!r->user[0]) {
            argv[1] = r->password;
            argc = 2;
        }
        if (internal(r, "auth-cmd", argc, argv)) bp_redis_reset(r, "AUTH not sent");
    }
    const char *ping[1] = {"PING"};
    if (internal(r, "auth", 1, ping)) bp_redis_reset(r, "PING not sent");
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    bp_redis_t *r = ac->data;
    (void)status;
    if (!r || r->ac != ac) return; /* a teardown we started */
    /* the peer went away; hiredis is freeing the context right now */
    bool was_up = r->state == ST_UP;
    r->ac = NULL;
    set_state(r, ST_DOWN);
    if (was_up) {
        r->stats.disconnects++;
        bp_warn("redis %s: connection closed by peer", r->name);
        if (r->o.on_down) r->o.on_down(r, r->o.data);
    }
    schedule_reconnect(r);
}

static void start_connect(bp_redis_t *r) {
    redisAsyncContext *ac = redisAsyncConnect(r->host, r->o.port);
    if (!ac) {
        schedule_reconnect(r);
        return;
    }
    if (ac->err) {
        bp_warn("redis %s: %s", r->name, ac->errstr);
        redisAsyncFree(ac);
        schedule_reconnect(r);
        return;
    }
    ac->data = r;
    if (attach(ac, r->loop) != 0) {
        redisAsyncFree(ac);
        schedule_reconnect(r);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    set_state(r, ST_CONNECTING);
}

static void on_tick(uv_timer_t *t) {
    bp_redis_t *r = t->data;
    int64_t now = now_ms();
    if (r->reset_requested) {
        r->reset_requested = false;
        if (r->ac) teardown(r, r->reset_reason);
        return;
    }
    switch (r->state) {
    case ST_DOWN:
        if (now >= r->next_attempt_ms) start_connect(r);
        break;
    case ST_CONNECTING:
        if (now - r->state_since_ms > r->o.connect_timeout_ms) {
            r->stats.timeouts++;
            teardown(r, "connect timeout");
        }
        break;
    case ST_AUTH:
        /* connected: a Redis busy with a slow fsync answers late, not never */
        if (now - r->state_since_ms > r->o.command_timeout_ms) {
            r->stats.timeouts++;
            teardown(r, "no answer to AUTH/PING within the command timeout");
        }
        break;
    case ST_UP:
        /* Dead = commands waiting and no reply at all for the command
         * timeout. Progress counts, not the age of the oldest command: a
         * long pipeline worked through under load (or a slow fsync with
         * appendfsync always) is a slow Redis, not a lost one. */
        if (r->count && now - (r->last_reply_ms > r->ring[r->head].sent_ms
                                   ? r->last_reply_ms
                                   : r->ring[r->head].sent_ms) >
                            r->o.command_timeout_ms) {
            r->stats.timeouts++;
            teardown(r, "no reply within the command timeout");
            break;
        }
        if (r->o.ping_interval_ms > 0 && now - r->last_ping_ms >= r->o.ping_interval_ms) {
            r->last_ping_ms = now;
            const char *ping[1] = {"PING"};
            internal(r, "ping", 1, ping);
        }
        break;
    case ST_CLOSING: break;
    }
}

bp_redis_t *bp_redis_create(uv_loop_t *loop, const bp_redis_opts_t *o) {
    if (!loop || !o || !o->host || o->port <= 0 || o->max_pending == 0) return NULL;
    bp_redis_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->loop = loop;
    r->o = *o;
    r->host = dup_or_empty(o->host);
    r->user = dup_or_empty(o->user);
    r->password = dup_or_empty(o->password);
    r->name = dup_or_empty(o->name ? o->name : "redis");
    r->cap = o->max_pending + 4; /* room for AUTH and PINGs */
    r->ring = calloc(r->cap, sizeof *r->ring);
    if (!r->host || !r->user || !r->password || !r->name || !r->ring) {
        free(r->host);
        free(r->user);
        free(r->password);
        free(r->name);
        free(r->ring);
        free(r);
        return NULL;
    }
    if (r->o.connect_timeout_ms <= 0) r->o.connect_timeout_ms = 2000;
    if (r->o.command_timeout_ms <= 0) r->o.command_timeout_ms = 5000;
    if (r->o.reconnect_max_ms <= 0) r->o.reconnect_max_ms = 5000;
    r->backoff_ms = 100;
    seed_random(r);
    uv_timer_init(loop, &r->tick);
    r->tick.data = r;
    set_state(r, ST_DOWN);
    start_connect(r);
    uv_timer_start(&r->tick, on_tick, TICK_MS, TICK_MS);
    return r;
}

static void on_tick_closed(uv_handle_t *h) {
    bp_redis_t *r = h->data;
    void (*cb)(void *) = r->on_closed;
    void *data = r->closed_data;
    free(r->host);
    free(r->user);
    free(r->password);
    free(r->name);
    free(r->ring);
    free(r);
    if (cb) cb(data);
}

void bp_redis_close(bp_redis_t *r, void (*on_closed)(void *), void *data) {
    if (!r) {
        if (on_closed) on_closed(data);
        return;
    }
    r->on_closed = on_closed;
    r->closed_data = data;
    set_state(r, ST_CLOSING);
    teardown(r, "closing");
    uv_timer_stop(&r->tick);
    uv_close((uv_handle_t *)&r->tick, on_tick_closed);
}

bool bp_redis_up(const bp_redis_t *r) {
    return r && r->state == ST_UP && !r->reset_requested;
}

void *bp_redis_data(const bp_redis_t *r) {
    return r->o.data;
}

void bp_redis_stats(const bp_redis_t *r, bp_redis_stats_t *out) {
    *out = r->stats;
    out->pending = r->count;
}

int bp_redis_command_argv(bp_redis_t *r, bp_redis_reply_cb cb, void *privdata, int argc,
                          const char **argv, const size_t *argvlen) {
    if (!bp_redis_up(r) || r->count >= r->o.max_pending) return -1;
    if (push(r, cb, privdata)) return -1;
    if (redisAsyncCommandArgv(r->ac, on_reply, r, argc, argv, argvlen) != REDIS_OK) {
        r->count--;
        return -1;
    }
    r->stats.commands++;
    return 0;
}

int bp_redis_command(bp_redis_t *r, bp_redis_reply_cb cb, void *privdata, const char *fmt, ...) {
    if (!bp_redis_up(r) || r->count >= r->o.max_pending) return -1;
    if (push(r, cb, privdata)) return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAsyncCommand(r->ac, on_reply, r, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK) {
        r->count--;
        return -1;
    }
    r->stats.commands++;
    return 0;
}

void bp_redis_reset(bp_redis_t *r, const char *reason) {
    if (!r || r->state == ST_CLOSING) return;
    r->reset_requested = true;
    snprintf(r->reset_reason, sizeof r->reset_reason, "%s", reason ? reason : "reset");
}

bp_redis_opts_t bp_redis_opts(const struct bp_settings *s, const char *name) {
    return (bp_redis_opts_t){
        .name = name,
        .host = s->redis_host,
        .port = s->redis_port,
        .user = s->redis_user,
        .password = s->redis_password,
        .connect_timeout_ms = s->redis_connect_timeout_ms,
        .ping_interval_ms = s->redis_ping_interval_ms,
        .command_timeout_ms = s->redis_command_timeout_ms,
        .reconnect_max_ms = s->redis_reconnect_max_ms,
    };
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
    for (size_t i = 0; i < n; i++) bp_redis_close(links[i], closer_part, c);
}
