/* EVALSHA of the apply script with the keys and arguments it expects. */
#include "bp_apply.h"
#include "bp_codec_stored.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_rargs.h"
#include "bp_time.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* A result waiting for its batch's WAIT: a copy (the reply is gone). */
typedef struct {
    bp_apply_status_t status;
    uint64_t offset, version;
    int64_t stored_at;
    char epoch[BP_EPOCH_MAX + 1];
    char *text; /* stored, code, field, message, one after another (NULL: none) */
    size_t stored_len;
    unsigned has; /* which of the four are in text */
    void *privdata;
} held_t;

enum { HAS_STORED = 1, HAS_CODE = 2, HAS_FIELD = 4, HAS_MESSAGE = 8 };

/* The changes sent in one loop turn on one lane, and their WAIT. */
typedef struct {
    size_t n;
    bool decided;    /* the WAIT answered, failed or could not be sent */
    bool replicated; /* ...and enough replicas confirmed */
} batch_t;

typedef struct {
    bp_apply_t *a;
    bp_redis_t *redis;
    char sha[41];    /* "" until SCRIPT LOAD answered: use EVAL meanwhile */
    size_t inflight; /* submits whose callback has not fired */
    size_t unwaited; /* sent since the last WAIT */
    held_t *held;    /* ring: results in submit order, waiting for their batch */
    size_t held_cap, held_head, held_count;
    batch_t *batch; /* ring of cap max_pending + 1: batches in send order */
    size_t batch_head, batch_count;
    char behind[200]; /* the message of the last "behind" answer */
} lane_t;

struct bp_apply {
    lane_t lanes[BP_APPLY_MAX_LANES];
    size_t n_lanes;
    const bp_settings_t *s;
    const bp_registry_t *reg;
    bp_keys_t keys;
    bp_apply_cb cb;
    size_t max_pending;   /* per lane */
    int min_acks;         /* redis.min_replicas_ack: 0 = no WAIT */
    uv_prepare_t prepare; /* sends each lane's WAIT before the loop writes */
    bool prepare_open;
    char epoch_candidate[33];
    char not_confirmed[160]; /* the UNAVAILABLE message when replicas did not confirm */
    int64_t last_warn_ms;
    bp_apply_stats_t stats;
    bp_apply_args_t args;
    size_t closing_parts;
    void (*on_closed)(void *);
    void *closed_data;
};

static void random_hex(char *out, size_t nbytes) {
    unsigned char raw[16];
    if (nbytes > sizeof raw) nbytes = sizeof raw;
    if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes) {
        /* no entropy source: time and pid still make collisions unlikely */
        uint64_t x = bp_time_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)bp_time_now_ms();
        for (size_t i = 0; i < nbytes; i++)
            raw[i] = (unsigned char)(x >> (8 * (i % 8)));
    }
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
}

static void on_loaded(bp_redis_t *r, redisReply *reply, void *privdata) {
    lane_t *l = privdata;
    (void)r;
    if (reply && reply->type == REDIS_REPLY_STRING && reply->len == 40) {
        memcpy(l->sha, reply->str, 40);
        l->sha[40] = '\0';
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        bp_error("redis apply: SCRIPT LOAD failed: %s", reply->str);
    }
}

static void on_up(bp_redis_t *r, void *data) {
    lane_t *l = data;
    l->sha[0] = '\0'; /* maybe another server (a failover): load it there */
    const char *argv[3] = {"SCRIPT", "LOAD", bp_apply_lua};
    size_t lens[3] = {6, 4, bp_apply_lua_len};
    bp_redis_command_argv(r, on_loaded, l, 3, argv, lens);
}

static void on_down(bp_redis_t *r, void *data) {
    lane_t *l = data;
    (void)r;
    l->a->stats.reconnects++;
}

/* -- holding results for their WAIT ------------------------------------------------ */

