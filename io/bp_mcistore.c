/* Mass-casualty incidents in Redis (bp_mcistore.h). */
#include "bp_mcistore.h"
#include "bp_keys.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MCI_ARGS_MAX (14 + 24)

static const char *hget(const redisReply *h, const char *name) {
    for (size_t i = 0; h && i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING)
            return h->element[i + 1]->str;
    return "";
}

const char *bp_mci_row_answer(const bp_mci_row_t *m, const char *hospital) {
    for (size_t i = 0; i < m->n_answers; i++)
        if (strcmp(m->answers[i].hospital, hospital) == 0) return m->answers[i].value;
    return NULL;
}

/* -- reads ------------------------------------------------------------------------------- */

typedef struct {
    bp_mcistore_read_cb cb;
    void *data;
} read_op_t;

/* Row m from the read script's {id, hash, answers, patients}; its arrays
 * malloc'd (false out of memory). */
static bool row_of(const redisReply *m, bp_mci_row_t *o) {
    const redisReply *h = m->element[1], *ans = m->element[2], *pat = m->element[3];
    memset(o, 0, sizeof *o);
    o->id = m->element[0]->type == REDIS_REPLY_STRING ? m->element[0]->str : "";
    o->lat = strtod(hget(h, "lat"), NULL);
    o->lon = strtod(hget(h, "lon"), NULL);
    o->radius_km = strtod(hget(h, "radius_km"), NULL);
    o->expected[0] = atoi(hget(h, "ei"));
    o->expected[1] = atoi(hget(h, "ed"));
    o->expected[2] = atoi(hget(h, "em"));
    o->address = hget(h, "address");
    o->status = hget(h, "status");
    o->by = hget(h, "by");
    o->at_ms = strtoll(hget(h, "at"), NULL, 10);
    size_t na = ans && ans->type == REDIS_REPLY_ARRAY ? ans->elements / 2 : 0;
    size_t np = pat && pat->type == REDIS_REPLY_ARRAY ? pat->elements : 0;
    bp_mci_answer_row_t *a = calloc(na ? na : 1, sizeof *a);
    const char **p = calloc(np ? np : 1, sizeof *p);
    if (!a || !p) {
        free(a);
        free(p);
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        const redisReply *k = ans->element[2 * i], *v = ans->element[2 * i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        a[o->n_answers++] = (bp_mci_answer_row_t){k->str, v->str};
    }
    for (size_t i = 0; i < np; i++)
        p[i] = pat->element[i]->type == REDIS_REPLY_STRING ? pat->element[i]->str : NULL;
    o->answers = a;
    o->patients = p;
    o->n_patients = np;
    return true;
}

static void on_read(bp_redis_t *redis, redisReply *reply, void *privdata) {
    read_op_t op = *(read_op_t *)privdata;
    (void)redis;
    free(privdata);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        op.cb(op.data, false, NULL, 0);
        return;
    }
    bp_mci_row_t *rows = calloc(reply->elements ? reply->elements : 1, sizeof *rows);
    size_t n = 0;
    bool ok = rows != NULL;
    for (size_t i = 0; ok && i < reply->elements; i++) {
        const redisReply *m = reply->element[i];
        if (m->type != REDIS_REPLY_ARRAY || m->elements != 4) continue;
        if (row_of(m, &rows[n]))
            n++;
        else
            ok = false;
    }
    op.cb(op.data, ok, rows, n);
    for (size_t i = 0; i < n; i++) {
        free((void *)rows[i].answers);
        free((void *)rows[i].patients);
    }
    free(rows);
}

int bp_mcistore_read(bp_redis_t *redis, const char *prefix, const char *id, bp_mcistore_read_cb cb,
                     void *data) {
    char skey[BP_KEY_MAX + 8];
    snprintf(skey, sizeof skey, "%.64smcis", prefix);
    read_op_t *op = malloc(sizeof *op);
    if (!op) return -1;
    *op = (read_op_t){cb, data};
    const char *argv[] = {"EVAL", bp_mci_read_lua, "1", skey, prefix, id ? id : ""};
    if (bp_redis_command_argv(redis, on_read, op, 6, argv, NULL)) {
        free(op);
        return -1;
    }
    return 0;
}

/* -- writes ------------------------------------------------------------------------------ */

typedef struct {
    bp_mcistore_write_cb cb;
    void *data;
    int min_replicas;
    bool answered, wait_sent;
    long long result;
} write_op_t;

static void on_write(bp_redis_t *redis, redisReply *reply, void *privdata) {
    write_op_t *op = privdata;
    (void)redis;
    op->answered = reply && reply->type == REDIS_REPLY_INTEGER;
    op->result = op->answered ? reply->integer : 0;
    if (op->wait_sent) return; /* on_waited answers */
    op->cb(op->data, op->answered, op->result, op->min_replicas == 0);
    free(op);
}

static void on_waited(bp_redis_t *redis, redisReply *reply, void *privdata) {
    write_op_t *op = privdata;
    (void)redis;
    bool replicated =
        reply && reply->type == REDIS_REPLY_INTEGER && reply->integer >= op->min_replicas;
    op->cb(op->data, op->answered, op->result, replicated);
    free(op);
}

int bp_mcistore_write(bp_redis_t *redis, const char *prefix, const bp_mci_write_t *w,
                      int min_replicas_ack, int replica_ack_timeout_ms, bp_mcistore_write_cb cb,
                      void *data) {
    char key[BP_KEY_MAX + 80], skey[BP_KEY_MAX + 8], t[24], retain[24];
    snprintf(key, sizeof key, "%.64smci:%s", prefix, w->id);
    snprintf(skey, sizeof skey, "%.64smcis", prefix);
    bp_keys_t keys;
    bp_keys_init(&keys, prefix);
    snprintf(t, sizeof t, "%lld", (long long)w->now_ms);
    snprintf(retain, sizeof retain, "%lld", (long long)w->retain_from_ms);
    const char *argv[MCI_ARGS_MAX] = {
        "EVAL", bp_mci_write_lua, "3",     key,     skey,           keys.audit, w->action, w->id,
        t,      w->actor,         w->role, w->addr, w->audit_after, retain};
    size_t argc = 14;
    for (size_t i = 0; i < w->n_tail && argc < MCI_ARGS_MAX; i++)
        argv[argc++] = w->tail[i];
    write_op_t *op = calloc(1, sizeof *op);
    if (!op) return -1;
    *op = (write_op_t){.cb = cb, .data = data, .min_replicas = min_replicas_ack};
    if (bp_redis_command_argv(redis, on_write, op, (int)argc, argv, NULL)) {
        free(op);
        return -1;
    }
    /* acknowledged means replicated: the WAIT right behind the write */
    op->wait_sent =
        min_replicas_ack > 0 && bp_redis_command(redis, on_waited, op, "WAIT %d %d",
                                                 min_replicas_ack, replica_ack_timeout_ms) == 0;
    return 0;
}
