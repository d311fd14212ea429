/*
 * Sentinel discovery for a Redis link (bp_redis_int.h): one connection to
 * one sentinel at a time asks for the master's address and then stays
 * subscribed to +switch-master; an answer or a switch moves the link
 * (bp_redis.c connects). Contexts are freed only from the tick (or on
 * close), never from inside their own callbacks.
 */
#include "bp_log.h"
#include "bp_redis_int.h"

#include <stdio.h>
#include <string.h>

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
void bp_redis_sentinel_free(bp_redis_t *r) {
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
        bp_redis_start_connect(r);
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
        r->next_attempt_ms = bp_redis_now_ms();
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
    if (r->state == ST_UP) r->sc_next_ms = bp_redis_now_ms() + r->backoff_ms;
}

/* Opens sc to sentinel i with its three commands queued. Leaves sc NULL
 * when that fails at once (the tick goes on with the next). */
static void sc_open(bp_redis_t *r, int i) {
    const bp_sentinel_addr_t *s = &r->sentinels.addr[i];
    redisAsyncContext *ac = redisAsyncConnect(s->host, s->port);
    if (!ac) return;
    if (ac->err || bp_redis_attach(ac, r->loop) != 0) {
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
    r->sc_since_ms = bp_redis_now_ms();
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
        bp_redis_set_state(r, ST_DOWN);
        bp_redis_schedule_reconnect(r);
    } else {
        r->sc_next_ms = bp_redis_now_ms() + r->o.reconnect_max_ms;
    }
}

/* One connection attempt: straight to the address when it is known fresh
 * (or fixed), else ask the sentinels first, on a fresh connection. */
void bp_redis_attempt(bp_redis_t *r) {
    if (!r->sentinel || r->addr_fresh) {
        r->addr_fresh = false;
        bp_redis_start_connect(r);
        return;
    }
    bp_redis_sentinel_free(r);
    bp_sentinel_restart(&r->sentinels);
    bp_redis_set_state(r, ST_RESOLVING);
    ask_next(r);
}

void bp_redis_sentinel_tick(bp_redis_t *r, int64_t now) {
    char name[BP_SENTINEL_HOST_MAX + 16];
    if (r->sc_close) bp_redis_sentinel_free(r);
    if (r->sc && !r->sc_watching && now - r->sc_since_ms > r->o.connect_timeout_ms) {
        bp_warn("redis %s: sentinel %s did not answer within the connect timeout", r->name,
                sc_name(r, name, sizeof name));
        bp_redis_sentinel_free(r);
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