static char *put_text(char *p, const char *src, size_t len) {
    memcpy(p, src, len);
    p[len] = '\0';
    return p + len + 1;
}

/* Copies a result to the end of the held ring. 0, or -1 without memory. */
static int hold(lane_t *l, const bp_apply_result_t *res, void *privdata) {
    if (l->held_count == l->held_cap) {
        size_t cap = l->held_cap ? l->held_cap * 2 : 256;
        held_t *h = malloc(cap * sizeof *h);
        if (!h) return -1;
        for (size_t i = 0; i < l->held_count; i++)
            h[i] = l->held[(l->held_head + i) % l->held_cap];
        free(l->held);
        l->held = h;
        l->held_cap = cap;
        l->held_head = 0;
    }
    held_t *h = &l->held[(l->held_head + l->held_count) % l->held_cap];
    memset(h, 0, sizeof *h);
    h->status = res->status;
    h->offset = res->offset;
    h->version = res->version;
    h->stored_at = res->stored_at;
    h->privdata = privdata;
    snprintf(h->epoch, sizeof h->epoch, "%s", res->epoch ? res->epoch : "");
    size_t need = 0;
    if (res->stored) need += res->stored_len + 1;
    if (res->code) need += strlen(res->code) + 1;
    if (res->field) need += strlen(res->field) + 1;
    if (res->message) need += strlen(res->message) + 1;
    if (need) {
        char *p = h->text = malloc(need);
        if (!p) return -1;
        if (res->stored) {
            p = put_text(p, res->stored, res->stored_len);
            h->stored_len = res->stored_len;
            h->has |= HAS_STORED;
        }
        if (res->code) p = put_text(p, res->code, strlen(res->code)), h->has |= HAS_CODE;
        if (res->field) p = put_text(p, res->field, strlen(res->field)), h->has |= HAS_FIELD;
        if (res->message) put_text(p, res->message, strlen(res->message)), h->has |= HAS_MESSAGE;
    }
    l->held_count++;
    return 0;
}

/* Hands the oldest held result to the caller. */
static void deliver_held(lane_t *l, bool replicated) {
    bp_apply_t *a = l->a;
    held_t h = l->held[l->held_head];
    l->held_head = (l->held_head + 1) % l->held_cap;
    l->held_count--;
    bp_apply_result_t res = {.status = h.status,
                             .offset = h.offset,
                             .version = h.version,
                             .epoch = h.epoch,
                             .stored_at = h.stored_at};
    const char *p = h.text;
    if (h.has & HAS_STORED) res.stored = p, res.stored_len = h.stored_len, p += h.stored_len + 1;
    if (h.has & HAS_CODE) res.code = p, p += strlen(p) + 1;
    if (h.has & HAS_FIELD) res.field = p, p += strlen(p) + 1;
    if (h.has & HAS_MESSAGE) res.message = p;
    a->stats.waited++;
    if (!replicated && (res.status == BP_APPLY_OK || res.status == BP_APPLY_DUP)) {
        res.status = BP_APPLY_UNAVAILABLE;
        res.message = a->not_confirmed;
        a->stats.not_replicated++;
    }
    l->inflight--;
    a->cb(h.privdata, &res);
    free(h.text);
}

/* Delivers every held result whose batch is decided, in order. */
static void release(lane_t *l) {
    while (l->batch_count) {
        size_t cap = l->a->max_pending + 1;
        batch_t *b = &l->batch[l->batch_head];
        if (!b->decided || l->held_count < b->n) return;
        size_t n = b->n;
        bool replicated = b->replicated;
        l->batch_head = (l->batch_head + 1) % cap;
        l->batch_count--;
        while (n--)
            deliver_held(l, replicated);
    }
}

