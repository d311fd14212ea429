/* Trend history, pure part: samples, the text form kept in Redis, the
 * bounded series and its JSON. */
#include "bp_history.h"
#include "test_util.h"

static bp_registry_t reg;

static int setup(void **state) {
    (void)state;
    tu_load_registry(&reg);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static void test_round_trip(void **state) {
    (void)state;
    bp_history_point_t p = {1795457182000, 97.94, 20227, 20644, 118, 2, 21, 88, 0, 0, {{0}}}, q;
    bp_buf_t b;
    bp_buf_init(&b, 0, 256);
    bp_history_encode(&b, &p);
    assert_string_equal(bp_buf_data(&b), "1795457182000,97.9,20227,20644,118,2,21,88,0");
    assert_int_equal(bp_history_decode(bp_buf_data(&b), b.len, &q), 0);
    assert_int_equal(q.t_ms, p.t_ms);
    assert_float_equal(q.occupancy_pct, 97.9, 1e-9);
    assert_int_equal(q.icu_adult_available, 118);
    assert_int_equal(q.reporting, 88);
    /* unknown occupancy and ICU stay unknown */
    bp_history_point_t u = {1795457182000, -1, 0, 0, -1, 0, 0, 0, 1, 0, {{0}}};
    bp_buf_reset(&b);
    bp_history_encode(&b, &u);
    assert_int_equal(bp_history_decode(bp_buf_data(&b), b.len, &q), 0);
    assert_true(q.occupancy_pct < 0);
    assert_int_equal(q.icu_adult_available, -1);
    assert_int_equal(q.level, 1);
    bp_buf_free(&b);
}

/* every bed type's figures, and members stored before they were kept */
static void test_round_trip_bed_types(void **state) {
    (void)state;
    bp_history_point_t p = {1795457182000, 50.0, 10, 20, 3, 0, 0, 1, 2, 0, {{0}}}, q;
    for (int t = 0; t < BP_BED__COUNT; t++)
        p.beds[t] = (bp_beds_t){-1, -1, -1};
    p.beds_mask = (1u << BP_BED_ICU_ADULT) | (1u << BP_BED_OPERATING_ROOM);
    p.beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 63, 8};
    p.beds[BP_BED_OPERATING_ROOM] = (bp_beds_t){100000, -1, 0};
    bp_buf_t b;
    bp_buf_init(&b, 0, 1024);
    bp_history_encode(&b, &p);
    assert_string_equal(bp_buf_data(&b), "1795457182000,50.0,10,20,3,0,0,1,2|icu_adult:60:63:8"
                                         "|operating_room:100000:-1:0");
    assert_int_equal(bp_history_decode(bp_buf_data(&b), b.len, &q), 0);
    assert_int_equal(q.beds_mask, p.beds_mask);
    assert_int_equal(q.beds[BP_BED_ICU_ADULT].occupied, 63);
    assert_int_equal(q.beds[BP_BED_OPERATING_ROOM].staffed, 100000);
    assert_int_equal(q.beds[BP_BED_OPERATING_ROOM].occupied, -1);
    assert_int_equal(q.beds[BP_BED_BURN].staffed, -1);
    assert_int_equal(q.level, 2);
    /* an old member: no bed types */
    const char *old = "1795457182000,97.9,20227,20644,118,2,21,88,0";
    assert_int_equal(bp_history_decode(old, strlen(old), &q), 0);
    assert_int_equal(q.beds_mask, 0);
    assert_int_equal(q.reporting, 88);
    /* a bed type this version does not know is skipped */
    const char *newer = "1795457182000,1,2,3,4,5,6,7,8|hyperbaric:1:2:3|burn:4:5:6";
    assert_int_equal(bp_history_decode(newer, strlen(newer), &q), 0);
    assert_int_equal(q.beds_mask, 1u << BP_BED_BURN);
    assert_int_equal(q.beds[BP_BED_BURN].surge24, 6);
    const char *bad[] = {"1795457182000,1,2,3,4,5,6,7,8|",
                         "1795457182000,1,2,3,4,5,6,7,8|burn",
                         "1795457182000,1,2,3,4,5,6,7,8|burn:1:2",
                         "1795457182000,1,2,3,4,5,6,7,8|burn:1:2:3:4",
                         "1795457182000,1,2,3,4,5,6,7,8|burn:1:-2:3",
                         "1795457182000,1,2,3,4,5,6,7,8|burn:1:2:100001",
                         "1795457182000,1,2,3,4,5,6,7,8|burn:1:2:3x",
                         "1795457182000,1,2,3,4,5,6,7,8|burn::2:3",
                         "|burn:1:2:3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (bp_history_decode(bad[i], strlen(bad[i]), &q) != -1) fail_msg("accepted %s", bad[i]);
    bp_buf_free(&b);
}

static void test_decode_rejects(void **state) {
    (void)state;
    bp_history_point_t q;
    const char *bad[] = {"",
                         "1,2,3",
                         "x,1,2,3,4,5,6,7,8",
                         "1795457182000,1,2,3,4,5,6,7,8,9",
                         "0,1,2,3,4,5,6,7,8",
                         "1795457182000,nan,2,3,4,5,6,7,8",
                         "1795457182000,1,-5,3,4,5,6,7,8",
                         "1795457182000,1,2,3,4,5,6,7,8 ",
                         "1795457182000,1,2,3,4,5,6,7,999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(bp_history_decode(bad[i], strlen(bad[i]), &q), -1);
}

static void test_series(void **state) {
    (void)state;
    bp_series_t s;
    assert_int_equal(bp_series_init(&s, 3), 0);
    assert_int_equal(bp_series_last_t(&s), 0);
    for (int64_t t = 1000; t <= 5000; t += 1000) {
        bp_history_point_t p = {t, (double)t / 100, 1, 2, 3, 0, 0, 1, 2, 0, {{0}}};
        bp_series_add(&s, &p);
    }
    assert_int_equal(s.count, 3); /* the oldest two dropped */
    assert_int_equal(bp_series_last_t(&s), 5000);
    bp_history_point_t old = {4000, 1, 1, 1, 1, 0, 0, 1, 1, 0, {{0}}};
    bp_series_add(&s, &old); /* not newer: ignored */
    assert_int_equal(s.count, 3);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_series_write(&b, &s, "bach-mai", 0, 300, 3500, 5000);
    cJSON *root = tu_parse_buf(&b);
    const cJSON *pts = tu_get(root, "points");
    assert_int_equal(cJSON_GetArraySize(pts), 2); /* 4000 and 5000 */
    assert_string_equal(tu_str(root, "series"), "bach-mai");
    assert_int_equal(tu_num(root, "interval_s"), 300);
    assert_int_equal(tu_num(cJSON_GetArrayItem(pts, 1), "level"), 2);
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 0), "diversions"));
    cJSON_Delete(root);
    bp_buf_free(&b);
    bp_series_free(&s);
}

