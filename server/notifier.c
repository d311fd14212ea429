/* Subscriptions, fan-out and delivery of notifications (see notifier.h). */
#include "notifier.h"
#include "handlers.h"
#include "bp_httputil.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_notify_rules.h"
#include "bp_rargs.h"
#include "bp_redis.h"
#include "bp_subs.h"
#include "bp_time.h"
#include "curl_uv.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS        250
#define FANOUT_BATCH   "50"
#define AUTOCLAIM_MS   10000
#define AUTOCLAIM_IDLE "30000" /* an event read but not fanned out for this long: take it over */
#define SUBS_POLL_MS   1000
#define DEAD_MAX       1000 /* dead letters kept */
#define DEAD_PAGE_MAX  1000
#define RESPONSE_MAX   (64u << 10) /* a receiver's answer is read and dropped, up to this */
#define GROUP          "fanout"
#define USER_AGENT     "BedPulse-Notifications/1"

/* -- Lua ------------------------------------------------------------------------------------- */

/* Fan-out of a batch of events, each acknowledged first: an event someone
 * else acknowledged already (a server that took it over) makes no jobs.
 * Matched against subscriptions of version ARGV[6]: when the table has
 * changed since, nothing is done ({-1}) and the server reads it again
 * first. KEYS events, due, dead, subscriptions' version; ARGV prefix,
 * group, now, queue_max, dead_max, version, then per event: id, n, type,
 * level, at, hospitals, vi, en, data, n subscription ids.
 * {jobs made, jobs refused (queue full)}. */
static const char enqueue_lua[] =
    "local prefix, group, now = ARGV[1], ARGV[2], ARGV[3]\n"
    "local qmax, dmax = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "if (redis.call('GET', KEYS[4]) or '0') ~= ARGV[6] then return {-1, 0} end\n"
    "local i, jobs, refused = 7, 0, 0\n"
    "while i <= #ARGV do\n"
    "  local ev, ns = ARGV[i], tonumber(ARGV[i + 1])\n"
    "  local fresh = redis.call('XACK', KEYS[1], group, ev) == 1\n"
    "  for k = 1, ns do\n"
    "    local sub = ARGV[i + 8 + k]\n"
    "    local job = ev .. '|' .. sub\n"
    "    local key = prefix .. 'notify:job:' .. job\n"
    "    if fresh and redis.call('EXISTS', key) == 0 then\n"
    "      if redis.call('ZCARD', KEYS[2]) >= qmax then\n"
    "        redis.call('LPUSH', KEYS[3], cjson.encode({job = job, event = ev, type = ARGV[i + "
    "2],\n"
    "          subscription = sub, attempts = 0, first = tonumber(now), last = tonumber(now),\n"
    "          error = 'the delivery queue is full (notify.queue_max)'}))\n"
    "        redis.call('LTRIM', KEYS[3], 0, dmax - 1)\n"
    "        refused = refused + 1\n"
    "      else\n"
    "        redis.call('HSET', key, 'ev', ev, 'sub', sub, 'type', ARGV[i + 2], 'level', ARGV[i + "
    "3],\n"
    "          'at', ARGV[i + 4], 'hospitals', ARGV[i + 5], 'vi', ARGV[i + 6], 'en', ARGV[i + 7],\n"
    "          'data', ARGV[i + 8], 'attempts', '0', 'first', now)\n"
    "        redis.call('ZADD', KEYS[2], now, job)\n"
    "        jobs = jobs + 1\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  i = i + 9 + ns\n"
    "end\n"
    "return {jobs, refused}\n";

/* Claims up to n due jobs for lease_ms, within rate deliveries per
 * subscription and minute (the rest wait for the next minute); jobs of a
 * subscription that is gone are dropped. KEYS due, subs; ARGV prefix, now,
 * n, lease_ms, rate. {{job, fields, subscription json}..}. */
static const char claim_lua[] =
    "local prefix, now, want = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local lease, rate = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local out = {}\n"
    "for _, job in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, want * 4)) "
    "do\n"
    "  if #out >= want then break end\n"
    "  local key = prefix .. 'notify:job:' .. job\n"
    "  local sub = redis.call('HGET', key, 'sub')\n"
    "  local sj = sub and redis.call('HGET', KEYS[2], sub)\n"
    "  if not sub then\n"
    "    redis.call('ZREM', KEYS[1], job)\n"
    "  elseif not sj then\n"
    "    redis.call('ZREM', KEYS[1], job)\n"
    "    redis.call('DEL', key)\n"
    "  else\n"
    "    local minute = math.floor(now / 60000)\n"
    "    local rk = prefix .. 'notify:rate:' .. sub .. ':' .. minute\n"
    "    local c = redis.call('INCR', rk)\n"
    "    if c == 1 then redis.call('PEXPIRE', rk, 120000) end\n"
    "    if c > rate then\n"
    "      redis.call('ZADD', KEYS[1], (minute + 1) * 60000, job)\n"
    "    else\n"
    "      redis.call('ZADD', KEYS[1], now + lease, job)\n"
    "      redis.call('HINCRBY', key, 'attempts', 1)\n"
    "      out[#out + 1] = {job, redis.call('HGETALL', key), sj}\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n";

/* The end of one attempt. KEYS due, dead; ARGV prefix, job, ok|retry|dead,
 * next due, dead letter json, dead_max, error. */
static const char finish_lua[] =
    "local key = ARGV[1] .. 'notify:job:' .. ARGV[2]\n"
    "if ARGV[3] == 'ok' then\n"
    "  redis.call('ZREM', KEYS[1], ARGV[2]); redis.call('DEL', key)\n"
    "elseif ARGV[3] == 'retry' then\n"
    "  if redis.call('EXISTS', key) == 1 then\n"
    "    redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2]); redis.call('HSET', key, 'error', ARGV[7])\n"
    "  end\n"
    "else\n"
    "  redis.call('ZREM', KEYS[1], ARGV[2]); redis.call('DEL', key)\n"
    "  redis.call('LPUSH', KEYS[2], ARGV[5]); redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - "
    "1)\n"
    "end\n"
    "return 1\n";

/* A subscription made, within the bounds, audited. KEYS subs, count,
 * ver, audit; ARGV id, owner, stored json, per person, total, MINID, t,
 * actor, role, addr, public json. 1 made; -1 the person has the most;
 * -2 the server has the most; -3 the id is taken. */
static const char create_lua[] =
    "if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return -2 end\n"
    "if tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0') >= tonumber(ARGV[4]) then return -1 "
    "end\n"
    "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then return -3 end\n"
    "redis.call('HINCRBY', KEYS[2], ARGV[2], 1)\n"
    "redis.call('INCR', KEYS[3])\n"
    "redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[6], '*', 't', ARGV[7], 'actor', ARGV[8],\n"
    "           'role', ARGV[9], 'addr', ARGV[10], 'kind', 'subscription', 'id', ARGV[1],\n"
    "           'action', 'create', 'after', ARGV[11])\n"
    "return 1\n";

/* A subscription ended by its owner or an admin, audited. KEYS subs,
 * count, ver, audit; ARGV id, who, admin 0/1, MINID, t, actor, role, addr.
 * 1 done; 0 no such subscription of theirs. */
static const char delete_lua[] =
    "local j = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not j then return 0 end\n"
    "local owner = cjson.decode(j).owner\n"
    "if ARGV[3] ~= '1' and owner ~= ARGV[2] then return 0 end\n"
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "if redis.call('HINCRBY', KEYS[2], owner, -1) <= 0 then redis.call('HDEL', KEYS[2], owner) "
    "end\n"
    "redis.call('INCR', KEYS[3])\n"
    "redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[4], '*', 't', ARGV[5], 'actor', ARGV[6],\n"
    "           'role', ARGV[7], 'addr', ARGV[8], 'kind', 'subscription', 'id', ARGV[1],\n"
    "           'action', 'delete')\n"
    "return 1\n";

