/* Token-bucket rate limits in a bounded table (see bp_rate.h). */
#include "bp_rate.h"

#include <stdlib.h>
#include <string.h>

#define PROBE 16

typedef struct {
    char key[BP_RATE_KEY_MAX + 1]; /* "" = free */
    double tokens;
    int64_t at_ms; /* when tokens was computed; also "last used" */
} slot_t;

struct bp_rate {
    slot_t *s;
    size_t mask;
    double per_ms, burst;
};

bp_rate_t *bp_rate_create(size_t slots, double per_min, double burst) {
    size_t n = 16;
    while (n < slots)
        n <<= 1;
    bp_rate_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->s = calloc(n, sizeof *r->s);
    if (!r->s) {
        free(r);
        return NULL;
    }
    r->mask = n - 1;
    r->per_ms = per_min / 60000.0;
    r->burst = burst < 1 ? 1 : burst;
    return r;
}

void bp_rate_destroy(bp_rate_t *r) {
    if (!r) return;
    free(r->s);
    free(r);
}

static double level(const bp_rate_t *r, const slot_t *s, int64_t now_ms) {
    int64_t dt = now_ms > s->at_ms ? now_ms - s->at_ms : 0;
    double t = s->tokens + (double)dt * r->per_ms;
    return t > r->burst ? r->burst : t;
}

static size_t hash(const char *k) {
    uint32_t x = 2166136261u; /* FNV-1a */
    for (; *k; k++)
        x = (x ^ (unsigned char)*k) * 16777619u;
    return x;
}

/* The slot of key: its own, else a free or refilled one, else the one of
 * its probe window that knows least (the fullest bucket, the oldest of
 * those): a key being limited keeps its slot through a flood of new keys. */
static slot_t *find(bp_rate_t *r, const char *key, int64_t now_ms) {
    size_t h = hash(key);
    slot_t *spare = NULL, *victim = NULL;
    double victim_level = -1;
    for (size_t i = 0; i < PROBE; i++) {
        slot_t *s = &r->s[(h + i) & r->mask];
        if (s->key[0] && strcmp(s->key, key) == 0) return s;
        double l = s->key[0] ? level(r, s, now_ms) : r->burst;
        if (!spare && l >= r->burst) spare = s;
        if (!victim || l > victim_level || (l == victim_level && s->at_ms < victim->at_ms)) {
            victim = s;
            victim_level = l;
        }
    }
    slot_t *s = spare ? spare : victim;
    size_t n = strlen(key);
    if (n > BP_RATE_KEY_MAX) n = BP_RATE_KEY_MAX;
    memcpy(s->key, key, n);
    s->key[n] = '\0';
    s->tokens = r->burst;
    s->at_ms = now_ms;
    return s;
}

static bool go(bp_rate_t *r, const char *key, int64_t now_ms, int64_t *retry, bool take) {
    slot_t *s = find(r, key, now_ms);
    double t = level(r, s, now_ms);
    s->tokens = t;
    s->at_ms = now_ms;
    if (t >= 1) {
        if (take) s->tokens = t - 1;
        return true;
    }
    if (retry) *retry = r->per_ms > 0 ? (int64_t)((1 - t) / r->per_ms) + 1 : 60000;
    return false;
}

bool bp_rate_take(bp_rate_t *r, const char *key, int64_t now_ms, int64_t *retry_after_ms) {
    return go(r, key, now_ms, retry_after_ms, true);
}

bool bp_rate_check(bp_rate_t *r, const char *key, int64_t now_ms, int64_t *retry_after_ms) {
    return go(r, key, now_ms, retry_after_ms, false);
}

size_t bp_rate_tracked(const bp_rate_t *r, int64_t now_ms) {
    size_t n = 0;
    for (size_t i = 0; i <= r->mask; i++)
        n += r->s[i].key[0] && level(r, &r->s[i], now_ms) < r->burst;
    return n;
}
