/* Trend history: sampling under a per-interval lock, and the in-memory copy. */
#include "history.h"
#include "bp_history.h"
#include "bp_jw.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_redis.h"
#include "bp_registry.h"
#include "bp_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define TICK_MS       1000
#define REFRESH_DELAY 2000 /* ms after a sample time, for another server's points */

struct bp_history {
    const bp_settings_t *s;
    bp_state_t *state;
    bp_reader_t *reader;
    bp_redis_t *redis;
    uv_timer_t timer;
    size_t n; /* series: 0 = city, 1.. = hospitals in registry order */
    bp_series_t *series;
    char (*keys)[BP_KEY_MAX];
    char lock_prefix[BP_KEY_MAX];
    char owner[33];
    int64_t last_bucket;
    int64_t refresh_at;
    bool loaded;
    void (*on_closed)(void *);
    void *closed_data;
    bp_history_stats_t st;
};

typedef struct {
    bp_history_t *h;
    size_t i;
} series_ref_t;

static int64_t interval_ms(const bp_history_t *h) {
    return (int64_t)h->s->history_interval_s * 1000;
}

static int64_t retention_ms(const bp_history_t *h) {
    return (int64_t)h->s->history_retention_h * 3600 * 1000;
}

/* -- reading points back ------------------------------------------------------ */

static void on_points(bp_redis_t *r, redisReply *reply, void *privdata) {
    series_ref_t *ref = privdata;
    (void)r;
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        for (size_t k = 0; k < reply->elements; k++) {
            const redisReply *e = reply->element[k];
            bp_history_point_t p;
            if (e->type != REDIS_REPLY_STRING || bp_history_decode(e->str, e->len, &p)) continue;
            bp_series_add(&ref->h->series[ref->i], &p);
            ref->h->st.samples_loaded++;
        }
    }
    free(ref);
}

/* Asks for every point of every series newer than what we hold (or, the
 * first time, the whole retention window). */
static void refresh(bp_history_t *h) {
    int64_t now = bp_time_now_ms();
    for (size_t i = 0; i < h->n; i++) {
        int64_t last = bp_series_last_t(&h->series[i]);
        char from[32];
        if (last)
            snprintf(from, sizeof from, "(%lld", (long long)last);
        else
            snprintf(from, sizeof from, "%lld", (long long)(now - retention_ms(h)));
        series_ref_t *ref = malloc(sizeof *ref);
        if (!ref) return;
        *ref = (series_ref_t){h, i};
        if (bp_redis_command(h->redis, on_points, ref, "ZRANGEBYSCORE %s %s +inf", h->keys[i],
                             from)) {
            free(ref);
            return;
        }
    }
    h->loaded = true;
}

/* -- sampling ---------------------------------------------------------------------- */

static void on_written(bp_redis_t *r, redisReply *reply, void *privdata) {
    (void)r;
    (void)reply;
    (void)privdata;
}

static void write_samples(bp_history_t *h, int64_t t) {
    int64_t now = bp_time_now_ms();
    bp_buf_t b;
    bp_buf_init(&b, 0, 1024); /* a point with every bed type: about 500 bytes */
    char score[24], cutoff[24];
    snprintf(score, sizeof score, "%lld", (long long)t);
    snprintf(cutoff, sizeof cutoff, "(%lld", (long long)(t - retention_ms(h)));
    for (size_t i = 0; i < h->n; i++) {
        bp_history_point_t p;
        if (i == 0)
            bp_history_sample_city(h->state, now, t, &p);
        else
            bp_history_sample_hospital(h->state, i - 1, now, t, &p);
        bp_buf_reset(&b);
        bp_history_encode(&b, &p);
        if (b.failed) continue;
        const char *zadd[4] = {"ZADD", h->keys[i], score, bp_buf_data(&b)};
        size_t zl[4] = {4, strlen(h->keys[i]), strlen(score), b.len};
        bp_redis_command_argv(h->redis, on_written, NULL, 4, zadd, zl);
        bp_redis_command(h->redis, on_written, NULL, "ZREMRANGEBYSCORE %s -inf %s", h->keys[i],
                         cutoff);
    }
    bp_buf_free(&b);
    h->st.samples_written++;
}

typedef struct {
    bp_history_t *h;
    int64_t t;
} lock_ref_t;

static void on_lock(bp_redis_t *r, redisReply *reply, void *privdata) {
    lock_ref_t *ref = privdata;
    bp_history_t *h = ref->h;
    (void)r;
    /* SET NX answers OK to the one server that takes this interval */
    if (reply && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "OK") == 0)
        write_samples(h, ref->t);
    else if (reply)
        h->st.lock_lost++;
    h->refresh_at = bp_time_now_ms() + (reply ? 0 : REFRESH_DELAY);
    free(ref);
}