/* -- state ------------------------------------------------------------------------------------- */

enum { K_SUBS, K_COUNT, K_VER, K_EVENTS, K_DUE, K_DEAD, N_KEYS };

typedef struct delivery delivery_t;

struct bp_notifier {
    bp_app_t *app;
    const bp_settings_t *s;
    bp_redis_t *redis;
    uv_timer_t timer;
    bp_curl_t *curl;
    char consumer[40];
    char prefix[BP_KEY_MAX];
    char keys[N_KEYS][BP_KEY_MAX + 32];
    bp_retry_cfg_t retry;
    /* the subscriptions, as last read */
    bp_sub_t *subs;
    size_t n_subs;
    uint64_t subs_ver;
    bool subs_loaded, subs_busy, subs_stale;
    int64_t subs_polled;
    /* fan-out and delivery */
    bool group_ready, group_busy, reading, claiming;
    bool read_own; /* read this server's own unfanned events again (after a stale table) */
    enum { READ_NEW, READ_OWN, READ_CLAIM } read_kind; /* the read in flight */
    int64_t autoclaimed, queue_checked;
    delivery_t *active;
    size_t inflight;
    long long queue_len;
    bool closing;
    void (*on_closed)(void *);
    void *closed_data;
    int parts; /* redis+timer, curl: both released before the notifier is freed */
    /* counters */
    uint64_t fanned, jobs, refused, quiet, delivered, retried, dead;
};

struct delivery {
    struct bp_notifier *n;
    delivery_t *prev, *next;
    char job[BP_EVENT_ID_MAX + BP_SUB_ID_MAX + 2];
    bp_sub_t sub;
    /* the event, copied from the job */
    char ev_id[BP_EVENT_ID_MAX + 1], type[24];
    int level, attempts;
    int64_t at_ms, first_ms;
    char *hospitals, *vi, *en, *data;
    size_t data_len;
    /* the attempt */
    bp_buf_t body;
    size_t sent;
    size_t received;
    char host[BP_URL_HOST_MAX + 1];
    int port;
    CURL *easy;
    struct curl_slist *headers, *rcpt, *resolve;
    uv_getaddrinfo_t gai;
    bool resolving;
    char error[700];
};

/* -- small helpers -------------------------------------------------------------------------------
 */

static const char *field(const redisReply *h, const char *name, size_t *len) {
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING) {
            if (len) *len = h->element[i + 1]->len;
            return h->element[i + 1]->str;
        }
    if (len) *len = 0;
    return "";
}

/* -- subscriptions, as every server holds them
 * ------------------------------------------------------ */

static void on_subs(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->subs_busy = false;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return;
    const redisReply *ver = reply->element[0], *all = reply->element[1];
    uint64_t v = ver->type == REDIS_REPLY_STRING ? strtoull(ver->str, NULL, 10) : 0;
    if (all->type != REDIS_REPLY_ARRAY) return;
    size_t cap = all->elements / 2;
    bp_sub_t *subs = cap ? calloc(cap, sizeof *subs) : NULL;
    if (cap && !subs) return;
    size_t k = 0;
    for (size_t i = 0; i + 1 < all->elements && k < cap; i += 2) {
        const redisReply *val = all->element[i + 1];
        bp_errors_t errs;
        if (val->type != REDIS_REPLY_STRING) continue;
        if (bp_sub_parse(val->str, val->len, &n->app->cfg.registry, true, &subs[k], &errs) == 0)
            k++;
        else
            bp_warn("notify: subscription %s in Redis is malformed (%s); ignored",
                    all->element[i]->str, errs.n ? errs.e[0].message : "?");
    }
    if (n->subs) explicit_bzero(n->subs, n->n_subs * sizeof *n->subs);
    free(n->subs);
    n->subs = subs;
    n->n_subs = k;
    n->subs_ver = v;
    n->subs_loaded = true;
    n->subs_stale = false;
}

static void on_subs_ver(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->subs_busy = false;
    if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL)) return;
    uint64_t v = reply->type == REDIS_REPLY_STRING ? strtoull(reply->str, NULL, 10) : 0;
    if (n->subs_loaded && v == n->subs_ver) {
        /* (a fan-out found the table stale and a reload caught up meanwhile) */
        n->subs_stale = false;
        return;
    }
    /* the version and the table in one step, so they agree */
    bp_rargs_t g = {0};
    const char *keys[] = {n->keys[K_VER], n->keys[K_SUBS]};
    bp_rargs_eval(&g, "return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2])}", 2, keys);
    if (bp_rargs_send(&g, n->redis, on_subs, n) == 0) n->subs_busy = true;
}

/* -- fan-out
 * ---------------------------------------------------------------------------------------- */

static bool may_see(const struct bp_notifier *n, const bp_sub_t *s, const char *type,
                    const char *data, int64_t now) {
    const bp_principal_t *p = bp_tokens_by_id(n->app->tokens, s->owner);
    if (!p || p->role == BP_ROLE_PUBLIC || p->role == BP_ROLE_FEED) return false;
    /* the alerts about 115 incidents are for those who may see incidents */
    bool incident = strncmp(type, "alert.", 6) == 0 && strstr(data, "\"rule\":\"unassigned\"");
    return bp_auth_allows(p, -1, incident ? BP_ACT_READ_AMBULANCES : BP_ACT_READ_HOSPITALS, -1,
                          now);
}

static void on_enqueued(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->reading = false;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->integer < 0) {
        /* the subscriptions changed: read them, then these events again */
        n->subs_polled = 0;
        n->read_own = true;
        n->subs_stale = true;
    } else if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        n->jobs += (uint64_t)reply->element[0]->integer;
        n->refused += (uint64_t)reply->element[1]->integer;
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        bp_error("notify: fan-out refused: %s", reply->str);
    }
}

/* Entries of XREADGROUP / XAUTOCLAIM: [[id, [field, value, ...]], ...] */
static void fan_out(struct bp_notifier *n, const redisReply *entries) {
    const bp_registry_t *reg = &n->app->cfg.registry;
    int64_t now = bp_time_now_ms();
    bp_rargs_t g = {0};
    const char *keys[] = {n->keys[K_EVENTS], n->keys[K_DUE], n->keys[K_DEAD], n->keys[K_VER]};
    bp_rargs_eval(&g, enqueue_lua, 4, keys);
    bp_rargs_add(&g, n->prefix);
    bp_rargs_add(&g, GROUP);
    bp_rargs_addf(&g, "%lld", (long long)now);
    bp_rargs_addf(&g, "%d", n->s->notify_queue_max);
    bp_rargs_addf(&g, "%d", DEAD_MAX);
    bp_rargs_addf(&g, "%llu", (unsigned long long)n->subs_ver);
    int header = g.n;
    int *hosp = calloc(reg->n_hospitals + 1, sizeof *hosp);
    if (!hosp) {
        bp_rargs_free(&g);
        n->reading = false;
        return;
    }
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const redisReply *f = e->element[1];
        const char *type = field(f, "type", NULL), *hl = field(f, "hospitals", NULL);
        size_t dl;
        const char *data = field(f, "data", &dl);
        int t = bp_event_type_parse(type, strlen(type));
        bp_event_match_t m = {(bp_event_type_t)(t < 0 ? 0 : t), atoi(field(f, "level", NULL)), hosp,
                              0};
        for (const char *p = hl; *p && m.n_hospitals < reg->n_hospitals;) {
            const char *comma = strchr(p, ',');
            size_t l = comma ? (size_t)(comma - p) : strlen(p);
            int h = bp_registry_hospital(reg, p, l);
            if (h >= 0) hosp[m.n_hospitals++] = h;
            p += l + (comma ? 1 : 0);
        }
        /* the event, then the subscriptions it goes to */
        bp_rargs_add(&g, e->element[0]->str);
        int count_at = g.n;
        bp_rargs_add(&g, "0");
        static const char *const copy[] = {"type", "level", "at", "hospitals", "vi", "en", "data"};
        for (int c = 0; c < 7; c++) {
            size_t l;
            const char *v = field(f, copy[c], &l);
            bp_rargs_put(&g, v, l);
        }
        int count = 0;
        for (size_t s = 0; t >= 0 && s < n->n_subs; s++) {
            const bp_sub_t *sub = &n->subs[s];
            bp_sub_verdict_t v =
                bp_sub_match(sub, reg, &m, now, n->app->cfg.dispatch.utc_offset_min);
            if (v == BP_SUB_QUIET) n->quiet++;
            if (v != BP_SUB_DELIVER || !may_see(n, sub, type, data, now)) continue;
            bp_rargs_add(&g, sub->id);
            count++;
        }
        if (!g.failed) {
            free(g.v[count_at]);
            char num[16];
            snprintf(num, sizeof num, "%d", count);
            g.v[count_at] = strdup(num);
            g.len[count_at] = strlen(num);
            if (!g.v[count_at]) g.failed = true;
        }
        n->fanned++;
    }
    free(hosp);
    if (g.n == header) {
        bp_rargs_free(&g);
        n->reading = false;
        return;
    }
    if (bp_rargs_send(&g, n->redis, on_enqueued, n)) n->reading = false;
}

