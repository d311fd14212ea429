/*
 * A log-bucketed latency histogram in the style of HdrHistogram: 256 exact
 * buckets below 256, then 128 sub-buckets per power of two, so every
 * recorded value is kept to within 1/128 (< 0.8%) of itself, in constant
 * memory (about 35 KiB) and constant time per value. Values are unsigned
 * (microseconds in the benchmarks) up to 2^40; larger ones are clamped.
 */
#ifndef BP_HIST_H
#define BP_HIST_H

#include <stdint.h>

typedef struct bp_hist bp_hist_t;

/* Returns an empty histogram, or NULL when out of memory. */
bp_hist_t *bp_hist_create(void);

/* Frees h; NULL is a no-op. */
void bp_hist_destroy(bp_hist_t *h);

void bp_hist_record(bp_hist_t *h, uint64_t v);

/* Forgets every value recorded. */
void bp_hist_reset(bp_hist_t *h);

/* Adds every value recorded in src to dst. */
void bp_hist_merge(bp_hist_t *dst, const bp_hist_t *src);

uint64_t bp_hist_count(const bp_hist_t *h);

/* The exact largest and smallest values recorded (0 when empty). */
uint64_t bp_hist_max(const bp_hist_t *h);
uint64_t bp_hist_min(const bp_hist_t *h);

double bp_hist_mean(const bp_hist_t *h);

/* The value at percentile p (0..100): the highest value equivalent to the
 * bucket holding the ceil(p% * count)-th smallest value, capped at the exact
 * maximum. 0 when empty. */
uint64_t bp_hist_percentile(const bp_hist_t *h, double p);

#endif
