/* The 24-hour outlook: profile by hour of week, level, fading deviation
 * (see bp_outlook.h and docs/outlook.md). */
#include "bp_outlook.h"

#include <math.h>
#include <string.h>

#define N_MAX      BP_OUTLOOK_MAX_HOURS
#define H          BP_OUTLOOK_HORIZON
#define WEEK       BP_OUTLOOK_WEEK
#define ORIGINS    (2 * WEEK) /* past hours whose errors make the interval */
#define MIN_ERRORS 8          /* errors per horizon for its own percentiles */

static bool known(double v) {
    return !isnan(v);
}

static double clampd(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Hour of week of absolute hour a (hours since the epoch): any fixed phase
 * serves, the profile only needs the same hour to get the same index. */
static int how_of(int64_t a) {
    int64_t w = a % WEEK;
    return (int)(w < 0 ? w + WEEK : w);
}

/* base[k]: the mean of the known values over a window of whole weeks (or
 * whole days, for a shorter series) around k, shifted to fit the series,
 * so that the daily and weekly shapes cancel out of it. */
static void window_means(const double *y, int n, double *base) {
    int len = n >= WEEK ? WEEK : n >= 24 ? 24 * (n / 24) : n;
    double sum[N_MAX + 1];
    int cnt[N_MAX + 1];
    sum[0] = 0;
    cnt[0] = 0;
    for (int k = 0; k < n; k++) {
        sum[k + 1] = sum[k] + (known(y[k]) ? y[k] : 0);
        cnt[k + 1] = cnt[k] + known(y[k]);
    }
    for (int k = 0; k < n; k++) {
        int s = k - len / 2;
        if (s > n - len) s = n - len;
        if (s < 0) s = 0;
        int c = cnt[s + len] - cnt[s];
        base[k] = c ? (sum[s + len] - sum[s]) / c : NAN;
    }
}

/* In-place selection of the k-th smallest of v[0..n). */
static double select_k(double *v, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return v[k];
}

typedef struct {
    const double *y;
    int n, how0;
    const double *prof;
} fit_t;

/* The level weightings (hours) and fading rates (per hour) tried. */
static const double taus[] = {2, 6, 12, 24, 48};
static const double phis[] = {0, 0.6, 0.85, 0.95};
static const int score_h[] = {1, 3, 6, 12, 24};

/* lvl[k]: the exponentially weighted mean (time constant tau hours) of
 * what the profile leaves of y up to k (NAN before the first value). */
static void level_series(const fit_t *f, double tau, double *lvl) {
    double alpha = 1.0 - exp(-1.0 / tau), level = NAN;
    for (int k = 0; k < f->n; k++) {
        if (known(f->y[k])) {
            double z = f->y[k] - f->prof[(f->how0 + k) % WEEK];
            level = known(level) ? level + alpha * (z - level) : z;
        }
        lvl[k] = level;
    }
}

/* The mean absolute error of the forecasts from the last ORIGINS hours at
 * the horizons of score_h. */
static double score(const fit_t *f, const double *lvl, double phi) {
    double sum = 0;
    int m = 0;
    for (size_t i = 0; i < sizeof score_h / sizeof score_h[0]; i++) {
        int h = score_h[i];
        double fade = pow(phi, h);
        for (int o = f->n - 1 - h; o >= 24 && o >= f->n - 1 - ORIGINS; o--) {
            const double *y = f->y;
            if (!known(y[o]) || !known(y[o + h]) || !known(lvl[o])) continue;
            double z = y[o] - f->prof[(f->how0 + o) % WEEK];
            double fc = f->prof[(f->how0 + o + h) % WEEK] + lvl[o] + fade * (z - lvl[o]);
            sum += fabs(y[o + h] - fc);
            m++;
        }
    }
    return m ? sum / m : 0;
}

static double quantile(double *v, int n, double q) {
    int k = (int)lround(q * (n - 1));
    return select_k(v, n, k);
}

bp_outlook_status_t bp_outlook_forecast(const double *y_in, size_t n_in, int64_t t_last_ms,
                                        double staffed, bp_outlook_t *out) {
    memset(out, 0, sizeof *out);
    out->staffed = staffed >= 0 ? staffed : -1;
    if (n_in > N_MAX) { /* the newest N_MAX hours */
        y_in += n_in - N_MAX;
        n_in = N_MAX;
    }
    int n = (int)n_in, n_known = 0;
    double top = 0;
    for (int k = 0; k < n; k++)
        if (known(y_in[k])) {
            n_known++;
            if (y_in[k] > top) top = y_in[k];
        }
    out->hours_known = n_known;
    if (n_known < BP_OUTLOOK_MIN_HOURS || !known(y_in[n - 1])) {
        out->status = BP_OUTLOOK_INSUFFICIENT;
        return out->status;
    }
    const double *y = y_in;
    int64_t a_last = t_last_ms / BP_HOUR_MS; /* absolute hour of y[n-1] */
    int how0 = how_of(a_last - (n - 1));     /* hour of week of y[0] */

    /* the profile: deviations from the window means by hour of day, then
     * (two weeks or more) what is left by hour of week */
    double base[N_MAX], dev[N_MAX];
    window_means(y, n, base);
    double dsum[24] = {0}, wsum[WEEK] = {0};
    int dcnt[24] = {0}, wcnt[WEEK] = {0};
    for (int k = 0; k < n; k++) {
        dev[k] = y[k] - base[k];
        if (!known(dev[k])) continue;
        int hw = (how0 + k) % WEEK;
        dsum[hw % 24] += dev[k];
        dcnt[hw % 24]++;
    }
    double daily[24];
    for (int d = 0; d < 24; d++)
        daily[d] = dcnt[d] ? dsum[d] / dcnt[d] : 0;
    for (int k = 0; k < n; k++) {
        if (!known(dev[k])) continue;
        int hw = (how0 + k) % WEEK;
        wsum[hw] += dev[k] - daily[hw % 24];
        wcnt[hw]++;
    }
    out->weekly = n_known >= 2 * WEEK;
    double prof[WEEK];
    for (int hw = 0; hw < WEEK; hw++) {
        double wk = out->weekly && wcnt[hw] ? wsum[hw] / wcnt[hw] : 0;
        prof[hw] = daily[hw % 24] + wk;
    }

    /* the level of what the profile leaves and how fast the current
     * deviation fades: the pair that forecast this series best from its
     * own past hours (mean absolute error at a few horizons) */
    fit_t fit = {.y = y, .n = n, .how0 = how0, .prof = prof};
    double lvl[N_MAX], best_lvl[N_MAX], best = INFINITY, phi = 0;
    for (size_t i = 0; i < sizeof taus / sizeof taus[0]; i++) {
        level_series(&fit, taus[i], lvl);
        for (size_t j = 0; j < sizeof phis / sizeof phis[0]; j++) {
            double e = score(&fit, lvl, phis[j]);
            if (e < best) {
                best = e;
                phi = phis[j];
                memcpy(best_lvl, lvl, (size_t)n * sizeof *lvl);
            }
        }
    }
    memcpy(lvl, best_lvl, (size_t)n * sizeof *lvl);

    /* the forecast from hour o at horizon h */
#define FORECAST(o, h)                                                                             \
    (prof[(how0 + (o) + (h)) % WEEK] + lvl[o] +                                                    \
     pow(phi, (h)) * (y[o] - prof[(how0 + (o)) % WEEK] - lvl[o]))

    /* the interval: the errors the same forecast made from earlier hours */
    static const int first_origin = 24;
    double err[ORIGINS];
    double q10[H + 1], q90[H + 1];
    for (int h = 1; h <= H; h++) {
        int m = 0;
        for (int o = n - 1 - h; o >= first_origin && m < ORIGINS; o--) {
            if (!known(y[o]) || !known(y[o + h]) || !known(lvl[o])) continue;
            err[m++] = y[o + h] - FORECAST(o, h);
        }
        if (m >= MIN_ERRORS) {
            q10[h] = quantile(err, m, 0.10);
            q90[h] = quantile(err, m, 0.90);
        } else { /* too few: widen the previous horizon's band */
            q10[h] = h > 1 ? q10[h - 1] * 1.1 : -0.1 * (fabs(y[n - 1]) + 1);
            q90[h] = h > 1 ? q90[h - 1] * 1.1 : 0.1 * (fabs(y[n - 1]) + 1);
        }
    }

    out->status = BP_OUTLOOK_OK;
    out->now = y[n - 1];
    out->cap = staffed > 0 && staffed >= top ? staffed : top;
    for (int h = 1; h <= H; h++) {
        double f = FORECAST(n - 1, h);
        bp_outlook_point_t *p = &out->p[h - 1];
        p->t_ms = t_last_ms + h * BP_HOUR_MS;
        p->mean = clampd(f, 0, out->cap);
        p->lower = clampd(f + (q10[h] < 0 ? q10[h] : 0), 0, out->cap);
        p->upper = clampd(f + (q90[h] > 0 ? q90[h] : 0), 0, out->cap);
    }
#undef FORECAST
    return out->status;
}

size_t bp_outlook_hourly(const bp_series_t *s, int bed_type, double *y, size_t cap,
                         int64_t *t_last_ms, double *staffed) {
    *staffed = -1;
    *t_last_ms = 0;
    if (!s->count || cap == 0 || bed_type < 0 || bed_type >= BP_BED__COUNT) return 0;
    const bp_history_point_t *last = bp_series_at(s, s->count - 1);
    int64_t t_last = last->t_ms;
    *t_last_ms = t_last;
    int64_t first = bp_series_at(s, 0)->t_ms;
    size_t n = (size_t)((t_last - first) / BP_HOUR_MS) + 1;
    if (n > cap) n = cap;
    for (size_t k = 0; k < n; k++)
        y[k] = NAN;
    uint32_t bit = 1u << bed_type;
    /* newest first: the first sample met in an hour is its last one */
    for (size_t i = s->count; i-- > 0;) {
        const bp_history_point_t *p = bp_series_at(s, i);
        int64_t back = (t_last - p->t_ms) / BP_HOUR_MS; /* hours before the newest */
        if (back >= (int64_t)n) break;
        const bp_beds_t *b = &p->beds[bed_type];
        if (!(p->beds_mask & bit) || b->occupied < 0) continue;
        size_t k = n - 1 - (size_t)back;
        if (known(y[k])) continue;
        y[k] = b->occupied;
        if (*staffed < 0 && b->staffed >= 0) *staffed = b->staffed;
    }
    return n;
}

int bp_outlook_full_within(const bp_outlook_t *o) {
    if (o->status != BP_OUTLOOK_OK || o->staffed <= 0 || o->now >= o->staffed) return 0;
    for (int h = 0; h < H; h++)
        if (o->p[h].mean >= o->staffed - 0.5) return h + 1;
    return 0;
}

void bp_outlook_write(bp_jw_t *w, const bp_outlook_t *o) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "status");
    if (o->status != BP_OUTLOOK_OK) {
        bp_jw_cstr(w, "insufficient_history");
        BP_JW_KEY(w, "hours_known");
        bp_jw_int(w, o->hours_known);
        BP_JW_KEY(w, "hours_needed");
        bp_jw_int(w, BP_OUTLOOK_MIN_HOURS);
        bp_jw_end(w);
        return;
    }
    bp_jw_cstr(w, "ok");
    BP_JW_KEY(w, "now");
    bp_jw_num(w, o->now, 0);
    BP_JW_KEY(w, "staffed");
    bp_jw_num_or_null(w, o->staffed >= 0, o->staffed, 0);
    BP_JW_KEY(w, "weekly");
    bp_jw_bool(w, o->weekly);
    int full = bp_outlook_full_within(o);
    BP_JW_KEY(w, "full_within_h");
    bp_jw_int_or_null(w, full > 0, full);
    BP_JW_KEY(w, "points");
    bp_jw_arr(w);
    for (int h = 0; h < H; h++) {
        const bp_outlook_point_t *p = &o->p[h];
        bp_jw_obj(w);
        BP_JW_KEY(w, "t");
        bp_jw_time(w, p->t_ms);
        BP_JW_KEY(w, "mean");
        bp_jw_num(w, p->mean, 1);
        BP_JW_KEY(w, "lower");
        bp_jw_num(w, p->lower, 1);
        BP_JW_KEY(w, "upper");
        bp_jw_num(w, p->upper, 1);
        bp_jw_end(w);
    }
    bp_jw_end(w);
    bp_jw_end(w);
}
