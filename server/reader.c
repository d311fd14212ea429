/* Snapshot load and stream following (see reader.h). */
#include "reader.h"
#include "bp_apply.h"
#include "bp_codec.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_redis.h"
#include "bp_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define BLOCK_MS        5000
#define XREAD_COUNT     "1000"
#define EPOCH_CHECK_MS  1000
#define RANGE_MAX_COUNT 100000

struct bp_reader {
    uv_loop_t *loop;
    const bp_settings_t *s;
    bp_state_t *state;
    bp_reader_cbs_t cbs;
    void *data;
    size_t history;
    bp_keys_t keys;
    bp_redis_t *cmd, *block;
    uv_timer_t timer;
    bool loaded, loading, xread_inflight, closing, need_reload;
    char reload_reason[16];
    char epoch[BP_EPOCH_MAX + 1];
    uint64_t offset;
    uint64_t last_hash;    /* of the entry at offset (its data), 0 = unknown */
    char loaded_addr[300]; /* the server the state was loaded from */
    /* what was read before the load in flight: to see a rewritten history */
    bool have_prev;
    char prev_epoch[BP_EPOCH_MAX + 1];
    uint64_t prev_offset, prev_hash;
    char epoch_candidate[33];
    bp_reader_stats_t stats;
    void (*on_closed)(void *);
    void *closed_data;
};

static void load(bp_reader_t *r, const char *reason);
static void xread(bp_reader_t *r);

/* A fresh random epoch for a stream that has none. */
static void new_epoch_candidate(bp_reader_t *r) {
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        uint64_t x = bp_time_mono_ns() ^ (uint64_t)bp_time_now_ms();
        memcpy(raw, &x, 8);
        memcpy(raw + 8, &x, 8);
    }
    for (int i = 0; i < 16; i++)
        sprintf(r->epoch_candidate + 2 * i, "%02x", raw[i]);
}

static uint64_t parse_offset(const char *id) {
    return strtoull(id, NULL, 10); /* "<offset>-0" */
}

/* FNV-1a of a stream entry's data ("d"): two entries at one offset with
 * different data are different changes. 0 when it has none. */
static uint64_t entry_hash(const redisReply *e) {
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return 0;
    const redisReply *f = e->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || strcmp(k->str, "d"))
            continue;
        uint64_t h = 1469598103934665603ULL;
        for (size_t j = 0; j < v->len; j++)
            h = (h ^ (unsigned char)v->str[j]) * 1099511628211ULL;
        return h ? h : 1;
    }
    return 0;
}

/* One stream entry [id, [k, kind, i, id, d, data]] into a change. */
static int parse_entry(const redisReply *e, bp_change_t *c) {
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
        return -1;
    const redisReply *f = e->element[1];
    const char *kind = NULL, *id = NULL, *d = NULL;
    size_t dlen = 0;
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        if (strcmp(k->str, "k") == 0)
            kind = v->str;
        else if (strcmp(k->str, "i") == 0)
            id = v->str;
        else if (strcmp(k->str, "d") == 0)
            d = v->str, dlen = v->len;
    }
    if (!kind || !id || !d) return -1;
    bp_kind_t k;
    if (strcmp(kind, "hospital") == 0)
        k = BP_KIND_HOSPITAL;
    else if (strcmp(kind, "ambulance") == 0)
        k = BP_KIND_AMBULANCE;
    else if (strcmp(kind, "incident") == 0)
        k = BP_KIND_INCIDENT;
    else
        return -1;
    bp_error_t err;
    if (bp_codec_parse_stored(k, d, dlen, c, &err)) return -1;
    snprintf(c->id, sizeof c->id, "%s", id);
    c->offset = parse_offset(e->element[0]->str);
    return c->offset ? 0 : -1;
}

/* -- snapshot ---------------------------------------------------------------- */

static void on_queued(bp_redis_t *redis, redisReply *reply, void *privdata) {
    (void)redis;
    (void)reply;
    (void)privdata;
}

