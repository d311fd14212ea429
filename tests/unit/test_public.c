/*
 * Tests for bp_public: the public document says each hospital's ED state
 * in four words with a reason category from the figures and never the
 * hospital's free text, free beds by type for hospitals, districts and
 * the city with when they were last updated, and nothing about ambulances
 * or incidents; the open-data rows take the last sample at or before each
 * fixed local hour (not an older one than the tolerance), one row per day,
 * hospital and bed type, with the licence in the file's first line.
 */
#include "test_util.h"

#include "bp_public.h"
#include "bp_state.h"

#define MIN  60000LL
#define HOUR 3600000LL
#define T0   1795334400000LL /* 2026-11-22 08:00 UTC = 15:00 in Hanoi */

static bp_registry_t reg;
static const bp_public_meta_t meta = {"CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/",
                                      "Sở Y tế Hà Nội (demo)"};

static int setup_group(void **state) {
    (void)state;
    tu_load_registry(&reg);
    return 0;
}

static int teardown_group(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static void report(bp_state_t *st, const char *id, int64_t at, bp_bed_type_t t, int staffed,
                   int occupied, bp_ed_status_t ed, const char *reason) {
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.source, sizeof c.source, "his");
    c.at_ms = at;
    c.bed_fields[t] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[t].staffed = staffed;
    c.beds[t].occupied = occupied;
    c.has_ed = true;
    c.ed.status = ed;
    c.ed.waiting = -1;
    c.ed.until_ms = 0;
    snprintf(c.ed.reason, sizeof c.ed.reason, "%s", reason);
    assert_true(bp_state_apply(st, &c) >= 0);
}

static const cJSON *hospital(const cJSON *doc, const char *id) {
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "hospitals")) {
        if (strcmp(tu_str(it, "id"), id) == 0) return it;
    }
    fail_msg("no hospital %s", id);
    return NULL;
}

/* The public document at T0, parsed; b keeps its text (NUL-ended). */
static cJSON *write_doc(const bp_state_t *st, bp_buf_t *b) {
    bp_buf_init(b, 0, 8u << 20);
    bp_public_write(b, st, &meta, T0);
    cJSON *doc = tu_parse_buf(b);
    bp_buf_putc(b, '\0');
    return doc;
}

