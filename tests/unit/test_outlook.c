/* Unit tests for core/bp_outlook.c: the 24-hour forecast of one bed type. */
#include "test_util.h"

#include "bp_outlook.h"
#include "bp_time.h"

#include <math.h>
#include <string.h>

#define T0 1764547200000LL /* 2025-12-01T00:00Z, on the hour */

/* A small deterministic noise in [-a, a]. */
static double noise(uint32_t *s, double a) {
    *s = *s * 1664525u + 1013904223u;
    return ((double)(*s >> 8) / (double)(1u << 24) * 2.0 - 1.0) * a;
}

/* The true shape: 100 beds, +-20 over the day, 12 fewer at weekends. */
static double shape(int64_t abs_hour) {
    int hod = (int)(abs_hour % 24), dow = (int)((abs_hour / 24) % 7);
    return 100.0 + 20.0 * sin(2 * M_PI * hod / 24.0) - (dow >= 5 ? 12.0 : 0.0);
}

static void fill(double *y, size_t n, int64_t t_last, uint32_t seed, double amp) {
    int64_t a_last = t_last / BP_HOUR_MS;
    for (size_t k = 0; k < n; k++)
        y[k] = shape(a_last - (int64_t)(n - 1 - k)) + noise(&seed, amp);
}

/* The outlook as bp_outlook_write writes it, parsed. */
static cJSON *as_json(const bp_outlook_t *o) {
    bp_buf_t b;
    bp_buf_init(&b, 0, 8192);
    bp_jw_t w;
    bp_jw_init(&w, &b);
    bp_outlook_write(&w, o);
    cJSON *j = tu_parse_buf(&b);
    bp_buf_free(&b);
    return j;
}

static void test_seasonal_profile_recovered(void **state) {
    (void)state;
    size_t n = 4 * 168;
    double y[4 * 168];
    /* the last hour is 15:00 of day 4 (T0's): the forecast crosses into day 5 */
    int64_t t_last = T0 + 15 * BP_HOUR_MS + 3 * 168 * BP_HOUR_MS;
    fill(y, n, t_last, 7, 2.0);
    bp_outlook_t o;
    assert_int_equal(bp_outlook_forecast(y, n, t_last, 200, &o), BP_OUTLOOK_OK);
    assert_true(o.weekly);
    assert_int_equal(o.hours_known, (int)n);
    int weekend = 0, inside = 0;
    for (int h = 1; h <= BP_OUTLOOK_HORIZON; h++) {
        const bp_outlook_point_t *p = &o.p[h - 1];
        double truth = shape(t_last / BP_HOUR_MS + h);
        assert_int_equal(p->t_ms, t_last + h * BP_HOUR_MS);
        if (fabs(p->mean - truth) > 3.0)
            fail_msg("h=%d: forecast %.1f, profile %.1f", h, p->mean, truth);
        /* the band is about the noise wide */
        inside += p->lower <= truth && truth <= p->upper;
        assert_true(p->upper - p->lower < 8.0);
        weekend += (t_last / BP_HOUR_MS + h) / 24 % 7 >= 5;
    }
    assert_true(weekend > 0); /* the weekend drop was in the horizon */
    /* an 80 % band: it holds the noise-free profile most of the time */
    if (inside < 18) fail_msg("the profile inside the band at %d of 24 hours", inside);
}

static void test_constant_is_flat_and_narrow(void **state) {
    (void)state;
    double y[5 * 24];
    for (size_t k = 0; k < 5 * 24; k++)
        y[k] = 50;
    bp_outlook_t o;
    assert_int_equal(bp_outlook_forecast(y, 5 * 24, T0, 80, &o), BP_OUTLOOK_OK);
    assert_false(o.weekly);
    for (int h = 0; h < BP_OUTLOOK_HORIZON; h++) {
        assert_true(fabs(o.p[h].mean - 50) < 0.01);
        assert_true(o.p[h].upper - o.p[h].lower < 0.5);
    }
    assert_int_equal(bp_outlook_full_within(&o), 0);
}