static void on_events(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    if (!reply || n->closing) {
        n->reading = false;
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        if (strstr(reply->str, "NOGROUP")) n->group_ready = false; /* the stream was lost: again */
        n->reading = false;
        return;
    }
    /* XREADGROUP: [[stream, entries]] or nil; XAUTOCLAIM: [next, entries, deleted] */
    const redisReply *entries = NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
        entries = reply->element[0]->element[1];
    else if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
             reply->element[0]->type == REDIS_REPLY_STRING)
        entries = reply->element[1];
    if (!entries || entries->type != REDIS_REPLY_ARRAY || entries->elements == 0 ||
        !n->subs_loaded) {
        if (n->read_kind == READ_OWN && entries && entries->type == REDIS_REPLY_ARRAY &&
            entries->elements == 0)
            n->read_own = false; /* nothing of ours left unfanned */
        n->reading = false;
        return;
    }
    fan_out(n, entries);
}

static void on_group(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->group_busy = false;
    if (!reply) return;
    if (reply->type == REDIS_REPLY_STATUS ||
        (reply->type == REDIS_REPLY_ERROR && strstr(reply->str, "BUSYGROUP")))
        n->group_ready = true;
    else if (reply->type == REDIS_REPLY_ERROR)
        bp_error("notify: cannot create the consumer group: %s", reply->str);
}

/* -- delivery
 * --------------------------------------------------------------------------------------- */

static void delivery_free(delivery_t *d) {
    if (d->easy) curl_easy_cleanup(d->easy);
    curl_slist_free_all(d->headers);
    curl_slist_free_all(d->rcpt);
    curl_slist_free_all(d->resolve);
    bp_buf_free(&d->body);
    free(d->hospitals);
    free(d->vi);
    free(d->en);
    free(d->data);
    explicit_bzero(&d->sub, sizeof d->sub);
    free(d);
}

static void unlink_delivery(struct bp_notifier *n, delivery_t *d) {
    if (d->prev)
        d->prev->next = d->next;
    else
        n->active = d->next;
    if (d->next) d->next->prev = d->prev;
    d->prev = d->next = NULL;
    n->inflight--;
}

static void on_finished(bp_redis_t *redis, redisReply *reply, void *privdata) {
    (void)redis;
    (void)reply;
    (void)privdata;
}

/* The URL shown in a dead letter: no query (it may carry a key). */
static void shown_target(const delivery_t *d, char *out, size_t len) {
    if (d->sub.channel == BP_CH_EMAIL) {
        snprintf(out, len, "%s", d->sub.address);
        return;
    }
    size_t q = strcspn(d->sub.url, "?");
    snprintf(out, len, "%.*s", (int)q, d->sub.url);
}

/* The end of an attempt: delivered, again later, or a dead letter. */
static void finish(delivery_t *d, bp_outcome_t outcome, const char *error) {
    struct bp_notifier *n = d->n;
    int64_t now = bp_time_now_ms();
    int64_t next = -1;
    if (outcome == BP_OUTCOME_RETRY) {
        uint32_t rnd = 0;
        RAND_bytes((unsigned char *)&rnd, sizeof rnd);
        next = bp_retry_next(&n->retry, d->attempts, d->first_ms, now, rnd);
        if (next < 0) outcome = BP_OUTCOME_PERMANENT;
    }
    const char *how = outcome == BP_OUTCOME_OK      ? "ok"
                      : outcome == BP_OUTCOME_RETRY ? "retry"
                                                    : "dead";
    bp_buf_t dead;
    bp_buf_init(&dead, 0, 16u << 10);
    if (outcome == BP_OUTCOME_PERMANENT) {
        char target[BP_URL_MAX + 1];
        shown_target(d, target, sizeof target);
        bp_buf_puts(&dead, "{\"job\":");
        bp_json_cstr(&dead, d->job);
        bp_buf_puts(&dead, ",\"event\":");
        bp_json_cstr(&dead, d->ev_id);
        bp_buf_puts(&dead, ",\"type\":");
        bp_json_cstr(&dead, d->type);
        bp_buf_puts(&dead, ",\"subscription\":");
        bp_json_cstr(&dead, d->sub.id);
        bp_buf_puts(&dead, ",\"owner\":");
        bp_json_cstr(&dead, d->sub.owner);
        bp_buf_printf(&dead, ",\"channel\":\"%s\",\"target\":",
                      d->sub.channel == BP_CH_EMAIL ? "email" : "webhook");
        bp_json_cstr(&dead, target);
        bp_buf_printf(&dead,
                      ",\"attempts\":%d,\"first\":%lld,\"last\":%lld,\"error\":", d->attempts,
                      (long long)d->first_ms, (long long)now);
        bp_json_cstr(&dead, error ? error : "");
        bp_buf_putc(&dead, '}');
    }
    if (outcome == BP_OUTCOME_OK)
        n->delivered++;
    else if (outcome == BP_OUTCOME_RETRY)
        n->retried++;
    else
        n->dead++;
    if (outcome != BP_OUTCOME_OK)
        bp_info("notify: %s of %s to subscription %s (attempt %d): %s", d->type, d->ev_id,
                d->sub.id, d->attempts,
                outcome == BP_OUTCOME_RETRY ? error : "given up, kept as a dead letter");
    if (!n->closing) {
        bp_rargs_t g = {0};
        const char *keys[] = {n->keys[K_DUE], n->keys[K_DEAD]};
        bp_rargs_eval(&g, finish_lua, 2, keys);
        bp_rargs_add(&g, n->prefix);
        bp_rargs_add(&g, d->job);
        bp_rargs_add(&g, how);
        bp_rargs_addf(&g, "%lld", (long long)next);
        bp_rargs_put(&g, dead.len ? bp_buf_data(&dead) : "", dead.len);
        bp_rargs_addf(&g, "%d", DEAD_MAX);
        bp_rargs_add(&g, error ? error : "");
        if (bp_rargs_send(&g, n->redis, on_finished, NULL))
            bp_warn(
                "notify: the end of job %s could not be recorded; it is retried after its lease",
                d->job);
    }
    bp_buf_free(&dead);
    unlink_delivery(n, d);
    delivery_free(d);
}