static void on_wait(bp_redis_t *r, redisReply *reply, void *privdata) {
    lane_t *l = privdata;
    bp_apply_t *a = l->a;
    (void)r;
    if (!l->batch_count) return; /* cannot happen: every WAIT has its batch */
    /* Redis answers in order: this WAIT is the oldest one still waiting */
    size_t cap = a->max_pending + 1, i = 0;
    while (i < l->batch_count && l->batch[(l->batch_head + i) % cap].decided)
        i++;
    if (i == l->batch_count) return;
    batch_t *b = &l->batch[(l->batch_head + i) % cap];
    b->decided = true;
    b->replicated = reply && reply->type == REDIS_REPLY_INTEGER && reply->integer >= a->min_acks;
    if (!b->replicated && reply) {
        int64_t now = bp_time_now_ms();
        if (now - a->last_warn_ms >= 10000) { /* at most one line per 10 s */
            a->last_warn_ms = now;
            bp_warn("redis apply: %s of %d replicas confirmed within %d ms; %zu changes answered "
                    "unavailable (redis.min_replicas_ack)",
                    reply->type == REDIS_REPLY_INTEGER ? (reply->integer ? "only some" : "none")
                                                       : "no answer:",
                    a->min_acks, a->s->redis_replica_ack_timeout_ms, b->n);
        }
    }
    release(l);
}

/* Once per loop turn, before libuv polls (and hiredis writes): a WAIT
 * behind what each lane sent since its last one. */
static void on_prepare(uv_prepare_t *h) {
    bp_apply_t *a = h->data;
    for (size_t k = 0; k < a->n_lanes; k++) {
        lane_t *l = &a->lanes[k];
        if (!l->unwaited) continue;
        size_t cap = a->max_pending + 1;
        batch_t *b = &l->batch[(l->batch_head + l->batch_count) % cap];
        *b = (batch_t){.n = l->unwaited};
        l->batch_count++;
        l->unwaited = 0;
        if (bp_redis_command(l->redis, on_wait, l, "WAIT %d %d", a->min_acks,
                             a->s->redis_replica_ack_timeout_ms) == 0) {
            a->stats.waits++;
        } else {
            b->decided = true; /* not sent: nothing confirms these */
            b->replicated = false;
        }
        release(l);
    }
}

bp_apply_t *bp_apply_create(uv_loop_t *loop, const bp_settings_t *s, const bp_registry_t *reg,
                            size_t lanes, size_t max_pending, bp_apply_cb cb) {
    if (lanes == 0 || lanes > BP_APPLY_MAX_LANES || max_pending == 0) return NULL;
    bp_apply_t *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->s = s;
    a->reg = reg;
    a->cb = cb;
    a->max_pending = max_pending;
    a->min_acks = s->redis_min_replicas_ack;
    snprintf(a->not_confirmed, sizeof a->not_confirmed,
             "fewer than %d replicas confirmed this change within %d ms", a->min_acks,
             s->redis_replica_ack_timeout_ms);
    bp_keys_init(&a->keys, s->redis_prefix);
    random_hex(a->epoch_candidate, 16);
    bp_apply_args_init(&a->args);
    for (size_t k = 0; k < lanes; k++) {
        lane_t *l = &a->lanes[k];
        l->a = a;
        if (a->min_acks > 0 && !(l->batch = calloc(max_pending + 1, sizeof *l->batch))) goto fail;
        bp_redis_opts_t o = bp_redis_opts(s, "apply");
        /* + SCRIPT LOAD, + one WAIT per change at worst */
        o.max_pending = 2 * max_pending + 1;
        o.on_up = on_up;
        o.on_down = on_down;
        o.data = l;
        l->redis = bp_redis_create(loop, &o);
        if (!l->redis) goto fail;
        a->n_lanes++;
    }
    if (a->min_acks > 0) {
        uv_prepare_init(loop, &a->prepare);
        a->prepare.data = a;
        uv_prepare_start(&a->prepare, on_prepare);
        a->prepare_open = true;
    }
    return a;
fail:
    /* nothing was sent yet: the links close without callbacks */
    for (size_t k = 0; k < BP_APPLY_MAX_LANES; k++) {
        bp_redis_close(a->lanes[k].redis, NULL, NULL);
        free(a->lanes[k].batch);
    }
    bp_apply_args_free(&a->args);
    free(a);
    return NULL;
}

