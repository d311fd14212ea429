/* EVALSHA of the apply script with the keys and arguments it expects. */
#include "bp_apply.h"
#include "bp_codec.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_time.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

struct bp_apply {
    bp_redis_t *redis;
    const bp_settings_t *s;
    const bp_registry_t *reg;
    bp_keys_t keys;
    bp_apply_cb cb;
    size_t max_pending;
    char sha[41];   /* "" until SCRIPT LOAD answered: use EVAL meanwhile */
    char epoch_candidate[33];
    bp_apply_args_t args;
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
    bp_apply_args_init(&a->args);
    bp_redis_opts_t o = bp_redis_opts(s, "apply");
    o.max_pending = max_pending + 1; /* + SCRIPT LOAD */
    o.on_up = on_up;
    o.data = a;
    a->redis = bp_redis_create(loop, &o);
    if (!a->redis) goto fail;
    return a;
fail:
    bp_apply_args_free(&a->args);
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
    bp_apply_args_free(&a->args);
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
    } else if (strcmp(what, "refused") == 0 && reply->elements == 4 &&
               reply->element[1]->type == REDIS_REPLY_STRING &&
               reply->element[2]->type == REDIS_REPLY_STRING &&
               reply->element[3]->type == REDIS_REPLY_STRING) {
        res.status = BP_APPLY_REFUSED;
        res.code = reply->element[1]->str;
        res.field = reply->element[2]->str;
        res.message = reply->element[3]->str;
    } else {
        res.status = BP_APPLY_FAILED;
        res.message = "unknown result from the apply script";
    }
    a->cb(privdata, &res);
}

bool bp_apply_audited(const bp_change_t *c) {
    return c->kind != BP_KIND_AMBULANCE ||
           (c->amb_fields & ~(unsigned)(BP_AF_POSITION | BP_AF_HEADING | BP_AF_SPEED)) != 0;
}