/* One entity's HGETALL (empty: it never reported) into the state. */
static void apply_hash(bp_reader_t *r, const redisReply *h, bp_kind_t kind, const char *id) {
    enum { MAX_FIELDS = 128 };
    if (h->type != REDIS_REPLY_ARRAY || h->elements == 0) return;
    const char *keys[MAX_FIELDS], *vals[MAX_FIELDS];
    size_t klens[MAX_FIELDS], vlens[MAX_FIELDS], n = 0;
    for (size_t i = 0; i + 1 < h->elements && n < MAX_FIELDS; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        keys[n] = k->str;
        klens[n] = k->len;
        vals[n] = v->str;
        vlens[n] = v->len;
        n++;
    }
    bp_change_t c;
    bp_error_t err;
    if (bp_codec_parse_hash(kind, n, keys, klens, vals, vlens, &c, &err)) {
        r->stats.bad_events++;
        static const char *const kinds[] = {"hospital", "ambulance", "incident"};
        bp_warn("reader: stored %s %s unreadable: %s", kinds[kind], id, err.message);
        return;
    }
    snprintf(c.id, sizeof c.id, "%s", id);
    bp_state_apply(r->state, &c);
    /* a report applied while no server ran: its check derived now */
    if (bp_state_rederive(r->state, &c))
        bp_info("reader: %s: plausibility check derived at load (report version %llu)", id,
                (unsigned long long)c.pre.version);
}

static void on_epoch_replaced(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_reader_t *r = privdata;
    (void)redis;
    r->loading = false;
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        if (reply) bp_error("reader: cannot replace the epoch: %s", reply->str);
        r->need_reload = true; /* the next load sees the rewrite again */
        return;
    }
    load(r, "failover");
}

/* The snapshot's history differs from what this server read before it
 * (see reader.h): a new epoch, unless another server set one already. */
static bool rewritten(bp_reader_t *r, const char *epoch, uint64_t offset,
                      const redisReply *at_prev) {
    if (!r->have_prev || strcmp(epoch, r->prev_epoch) != 0) return false;
    const char *what = NULL;
    if (offset < r->prev_offset) {
        what = "the stream ends before";
    } else if (r->prev_hash && at_prev->type == REDIS_REPLY_ARRAY && at_prev->elements == 1 &&
               entry_hash(at_prev->element[0]) != r->prev_hash) {
        what = "another change is at";
    }
    if (!what) return false;
    r->stats.rewrites++;
    bp_warn("reader: history rewritten (a failover to a replica that lacked entries): %s offset "
            "%llu, read before; the stream is now at %llu. Starting a new epoch so that every "
            "client takes a fresh snapshot",
            what, (unsigned long long)r->prev_offset, (unsigned long long)offset);
    static const char lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                              "redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0";
    new_epoch_candidate(r);
    if (bp_redis_command(r->cmd, on_epoch_replaced, r, "EVAL %s 1 %s %s %s", lua, r->keys.epoch,
                         r->prev_epoch, r->epoch_candidate) == 0) {
        r->loading = true;
    } else {
        r->need_reload = true;
    }
    return true;
}