static void test_document(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 10);
    report(st, "bach-mai", T0 - 5 * MIN, BP_BED_ICU_ADULT, 75, 75, BP_ED_DIVERSION,
           "Bác sĩ X nghỉ ốm, CT hỏng");
    report(st, "viet-duc", T0 - 2 * MIN, BP_BED_MEDICAL_SURGICAL, 100, 120, BP_ED_ADVISORY,
           "secret internal note");
    report(st, "thanh-nhan", T0 - MIN, BP_BED_MEDICAL_SURGICAL, 200, 150, BP_ED_NORMAL, "");
    report(st, "benh-vien-e", T0 - MIN, BP_BED_MEDICAL_SURGICAL, 100, 40, BP_ED_CLOSED, "flood");
    bp_buf_t b;
    cJSON *doc = write_doc(st, &b);
    const char *text = bp_buf_data(&b);
    /* never free text, ambulances or incidents */
    assert_null(strstr(text, "nghỉ ốm"));
    assert_null(strstr(text, "secret internal"));
    assert_null(strstr(text, "flood"));
    assert_null(strstr(text, "ambulance"));
    assert_null(strstr(text, "incident"));
    assert_null(strstr(text, "115-"));
    assert_string_equal(tu_str(doc, "licence.name"), "CC BY 4.0");
    assert_string_equal(tu_str(doc, "generated"), "2026-11-22T08:00:00.000Z");
    const cJSON *bm = hospital(doc, "bach-mai");
    assert_string_equal(tu_str(bm, "ed.state"), "diverting");
    assert_string_equal(tu_str(bm, "ed.reason"), "icu_full");
    assert_int_equal(tu_num(bm, "beds.icu_adult.free"), 0);
    assert_int_equal(tu_num(bm, "beds.icu_adult.staffed"), 75);
    assert_true(tu_is_null(bm, "beds.medical_surgical.free")); /* never reported */
    assert_string_equal(tu_str(bm, "updated"), "2026-11-22T07:55:00.000Z");
    assert_string_equal(tu_str(bm, "freshness"), "fresh");
    assert_string_equal(tu_str(bm, "district"), "dong-da");
    const cJSON *vd = hospital(doc, "viet-duc");
    assert_string_equal(tu_str(vd, "ed.state"), "busy");
    assert_string_equal(tu_str(vd, "ed.reason"), "beds_full");
    assert_int_equal(tu_num(vd, "beds.medical_surgical.free"), 0);
    const cJSON *tn = hospital(doc, "thanh-nhan");
    assert_string_equal(tu_str(tn, "ed.state"), "accepting");
    assert_true(tu_is_null(tn, "ed.reason"));
    assert_int_equal(tu_num(tn, "beds.medical_surgical.free"), 50);
    const cJSON *e = hospital(doc, "benh-vien-e");
    assert_string_equal(tu_str(e, "ed.state"), "closed");
    assert_string_equal(tu_str(e, "ed.reason"), "other");
    /* a hospital that never reported says so */
    const cJSON *k = hospital(doc, "benh-vien-k");
    assert_true(tu_is_null(k, "ed.state"));
    assert_true(tu_is_null(k, "updated"));
    assert_string_equal(tu_str(k, "freshness"), "never");
    /* city: wards 100+200+100 staffed, 0+50+60 free in 3 hospitals; newest report */
    assert_int_equal(tu_num(doc, "city.beds.medical_surgical.staffed"), 400);
    assert_int_equal(tu_num(doc, "city.beds.medical_surgical.free"), 110);
    assert_int_equal(tu_num(doc, "city.beds.medical_surgical.hospitals"), 3);
    assert_int_equal(tu_num(doc, "city.reporting"), 4);
    assert_int_equal(tu_num(doc, "city.hospitals"), (double)reg.n_hospitals);
    assert_string_equal(tu_str(doc, "city.updated"), "2026-11-22T07:59:00.000Z");
    /* districts: Dong Da has Bach Mai's adult ICU */
    const cJSON *it, *dd = NULL;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "districts")) {
        if (strcmp(tu_str(it, "id"), "dong-da") == 0) dd = it;
    }
    assert_non_null(dd);
    assert_int_equal(tu_num(dd, "beds.icu_adult.staffed"), 75);
    assert_string_equal(tu_str(dd, "updated"), "2026-11-22T07:55:00.000Z");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "districts")),
                     (int)reg.n_districts);
    cJSON_Delete(doc);
    bp_buf_free(&b);
    bp_state_destroy(st);
}

/* -- open data ------------------------------------------------------------------------ */

static bp_series_t series[2]; /* bach-mai, viet-duc; others empty */
static bp_series_t empty;

static const bp_series_t *series_of(void *ctx, size_t h) {
    (void)ctx;
    return h < 2 ? &series[h] : &empty;
}

static void point(bp_series_t *s, int64_t t, int staffed, int occupied, int icu) {
    bp_history_point_t p = {.t_ms = t,
                            .staffed = staffed,
                            .occupied = occupied,
                            .occupancy_pct = 100.0 * occupied / staffed,
                            .icu_adult_available = icu,
                            .reporting = 1,
                            .level = 1};
    bp_series_add(s, &p);
}

