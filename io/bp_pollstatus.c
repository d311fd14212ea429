/* The pollers' status (bp_pollstatus.h). */
#include "bp_pollstatus.h"
#include "bp_keys.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bp_pollstatus_cb cb;
    void *data;
} op_t;

static void on_status(bp_redis_t *redis, redisReply *reply, void *privdata) {
    op_t op = *(op_t *)privdata;
    (void)redis;
    free(privdata);
    size_t n = reply && reply->type == REDIS_REPLY_ARRAY ? reply->elements / 2 : 0;
    size_t *order = calloc(n ? n : 1, sizeof *order);
    bp_poll_status_t *items = calloc(n ? n : 1, sizeof *items);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || !order || !items) {
        free(order);
        free(items);
        op.cb(op.data, false, NULL, 0);
        return;
    }
    /* id -> the JSON the collector stored; sorted by id for a stable answer */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 &&
               strcmp(reply->element[2 * order[j - 1]]->str, reply->element[2 * i]->str) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *id = reply->element[2 * order[i]], *v = reply->element[2 * order[i] + 1];
        if (v->type != REDIS_REPLY_STRING || v->len < 2 || v->str[0] != '{' ||
            v->str[v->len - 1] != '}')
            continue;
        items[k++] = (bp_poll_status_t){id->str, v->str, v->len};
    }
    op.cb(op.data, true, items, k);
    free(order);
    free(items);
}

int bp_pollstatus_read(bp_redis_t *redis, const char *prefix, bp_pollstatus_cb cb, void *data) {
    char key[BP_KEY_MAX];
    snprintf(key, sizeof key, "%.64spoll:status", prefix);
    op_t *op = malloc(sizeof *op);
    if (!op) return -1;
    *op = (op_t){cb, data};
    const char *argv[] = {"HGETALL", key};
    if (bp_redis_command_argv(redis, on_status, op, 2, argv, NULL)) {
        free(op);
        return -1;
    }
    return 0;
}