static size_t discard(char *p, size_t size, size_t nmemb, void *userdata) {
    delivery_t *d = userdata;
    (void)p;
    d->received += size * nmemb;
    return d->received > RESPONSE_MAX ? 0 : size * nmemb; /* 0 ends an endless answer */
}

static size_t read_mail(char *out, size_t size, size_t nitems, void *userdata) {
    delivery_t *d = userdata;
    size_t want = size * nitems, left = d->body.len - d->sent;
    size_t k = left < want ? left : want;
    memcpy(out, bp_buf_data(&d->body) + d->sent, k);
    d->sent += k;
    return k;
}

static void on_transfer(CURL *easy, CURLcode rc, void *data) {
    delivery_t *d = data;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_ABORTED_BY_CALLBACK && d->n->closing) {
        unlink_delivery(d->n, d); /* its lease runs out; another server retries it */
        delivery_free(d);
        return;
    }
    bp_outcome_t out;
    if (d->sub.channel == BP_CH_EMAIL) {
        out = rc == CURLE_OK ? BP_OUTCOME_OK : bp_smtp_outcome(code);
        if (rc == CURLE_OK)
            d->error[0] = '\0';
        else
            snprintf(d->error, sizeof d->error, "SMTP %ld: %s", code, curl_easy_strerror(rc));
    } else {
        out = rc == CURLE_OK ? bp_http_outcome(code) : BP_OUTCOME_RETRY;
        if (rc != CURLE_OK)
            snprintf(d->error, sizeof d->error, "%s", curl_easy_strerror(rc));
        else
            snprintf(d->error, sizeof d->error, "HTTP %ld", code);
    }
    finish(d, out, d->error);
}

static const char *text_vi(const delivery_t *d) {
    return d->vi ? d->vi : "";
}

/* Builds the easy handle for the address checked, and starts it. */
static void start_transfer(delivery_t *d, const char *addr, int family) {
    struct bp_notifier *n = d->n;
    const bp_settings_t *s = n->s;
    bp_event_t ev = {d->ev_id,     (bp_event_type_t)bp_event_type_parse(d->type, strlen(d->type)),
                     d->level,     d->at_ms,
                     d->hospitals, text_vi(d),
                     d->en,        d->data,
                     d->data_len};
    CURL *e = d->easy = curl_easy_init();
    if (!e) {
        finish(d, BP_OUTCOME_RETRY, "out of memory");
        return;
    }
    char pin[BP_URL_HOST_MAX + 80];
    snprintf(pin, sizeof pin, family == AF_INET6 ? "%s:%d:[%s]" : "%s:%d:%s", d->host, d->port,
             addr);
    d->resolve = curl_slist_append(NULL, pin);
    curl_easy_setopt(e, CURLOPT_RESOLVE, d->resolve);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->notify_timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)s->notify_timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, d);
    if (d->sub.channel == BP_CH_WEBHOOK) {
        bp_webhook_body(&d->body, &ev, d->sub.id, d->sub.lang);
        char sig[BP_SIGNATURE_LEN + 1], h[256];
        bp_webhook_sign(d->sub.secret, strlen(d->sub.secret), bp_buf_data(&d->body), d->body.len,
                        sig);
        struct curl_slist *l =
            curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
        l = curl_slist_append(l, "Expect:");
        snprintf(h, sizeof h, "X-BedPulse-Event: %s", d->type);
        l = curl_slist_append(l, h);
        snprintf(h, sizeof h, "X-BedPulse-Event-Id: %s", d->ev_id);
        l = curl_slist_append(l, h);
        snprintf(h, sizeof h, "X-BedPulse-Delivery: %s", d->job);
        l = curl_slist_append(l, h);
        snprintf(h, sizeof h, "X-BedPulse-Attempt: %d", d->attempts);
        l = curl_slist_append(l, h);
        snprintf(h, sizeof h, "X-BedPulse-Signature: %s", sig);
        l = curl_slist_append(l, h);
        d->headers = l;
        curl_easy_setopt(e, CURLOPT_URL, d->sub.url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, bp_buf_data(&d->body));
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body.len);
    } else {
        bp_email_message(&d->body, &ev, s->smtp_from, d->sub.address, d->sub.id, d->sub.lang,
                         n->app->cfg.dispatch.utc_offset_min);
        char who[BP_SUB_EMAIL_MAX + 3];
        snprintf(who, sizeof who, "<%s>", d->sub.address);
        d->rcpt = curl_slist_append(NULL, who);
        char from[BP_SETTING_STR_MAX + 3];
        snprintf(from, sizeof from, "<%s>", s->smtp_from);
        curl_easy_setopt(e, CURLOPT_URL, s->smtp_url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, d->rcpt);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_mail);
        curl_easy_setopt(e, CURLOPT_READDATA, d);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)d->body.len);
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
        if (s->smtp_user[0]) {
            curl_easy_setopt(e, CURLOPT_USERNAME, s->smtp_user);
            curl_easy_setopt(e, CURLOPT_PASSWORD, s->smtp_password);
        }
    }
    if (d->body.failed || !d->resolve || (d->sub.channel == BP_CH_WEBHOOK && !d->headers) ||
        (d->sub.channel == BP_CH_EMAIL && !d->rcpt)) {
        finish(d, BP_OUTCOME_RETRY, "out of memory");
        return;
    }
    if (bp_curl_add(n->curl, e, on_transfer, d))
        finish(d, BP_OUTCOME_RETRY, "cannot start a transfer");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    delivery_t *d = req->data;
    d->resolving = false;
    if (status == UV_ECANCELED || d->n->closing) {
        uv_freeaddrinfo(res);
        unlink_delivery(d->n, d);
        delivery_free(d);
        return;
    }
    if (status < 0 || !res) {
        char err[400];
        snprintf(err, sizeof err, "cannot resolve %s: %s", d->host, uv_strerror(status));
        uv_freeaddrinfo(res);
        finish(d, BP_OUTCOME_RETRY, err);
        return;
    }
    /* a webhook: every address the name has must be allowed (a name with
     * one public and one private address must not be a way in) */
    char first[INET6_ADDRSTRLEN] = "", text[INET6_ADDRSTRLEN];
    int family = 0;
    bool allow = d->n->s->notify_allow_private_targets != 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        bp_addr_class_t c;
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *sa = (const void *)ai->ai_addr;
            c = bp_addr_classify4((const uint8_t *)&sa->sin_addr);
            inet_ntop(AF_INET, &sa->sin_addr, text, sizeof text);
        } else if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *sa = (const void *)ai->ai_addr;
            c = bp_addr_classify6((const uint8_t *)&sa->sin6_addr);
            inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
        } else {
            continue;
        }
        if (d->sub.channel == BP_CH_WEBHOOK && !bp_addr_allowed(c, allow)) {
            char err[600];
            snprintf(err, sizeof err,
                     "%s resolves to %s, a %s address: webhooks may not reach it "
                     "(notify.allow_private_targets)",
                     d->host, text, bp_addr_class_name(c));
            uv_freeaddrinfo(res);
            finish(d, BP_OUTCOME_PERMANENT, err);
            return;
        }
        if (!family) {
            snprintf(first, sizeof first, "%s", text);
            family = ai->ai_family;
        }
    }
    uv_freeaddrinfo(res);
    if (!family) {
        finish(d, BP_OUTCOME_RETRY, "the host has no IPv4 or IPv6 address");
        return;
    }
    start_transfer(d, first, family);
}

