/*
 * A small deterministic pseudo-random generator for the simulator:
 * xorshift64* seeded through splitmix64, so that any 64-bit seed (0 too)
 * gives a well-mixed, non-zero state and the same seed replays the same
 * simulation. Not for anything security-related.
 */
#ifndef BP_SIM_RNG_H
#define BP_SIM_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t s;
} bp_rng_t;

static inline uint64_t bp_rng_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void bp_rng_seed(bp_rng_t *r, uint64_t seed) {
    uint64_t x = seed;
    r->s = bp_rng_splitmix64(&x);
    if (r->s == 0) r->s = 0x2545F4914F6CDD1Dull; /* xorshift must not start at 0 */
}

static inline uint64_t bp_rng_next(bp_rng_t *r) {
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, 1). */
static inline double bp_rng_unit(bp_rng_t *r) {
    return (double)(bp_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [lo, hi). */
static inline double bp_rng_range(bp_rng_t *r, double lo, double hi) {
    return lo + (hi - lo) * bp_rng_unit(r);
}

/* Uniform integer in [0, n); 0 when n is 0. */
static inline uint32_t bp_rng_below(bp_rng_t *r, uint32_t n) {
    return n ? (uint32_t)(((bp_rng_next(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

static inline int bp_rng_chance(bp_rng_t *r, double p) {
    return bp_rng_unit(r) < p;
}

/* Standard normal (Box-Muller; one value per call keeps the state simple). */
static inline double bp_rng_normal(bp_rng_t *r) {
    double u1 = bp_rng_unit(r), u2 = bp_rng_unit(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Exponential with the given mean (waiting time of a Poisson process). */
static inline double bp_rng_exp(bp_rng_t *r, double mean) {
    return -mean * log(1.0 - bp_rng_unit(r));
}

#endif
