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
 * +switch-master (io/bp_redis_sentinel.c; the link's state is in
 * bp_redis_int.h). Contexts are freed only from the tick (or on close),
 * never from inside their own callbacks: hiredis 0.14 frees a context
 * under our feet if that happens in a connect callback.
 */
#include "bp_redis.h"
#include "bp_redis_int.h"
#include "bp_log.h"
#include "bp_sentinel.h"
#include "bp_settings.h"
#include "bp_time.h"

#include <hiredis/async.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

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

int bp_redis_attach(redisAsyncContext *ac, uv_loop_t *loop) {
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

int64_t bp_redis_now_ms(void) {
    return (int64_t)(bp_time_mono_ns() / 1000000u);
}

void bp_redis_set_state(bp_redis_t *r, state_t s) {
    r->state = s;
    r->state_since_ms = bp_redis_now_ms();
}

static int push(bp_redis_t *r, bp_redis_reply_cb cb, void *privdata, const char *internal) {
    if (r->count == r->cap) return -1;
    pending_t *p = &r->ring[(r->head + r->count) % r->cap];
    p->sent_ms = bp_redis_now_ms();
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

void bp_redis_schedule_reconnect(bp_redis_t *r) {
    /* exponential backoff with full jitter in [backoff/2, backoff] */
    int b = r->backoff_ms;
    int jitter = b / 2 ? (int)(next_random(r) % (uint32_t)(b / 2 + 1)) : 0;
    r->next_attempt_ms = bp_redis_now_ms() + b / 2 + jitter;
    r->backoff_ms = b * 2 > r->o.reconnect_max_ms ? r->o.reconnect_max_ms : b * 2;
}

/* Tears the current context down. Only called from the tick (never from
 * inside a hiredis callback), so redisAsyncFree is safe here. */
void bp_redis_teardown(bp_redis_t *r, const char *reason) {
    redisAsyncContext *ac = r->ac;
    bool was_up = r->state == ST_UP;
    r->ac = NULL;
    if (r->state != ST_CLOSING) bp_redis_set_state(r, ST_DOWN);
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
    if (r->state != ST_CLOSING) bp_redis_schedule_reconnect(r);
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
        bp_redis_set_state(r, ST_UP);
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
    if (reply) r->last_reply_ms = bp_redis_now_ms();
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
int bp_redis_internal(bp_redis_t *r, const char *what, int argc, const char **argv) {
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
        bp_redis_set_state(r, ST_DOWN);
        bp_warn("redis %s: cannot connect to %s:%d (%s)", r->name, r->host, r->port,
                ac->errstr[0] ? ac->errstr : "error");
        bp_redis_schedule_reconnect(r);
        return;
    }
    bp_redis_set_state(r, ST_AUTH);
    /* AUTH (when configured), ROLE (with sentinels: is it the master?),
     * then a PING; the PING's reply marks us up. */
    if (r->password[0]) {
        const char *argv[3] = {"AUTH", r->user, r->password};
        int argc = 3;
        if (!r->user[0]) {
            argv[1] = r->password;
            argc = 2;
        }
        if (bp_redis_internal(r, "auth-cmd", argc, argv)) bp_redis_reset(r, "AUTH not sent");
    }
    const char *role[1] = {"ROLE"};
    if (r->sentinel && bp_redis_internal(r, "role", 1, role)) bp_redis_reset(r, "ROLE not sent");
    const char *ping[1] = {"PING"};
    if (bp_redis_internal(r, "auth", 1, ping)) bp_redis_reset(r, "PING not sent");
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    bp_redis_t *r = ac->data;
    (void)status;
    if (!r || r->ac != ac) return; /* a teardown we started */
    /* the peer went away; hiredis is freeing the context right now */
    bool was_up = r->state == ST_UP;
    r->ac = NULL;
    r->addr[0] = '\0';
    bp_redis_set_state(r, ST_DOWN);
    if (was_up) {
        r->stats.disconnects++;
        bp_warn("redis %s: connection closed by peer", r->name);
        if (r->o.on_down) r->o.on_down(r, r->o.data);
    }
    bp_redis_schedule_reconnect(r);
}

/* A connection that failed at once: down, and try again later (from any
 * state, also ST_RESOLVING when a sentinel's answer could not be used). */
static void connect_failed(bp_redis_t *r) {
    bp_redis_set_state(r, ST_DOWN);
    bp_redis_schedule_reconnect(r);
}

void bp_redis_start_connect(bp_redis_t *r) {
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
    if (bp_redis_attach(ac, r->loop) != 0) {
        redisAsyncFree(ac);
        connect_failed(r);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    bp_redis_set_state(r, ST_CONNECTING);
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
