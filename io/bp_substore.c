/* Notification subscriptions and dead letters in Redis (bp_substore.h). */
#include "bp_substore.h"
#include "bp_rargs.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>

typedef struct {
    void (*cb)(void);
    void *data;
} op_t;

/* Sends g (freed), on answering for cb with data. */
static int send_op(bp_rargs_t *g, bp_redis_t *redis, bp_redis_reply_cb on, void (*cb)(void),
                   void *data) {
    op_t *op = malloc(sizeof *op);
    if (op)
        *op = (op_t){cb, data};
    else
        g->failed = true;
    if (bp_rargs_send(g, redis, on, op)) {
        free(op);
        return -1;
    }
    return 0;
}

static void on_result(bp_redis_t *redis, redisReply *reply, void *privdata) {
    op_t op = *(op_t *)privdata;
    (void)redis;
    free(privdata);
    bool ok = reply && reply->type == REDIS_REPLY_INTEGER;
    ((bp_substore_result_cb)op.cb)(op.data, ok, ok ? reply->integer : 0);
}

static void audit_args(bp_rargs_t *g, const bp_substore_actor_t *who) {
    bp_rargs_addf(g, "%lld", (long long)who->retain_from_ms);
    bp_rargs_addf(g, "%lld", (long long)who->now_ms);
    bp_rargs_add(g, who->actor);
    bp_rargs_add(g, who->role);
    bp_rargs_add(g, who->addr);
}

int bp_substore_create(bp_redis_t *redis, const bp_substore_keys_t *k, const char *id,
                       const char *owner, const char *stored, size_t stored_len, const char *shown,
                       size_t shown_len, int max_per_person, int max_total,
                       const bp_substore_actor_t *who, bp_substore_result_cb cb, void *data) {
    const char *keys[] = {k->subs, k->count, k->ver, k->audit};
    bp_rargs_t g = {0};
    bp_rargs_eval(&g, bp_sub_create_lua, 4, keys);
    bp_rargs_add(&g, id);
    bp_rargs_add(&g, owner);
    bp_rargs_put(&g, stored, stored_len);
    bp_rargs_addf(&g, "%d", max_per_person);
    bp_rargs_addf(&g, "%d", max_total);
    audit_args(&g, who);
    bp_rargs_put(&g, shown, shown_len);
    return send_op(&g, redis, on_result, (void (*)(void))cb, data);
}

int bp_substore_delete(bp_redis_t *redis, const bp_substore_keys_t *k, const char *id, bool admin,
                       const bp_substore_actor_t *who, bp_substore_result_cb cb, void *data) {
    const char *keys[] = {k->subs, k->count, k->ver, k->audit};
    bp_rargs_t g = {0};
    bp_rargs_eval(&g, bp_sub_delete_lua, 4, keys);
    bp_rargs_add(&g, id);
    bp_rargs_add(&g, who->actor);
    bp_rargs_add(&g, admin ? "1" : "0");
    audit_args(&g, who);
    return send_op(&g, redis, on_result, (void (*)(void))cb, data);
}

static void on_dead(bp_redis_t *redis, redisReply *reply, void *privdata) {
    op_t op = *(op_t *)privdata;
    bp_substore_dead_cb cb = (bp_substore_dead_cb)op.cb;
    (void)redis;
    free(privdata);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
        cb(op.data, false, 0, NULL, 0);
        return;
    }
    const redisReply *list = reply->element[1];
    bp_dead_letter_t *items = calloc(list->elements ? list->elements : 1, sizeof *items);
    if (!items) {
        cb(op.data, false, 0, NULL, 0);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < list->elements; i++) {
        const redisReply *e = list->element[i];
        /* written by our own scripts: JSON objects */
        if (e->type != REDIS_REPLY_STRING || e->len < 2 || e->str[0] != '{') continue;
        items[n++] = (bp_dead_letter_t){e->str, e->len};
    }
    cb(op.data, true, reply->element[0]->integer, items, n);
    free(items);
}

int bp_substore_dead_letters(bp_redis_t *redis, const char *dead_key, long limit,
                             bp_substore_dead_cb cb, void *data) {
    bp_rargs_t g = {0};
    bp_rargs_eval(&g, bp_dead_letters_lua, 1, &dead_key);
    bp_rargs_addf(&g, "%ld", limit);
    return send_op(&g, redis, on_dead, (void (*)(void))cb, data);
}
