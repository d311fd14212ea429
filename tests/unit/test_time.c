/*
 * Tests for bp_time: RFC 3339 parsing (zone required, calendar checked,
 * years 2000..2199) and the fixed-width UTC formatter, and that the two
 * round-trip.
 */
#include "test_util.h"

#include "bp_time.h"

/* 2026-11-22T01:00:00Z, from `date -u -d 2026-11-22T01:00:00Z +%s`. */
#define T_2026_11_22_01 1795309200000LL

static int parse(const char *s, int64_t *out) {
    return bp_time_parse(s, strlen(s), out);
}

static int64_t must_parse(const char *s) {
    int64_t ms = 0;
    if (parse(s, &ms)) fail_msg("rejected \"%s\"", s);
    return ms;
}

static void must_reject(const char *s) {
    int64_t ms = 12345;
    if (parse(s, &ms) == 0) fail_msg("accepted \"%s\" as %lld", s, (long long)ms);
    assert_int_equal(ms, 12345); /* untouched on failure */
}

static void test_parse_utc_and_zones(void **state) {
    (void)state;
    assert_int_equal(must_parse("2026-11-22T01:00:00Z"), T_2026_11_22_01);
    assert_int_equal(must_parse("2026-11-22T08:00:00+07:00"), T_2026_11_22_01);
    assert_int_equal(must_parse("2026-11-21T20:00:00-05:00"), T_2026_11_22_01);
    assert_int_equal(must_parse("2026-11-22T06:30:00+05:30"), T_2026_11_22_01);
    assert_int_equal(must_parse("2026-11-22T01:00:00+00:00"), T_2026_11_22_01);
    assert_int_equal(must_parse("2026-11-22T01:00:00-00:00"), T_2026_11_22_01);
    /* lower case t/z and a space separator (RFC 3339 section 5.6 note) */
    assert_int_equal(must_parse("2026-11-22t01:00:00z"), T_2026_11_22_01);
    assert_int_equal(must_parse("2026-11-22 08:00:00+07:00"), T_2026_11_22_01);
    /* a zone that crosses midnight and the year */
    assert_int_equal(must_parse("2027-01-01T06:59:59+07:00"), must_parse("2026-12-31T23:59:59Z"));
    assert_int_equal(must_parse("2000-01-01T00:00:00Z"), 946684800000LL);
    assert_int_equal(must_parse("2199-12-31T23:59:59Z"), 7258118399000LL);
}

static void test_parse_fractions(void **state) {
    (void)state;
    assert_int_equal(must_parse("2026-11-22T01:00:00.5Z"), T_2026_11_22_01 + 500);
    assert_int_equal(must_parse("2026-11-22T01:00:00.05Z"), T_2026_11_22_01 + 50);
    assert_int_equal(must_parse("2026-11-22T01:00:00.123Z"), T_2026_11_22_01 + 123);
    /* Digits past milliseconds are dropped (truncated, not rounded). */
    assert_int_equal(must_parse("2026-11-22T01:00:00.999999999Z"), T_2026_11_22_01 + 999);
    assert_int_equal(must_parse("2026-11-22T08:00:00.250+07:00"), T_2026_11_22_01 + 250);
    must_reject("2026-11-22T01:00:00.Z");
    must_reject("2026-11-22T01:00:00.1234567890Z"); /* more than nanoseconds */
    must_reject("2026-11-22T01:00:00.12a3Z");
    must_reject("2026-11-22T01:00:00,5Z");
}

static void test_parse_leap_years(void **state) {
    (void)state;
    assert_int_equal(must_parse("2024-02-29T23:59:59Z"), 1709251199000LL);
    assert_int_equal(must_parse("2024-03-01T00:00:00Z") - must_parse("2024-02-28T00:00:00Z"),
                     2 * 86400000LL);
    assert_int_equal(must_parse("2026-03-01T00:00:00Z") - must_parse("2026-02-28T00:00:00Z"),
                     86400000LL);
    must_parse("2000-02-29T00:00:00Z");  /* divisible by 400: leap */
    must_reject("2100-02-29T00:00:00Z"); /* divisible by 100: not leap */
    must_reject("2026-02-29T00:00:00Z");
    must_reject("2024-02-30T00:00:00Z");
    must_reject("2026-02-30T08:00:00+07:00");
    must_reject("2026-04-31T00:00:00Z");
    must_parse("2026-12-31T00:00:00Z");
    must_reject("2026-12-32T00:00:00Z");
}

static void test_parse_leap_second_folds(void **state) {
    (void)state;
    assert_int_equal(must_parse("2026-12-31T23:59:60Z"), must_parse("2026-12-31T23:59:59Z"));
    must_reject("2026-12-31T23:59:61Z");
}