/* host and port of smtp[s]://host[:port][/...] */
static int smtp_target(const char *url, char *host, size_t hl, int *port) {
    bool tls = strncmp(url, "smtps://", 8) == 0;
    const char *p = url + (tls ? 8 : 7);
    size_t n = strcspn(p, ":/");
    if (n == 0 || n >= hl) return -1;
    memcpy(host, p, n);
    host[n] = '\0';
    *port = p[n] == ':' ? atoi(p + n + 1) : tls ? 465 : 25;
    return *port > 0 && *port < 65536 ? 0 : -1;
}

/* One claimed job: {job, fields, subscription json}. */
static void deliver(struct bp_notifier *n, const redisReply *item) {
    if (item->type != REDIS_REPLY_ARRAY || item->elements != 3 ||
        item->element[0]->type != REDIS_REPLY_STRING ||
        item->element[2]->type != REDIS_REPLY_STRING)
        return;
    const redisReply *f = item->element[1];
    delivery_t *d = calloc(1, sizeof *d);
    if (!d) return;
    d->n = n;
    d->next = n->active;
    if (n->active) n->active->prev = d;
    n->active = d;
    n->inflight++;
    bp_buf_init(&d->body, 0, 1u << 20);
    snprintf(d->job, sizeof d->job, "%s", item->element[0]->str);
    snprintf(d->ev_id, sizeof d->ev_id, "%s", field(f, "ev", NULL));
    snprintf(d->type, sizeof d->type, "%s", field(f, "type", NULL));
    d->level = atoi(field(f, "level", NULL));
    d->attempts = atoi(field(f, "attempts", NULL));
    d->at_ms = strtoll(field(f, "at", NULL), NULL, 10);
    d->first_ms = strtoll(field(f, "first", NULL), NULL, 10);
    size_t dl;
    const char *data = field(f, "data", &dl);
    d->hospitals = strdup(field(f, "hospitals", NULL));
    d->vi = strdup(field(f, "vi", NULL));
    d->en = strdup(field(f, "en", NULL));
    d->data = malloc(dl + 1);
    if (d->data) {
        memcpy(d->data, data, dl);
        d->data[dl] = '\0';
        d->data_len = dl;
    }
    bp_errors_t errs;
    if (!d->hospitals || !d->vi || !d->en || !d->data) {
        finish(d, BP_OUTCOME_RETRY, "out of memory");
        return;
    }
    if (bp_sub_parse(item->element[2]->str, item->element[2]->len, &n->app->cfg.registry, true,
                     &d->sub, &errs)) {
        finish(d, BP_OUTCOME_PERMANENT, "the subscription in Redis is malformed");
        return;
    }
    if (d->sub.channel == BP_CH_EMAIL) {
        if (!n->s->smtp_url[0]) {
            finish(d, BP_OUTCOME_PERMANENT, "e-mail is not configured on this server (smtp.url)");
            return;
        }
        if (smtp_target(n->s->smtp_url, d->host, sizeof d->host, &d->port)) {
            finish(d, BP_OUTCOME_PERMANENT, "smtp.url has no usable host and port");
            return;
        }
    } else {
        bp_url_t u;
        bp_error_t err;
        if (bp_url_parse(d->sub.url, strlen(d->sub.url), &u, "url", &err)) {
            finish(d, BP_OUTCOME_PERMANENT, err.message);
            return;
        }
        snprintf(d->host, sizeof d->host, "%s", u.host);
        d->port = u.port;
    }
    /* the address is looked up (and, for a webhook, checked) each time */
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    d->gai.data = d;
    if (uv_getaddrinfo(&n->app->loop, &d->gai, on_resolved, d->host, NULL, &hints)) {
        finish(d, BP_OUTCOME_RETRY, "cannot look up the host");
        return;
    }
    d->resolving = true;
}

static void on_claimed(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->claiming = false;
    if (!reply || n->closing) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        bp_error("notify: claim refused: %s", reply->str);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY) return;
    for (size_t i = 0; i < reply->elements; i++)
        deliver(n, reply->element[i]);
}

static void on_queue_len(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    if (reply && reply->type == REDIS_REPLY_INTEGER) n->queue_len = reply->integer;
}

/* -- the timer
 * ---------------------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t) {
    struct bp_notifier *n = t->data;
    if (n->closing || !bp_redis_up(n->redis)) return;
    int64_t now = bp_time_now_ms();
    if (!n->subs_busy && now - n->subs_polled >= SUBS_POLL_MS) {
        n->subs_polled = now;
        if (bp_redis_command(n->redis, on_subs_ver, n, "GET %s", n->keys[K_VER]) == 0)
            n->subs_busy = true;
    }
    if (!n->group_ready) {
        if (!n->group_busy &&
            bp_redis_command(n->redis, on_group, n, "XGROUP CREATE %s " GROUP " 0 MKSTREAM",
                             n->keys[K_EVENTS]) == 0)
            n->group_busy = true;
        return;
    }
    /* fan-out: new events, and now and then those a dead server left */
    if (!n->reading && n->subs_loaded && !n->subs_stale) {
        int rc;
        if (!n->read_own && now - n->autoclaimed >= AUTOCLAIM_MS) {
            n->autoclaimed = now;
            n->read_kind = READ_CLAIM;
            rc = bp_redis_command(n->redis, on_events, n,
                                  "XAUTOCLAIM %s " GROUP " %s " AUTOCLAIM_IDLE
                                  " 0-0 COUNT " FANOUT_BATCH,
                                  n->keys[K_EVENTS], n->consumer);
        } else {
            /* ">": new events; "0": ours read before and not yet fanned out */
            n->read_kind = n->read_own ? READ_OWN : READ_NEW;
            rc = bp_redis_command(n->redis, on_events, n,
                                  "XREADGROUP GROUP " GROUP " %s COUNT " FANOUT_BATCH
                                  " STREAMS %s %s",
                                  n->consumer, n->keys[K_EVENTS], n->read_own ? "0" : ">");
        }
        if (rc == 0) n->reading = true;
    }
    /* delivery: claim what is due, within the deliveries in flight */
    size_t room = (size_t)n->s->notify_max_inflight > n->inflight
                      ? (size_t)n->s->notify_max_inflight - n->inflight
                      : 0;
    if (!n->claiming && room) {
        bp_rargs_t g = {0};
        const char *keys[] = {n->keys[K_DUE], n->keys[K_SUBS]};
        bp_rargs_eval(&g, claim_lua, 2, keys);
        bp_rargs_add(&g, n->prefix);
        bp_rargs_addf(&g, "%lld", (long long)now);
        bp_rargs_addf(&g, "%zu", room);
        /* a lease past the longest attempt (resolve + connect + transfer) */
        bp_rargs_addf(&g, "%lld", (long long)(3 * n->s->notify_timeout_s + 30) * 1000LL);
        bp_rargs_addf(&g, "%d", n->s->notify_rate_per_min);
        if (bp_rargs_send(&g, n->redis, on_claimed, n) == 0) n->claiming = true;
    }
    if (now - n->queue_checked >= 5000) {
        n->queue_checked = now;
        bp_redis_command(n->redis, on_queue_len, n, "ZCARD %s", n->keys[K_DUE]);
    }
}

static void on_up(bp_redis_t *r, void *data) {
    struct bp_notifier *n = data;
    (void)r;
    n->group_ready = false; /* the stream may be new: make sure of the group */
}

/* -- lifecycle
 * ------------------------------------------------------------------------------------------ */

