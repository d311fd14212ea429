/*
 * A Redis connection that stays usable: hiredis' async context on our libuv
 * loop, with what hiredis 0.14 does not do for us — a connect timeout, a
 * PING heartbeat, a per-command timeout, AUTH, reconnection with jittered
 * exponential backoff, and Redis Sentinel. (Its libuv adapter ignores poll
 * errors, so a dead peer is only noticed by a reply that does not come.)
 *
 * With sentinels (opts.sentinels), the link never connects to a fixed
 * address: before every connection it asks the sentinels in turn for the
 * master (SENTINEL get-master-addr-by-name), confirms with ROLE that the
 * address is a master, and keeps that sentinel connection subscribed to
 * +switch-master: a failover moves the link at once. It asks again after
 * any disconnect and after a READONLY, LOADING or MASTERDOWN error reply
 * (the server it talks to is not the master now). So the link never writes
 * to a replica: it is up only while connected to a server that said it is
 * the master.
 *
 * Every command's callback fires exactly once: with the reply, or with NULL
 * when the connection is lost or the link is closed. A command is refused
 * (-1, callback not called) when the link is not up or max_pending commands
 * are already waiting — the caller answers "unavailable" itself.
 *
 * Replies (and the strings inside them) are valid only during the callback.
 */
#ifndef BP_REDIS_H
#define BP_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct bp_redis bp_redis_t;

typedef void (*bp_redis_reply_cb)(bp_redis_t *r, redisReply *reply, void *privdata);
typedef void (*bp_redis_event_cb)(bp_redis_t *r, void *data);

typedef struct {
    const char *name; /* for logs: "apply", "stream" */
    const char *host;
    int port;
    const char *user;     /* "" or NULL: no ACL user */
    const char *password; /* "" or NULL: no AUTH */
    int connect_timeout_ms;
    int ping_interval_ms;   /* 0: no heartbeat (for connections that block) */
    int command_timeout_ms; /* commands waiting and no reply at all for this long: dead */
    int reconnect_max_ms;
    size_t max_pending;
    /* Sentinel: "host:port,..." (then host and port are not used), the
     * master's name there, and the sentinels' own password ("" or NULL: none) */
    const char *sentinels;
    const char *master_name;
    const char *sentinel_password;
    bp_redis_event_cb on_up;   /* connected and authenticated (and a master, with sentinels) */
    bp_redis_event_cb on_down; /* lost (after on_up); pending callbacks already got NULL */
    void *data;
} bp_redis_opts_t;

typedef struct {
    uint64_t connects;    /* successful connections */
    uint64_t disconnects; /* connections lost after being up */
    uint64_t timeouts;    /* connect or command timeouts */
    uint64_t commands;
    uint64_t master_changes; /* connected to another master than before (failovers) */
    size_t pending;
} bp_redis_stats_t;

/* Options for a link to the Redis of the settings (address or sentinels,
 * ACL user and password, timeouts, backoff); the caller adds max_pending,
 * callbacks and data. Strings point into s. */
struct bp_settings;
bp_redis_opts_t bp_redis_opts(const struct bp_settings *s, const char *name);

/* Closes a timer and Redis links together and calls done(data) once every
 * one is released (to free what owns them). The timer's data is used. */
void bp_redis_close_with(uv_timer_t *timer, bp_redis_t *const *links, size_t n,
                         void (*done)(void *), void *data);

/* Creates the link and starts connecting. Strings in opts are copied.
 * NULL on bad options or no memory. */
bp_redis_t *bp_redis_create(uv_loop_t *loop, const bp_redis_opts_t *opts);

/* Fails all pending commands (callbacks with NULL), closes the connection
 * and frees the link once libuv has released its handles; on_closed (may be
 * NULL) is called then. The loop must keep running until it is. */
void bp_redis_close(bp_redis_t *r, void (*on_closed)(void *), void *data);

bool bp_redis_up(const bp_redis_t *r);
/* The address of the server the link is connected to ("host:port"), "" when
 * it is not connected. Two links with the same address talk to one server. */
const char *bp_redis_addr(const bp_redis_t *r);
void *bp_redis_data(const bp_redis_t *r);
void bp_redis_stats(const bp_redis_t *r, bp_redis_stats_t *out);

/* Queue a command. 0 when queued, -1 when refused (see above). */
int bp_redis_command(bp_redis_t *r, bp_redis_reply_cb cb, void *privdata, const char *fmt, ...);
int bp_redis_command_argv(bp_redis_t *r, bp_redis_reply_cb cb, void *privdata, int argc,
                          const char **argv, const size_t *argvlen);

/* Drops the connection now (as if it had died) and reconnects with backoff.
 * Used when a reply shows the link cannot be trusted. Safe inside callbacks. */
void bp_redis_reset(bp_redis_t *r, const char *reason);

/* A blocking connection to the master of the settings, for command-line
 * tools (bp-admin): the sentinels are asked in turn when redis.sentinels is
 * set, and the answer is confirmed with ROLE; then AUTH. Commands time out
 * after redis.command_timeout_ms. NULL with a sentence in err on failure. */
redisContext *bp_redis_connect_sync(const struct bp_settings *s, char *err, size_t err_len);

#endif
