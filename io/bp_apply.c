/* EVALSHA of the apply script with the keys and arguments it expects. */
#include "bp_apply.h"
#include "bp_codec.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_time.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

extern const char bp_apply_lua[];
extern const size_t bp_apply_lua_len;

struct bp_apply {
    bp_redis_t *redis;
    const bp_settings_t *s;
    const bp_registry_t *reg;
    bp_keys_t keys;
    bp_apply_cb cb;
    size_t max_pending;
    char sha[41];   /* "" until SCRIPT LOAD answered: use EVAL meanwhile */
    char epoch_candidate[33];
    char maxlen[16];
    char **hospital_base; /* base JSON per registry hospital */
    bp_buf_t patch;
};

static void random_hex(char *out, size_t nbytes) {
    unsigned char raw[16];
    if (nbytes > sizeof raw) nbytes = sizeof raw;
    if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes) {
        /* no entropy source: time and pid still make collisions unlikely */
        uint64_t x = bp_time_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)bp_time_now_ms();
        for (size_t i = 0; i < nbytes; i++) raw[i] = (unsigned char)(x >> (8 * (i % 8)));
    }
    for (size_t i = 0; i < nbytes; i++) sprintf(out + 2 * i, "%02x", raw[i]);
}

static void on_loaded(bp_redis_t *r, redisReply *reply, void *privdata) {
    bp_apply_t *a = privdata;
    (void)r;
    if (reply && reply->type == REDIS_REPLY_STRING && reply->len == 40) {
        memcpy(a->sha, reply->str, 40);
        a->sha[40] = '\0';
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        bp_error("redis apply: SCRIPT LOAD failed: %s", reply->str);
    }
}

static void on_up(bp_redis_t *r, void *data) {
    bp_apply_t *a = data;
    a->sha[0] = '\0';
    const char *argv[3] = {"SCRIPT", "LOAD", bp_apply_lua};
    size_t lens[3] = {6, 4, bp_apply_lua_len};
    bp_redis_command_argv(r, on_loaded, a, 3, argv, lens);
}

bp_apply_t *bp_apply_create(uv_loop_t *loop, const bp_settings_t *s, const bp_registry_t *reg,
                            size_t max_pending, bp_apply_cb cb) {
    bp_apply_t *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->s = s;
    a->reg = reg;
    a->cb = cb;
    a->max_pending = max_pending;
    bp_keys_init(&a->keys, s->redis_prefix);
    random_hex(a->epoch_candidate, 16);
    snprintf(a->maxlen, sizeof a->maxlen, "%d", s->stream_maxlen);
    bp_buf_init(&a->patch, 0, 1u << 20);
    a->hospital_base = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *a->hospital_base);
    if (!a->hospital_base) goto fail;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        bp_buf_t b;
        bp_buf_init(&b, 0, 1u << 16);
        bp_codec_write_hospital_base(&b, &reg->hospitals[i]);
        if (b.failed) {
            bp_buf_free(&b);
            goto fail;
        }
        a->hospital_base[i] = bp_buf_steal(&b);
    }
    bp_redis_opts_t o = {
        .name = "apply",
        .host = s->redis_host,
        .port = s->redis_port,
        .user = s->redis_user,
        .password = s->redis_password,
        .connect_timeout_ms = s->redis_connect_timeout_ms,
        .ping_interval_ms = s->redis_ping_interval_ms,
        .command_timeout_ms = s->redis_connect_timeout_ms * 2,
        .reconnect_max_ms = s->redis_reconnect_max_ms,
        .max_pending = max_pending + 1, /* + SCRIPT LOAD */
        .on_up = on_up,
        .data = a,
    };
    a->redis = bp_redis_create(loop, &o);
    if (!a->redis) goto fail;
    return a;
fail:
    if (a->hospital_base)
        for (size_t i = 0; i < reg->n_hospitals; i++) free(a->hospital_base[i]);
    free(a->hospital_base);
    bp_buf_free(&a->patch);
    free(a);
    return NULL;
}

typedef struct {
    void (*cb)(void *);
    void *data;
    bp_apply_t *a;
} close_ctx_t;

static void on_redis_closed(void *p) {
    close_ctx_t *c = p;
    bp_apply_t *a = c->a;
    for (size_t i = 0; i < a->reg->n_hospitals; i++) free(a->hospital_base[i]);
    free(a->hospital_base);
    bp_buf_free(&a->patch);
    free(a);
    if (c->cb) c->cb(c->data);
    free(c);
}

void bp_apply_close(bp_apply_t *a, void (*on_closed)(void *), void *data) {
    if (!a) {
        if (on_closed) on_closed(data);
        return;
    }
    close_ctx_t *c = malloc(sizeof *c);
    if (!c) abort(); /* shutting down without memory: nothing sensible left to do */
    *c = (close_ctx_t){on_closed, data, a};
    bp_redis_close(a->redis, on_redis_closed, c);
}

static uint64_t int_at(const redisReply *r, size_t i) {
    if (i >= r->elements) return 0;
    const redisReply *e = r->element[i];
    if (e->type == REDIS_REPLY_INTEGER) return e->integer > 0 ? (uint64_t)e->integer : 0;
    if (e->type == REDIS_REPLY_STRING) return strtoull(e->str, NULL, 10);
    return 0;
}