static void test_level_follows_a_shift(void **state) {
    (void)state;
    /* three weeks at 50, then the last day at 70: tomorrow is not 50 */
    size_t n = 3 * 168 + 24;
    double y[3 * 168 + 24];
    uint32_t seed = 3;
    for (size_t k = 0; k < n; k++)
        y[k] = (k < 3 * 168 ? 50 : 70) + noise(&seed, 1.0);
    bp_outlook_t o;
    assert_int_equal(bp_outlook_forecast(y, n, T0 + 600 * BP_HOUR_MS, -1, &o), BP_OUTLOOK_OK);
    /* the weekly profile takes a part of a one-day jump for that weekday's
     * habit; most of it is the level */
    for (int h = 0; h < BP_OUTLOOK_HORIZON; h++)
        if (o.p[h].mean < 64 || o.p[h].mean > 72) fail_msg("h=%d: %.1f", h + 1, o.p[h].mean);
    assert_true(o.staffed < 0);
}

static void test_bounds_clipped(void **state) {
    (void)state;
    /* a deep daily swing down to 0 and up to staffed */
    double y[6 * 24];
    for (size_t k = 0; k < 6 * 24; k++)
        y[k] = fmax(0, fmin(40, 20 + 30 * sin(2 * M_PI * (double)k / 24.0)));
    bp_outlook_t o;
    assert_int_equal(bp_outlook_forecast(y, 6 * 24, T0, 40, &o), BP_OUTLOOK_OK);
    assert_true(o.cap == 40);
    for (int h = 0; h < BP_OUTLOOK_HORIZON; h++) {
        assert_true(o.p[h].lower >= 0 && o.p[h].lower <= o.p[h].mean);
        assert_true(o.p[h].upper <= 40 && o.p[h].upper >= o.p[h].mean);
    }
    /* a ward that runs above its staffed beds is clipped to its own top */
    for (size_t k = 0; k < 6 * 24; k++)
        y[k] = 120 + 10 * sin(2 * M_PI * (double)k / 24.0);
    assert_int_equal(bp_outlook_forecast(y, 6 * 24, T0, 100, &o), BP_OUTLOOK_OK);
    assert_true(o.cap >= 129.9 && o.cap <= 130);
    double top = 0;
    for (int h = 0; h < BP_OUTLOOK_HORIZON; h++)
        top = fmax(top, o.p[h].mean);
    assert_true(top > 125);                          /* not pulled down to the staffed 100 */
    assert_int_equal(bp_outlook_full_within(&o), 0); /* already over: not "expected" */
}

static void test_insufficient_history(void **state) {
    (void)state;
    double y[200];
    for (size_t k = 0; k < 200; k++)
        y[k] = 10;
    bp_outlook_t o;
    assert_int_equal(bp_outlook_forecast(y, BP_OUTLOOK_MIN_HOURS - 1, T0, 20, &o),
                     BP_OUTLOOK_INSUFFICIENT);
    assert_int_equal(o.hours_known, BP_OUTLOOK_MIN_HOURS - 1);
    /* enough hours, but gaps leave too few known */
    for (size_t k = 0; k < 200; k += 2)
        y[k] = NAN;
    y[199] = 10;
    assert_int_equal(bp_outlook_forecast(y, 70, T0, 20, &o), BP_OUTLOOK_INSUFFICIENT);
    /* the current hour missing: no anchor, no line */
    for (size_t k = 0; k < 200; k++)
        y[k] = 10;
    y[199] = NAN;
    assert_int_equal(bp_outlook_forecast(y, 200, T0, 20, &o), BP_OUTLOOK_INSUFFICIENT);
    cJSON *j = as_json(&o);
    assert_string_equal(tu_str(j, "status"), "insufficient_history");
    assert_int_equal((int)tu_num(j, "hours_known"), 199);
    assert_int_equal((int)tu_num(j, "hours_needed"), BP_OUTLOOK_MIN_HOURS);
    assert_null(tu_get(j, "points"));
    cJSON_Delete(j);
}

