/* Log-bucketed histogram (see bp_hist.h). */
#include "bp_hist.h"

#include <stdlib.h>
#include <string.h>

#define SUB_BITS  8
#define SUB_COUNT (1u << SUB_BITS) /* exact values below this */
#define SUB_HALF  (SUB_COUNT / 2)  /* sub-buckets per power of two above it */
#define MAX_BITS  40
#define N_BUCKETS (SUB_COUNT + (MAX_BITS - SUB_BITS) * SUB_HALF)

struct bp_hist {
    uint64_t count, min, max;
    double sum;
    uint64_t n[N_BUCKETS];
};

static unsigned bucket_of(uint64_t v) {
    if (v < SUB_COUNT) return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (SUB_BITS - 1); /* v >> shift is in [SUB_HALF, SUB_COUNT) */
    unsigned idx = SUB_COUNT + (shift - 1) * SUB_HALF + (unsigned)((v >> shift) - SUB_HALF);
    return idx < N_BUCKETS ? idx : N_BUCKETS - 1;
}

/* Highest value that lands in bucket idx. */
static uint64_t bucket_top(unsigned idx) {
    if (idx < SUB_COUNT) return idx;
    unsigned shift = (idx - SUB_COUNT) / SUB_HALF + 1;
    uint64_t sub = (idx - SUB_COUNT) % SUB_HALF + SUB_HALF;
    return ((sub + 1) << shift) - 1;
}

bp_hist_t *bp_hist_create(void) {
    return calloc(1, sizeof(bp_hist_t));
}

void bp_hist_destroy(bp_hist_t *h) {
    free(h);
}

void bp_hist_record(bp_hist_t *h, uint64_t v) {
    if (h->count == 0 || v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    h->count++;
    h->sum += (double)v;
    h->n[bucket_of(v)]++;
}

void bp_hist_reset(bp_hist_t *h) {
    memset(h, 0, sizeof *h);
}

void bp_hist_merge(bp_hist_t *dst, const bp_hist_t *src) {
    if (!src->count) return;
    if (dst->count == 0 || src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
    for (unsigned i = 0; i < N_BUCKETS; i++)
        dst->n[i] += src->n[i];
}

uint64_t bp_hist_count(const bp_hist_t *h) {
    return h->count;
}

uint64_t bp_hist_max(const bp_hist_t *h) {
    return h->max;
}

uint64_t bp_hist_min(const bp_hist_t *h) {
    return h->min;
}

double bp_hist_mean(const bp_hist_t *h) {
    return h->count ? h->sum / (double)h->count : 0.0;
}

uint64_t bp_hist_percentile(const bp_hist_t *h, double p) {
    if (!h->count) return 0;
    if (p < 0) p = 0;
    if (p > 100) p = 100;
    double r = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r) rank++; /* ceil without libm */
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < N_BUCKETS; i++) {
        seen += h->n[i];
        if (seen >= rank) {
            uint64_t v = bucket_top(i);
            return v > h->max ? h->max : (v < h->min ? h->min : v);
        }
    }
    return h->max;
}