static void test_parse_rejects(void **state) {
    (void)state;
    must_reject("");
    must_reject("garbage");
    must_reject("yesterday at noon, local time");
    must_reject("2026-11-22T08:00:00");       /* no zone */
    must_reject("2026-11-22T08:00:00.123");   /* no zone */
    must_reject("2026-11-22");                /* date only */
    must_reject("2026-11-22T08:00Z");         /* no seconds */
    must_reject("2026-11-22T08:00:00+0700");  /* zone without colon */
    must_reject("2026-11-22T08:00:00+07");    /* zone without minutes */
    must_reject("2026-11-22T08:00:00+24:00"); /* zone hour */
    must_reject("2026-11-22T08:00:00+07:60"); /* zone minute */
    must_reject("2026-11-22T08:00:00ZZ");     /* trailing bytes */
    must_reject("2026-11-22T08:00:00Z ");
    must_reject("2026-11-22T08:00:00+07:00 ");
    must_reject("2026-11-22T24:00:00Z");
    must_reject("2026-11-22T23:60:00Z");
    must_reject("2026-13-01T00:00:00Z");
    must_reject("2026-00-01T00:00:00Z");
    must_reject("2026-11-00T00:00:00Z");
    must_reject("1999-12-31T23:59:59Z"); /* before 2000 */
    must_reject("2200-01-01T00:00:00Z"); /* after 2199 */
    must_reject("2026/11/22T08:00:00Z");
    must_reject("2026-11-22X08:00:00Z");
    must_reject("+2026-11-22T08:00:00Z");
    must_reject("2026-1-22T08:00:00Z");
    must_reject("2026-11-22T8:00:00Z");
    must_reject("20a6-11-22T08:00:00Z");
    int64_t ms;
    assert_int_equal(bp_time_parse(NULL, 0, &ms), -1);
}

/* Only len bytes are read: a valid time followed by more bytes in memory
 * is fine, a length that cuts the time short is not. */
static void test_parse_uses_exact_length(void **state) {
    (void)state;
    const char *s = "2026-11-22T01:00:00Zjunk";
    int64_t ms = 0;
    assert_int_equal(bp_time_parse(s, 20, &ms), 0);
    assert_int_equal(ms, T_2026_11_22_01);
    assert_int_equal(bp_time_parse(s, 24, &ms), -1);
    assert_int_equal(bp_time_parse(s, 19, &ms), -1);
    const char *z = "2026-11-22T08:00:00+07:00";
    assert_int_equal(bp_time_parse(z, strlen(z) - 1, &ms), -1);
}

static void test_format_known(void **state) {
    (void)state;
    char buf[32];
    assert_int_equal(bp_time_format(T_2026_11_22_01, buf), 24);
    assert_string_equal(buf, "2026-11-22T01:00:00.000Z");
    assert_int_equal(bp_time_format(0, buf), BP_TIME_ISO_LEN);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    bp_time_format(1709251199999LL, buf);
    assert_string_equal(buf, "2024-02-29T23:59:59.999Z");
    bp_time_format(T_2026_11_22_01 + 7, buf);
    assert_string_equal(buf, "2026-11-22T01:00:00.007Z");
    bp_time_format(-1, buf); /* just before the epoch */
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

/* Formatting a +07:00 input gives its UTC instant. */
static void test_zone_to_utc(void **state) {
    (void)state;
    char buf[32];
    bp_time_format(must_parse("2026-11-22T08:00:00.123+07:00"), buf);
    assert_string_equal(buf, "2026-11-22T01:00:00.123Z");
    bp_time_format(must_parse("2026-01-01T03:00:00+07:00"), buf);
    assert_string_equal(buf, "2025-12-31T20:00:00.000Z");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_round_trip(void **state) {
    (void)state;
    const int64_t lo = 946684800000LL, hi = 7258118399999LL; /* 2000 .. 2199 */
    char buf[32];
    for (int i = 0; i < 20000; i++) {
        int64_t ms = lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
        assert_int_equal(bp_time_format(ms, buf), 24);
        int64_t back = -1;
        if (bp_time_parse(buf, 24, &back)) fail_msg("formatted \"%s\" does not parse", buf);
        assert_int_equal(back, ms);
    }
    /* Every day of a leap year and of a common year, at the last millisecond. */
    int64_t day0 = must_parse("2024-01-01T23:59:59.999Z");
    for (int d = 0; d < 366 + 365; d++) {
        int64_t ms = day0 + (int64_t)d * 86400000LL;
        bp_time_format(ms, buf);
        int64_t back = -1;
        assert_int_equal(bp_time_parse(buf, 24, &back), 0);
        assert_int_equal(back, ms);
    }
    bp_time_format(day0 + 59 * 86400000LL, buf);
    assert_string_equal(buf, "2024-02-29T23:59:59.999Z");
}

/* Zoned inputs round-trip to the same instant as their UTC form. */
static void test_round_trip_zones(void **state) {
    (void)state;
    static const char *const zones[] = {"+07:00", "-05:00", "+05:45", "-09:30", "+14:00", "Z"};
    char in[40], out[32];
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        snprintf(in, sizeof in, "2024-02-29T12:34:56.789%s", zones[z]);
        int64_t ms = must_parse(in);
        bp_time_format(ms, out);
        assert_int_equal(must_parse(out), ms);
        assert_string_equal(out + 19, ".789Z");
    }
}

static void test_clocks(void **state) {
    (void)state;
    int64_t now = bp_time_now_ms();
    assert_true(now > must_parse("2024-01-01T00:00:00Z"));
    uint64_t a = bp_time_mono_ns(), b = bp_time_mono_ns();
    assert_true(b >= a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_utc_and_zones),
        cmocka_unit_test(test_parse_fractions),
        cmocka_unit_test(test_parse_leap_years),
        cmocka_unit_test(test_parse_leap_second_folds),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_uses_exact_length),
        cmocka_unit_test(test_format_known),
        cmocka_unit_test(test_zone_to_utc),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_zones),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