static void test_full_within(void **state) {
    (void)state;
    /* 30 staffed; the day swings 20 .. 30, full at hour 18 of each day;
     * the series ends at hour 12 (25 occupied): full in about 6 hours */
    double y[7 * 24 + 13];
    size_t n = 7 * 24 + 13;
    for (size_t k = 0; k < n; k++)
        y[k] = 25 + 5 * sin(2 * M_PI * ((double)k - 12) / 24.0);
    int64_t t_last = T0 + 12 * BP_HOUR_MS + 7 * 24 * BP_HOUR_MS;
    bp_outlook_t o;
    assert_int_equal(bp_outlook_forecast(y, n, t_last, 30, &o), BP_OUTLOOK_OK);
    int f = bp_outlook_full_within(&o);
    if (f < 5 || f > 7) fail_msg("full within %d h", f);
    cJSON *j = as_json(&o);
    assert_string_equal(tu_str(j, "status"), "ok");
    assert_int_equal((int)tu_num(j, "full_within_h"), f);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "points")), BP_OUTLOOK_HORIZON);
    /* the last 24 hours the forecast starts from, the last one now */
    const cJSON *recent = tu_get(j, "recent");
    assert_int_equal(cJSON_GetArraySize(recent), BP_OUTLOOK_HORIZON);
    const cJSON *last = cJSON_GetArrayItem(recent, BP_OUTLOOK_HORIZON - 1);
    assert_true(fabs(tu_num(last, "occupied") - y[n - 1]) <= 0.5);
    int64_t t_ms = 0;
    const char *ts = tu_str(last, "t");
    assert_int_equal(bp_time_parse(ts, strlen(ts), &t_ms), 0);
    assert_true(t_ms == t_last);
    assert_true(fabs(tu_num(cJSON_GetArrayItem(recent, 0), "occupied") - y[n - 24]) <= 0.5);
    cJSON_Delete(j);
    /* 40 staffed: never reached */
    assert_int_equal(bp_outlook_forecast(y, n, t_last, 40, &o), BP_OUTLOOK_OK);
    assert_int_equal(bp_outlook_full_within(&o), 0);
}

static void test_hourly_from_series(void **state) {
    (void)state;
    bp_series_t s;
    assert_int_equal(bp_series_init(&s, 1000), 0);
    /* a sample every 5 minutes for 10 hours; hours 3 and 4 (counted from
     * the newest) missing; emergency beds only from the sample's index */
    int64_t t_last = T0 + 10 * BP_HOUR_MS;
    for (int64_t t = T0 + 5 * 60000; t <= t_last; t += 5 * 60000) {
        int64_t back = (t_last - t) / BP_HOUR_MS;
        if (back == 3 || back == 4) continue;
        bp_history_point_t p;
        memset(&p, 0, sizeof p);
        p.t_ms = t;
        p.beds_mask = 1u << BP_BED_EMERGENCY;
        p.beds[BP_BED_EMERGENCY] = (bp_beds_t){40, (int32_t)((t - T0) / 60000), -1};
        bp_series_add(&s, &p);
    }
    double y[64], staffed;
    int64_t tl;
    size_t n = bp_outlook_hourly(&s, BP_BED_EMERGENCY, y, 64, &tl, &staffed);
    assert_int_equal(tl, t_last);
    assert_int_equal(n, 10);
    assert_true(staffed == 40);
    assert_true(y[9] == 600); /* the newest sample */
    assert_true(y[8] == 540); /* the last one an hour before */
    assert_true(isnan(y[6]) && isnan(y[5]));
    assert_true(y[0] == 60);
    /* a bed type the series never had */
    n = bp_outlook_hourly(&s, BP_BED_ICU_ADULT, y, 64, &tl, &staffed);
    assert_true(staffed < 0 && isnan(y[n - 1]));
    /* the cap keeps the newest hours */
    n = bp_outlook_hourly(&s, BP_BED_EMERGENCY, y, 4, &tl, &staffed);
    assert_int_equal(n, 4);
    assert_true(y[3] == 600);
    bp_series_free(&s);
}

