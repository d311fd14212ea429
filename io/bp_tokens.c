/* The cached token table (see bp_tokens.h). */
#include "bp_tokens.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_redis.h"
#include "bp_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#define MAX_TOKENS 10000
#define MAX_DENY   10000
#define POLL_MS    1000

typedef struct {
    char hash[65];
    bp_principal_t p;
} entry_t;

typedef struct {
    char sid[33];
    int64_t exp;
} deny_t;

struct bp_tokens {
    const bp_settings_t *s;
    const bp_registry_t *reg;
    bp_redis_t *redis;
    uv_timer_t timer;
    char k_gen[BP_KEY_MAX], k_secret[BP_KEY_MAX], k_tokens[BP_KEY_MAX], k_tok[BP_KEY_MAX],
        k_deny[BP_KEY_MAX];
    /* the table in use: sorted by hash */
    entry_t *e;
    size_t n;
    deny_t *deny;
    size_t n_deny;
    unsigned char secret[32];
    bool has_secret, loaded;
    long long gen_loaded;
    uint64_t swaps;
    /* a load in progress */
    bool loading;
    long long gen_loading;
    entry_t *ne;
    size_t ne_n, ne_cap, waiting;
    deny_t *nd;
    size_t nd_n;
    bool load_failed;
    void (*on_closed)(void *);
    void *closed_data;
};

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const entry_t *)a)->hash, ((const entry_t *)b)->hash);
}

static void load_abort(bp_tokens_t *t) {
    free(t->ne);
    free(t->nd);
    t->ne = NULL;
    t->nd = NULL;
    t->ne_n = t->ne_cap = t->nd_n = 0;
    t->loading = false;
}

static void load_done(bp_tokens_t *t) {
    if (t->waiting || !t->loading) return;
    if (t->load_failed) {
        load_abort(t);
        return;
    }
    qsort(t->ne, t->ne_n, sizeof *t->ne, cmp_entry);
    free(t->e);
    free(t->deny);
    t->e = t->ne;
    t->n = t->ne_n;
    t->deny = t->nd;
    t->n_deny = t->nd_n;
    t->ne = NULL;
    t->nd = NULL;
    t->ne_n = t->ne_cap = t->nd_n = 0;
    t->gen_loaded = t->gen_loading;
    t->swaps++;
    t->loaded = true;
    t->loading = false;
    bp_debug("tokens: %zu loaded (generation %lld)", t->n, t->gen_loaded);
}

static const char *field(const redisReply *h, const char *name) {
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING)
            return h->element[i + 1]->str;
    return NULL;
}

typedef struct {
    bp_tokens_t *t;
    char id[BP_TOKEN_ID_MAX + 1];
} tok_ref_t;

static void on_token(bp_redis_t *r, redisReply *reply, void *privdata) {
    tok_ref_t *ref = privdata;
    bp_tokens_t *t = ref->t;
    (void)r;
    t->waiting--;
    if (!reply)
        t->load_failed = true;
    else if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 && t->ne_n < t->ne_cap) {
        const char *h = field(reply, "h"), *role = field(reply, "role");
        int rr = role ? bp_role_parse(role, strlen(role)) : -1;
        if (h && strlen(h) == 64 && rr >= 0) {
            entry_t *e = &t->ne[t->ne_n++];
            memset(e, 0, sizeof *e);
            memcpy(e->hash, h, 65);
            snprintf(e->p.id, sizeof e->p.id, "%s", ref->id);
            e->p.role = (bp_role_t)rr;
            const char *v;
            if ((v = field(reply, "name"))) snprintf(e->p.name, sizeof e->p.name, "%s", v);
            if ((v = field(reply, "fleet"))) e->p.fleet = strcmp(v, "1") == 0;
            if ((v = field(reply, "expires"))) e->p.expires_ms = strtoll(v, NULL, 10);
            if ((v = field(reply, "revoked"))) e->p.revoked_ms = strtoll(v, NULL, 10);
            if ((v = field(reply, "hospitals"))) {
                if (strcmp(v, "*") == 0) {
                    e->p.all_hospitals = true;
                } else {
                    for (const char *p = v; *p;) {
                        const char *comma = strchr(p, ',');
                        size_t n = comma ? (size_t)(comma - p) : strlen(p);
                        int i = bp_registry_hospital(t->reg, p, n);
                        if (i >= 0) bp_principal_scope_add(&e->p, i);
                        p += n + (comma ? 1 : 0);
                    }
                }
            }
        }
    }
    free(ref);
    load_done(t);
}

static void on_deny(bp_redis_t *r, redisReply *reply, void *privdata) {
    bp_tokens_t *t = privdata;
    (void)r;
    t->waiting--;
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        t->load_failed = true;
    } else {
        size_t n = reply->elements / 2;
        if (n > MAX_DENY) n = MAX_DENY;
        t->nd = calloc(n ? n : 1, sizeof *t->nd);
        for (size_t i = 0; t->nd && i < n; i++) {
            const redisReply *m = reply->element[2 * i], *sc = reply->element[2 * i + 1];
            if (m->type != REDIS_REPLY_STRING || sc->type != REDIS_REPLY_STRING) continue;
            deny_t *d = &t->nd[t->nd_n++];
            snprintf(d->sid, sizeof d->sid, "%s", m->str);
            d->exp = strtoll(sc->str, NULL, 10);
        }
        if (!t->nd) t->load_failed = true;
    }
    load_done(t);
}