static void on_result(bp_redis_t *r, redisReply *reply, void *privdata) {
    bp_apply_t *a = bp_redis_data(r);
    bp_apply_result_t res = {.status = BP_APPLY_UNAVAILABLE};
    if (!reply) {
        a->cb(privdata, &res);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        if (strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            /* the script cache was flushed: load again, this one is retried by its sender */
            a->sha[0] = '\0';
            on_up(r, a);
        } else {
            res.status = BP_APPLY_FAILED;
            res.message = reply->str;
            bp_error("redis apply: %s", reply->str);
        }
        a->cb(privdata, &res);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        res.status = BP_APPLY_FAILED;
        res.message = "unexpected reply from the apply script";
        a->cb(privdata, &res);
        return;
    }
    const char *what = reply->element[0]->str;
    if (strcmp(what, "ok") == 0 || strcmp(what, "dup") == 0) {
        res.status = what[0] == 'o' ? BP_APPLY_OK : BP_APPLY_DUP;
        res.offset = int_at(reply, 1);
        res.epoch = reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_STRING
                        ? reply->element[2]->str
                        : "";
        if (res.status == BP_APPLY_OK) res.version = int_at(reply, 3);
        /* Our candidate became the stream's epoch: a stream recreated later
         * (Redis flushed or lost it) needs another one, or clients would take
         * the new stream's offsets for the old one's. (Commands already sent
         * carry this candidate; they only use it if the epoch is lost again
         * before they run.) */
        if (strcmp(res.epoch, a->epoch_candidate) == 0) random_hex(a->epoch_candidate, 16);
    } else if (strcmp(what, "conflict") == 0) {
        res.status = BP_APPLY_CONFLICT;
        res.version = int_at(reply, 1);
        if (reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_STRING) {
            res.stored = reply->element[2]->str;
            res.stored_len = reply->element[2]->len;
        }
    } else if (strcmp(what, "out_of_order") == 0) {
        res.status = BP_APPLY_OUT_OF_ORDER;
        res.stored_at = (int64_t)int_at(reply, 1);
    } else {
        res.status = BP_APPLY_FAILED;
        res.message = "unknown result from the apply script";
    }
    a->cb(privdata, &res);
}

int bp_apply_submit(bp_apply_t *a, const bp_change_t *c, int64_t expect_version, void *privdata) {
    if (!bp_redis_up(a->redis)) return -1;
    if (bp_apply_room(a) == 0) return -2;
    const char *base;
    if (c->kind == BP_KIND_HOSPITAL) {
        int i = bp_registry_hospital(a->reg, c->id, strlen(c->id));
        if (i < 0) return -1; /* validated before: cannot happen */
        base = a->hospital_base[i];
    } else {
        base = "{\"version\":0,\"at\":0,\"updated\":0,\"source\":\"\",\"status\":\"available_station\"}";
    }
    bp_buf_reset(&a->patch);
    bp_codec_write_patch(&a->patch, c);
    if (a->patch.failed) return -1;
    char seq[24], expect[24], now[24];
    snprintf(seq, sizeof seq, "%lld", (long long)c->seq);
    if (expect_version >= 0) snprintf(expect, sizeof expect, "%lld", (long long)expect_version);
    else expect[0] = '\0';
    snprintf(now, sizeof now, "%lld", (long long)bp_time_now_ms());

    const char *argv[18];
    size_t lens[18];
    int n = 0;
#define ARG(s, l) (argv[n] = (s), lens[n] = (l), n++)
#define ARGS(s) ARG(s, strlen(s))
    if (a->sha[0]) {
        ARG("EVALSHA", 7);
        ARG(a->sha, 40);
    } else {
        ARG("EVAL", 4);
        ARG(bp_apply_lua, bp_apply_lua_len);
    }
    ARG("5", 1);
    ARGS(a->keys.epoch);
    ARGS(a->keys.offset);
    ARGS(a->keys.stream);
    ARGS(c->kind == BP_KIND_HOSPITAL ? a->keys.hospitals : a->keys.ambulances);
    ARGS(a->keys.sources);
    ARGS(c->kind == BP_KIND_HOSPITAL ? "hospital" : "ambulance");
    ARGS(c->id);
    ARGS(c->source);
    ARGS(seq);
    ARG(bp_buf_data(&a->patch), a->patch.len);
    ARGS(base);
    ARGS(a->epoch_candidate);
    ARGS(a->maxlen);
    ARGS(expect);
    ARGS(now);
#undef ARG
#undef ARGS
    return bp_redis_command_argv(a->redis, on_result, privdata, n, argv, lens) ? -1 : 0;
}

bool bp_apply_up(const bp_apply_t *a) {
    return bp_redis_up(a->redis);
}

size_t bp_apply_room(const bp_apply_t *a) {
    bp_redis_stats_t st;
    bp_redis_stats(a->redis, &st);
    return st.pending >= a->max_pending ? 0 : a->max_pending - st.pending;
}

bp_redis_t *bp_apply_redis(bp_apply_t *a) {
    return a->redis;
}