static void test_open_data(void **state) {
    (void)state;
    assert_int_equal(bp_registry_hospital(&reg, "bach-mai", 8), 0);
    assert_int_equal(bp_registry_hospital(&reg, "viet-duc", 8), 1);
    for (int i = 0; i < 2; i++)
        assert_int_equal(bp_series_init(&series[i], 1000), 0);
    assert_int_equal(bp_series_init(&empty, 1), 0);
    /* Hanoi 08:00 on 22 Nov is 01:00 UTC; 20:00 is 13:00 UTC */
    int64_t h08 = T0 - 7 * HOUR, h20 = T0 + 5 * HOUR;
    for (int64_t t = h08 - 30 * MIN; t <= h20 + 30 * MIN; t += 5 * MIN) {
        if (t == h08) {
            point(&series[0], t, 1000, 950, 2); /* exactly at 08:00 counts */
            /* with bed types (as the history keeps them now): emergency
             * over capacity at 08:00, adult ICU in full */
            bp_history_point_t *last =
                &series[0].p[(series[0].first + series[0].count - 1) % series[0].cap];
            last->beds_mask = 1u << BP_BED_EMERGENCY | 1u << BP_BED_ICU_ADULT;
            last->beds[BP_BED_EMERGENCY] = (bp_beds_t){40, 44, -1};
            last->beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 57, -1};
        } else
            point(&series[0], t, 1000, 900, 4);
    }
    /* viet-duc: one sample long before 08:00 (too old), one at 19:58 */
    point(&series[1], h08 - 3 * HOUR, 500, 400, 9);
    point(&series[1], h20 - 2 * MIN, 500, 510, 0);
    bp_opendata_q_t q = {.reg = &reg,
                         .series = series_of,
                         .utc_offset_min = 420,
                         .days = 2,
                         .tolerance_ms = 10 * MIN,
                         .meta = &meta};
    int64_t now = h20 + HOUR; /* 21:00 on the 22nd */
    bp_buf_t b;
    bp_buf_init(&b, 0, 8u << 20);
    bp_opendata_csv(&b, &q, now);
    bp_buf_putc(&b, '\0');
    const char *csv = bp_buf_data(&b);
    assert_true(strncmp(csv, "# BedPulse open data", 20) == 0);
    const char *nl = strstr(csv, "\r\n");
    assert_non_null(
        strstr(csv, "Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"));
    assert_true(strstr(csv, "Licence") < nl);
    assert_non_null(strstr(csv,
                           "\r\ndate,hospital,name_vi,name_en,district,tier,bed_type,staffed_08,"
                           "occupied_08,free_08,occupancy_pct_08,staffed_20,occupied_20,free_20,"
                           "occupancy_pct_20\r\n"));
    assert_non_null(strstr(csv,
                           "\r\n2026-11-22,bach-mai,Bệnh viện Bạch Mai,Bach Mai Hospital,dong-da,"
                           "central,inpatient,1000,950,50,95.0,1000,900,100,90.0\r\n"));
    /* adult ICU: in full at 08:00 (bed types kept), free only at 20:00
     * (a sample stored before they were) */
    assert_non_null(strstr(csv,
                           "\r\n2026-11-22,bach-mai,Bệnh viện Bạch Mai,Bach Mai Hospital,dong-da,"
                           "central,icu_adult,60,57,3,95.0,,,4,\r\n"));
    /* a bed type only where the hospital reports it; over capacity: 0 free */
    assert_non_null(strstr(csv,
                           "\r\n2026-11-22,bach-mai,Bệnh viện Bạch Mai,Bach Mai Hospital,dong-da,"
                           "central,emergency,40,44,0,110.0,,,,\r\n"));
    assert_null(strstr(csv, ",burn,"));
    /* the old sample is not 08:00's; 19:58's is 20:00's, over 100 % */
    assert_non_null(strstr(csv, "\r\n2026-11-22,viet-duc,"));
    assert_non_null(strstr(csv, "inpatient,,,,,500,510,0,102.0\r\n"));
    /* nothing for the 21st, no rows for hospitals without samples */
    assert_null(strstr(csv, "2026-11-21"));
    assert_null(strstr(csv, "benh-vien-108"));
    int rows = 0;
    for (const char *p = csv; (p = strstr(p, "\r\n2026-")); p++)
        rows++;
    assert_int_equal(rows, 5);
    /* the same rows as JSON */
    bp_buf_reset(&b);
    bp_opendata_json(&b, &q, now);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "licence.name"), "CC BY 4.0");
    assert_string_equal(tu_str(j, "utc_offset"), "+07:00");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")), 5);
    assert_string_equal(tu_str(j, "bed_types.emergency"), "as reported");
    assert_string_equal(tu_str(j, "rows.0.date"), "2026-11-22");
    assert_string_equal(tu_str(j, "rows.0.bed_type"), "inpatient");
    assert_int_equal(tu_num(j, "rows.0.at.08:00.free"), 50);
    assert_string_equal(tu_str(j, "rows.1.bed_type"), "emergency");
    assert_int_equal(tu_num(j, "rows.1.at.08:00.occupied"), 44);
    assert_true(tu_is_null(j, "rows.1.at.20:00.staffed"));
    cJSON_Delete(j);
    /* 20:00 has not come yet at 15:00: empty cells, not a guess */
    bp_buf_reset(&b);
    bp_opendata_csv(&b, &q, T0);
    bp_buf_putc(&b, '\0');
    assert_non_null(strstr(bp_buf_data(&b), "central,inpatient,1000,950,50,95.0,,,,\r\n"));
    /* "today" is Hanoi's day (issue 9): the 22nd until 16:59:59.999 UTC,
     * the 23rd from 17:00 UTC, whose 08:00 has not come (no rows, not the
     * 22nd's figures under the 23rd); UTC's midnight changes nothing */
    int64_t midnight = T0 + 9 * HOUR;
    q.days = 1;
    struct {
        int64_t now;
        int rows;
    } edge[] = {{midnight - 1, 5}, {midnight, 0}, {T0 + 16 * HOUR - 1, 0}, {T0 + 16 * HOUR, 0}};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        bp_buf_reset(&b);
        bp_opendata_csv(&b, &q, edge[i].now);
        bp_buf_putc(&b, '\0');
        int n = 0;
        for (const char *p = bp_buf_data(&b); (p = strstr(p, "\r\n2026-11-22,")); p++)
            n++;
        assert_int_equal(n, edge[i].rows);
        assert_null(strstr(bp_buf_data(&b), "\r\n2026-11-23,"));
    }
    q.days = 2; /* the 22nd's rows stay the day after */
    bp_buf_reset(&b);
    bp_opendata_csv(&b, &q, midnight);
    bp_buf_putc(&b, '\0');
    assert_non_null(strstr(bp_buf_data(&b), "\r\n2026-11-22,bach-mai,"));
    bp_buf_free(&b);
    for (int i = 0; i < 2; i++)
        bp_series_free(&series[i]);
    bp_series_free(&empty);
}

