/* GeoJSON and CSV exports of the state, and the history as CSV. */
#include "bp_export.h"
#include "bp_interop.h"
#include "test_util.h"

static bp_registry_t reg;
static bp_state_t *st;
static int bm;
static const int64_t NOW = 1795000000000;

static int setup(void **state) {
    (void)state;
    tu_load_registry(&reg);
    st = bp_state_create(&reg, NULL, 0);
    bm = bp_registry_hospital(&reg, "bach-mai", 8);
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "bach-mai");
    c.at_ms = NOW - 1000;
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 63, -1};
    c.bed_fields[BP_BED_ICU_ADULT] |= BP_BF_VENTILATED;
    c.icu[BP_BED_ICU_ADULT].ventilated = (bp_places_t){40, 2};
    c.has_ed = true;
    c.ed.status = BP_ED_DIVERSION;
    c.ed.waiting = -1;
    c.ed.until_ms = NOW + 3600000;
    snprintf(c.ed.reason, sizeof c.ed.reason, "=HYPERLINK(\"x\"), no ICU");
    /* services: CT out, the stroke unit limited, MRI's outage over */
    c.svc_fields =
        1u << BP_SVC_CT | 1u << BP_SVC_STROKE_UNIT | 1u << BP_SVC_MRI | 1u << BP_SVC_DIALYSIS;
    c.svc[BP_SVC_DIALYSIS] = (bp_svc_t){BP_SVS_UNAVAILABLE, NOW + 60000, ""};
    c.svc[BP_SVC_CT] = (bp_svc_t){BP_SVS_UNAVAILABLE, 0, "tube"};
    c.svc[BP_SVC_STROKE_UNIT] = (bp_svc_t){BP_SVS_LIMITED, 0, ""};
    c.svc[BP_SVC_MRI] = (bp_svc_t){BP_SVS_UNAVAILABLE, NOW - 1, "past"};
    c.has_fac = true;
    c.fac = (bp_facility_t){BP_FAC_COMPROMISED, {1, 1, -1}, "flood, ground floor"};
    bp_state_apply(st, &c);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bp_state_destroy(st);
    bp_registry_free(&reg);
    return 0;
}

static void test_geojson(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 8u << 20);
    bp_export_geojson(&b, st, -1, NOW);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "type"), "FeatureCollection");
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "features")), (int)reg.n_hospitals);
    cJSON_Delete(j);
    bp_buf_reset(&b);
    bp_export_geojson(&b, st, bm, NOW);
    j = tu_parse_buf(&b);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "features")), 1);
    assert_string_equal(tu_str(j, "features.0.geometry.type"), "Point");
    /* GeoJSON order: longitude first */
    assert_float_equal(tu_num(j, "features.0.geometry.coordinates.0"), reg.hospitals[bm].lon, 1e-6);
    assert_float_equal(tu_num(j, "features.0.geometry.coordinates.1"), reg.hospitals[bm].lat, 1e-6);
    assert_string_equal(tu_str(j, "features.0.id"), "bach-mai");
    assert_int_equal((int)tu_num(j, "features.0.properties.beds.icu_adult.overflow"), 3);
    assert_string_equal(tu_str(j, "features.0.properties.ed.status"), "diversion");
    assert_int_equal((int)tu_num(j, "features.0.properties.beds.icu_adult.ventilated.free"), 2);
    assert_null(tu_get(j, "features.0.properties.beds.icu_adult.ecmo"));
    cJSON_Delete(j);
    bp_buf_free(&b);
}

/* Splits a CSV line into cells (quotes honoured). */
static int cells(const char *line, size_t len, char out[][256], int max) {
    int n = 0;
    size_t i = 0;
    while (n < max) {
        size_t o = 0;
        bool q = i < len && line[i] == '"';
        if (q) i++;
        while (i < len) {
            if (q && line[i] == '"') {
                if (i + 1 < len && line[i + 1] == '"') {
                    out[n][o++] = '"';
                    i += 2;
                    continue;
                }
                i++;
                q = false;
                continue;
            }
            if (!q && line[i] == ',') break;
            if (o < 255) out[n][o++] = line[i];
            i++;
        }
        out[n++][o] = '\0';
        if (i >= len) break;
        i++; /* the comma */
    }
    return n;
}

