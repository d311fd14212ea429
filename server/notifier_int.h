/*
 * The notifier's state (notifier.c), shared with its routes
 * (subscriptions.c) and its deliveries (notify_delivery.c): the
 * subscriptions as every server holds them, the keys, the counters, a
 * delivery in flight. Not for other files.
 */
#ifndef BP_NOTIFIER_INT_H
#define BP_NOTIFIER_INT_H

#include "app.h"
#include "bp_keys.h"
#include "bp_notify_rules.h"
#include "bp_redis.h"
#include "bp_subs.h"
#include "curl_uv.h"

#include <hiredis/hiredis.h>

enum { K_SUBS, K_COUNT, K_VER, K_EVENTS, K_DUE, K_DEAD, N_KEYS };

#define DEAD_MAX 1000 /* dead letters kept */

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

/* One delivery in flight (notify_delivery.c), on n->active. */
struct delivery {
    struct bp_notifier *n;
    delivery_t *prev, *next;
    char job[BP_EVENT_ID_MAX + BP_SUB_ID_MAX + 2];
    bp_sub_t sub;
    /* the event, copied from the job */
    char ev_id[BP_EVENT_ID_MAX + 1], type[24];
    int level, attempts;
    int64_t at_ms, first_ms;
    char *hospitals, *vi, *en, *data;
    size_t data_len;
    /* the attempt */
    bp_buf_t body;
    size_t sent;
    size_t received;
    char host[BP_URL_HOST_MAX + 1];
    int port;
    CURL *easy;
    struct curl_slist *headers, *rcpt, *resolve;
    uv_getaddrinfo_t gai;
    bool resolving;
    char error[700];
};

/* notify_delivery.c */
/* The value of field `name` in an HGETALL-shaped reply ("" if absent). */
const char *bp_notify_field(const redisReply *h, const char *name, size_t *len);
/* Starts delivering one claimed job: [job id, [field, value, ...]]. */
void bp_notify_deliver(struct bp_notifier *n, const redisReply *item);

#endif
