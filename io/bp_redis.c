/*
 * Resilient hiredis link. One periodic tick drives everything that hiredis
 * will not: connect timeout, command timeout, heartbeat, deferred resets and
 * reconnect attempts. Commands go through one trampoline whose privdata is
 * the link; a FIFO of (sent time, callback, privdata) matches replies to
 * callers, which works because Redis answers in order and hiredis fails the
 * remaining callbacks in order when a context is freed.
 *
 * With sentinels, a second context talks to one sentinel at a time: it
 * asks for the master's address and then stays subscribed to
 * +switch-master. Contexts are freed only from the tick (or on close),
 * never from inside their own callbacks: hiredis 0.14 frees a context
 * under our feet if that happens in a connect callback.
 */
#include "bp_redis.h"
#include "bp_log.h"
#include "bp_sentinel.h"
#include "bp_settings.h"
#include "bp_time.h"

#include <hiredis/async.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 50

typedef enum { ST_DOWN, ST_RESOLVING, ST_CONNECTING, ST_AUTH, ST_UP, ST_CLOSING } state_t;

typedef struct {
    int64_t sent_ms;
    bp_redis_reply_cb cb; /* NULL: no one waits for the reply */
    void *privdata;
    const char *internal; /* AUTH, ROLE, PING: what it is, else NULL */
} pending_t;

struct bp_redis {
    uv_loop_t *loop;
    uv_timer_t tick;
    redisAsyncContext *ac;
    state_t state;
    bp_redis_opts_t o;
    char *user, *password, *name;
    char host[BP_SENTINEL_HOST_MAX + 1]; /* the server to connect to */
    int port;
    char addr[BP_SENTINEL_HOST_MAX + 16]; /* "host:port" while connected, else "" */
    char last_master[BP_SENTINEL_HOST_MAX + 16];
    /* Sentinel: where to ask, and the one connection to a sentinel (asking,
     * then watching +switch-master) */
    bool sentinel;
    bp_sentinel_list_t sentinels;
    char *master_name, *sentinel_password;
    redisAsyncContext *sc;
    int sc_index;        /* which sentinel sc talks to */
    int64_t sc_since_ms; /* opened at */
    bool sc_watching;    /* subscribed to +switch-master */
    bool sc_close;       /* free sc at the next tick (it cannot help) */
    bool addr_fresh;     /* host/port just came from a sentinel: connect without asking */
    int64_t sc_next_ms;  /* while connected without a watcher: when to open one */
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
    if (events)
        uv_poll_start(&e->poll, events, on_poll);
    else
        uv_poll_stop(&e->poll);
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

static int push(bp_redis_t *r, bp_redis_reply_cb cb, void *privdata, const char *internal) {
    if (r->count == r->cap) return -1;
    pending_t *p = &r->ring[(r->head + r->count) % r->cap];
    p->sent_ms = now_ms();
    p->cb = cb;
    p->privdata = privdata;
    p->internal = internal;
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
        bp_warn("redis %s: cannot connect to %s:%d (%s)", r->name, r->host, r->port, reason);
    }
    r->addr[0] = '\0';
    if (r->state != ST_CLOSING) schedule_reconnect(r);
}

