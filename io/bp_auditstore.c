/* Reading the audit trail (bp_auditstore.h). */
#include "bp_auditstore.h"
#include "bp_keys.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bp_auditstore_cb cb;
    void *data;
} op_t;

const char *bp_audit_field(const bp_audit_entry_t *e, const char *name, size_t *len) {
    for (size_t i = 0; i < e->n_fields; i++)
        if (strcmp(e->fields[i].name, name) == 0) {
            *len = e->fields[i].value_len;
            return e->fields[i].value;
        }
    *len = 0;
    return NULL;
}

static bool well_formed(const redisReply *e) {
    return e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
           e->element[0]->type == REDIS_REPLY_STRING && e->element[1]->type == REDIS_REPLY_ARRAY;
}

static void on_page(bp_redis_t *redis, redisReply *reply, void *privdata) {
    op_t op = *(op_t *)privdata;
    (void)redis;
    free(privdata);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        op.cb(op.data, false, NULL, 0, 0);
        return;
    }
    size_t nf = 0;
    for (size_t i = 0; i < reply->elements; i++)
        if (well_formed(reply->element[i])) nf += reply->element[i]->element[1]->elements / 2;
    bp_audit_entry_t *entries = calloc(reply->elements ? reply->elements : 1, sizeof *entries);
    bp_audit_field_t *fields = calloc(nf ? nf : 1, sizeof *fields);
    if (!entries || !fields) {
        free(entries);
        free(fields);
        op.cb(op.data, false, NULL, 0, 0);
        return;
    }
    size_t n = 0, f = 0;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (!well_formed(e)) continue;
        const redisReply *kv = e->element[1];
        bp_audit_entry_t *o = &entries[n++];
        o->id = e->element[0]->str;
        o->fields = &fields[f];
        for (size_t k = 0; k + 1 < kv->elements; k += 2) {
            const redisReply *name = kv->element[k], *v = kv->element[k + 1];
            if (name->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
            fields[f++] = (bp_audit_field_t){name->str, v->str, v->len};
            o->n_fields++;
        }
    }
    op.cb(op.data, true, entries, n, reply->elements);
    free(entries);
    free(fields);
}

int bp_auditstore_page(bp_redis_t *redis, const char *prefix, const char *end, const char *start,
                       int count, bp_auditstore_cb cb, void *data) {
    char c[16];
    snprintf(c, sizeof c, "%d", count);
    bp_keys_t keys;
    bp_keys_init(&keys, prefix);
    op_t *op = malloc(sizeof *op);
    if (!op) return -1;
    *op = (op_t){cb, data};
    const char *argv[] = {"XREVRANGE", keys.audit, end, start, "COUNT", c};
    if (bp_redis_command_argv(redis, on_page, op, 6, argv, NULL)) {
        free(op);
        return -1;
    }
    return 0;
}