struct bp_notifier *bp_notifier_create(bp_app_t *app) {
    struct bp_notifier *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->app = app;
    n->s = &app->cfg.settings;
    snprintf(n->prefix, sizeof n->prefix, "%.64s", n->s->redis_prefix);
    static const char *const names[N_KEYS] = {"subs",          "subs:count", "subs:ver",
                                              "notify:events", "notify:due", "notify:dead"};
    for (int i = 0; i < N_KEYS; i++)
        snprintf(n->keys[i], sizeof n->keys[i], "%s%s", n->prefix, names[i]);
    unsigned char raw[6];
    if (RAND_bytes(raw, sizeof raw) != 1) memset(raw, 0, sizeof raw);
    snprintf(n->consumer, sizeof n->consumer, "server-%02x%02x%02x%02x%02x%02x", raw[0], raw[1],
             raw[2], raw[3], raw[4], raw[5]);
    bp_retry_defaults(&n->retry);
    n->retry.base_ms = n->s->notify_retry_base_ms;
    n->retry.max_age_ms = (int64_t)n->s->notify_retry_max_s * 1000;
    if (n->retry.cap_ms > n->retry.max_age_ms) n->retry.cap_ms = n->retry.max_age_ms;
    n->curl = bp_curl_create(&app->loop);
    bp_redis_opts_t o = bp_redis_opts(n->s, "notify");
    o.max_pending = 64;
    o.on_up = on_up;
    o.data = n;
    n->redis = n->curl ? bp_redis_create(&app->loop, &o) : NULL;
    if (!n->redis) {
        if (n->curl) bp_curl_close(n->curl, NULL, NULL);
        free(n);
        return NULL;
    }
    uv_timer_init(&app->loop, &n->timer);
    n->timer.data = n;
    uv_timer_start(&n->timer, on_tick, TICK_MS, TICK_MS);
    return n;
}

static void part_closed(void *data) {
    struct bp_notifier *n = data;
    if (--n->parts) return;
    void (*cb)(void *) = n->on_closed;
    void *cd = n->closed_data;
    if (n->subs) explicit_bzero(n->subs, n->n_subs * sizeof *n->subs);
    free(n->subs);
    free(n);
    if (cb) cb(cd);
}

void bp_notifier_close(struct bp_notifier *n, void (*on_closed)(void *), void *data) {
    if (!n) {
        if (on_closed) on_closed(data);
        return;
    }
    n->closing = true;
    n->on_closed = on_closed;
    n->closed_data = data;
    n->parts = 2;
    /* lookups still running end with UV_ECANCELED (or finish and see closing) */
    for (delivery_t *d = n->active; d; d = d->next)
        if (d->resolving) uv_cancel((uv_req_t *)&d->gai);
    bp_curl_close(n->curl, part_closed, n);
    n->curl = NULL;
    bp_redis_close_with(&n->timer, &n->redis, 1, part_closed, n);
}

/* -- the API
 * ------------------------------------------------------------------------------------------ */

static bool may_subscribe(bp_req_t *r, const bp_principal_t **out) {
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided) return false;
    if (!p) {
        bp_req_error(r, 401, "unauthorized", "sign in to manage notifications");
        r->www_authenticate = true;
        return false;
    }
    if (!bp_auth_allows(p, -1, BP_ACT_READ_HOSPITALS, -1, bp_time_now_ms()) ||
        p->role == BP_ROLE_PUBLIC || p->role == BP_ROLE_FEED) {
        char msg[96];
        snprintf(msg, sizeof msg, "a %s token may not subscribe to notifications",
                 bp_role_name(p->role));
        bp_req_error(r, 403, "forbidden", msg);
        return false;
    }
    *out = p;
    return true;
}

static void write_sub_list(bp_buf_t *b, struct bp_notifier *n, const char *owner) {
    const bp_settings_t *s = n->s;
    bp_buf_puts(b, "{\"subscriptions\":[");
    int k = 0;
    for (size_t i = 0; i < n->n_subs; i++) {
        if (owner && strcmp(n->subs[i].owner, owner)) continue;
        if (k++) bp_buf_putc(b, ',');
        bp_sub_write(b, &n->subs[i], &n->app->cfg.registry, false);
    }
    bp_buf_printf(b,
                  "],\"limits\":{\"per_person\":%d,\"total\":%d,\"rate_per_min\":%d},"
                  "\"email\":%s,\"events\":[",
                  s->notify_max_subscriptions_per_person, s->notify_max_subscriptions,
                  s->notify_rate_per_min, s->smtp_url[0] ? "true" : "false");
    for (int t = 0; t < BP_EV__COUNT; t++)
        bp_buf_printf(b, "%s\"%s\"", t ? "," : "", bp_event_type_name((bp_event_type_t)t));
    bp_buf_puts(b, "]}");
}

static void list_subs(bp_req_t *r, struct bp_notifier *n, const bp_principal_t *p) {
    char owner[BP_TOKEN_ID_MAX + 2];
    int k = bp_http_arg(r->query, r->query_len, "owner", owner, sizeof owner);
    if (k == -2 || (k >= 0 && (k == 0 || k > BP_TOKEN_ID_MAX))) {
        bp_req_error(r, 400, "bad_request", "owner must be a token id");
        return;
    }
    if (k >= 0 && p->role != BP_ROLE_ADMIN && strcmp(owner, p->id)) {
        bp_req_error(r, 403, "forbidden", "only an admin may see someone else's subscriptions");
        return;
    }
    if (!n->subs_loaded) {
        r->retry_after_s = 1;
        bp_req_error(r, 503, "unavailable", "subscriptions are not loaded yet; retry shortly");
        return;
    }
    const char *who = k >= 0 ? owner : p->role == BP_ROLE_ADMIN ? NULL : p->id;
    write_sub_list(&r->resp.body, n, who);
}

typedef struct {
    bp_req_t *r;
    struct bp_notifier *n;
    bp_sub_t sub;
    uv_getaddrinfo_t gai;
    char role[16], actor[BP_TOKEN_ID_MAX + 1];
} create_t;

static void create_free(create_t *c) {
    explicit_bzero(&c->sub, sizeof c->sub);
    free(c);
}

static void on_created(bp_redis_t *redis, redisReply *reply, void *privdata) {
    create_t *c = privdata;
    bp_req_t *r = c->r;
    struct bp_notifier *n = c->n;
    (void)redis;
    if (!reply || reply->type != REDIS_REPLY_INTEGER) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable",
                     "storage did not answer; the subscription may not exist: reload");
    } else if (reply->integer == -1 || reply->integer == -2) {
        char msg[160];
        if (reply->integer == -1)
            snprintf(
                msg, sizeof msg,
                "a person may have at most %d subscriptions (notify.max_subscriptions_per_person)",
                n->s->notify_max_subscriptions_per_person);
        else
            snprintf(msg, sizeof msg,
                     "this deployment holds at most %d subscriptions (notify.max_subscriptions)",
                     n->s->notify_max_subscriptions);
        bp_req_error(r, 409, "too_many_subscriptions", msg);
    } else if (reply->integer != 1) {
        r->retry_after_s = 1;
        bp_req_error(r, 503, "unavailable", "the subscription id was taken; send it again");
    } else {
        /* this server shows it at once; the others within a second */
        if (n->subs_loaded) {
            bp_sub_t *more = realloc(n->subs, (n->n_subs + 1) * sizeof *more);
            if (more) {
                n->subs = more;
                n->subs[n->n_subs++] = c->sub;
            }
        }
        r->resp.status = 201;
        bp_buf_reset(&r->resp.body);
        bp_sub_write(&r->resp.body, &c->sub, &n->app->cfg.registry, false);
        bp_info("http %s: subscription %s made by %s (%s)", r->addr, c->sub.id, c->actor,
                c->sub.channel == BP_CH_EMAIL ? "email" : "webhook");
    }
    bp_req_done(r);
    create_free(c);
}