static void on_internal(bp_redis_t *r, redisReply *reply, const char *what) {
    if (!reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        bp_warn("redis %s: %s refused by %s:%d: %s", r->name, what, r->host, r->port, reply->str);
        bp_redis_reset(r, what);
        return;
    }
    if (strcmp(what, "role") == 0) {
        /* ROLE: ["master", offset, replicas] on a master */
        const redisReply *e =
            reply->type == REDIS_REPLY_ARRAY && reply->elements ? reply->element[0] : NULL;
        bool master = e && (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) &&
                      bp_sentinel_role_is_master(e->str, e->len);
        if (!master) {
            bp_warn("redis %s: %s:%d is not a master (ROLE %s); asking the sentinels again",
                    r->name, r->host, r->port, e && e->str ? e->str : "?");
            r->addr_fresh = false;
            bp_redis_reset(r, "not a master");
        }
        return;
    }
    if (r->state == ST_AUTH && strcmp(what, "auth") == 0 && !r->reset_requested) {
        set_state(r, ST_UP);
        r->backoff_ms = 100;
        r->stats.connects++;
        snprintf(r->addr, sizeof r->addr, "%s:%d", r->host, r->port);
        if (r->last_master[0] && strcmp(r->last_master, r->addr) != 0) r->stats.master_changes++;
        snprintf(r->last_master, sizeof r->last_master, "%s", r->addr);
        bp_info("redis %s: connected to %s%s", r->name, r->addr,
                r->sentinel ? " (the master, as the sentinels say and ROLE confirms)" : "");
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
    const redisReply *rr = reply;
    if (rr && rr->type == REDIS_REPLY_ERROR && bp_sentinel_error_wants_master(rr->str, rr->len)) {
        /* a replica, or a master still loading: find the master again */
        char why[64];
        snprintf(why, sizeof why, "%.60s", rr->str);
        r->addr_fresh = false;
        bp_redis_reset(r, why);
    }
    if (p.internal)
        on_internal(r, reply, p.internal);
    else if (p.cb)
        p.cb(r, reply, p.privdata);
}

/* Internal commands carry their name. */
static int internal(bp_redis_t *r, const char *what, int argc, const char **argv) {
    if (!r->ac || push(r, NULL, NULL, what)) return -1;
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
        bp_warn("redis %s: cannot connect to %s:%d (%s)", r->name, r->host, r->port,
                ac->errstr[0] ? ac->errstr : "error");
        schedule_reconnect(r);
        return;
    }
    set_state(r, ST_AUTH);
    /* AUTH (when configured), ROLE (with sentinels: is it the master?),
     * then a PING; the PING's reply marks us up. */
    if (r->password[0]) {
        const char *argv[3] = {"AUTH", r->user, r->password};
        int argc = 3;
        if (!r->user[0]) {
            argv[1] = r->password;
            argc = 2;
        }
        if (internal(r, "auth-cmd", argc, argv)) bp_redis_reset(r, "AUTH not sent");
    }
    const char *role[1] = {"ROLE"};
    if (r->sentinel && internal(r, "role", 1, role)) bp_redis_reset(r, "ROLE not sent");
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
    r->addr[0] = '\0';
    set_state(r, ST_DOWN);
    if (was_up) {
        r->stats.disconnects++;
        bp_warn("redis %s: connection closed by peer", r->name);
        if (r->o.on_down) r->o.on_down(r, r->o.data);
    }
    schedule_reconnect(r);
}

/* A connection that failed at once: down, and try again later (from any
 * state, also ST_RESOLVING when a sentinel's answer could not be used). */
static void connect_failed(bp_redis_t *r) {
    set_state(r, ST_DOWN);
    schedule_reconnect(r);
}

static void start_connect(bp_redis_t *r) {
    redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
    if (!ac) {
        connect_failed(r);
        return;
    }
    if (ac->err) {
        bp_warn("redis %s: %s", r->name, ac->errstr);
        redisAsyncFree(ac);
        connect_failed(r);
        return;
    }
    ac->data = r;
    if (attach(ac, r->loop) != 0) {
        redisAsyncFree(ac);
        connect_failed(r);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    set_state(r, ST_CONNECTING);
}

/* -- Sentinel -----------------------------------------------------------------
 * sc asks one sentinel: AUTH (optional), SENTINEL get-master-addr-by-name,
 * SUBSCRIBE +switch-master, pipelined (a sentinel runs them back to back,
 * so no switch can fall between the answer and the subscription). The
 * regular replies come first, then the subscription's messages. */

static bp_redis_t *sc_owner(const redisAsyncContext *ac, void *privdata) {
    bp_redis_t *r = privdata ? privdata : ac->data;
    return r && ac->data == r && r->sc == ac ? r : NULL;
}

/* Frees sc. Never from inside one of its callbacks (the tick, close). */
static void sc_free(bp_redis_t *r) {
    redisAsyncContext *ac = r->sc;
    r->sc = NULL;
    r->sc_watching = false;
    r->sc_close = false;
    if (ac) {
        ac->data = NULL; /* its callbacks, failed now with NULL, are stale */
        redisAsyncFree(ac);
    }
}

static const char *sc_name(bp_redis_t *r, char *buf, size_t len) {
    bp_sentinel_addr_format(&r->sentinels.addr[r->sc_index], buf, len);
    return buf;
}

/* An address from a sentinel (its answer, or +switch-master). */
static void use_address(bp_redis_t *r, const bp_sentinel_addr_t *a, const char *via) {
    bool same = strcmp(r->host, a->host) == 0 && r->port == a->port;
    switch (r->state) {
    case ST_RESOLVING:
        snprintf(r->host, sizeof r->host, "%s", a->host);
        r->port = a->port;
        bp_debug("redis %s: %s names the master %s:%d", r->name, via, r->host, r->port);
        start_connect(r);
        break;
    case ST_CONNECTING:
    case ST_AUTH:
    case ST_UP:
        if (same) break;
        bp_warn("redis %s: %s names the master %s:%d, not %s:%d: moving there", r->name, via,
                a->host, a->port, r->host, r->port);
        snprintf(r->host, sizeof r->host, "%s", a->host);
        r->port = a->port;
        r->addr_fresh = true;
        r->backoff_ms = 100;
        bp_redis_reset(r, "the master moved");
        break;
    case ST_DOWN:
        snprintf(r->host, sizeof r->host, "%s", a->host);
        r->port = a->port;
        r->addr_fresh = true;
        r->backoff_ms = 100;
        r->next_attempt_ms = now_ms();
        break;
    case ST_CLOSING: break;
    }
}

static void sc_on_addr(redisAsyncContext *ac, void *reply, void *privdata) {
    bp_redis_t *r = sc_owner(ac, privdata);
    const redisReply *rep = reply;
    if (!r || !rep) return;
    bp_sentinel_addr_t a;
    char name[BP_SENTINEL_HOST_MAX + 16];
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_STRING &&
        bp_sentinel_addr_parse(rep->element[0]->str, rep->element[0]->len, rep->element[1]->str,
                               rep->element[1]->len, &a) == 0) {
        bp_sentinel_answered(&r->sentinels, r->sc_index);
        use_address(r, &a, sc_name(r, name, sizeof name));
        return;
    }
    bp_warn("redis %s: sentinel %s does not name a master \"%s\" (%s)", r->name,
            sc_name(r, name, sizeof name), r->master_name,
            rep->type == REDIS_REPLY_ERROR ? rep->str
            : rep->type == REDIS_REPLY_NIL ? "it does not monitor it"
                                           : "unexpected reply");
    r->sc_close = true; /* the tick asks the next one */
}

