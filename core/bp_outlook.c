/* The 24-hour outlook: profile by hour of week, level, fading deviation
 * (see bp_outlook.h and docs/outlook.md). */
#include "bp_outlook.h"

#include <math.h>
#include <string.h>

#define N_MAX      BP_OUTLOOK_MAX_HOURS
#define H          BP_OUTLOOK_HORIZON
#define WEEK       BP_OUTLOOK_WEEK
#define ORIGINS    240 /* past hours whose errors choose the fit and make the interval */
#define MIN_ERRORS 8   /* errors per horizon for its own percentiles */
#define CAL_HOURS  72  /* the last hours forecast out of sample to calibrate the band */

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
    int n;
    const double *prof; /* the profile at each hour of y and the H after */
} fit_t;

/* The level weightings (hours) and fading rates (per hour) tried. */
static const double taus[] = {3, 8, 24, 48};
static const double phis[] = {0, 0.4, 0.7, 0.9};
static const int score_h[] = {1, 6, 24};

/* lvl[k]: the exponentially weighted mean (time constant tau hours) of
 * what the profile leaves of y up to k (NAN before the first value). */
static void level_series(const fit_t *f, double tau, double *lvl) {
    double alpha = 1.0 - exp(-1.0 / tau), level = NAN;
    for (int k = 0; k < f->n; k++) {
        if (known(f->y[k])) {
            double z = f->y[k] - f->prof[k];
            level = known(level) ? level + alpha * (z - level) : z;
        }
        lvl[k] = level;
    }
}

/* The mean absolute error, for each fading rate of phis, of the forecasts
 * from every other of the last ORIGINS hours at the horizons of score_h. */
#define N_PHIS (sizeof phis / sizeof phis[0])
static void score(const fit_t *f, const double *lvl, double mae[N_PHIS]) {
    double sum[N_PHIS] = {0};
    int m = 0;
    const double *y = f->y, *p = f->prof;
    for (size_t i = 0; i < sizeof score_h / sizeof score_h[0]; i++) {
        int h = score_h[i];
        double fade[N_PHIS];
        for (size_t j = 0; j < N_PHIS; j++)
            fade[j] = pow(phis[j], h);
        for (int o = f->n - 1 - h; o >= 24 && o >= f->n - 1 - ORIGINS; o -= 2) {
            if (!known(y[o]) || !known(y[o + h]) || !known(lvl[o])) continue;
            double base = y[o + h] - p[o + h] - lvl[o], d = y[o] - p[o] - lvl[o];
            for (size_t j = 0; j < N_PHIS; j++)
                sum[j] += fabs(base - fade[j] * d);
            m++;
        }
    }
    for (size_t j = 0; j < N_PHIS; j++)
        mae[j] = m ? sum[j] / m : 0;
}

/* One fit of the model to y[0..n_fit): the profile (over the hours up to
 * n_ext + H), the level (through n_ext: after n_fit it goes on with the
 * values as they came, the profile frozen), the fading rate. */
typedef struct {
    bool weekly;
    int n_known;
    double prof[N_MAX + H];
    double lvl[N_MAX];
    double fade[H + 1];
} model_t;

static void fit_model(const double *y, int n_fit, int n_ext, int how0, model_t *m) {
    /* the profile: deviations from the window means by hour of day, then
     * (two weeks or more) what is left by hour of week */
    double base[N_MAX];
    window_means(y, n_fit, base);
    double dsum[24] = {0}, wsum[WEEK] = {0};
    int dcnt[24] = {0}, wcnt[WEEK] = {0};
    m->n_known = 0;
    for (int k = 0, hw = how0; k < n_fit; k++, hw = hw + 1 == WEEK ? 0 : hw + 1) {
        double dev = y[k] - base[k];
        if (!known(dev)) continue;
        m->n_known++;
        dsum[hw % 24] += dev;
        dcnt[hw % 24]++;
        wsum[hw] += dev;
        wcnt[hw]++;
    }
    double daily[24];
    for (int d = 0; d < 24; d++)
        daily[d] = dcnt[d] ? dsum[d] / dcnt[d] : 0;
    m->weekly = m->n_known >= 2 * WEEK;
    double week[WEEK];
    for (int hw = 0; hw < WEEK; hw++) /* daily + the mean of (dev - daily) */
        week[hw] = m->weekly && wcnt[hw] ? wsum[hw] / wcnt[hw] : daily[hw % 24];
    for (int k = 0, hw = how0; k < n_ext + H; k++, hw = hw + 1 == WEEK ? 0 : hw + 1)
        m->prof[k] = week[hw];

    /* the level of what the profile leaves and how fast the current
     * deviation fades: the pair that forecast this series best from its
     * own past hours (mean absolute error at a few horizons) */
    fit_t fit = {.y = y, .n = n_fit, .prof = m->prof};
    double lvl[N_MAX], best = INFINITY, phi = 0, tau = taus[0];
    for (size_t i = 0; i < sizeof taus / sizeof taus[0]; i++) {
        level_series(&fit, taus[i], lvl);
        double mae[N_PHIS];
        score(&fit, lvl, mae);
        for (size_t j = 0; j < N_PHIS; j++)
            if (mae[j] < best) {
                best = mae[j];
                phi = phis[j];
                tau = taus[i];
            }
    }
    fit.n = n_ext;
    level_series(&fit, tau, m->lvl);
    m->fade[0] = 1;
    for (int h = 1; h <= H; h++)
        m->fade[h] = m->fade[h - 1] * phi;
}