static void close_part(bp_apply_t *a) {
    if (--a->closing_parts) return;
    void (*cb)(void *) = a->on_closed;
    void *data = a->closed_data;
    for (size_t k = 0; k < a->n_lanes; k++) {
        lane_t *l = &a->lanes[k];
        while (l->held_count) { /* cannot happen: every batch was decided */
            free(l->held[l->held_head].text);
            l->held_head = (l->held_head + 1) % l->held_cap;
            l->held_count--;
        }
        free(l->held);
        free(l->batch);
    }
    bp_apply_args_free(&a->args);
    free(a);
    if (cb) cb(data);
}

static void on_lane_closed(void *p) {
    close_part(p);
}

static void on_prepare_closed(uv_handle_t *h) {
    close_part(h->data);
}

void bp_apply_close(bp_apply_t *a, void (*on_closed)(void *), void *data) {
    if (!a) {
        if (on_closed) on_closed(data);
        return;
    }
    a->on_closed = on_closed;
    a->closed_data = data;
    a->closing_parts = a->n_lanes + (a->prepare_open ? 1 : 0);
    if (a->prepare_open) {
        uv_prepare_stop(&a->prepare);
        uv_close((uv_handle_t *)&a->prepare, on_prepare_closed);
    }
    for (size_t k = 0; k < a->n_lanes; k++) {
        lane_t *l = &a->lanes[k];
        if (a->min_acks > 0 && l->unwaited) {
            /* sent, no WAIT yet: nothing will confirm these */
            size_t cap = a->max_pending + 1;
            l->batch[(l->batch_head + l->batch_count) % cap] =
                (batch_t){.n = l->unwaited, .decided = true, .replicated = false};
            l->batch_count++;
            l->unwaited = 0;
        }
        /* fails what is pending (callbacks with NULL, now), then releases */
        bp_redis_close(l->redis, on_lane_closed, a);
    }
}

size_t bp_apply_lanes(const bp_apply_t *a) {
    return a->n_lanes;
}

static uint64_t int_at(const redisReply *r, size_t i) {
    if (i >= r->elements) return 0;
    const redisReply *e = r->element[i];
    if (e->type == REDIS_REPLY_INTEGER) return e->integer > 0 ? (uint64_t)e->integer : 0;
    if (e->type == REDIS_REPLY_STRING) return strtoull(e->str, NULL, 10);
    return 0;
}