static void on_tick(uv_timer_t *t) {
    bp_history_t *h = t->data;
    if (!bp_redis_up(h->redis)) return;
    int64_t now = bp_time_now_ms();
    if (!h->loaded) refresh(h);
    if (h->refresh_at && now >= h->refresh_at) {
        h->refresh_at = 0;
        refresh(h);
    }
    /* sample only figures we follow live: not a stale copy of the state */
    if (!bp_reader_ready(h->reader)) return;
    int64_t bucket = now - now % interval_ms(h);
    if (bucket <= h->last_bucket) return;
    h->last_bucket = bucket;
    lock_ref_t *ref = malloc(sizeof *ref);
    if (!ref) return;
    *ref = (lock_ref_t){h, bucket};
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)(2 * interval_ms(h)));
    if (bp_redis_command(h->redis, on_lock, ref, "SET %s%lld %s NX PX %s", h->lock_prefix,
                         (long long)bucket, h->owner, ttl))
        free(ref);
    /* another server's points show up after it wrote them */
    h->refresh_at = now + REFRESH_DELAY;
}

/* -- lifecycle ------------------------------------------------------------------------ */

static void on_up(bp_redis_t *r, void *data) {
    bp_history_t *h = data;
    (void)r;
    h->loaded = false; /* whatever we missed while away */
}

bp_history_t *bp_history_create(uv_loop_t *loop, const bp_settings_t *s, bp_state_t *state,
                                bp_reader_t *reader) {
    bp_history_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    const bp_registry_t *reg = bp_state_registry(state);
    h->s = s;
    h->state = state;
    h->reader = reader;
    h->n = reg->n_hospitals + 1;
    h->series = calloc(h->n, sizeof *h->series);
    h->keys = calloc(h->n, sizeof *h->keys);
    if (!h->series || !h->keys) goto fail;
    size_t cap = (size_t)(retention_ms(h) / interval_ms(h)) + 2;
    for (size_t i = 0; i < h->n; i++)
        if (bp_series_init(&h->series[i], cap)) goto fail;
    snprintf(h->keys[0], BP_KEY_MAX, "%.32shist:city", s->redis_prefix);
    for (size_t i = 1; i < h->n; i++)
        snprintf(h->keys[i], BP_KEY_MAX, "%.32shist:h:%.48s", s->redis_prefix,
                 reg->hospitals[i - 1].id);
    snprintf(h->lock_prefix, sizeof h->lock_prefix, "%.32shist:lock:", s->redis_prefix);
    unsigned char raw[16] = {0};
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        uint64_t x = bp_time_mono_ns();
        memcpy(raw, &x, sizeof x);
    }
    for (int i = 0; i < 16; i++)
        sprintf(h->owner + 2 * i, "%02x", raw[i]);
    bp_redis_opts_t o = bp_redis_opts(s, "history");
    o.max_pending = 64 + 4 * h->n;
    o.on_up = on_up;
    o.data = h;
    h->redis = bp_redis_create(loop, &o);
    if (!h->redis) goto fail;
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    uv_timer_start(&h->timer, on_tick, TICK_MS, TICK_MS);
    return h;
fail:
    for (size_t i = 0; h->series && i < h->n; i++)
        bp_series_free(&h->series[i]);
    free(h->series);
    free(h->keys);
    free(h);
    return NULL;
}

static void on_closed_all(void *p) {
    bp_history_t *h = p;
    void (*cb)(void *) = h->on_closed;
    void *data = h->closed_data;
    for (size_t i = 0; i < h->n; i++)
        bp_series_free(&h->series[i]);
    free(h->series);
    free(h->keys);
    free(h);
    if (cb) cb(data);
}

void bp_history_close(bp_history_t *h, void (*on_closed)(void *), void *data) {
    if (!h) {
        if (on_closed) on_closed(data);
        return;
    }
    h->on_closed = on_closed;
    h->closed_data = data;
    bp_redis_close_with(&h->timer, &h->redis, 1, on_closed_all, h);
}

int bp_history_query(const bp_history_t *h, const char *series, const char *hours, int64_t now_ms,
                     bp_buf_t *out) {
    int max_h = h->s->history_retention_h;
    long hrs = max_h < 24 ? max_h : 24;
    if (hours) {
        char *end;
        hrs = strtol(hours, &end, 10);
        if (!*hours || *end || hrs < 1 || hrs > max_h) {
            char msg[96];
            snprintf(msg, sizeof msg, "hours must be an integer from 1 to %d", max_h);
            bp_jw_error_doc(out, "bad_value", msg);
            return 400;
        }
    }
    size_t i = 0;
    if (!series || strcmp(series, "city") != 0) {
        const bp_registry_t *reg = bp_state_registry(h->state);
        int k = series && bp_is_slug(series, strlen(series))
                    ? bp_registry_hospital(reg, series, strlen(series))
                    : -1;
        if (k < 0) {
            bp_jw_error_doc(out, "unknown_series", "series must be \"city\" or a hospital id");
            return 404;
        }
        i = (size_t)k + 1;
    }
    bp_series_write(out, &h->series[i], series ? series : "city", i == 0, h->s->history_interval_s,
                    now_ms - hrs * 3600 * 1000, now_ms);
    return 200;
}

const struct bp_series *bp_history_series(const bp_history_t *h, int hospital) {
    if (!h || hospital < -1 || (size_t)(hospital + 1) >= h->n) return NULL;
    return &h->series[hospital + 1];
}

void bp_history_stats(const bp_history_t *h, bp_history_stats_t *out) {
    *out = h->st;
}