/* The hourly pass guesses where each hour's sample is (as many samples back
 * as in the hour before): on irregular samples with gaps it gives what a
 * plain scan gives. */
static void test_hourly_matches_a_scan(void **state) {
    (void)state;
    bp_series_t s;
    assert_int_equal(bp_series_init(&s, 4000), 0);
    uint32_t seed = 21;
    int64_t t = T0;
    for (int i = 0; i < 3000; i++) {
        /* 1 to 9 minutes apart, now and then a gap of up to 3 hours */
        t += 60000 * (5 + (int64_t)noise(&seed, 4.0));
        if (noise(&seed, 1.0) > 0.98) t += (int64_t)(3 * BP_HOUR_MS * (noise(&seed, 0.5) + 0.5));
        bp_history_point_t p;
        memset(&p, 0, sizeof p);
        p.t_ms = t;
        p.beds_mask = 1u << BP_BED_ICU_ADULT;
        p.beds[BP_BED_ICU_ADULT] = (bp_beds_t){100, i % 97, -1};
        bp_series_add(&s, &p);
    }
    static double y[BP_OUTLOOK_MAX_HOURS];
    double staffed;
    int64_t tl;
    size_t n = bp_outlook_hourly(&s, BP_BED_ICU_ADULT, y, BP_OUTLOOK_MAX_HOURS, &tl, &staffed);
    assert_true(n > 100);
    for (size_t k = 0; k < n; k++) {
        int64_t end = tl - (int64_t)(n - 1 - k) * BP_HOUR_MS;
        double want = NAN;
        for (size_t i = 0; i < s.count; i++) {
            const bp_history_point_t *p = bp_series_at(&s, i);
            if (p->t_ms <= end && p->t_ms > end - BP_HOUR_MS)
                want = p->beds[BP_BED_ICU_ADULT].occupied;
        }
        if (!(isnan(want) ? isnan(y[k]) : y[k] == want))
            fail_msg("hour %zu: %.0f, the scan %.0f", k, y[k], want);
    }
    bp_series_free(&s);
}

static void test_calibration_score_and_quantile(void **state) {
    (void)state;
    /* the score: the error in widths of the band's side it falls on */
    assert_true(bp_outlook_score(0, -2, 3) == 0);
    assert_true(fabs(bp_outlook_score(1.5, -2, 3) - 0.5) < 1e-12);
    assert_true(fabs(bp_outlook_score(-3, -2, 3) - 1.5) < 1e-12);
    /* a side narrower than half a bed counts as half a bed */
    assert_true(fabs(bp_outlook_score(1, -2, 0) - 2.0) < 1e-12);
    assert_true(fabs(bp_outlook_score(-1, -0.1, 3) - 2.0) < 1e-12);
    /* the split-conformal quantile: the ceil((m + 1) 0.8)-th smallest */
    double v[10] = {7, 1, 10, 3, 9, 2, 8, 5, 4, 6};
    assert_true(bp_outlook_conformal(v, 10, 0.80) == 9); /* ceil(8.8) = 9th */
    double w[4] = {4, 3, 2, 1};
    assert_true(bp_outlook_conformal(w, 4, 0.80) == 4); /* ceil(4) = 4th */
    double u[3] = {3, 1, 2};
    assert_true(bp_outlook_conformal(u, 3, 0.80) == 3); /* beyond m: the largest */
    assert_true(isnan(bp_outlook_conformal(u, 0, 0.80)));
}

/* A series whose noise grew in its last days: the in-sample errors of the
 * weeks before would give too narrow a band; the out-of-sample errors of
 * the last 72 hours widen it. */
