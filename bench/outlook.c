/*
 * bp-outlook: the 24-hour outlook (core/bp_outlook) measured on the
 * simulator's model (sim/), run fast-forward with a fake clock — its lines
 * parsed by the collector's own parser and applied to a state as a server
 * does, sampled every history interval (300 s) as server/history.c samples.
 *
 *   bp-outlook backtest [--weeks W] [--days D] [--seed S] [--step H]
 *       W weeks of history (default 3), then D days (default 14) in which
 *       every H hours (default 1) each hospital's and the city's emergency,
 *       icu_adult and medical_surgical beds are forecast and compared with
 *       what happened at horizons 1..24 h, next to "no change" and "same
 *       hour last week": mean absolute error per horizon, and how often the
 *       truth fell inside the 80 % interval.
 *   bp-outlook bench [--weeks W] [--runs N]
 *       W weeks of history (default 4), then a full refresh (every bed type
 *       of the city and every hospital, as the server does) N times (default
 *       31): the median next to the trivial "no change" forecast over the
 *       same series.
 *
 * The hospitals and the fleet are the programs' (bp_config_load: run it from
 * the repository, or name the settings with BP_SETTINGS).
 */
#include "bp_codec_feed.h"
#include "bp_config.h"
#include "bp_history.h"
#include "bp_outlook.h"
#include "bp_state.h"
#include "bp_time.h"
#include "sim_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INTERVAL_MS (300 * 1000LL)
#define STEP_MS     10000
#define T0          1794934800000LL /* 2026-11-18T00:00+07:00, a Wednesday */
#define H           BP_OUTLOOK_HORIZON

static const int kinds[] = {BP_BED_EMERGENCY, BP_BED_ICU_ADULT, BP_BED_MEDICAL_SURGICAL};
#define N_KINDS 3

/* The simulated history: series 0 the city, 1.. the hospitals. */
typedef struct {
    size_t n;
    bp_series_t *series;
    int64_t end_ms;
} world_t;

static int simulate(const bp_registry_t *reg, uint64_t seed, double days, world_t *w) {
    bp_sim_options_t o;
    bp_sim_options_default(&o);
    o.seed = seed;
    o.speed = 1;
    o.warm_start = false;
    bp_sim_t *sim = bp_sim_create(reg, &o, T0);
    bp_state_t *st = bp_state_create(reg, &bp_pressure_default, 2000);
    w->n = reg->n_hospitals + 1;
    w->series = calloc(w->n, sizeof *w->series);
    if (!sim || !st || !w->series) return -1;
    int64_t end = T0 + (int64_t)(days * 86400000.0);
    size_t cap = (size_t)((end - T0) / INTERVAL_MS) + 2;
    for (size_t i = 0; i < w->n; i++)
        if (bp_series_init(&w->series[i], cap)) return -1;
    static bp_sim_line_t lines[256];
    bp_buf_t out;
    bp_buf_init(&out, 0, 256 * BP_SIM_LINE_MAX);
    size_t rejected = 0;
    int64_t next_sample = T0 + INTERVAL_MS;
    for (int64_t t = T0; t <= end; t += STEP_MS) {
        bp_buf_reset(&out);
        size_t n = bp_sim_step(sim, t, 256, &out, lines);
        for (size_t i = 0; i < n; i++) {
            bp_change_t ch;
            bp_error_t err;
            bp_error_clear(&err);
            const char *line = bp_buf_data(&out) + lines[i].off;
            if (bp_codec_parse_feed(line, lines[i].len - 1, reg, t, 300000, &ch, &err) ||
                bp_state_apply(st, &ch) < 0)
                rejected++;
        }
        if (t >= next_sample) {
            bp_history_point_t p;
            bp_history_sample_city(st, t, next_sample, &p);
            bp_series_add(&w->series[0], &p);
            for (size_t i = 1; i < w->n; i++) {
                bp_history_sample_hospital(st, i - 1, t, next_sample, &p);
                bp_series_add(&w->series[i], &p);
            }
            next_sample += INTERVAL_MS;
        }
    }
    w->end_ms = next_sample - INTERVAL_MS;
    bp_buf_free(&out);
    bp_state_destroy(st);
    bp_sim_destroy(sim);
    fprintf(
        stderr,
        "bp-outlook: %.1f simulated days, %zu lines not applied (incidents the state refused)\n",
        days, rejected);
    return 0;
}