static void test_samples(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 0);
    bp_history_point_t p;
    const int64_t now = 1795457182000;
    bp_history_sample_city(st, now, now, &p);
    assert_int_equal(p.reporting, 0);
    assert_true(p.occupancy_pct < 0); /* nothing reported: unknown, not 0 % */
    assert_int_equal(p.icu_adult_available, -1);
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "bach-mai");
    c.at_ms = now;
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){10, 12, -1};
    c.has_ed = true;
    c.ed.status = BP_ED_DIVERSION;
    assert_true(bp_state_apply(st, &c) >= 0);
    bp_history_sample_city(st, now, now, &p);
    assert_int_equal(p.reporting, 1);
    assert_int_equal(p.staffed, 10);
    assert_int_equal(p.occupied, 12);
    assert_float_equal(p.occupancy_pct, 120.0, 1e-9);
    assert_int_equal(p.icu_adult_available, 0);
    assert_int_equal(p.diversions, 1);
    assert_int_equal(p.level4, 1);
    /* the city per bed type: only what has staffed and occupied known */
    assert_int_equal(p.beds_mask, 1u << BP_BED_ICU_ADULT);
    assert_int_equal(p.beds[BP_BED_ICU_ADULT].staffed, 10);
    assert_int_equal(p.beds[BP_BED_ICU_ADULT].occupied, 12);
    assert_int_equal(p.beds[BP_BED_BURN].staffed, -1);
    int i = bp_registry_hospital(&reg, "bach-mai", 8);
    bp_history_sample_hospital(st, (size_t)i, now, now, &p);
    assert_int_equal(p.level, 4);
    assert_float_equal(p.occupancy_pct, 120.0, 1e-9);
    /* a hospital per bed type: every type it has, as known */
    const bp_hospital_state_t *h = bp_state_hospital(st, (size_t)i);
    assert_int_equal(p.beds_mask, h->beds_mask);
    assert_int_equal(p.beds[BP_BED_ICU_ADULT].occupied, 12);
    for (int t = 0; t < BP_BED__COUNT; t++)
        if (h->beds_mask & (1u << t)) assert_int_equal(p.beds[t].staffed, h->beds[t].staffed);
    bp_state_destroy(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_round_trip_bed_types),
        cmocka_unit_test(test_decode_rejects), cmocka_unit_test(test_series),
        cmocka_unit_test(test_samples),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
