/*
 * Rate limits keyed by a short string (a client address, a token id):
 * token buckets of `burst` tokens refilled at `per_min` tokens a minute, in
 * a fixed table (no allocation after creation). A key whose bucket is full
 * again holds no information and its slot is reused; when every slot a key
 * could use is busy the least recently used one is taken over, so memory
 * stays bounded however many addresses appear (at worst a forgotten key
 * starts again with a full bucket).
 */
#ifndef BP_RATE_H
#define BP_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_RATE_KEY_MAX 47

typedef struct bp_rate bp_rate_t;

/* slots: table size (rounded up to a power of two). NULL on no memory. */
bp_rate_t *bp_rate_create(size_t slots, double per_min, double burst);
void bp_rate_destroy(bp_rate_t *r);

/* Takes one token for key. true: allowed. false: limited, and
 * *retry_after_ms (if not NULL) says when a token will be there. */
bool bp_rate_take(bp_rate_t *r, const char *key, int64_t now_ms, int64_t *retry_after_ms);

/* Whether key has a token now, without taking it (check before an
 * attempt, take only when it fails: "N failures a minute"). */
bool bp_rate_check(bp_rate_t *r, const char *key, int64_t now_ms, int64_t *retry_after_ms);

/* Keys whose buckets are not full (for metrics and tests). */
size_t bp_rate_tracked(const bp_rate_t *r, int64_t now_ms);

#endif