static void world_free(world_t *w) {
    for (size_t i = 0; w->series && i < w->n; i++)
        bp_series_free(&w->series[i]);
    free(w->series);
}

/* -- backtest ------------------------------------------------------------ */

typedef struct {
    double out[H + 1], still[H + 1], week[H + 1]; /* sums of absolute errors */
    long n[H + 1], inside[H + 1];
} score_t;

static void score_series(const double *y, size_t n, int64_t t_last, double staffed, size_t from,
                         int step, score_t *sc) {
    for (size_t k = from; k + H < n; k += (size_t)step) {
        if (isnan(y[k])) continue;
        bp_outlook_t o;
        int64_t t_k = t_last - (int64_t)(n - 1 - k) * BP_HOUR_MS;
        if (bp_outlook_forecast(y, k + 1, t_k, staffed, &o) != BP_OUTLOOK_OK) continue;
        for (int h = 1; h <= H; h++) {
            double truth = y[k + h];
            if (isnan(truth) || k + (size_t)h < 168 || isnan(y[k + h - 168])) continue;
            const bp_outlook_point_t *p = &o.p[h - 1];
            sc->out[h] += fabs(truth - p->mean);
            sc->still[h] += fabs(truth - y[k]);
            sc->week[h] += fabs(truth - y[k + h - 168]);
            sc->inside[h] += truth >= p->lower && truth <= p->upper;
            sc->n[h]++;
        }
    }
}

static void print_row(const char *name, const score_t *sc, int h) {
    double n = (double)sc->n[h];
    printf("| %-18s | %2d | %7.2f | %7.2f | %7.2f | %5.1f %% | %6ld |\n", name, h, sc->out[h] / n,
           sc->still[h] / n, sc->week[h] / n, 100.0 * (double)sc->inside[h] / n, sc->n[h]);
}

static int backtest(const bp_registry_t *reg, uint64_t seed, double weeks, double days, int step) {
    world_t w = {0};
    if (simulate(reg, seed, weeks * 7 + days + 1.05, &w)) return 1;
    size_t cap = (size_t)((weeks * 7 + days + 2) * 24);
    double *y = malloc(cap * sizeof *y);
    score_t hosp[N_KINDS], city[N_KINDS], all;
    memset(hosp, 0, sizeof hosp);
    memset(city, 0, sizeof city);
    memset(&all, 0, sizeof all);
    size_t from = (size_t)(weeks * 7 * 24);
    for (size_t i = 0; i < w.n; i++)
        for (int k = 0; k < N_KINDS; k++) {
            int64_t t_last;
            double staffed;
            size_t n = bp_outlook_hourly(&w.series[i], kinds[k], y, cap, &t_last, &staffed);
            if (n < from + 25) continue;
            size_t end = from + (size_t)(24 * days) + H;
            if (end > n) end = n;
            score_series(y, end, t_last - (int64_t)(n - end) * BP_HOUR_MS, staffed, from, step,
                         i == 0 ? &city[k] : &hosp[k]);
        }
    for (int h = 1; h <= H; h++)
        for (int k = 0; k < N_KINDS; k++) {
            all.out[h] += hosp[k].out[h];
            all.still[h] += hosp[k].still[h];
            all.week[h] += hosp[k].week[h];
            all.inside[h] += hosp[k].inside[h];
            all.n[h] += hosp[k].n[h];
        }
    printf("seed %llu, %.0f weeks of history, %.0f days of forecasts every %d h\n\n",
           (unsigned long long)seed, weeks, days, step);
    printf("| series             |  h | outlook | no change | last week | inside | n |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int h = 1; h <= H; h++)
        print_row("hospitals, 3 types", &all, h);
    printf("\n| series             |  h | outlook | no change | last week | inside | n |\n");
    printf("|---|---|---|---|---|---|---|\n");
    static const int hs[] = {1, 6, 24};
    for (int k = 0; k < N_KINDS; k++)
        for (int j = 0; j < 3; j++) {
            char name[40];
            snprintf(name, sizeof name, "hospitals %s", bp_bed_type_name((bp_bed_type_t)kinds[k]));
            print_row(name, &hosp[k], hs[j]);
        }
    for (int k = 0; k < N_KINDS; k++)
        for (int j = 0; j < 3; j++) {
            char name[40];
            snprintf(name, sizeof name, "city %s", bp_bed_type_name((bp_bed_type_t)kinds[k]));
            print_row(name, &city[k], hs[j]);
        }
    int ok = all.out[6] < all.still[6] && all.out[6] < all.week[6] && all.out[24] < all.still[24] &&
             all.out[24] < all.week[24];
    printf("\nbeats both baselines at 6 h and 24 h: %s\n", ok ? "yes" : "NO");
    free(y);
    world_free(&w);
    return ok ? 0 : 2;
}

/* -- bench --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The peer: "no change" over the same series, from the same hourly pass. */
static void still_series(const bp_series_t *s, bp_outlook_set_t *out) {
    out->mask = 0;
    if (!s->count) return;
    uint32_t mask = bp_series_at(s, s->count - 1)->beds_mask;
    static double buf[BP_BED__COUNT][BP_OUTLOOK_MAX_HOURS];
    double *ys[BP_BED__COUNT] = {0}, staffed[BP_BED__COUNT];
    for (int t = 0; t < BP_BED__COUNT; t++)
        if (mask & (1u << t)) ys[t] = buf[t];
    int64_t t_last;
    size_t n = bp_outlook_hourly_all(s, ys, BP_OUTLOOK_MAX_HOURS, &t_last, staffed);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!ys[t]) continue;
        bp_outlook_t *o = &out->type[t];
        o->status = n ? BP_OUTLOOK_OK : BP_OUTLOOK_INSUFFICIENT;
        for (int h = 0; h < H && n; h++)
            o->p[h] = (bp_outlook_point_t){t_last + (h + 1) * BP_HOUR_MS, ys[t][n - 1],
                                           ys[t][n - 1], ys[t][n - 1]};
    }
    out->mask = mask;
}