static void sc_on_message(redisAsyncContext *ac, void *reply, void *privdata) {
    bp_redis_t *r = sc_owner(ac, privdata);
    const redisReply *rep = reply;
    if (!r || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = rep->element[0]->str;
    if (strcmp(kind, "subscribe") == 0) {
        r->sc_watching = true;
        return;
    }
    const redisReply *msg = rep->element[2];
    bp_sentinel_addr_t a;
    if (strcmp(kind, "message") == 0 && msg->type == REDIS_REPLY_STRING &&
        bp_sentinel_switch_parse(msg->str, msg->len, r->master_name, &a) == 0) {
        bp_info("redis %s: failover: +switch-master names %s:%d", r->name, a.host, a.port);
        use_address(r, &a, "+switch-master");
    }
}

static void sc_on_auth(redisAsyncContext *ac, void *reply, void *privdata) {
    bp_redis_t *r = sc_owner(ac, privdata);
    const redisReply *rep = reply;
    char name[BP_SENTINEL_HOST_MAX + 16];
    if (r && rep && rep->type == REDIS_REPLY_ERROR)
        bp_warn("redis %s: sentinel %s refused redis.sentinel_password: %s", r->name,
                sc_name(r, name, sizeof name), rep->str);
}

static void sc_on_connect(const redisAsyncContext *ac, int status) {
    bp_redis_t *r = sc_owner(ac, NULL);
    if (!r || status == REDIS_OK) return;
    char name[BP_SENTINEL_HOST_MAX + 16];
    bp_warn("redis %s: cannot reach sentinel %s (%s)", r->name, sc_name(r, name, sizeof name),
            ac->errstr[0] ? ac->errstr : "error");
    r->sc = NULL; /* hiredis frees it after this callback */
    r->sc_watching = false;
}

static void sc_on_disconnect(const redisAsyncContext *ac, int status) {
    (void)status;
    bp_redis_t *r = sc_owner(ac, NULL);
    if (!r) return;
    r->sc = NULL; /* hiredis is freeing it */
    r->sc_watching = false;
    if (r->state == ST_UP) r->sc_next_ms = now_ms() + r->backoff_ms;
}

/* Opens sc to sentinel i with its three commands queued. Leaves sc NULL
 * when that fails at once (the tick goes on with the next). */
static void sc_open(bp_redis_t *r, int i) {
    const bp_sentinel_addr_t *s = &r->sentinels.addr[i];
    redisAsyncContext *ac = redisAsyncConnect(s->host, s->port);
    if (!ac) return;
    if (ac->err || attach(ac, r->loop) != 0) {
        bp_warn("redis %s: cannot reach sentinel %s:%d (%s)", r->name, s->host, s->port,
                ac->err ? ac->errstr : "no memory");
        redisAsyncFree(ac);
        return;
    }
    ac->data = r;
    redisAsyncSetConnectCallback(ac, sc_on_connect);
    redisAsyncSetDisconnectCallback(ac, sc_on_disconnect);
    r->sc = ac;
    r->sc_index = i;
    r->sc_since_ms = now_ms();
    r->sc_watching = false;
    int rc = REDIS_OK;
    if (r->sentinel_password[0])
        rc |= redisAsyncCommand(ac, sc_on_auth, r, "AUTH %s", r->sentinel_password);
    rc |=
        redisAsyncCommand(ac, sc_on_addr, r, "SENTINEL get-master-addr-by-name %s", r->master_name);
    rc |= redisAsyncCommand(ac, sc_on_message, r, "SUBSCRIBE +switch-master");
    if (rc != REDIS_OK) r->sc_close = true;
}

/* Asks the next sentinel of this round; when every one was asked, the
 * round is over: back off (resolving) or try again later (watching). */
static void ask_next(bp_redis_t *r) {
    int i = bp_sentinel_next(&r->sentinels);
    if (i >= 0) {
        sc_open(r, i);
        return;
    }
    bp_sentinel_restart(&r->sentinels);
    if (r->state == ST_RESOLVING) {
        bp_warn("redis %s: no sentinel named a master \"%s\"; asking again later", r->name,
                r->master_name);
        set_state(r, ST_DOWN);
        schedule_reconnect(r);
    } else {
        r->sc_next_ms = now_ms() + r->o.reconnect_max_ms;
    }
}

/* One connection attempt: straight to the address when it is known fresh
 * (or fixed), else ask the sentinels first, on a fresh connection. */
static void attempt(bp_redis_t *r) {
    if (!r->sentinel || r->addr_fresh) {
        r->addr_fresh = false;
        start_connect(r);
        return;
    }
    sc_free(r);
    bp_sentinel_restart(&r->sentinels);
    set_state(r, ST_RESOLVING);
    ask_next(r);
}

static void sentinel_tick(bp_redis_t *r, int64_t now) {
    char name[BP_SENTINEL_HOST_MAX + 16];
    if (r->sc_close) sc_free(r);
    if (r->sc && !r->sc_watching && now - r->sc_since_ms > r->o.connect_timeout_ms) {
        bp_warn("redis %s: sentinel %s did not answer within the connect timeout", r->name,
                sc_name(r, name, sizeof name));
        sc_free(r);
    }
    if (r->sc) return;
    if (r->state == ST_RESOLVING) {
        ask_next(r);
    } else if ((r->state == ST_UP || r->state == ST_AUTH || r->state == ST_CONNECTING) &&
               now >= r->sc_next_ms) {
        /* connected without a watcher (its sentinel went away): watch again,
         * and move if the answer is another master */
        ask_next(r);
    }
}

static void on_tick(uv_timer_t *t) {
    bp_redis_t *r = t->data;
    int64_t now = now_ms();
    if (r->reset_requested) {
        r->reset_requested = false;
        if (r->ac) teardown(r, r->reset_reason);
        return;
    }
    if (r->sentinel) sentinel_tick(r, now);
    switch (r->state) {
    case ST_DOWN:
        if (now >= r->next_attempt_ms) attempt(r);
        break;
    case ST_RESOLVING: break; /* sentinel_tick */
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
        if (r->count &&
            now - (r->last_reply_ms > r->ring[r->head].sent_ms ? r->last_reply_ms
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
        free(r->user);
        free(r->password);
        free(r->name);
        free(r->master_name);
        free(r->sentinel_password);
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
    attempt(r);
    uv_timer_start(&r->tick, on_tick, TICK_MS, TICK_MS);
    return r;
}

static void on_tick_closed(uv_handle_t *h) {
    bp_redis_t *r = h->data;
    void (*cb)(void *) = r->on_closed;
    void *data = r->closed_data;
    free(r->user);
    free(r->password);
    free(r->name);
    free(r->master_name);
    free(r->sentinel_password);
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
    sc_free(r);
    uv_timer_stop(&r->tick);
    uv_close((uv_handle_t *)&r->tick, on_tick_closed);
}

bool bp_redis_up(const bp_redis_t *r) {
    return r && r->state == ST_UP && !r->reset_requested;
}

const char *bp_redis_addr(const bp_redis_t *r) {
    return bp_redis_up(r) ? r->addr : "";
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
    if (push(r, cb, privdata, NULL)) return -1;
    if (redisAsyncCommandArgv(r->ac, on_reply, r, argc, argv, argvlen) != REDIS_OK) {
        r->count--;
        return -1;
    }
    r->stats.commands++;
    return 0;
}

int bp_redis_command(bp_redis_t *r, bp_redis_reply_cb cb, void *privdata, const char *fmt, ...) {
    if (!bp_redis_up(r) || r->count >= r->o.max_pending) return -1;
    if (push(r, cb, privdata, NULL)) return -1;
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
        .sentinels = s->redis_sentinels,
        .master_name = s->redis_master_name,
        .sentinel_password = s->redis_sentinel_password,
    };
}

/* -- blocking, for command-line tools ------------------------------------------ */

static redisContext *sync_connect(const char *host, int port, const bp_settings_t *s,
                                  const char *user, const char *password, char *err,
                                  size_t err_len) {
    struct timeval tv = {s->redis_connect_timeout_ms / 1000,
                         (s->redis_connect_timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        snprintf(err, err_len, "cannot reach %s:%d: %s", host, port, c ? c->errstr : "no memory");
        if (c) redisFree(c);
        return NULL;
    }
    struct timeval ctv = {s->redis_command_timeout_ms / 1000,
                          (s->redis_command_timeout_ms % 1000) * 1000};
    redisSetTimeout(c, ctv);
    if (password && password[0]) {
        redisReply *r = user && user[0] ? redisCommand(c, "AUTH %s %s", user, password)
                                        : redisCommand(c, "AUTH %s", password);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r) freeReplyObject(r);
        if (!ok) {
            snprintf(err, err_len, "%s:%d refused the password", host, port);
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

redisContext *bp_redis_connect_sync(const bp_settings_t *s, char *err, size_t err_len) {
    if (!s->redis_sentinels[0])
        return sync_connect(s->redis_host, s->redis_port, s, s->redis_user, s->redis_password, err,
                            err_len);
    bp_sentinel_list_t l;
    bp_error_t e;
    if (bp_sentinel_list_parse(&l, s->redis_sentinels, &e)) {
        snprintf(err, err_len, "%s", e.message);
        return NULL;
    }
    char why[512] = "no sentinel answered";
    for (int i; (i = bp_sentinel_next(&l)) >= 0;) {
        const bp_sentinel_addr_t *sa = &l.addr[i];
        redisContext *sc =
            sync_connect(sa->host, sa->port, s, NULL, s->redis_sentinel_password, why, sizeof why);
        if (!sc) continue;
        redisReply *r =
            redisCommand(sc, "SENTINEL get-master-addr-by-name %s", s->redis_master_name);
        bp_sentinel_addr_t m;
        bool named = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                     r->element[0]->type == REDIS_REPLY_STRING &&
                     r->element[1]->type == REDIS_REPLY_STRING &&
                     bp_sentinel_addr_parse(r->element[0]->str, r->element[0]->len,
                                            r->element[1]->str, r->element[1]->len, &m) == 0;
        if (!named)
            snprintf(why, sizeof why, "sentinel %.100s:%d does not name a master \"%s\" (%.100s)",
                     sa->host, sa->port, s->redis_master_name,
                     !r                             ? sc->errstr
                     : r->type == REDIS_REPLY_ERROR ? r->str
                                                    : "not monitored");
        if (r) freeReplyObject(r);
        redisFree(sc);
        if (!named) continue;
        redisContext *c =
            sync_connect(m.host, m.port, s, s->redis_user, s->redis_password, why, sizeof why);
        if (!c) continue;
        r = redisCommand(c, "ROLE");
        bool master = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                      r->element[0]->type == REDIS_REPLY_STRING &&
                      bp_sentinel_role_is_master(r->element[0]->str, r->element[0]->len);
        if (r) freeReplyObject(r);
        if (master) return c;
        snprintf(why, sizeof why, "%.100s:%d, named by sentinel %.100s:%d, is not a master", m.host,
                 m.port, sa->host, sa->port);
        redisFree(c);
    }
    snprintf(err, err_len, "no master \"%s\" found through redis.sentinels: %s",
             s->redis_master_name, why);
    return NULL;
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