static void on_loaded(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_reader_t *r = privdata;
    (void)redis;
    r->loading = false;
    /* io/snapshot.lua: [epoch, offset, [one HGETALL per hospital, one per
     * ambulance], the open incidents, history, the entry at the offset read
     * before] */
    const bp_registry_t *reg = bp_state_registry(r->state);
    size_t nh = reg->n_hospitals, nu = reg->n_units;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 6 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[2]->type != REDIS_REPLY_ARRAY || reply->element[2]->elements != nh + nu ||
        reply->element[3]->type != REDIS_REPLY_ARRAY) {
        if (reply)
            bp_error("reader: snapshot load failed (%s)",
                     reply->type == REDIS_REPLY_ERROR ? reply->str
                     : reply->type == REDIS_REPLY_ARRAY && reply->elements == 6 &&
                             reply->element[0]->type == REDIS_REPLY_NIL
                         ? "no epoch yet, and Redis refuses to create one"
                         : "unexpected reply");
        r->need_reload = true; /* retried by the timer */
        return;
    }
    redisReply **el = reply->element;
    uint64_t offset = el[1]->type == REDIS_REPLY_STRING ? strtoull(el[1]->str, NULL, 10) : 0;
    if (rewritten(r, el[0]->str, offset, el[5])) return;
    r->have_prev = false;
    bp_state_reset(r->state);
    snprintf(r->epoch, sizeof r->epoch, "%s", el[0]->str);
    r->offset = offset;
    redisReply **hashes = el[2]->element;
    for (size_t i = 0; i < nh; i++)
        apply_hash(r, hashes[i], BP_KIND_HOSPITAL, reg->hospitals[i].id);
    for (size_t i = 0; i < nu; i++)
        apply_hash(r, hashes[nh + i], BP_KIND_AMBULANCE, reg->units[i].id);
    /* incidents: [id, [field, value, ...], ...] */
    const redisReply *inc = el[3];
    for (size_t i = 0; inc->type == REDIS_REPLY_ARRAY && i + 1 < inc->elements; i += 2) {
        const redisReply *id = inc->element[i];
        if (id->type == REDIS_REPLY_STRING && bp_is_incident_id(id->str, id->len))
            apply_hash(r, inc->element[i + 1], BP_KIND_INCIDENT, id->str);
    }
    r->loaded = true;
    r->need_reload = false;
    r->stats.reloads++;
    bp_info("reader: snapshot loaded at epoch %s offset %llu (%s)", r->epoch,
            (unsigned long long)r->offset, r->reload_reason);
    if (r->cbs.on_reload) r->cbs.on_reload(r->data, r->epoch, r->offset, r->reload_reason);
    /* history: XREVRANGE is newest first; hand it over oldest first, and only
     * a contiguous run ending at offset */
    const redisReply *hist = el[4];
    r->last_hash = 0;
    if (hist->type == REDIS_REPLY_ARRAY && hist->elements) {
        const redisReply *newest = hist->element[0];
        if (newest->type == REDIS_REPLY_ARRAY && newest->elements == 2 &&
            newest->element[0]->type == REDIS_REPLY_STRING &&
            parse_offset(newest->element[0]->str) == r->offset)
            r->last_hash = entry_hash(newest);
        size_t n = hist->elements, start = n;
        uint64_t expect = r->offset;
        for (size_t i = 0; i < n; i++) {
            const redisReply *e = hist->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
                e->element[0]->type != REDIS_REPLY_STRING ||
                parse_offset(e->element[0]->str) != expect)
                break;
            start = i;
            expect--;
        }
        /* indexes 0..start hold offset .. offset - start: oldest first */
        for (size_t i = start == n ? 0 : start + 1; i-- > 0;) {
            bp_change_t c;
            if (parse_entry(hist->element[i], &c) == 0 && r->cbs.on_event)
                r->cbs.on_event(r->data, &c, false);
        }
    }
    if (r->cbs.on_batch) r->cbs.on_batch(r->data);
    if (r->xread_inflight) {
        /* The XREAD in flight asks for entries after the offset held before
         * this load. After an epoch change the new stream's entries up to
         * that old offset would only come when its BLOCK times out: drop the
         * link so that it reads again, from the new offset, at once. */
        bp_redis_reset(r->block, "state reloaded");
        return;
    }
    xread(r);
}