static void store(create_t *c) {
    bp_req_t *r = c->r;
    struct bp_notifier *n = c->n;
    int64_t now = bp_time_now_ms();
    bp_buf_t stored, shown;
    bp_buf_init(&stored, 0, 64u << 10);
    bp_buf_init(&shown, 0, 64u << 10);
    bp_sub_write(&stored, &c->sub, &n->app->cfg.registry, true);
    bp_sub_write(&shown, &c->sub, &n->app->cfg.registry, false);
    bp_keys_t keys;
    bp_keys_init(&keys, n->s->redis_prefix);
    bp_rargs_t g = {0};
    const char *k[] = {n->keys[K_SUBS], n->keys[K_COUNT], n->keys[K_VER], keys.audit};
    bp_rargs_eval(&g, create_lua, 4, k);
    bp_rargs_add(&g, c->sub.id);
    bp_rargs_add(&g, c->sub.owner);
    bp_rargs_put(&g, bp_buf_data(&stored), stored.len);
    bp_rargs_addf(&g, "%d", n->s->notify_max_subscriptions_per_person);
    bp_rargs_addf(&g, "%d", n->s->notify_max_subscriptions);
    bp_rargs_addf(&g, "%lld", (long long)(now - (int64_t)n->s->audit_retention_days * 86400000LL));
    bp_rargs_addf(&g, "%lld", (long long)now);
    bp_rargs_add(&g, c->actor);
    bp_rargs_add(&g, c->role);
    bp_rargs_add(&g, r->addr);
    bp_rargs_put(&g, bp_buf_data(&shown), shown.len);
    if (stored.failed || shown.failed) g.failed = true;
    if (stored.base) explicit_bzero(stored.base, stored.cap + stored.headroom);
    bp_buf_free(&stored);
    bp_buf_free(&shown);
    if (bp_rargs_send(&g, n->redis, on_created, c)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; nothing was made");
        bp_req_done(r);
        create_free(c);
    }
}

static void url_refused(bp_req_t *r, const char *why) {
    bp_errors_t errs = {.n = 1};
    bp_error_set(&errs.e[0], "private_target", "url", "%s", why);
    bp_req_invalid(r, why, &errs);
}

static void on_create_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    create_t *c = req->data;
    bp_req_t *r = c->r;
    if (status == UV_ECANCELED || c->n->closing) {
        uv_freeaddrinfo(res);
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the server is stopping; send it again");
        bp_req_done(r);
        create_free(c);
        return;
    }
    bp_url_t u;
    bp_error_t e;
    bp_url_parse(c->sub.url, strlen(c->sub.url), &u, "url", &e);
    char msg[600];
    if (status < 0 || !res) {
        snprintf(msg, sizeof msg, "url: the host %s could not be found (%s)", u.host,
                 uv_strerror(status));
        uv_freeaddrinfo(res);
        bp_errors_t errs = {.n = 1};
        bp_error_set(&errs.e[0], "unknown_host", "url", "%s", msg);
        bp_req_invalid(r, msg, &errs);
        bp_req_done(r);
        create_free(c);
        return;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = "";
        bp_addr_class_t k;
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *sa = (const void *)ai->ai_addr;
            k = bp_addr_classify4((const uint8_t *)&sa->sin_addr);
            inet_ntop(AF_INET, &sa->sin_addr, text, sizeof text);
        } else if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *sa = (const void *)ai->ai_addr;
            k = bp_addr_classify6((const uint8_t *)&sa->sin6_addr);
            inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
        } else {
            continue;
        }
        if (!bp_addr_allowed(k, c->n->s->notify_allow_private_targets != 0)) {
            snprintf(
                msg, sizeof msg,
                "url must not point at a loopback, private, link-local or reserved address: %s "
                "is %s (%s)",
                u.host, text, bp_addr_class_name(k));
            uv_freeaddrinfo(res);
            url_refused(r, msg);
            bp_req_done(r);
            create_free(c);
            return;
        }
    }
    uv_freeaddrinfo(res);
    store(c);
}

static void create_sub(bp_req_t *r, struct bp_notifier *n, const bp_principal_t *p) {
    const bp_registry_t *reg = &n->app->cfg.registry;
    if (!bp_req_is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the subscription as application/json");
        return;
    }
    create_t *c = calloc(1, sizeof *c);
    if (!c) {
        bp_req_error(r, 503, "unavailable", "out of memory");
        return;
    }
    c->r = r;
    c->n = n;
    snprintf(c->actor, sizeof c->actor, "%s", p->id);
    snprintf(c->role, sizeof c->role, "%s", bp_role_name(p->role));
    bp_errors_t errs;
    if (bp_sub_parse(bp_buf_data(&r->in), r->in.len, reg, false, &c->sub, &errs)) {
        bp_req_invalid(r, errs.n == 1 ? errs.e[0].message : "some fields are not valid; see errors",
                       &errs);
        create_free(c);
        return;
    }
    /* whose: one's own; an admin may name anyone who holds a token */
    if (c->sub.owner[0] && strcmp(c->sub.owner, p->id)) {
        if (p->role != BP_ROLE_ADMIN) {
            bp_req_error(r, 403, "forbidden",
                         "only an admin may make subscriptions for someone else");
            create_free(c);
            return;
        }
        if (!bp_tokens_by_id(n->app->tokens, c->sub.owner)) {
            errs.n = 1;
            bp_error_set(&errs.e[0], "unknown_owner", "owner",
                         "owner must be the id of an existing token");
            bp_req_invalid(r, errs.e[0].message, &errs);
            create_free(c);
            return;
        }
    } else {
        snprintf(c->sub.owner, sizeof c->sub.owner, "%s", p->id);
    }
    if (c->sub.channel == BP_CH_EMAIL && !n->s->smtp_url[0]) {
        errs.n = 1;
        bp_error_set(&errs.e[0], "not_configured", "channel",
                     "channel email is not available: this server has no smtp.url");
        bp_req_invalid(r, errs.e[0].message, &errs);
        create_free(c);
        return;
    }
    unsigned char raw[8];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        bp_req_error(r, 503, "unavailable", "no randomness for an id; retry");
        create_free(c);
        return;
    }
    char hex[17];
    bp_hex(raw, sizeof raw, hex);
    snprintf(c->sub.id, sizeof c->sub.id, "s-%s", hex);
    c->sub.created_ms = bp_time_now_ms();
    r->pending = true;
    if (c->sub.channel == BP_CH_EMAIL) {
        store(c);
        return;
    }
    /* a webhook: the URL's host must not be a way into the internal network */
    bp_url_t u;
    bp_error_t e;
    bp_url_parse(c->sub.url, strlen(c->sub.url), &u, "url", &e);
    bool allow = n->s->notify_allow_private_targets != 0;
    if (u.host_is_ip) {
        int k = bp_addr_classify_text(u.host);
        if (k < 0 || !bp_addr_allowed((bp_addr_class_t)k, allow)) {
            char msg[600];
            snprintf(msg, sizeof msg,
                     "url must not point at a loopback, private, link-local or reserved address: "
                     "%s is %s",
                     u.host, k < 0 ? "not an address" : bp_addr_class_name((bp_addr_class_t)k));
            r->pending = false;
            url_refused(r, msg);
            create_free(c);
            return;
        }
        store(c);
        return;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->gai.data = c;
    if (uv_getaddrinfo(&n->app->loop, &c->gai, on_create_resolved, u.host, NULL, &hints)) {
        r->pending = false;
        bp_req_error(r, 503, "unavailable", "cannot look up the host now; retry");
        create_free(c);
    }
}

typedef struct {
    bp_req_t *r;
    struct bp_notifier *n;
    char id[BP_SUB_ID_MAX + 1];
} delete_t;