int bp_apply_submit(bp_apply_t *a, const bp_change_t *c, int64_t expect_version,
                    const bp_actor_t *actor, void *privdata) {
    if (!bp_redis_up(a->redis)) return -1;
    if (bp_apply_room(a) == 0) return -2;
    const bp_hospital_info_t *base = NULL;
    if (c->kind == BP_KIND_HOSPITAL) {
        int i = bp_registry_hospital(a->reg, c->id, strlen(c->id));
        if (i < 0) return -1; /* validated before: cannot happen */
        base = &a->reg->hospitals[i];
    }
    int64_t now = bp_time_now_ms();
    int64_t minid = bp_apply_audited(c)
                        ? now - (int64_t)a->s->audit_retention_days * 86400 * 1000
                        : 0;
    if (bp_apply_args_build(&a->args, &a->keys, a->sha[0] ? a->sha : NULL, c, base,
                            a->epoch_candidate, a->s, expect_version, now, actor,
                            minid))
        return -1;
    return bp_redis_command_argv(a->redis, on_result, privdata, a->args.argc, a->args.argv,
                                 a->args.len)
               ? -1
               : 0;
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

/* A decimal with fixed places, trailing zeros trimmed (as bp_json_num). */
static bool arg_num(bp_apply_args_t *a, double v, int places) {
    bp_buf_t b;
    char tmp[64];
    bp_buf_init(&b, 0, sizeof tmp - 1);
    bp_json_num(&b, v, places);
    snprintf(tmp, sizeof tmp, "%.*s", (int)b.len, b.failed ? "" : bp_buf_data(&b));
    bp_buf_free(&b);
    return argf(a, "%s", tmp);
}

/* An incident: the event fragment, the hash fields (with "act", and "op"
 * for a create: when it was opened), then the action, the bound on open
 * incidents and how long a closed one is kept. */
static int incident_args(bp_apply_args_t *a, const bp_change_t *c, const bp_settings_t *s) {
    const bp_incident_state_t *n = &c->inc;
    unsigned f = c->inc_fields;
    bool create = c->inc_action == BP_INC_CREATE;
    const char *act = bp_inc_action_name(c->inc_action);
    bp_codec_write_inc_fields(&a->json, c);
    int pairs = 1 + create + !!(f & BP_IF_PRIORITY) + !!(f & BP_IF_CATEGORY) +
                2 * !!(f & BP_IF_POSITION) + !!(f & BP_IF_ADDRESS) + !!(f & BP_IF_RECEIVED) +
                !!(f & BP_IF_UNIT) + !!(f & BP_IF_DESTINATION);
    bool ok = !a->json.failed && arg(a, bp_buf_data(&a->json), a->json.len) &&
              argf(a, "%d", pairs) && arg(a, "act", 3) && arg(a, act, strlen(act));
    if (ok && create) ok = arg(a, "op", 2) && argf(a, "%lld", (long long)c->at_ms);
    if (ok && (f & BP_IF_PRIORITY)) ok = arg(a, "priority", 8) && argf(a, "%d", n->priority);
    if (ok && (f & BP_IF_CATEGORY)) {
        const char *cat = bp_category_name(n->category);
        ok = arg(a, "category", 8) && arg(a, cat, strlen(cat));
    }
    if (ok && (f & BP_IF_POSITION))
        ok = arg(a, "lat", 3) && arg_num(a, n->lat, 6) && arg(a, "lon", 3) && arg_num(a, n->lon, 6);
    if (ok && (f & BP_IF_ADDRESS))
        ok = arg(a, "address", 7) && arg(a, n->address, strlen(n->address));
    if (ok && (f & BP_IF_RECEIVED))
        ok = arg(a, "received", 8) && argf(a, "%lld", (long long)n->received_ms);
    if (ok && (f & BP_IF_UNIT)) ok = arg(a, "unit", 4) && arg(a, n->unit, strlen(n->unit));
    if (ok && (f & BP_IF_DESTINATION))
        ok = arg(a, "dest", 4) && arg(a, n->destination, strlen(n->destination));
    ok = ok && arg(a, act, strlen(act)) && argf(a, "%d", s->stream_max_open_incidents) &&
         argf(a, "%d", BP_INCIDENT_CLOSED_TTL_S);
    return ok ? 0 : -1;
}

int bp_apply_args_build(bp_apply_args_t *a, const bp_keys_t *keys, const char *sha,
                        const bp_change_t *c, const bp_hospital_info_t *base,
                        const char *epoch_candidate, const bp_settings_t *s,
                        int64_t expect_version, int64_t now_ms, const bp_actor_t *actor,
                        int64_t audit_minid) {
    static const char *const kinds[] = {"hospital", "ambulance", "incident"};
    a->argc = 0;
    a->used = 0;
    bp_buf_reset(&a->json);
    bool ok = sha ? arg(a, "EVALSHA", 7) && arg(a, sha, strlen(sha))
                  : arg(a, "EVAL", 4) && arg(a, bp_apply_lua, bp_apply_lua_len);
    char key[BP_KEY_MAX];
    bp_keys_entity(keys, c->kind, c->id, key, sizeof key);
    ok = ok && arg(a, "7", 1) && arg(a, keys->epoch, strlen(keys->epoch)) &&
         arg(a, keys->offset, strlen(keys->offset)) && arg(a, keys->stream, strlen(keys->stream)) &&
         argf(a, "%s", key) && arg(a, keys->sources, strlen(keys->sources)) &&
         arg(a, keys->audit, strlen(keys->audit)) &&
         arg(a, keys->incidents, strlen(keys->incidents));
    bool hosp = c->kind == BP_KIND_HOSPITAL;
    ok = ok && arg(a, kinds[c->kind], strlen(kinds[c->kind])) &&
         arg(a, c->id, strlen(c->id)) && arg(a, c->source, strlen(c->source)) &&
         argf(a, "%lld", (long long)c->seq) && argf(a, "%lld", (long long)c->at_ms) &&
         argf(a, "%lld", (long long)now_ms) &&
         arg(a, epoch_candidate, strlen(epoch_candidate)) && argf(a, "%d", s->stream_maxlen);
    ok = ok && (expect_version >= 0 ? argf(a, "%lld", (long long)expect_version) : arg(a, "", 0));
    const char *aid = actor && actor->id ? actor->id : c->source;
    const char *arole = actor && actor->role ? actor->role : "anonymous";
    const char *aaddr = actor && actor->addr ? actor->addr : "";
    ok = ok && arg(a, aid, strlen(aid)) && arg(a, arole, strlen(arole)) &&
         arg(a, aaddr, strlen(aaddr)) &&
         (audit_minid > 0 ? argf(a, "%lld", (long long)audit_minid) : arg(a, "", 0));
    if (!ok) return -1;
    if (hosp) {
        if (c->has_ed) bp_codec_write_ed(&a->json, &c->ed);
        int k = 0;
        for (int t = 0; t < BP_BED__COUNT; t++) k += c->bed_fields[t] != 0;
        if (a->json.failed || !arg(a, a->json.len ? bp_buf_data(&a->json) : "", a->json.len) ||
            !argf(a, "%d", k))
            return -1;
        for (int t = 0; t < BP_BED__COUNT && ok; t++) {
            uint8_t f = c->bed_fields[t];
            if (!f) continue;
            bool has_base = base && (base->beds_mask & (1u << t));
            const char *name = bp_bed_type_name((bp_bed_type_t)t);
            ok = arg(a, name, strlen(name)) && arg_bed(a, f & BP_BF_STAFFED, c->beds[t].staffed) &&
                 arg_bed(a, f & BP_BF_OCCUPIED, c->beds[t].occupied) &&
                 arg_bed(a, f & BP_BF_SURGE24, c->beds[t].surge24) &&
                 arg_bed(a, has_base, has_base ? base->staffed[t] : 0) &&
                 arg_bed(a, has_base, has_base ? base->surge24[t] : 0);
        }
        return ok ? 0 : -1;
    }
    if (c->kind == BP_KIND_INCIDENT) return incident_args(a, c, s);
    /* ambulance: the event fragment, then the hash fields */
    const bp_ambulance_state_t *m = &c->amb;
    unsigned f = c->amb_fields;
    bp_codec_write_amb_fields(&a->json, c);
    int pairs = !!(f & BP_AF_STATUS) + 2 * !!(f & BP_AF_POSITION) + !!(f & BP_AF_HEADING) +
                !!(f & BP_AF_SPEED) + !!(f & BP_AF_DESTINATION) + !!(f & BP_AF_INCIDENT);
    ok = !a->json.failed && arg(a, a->json.len ? bp_buf_data(&a->json) : "", a->json.len) &&
         argf(a, "%d", pairs);
    if (ok && (f & BP_AF_STATUS)) {
        const char *st = bp_amb_status_name(m->status);
        ok = arg(a, "status", 6) && arg(a, st, strlen(st));
    }
    if (ok && (f & BP_AF_POSITION))
        ok = arg(a, "lat", 3) && arg_num(a, m->lat, 6) && arg(a, "lon", 3) && arg_num(a, m->lon, 6);
    if (ok && (f & BP_AF_HEADING)) ok = arg(a, "heading", 7) && arg_num(a, m->heading, 1);
    if (ok && (f & BP_AF_SPEED)) ok = arg(a, "speed", 5) && arg_num(a, m->speed, 1);
    if (ok && (f & BP_AF_DESTINATION))
        ok = arg(a, "dest", 4) && arg(a, m->destination, strlen(m->destination));
    if (ok && (f & BP_AF_INCIDENT)) ok = arg(a, "inc", 3) && arg(a, m->incident, strlen(m->incident));
    return ok ? 0 : -1;
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