static void on_members(bp_redis_t *r, redisReply *reply, void *privdata) {
    bp_tokens_t *t = privdata;
    t->waiting--;
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        t->load_failed = true;
        load_done(t);
        return;
    }
    t->ne_cap = reply->elements < MAX_TOKENS ? reply->elements : MAX_TOKENS;
    t->ne = calloc(t->ne_cap ? t->ne_cap : 1, sizeof *t->ne);
    if (!t->ne) {
        t->load_failed = true;
        load_done(t);
        return;
    }
    for (size_t i = 0; i < t->ne_cap; i++) {
        const redisReply *m = reply->element[i];
        if (m->type != REDIS_REPLY_STRING || m->len > BP_TOKEN_ID_MAX) continue;
        tok_ref_t *ref = malloc(sizeof *ref);
        if (!ref) continue;
        ref->t = t;
        snprintf(ref->id, sizeof ref->id, "%s", m->str);
        if (bp_redis_command(r, on_token, ref, "HGETALL %s%s", t->k_tok, m->str)) {
            free(ref);
            t->load_failed = true;
            continue;
        }
        t->waiting++;
    }
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)bp_time_now_ms());
    if (bp_redis_command(r, on_deny, t, "ZRANGEBYSCORE %s %s +inf WITHSCORES", t->k_deny, now))
        t->load_failed = true;
    else
        t->waiting++;
    load_done(t);
}

static void on_secret(bp_redis_t *r, redisReply *reply, void *privdata) {
    bp_tokens_t *t = privdata;
    (void)r;
    t->waiting--;
    if (reply && reply->type == REDIS_REPLY_STRING && reply->len == 64) {
        for (int i = 0; i < 32; i++) {
            unsigned v;
            if (sscanf(reply->str + 2 * i, "%2x", &v) != 1) break;
            t->secret[i] = (unsigned char)v;
        }
        t->has_secret = true;
    } else {
        t->load_failed = true;
    }
    load_done(t);
}

static void on_ignore(bp_redis_t *r, redisReply *reply, void *privdata) {
    (void)r;
    (void)reply;
    (void)privdata;
}

static void load(bp_tokens_t *t, long long gen) {
    if (t->loading) return;
    t->loading = true;
    t->load_failed = false;
    t->gen_loading = gen;
    t->waiting = 0;
    /* the signing key: whoever comes first creates it */
    unsigned char raw[32];
    char hex[65];
    if (RAND_bytes(raw, (int)sizeof raw) != 1) {
        bp_error("tokens: no random bytes for the session key");
        load_abort(t);
        return;
    }
    bp_hex(raw, sizeof raw, hex);
    int rc = bp_redis_command(t->redis, on_ignore, NULL, "SET %s %s NX", t->k_secret, hex);
    rc |= bp_redis_command(t->redis, on_secret, t, "GET %s", t->k_secret);
    if (!rc) t->waiting++;
    rc |= bp_redis_command(t->redis, on_members, t, "SMEMBERS %s", t->k_tokens);
    if (rc) {
        load_abort(t);
        return;
    }
    t->waiting++;
}

static void on_gen(bp_redis_t *r, redisReply *reply, void *privdata) {
    bp_tokens_t *t = privdata;
    (void)r;
    if (!reply) return;
    long long gen = reply->type == REDIS_REPLY_STRING ? strtoll(reply->str, NULL, 10) : 0;
    if (!t->loaded || gen != t->gen_loaded) load(t, gen);
}

static void on_tick(uv_timer_t *h) {
    bp_tokens_t *t = h->data;
    if (bp_redis_up(t->redis) && !t->loading)
        bp_redis_command(t->redis, on_gen, t, "GET %s", t->k_gen);
}

static void on_up(bp_redis_t *r, void *data) {
    bp_tokens_t *t = data;
    (void)r;
    t->loading = false;
    bp_redis_command(t->redis, on_gen, t, "GET %s", t->k_gen);
}

bp_tokens_t *bp_tokens_create(uv_loop_t *loop, const bp_settings_t *s, const bp_registry_t *reg) {
    bp_tokens_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->s = s;
    t->reg = reg;
    const char *p = s->redis_prefix;
    snprintf(t->k_gen, BP_KEY_MAX, "%.32sauth:gen", p);
    snprintf(t->k_secret, BP_KEY_MAX, "%.32sauth:secret", p);
    snprintf(t->k_tokens, BP_KEY_MAX, "%.32stokens", p);
    snprintf(t->k_tok, BP_KEY_MAX, "%.32stok:", p);
    snprintf(t->k_deny, BP_KEY_MAX, "%.32sauth:deny", p);
    bp_redis_opts_t o = bp_redis_opts(s, "tokens");
    o.max_pending = MAX_TOKENS + 64;
    o.on_up = on_up;
    o.data = t;
    t->redis = bp_redis_create(loop, &o);
    if (!t->redis) {
        free(t);
        return NULL;
    }
    uv_timer_init(loop, &t->timer);
    t->timer.data = t;
    uv_timer_start(&t->timer, on_tick, POLL_MS, POLL_MS);
    return t;
}