static void load(bp_reader_t *r, const char *reason) {
    if (r->loading || r->closing) return;
    snprintf(r->reload_reason, sizeof r->reload_reason, "%s", reason);
    if (!bp_redis_up(r->cmd)) {
        r->need_reload = true;
        return;
    }
    /* what this server read so far, to compare the new snapshot with */
    if (r->loaded) {
        r->have_prev = true;
        snprintf(r->prev_epoch, sizeof r->prev_epoch, "%s", r->epoch);
        r->prev_offset = r->offset;
        r->prev_hash = r->last_hash;
    }
    snprintf(r->loaded_addr, sizeof r->loaded_addr, "%s", bp_redis_addr(r->cmd));
    char count[24];
    snprintf(count, sizeof count, "%zu", r->history ? r->history : 1);
    /* A new candidate for every load: when Redis lost the epoch, the SET NX
     * below starts a new stream, and reusing a candidate that became an
     * epoch before would give it the old stream's epoch, so clients would
     * take its offsets for the old ones. Its answer does not matter: a
     * Redis that refuses writes refuses it, and the load says whether
     * there is an epoch. */
    new_epoch_candidate(r);
    int rc =
        bp_redis_command(r->cmd, on_queued, r, "SET %s %s NX", r->keys.epoch, r->epoch_candidate);
    /* one atomic read: nothing can commit between the entities and the
     * offset. argv: EVAL, script, numkeys, 4 keys + one per entity, 3 args;
     * the entity keys live in one buffer of BP_KEY_MAX each. */
    const bp_registry_t *reg = bp_state_registry(r->state);
    size_t n = reg->n_hospitals + reg->n_units, argc = 3 + 4 + n + 3;
    const char **argv = malloc(argc * sizeof *argv);
    char *keys = malloc(n ? n * BP_KEY_MAX : 1);
    char numkeys[24];
    if (!argv || !keys) {
        free(argv);
        free(keys);
        r->need_reload = true;
        return;
    }
    snprintf(numkeys, sizeof numkeys, "%zu", 4 + n);
    size_t a = 0;
    argv[a++] = "EVAL";
    argv[a++] = bp_snapshot_lua;
    argv[a++] = numkeys;
    argv[a++] = r->keys.epoch;
    argv[a++] = r->keys.offset;
    argv[a++] = r->keys.stream;
    argv[a++] = r->keys.incidents;
    for (size_t i = 0; i < n; i++) {
        char *key = keys + i * BP_KEY_MAX;
        bool hosp = i < reg->n_hospitals;
        bp_keys_entity(&r->keys, hosp ? BP_KIND_HOSPITAL : BP_KIND_AMBULANCE,
                       hosp ? reg->hospitals[i].id : reg->units[i - reg->n_hospitals].id, key,
                       BP_KEY_MAX);
        argv[a++] = key;
    }
    argv[a++] = r->keys.incident;
    argv[a++] = count;
    char prev[32];
    snprintf(prev, sizeof prev, "%llu-0", (unsigned long long)(r->have_prev ? r->prev_offset : 0));
    argv[a++] = prev;
    /* hiredis copies the arguments into its output buffer */
    rc |= bp_redis_command_argv(r->cmd, on_loaded, r, (int)argc, argv, NULL);
    free(argv);
    free(keys);
    if (rc) {
        bp_redis_reset(r->cmd, "snapshot commands not sent");
        r->need_reload = true;
        return;
    }
    r->loading = true;
}

/* -- following the stream --------------------------------------------------- */

static void on_xread(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_reader_t *r = privdata;
    (void)redis;
    r->xread_inflight = false;
    if (!reply) return; /* link lost: resumed when it is back */
    if (reply->type == REDIS_REPLY_ERROR) {
        bp_error("reader: XREAD failed: %s", reply->str);
        bp_redis_reset(r->block, "XREAD error");
        return;
    }
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 && r->loaded && !r->loading) {
        const redisReply *s = reply->element[0];
        const redisReply *entries =
            s->type == REDIS_REPLY_ARRAY && s->elements == 2 ? s->element[1] : NULL;
        size_t n = entries && entries->type == REDIS_REPLY_ARRAY ? entries->elements : 0;
        for (size_t i = 0; i < n; i++) {
            bp_change_t c;
            if (parse_entry(entries->element[i], &c)) {
                r->stats.bad_events++;
                bp_warn("reader: unreadable stream entry skipped");
                /* its offset is lost to us: reload to stay exact */
                load(r, "gap");
                break;
            }
            if (c.offset <= r->offset) continue; /* already have it */
            if (c.offset != r->offset + 1) {
                bp_warn("reader: stream jumped from %llu to %llu; reloading",
                        (unsigned long long)r->offset, (unsigned long long)c.offset);
                load(r, "gap");
                break;
            }
            bp_state_mark(r->state, &c);
            bp_state_apply(r->state, &c);
            r->offset = c.offset;
            r->last_hash = entry_hash(entries->element[i]);
            r->stats.events++;
            if (r->cbs.on_event) r->cbs.on_event(r->data, &c, true);
        }
        if (n && r->cbs.on_batch) r->cbs.on_batch(r->data);
    }
    xread(r);
}

