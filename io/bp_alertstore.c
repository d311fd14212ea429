/* Alert records, acknowledgements and mutes in Redis (bp_alertstore.h). */
#include "bp_alertstore.h"
#include "bp_rargs.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    void (*cb)(void);
    void *data;
} op_t;

static op_t *op_new(void (*cb)(void), void *data) {
    op_t *op = malloc(sizeof *op);
    if (op) *op = (op_t){cb, data};
    return op;
}

/* The pending call's callback and data, its memory freed. */
static op_t take(void *privdata) {
    op_t op = *(op_t *)privdata;
    free(privdata);
    return op;
}

/* Sends g (freed) with on answering for cb. */
static int send_op(bp_rargs_t *g, bp_redis_t *redis, bp_redis_reply_cb on, void (*cb)(void),
                   void *data) {
    op_t *op = op_new(cb, data);
    if (!op) g->failed = true;
    if (bp_rargs_send(g, redis, on, op)) {
        free(op);
        return -1;
    }
    return 0;
}

/* -- the record -------------------------------------------------------------------------- */

static void on_record(bp_redis_t *redis, redisReply *reply, void *privdata) {
    op_t op = take(privdata);
    bp_alertstore_record_cb cb = (bp_alertstore_record_cb)op.cb;
    (void)redis;
    if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL))
        cb(op.data, false, NULL, 0);
    else if (reply->type == REDIS_REPLY_NIL)
        cb(op.data, true, NULL, 0);
    else
        cb(op.data, true, reply->str, reply->len);
}

int bp_alertstore_record(bp_redis_t *redis, const char *alerts_key, const char *id,
                         bp_alertstore_record_cb cb, void *data) {
    bp_rargs_t g = {0};
    bp_rargs_add(&g, "HGET");
    bp_rargs_add(&g, alerts_key);
    bp_rargs_add(&g, id);
    return send_op(&g, redis, on_record, (void (*)(void))cb, data);
}

/* -- writes: the acknowledgement and the mute ------------------------------------------------ */

/* A write waiting for its answer and, with redis.min_replicas_ack, for the
 * WAIT sent right behind it (one WAIT covers everything sent before it on
 * the connection). The answer is kept until the WAIT returns. */
typedef struct write_op {
    void (*deliver)(struct write_op *w);
    void (*cb)(void);
    void *data;
    int min_replicas;
    bool wait_sent;
    bp_alertstore_done_t done;
    char error[160]; /* Redis's refusal, for done.error */
    int result;      /* ack: 0, 1, 2; mute: 0 nothing to end, 1 done */
    char by[BP_TOKEN_ID_MAX + 1];
    int64_t at_ms;
} write_op_t;

/* Answered (or not): keeps Redis's refusal, then delivers unless a WAIT
 * follows. false: the reply is not one to read further. */
static bool write_answered(write_op_t *w, const redisReply *reply, int want_type) {
    w->done.answered = reply && reply->type == want_type;
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        /* without the script location Redis appends */
        const char *at = strstr(reply->str, " script: ");
        int n = at ? (int)(at - reply->str) : (int)strlen(reply->str);
        snprintf(w->error, sizeof w->error, "%.*s", n, reply->str);
        w->done.error = w->error;
    }
    return w->done.answered;
}

static void write_finish(write_op_t *w) {
    if (w->wait_sent) return; /* on_waited delivers */
    w->done.replicated = w->min_replicas == 0;
    w->deliver(w);
    free(w);
}

static void on_waited(bp_redis_t *redis, redisReply *reply, void *privdata) {
    write_op_t *w = privdata;
    (void)redis;
    w->done.replicated =
        reply && reply->type == REDIS_REPLY_INTEGER && reply->integer >= w->min_replicas;
    w->deliver(w);
    free(w);
}

/* Sends g (freed) answered by on, then the WAIT. 0, or -1: nothing sent
 * (w freed). */
static int write_send(bp_rargs_t *g, bp_redis_t *redis, bp_redis_reply_cb on, write_op_t *w,
                      int replica_ack_timeout_ms) {
    if (bp_rargs_send(g, redis, on, w)) {
        free(w);
        return -1;
    }
    w->wait_sent =
        w->min_replicas > 0 && bp_redis_command(redis, on_waited, w, "WAIT %d %d", w->min_replicas,
                                                replica_ack_timeout_ms) == 0;
    return 0;
}

static write_op_t *write_new(void (*deliver)(write_op_t *), void (*cb)(void), void *data,
                             int min_replicas) {
    write_op_t *w = calloc(1, sizeof *w);
    if (w)
        *w = (write_op_t){.deliver = deliver, .cb = cb, .data = data, .min_replicas = min_replicas};
    return w;
}