/* The forecast of model m from hour o at horizon h. */
static double forecast_at(const model_t *m, const double *y, int o, int h) {
    return m->prof[o + h] + m->lvl[o] + m->fade[h] * (y[o] - m->prof[o] - m->lvl[o]);
}

/* The raw band at each horizon, from the errors m made from the hours of
 * y[0..n) (in-sample), measured at a few horizons, linear between them.
 * quantiles: their 10th and 90th percentiles (the band of a short series,
 * which has no calibration); else their spread on each side, twice the
 * mean of the positive and of the negative parts (either is the mean
 * absolute error for symmetric errors): no selection, a fraction of the
 * cost, and less noisy; the calibration scales it to 80 %. */
static void raw_band(const model_t *m, const double *y, int n, bool quantiles, double lo[H + 1],
                     double hi[H + 1]) {
    static const int first_origin = 24;
    static const int qh[] = {1, 2, 3, 4, 6, 9, 12, 18, 24};
    double err[ORIGINS];
    int step = quantiles ? 1 : 2;
    for (size_t a = 0; a < sizeof qh / sizeof qh[0]; a++) {
        int h = qh[a], k = 0;
        double pos = 0, neg = 0;
        /* the spread from every other hour of the same span: a mean needs
         * fewer errors than a percentile */
        for (int o = n - 1 - h, i = 0; o >= first_origin && i < ORIGINS; o -= step, i += step) {
            if (!known(y[o]) || !known(y[o + h]) || !known(m->lvl[o])) continue;
            double e = y[o + h] - forecast_at(m, y, o, h);
            err[k++] = e;
            if (e > 0)
                pos += e;
            else
                neg -= e;
        }
        if (k >= MIN_ERRORS && quantiles) {
            int k10 = (int)lround(0.10 * (k - 1)), k90 = (int)lround(0.90 * (k - 1));
            lo[h] = select_k(err, k, k10);
            /* what is above k10 is at or above it: k90 is among those */
            hi[h] = select_k(err + k10, k - k10, k90 - k10);
        } else if (k >= MIN_ERRORS) {
            lo[h] = -2 * neg / k;
            hi[h] = 2 * pos / k;
        } else { /* too few: the previous horizon's, widened with the horizon */
            int g = a ? qh[a - 1] : 0;
            lo[h] = a ? lo[g] * 1.1 * h / g : -0.1 * (fabs(y[n - 1]) + 1);
            hi[h] = a ? hi[g] * 1.1 * h / g : 0.1 * (fabs(y[n - 1]) + 1);
        }
        for (int g = a ? qh[a - 1] + 1 : h; g < h; g++) {
            double f = (double)(g - qh[a - 1]) / (h - qh[a - 1]);
            lo[g] = lo[qh[a - 1]] * (1 - f) + lo[h] * f;
            hi[g] = hi[qh[a - 1]] * (1 - f) + hi[h] * f;
        }
    }
}

double bp_outlook_conformal(double *score, int m, double coverage) {
    if (m < 1) return NAN;
    int k = (int)ceil((m + 1) * coverage) - 1; /* the ceil((m+1)c)-th smallest */
    if (k >= m) k = m - 1;
    if (k < 0) k = 0;
    return select_k(score, m, k);
}

double bp_outlook_score(double err, double lower, double upper) {
    if (err == 0) return 0;
    double side = err > 0 ? upper : -lower;
    return fabs(err) / (side > BP_OUTLOOK_BAND_FLOOR ? side : BP_OUTLOOK_BAND_FLOOR);
}

/* The calibration (split-conformal): the model fitted again without the
 * last `hold` hours forecasts each of them from the hours before, as it
 * would have then; each error is scored against that fit's own raw band
 * (its spread, bp_outlook_score), and the factor at horizon h is the conformal 80 %
 * quantile of the scores of the horizons near h (h - h/8 .. h + h/8).
 * scale[h] is NAN where too few scores were made. Returns whether any. */