static void xread(bp_reader_t *r) {
    if (r->closing || !r->loaded || r->loading || r->xread_inflight || !bp_redis_up(r->block))
        return;
    /* The stream is read from the server the state came from. After a
     * failover one link may reach the new master before the other: wait
     * for both (each follows the sentinels), then reload or read. */
    if (strcmp(bp_redis_addr(r->block), r->loaded_addr) != 0) {
        if (strcmp(bp_redis_addr(r->cmd), bp_redis_addr(r->block)) == 0) load(r, "reconnect");
        return;
    }
    char id[32];
    snprintf(id, sizeof id, "%llu-0", (unsigned long long)r->offset);
    if (bp_redis_command(r->block, on_xread, r, "XREAD COUNT %s BLOCK %d STREAMS %s %s",
                         XREAD_COUNT, BLOCK_MS, r->keys.stream, id) == 0)
        r->xread_inflight = true;
}

/* -- epoch checks and links ----------------------------------------------- */

static void on_epoch(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_reader_t *r = privdata;
    (void)redis;
    if (!reply || !r->loaded || r->loading) return;
    if (reply->type == REDIS_REPLY_NIL ||
        (reply->type == REDIS_REPLY_STRING && strcmp(reply->str, r->epoch) != 0)) {
        bp_warn("reader: epoch changed (%s -> %s); reloading", r->epoch,
                reply->type == REDIS_REPLY_STRING ? reply->str : "none");
        load(r, "epoch");
    }
}

static void on_timer(uv_timer_t *t) {
    bp_reader_t *r = t->data;
    if (r->need_reload)
        load(r, r->reload_reason[0] ? r->reload_reason : "start");
    else if (r->loaded && !r->loading && bp_redis_up(r->cmd))
        bp_redis_command(r->cmd, on_epoch, r, "GET %s", r->keys.epoch);
    xread(r);
}

static void on_cmd_up(bp_redis_t *redis, void *data) {
    bp_reader_t *r = data;
    (void)redis;
    /* first time: load; after an outage: reload, the outage may hide anything */
    load(r, r->loaded ? "reconnect" : "start");
}

static void on_cmd_down(bp_redis_t *redis, void *data) {
    bp_reader_t *r = data;
    (void)redis;
    r->stats.redis_reconnects++;
    r->loading = false;
    r->loaded_addr[0] = '\0'; /* read nothing more until reloaded */
}

static void on_block_up(bp_redis_t *redis, void *data) {
    (void)redis;
    xread(data);
}

static void on_block_down(bp_redis_t *redis, void *data) {
    bp_reader_t *r = data;
    (void)redis;
    r->xread_inflight = false;
}