static void deliver_ack(write_op_t *w) {
    ((bp_alertstore_ack_cb)w->cb)(w->data, &w->done, w->result, w->by, w->at_ms);
}

static void on_ack(bp_redis_t *redis, redisReply *reply, void *privdata) {
    write_op_t *w = privdata;
    (void)redis;
    if (write_answered(w, reply, REDIS_REPLY_ARRAY) &&
        (reply->elements < 2 || reply->element[1]->type != REDIS_REPLY_STRING)) {
        w->done.answered = false;
    } else if (w->done.answered) {
        w->result = (int)reply->element[0]->integer;
        const char *v = reply->element[1]->str, *bar = strchr(v, '|');
        if (bar)
            snprintf(w->by, sizeof w->by, "%.*s",
                     (int)(bar - v) < BP_TOKEN_ID_MAX ? (int)(bar - v) : BP_TOKEN_ID_MAX, v);
        w->at_ms = bar ? strtoll(bar + 1, NULL, 10) : 0;
    }
    write_finish(w);
}

int bp_alertstore_ack(bp_redis_t *redis, const char *alerts_key, const char *acks_key,
                      const char *audit_key, const char *events_key, const char *id,
                      const bp_alert_actor_t *who, const bp_event_out_t *ev,
                      const bp_alertstore_wait_t *wait, bp_alertstore_ack_cb cb, void *data) {
    const char *keys[] = {alerts_key, acks_key, audit_key, events_key};
    write_op_t *w = write_new(deliver_ack, (void (*)(void))cb, data, wait->min_replicas);
    bp_rargs_t g = {0};
    bp_rargs_eval(&g, bp_alert_ack_lua, 4, keys);
    bp_rargs_add(&g, id);
    bp_rargs_addf(&g, "%s|%lld", who->actor, (long long)who->now_ms);
    bp_rargs_addf(&g, "%lld", (long long)who->retain_from_ms);
    bp_rargs_addf(&g, "%lld", (long long)who->now_ms);
    bp_rargs_add(&g, who->actor);
    bp_rargs_add(&g, who->role);
    bp_rargs_add(&g, who->addr);
    bp_rargs_add(&g, bp_event_type_name(ev->type));
    bp_rargs_addf(&g, "%d", ev->level);
    bp_rargs_addf(&g, "%lld", (long long)who->now_ms);
    bp_rargs_put(&g, ev->hospitals.len ? bp_buf_data(&ev->hospitals) : "", ev->hospitals.len);
    bp_rargs_add(&g, ev->vi);
    bp_rargs_add(&g, ev->en);
    bp_rargs_put(&g, bp_buf_data(&ev->data) ? bp_buf_data(&ev->data) : "{}",
                 ev->data.len ? ev->data.len : 2);
    if (ev->data.failed || !w) g.failed = true;
    return write_send(&g, redis, on_ack, w, wait->timeout_ms);
}

/* -- mutes ---------------------------------------------------------------------------------- */

static void deliver_mute(write_op_t *w) {
    ((bp_alertstore_mute_cb)w->cb)(w->data, &w->done, w->result != 0);
}

static void on_mute(bp_redis_t *redis, redisReply *reply, void *privdata) {
    write_op_t *w = privdata;
    (void)redis;
    if (write_answered(w, reply, REDIS_REPLY_INTEGER)) w->result = reply->integer != 0;
    write_finish(w);
}

int bp_alertstore_mute(bp_redis_t *redis, const char *mutes_key, const char *audit_key,
                       const char *rule, int minutes, int64_t until_ms, const bp_alert_actor_t *who,
                       const bp_alertstore_wait_t *wait, bp_alertstore_mute_cb cb, void *data) {
    const char *keys[] = {mutes_key, audit_key};
    write_op_t *w = write_new(deliver_mute, (void (*)(void))cb, data, wait->min_replicas);
    bp_rargs_t g = {0};
    bp_rargs_eval(&g, bp_alert_mute_lua, 2, keys);
    bp_rargs_add(&g, rule);
    if (minutes)
        bp_rargs_addf(&g, "%s|%lld|%lld", who->actor, (long long)until_ms, (long long)who->now_ms);
    else
        bp_rargs_add(&g, "");
    bp_rargs_addf(&g, "%lld", (long long)who->retain_from_ms);
    bp_rargs_addf(&g, "%lld", (long long)who->now_ms);
    bp_rargs_add(&g, who->actor);
    bp_rargs_add(&g, who->role);
    bp_rargs_add(&g, who->addr);
    bp_rargs_addf(&g, "{\"minutes\":%d}", minutes);
    if (!w) g.failed = true;
    return write_send(&g, redis, on_mute, w, wait->timeout_ms);
}