static void test_reason_words(void **state) {
    (void)state;
    assert_string_equal(bp_public_ed_state(BP_ED_NORMAL), "accepting");
    assert_string_equal(bp_public_ed_state(BP_ED_ADVISORY), "busy");
    assert_string_equal(bp_public_ed_state(BP_ED_DIVERSION), "diverting");
    assert_string_equal(bp_public_ed_state(BP_ED_CLOSED), "closed");
    bp_hospital_state_t h;
    bp_registry_base_state(&reg.hospitals[0], &h);
    h.ed.status = BP_ED_DIVERSION;
    h.offload_delayed = true;
    assert_string_equal(bp_public_ed_reason(&h, &bp_pressure_default, T0), "ambulance_delays");
    h.ed.until_ms = T0 - 1; /* the diversion ran out: accepting, no reason */
    assert_null(bp_public_ed_reason(&h, &bp_pressure_default, T0));
}

/* The facility and the emergency services (issue 15): citizens see a
 * hospital evacuating or closed (its ED closed, the reason a category) and
 * which of stroke, trauma, obstetric and pediatric emergency care is
 * unavailable — never the reason's words, nor a compromised facility's
 * utilities, nor the other services. */
static void test_facility_and_services(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 10);
    report(st, "bach-mai", T0 - 5 * MIN, BP_BED_ICU_ADULT, 75, 10, BP_ED_NORMAL, "");
    report(st, "viet-duc", T0 - 5 * MIN, BP_BED_ICU_ADULT, 75, 10, BP_ED_NORMAL, "");
    report(st, "benh-vien-108", T0 - 5 * MIN, BP_BED_ICU_ADULT, 75, 10, BP_ED_NORMAL, "");
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "bach-mai");
    c.at_ms = T0 - MIN;
    c.has_fac = true;
    c.fac = (bp_facility_t){BP_FAC_EVACUATING, {2, -1, -1}, "cháy tầng 3 khu B"};
    /* a public service out, one limited, one out past its expiry; CT is not public */
    c.svc_fields = 1u << BP_SVC_STROKE_UNIT | 1u << BP_SVC_PEDIATRIC_ED | 1u << BP_SVC_CT;
    c.svc[BP_SVC_STROKE_UNIT] = (bp_svc_t){BP_SVS_UNAVAILABLE, 0, "kíp trực nghỉ"};
    c.svc[BP_SVC_PEDIATRIC_ED] = (bp_svc_t){BP_SVS_LIMITED, 0, ""};
    c.svc[BP_SVC_CT] = (bp_svc_t){BP_SVS_UNAVAILABLE, 0, "tube"};
    assert_true(bp_state_apply(st, &c) >= 0);
    snprintf(c.id, sizeof c.id, "viet-duc");
    c.fac = (bp_facility_t){BP_FAC_COMPROMISED, {1, 1, -1}, "mất điện lưới"};
    c.svc_fields = 1u << BP_SVC_TRAUMA;
    c.svc[BP_SVC_TRAUMA] = (bp_svc_t){BP_SVS_UNAVAILABLE, T0 - 1, "over"};
    assert_true(bp_state_apply(st, &c) >= 0);
    snprintf(c.id, sizeof c.id, "benh-vien-108");
    c.fac = (bp_facility_t){BP_FAC_CLOSED, {-1, -1, -1}, "ngập"};
    c.svc_fields = 1u << BP_SVC_TRAUMA | 1u << BP_SVC_OBSTETRIC_ED;
    c.svc[BP_SVC_TRAUMA] = (bp_svc_t){BP_SVS_UNAVAILABLE, T0 + HOUR, "x"};
    c.svc[BP_SVC_OBSTETRIC_ED] = (bp_svc_t){BP_SVS_UNAVAILABLE, 0, "y"};
    assert_true(bp_state_apply(st, &c) >= 0);
    bp_buf_t b;
    cJSON *doc = write_doc(st, &b);
    const char *text = bp_buf_data(&b);
    static const char *const hidden[] = {"cháy", "kíp trực",  "mất điện",
                                         "ngập", "generator", "compromised",
                                         "tube", "\"ct\"",    "limited"};
    for (size_t k = 0; k < sizeof hidden / sizeof *hidden; k++)
        if (strstr(text, hidden[k])) fail_msg("the public document says %s", hidden[k]);
    const cJSON *bm = hospital(doc, "bach-mai");
    assert_string_equal(tu_str(bm, "facility"), "evacuating");
    assert_string_equal(tu_str(bm, "ed.state"), "closed");
    assert_string_equal(tu_str(bm, "ed.reason"), "evacuating");
    assert_int_equal(cJSON_GetArraySize(tu_get(bm, "services_unavailable")), 1);
    assert_string_equal(tu_str(bm, "services_unavailable.0"), "stroke_unit");
    const cJSON *vd = hospital(doc, "viet-duc");
    assert_string_equal(tu_str(vd, "facility"), "open"); /* compromised: not public */
    assert_string_equal(tu_str(vd, "ed.state"), "accepting");
    assert_int_equal(cJSON_GetArraySize(tu_get(vd, "services_unavailable")), 0); /* expired */
    const cJSON *h108 = hospital(doc, "benh-vien-108");
    assert_string_equal(tu_str(h108, "facility"), "closed");
    assert_string_equal(tu_str(h108, "ed.state"), "closed");
    assert_string_equal(tu_str(h108, "ed.reason"), "facility_closed");
    assert_string_equal(tu_str(h108, "services_unavailable.0"), "trauma");
    assert_string_equal(tu_str(h108, "services_unavailable.1"), "obstetric_ed");
    assert_string_equal(tu_str(hospital(doc, "thanh-nhan"), "facility"),
                        "open"); /* never reported */
    cJSON_Delete(doc);
    bp_buf_free(&b);
    bp_state_destroy(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_open_data),
        cmocka_unit_test(test_reason_words),
        cmocka_unit_test(test_facility_and_services),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