static void test_calibration_follows_recent_errors(void **state) {
    (void)state;
    size_t n = 4 * 168;
    double y[4 * 168], calm[4 * 168];
    int64_t t_last = T0 + 9 * BP_HOUR_MS + 3 * 168 * BP_HOUR_MS;
    fill(calm, n, t_last, 11, 1.0);
    fill(y, n, t_last, 11, 1.0);
    uint32_t seed = 5;
    for (size_t k = n - 96; k < n; k++) /* the last 4 days: 6 times the noise */
        y[k] += noise(&seed, 6.0);
    bp_outlook_t o, oc;
    assert_int_equal(bp_outlook_forecast(calm, n, t_last, 300, &oc), BP_OUTLOOK_OK);
    assert_int_equal(bp_outlook_forecast(y, n, t_last, 300, &o), BP_OUTLOOK_OK);
    assert_true(o.calibrated && oc.calibrated);
    for (int h = 0; h < BP_OUTLOOK_HORIZON; h++) {
        assert_true(isfinite(o.scale[h]) && o.scale[h] > 0);
        double wide = o.p[h].upper - o.p[h].lower, narrow = oc.p[h].upper - oc.p[h].lower;
        if (wide < 2 * narrow) fail_msg("h=%d: band %.2f, calm %.2f", h + 1, wide, narrow);
    }
    /* a short series cannot be calibrated: the band is widened by rule */
    assert_int_equal(bp_outlook_forecast(y + n - 40, 40, t_last, 300, &o), BP_OUTLOOK_OK);
    assert_false(o.calibrated);
    assert_true(o.scale[0] > 1);
}

/* On a stationary series the calibrated band holds about 80 % of what
 * happened next, at short and long horizons (500 forecasts). */
static void test_calibrated_coverage(void **state) {
    (void)state;
    enum { N = 5 * 168 };
    static double y[N];
    int64_t t_last = T0 + (N - 1) * BP_HOUR_MS;
    /* the profile plus a slowly varying level and hourly noise */
    uint32_t seed = 9;
    double wave = 0;
    for (size_t k = 0; k < N; k++) {
        wave = 0.95 * wave + noise(&seed, 1.0);
        y[k] = shape(t_last / BP_HOUR_MS - (int64_t)(N - 1 - k)) + wave + noise(&seed, 2.0);
    }
    int inside[2] = {0}, total[2] = {0};
    for (size_t end = 3 * 168; end + 24 <= N; end++) {
        bp_outlook_t o;
        int64_t t_end = t_last - (int64_t)(N - end) * BP_HOUR_MS;
        assert_int_equal(bp_outlook_forecast(y, end, t_end, 400, &o), BP_OUTLOOK_OK);
        assert_true(o.calibrated);
        static const int hs[2] = {1, 24};
        for (int j = 0; j < 2; j++) {
            const bp_outlook_point_t *p = &o.p[hs[j] - 1];
            double truth = y[end - 1 + (size_t)hs[j]];
            inside[j] += p->lower <= truth && truth <= p->upper;
            total[j]++;
        }
    }
    for (int j = 0; j < 2; j++) {
        double cover = (double)inside[j] / total[j];
        if (cover < 0.72 || cover > 0.88)
            fail_msg("%s: %.1f %% inside", j ? "24 h" : "1 h", 100 * cover);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seasonal_profile_recovered),
        cmocka_unit_test(test_constant_is_flat_and_narrow),
        cmocka_unit_test(test_level_follows_a_shift),
        cmocka_unit_test(test_bounds_clipped),
        cmocka_unit_test(test_insufficient_history),
        cmocka_unit_test(test_full_within),
        cmocka_unit_test(test_hourly_from_series),
        cmocka_unit_test(test_hourly_matches_a_scan),
        cmocka_unit_test(test_calibration_score_and_quantile),
        cmocka_unit_test(test_calibration_follows_recent_errors),
        cmocka_unit_test(test_calibrated_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