/* The apply script's answer into a result. */
static void read_result(lane_t *l, redisReply *reply, bp_apply_result_t *res) {
    bp_apply_t *a = l->a;
    *res = (bp_apply_result_t){.status = BP_APPLY_UNAVAILABLE};
    if (!reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        if (strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            /* the script cache was flushed: load again, this one is retried by its sender */
            l->sha[0] = '\0';
            on_up(l->redis, l);
        } else {
            bp_error("redis apply: %s", reply->str);
        }
        res->status = BP_APPLY_FAILED;
        res->message = reply->str;
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        res->status = BP_APPLY_FAILED;
        res->message = "unexpected reply from the apply script";
        return;
    }
    const char *what = reply->element[0]->str;
    if (strcmp(what, "ok") == 0 || strcmp(what, "dup") == 0) {
        res->status = what[0] == 'o' ? BP_APPLY_OK : BP_APPLY_DUP;
        res->offset = int_at(reply, 1);
        res->epoch = reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_STRING
                         ? reply->element[2]->str
                         : "";
        if (res->status == BP_APPLY_OK) res->version = int_at(reply, 3);
        /* Our candidate became the stream's epoch: a stream recreated later
         * (Redis flushed or lost it) needs another one, or clients would take
         * the new stream's offsets for the old one's. (Commands already sent
         * carry this candidate; they only use it if the epoch is lost again
         * before they run.) */
        if (strcmp(res->epoch, a->epoch_candidate) == 0) random_hex(a->epoch_candidate, 16);
    } else if (strcmp(what, "behind") == 0) {
        /* the line sent before it on its connection was never decided */
        res->status = BP_APPLY_UNAVAILABLE;
        res->code = "behind";
        snprintf(l->behind, sizeof l->behind,
                 "an earlier line of this source (seq %llu) was not applied: resend every line "
                 "not acknowledged, in order, starting with that one",
                 (unsigned long long)int_at(reply, 1));
        res->message = l->behind;
    } else if (strcmp(what, "conflict") == 0) {
        res->status = BP_APPLY_CONFLICT;
        res->version = int_at(reply, 1);
        if (reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_STRING) {
            res->stored = reply->element[2]->str;
            res->stored_len = reply->element[2]->len;
        }
    } else if (strcmp(what, "out_of_order") == 0) {
        res->status = BP_APPLY_OUT_OF_ORDER;
        res->stored_at = (int64_t)int_at(reply, 1);
    } else if (strcmp(what, "refused") == 0 && reply->elements == 4 &&
               reply->element[1]->type == REDIS_REPLY_STRING &&
               reply->element[2]->type == REDIS_REPLY_STRING &&
               reply->element[3]->type == REDIS_REPLY_STRING) {
        res->status = BP_APPLY_REFUSED;
        res->code = reply->element[1]->str;
        res->field = reply->element[2]->str;
        res->message = reply->element[3]->str;
    } else {
        res->status = BP_APPLY_FAILED;
        res->message = "unknown result from the apply script";
    }
}

static void on_result(bp_redis_t *r, redisReply *reply, void *privdata) {
    lane_t *l = bp_redis_data(r);
    bp_apply_t *a = l->a;
    bp_apply_result_t res;
    read_result(l, reply, &res);
    if (a->min_acks == 0) {
        l->inflight--;
        a->cb(privdata, &res);
        return;
    }
    if (hold(l, &res, privdata) != 0) {
        /* no memory to keep it: answer now, as not confirmed */
        bp_apply_result_t u = {.status = BP_APPLY_UNAVAILABLE, .message = "out of memory"};
        /* order: everything held before it must go first */
        while (l->held_count)
            deliver_held(l, false);
        l->inflight--;
        a->cb(privdata, &u);
        return;
    }
    release(l);
}

bool bp_apply_audited(const bp_change_t *c) {
    return c->kind != BP_KIND_AMBULANCE ||
           (c->amb_fields & ~(unsigned)(BP_AF_POSITION | BP_AF_HEADING | BP_AF_SPEED)) != 0;
}

int bp_apply_submit(bp_apply_t *a, size_t lane, const bp_change_t *c, int64_t expect_version,
                    int64_t prev, const bp_actor_t *actor, void *privdata) {
    lane_t *l = &a->lanes[lane % a->n_lanes];
    if (!bp_redis_up(l->redis)) return -1;
    if (l->inflight >= a->max_pending) return -2;
    const bp_hospital_info_t *base = NULL;
    if (c->kind == BP_KIND_HOSPITAL) {
        int i = bp_registry_hospital(a->reg, c->id, strlen(c->id));
        if (i < 0) return -1; /* validated before: cannot happen */
        base = &a->reg->hospitals[i];
    }
    int64_t now = bp_time_now_ms();
    int64_t minid =
        bp_apply_audited(c) ? now - (int64_t)a->s->audit_retention_days * 86400 * 1000 : 0;
    if (bp_apply_args_build(&a->args, &a->keys, l->sha[0] ? l->sha : NULL, c, base,
                            a->epoch_candidate, a->s, expect_version, now, actor, minid, prev))
        return -1;
    if (bp_redis_command_argv(l->redis, on_result, privdata, a->args.argc, a->args.argv,
                              a->args.len))
        return -1;
    l->inflight++;
    if (a->min_acks > 0) l->unwaited++;
    return 0;
}