bp_reader_t *bp_reader_create(uv_loop_t *loop, const bp_settings_t *s, bp_state_t *state,
                              size_t history, const bp_reader_cbs_t *cbs, void *data) {
    bp_reader_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->loop = loop;
    r->s = s;
    r->state = state;
    r->history = history;
    r->cbs = *cbs;
    r->data = data;
    bp_keys_init(&r->keys, s->redis_prefix);
    bp_redis_opts_t o = bp_redis_opts(s, "cmd");
    /* one snapshot load queues an HGETALL per entity */
    o.max_pending =
        1024 + bp_state_registry(state)->n_hospitals + bp_state_registry(state)->n_units;
    o.on_up = on_cmd_up;
    o.on_down = on_cmd_down;
    o.data = r;
    r->cmd = bp_redis_create(loop, &o);
    o.name = "block";
    o.ping_interval_ms = 0; /* XREAD BLOCK: the block timeout is the heartbeat */
    o.command_timeout_ms = BLOCK_MS + s->redis_command_timeout_ms;
    o.max_pending = 4;
    o.on_up = on_block_up;
    o.on_down = on_block_down;
    r->block = bp_redis_create(loop, &o);
    if (!r->cmd || !r->block) {
        bp_redis_close(r->cmd, NULL, NULL);
        bp_redis_close(r->block, NULL, NULL);
        free(r);
        return NULL;
    }
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_timer, EPOCH_CHECK_MS, EPOCH_CHECK_MS);
    snprintf(r->reload_reason, sizeof r->reload_reason, "start");
    return r;
}

static void on_closed_all(void *p) {
    bp_reader_t *r = p;
    void (*cb)(void *) = r->on_closed;
    void *data = r->closed_data;
    free(r);
    if (cb) cb(data);
}

void bp_reader_close(bp_reader_t *r, void (*on_closed)(void *), void *data) {
    r->closing = true;
    r->on_closed = on_closed;
    r->closed_data = data;
    bp_redis_t *links[2] = {r->cmd, r->block};
    bp_redis_close_with(&r->timer, links, 2, on_closed_all, r);
}

bool bp_reader_ready(const bp_reader_t *r) {
    return r->loaded && !r->loading && bp_redis_up(r->cmd) && bp_redis_up(r->block);
}

const char *bp_reader_epoch(const bp_reader_t *r) {
    return r->epoch;
}

uint64_t bp_reader_offset(const bp_reader_t *r) {
    return r->offset;
}

void bp_reader_stats(const bp_reader_t *r, bp_reader_stats_t *out) {
    *out = r->stats;
}

/* -- ranges for old resumes ------------------------------------------------------ */

typedef struct {
    bp_reader_t *r;
    bp_reader_range_cb cb;
    void *privdata;
    uint64_t from;
} range_t;

static void on_range(bp_redis_t *redis, redisReply *reply, void *privdata) {
    range_t *rq = privdata;
    (void)redis;
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        rq->cb(rq->privdata, false, NULL, 0);
        free(rq);
        return;
    }
    size_t n = reply->elements;
    bp_change_t *cs = n ? calloc(n, sizeof *cs) : NULL;
    size_t got = 0;
    uint64_t expect = rq->from + 1;
    for (size_t i = 0; cs && i < n; i++) {
        if (parse_entry(reply->element[i], &cs[got]) || cs[got].offset != expect) break;
        got++;
        expect++;
    }
    rq->cb(rq->privdata, n == 0 || (cs && got == n), cs, got);
    free(cs);
    free(rq);
}

int bp_reader_range(bp_reader_t *r, uint64_t from, uint64_t to, size_t max_count,
                    bp_reader_range_cb cb, void *privdata) {
    if (max_count > RANGE_MAX_COUNT) max_count = RANGE_MAX_COUNT;
    range_t *rq = malloc(sizeof *rq);
    if (!rq) return -1;
    *rq = (range_t){r, cb, privdata, from};
    char a[32], b[32];
    snprintf(a, sizeof a, "%llu-0", (unsigned long long)(from + 1));
    snprintf(b, sizeof b, "%llu-0", (unsigned long long)to);
    /* hiredis formats only the classic conversions: no %zu */
    char count[24];
    snprintf(count, sizeof count, "%zu", max_count);
    if (bp_redis_command(r->cmd, on_range, rq, "XRANGE %s %s %s COUNT %s", r->keys.stream, a, b,
                         count)) {
        free(rq);
        return -1;
    }
    return 0;
}