static bool calibrate(const double *y, int n, int how0, double scale[H + 1]) {
    for (int h = 0; h <= H; h++)
        scale[h] = NAN;
    int hold = n - BP_OUTLOOK_MIN_HOURS;
    if (hold > CAL_HOURS) hold = CAL_HOURS;
    int n_fit = n - hold;
    if (hold < 2 || !known(y[n_fit - 1])) return false;
    static model_t m; /* one thread computes outlooks; too large for a deep stack */
    fit_model(y, n_fit, n, how0, &m);
    if (m.n_known < BP_OUTLOOK_MIN_HOURS) return false;
    double lo[H + 1], hi[H + 1];
    raw_band(&m, y, n_fit, false, lo, hi);
    /* sc[h][0..cnt[h]): the scores at horizon h */
    static double sc[H + 1][CAL_HOURS];
    int cnt[H + 1] = {0};
    for (int h = 1; h <= H && h < hold + 1; h++)
        for (int o = n_fit - 1; o + h < n; o++) {
            if (!known(y[o]) || !known(y[o + h]) || !known(m.lvl[o])) continue;
            double err = y[o + h] - forecast_at(&m, y, o, h);
            sc[h][cnt[h]++] = bp_outlook_score(err, lo[h], hi[h]);
        }
    static const int ch[] = {1, 2, 3, 4, 6, 9, 12, 18, 24};
    double pool[9 * CAL_HOURS];
    bool any = false;
    int last = 0;
    for (size_t a = 0; a < sizeof ch / sizeof ch[0]; a++) {
        int h = ch[a], k = 0;
        for (int g = h - h / 8; g <= h + h / 8 && g <= H; g++)
            for (int i = 0; i < cnt[g]; i++)
                pool[k++] = sc[g][i];
        if (k < MIN_ERRORS) break;
        scale[h] = bp_outlook_conformal(pool, k, 0.80);
        any = true;
        for (int g = last + 1; g < h; g++) /* linear between the measured */
            scale[g] = scale[last] + (scale[h] - scale[last]) * (g - last) / (h - last);
        last = h;
    }
    if (last == 0) return false;
    scale[0] = scale[1];
    for (int g = last + 1; g <= H; g++) /* beyond the last measured: the last */
        scale[g] = scale[last];
    return any;
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

    static model_t m; /* one thread computes outlooks */
    fit_model(y, n, n, how0, &m);
    out->weekly = m.weekly;
    double q10[H + 1], q90[H + 1], scale[H + 1];
    out->calibrated = calibrate(y, n, how0, scale);
    raw_band(&m, y, n, !out->calibrated, q10, q90);
    /* Without a calibration (a short series): the raw errors are in-sample,
     * each hour's own value one of the c (weeks or days) that made its
     * profile, which takes 1/c of its noise out of the error where a new
     * hour adds 1/c; the ratio of the two spreads, sqrt((c + 1) / (c - 1)),
     * widens the band back. */
    double c = m.weekly ? (double)n_known / WEEK : (double)n_known / 24;
    double widen = sqrt((c + 1) / (c - 1));

    out->status = BP_OUTLOOK_OK;
    out->now = y[n - 1];
    out->t_last_ms = t_last_ms;
    for (int k = 0; k < H; k++)
        out->recent[k] = n - H + k >= 0 ? y[n - H + k] : NAN;
    out->cap = staffed > 0 && staffed >= top ? staffed : top;
    for (int h = 1; h <= H; h++) {
        double f = forecast_at(&m, y, n - 1, h), lo, hi;
        if (out->calibrated) {
            out->scale[h - 1] = scale[h];
            lo = -scale[h] * fmax(-q10[h], BP_OUTLOOK_BAND_FLOOR);
            hi = scale[h] * fmax(q90[h], BP_OUTLOOK_BAND_FLOOR);
        } else {
            out->scale[h - 1] = widen;
            lo = q10[h] * widen;
            hi = q90[h] * widen;
        }
        bp_outlook_point_t *p = &out->p[h - 1];
        p->t_ms = t_last_ms + h * BP_HOUR_MS;
        p->mean = clampd(f, 0, out->cap);
        p->lower = clampd(f + (lo < 0 ? lo : 0), 0, out->cap);
        p->upper = clampd(f + (hi > 0 ? hi : 0), 0, out->cap);
    }
    return out->status;
}

/* The index of the newest point at or before t_ms among [0, hi], or -1:
 * galloping back from hi (the answer is usually a few points away), then
 * halving. */
