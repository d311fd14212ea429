/*
 * Inside one Redis link (io/bp_redis.c, io/bp_redis_sentinel.c): the link's
 * state and the calls the two files make into each other. Not for callers
 * of bp_redis.h.
 *
 * Three files, one way down: bp_redis_drive.c (create, close, the tick)
 * -> bp_redis_sentinel.c (Sentinel discovery: the one connection to a
 * sentinel that asks for the master and watches +switch-master, and where
 * the next attempt connects) -> bp_redis.c (the connection: the
 * hiredis-on-libuv adapter, the command FIFO, connect/AUTH/ROLE, teardown
 * and reconnect backoff, the command API, and the blocking connect for
 * command-line tools).
 */
#ifndef BP_REDIS_INT_H
#define BP_REDIS_INT_H

#include "bp_redis.h"
#include "bp_sentinel.h"

#include <hiredis/async.h>
#include <stdbool.h>
#include <stdint.h>

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

/* bp_redis.c: the connection */
int64_t bp_redis_now_ms(void);
void bp_redis_set_state(bp_redis_t *r, state_t s);
void bp_redis_schedule_reconnect(bp_redis_t *r);
void bp_redis_start_connect(bp_redis_t *r);
/* Puts a hiredis context on r's loop: 0, or -1. */
int bp_redis_attach(redisAsyncContext *ac, uv_loop_t *loop);
/* Drops the connection (its callers fail in order) and plans the next. */
void bp_redis_teardown(bp_redis_t *r, const char *reason);
/* Sends one of the link's own commands (AUTH, ROLE, PING). */
int bp_redis_internal(bp_redis_t *r, const char *what, int argc, const char **argv);

/* bp_redis_sentinel.c: discovery */
/* One connection attempt: straight to the address when it is known fresh
 * (or fixed), else ask the sentinels first. */
void bp_redis_attempt(bp_redis_t *r);
/* Frees the sentinel connection. Never from inside one of its callbacks. */
void bp_redis_sentinel_free(bp_redis_t *r);
/* The sentinel side of the periodic tick. */
void bp_redis_sentinel_tick(bp_redis_t *r, int64_t now);

#endif