/* This thread's CPU time in ns: the machine is shared, and wall time
 * would count the time other processes had the core. */
static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bench(const bp_registry_t *reg, double weeks, int runs) {
    world_t w = {0};
    if (simulate(reg, 1, weeks * 7 + 0.1, &w)) return 1;
    bp_outlook_set_t *sets = calloc(w.n, sizeof *sets);
    double *ms[2] = {calloc((size_t)runs, sizeof(double)), calloc((size_t)runs, sizeof(double))};
    size_t forecasts = 0;
    for (int r = 0; r < runs; r++)
        for (int m = 0; m < 2; m++) {
            uint64_t t0 = cpu_ns();
            for (size_t i = 0; i < w.n; i++)
                (m == 0 ? bp_outlook_series : still_series)(&w.series[i], &sets[i]);
            ms[m][r] = (double)(cpu_ns() - t0) / 1e6;
            if (r == 0 && m == 0)
                for (size_t i = 0; i < w.n; i++)
                    forecasts += (size_t)__builtin_popcount(sets[i].mask);
        }
    printf("full refresh: %zu series (city + hospitals), %zu bed-type forecasts of 24 h, %.0f "
           "weeks of 5-min history each\n",
           w.n, forecasts, weeks);
    printf("  outlook      median %.2f ms of CPU over %d runs\n", median(ms[0], runs), runs);
    printf("  no change    median %.2f ms of CPU over %d runs (peer: same series, same hourly "
           "pass)\n",
           median(ms[1], runs), runs);
    free(ms[0]);
    free(ms[1]);
    free(sets);
    world_free(&w);
    return 0;
}

int main(int argc, char **argv) {
    double weeks = -1, days = 14;
    int step = 1, runs = 31;
    uint64_t seed = 1;
    if (argc < 2 || (strcmp(argv[1], "backtest") && strcmp(argv[1], "bench"))) {
        fprintf(stderr, "usage: bp-outlook backtest|bench [--weeks W] [--days D] [--seed S] "
                        "[--step H] [--runs N]\n");
        return 64;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--weeks"))
            weeks = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--days"))
            days = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--step"))
            step = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "bp-outlook: unknown option %s\n", argv[i]);
            return 64;
        }
    }
    if (step < 1 || runs < 1 || days < 1 || days > 60) {
        fprintf(stderr, "bp-outlook: --step and --runs at least 1, --days 1 to 60\n");
        return 64;
    }
    static bp_config_t cfg;
    char *args[] = {argv[0], NULL};
    if (bp_program_start("bp-outlook", &cfg, 1, args)) return 1;
    int rc = !strcmp(argv[1], "backtest")
                 ? backtest(&cfg.registry, seed, weeks < 0 ? 3 : weeks, days, step)
                 : bench(&cfg.registry, weeks < 0 ? 4 : weeks, runs);
    bp_config_free(&cfg);
    return rc;
}