static long newest_at(const bp_series_t *s, long hi, int64_t t_ms) {
    if (hi < 0 || bp_series_at(s, (size_t)hi)->t_ms <= t_ms) return hi;
    long step = 1;
    while (hi - step >= 0 && bp_series_at(s, (size_t)(hi - step))->t_ms > t_ms)
        step *= 2;
    long lo = hi - step < 0 ? 0 : hi - step, found = -1;
    hi -= step / 2;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (bp_series_at(s, (size_t)mid)->t_ms <= t_ms) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

size_t bp_outlook_hourly_all(const bp_series_t *s, double *const y[BP_BED__COUNT], size_t cap,
                             int64_t *t_last_ms, double staffed[BP_BED__COUNT]) {
    *t_last_ms = 0;
    for (int t = 0; t < BP_BED__COUNT; t++)
        staffed[t] = -1;
    if (!s->count || cap == 0) return 0;
    int64_t t_last = bp_series_at(s, s->count - 1)->t_ms;
    *t_last_ms = t_last;
    size_t n = (size_t)((t_last - bp_series_at(s, 0)->t_ms) / BP_HOUR_MS) + 1;
    if (n > cap) n = cap;
    long i = (long)s->count - 1, per_hour = 0;
    for (size_t k = n; k-- > 0;) {
        int64_t end = t_last - (int64_t)(n - 1 - k) * BP_HOUR_MS;
        long prev = i;
        /* the guess: as many samples back as in the hour before; two
         * probes confirm it (most of the cost is the memory touched) */
        long g = i - per_hour;
        if (i < 0)
            i = -1;
        else if (per_hour > 0 && g >= 0 && bp_series_at(s, (size_t)g)->t_ms <= end &&
                 bp_series_at(s, (size_t)g + 1)->t_ms > end)
            i = g;
        else if (per_hour > 0 && g > 0 && bp_series_at(s, (size_t)g)->t_ms > end)
            i = newest_at(s, g - 1, end);
        else
            i = newest_at(s, i, end);
        if (i >= 0) per_hour = prev - i;
        const bp_history_point_t *p = i >= 0 && bp_series_at(s, (size_t)i)->t_ms > end - BP_HOUR_MS
                                          ? bp_series_at(s, (size_t)i)
                                          : NULL;
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!y[t]) continue;
            const bp_beds_t *b = p ? &p->beds[t] : NULL;
            bool has = b && (p->beds_mask & (1u << t)) && b->occupied >= 0;
            y[t][k] = has ? b->occupied : NAN;
            if (has && staffed[t] < 0 && b->staffed >= 0) staffed[t] = b->staffed;
        }
    }
    return n;
}

size_t bp_outlook_hourly(const bp_series_t *s, int bed_type, double *y, size_t cap,
                         int64_t *t_last_ms, double *staffed) {
    double *ys[BP_BED__COUNT] = {0}, st[BP_BED__COUNT];
    *staffed = -1;
    *t_last_ms = 0;
    if (bed_type < 0 || bed_type >= BP_BED__COUNT) return 0;
    ys[bed_type] = y;
    size_t n = bp_outlook_hourly_all(s, ys, cap, t_last_ms, st);
    *staffed = st[bed_type];
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
    BP_JW_KEY(w, "recent");
    bp_jw_arr(w);
    for (int k = 0; k < H; k++) {
        if (!known(o->recent[k])) continue;
        bp_jw_obj(w);
        BP_JW_KEY(w, "t");
        bp_jw_time(w, o->t_last_ms - (H - 1 - k) * BP_HOUR_MS);
        BP_JW_KEY(w, "occupied");
        bp_jw_num(w, o->recent[k], 0);
        bp_jw_end(w);
    }
    bp_jw_end(w);
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

void bp_outlook_series(const bp_series_t *s, bp_outlook_set_t *out) {
    out->mask = 0;
    out->t_last_ms = 0;
    if (!s->count) return;
    uint32_t mask = bp_series_at(s, s->count - 1)->beds_mask;
    static double buf[BP_BED__COUNT][N_MAX]; /* one thread computes outlooks */
    double *ys[BP_BED__COUNT] = {0}, staffed[BP_BED__COUNT];
    for (int t = 0; t < BP_BED__COUNT; t++)
        if (mask & (1u << t)) ys[t] = buf[t];
    size_t n = bp_outlook_hourly_all(s, ys, N_MAX, &out->t_last_ms, staffed);
    for (int t = 0; t < BP_BED__COUNT; t++)
        if (ys[t]) bp_outlook_forecast(ys[t], n, out->t_last_ms, staffed[t], &out->type[t]);
    out->mask = mask;
}

void bp_outlook_set_write(bp_jw_t *w, const bp_outlook_set_t *o) {
    bp_jw_obj(w);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!(o->mask & (1u << t))) continue;
        bp_jw_key(w, bp_bed_type_name((bp_bed_type_t)t));
        bp_outlook_write(w, &o->type[t]);
    }
    bp_jw_end(w);
}