static void test_csv(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 8u << 20);
    bp_export_csv(&b, st, bm, NOW);
    const char *t = bp_buf_data(&b);
    assert_memory_equal(t, "\xEF\xBB\xBF", 3);
    t += 3;
    /* header, then one row per bed type bach-mai has, every line CRLF */
    int lines = 0, icu_rows = 0;
    static char c[32][256];
    while (*t) {
        const char *nl = strstr(t, "\r\n");
        assert_non_null(nl);
        int n = cells(t, (size_t)(nl - t), c, 32);
        assert_int_equal(n, (int)bp_interop_csv_ncolumns);
        if (lines == 0) assert_string_equal(c[0], "facility_id");
        if (lines == 0) assert_string_equal(c[20], "num_vent_beds");
        if (lines == 0) assert_string_equal(c[24], "facility_status");
        if (lines == 0) assert_string_equal(c[30], "services_unavailable");
        if (lines > 0 && strcmp(c[7], "icu_adult") == 0) {
            icu_rows++;
            assert_string_equal(c[0], "bach-mai");
            assert_string_equal(c[8], "AdultICU");
            assert_string_equal(c[9], "ICU");
            assert_string_equal(c[11], "60"); /* num_beds */
            assert_string_equal(c[12], "63"); /* num_beds_occ */
            assert_string_equal(c[13], "0");  /* num_beds_avail */
            assert_string_equal(c[14], "3");  /* num_beds_overflow */
            assert_string_equal(c[16], "diversion");
            /* a reason a spreadsheet would run as a formula is defused */
            assert_string_equal(c[17], "'=HYPERLINK(\"x\"), no ICU");
            assert_string_equal(c[20], "40"); /* num_vent_beds */
            assert_string_equal(c[21], "2");  /* num_vent_beds_avail */
            assert_string_equal(c[22], "");   /* num_ecmo: not reported */
            assert_string_equal(c[23], "");
            assert_string_equal(c[24], "compromised");
            assert_string_equal(c[25], "flood, ground floor");
            assert_string_equal(c[26], "generator");
            assert_string_equal(c[27], "low");
            assert_string_equal(c[28], ""); /* water: not reported */
            assert_string_equal(c[29], "stroke_unit");
            assert_string_equal(c[30], "ct;dialysis"); /* MRI's expiry has passed */
        }
        lines++;
        t = nl + 2;
    }
    int types = 0;
    for (int k = 0; k < BP_BED__COUNT; k++)
        types += !!(bp_state_hospital(st, (size_t)bm)->beds_mask & (1u << k));
    assert_int_equal(lines, 1 + types);
    assert_int_equal(icu_rows, 1);
    bp_buf_free(&b);
}

static void test_csv_cell(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 1024);
    const char *in[] = {"plain", "a,b", "say \"hi\"", "+1", "@x", "-2", "line\nbreak", "x;y"};
    const char *out[] = {"plain",   "\"a,b\"", "\"say \"\"hi\"\"\"", "\"'+1\"",
                         "\"'@x\"", "\"'-2\"", "\"line\nbreak\"",    "\"x;y\""};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        bp_buf_reset(&b);
        bp_csv_cell(&b, in[i]);
        assert_string_equal(bp_buf_data(&b), out[i]);
    }
    bp_buf_free(&b);
}

static void test_history_csv(void **state) {
    (void)state;
    bp_series_t s;
    assert_int_equal(bp_series_init(&s, 16), 0);
    for (int k = 0; k < 6; k++) {
        bp_history_point_t p;
        memset(&p, 0, sizeof p);
        for (int t = 0; t < BP_BED__COUNT; t++)
            p.beds[t] = (bp_beds_t){-1, -1, -1};
        p.t_ms = 1000000 + k * 60000; /* one a minute */
        p.beds_mask = (1u << BP_BED_BURN) | (1u << BP_BED_ICU_ADULT);
        p.beds[BP_BED_BURN] = (bp_beds_t){10, k, 2};
        p.beds[BP_BED_ICU_ADULT] = (bp_beds_t){5, 6, -1};
        bp_series_add(&s, &p);
    }
    bp_buf_t b;
    bp_buf_init(&b, 0, 1u << 20);
    assert_int_equal(bp_export_history_csv(&b, &s, "bach-mai", 0, INT64_MAX, 0), 12);
    const char *t = bp_buf_data(&b) + 3;
    assert_true(strncmp(t, "time,series,bed_type,staffed,occupied,available,overflow,surge24\r\n",
                        66) == 0);
    assert_non_null(strstr(t, "1970-01-01T00:16:40.000Z,bach-mai,icu_adult,5,6,0,1,\r\n"));
    /* every two minutes: the last sample of each step */
    bp_buf_reset(&b);
    assert_int_equal(bp_export_history_csv(&b, &s, "city", 1000000, 1000000 + 5 * 60000, 120000),
                     6);
    assert_non_null(strstr(bp_buf_data(&b), ",city,burn,10,1,9,0,2\r\n"));
    assert_null(strstr(bp_buf_data(&b), ",city,burn,10,0,"));
    assert_non_null(strstr(bp_buf_data(&b), ",city,burn,10,5,5,0,2\r\n"));
    /* a range with nothing in it: the header only */
    bp_buf_reset(&b);
    assert_int_equal(bp_export_history_csv(&b, &s, "city", 0, 10, 0), 0);
    bp_buf_free(&b);
    bp_series_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geojson),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_cell),
        cmocka_unit_test(test_history_csv),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