static void on_closed_all(void *p) {
    bp_tokens_t *t = p;
    void (*cb)(void *) = t->on_closed;
    void *data = t->closed_data;
    load_abort(t);
    free(t->e);
    free(t->deny);
    free(t);
    if (cb) cb(data);
}

void bp_tokens_close(bp_tokens_t *t, void (*on_closed)(void *), void *data) {
    if (!t) {
        if (on_closed) on_closed(data);
        return;
    }
    t->on_closed = on_closed;
    t->closed_data = data;
    bp_redis_close_with(&t->timer, &t->redis, 1, on_closed_all, t);
}

bool bp_tokens_ready(const bp_tokens_t *t) {
    return t && t->loaded;
}

uint64_t bp_tokens_generation(const bp_tokens_t *t) {
    return t ? t->swaps : 0;
}

const bp_principal_t *bp_tokens_find(const bp_tokens_t *t, const char *token, size_t len) {
    if (!t || !t->loaded || !bp_token_well_formed(token, len)) return NULL;
    entry_t key;
    bp_token_hash(token, len, key.hash);
    const entry_t *e = bsearch(&key, t->e, t->n, sizeof *t->e, cmp_entry);
    return e ? &e->p : NULL;
}

const bp_principal_t *bp_tokens_by_id(const bp_tokens_t *t, const char *id) {
    if (!t) return NULL;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->e[i].p.id, id) == 0) return &t->e[i].p;
    return NULL;
}

const unsigned char *bp_tokens_secret(const bp_tokens_t *t, size_t *len) {
    if (!t || !t->has_secret) return NULL;
    *len = sizeof t->secret;
    return t->secret;
}

bool bp_tokens_session_denied(const bp_tokens_t *t, const char *sid) {
    for (size_t i = 0; t && i < t->n_deny; i++)
        if (strcmp(t->deny[i].sid, sid) == 0) return true;
    return false;
}

void bp_tokens_deny_session(bp_tokens_t *t, const char *sid, int64_t expires_ms) {
    if (t->n_deny < MAX_DENY) {
        deny_t *d = realloc(t->deny, (t->n_deny + 1) * sizeof *d);
        if (d) {
            t->deny = d;
            snprintf(d[t->n_deny].sid, sizeof d->sid, "%s", sid);
            d[t->n_deny].exp = expires_ms;
            t->n_deny++;
        }
    }
    char exp[24];
    snprintf(exp, sizeof exp, "%lld", (long long)expires_ms);
    bp_redis_command(t->redis, on_ignore, NULL, "ZADD %s %s %s", t->k_deny, exp, sid);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)bp_time_now_ms());
    bp_redis_command(t->redis, on_ignore, NULL, "ZREMRANGEBYSCORE %s -inf %s", t->k_deny, now);
    bp_redis_command(t->redis, on_ignore, NULL, "INCR %s", t->k_gen);
}

void bp_tokens_resolve(const bp_tokens_t *t, bp_secret_t kind, const char *secret, size_t len,
                       int64_t now_ms, bp_cred_t *c) {
    memset(c, 0, sizeof *c);
    if (kind == BP_SECRET_NONE) return;
    if (t && !t->loaded) {
        c->state = BP_CRED_UNREADY;
        return;
    }
    const bp_principal_t *p = NULL;
    c->state = BP_CRED_INVALID;
    if (!t || kind == BP_SECRET_MALFORMED) return;
    if (kind == BP_SECRET_BEARER) {
        p = bp_tokens_find(t, secret, len);
    } else {
        size_t klen;
        const unsigned char *key = bp_tokens_secret(t, &klen);
        char tid[BP_TOKEN_ID_MAX + 1];
        if (!key ||
            bp_session_verify(key, klen, secret, len, now_ms, tid, c->session_id, &c->session_exp))
            return;
        if (!bp_tokens_session_denied(t, c->session_id)) p = bp_tokens_by_id(t, tid);
        if (!p) {
            c->state = BP_CRED_SIGNED_OUT; /* its ids kept: a sign-out forgets it again */
            return;
        }
    }
    if (!p) return;
    c->state = BP_CRED_OK;
    snprintf(c->token_id, sizeof c->token_id, "%s", p->id);
}

bp_cred_verdict_t bp_tokens_check(const bp_tokens_t *t, const bp_cred_t *c, int64_t now_ms,
                                  const bp_principal_t **p) {
    const bp_principal_t *who = c->state == BP_CRED_OK ? bp_tokens_by_id(t, c->token_id) : NULL;
    bool denied =
        c->state == BP_CRED_OK && c->session_id[0] && bp_tokens_session_denied(t, c->session_id);
    bp_cred_verdict_t v = bp_cred_verdict(c, who, denied, now_ms);
    *p = v == BP_CRED_VALID ? who : NULL;
    return v;
}