/* -- the script's arguments ----------------------------------------------- */

void bp_apply_args_init(bp_apply_args_t *a) {
    memset(a, 0, sizeof *a);
    bp_buf_init(&a->json, 0, 1u << 16);
}

void bp_apply_args_free(bp_apply_args_t *a) {
    bp_buf_free(&a->json);
}

static bool arg(bp_apply_args_t *a, const char *s, size_t len) {
    if (a->argc >= BP_APPLY_MAX_ARGS) return false;
    a->argv[a->argc] = s;
    a->len[a->argc] = len;
    a->argc++;
    return true;
}

/* Formats into the arena and adds it as an argument. */
static bool argf(bp_apply_args_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool argf(bp_apply_args_t *a, const char *fmt, ...) {
    size_t room = sizeof a->arena - a->used;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(a->arena + a->used, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) return false;
    bool ok = arg(a, a->arena + a->used, (size_t)n);
    a->used += (size_t)n + 1;
    return ok;
}

/* A number (beds) or "" when this change leaves it alone. */
static bool arg_bed(bp_apply_args_t *a, bool present, int32_t v) {
    return present ? argf(a, "%d", v) : arg(a, "", 0);
}

/* The hash fields (bp_codec_stored_pairs): their count, then name, value
 * for each. Numbers live in p, which goes when the caller returns: they are
 * copied into the arena; the rest points into the change, as the other
 * arguments do. */
static bool arg_pairs(bp_apply_args_t *a, const bp_stored_pairs_t *p) {
    bool ok = argf(a, "%zu", p->n);
    for (size_t i = 0; ok && i < p->n; i++)
        ok = arg(a, p->name[i], strlen(p->name[i])) &&
             (p->in_text[i] ? argf(a, "%s", p->value[i]) : arg(a, p->value[i], p->value_len[i]));
    return ok;
}

/* An incident: the event fragment, the hash fields (with "act", and "op"
 * for a create: when it was opened), then the action, the bound on open
 * incidents and how long a closed one is kept. */
static int incident_args(bp_apply_args_t *a, const bp_change_t *c, const bp_settings_t *s) {
    const char *act = bp_inc_action_name(c->inc_action);
    bp_stored_pairs_t p;
    bp_codec_write_inc_fields(&a->json, c);
    bp_codec_stored_pairs(c, &p);
    bool ok = !a->json.failed && arg(a, bp_buf_data(&a->json), a->json.len) && arg_pairs(a, &p);
    ok = ok && arg(a, act, strlen(act)) && argf(a, "%d", s->stream_max_open_incidents) &&
         argf(a, "%d", BP_INCIDENT_CLOSED_TTL_S);
    return ok ? 0 : -1;
}

int bp_apply_args_build(bp_apply_args_t *a, const bp_keys_t *keys, const char *sha,
                        const bp_change_t *c, const bp_hospital_info_t *base,
                        const char *epoch_candidate, const bp_settings_t *s, int64_t expect_version,
                        int64_t now_ms, const bp_actor_t *actor, int64_t audit_minid,
                        int64_t prev) {
    static const char *const kinds[] = {"hospital", "ambulance", "incident"};
    a->argc = 0;
    a->used = 0;
    bp_buf_reset(&a->json);
    bool ok = sha ? arg(a, "EVALSHA", 7) && arg(a, sha, strlen(sha))
                  : arg(a, "EVAL", 4) && arg(a, bp_apply_lua, bp_apply_lua_len);
    char key[BP_KEY_MAX];
    bp_keys_entity(keys, c->kind, c->id, key, sizeof key);
    ok = ok && arg(a, "8", 1) && arg(a, keys->epoch, strlen(keys->epoch)) &&
         arg(a, keys->offset, strlen(keys->offset)) && arg(a, keys->stream, strlen(keys->stream)) &&
         argf(a, "%s", key) && arg(a, keys->sources, strlen(keys->sources)) &&
         arg(a, keys->audit, strlen(keys->audit)) &&
         arg(a, keys->incidents, strlen(keys->incidents)) &&
         arg(a, keys->decided, strlen(keys->decided));
    bool hosp = c->kind == BP_KIND_HOSPITAL;
    ok = ok && arg(a, kinds[c->kind], strlen(kinds[c->kind])) && arg(a, c->id, strlen(c->id)) &&
         arg(a, c->source, strlen(c->source)) && argf(a, "%lld", (long long)c->seq) &&
         argf(a, "%lld", (long long)c->at_ms) && argf(a, "%lld", (long long)now_ms) &&
         arg(a, epoch_candidate, strlen(epoch_candidate)) && argf(a, "%d", s->stream_maxlen);
    ok = ok && (expect_version >= 0 ? argf(a, "%lld", (long long)expect_version) : arg(a, "", 0));
    const char *aid = actor && actor->id ? actor->id : c->source;
    const char *arole = actor && actor->role ? actor->role : "anonymous";
    const char *aaddr = actor && actor->addr ? actor->addr : "";
    ok = ok && arg(a, aid, strlen(aid)) && arg(a, arole, strlen(arole)) &&
         arg(a, aaddr, strlen(aaddr)) &&
         (audit_minid > 0 ? argf(a, "%lld", (long long)audit_minid) : arg(a, "", 0)) &&
         (prev >= 0 && c->seq >= 0 ? argf(a, "%lld", (long long)prev) : arg(a, "", 0));
    if (!ok) return -1;
    if (hosp) {
        /* every JSON piece first: the arguments point into the buffer */
        size_t svc_off[BP_SVC__COUNT] = {0}, svc_len[BP_SVC__COUNT] = {0};
        if (c->has_ed) bp_codec_write_ed(&a->json, &c->ed);
        size_t ed_len = a->json.len;
        int m = 0;
        for (int v = 0; v < BP_SVC__COUNT; v++) {
            if (!(c->svc_fields & (1u << v))) continue;
            svc_off[v] = a->json.len;
            bp_codec_write_svc(&a->json, &c->svc[v]);
            svc_len[v] = a->json.len - svc_off[v];
            m++;
        }
        size_t fac_off = a->json.len;
        if (c->has_fac) {
            bp_codec_write_fac(&a->json, &c->fac);
            m++;
        }
        size_t fac_len = a->json.len - fac_off, chk_off = a->json.len;
        if (c->has_check) {
            bp_codec_write_check(&a->json, &c->check);
            m++;
        }
        size_t chk_len = a->json.len - chk_off;
        const char *j = a->json.len ? bp_buf_data(&a->json) : "";
        int k = bp_change_bed_types(c);
        if (a->json.failed || !arg(a, j, ed_len) || !argf(a, "%d", k)) return -1;
        for (int t = 0; t < BP_BED__COUNT && ok; t++) {
            uint8_t f = c->bed_fields[t];
            if (!f) continue;
            bool has_base = base && (base->beds_mask & (1u << t));
            const char *name = bp_bed_type_name((bp_bed_type_t)t);
            ok = arg(a, name, strlen(name)) && arg_bed(a, f & BP_BF_STAFFED, c->beds[t].staffed) &&
                 arg_bed(a, f & BP_BF_OCCUPIED, c->beds[t].occupied) &&
                 arg_bed(a, f & BP_BF_SURGE24, c->beds[t].surge24) &&
                 arg_bed(a, has_base, has_base ? base->staffed[t] : 0) &&
                 arg_bed(a, has_base, has_base ? base->surge24[t] : 0) &&
                 arg_bed(a, f & BP_BF_VENTILATED, c->icu[t].ventilated.total) &&
                 arg_bed(a, f & BP_BF_VENTILATED, c->icu[t].ventilated.free) &&
                 arg_bed(a, f & BP_BF_ECMO, c->icu[t].ecmo.total) &&
                 arg_bed(a, f & BP_BF_ECMO, c->icu[t].ecmo.free);
        }
        /* then the services and the facility changed: their count, and hash
         * field, JSON each */
        ok = ok && argf(a, "%d", m);
        for (int v = 0; v < BP_SVC__COUNT && ok; v++)
            if (c->svc_fields & (1u << v))
                ok = argf(a, "svc.%s", bp_service_name((bp_service_t)v)) &&
                     arg(a, j + svc_off[v], svc_len[v]);
        if (c->has_fac) ok = ok && arg(a, "fac", 3) && arg(a, j + fac_off, fac_len);
        if (c->has_check) ok = ok && arg(a, "chk", 3) && arg(a, j + chk_off, chk_len);
        return ok ? 0 : -1;
    }
    if (c->kind == BP_KIND_INCIDENT) return incident_args(a, c, s);
    /* ambulance: the event fragment, then the hash fields */
    bp_stored_pairs_t p;
    bp_codec_write_amb_fields(&a->json, c);
    bp_codec_stored_pairs(c, &p);
    ok = !a->json.failed && arg(a, a->json.len ? bp_buf_data(&a->json) : "", a->json.len) &&
         arg_pairs(a, &p);
    return ok ? 0 : -1;
}

extern const char bp_check_store_lua[];

typedef struct {
    bp_apply_check_cb cb;
    void *data;
} check_op_t;

static void on_check_stored(bp_redis_t *redis, redisReply *reply, void *privdata) {
    check_op_t *op = privdata;
    (void)redis;
    op->cb(op->data, reply && reply->type == REDIS_REPLY_INTEGER ? (int)reply->integer : -1);
    free(op);
}

int bp_apply_store_check(bp_apply_t *a, const char *id, uint64_t version, const bp_check_t *k,
                         bp_apply_check_cb cb, void *data) {
    bp_redis_t *redis = a->lanes[0].redis;
    if (!bp_redis_up(redis)) return -1;
    char key[BP_KEY_MAX];
    bp_keys_entity(&a->keys, BP_KIND_HOSPITAL, id, key, sizeof key);
    const char *keys[] = {key};
    bp_buf_t j;
    bp_buf_init(&j, 0, 1u << 12);
    bp_codec_write_check(&j, k);
    bp_rargs_t g = {0};
    bp_rargs_eval(&g, bp_check_store_lua, 1, keys);
    bp_rargs_addf(&g, "%llu", (unsigned long long)version);
    bp_rargs_put(&g, j.failed ? "" : bp_buf_data(&j), j.failed ? 0 : j.len);
    check_op_t *op = malloc(sizeof *op);
    if (op)
        *op = (check_op_t){cb, data};
    else
        g.failed = true;
    if (j.failed) g.failed = true;
    int rc = bp_rargs_send(&g, redis, on_check_stored, op); /* frees g */
    if (rc) free(op);
    bp_buf_free(&j);
    return rc ? -1 : 0;
}

bool bp_apply_up(const bp_apply_t *a, size_t lane) {
    return bp_redis_up(a->lanes[lane % a->n_lanes].redis);
}

size_t bp_apply_room(const bp_apply_t *a, size_t lane) {
    const lane_t *l = &a->lanes[lane % a->n_lanes];
    return l->inflight >= a->max_pending ? 0 : a->max_pending - l->inflight;
}

bp_redis_t *bp_apply_redis(bp_apply_t *a) {
    return a->lanes[0].redis;
}

void bp_apply_stats(const bp_apply_t *a, bp_apply_stats_t *out) {
    *out = a->stats;
}