static void on_deleted(bp_redis_t *redis, redisReply *reply, void *privdata) {
    delete_t *x = privdata;
    bp_req_t *r = x->r;
    struct bp_notifier *n = x->n;
    (void)redis;
    if (!reply || reply->type != REDIS_REPLY_INTEGER) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage did not answer; reload and retry");
    } else if (reply->integer == 0) {
        bp_req_error(r, 404, "unknown_subscription", "no subscription of yours with this id");
    } else {
        for (size_t i = 0; i < n->n_subs; i++) {
            if (strcmp(n->subs[i].id, x->id)) continue;
            explicit_bzero(&n->subs[i], sizeof n->subs[i]);
            n->subs[i] = n->subs[--n->n_subs];
            break;
        }
        bp_buf_puts(&r->resp.body, "{\"deleted\":");
        bp_json_cstr(&r->resp.body, x->id);
        bp_buf_putc(&r->resp.body, '}');
        bp_info("http %s: subscription %s ended", r->addr, x->id);
    }
    bp_req_done(r);
    free(x);
}

static void delete_sub(bp_req_t *r, struct bp_notifier *n, const bp_principal_t *p,
                       const char *id) {
    if (strlen(id) > BP_SUB_ID_MAX || strncmp(id, "s-", 2)) {
        bp_req_error(r, 404, "unknown_subscription", "no subscription of yours with this id");
        return;
    }
    delete_t *x = calloc(1, sizeof *x);
    if (!x) {
        bp_req_error(r, 503, "unavailable", "out of memory");
        return;
    }
    x->r = r;
    x->n = n;
    snprintf(x->id, sizeof x->id, "%s", id);
    int64_t now = bp_time_now_ms();
    bp_keys_t keys;
    bp_keys_init(&keys, n->s->redis_prefix);
    bp_rargs_t g = {0};
    const char *k[] = {n->keys[K_SUBS], n->keys[K_COUNT], n->keys[K_VER], keys.audit};
    bp_rargs_eval(&g, delete_lua, 4, k);
    bp_rargs_add(&g, id);
    bp_rargs_add(&g, p->id);
    bp_rargs_add(&g, p->role == BP_ROLE_ADMIN ? "1" : "0");
    bp_rargs_addf(&g, "%lld", (long long)(now - (int64_t)n->s->audit_retention_days * 86400000LL));
    bp_rargs_addf(&g, "%lld", (long long)now);
    bp_rargs_add(&g, p->id);
    bp_rargs_add(&g, bp_role_name(p->role));
    bp_rargs_add(&g, r->addr);
    if (bp_rargs_send(&g, n->redis, on_deleted, x)) {
        free(x);
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; nothing was changed");
        return;
    }
    r->pending = true;
}

static void on_dead(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_req_t *r = privdata;
    (void)redis;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the dead letters cannot be read now; retry");
        bp_req_done(r);
        return;
    }
    bp_buf_t *b = &r->resp.body;
    bp_buf_printf(b, "{\"total\":%lld,\"dead_letters\":[", reply->element[0]->integer);
    const redisReply *list = reply->element[1];
    int k = 0;
    for (size_t i = 0; i < list->elements; i++) {
        const redisReply *e = list->element[i];
        /* written by our own scripts: JSON objects */
        if (e->type != REDIS_REPLY_STRING || e->len < 2 || e->str[0] != '{') continue;
        if (k++) bp_buf_putc(b, ',');
        bp_buf_put(b, e->str, e->len);
    }
    bp_buf_puts(b, "]}");
    bp_req_done(r);
}

void bp_api_dead_letters_get(bp_req_t *r) {
    struct bp_notifier *n = r->app->notifier;
    char lim[16];
    long limit = 100;
    int k = bp_http_arg(r->query, r->query_len, "limit", lim, sizeof lim);
    if (k >= 0) {
        char *e;
        limit = strtol(lim, &e, 10);
        if (k == 0 || *e || limit < 1 || limit > DEAD_PAGE_MAX) {
            bp_req_error(r, 400, "bad_request", "limit must be an integer from 1 to 1000");
            return;
        }
    } else if (k == -2) {
        bp_req_error(r, 400, "bad_request", "limit must be an integer from 1 to 1000");
        return;
    }
    bp_rargs_t g = {0};
    const char *keys[] = {n->keys[K_DEAD]};
    bp_rargs_eval(&g, "return {redis.call('LLEN', KEYS[1]), redis.call('LRANGE', KEYS[1], 0, ARGV[1] - 1)}",
         1, keys);
    bp_rargs_addf(&g, "%ld", limit);
    if (bp_rargs_send(&g, n->redis, on_dead, r)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the dead letters cannot be read now; retry");
        return;
    }
    r->pending = true;
}

/* Notifications must be running: 503 before them. */
bool bp_api_notifier_ready(bp_req_t *r) {
    if (!r->app->notifier) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "notifications are not running");
        return false;
    }
    return true;
}

void bp_api_subscriptions_get(bp_req_t *r) {
    const bp_principal_t *p = NULL;
    if (may_subscribe(r, &p)) list_subs(r, r->app->notifier, p);
}

void bp_api_subscriptions_post(bp_req_t *r) {
    const bp_principal_t *p = NULL;
    if (may_subscribe(r, &p)) create_sub(r, r->app->notifier, p);
}

void bp_api_subscription_delete(bp_req_t *r) {
    const bp_principal_t *p = NULL;
    if (may_subscribe(r, &p))
        delete_sub(r, r->app->notifier, p, r->path + strlen("/api/v1/subscriptions/"));
}

void bp_notifier_metrics(const struct bp_notifier *n, bp_buf_t *o) {
    if (!n) return;
    bp_buf_printf(
        o,
        "# HELP bedpulse_notify_events_total Notification events this server fanned out.\n"
        "# TYPE bedpulse_notify_events_total counter\nbedpulse_notify_events_total %llu\n"
        "# HELP bedpulse_notify_jobs_total Deliveries queued by this server.\n"
        "# TYPE bedpulse_notify_jobs_total counter\nbedpulse_notify_jobs_total %llu\n"
        "# HELP bedpulse_notify_quiet_total Deliveries not made: quiet hours.\n"
        "# TYPE bedpulse_notify_quiet_total counter\nbedpulse_notify_quiet_total %llu\n"
        "# HELP bedpulse_notify_deliveries_total Delivery attempts by outcome.\n"
        "# TYPE bedpulse_notify_deliveries_total counter\n"
        "bedpulse_notify_deliveries_total{outcome=\"delivered\"} %llu\n"
        "bedpulse_notify_deliveries_total{outcome=\"retry\"} %llu\n"
        "bedpulse_notify_deliveries_total{outcome=\"dead\"} %llu\n"
        "bedpulse_notify_deliveries_total{outcome=\"queue_full\"} %llu\n"
        "# HELP bedpulse_notify_in_flight Deliveries in progress on this server.\n"
        "# TYPE bedpulse_notify_in_flight gauge\nbedpulse_notify_in_flight %zu\n"
        "# HELP bedpulse_notify_queue Deliveries waiting (all servers).\n"
        "# TYPE bedpulse_notify_queue gauge\nbedpulse_notify_queue %lld\n"
        "# HELP bedpulse_notify_subscriptions Subscriptions held.\n"
        "# TYPE bedpulse_notify_subscriptions gauge\nbedpulse_notify_subscriptions %zu\n",
        (unsigned long long)n->fanned, (unsigned long long)n->jobs, (unsigned long long)n->quiet,
        (unsigned long long)n->delivered, (unsigned long long)n->retried,
        (unsigned long long)n->dead, (unsigned long long)n->refused, n->inflight, n->queue_len,
        n->n_subs);
}
