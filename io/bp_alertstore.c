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

/* -- the acknowledgement ------------------------------------------------------------------ */

static void on_ack(bp_redis_t *redis, redisReply *reply, void *privdata) {
    op_t op = take(privdata);
    bp_alertstore_ack_cb cb = (bp_alertstore_ack_cb)op.cb;
    (void)redis;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[1]->type != REDIS_REPLY_STRING) {
        cb(op.data, false, 0, "", 0);
        return;
    }
    int code = (int)reply->element[0]->integer;
    const char *v = reply->element[1]->str, *bar = strchr(v, '|');
    char by[BP_TOKEN_ID_MAX + 1] = "";
    if (bar)
        snprintf(by, sizeof by, "%.*s",
                 (int)(bar - v) < BP_TOKEN_ID_MAX ? (int)(bar - v) : BP_TOKEN_ID_MAX, v);
    cb(op.data, true, code, by, bar ? strtoll(bar + 1, NULL, 10) : 0);
}

int bp_alertstore_ack(bp_redis_t *redis, const char *alerts_key, const char *acks_key,
                      const char *audit_key, const char *events_key, const char *id,
                      const bp_alert_actor_t *who, const bp_event_out_t *ev,
                      bp_alertstore_ack_cb cb, void *data) {
    const char *keys[] = {alerts_key, acks_key, audit_key, events_key};
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
    if (ev->data.failed) g.failed = true;
    return send_op(&g, redis, on_ack, (void (*)(void))cb, data);
}

/* -- mutes ---------------------------------------------------------------------------------- */

static void on_mute(bp_redis_t *redis, redisReply *reply, void *privdata) {
    op_t op = take(privdata);
    bp_alertstore_mute_cb cb = (bp_alertstore_mute_cb)op.cb;
    (void)redis;
    if (!reply || reply->type != REDIS_REPLY_INTEGER)
        cb(op.data, false, false);
    else
        cb(op.data, true, reply->integer != 0);
}

int bp_alertstore_mute(bp_redis_t *redis, const char *mutes_key, const char *audit_key,
                       const char *rule, int minutes, int64_t until_ms, const bp_alert_actor_t *who,
                       bp_alertstore_mute_cb cb, void *data) {
    const char *keys[] = {mutes_key, audit_key};
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
    return send_op(&g, redis, on_mute, (void (*)(void))cb, data);
}
