/*
 * The notifier's state (notifier.c), shared with its routes
 * (subscriptions.c): the subscriptions as every server holds them, the
 * keys, the counters. Not for other files.
 */
#ifndef BP_NOTIFIER_INT_H
#define BP_NOTIFIER_INT_H

#include "app.h"
#include "bp_notify_rules.h"
#include "bp_redis.h"
#include "bp_subs.h"
#include "curl_uv.h"

enum { K_SUBS, K_COUNT, K_VER, K_EVENTS, K_DUE, K_DEAD, N_KEYS };

typedef struct delivery delivery_t;

struct bp_notifier {
    bp_app_t *app;
    const bp_settings_t *s;
    bp_redis_t *redis;
    uv_timer_t timer;
    bp_curl_t *curl;
    char consumer[40];
    char prefix[BP_KEY_MAX];
    char keys[N_KEYS][BP_KEY_MAX + 32];
    bp_retry_cfg_t retry;
    /* the subscriptions, as last read */
    bp_sub_t *subs;
    size_t n_subs;
    uint64_t subs_ver;
    bool subs_loaded, subs_busy, subs_stale;
    int64_t subs_polled;
    /* fan-out and delivery */
    bool group_ready, group_busy, reading, claiming;
    bool read_own; /* read this server's own unfanned events again (after a stale table) */
    enum { READ_NEW, READ_OWN, READ_CLAIM } read_kind; /* the read in flight */
    int64_t autoclaimed, queue_checked;
    delivery_t *active;
    size_t inflight;
    long long queue_len;
    bool closing;
    void (*on_closed)(void *);
    void *closed_data;
    int parts; /* redis+timer, curl: both released before the notifier is freed */
    /* counters */
    uint64_t fanned, jobs, refused, quiet, delivered, retried, dead;
};

#endif
