/*
 * Tests for bp_state: applying changes to the in-memory state (partial
 * merges, unknown ids, the bounded incident table), and that everything
 * clients read (hospital, ambulance, incident, event, snapshot, summary) is
 * valid JSON with the right values, per audience.
 */
#include "test_util.h"
#include "bp_codec_feed.h"

#include "bp_state.h"
#include "bp_time.h"

#define NOW_MS 1795309200000LL /* 2026-11-22T01:00:00Z */

static bp_registry_t reg;

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

/* Each test gets a fresh state with the default thresholds. */
static int setup(void **state) {
    bp_state_t *st = bp_state_create(&reg, NULL, 0);
    assert_non_null(st);
    *state = st;
    return 0;
}

static int teardown(void **state) {
    bp_state_destroy(*state);
    return 0;
}

static int hosp(const char *id) {
    int i = bp_registry_hospital(&reg, id, strlen(id));
    assert_true(i >= 0);
    return i;
}

static int unit(const char *id) {
    int i = bp_registry_unit(&reg, id, strlen(id));
    assert_true(i >= 0);
    return i;
}

/* A validated feed change, as the collector would produce it. */
static bp_change_t feed(const char *line) {
    bp_change_t c;
    bp_error_t err;
    if (bp_codec_parse_feed(line, strlen(line), &reg, NOW_MS, 300000, &c, &err))
        fail_msg("%s at %s: %s", err.code, err.field, err.message);
    return c;
}

/* Writes hospital i and parses it. */
static cJSON *hospital_json(const bp_state_t *st, int i, int64_t now) {
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 20);
    bp_state_write_hospital(&b, st, (size_t)i, now);
    cJSON *root = tu_parse_buf(&b);
    bp_buf_free(&b);
    return root;
}

#define BACH_MAI_HEAD                                                                              \
    "{\"type\":\"beds\",\"source\":\"his-bach-mai\",\"seq\":41,"                                   \
    "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\""

static void test_create_baseline(void **state) {
    bp_state_t *st = *state;
    assert_ptr_equal(bp_state_registry(st), &reg);
    const bp_pressure_cfg_t *p = bp_state_pressure(st);
    assert_float_equal(p->level2_pct, 85, 0);
    assert_float_equal(p->level4_pct, 110, 0);
    for (size_t i = 0; i < reg.n_hospitals; i++) {
        const bp_hospital_state_t *h = bp_state_hospital(st, i);
        assert_non_null(h);
        assert_int_equal(h->version, 0);
        assert_int_equal(h->at_ms, 0);
        assert_int_equal(h->beds_mask, reg.hospitals[i].beds_mask);
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!(h->beds_mask & (1u << t))) continue;
            assert_int_equal(h->beds[t].staffed, reg.hospitals[i].staffed[t]);
            assert_int_equal(h->beds[t].occupied, -1);
        }
    }
    for (size_t i = 0; i < reg.n_units; i++) {
        const bp_ambulance_state_t *a = bp_state_ambulance(st, i);
        assert_non_null(a);
        assert_int_equal(a->status, BP_AMB_AVAILABLE_STATION);
        assert_false(a->has_position);
    }
    assert_null(bp_state_hospital(st, reg.n_hospitals));
    assert_null(bp_state_ambulance(st, reg.n_units));
    bp_state_destroy(NULL);
}

static void test_custom_pressure(void **state) {
    (void)state;
    const bp_pressure_cfg_t cfg = {50, 60, 70};
    bp_state_t *st = bp_state_create(&reg, &cfg, 0);
    assert_non_null(st);
    assert_float_equal(bp_state_pressure(st)->level2_pct, 50, 0);
    int i = hosp("viet-duc");
    /* medical_surgical 671 staffed: 350 occupied is 52 %, level 2 with these thresholds */
    bp_change_t c = feed("{\"type\":\"beds\",\"source\":\"s\",\"seq\":1,"
                         "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"viet-duc\","
                         "\"beds\":{\"medical_surgical\":{\"occupied\":350}}}");
    assert_int_equal(bp_state_apply(st, &c), i);
    cJSON *h = hospital_json(st, i, NOW_MS);
    assert_int_equal(tu_num(h, "level"), 2);
    cJSON_Delete(h);
    bp_state_destroy(st);
}

static void test_apply_partial_merge(void **state) {
    bp_state_t *st = *state;
    int i = hosp("bach-mai");
    bp_hospital_state_t before = *bp_state_hospital(st, (size_t)i);
    bp_change_t c = feed(BACH_MAI_HEAD ",\"beds\":{\"icu_adult\":{\"occupied\":63}}}");
    assert_int_equal(bp_state_apply(st, &c), i);
    const bp_hospital_state_t *h = bp_state_hospital(st, (size_t)i);
    /* occupied set; staffed and surge24 keep the registry baseline */
    assert_int_equal(h->beds[BP_BED_ICU_ADULT].occupied, 63);
    assert_int_equal(h->beds[BP_BED_ICU_ADULT].staffed, 75);
    assert_int_equal(h->beds[BP_BED_ICU_ADULT].surge24, 8);
    /* every other bed type unchanged */
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (t == BP_BED_ICU_ADULT) continue;
        assert_memory_equal(&h->beds[t], &before.beds[t], sizeof h->beds[t]);
    }
    assert_int_equal(h->beds_mask, before.beds_mask);
    assert_int_equal(h->version, 1);
    assert_int_equal(h->at_ms, NOW_MS);
    assert_string_equal(h->source, "his-bach-mai");
    assert_int_equal(h->ed.status, BP_ED_NORMAL);

    /* a second change to another bed type keeps the first */
    c = feed(BACH_MAI_HEAD ",\"beds\":{\"medical_surgical\":{\"occupied\":1000,\"staffed\":1100}},"
                           "\"ed\":{\"status\":\"advisory\",\"reason\":\"busy\"}}");
    assert_int_equal(bp_state_apply(st, &c), i);
    assert_int_equal(h->beds[BP_BED_ICU_ADULT].occupied, 63);
    assert_int_equal(h->beds[BP_BED_MEDICAL_SURGICAL].occupied, 1000);
    assert_int_equal(h->beds[BP_BED_MEDICAL_SURGICAL].staffed, 1100);
    assert_int_equal(h->beds[BP_BED_MEDICAL_SURGICAL].surge24, 117);
    assert_int_equal(h->ed.status, BP_ED_ADVISORY);
    assert_int_equal(h->version, 2);
    /* an ED change replaces the whole ED */
    c = feed(BACH_MAI_HEAD ",\"ed\":{\"status\":\"normal\",\"waiting\":4}}");
    bp_state_apply(st, &c);
    assert_int_equal(h->ed.status, BP_ED_NORMAL);
    assert_string_equal(h->ed.reason, "");
    assert_int_equal(h->ed.waiting, 4);
    /* other hospitals untouched */
    const bp_hospital_state_t *vd = bp_state_hospital(st, (size_t)hosp("viet-duc"));
    assert_int_equal(vd->version, 0);
    assert_int_equal(vd->beds[BP_BED_ICU_ADULT].occupied, -1);
}

static void test_apply_unknown_id(void **state) {
    bp_state_t *st = *state;
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "nope");
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_OCCUPIED;
    c.beds[BP_BED_ICU_ADULT].occupied = 5;
    assert_int_equal(bp_state_apply(st, &c), -1);
    bp_change_init(&c, BP_KIND_AMBULANCE);
    snprintf(c.id, sizeof c.id, "115-ZZ-01");
    c.amb_fields = BP_AF_STATUS;
    c.amb.status = BP_AMB_ON_SCENE;
    assert_int_equal(bp_state_apply(st, &c), -1);
    for (size_t i = 0; i < reg.n_hospitals; i++)
        assert_int_equal(bp_state_hospital(st, i)->version, 0);
    for (size_t i = 0; i < reg.n_units; i++) {
        assert_int_equal(bp_state_ambulance(st, i)->version, 0);
        assert_int_equal(bp_state_ambulance(st, i)->status, BP_AMB_AVAILABLE_STATION);
    }
}

static void test_apply_ambulance_and_stream_version(void **state) {
    bp_state_t *st = *state;
    int u = unit("115-HK-03");
    bp_change_t c = feed("{\"type\":\"ambulance\",\"source\":\"avl-115\",\"seq\":9001,"
                         "\"at\":\"2026-11-22T08:00:05+07:00\",\"id\":\"115-HK-03\","
                         "\"status\":\"transporting\",\"lat\":21.0285,\"lon\":105.8542,"
                         "\"destination\":\"viet-duc\"}");
    c.version = 7; /* as read back from the stream */
    c.updated_ms = NOW_MS + 6000;
    assert_int_equal(bp_state_apply(st, &c), u);
    const bp_ambulance_state_t *a = bp_state_ambulance(st, (size_t)u);
    assert_int_equal(a->version, 7);
    assert_int_equal(a->status, BP_AMB_TRANSPORTING);
    assert_true(a->has_position);
    assert_float_equal(a->lat, 21.0285, 1e-12);
    assert_string_equal(a->destination, "viet-duc");
    assert_float_equal(a->heading, -1, 0);
    assert_int_equal(a->updated_ms, NOW_MS + 6000);
    /* the next change only moves it */
    c = feed(
        "{\"type\":\"ambulance\",\"source\":\"avl-115\",\"seq\":9002,"
        "\"at\":\"2026-11-22T08:00:06+07:00\",\"id\":\"115-HK-03\",\"lat\":21.03,\"lon\":105.86}");
    bp_state_apply(st, &c);
    assert_int_equal(a->version, 8);
    assert_int_equal(a->status, BP_AMB_TRANSPORTING);
    assert_string_equal(a->destination, "viet-duc");
    assert_float_equal(a->lon, 105.86, 1e-12);

    cJSON_bool ok;
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_state_write_ambulance(&b, st, (size_t)u);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "id"), "115-HK-03");
    assert_string_equal(tu_str(j, "station"), "hoan-kiem");
    assert_int_equal(tu_num(j, "version"), 8);
    assert_string_equal(tu_str(j, "status"), "transporting");
    assert_int_equal(tu_num(j, "fms"), 7);
    assert_float_equal(tu_num(j, "lat"), 21.03, 1e-9);
    assert_string_equal(tu_str(j, "destination"), "viet-duc");
    assert_true(tu_is_null(j, "heading"));
    assert_true(tu_is_null(j, "speed"));
    assert_true(tu_is_null(j, "incident"));
    assert_string_equal(tu_str(j, "at"), "2026-11-22T01:00:06.000Z");
    ok = cJSON_IsString(tu_get(j, "updated"));
    assert_true(ok);
    cJSON_Delete(j);
    /* an ambulance never heard from */
    bp_buf_reset(&b);
    bp_state_write_ambulance(&b, st, (size_t)unit("115-DA-06"));
    j = tu_parse_buf(&b);
    assert_true(tu_is_null(j, "at"));
    assert_true(tu_is_null(j, "lat"));
    assert_true(tu_is_null(j, "destination"));
    assert_string_equal(tu_str(j, "status"), "available_station");
    assert_int_equal(tu_num(j, "fms"), 2);
    cJSON_Delete(j);
    bp_buf_free(&b);
}

static void test_write_hospital_reported(void **state) {
    bp_state_t *st = *state;
    int i = hosp("bach-mai");
    bp_change_t c =
        feed(BACH_MAI_HEAD ",\"beds\":{\"icu_adult\":{\"staffed\":60,\"occupied\":63,"
                           "\"surge24\":8},\"medical_surgical\":{\"occupied\":1053}},"
                           "\"ed\":{\"status\":\"diversion\",\"reason\":\"no ICU beds\","
                           "\"until\":\"2026-11-22T12:00:00+07:00\",\"waiting\":12}}");
    c.updated_ms = NOW_MS + 20;
    bp_state_apply(st, &c);
    cJSON *h = hospital_json(st, i, NOW_MS + 60000);
    assert_string_equal(tu_str(h, "id"), "bach-mai");
    assert_string_equal(tu_str(h, "name.en"), "Bach Mai Hospital");
    assert_string_equal(tu_str(h, "tier"), "central");
    assert_string_equal(tu_str(h, "district"), "dong-da");
    assert_float_equal(tu_num(h, "lat"), 21.001, 1e-9);
    assert_string_equal(tu_str(h, "specialties.0"), "cardiology");
    assert_true(tu_is_null(h, "sister"));
    assert_string_equal(tu_str(h, "phone"), "+84 24 3869 3731");
    assert_int_equal(tu_num(h, "report_interval_s"), 900);
    assert_int_equal(tu_num(h, "version"), 1);
    assert_string_equal(tu_str(h, "at"), "2026-11-22T01:00:00.000Z");
    assert_string_equal(tu_str(h, "updated"), "2026-11-22T01:00:00.020Z");
    assert_string_equal(tu_str(h, "source"), "his-bach-mai");
    assert_int_equal(tu_num(h, "beds.icu_adult.staffed"), 60);
    assert_int_equal(tu_num(h, "beds.icu_adult.occupied"), 63);
    assert_int_equal(tu_num(h, "beds.icu_adult.surge24"), 8);
    assert_int_equal(tu_num(h, "beds.icu_adult.available"), 0);
    assert_int_equal(tu_num(h, "beds.icu_adult.overflow"), 3);
    assert_int_equal(tu_num(h, "beds.medical_surgical.available"), 117);
    /* a bed type never reported: staffed known, the rest null */
    assert_int_equal(tu_num(h, "beds.pediatrics.staffed"), 60);
    assert_true(tu_is_null(h, "beds.pediatrics.occupied"));
    assert_true(tu_is_null(h, "beds.pediatrics.available"));
    assert_true(tu_is_null(h, "beds.pediatrics.overflow"));
    assert_null(tu_get(h, "beds.burn")); /* not a bed type this hospital has */
    assert_string_equal(tu_str(h, "ed.status"), "diversion");
    assert_string_equal(tu_str(h, "ed.reason"), "no ICU beds");
    assert_string_equal(tu_str(h, "ed.until"), "2026-11-22T05:00:00.000Z");
    assert_int_equal(tu_num(h, "ed.waiting"), 12);
    assert_string_equal(tu_str(h, "ed.effective"), "diversion");
    /* (63 + 1053) / (60 + 1170) = 90.7 % over the two types with both figures */
    assert_float_equal(tu_num(h, "occupancy_pct"), 90.7, 1e-9);
    assert_int_equal(tu_num(h, "level"), 3); /* diversion, and a full adult ICU */
    assert_string_equal(tu_str(h, "freshness"), "fresh");
    cJSON_Delete(h);

    /* after the diversion expires and two intervals pass */
    h = hospital_json(st, i, NOW_MS + 5 * 3600000LL);
    assert_string_equal(tu_str(h, "ed.status"), "diversion");
    assert_string_equal(tu_str(h, "ed.effective"), "normal");
    assert_string_equal(tu_str(h, "freshness"), "stale");
    assert_int_equal(tu_num(h, "level"), 3); /* still the full ICU */
    cJSON_Delete(h);
    h = hospital_json(st, i, NOW_MS + 900001);
    assert_string_equal(tu_str(h, "freshness"), "late");
    cJSON_Delete(h);
}

static void test_write_hospital_never_reported(void **state) {
    bp_state_t *st = *state;
    int i = hosp("dong-anh");
    cJSON *h = hospital_json(st, i, NOW_MS);
    assert_int_equal(tu_num(h, "version"), 0);
    assert_true(tu_is_null(h, "at"));
    assert_true(tu_is_null(h, "updated"));
    assert_string_equal(tu_str(h, "source"), "");
    assert_true(tu_is_null(h, "occupancy_pct"));
    assert_int_equal(tu_num(h, "level"), 1);
    assert_string_equal(tu_str(h, "freshness"), "never");
    assert_string_equal(tu_str(h, "sister"), "tim-ha-noi");
    assert_string_equal(tu_str(h, "ed.status"), "normal");
    assert_true(tu_is_null(h, "ed.until"));
    assert_true(tu_is_null(h, "ed.waiting"));
    assert_string_equal(tu_str(h, "ed.effective"), "normal");
    assert_int_equal(tu_num(h, "beds.emergency.staffed"), 25);
    cJSON_Delete(h);
}

/* Hostile but valid text survives the writers as the same string. */
static void test_write_escapes_text(void **state) {
    bp_state_t *st = *state;
    int i = hosp("bach-mai");
    bp_change_t c = feed(BACH_MAI_HEAD ",\"ed\":{\"status\":\"advisory\","
                                       "\"reason\":\"</script><b>\\\"x\\\"\\\\ & \\u2028\"}}");
    bp_state_apply(st, &c);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 20);
    bp_state_write_hospital(&b, st, (size_t)i, NOW_MS);
    assert_null(strstr(bp_buf_data(&b), "</script>"));
    assert_null(strstr(bp_buf_data(&b), "\xe2\x80\xa8"));
    cJSON *h = tu_parse_buf(&b);
    assert_string_equal(tu_str(h, "ed.reason"), "</script><b>\"x\"\\ & \xe2\x80\xa8");
    cJSON_Delete(h);
    bp_buf_free(&b);
}

static void test_write_event_hospital(void **state) {
    (void)state;
    bp_change_t c =
        feed(BACH_MAI_HEAD ",\"beds\":{\"icu_adult\":{\"staffed\":60,\"occupied\":63,"
                           "\"surge24\":8},\"burn\":{\"occupied\":2}},"
                           "\"ed\":{\"status\":\"diversion\",\"reason\":\"no ICU beds\","
                           "\"until\":\"2026-11-22T12:00:00+07:00\",\"waiting\":12}}");
    c.offset = 1251;
    c.version = 42;
    c.updated_ms = NOW_MS + 15;
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_state_write_event(&b, &c);
    cJSON *e = tu_parse_buf(&b);
    assert_int_equal(tu_num(e, "offset"), 1251);
    assert_string_equal(tu_str(e, "kind"), "hospital");
    assert_string_equal(tu_str(e, "id"), "bach-mai");
    assert_int_equal(tu_num(e, "data.version"), 42);
    assert_string_equal(tu_str(e, "data.at"), "2026-11-22T01:00:00.000Z");
    assert_string_equal(tu_str(e, "data.updated"), "2026-11-22T01:00:00.015Z");
    assert_string_equal(tu_str(e, "data.source"), "his-bach-mai");
    assert_int_equal(tu_num(e, "data.beds.icu_adult.staffed"), 60);
    assert_int_equal(tu_num(e, "data.beds.icu_adult.occupied"), 63);
    assert_int_equal(tu_num(e, "data.beds.icu_adult.surge24"), 8);
    assert_int_equal(tu_num(e, "data.beds.icu_adult.available"), 0);
    assert_int_equal(tu_num(e, "data.beds.icu_adult.overflow"), 3);
    assert_int_equal(tu_num(e, "data.beds.burn.occupied"), 2);
    assert_true(tu_is_null(e, "data.beds.burn.staffed"));
    assert_int_equal(cJSON_GetArraySize(tu_get(e, "data.beds")), 2);
    assert_string_equal(tu_str(e, "data.ed.status"), "diversion");
    assert_string_equal(tu_str(e, "data.ed.reason"), "no ICU beds");
    assert_string_equal(tu_str(e, "data.ed.until"), "2026-11-22T05:00:00.000Z");
    assert_int_equal(tu_num(e, "data.ed.waiting"), 12);
    assert_null(tu_get(e, "data.ed.effective"));
    assert_null(tu_get(e, "data.status"));
    cJSON_Delete(e);

    /* a confirmation carries neither beds nor ed */
    c = feed(BACH_MAI_HEAD "}");
    c.offset = 1252;
    c.version = 43;
    bp_buf_reset(&b);
    bp_state_write_event(&b, &c);
    e = tu_parse_buf(&b);
    assert_int_equal(tu_num(e, "offset"), 1252);
    assert_null(tu_get(e, "data.beds"));
    assert_null(tu_get(e, "data.ed"));
    assert_true(tu_is_null(e, "data.updated"));
    cJSON_Delete(e);
    bp_buf_free(&b);
}

static void test_write_event_ambulance(void **state) {
    (void)state;
    bp_change_t c = feed("{\"type\":\"ambulance\",\"source\":\"avl-115\",\"seq\":9001,"
                         "\"at\":\"2026-11-22T08:00:05+07:00\",\"id\":\"115-HK-03\","
                         "\"status\":\"transporting\",\"lat\":21.0285,\"lon\":105.8542,"
                         "\"destination\":null}");
    c.offset = 1253;
    c.version = 7;
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_state_write_event(&b, &c);
    cJSON *e = tu_parse_buf(&b);
    assert_string_equal(tu_str(e, "kind"), "ambulance");
    assert_string_equal(tu_str(e, "id"), "115-HK-03");
    assert_string_equal(tu_str(e, "data.status"), "transporting");
    assert_int_equal(tu_num(e, "data.fms"), 7);
    assert_float_equal(tu_num(e, "data.lat"), 21.0285, 1e-9);
    assert_float_equal(tu_num(e, "data.lon"), 105.8542, 1e-9);
    assert_true(tu_is_null(e, "data.destination")); /* cleared */
    assert_null(tu_get(e, "data.heading"));         /* not in the change */
    assert_null(tu_get(e, "data.incident"));
    assert_null(tu_get(e, "data.beds"));
    assert_string_equal(tu_str(e, "data.at"), "2026-11-22T01:00:05.000Z");
    cJSON_Delete(e);

    /* a wall display sees the status, never where the ambulance is going */
    bp_buf_reset(&b);
    bp_state_write_event_for(&b, &c, (bp_view_t){BP_AF_STATUS, false});
    e = tu_parse_buf(&b);
    assert_string_equal(tu_str(e, "data.status"), "transporting");
    assert_null(tu_get(e, "data.lat"));
    assert_null(tu_get(e, "data.lon"));
    assert_null(tu_get(e, "data.destination"));
    cJSON_Delete(e);
    /* a position report alone is nothing to it but an offset; hospitals-only
     * audiences get that for every ambulance change */
    c.amb_fields = BP_AF_POSITION | BP_AF_SPEED;
    bp_buf_reset(&b);
    bp_state_write_event_for(&b, &c, (bp_view_t){BP_AF_STATUS, false});
    e = tu_parse_buf(&b);
    assert_int_equal(tu_num(e, "offset"), 1253);
    assert_int_equal(cJSON_GetArraySize(e), 1);
    cJSON_Delete(e);
    bp_buf_reset(&b);
    bp_state_write_event_for(&b, &c, (bp_view_t){0, false});
    assert_int_equal(b.len, strlen("{\"offset\":1253}"));
    bp_buf_free(&b);
}

static void test_write_collections(void **state) {
    bp_state_t *st = *state;
    bp_change_t c = feed(BACH_MAI_HEAD ",\"beds\":{\"icu_adult\":{\"occupied\":10}}}");
    bp_state_apply(st, &c);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 24);

    bp_state_write_hospitals(&b, st, NOW_MS);
    cJSON *j = tu_parse_buf(&b);
    assert_true(cJSON_IsArray(j));
    assert_int_equal(cJSON_GetArraySize(j), reg.n_hospitals);
    assert_string_equal(tu_str(j, "0.id"), reg.hospitals[0].id);
    cJSON_Delete(j);

    bp_buf_reset(&b);
    bp_state_write_ambulances(&b, st);
    j = tu_parse_buf(&b);
    assert_int_equal(cJSON_GetArraySize(j), reg.n_units);
    cJSON_Delete(j);

    bp_buf_reset(&b);
    bp_state_write_meta(&b, st);
    j = tu_parse_buf(&b);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "bed_types")), BP_BED__COUNT);
    assert_string_equal(tu_str(j, "bed_types.1"), "icu_adult");
    assert_float_equal(tu_num(j, "pressure.level3_pct"), 95, 0);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "districts")), reg.n_districts);
    assert_string_equal(tu_str(j, "districts.dong-da.en"), "Dong Da");
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "stations")), reg.n_stations);
    cJSON_Delete(j);

    bp_buf_reset(&b);
    bp_state_write_snapshot(&b, st, "9f2c", 1250, NOW_MS, bp_view_all);
    j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "type"), "snapshot");
    assert_string_equal(tu_str(j, "epoch"), "9f2c");
    assert_int_equal(tu_num(j, "offset"), 1250);
    assert_string_equal(tu_str(j, "now"), "2026-11-22T01:00:00.000Z");
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "hospitals")), reg.n_hospitals);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "ambulances")), reg.n_units);
    assert_true(cJSON_IsObject(tu_get(j, "meta")));
    cJSON_Delete(j);
    bp_buf_reset(&b);
    bp_state_write_snapshot(&b, st, "9f2c", 1250, NOW_MS, (bp_view_t){BP_AF_STATUS, false});
    j = tu_parse_buf(&b);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "ambulances")), reg.n_units);
    assert_non_null(tu_get(j, "ambulances.0.status"));
    assert_null(tu_get(j, "ambulances.0.lat"));
    assert_null(tu_get(j, "ambulances.0.incident"));
    cJSON_Delete(j);
    bp_buf_reset(&b);
    bp_state_write_snapshot(&b, st, "9f2c", 1250, NOW_MS, (bp_view_t){0, false});
    j = tu_parse_buf(&b);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "ambulances")), 0);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "hospitals")), reg.n_hospitals);
    cJSON_Delete(j);

    /* a manager's: her hospitals only, in registry order */
    uint64_t only[BP_REGISTRY_MAX / 64] = {0};
    size_t last = reg.n_hospitals - 1;
    only[last / 64] |= (uint64_t)1 << (last % 64);
    only[0] |= 1u << 1;
    bp_buf_reset(&b);
    bp_state_write_snapshot_in(&b, st, "9f2c", 1250, NOW_MS, (bp_view_t){0, false}, only);
    j = tu_parse_buf(&b);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "hospitals")), 2);
    assert_string_equal(tu_str(j, "hospitals.0.id"), reg.hospitals[1].id);
    assert_string_equal(tu_str(j, "hospitals.1.id"), reg.hospitals[last].id);
    assert_true(cJSON_IsObject(tu_get(j, "meta")));
    cJSON_Delete(j);
    uint64_t none[BP_REGISTRY_MAX / 64] = {0};
    bp_buf_reset(&b);
    bp_state_write_hospitals_in(&b, st, NOW_MS, none);
    assert_int_equal(b.len, 2);
    assert_memory_equal(bp_buf_data(&b), "[]", 2);
    bp_buf_free(&b);
}

/* The summary, parsed. */
static cJSON *summary_json(const bp_state_t *st) {
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 20);
    bp_state_write_summary(&b, st, NOW_MS);
    cJSON *j = tu_parse_buf(&b);
    bp_buf_free(&b);
    return j;
}

static void test_write_summary(void **state) {
    bp_state_t *st = *state;
    bp_change_t c = feed(BACH_MAI_HEAD ",\"beds\":{\"icu_adult\":{\"occupied\":75},"
                                       "\"medical_surgical\":{\"occupied\":1000}},"
                                       "\"ed\":{\"status\":\"closed\"}}");
    bp_state_apply(st, &c);
    c = feed(
        "{\"type\":\"ambulance\",\"source\":\"a\",\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\","
        "\"id\":\"115-HK-01\",\"status\":\"on_scene\"}");
    bp_state_apply(st, &c);
    cJSON *j = summary_json(st);
    assert_int_equal(tu_num(j, "city.hospitals"), reg.n_hospitals);
    assert_int_equal(tu_num(j, "city.reporting"), 1);
    assert_int_equal(tu_num(j, "city.staffed"), 75 + 1170);
    assert_int_equal(tu_num(j, "city.occupied"), 1075);
    assert_int_equal(tu_num(j, "bed_types.icu_adult.hospitals"), 1);
    assert_int_equal(tu_num(j, "bed_types.icu_adult.available"), 0);
    assert_int_equal(tu_num(j, "bed_types.burn.hospitals"), 0);
    assert_int_equal(tu_num(j, "tiers.central.reporting"), 1);
    assert_int_equal(tu_num(j, "districts.dong-da.reporting"), 1);
    assert_int_equal(tu_num(j, "levels.4"), 1);
    int levels = 0;
    for (int k = 1; k <= 4; k++) {
        char key[16];
        snprintf(key, sizeof key, "levels.%d", k);
        levels += (int)tu_num(j, key);
    }
    assert_int_equal(levels, reg.n_hospitals);
    assert_int_equal(tu_num(j, "ed.closed"), 1);
    assert_int_equal(tu_num(j, "ed.normal"), reg.n_hospitals - 1);
    assert_int_equal(tu_num(j, "freshness.fresh"), 1);
    assert_int_equal(tu_num(j, "freshness.never"), reg.n_hospitals - 1);
    assert_int_equal(tu_num(j, "ambulances.on_scene"), 1);
    assert_int_equal(tu_num(j, "ambulances.available_station"), reg.n_units - 1);
    cJSON_Delete(j);
}

/* The summary's intensive-care sums: only hospitals that report a pair
 * count, each pair on its own, with how many report it. */
static void test_write_summary_icu(void **state) {
    bp_state_t *st = *state;
    bp_change_t c =
        feed(BACH_MAI_HEAD ",\"beds\":{\"icu_adult\":{\"occupied\":70,"
                           "\"ventilated\":{\"total\":40,\"free\":3},"
                           "\"ecmo\":{\"total\":4,\"free\":1}},"
                           "\"icu_pediatric\":{\"ventilated\":{\"total\":10,\"free\":0}}}}");
    bp_state_apply(st, &c);
    c = feed("{\"type\":\"beds\",\"source\":\"his-viet-duc\",\"seq\":1,"
             "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"viet-duc\","
             "\"beds\":{\"icu_adult\":{\"ventilated\":{\"total\":20,\"free\":5}}}}");
    bp_state_apply(st, &c);
    /* a third reports occupancy only: it counts for the beds, not the pairs */
    c = feed("{\"type\":\"beds\",\"source\":\"his-e\",\"seq\":1,"
             "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"benh-vien-e\","
             "\"beds\":{\"icu_adult\":{\"occupied\":10}}}");
    bp_state_apply(st, &c);
    cJSON *j = summary_json(st);
    /* occupancy from bach-mai and benh-vien-e; ventilated from bach-mai and viet-duc */
    assert_int_equal(tu_num(j, "bed_types.icu_adult.hospitals"), 2);
    static const struct {
        const char *path;
        int want;
    } sums[] = {
        {"icu_adult.ventilated.hospitals", 2},
        {"icu_adult.ventilated.total", 60},
        {"icu_adult.ventilated.free", 8},
        {"icu_adult.ecmo.hospitals", 1},
        {"icu_adult.ecmo.total", 4},
        {"icu_adult.ecmo.free", 1},
        {"icu_pediatric.ventilated.hospitals", 1},
        {"icu_pediatric.ventilated.total", 10},
        {"icu_pediatric.ventilated.free", 0},
        {"icu_pediatric.ecmo.hospitals", 0},
        {"icu_pediatric.ecmo.total", 0},
    };
    for (size_t k = 0; k < sizeof sums / sizeof *sums; k++) {
        char path[64];
        snprintf(path, sizeof path, "bed_types.%s", sums[k].path);
        if (tu_num(j, path) != sums[k].want) fail_msg("%s: %g", path, tu_num(j, path));
    }
    /* only the two ICU types carry the pairs */
    assert_null(tu_get(j, "bed_types.medical_surgical.ventilated"));
    assert_null(tu_get(j, "bed_types.icu_neonatal.ecmo"));
    cJSON_Delete(j);
}

static void test_reset(void **state) {
    bp_state_t *st = *state;
    int i = hosp("bach-mai");
    bp_change_t c = feed(BACH_MAI_HEAD ",\"beds\":{\"icu_adult\":{\"staffed\":1,\"occupied\":1}}}");
    bp_state_apply(st, &c);
    assert_int_equal(bp_state_hospital(st, (size_t)i)->version, 1);
    bp_state_reset(st);
    const bp_hospital_state_t *h = bp_state_hospital(st, (size_t)i);
    assert_int_equal(h->version, 0);
    assert_int_equal(h->at_ms, 0);
    assert_int_equal(h->beds[BP_BED_ICU_ADULT].staffed, 75);
    assert_int_equal(h->beds[BP_BED_ICU_ADULT].occupied, -1);
}

/* -- incidents ------------------------------------------------------------ */

/* A validated incident line for id (at: local time, more: extra members). */
static bp_change_t incident(const char *id, const char *action, const char *at, const char *more) {
    char line[1024];
    snprintf(
        line, sizeof line,
        "{\"type\":\"incident\",\"source\":\"cad-115\",\"seq\":1,\"at\":\"2026-11-22T%s+07:00\","
        "\"id\":\"%s\",\"action\":\"%s\"%s}",
        at, id, action, more);
    return feed(line);
}

#define CREATE_STROKE ",\"priority\":1,\"category\":\"stroke\",\"lat\":21.0,\"lon\":105.84"

static void test_incidents_apply(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 8);
    assert_non_null(st);
    assert_int_equal(bp_state_incident_count(st), 0);
    bp_change_t c = incident("INC-A", "create", "08:00:00",
                             CREATE_STROKE ",\"address\":\"Ph\xe1\xbb\x91 Hu\xe1\xba\xbf\"");
    assert_int_equal(bp_state_apply(st, &c), 0);
    const bp_incident_state_t *a = bp_state_incident(st, 0);
    assert_string_equal(a->id, "INC-A");
    assert_int_equal(a->version, 1);
    assert_int_equal(a->opened_ms, NOW_MS);
    assert_int_equal(a->priority, 1);
    assert_int_equal(a->category, BP_CAT_STROKE);
    assert_string_equal(a->source, "cad-115");
    /* an update changes what it carries, the rest stays */
    c = incident("INC-A", "update", "08:01:00", ",\"priority\":2,\"unit\":\"115-HK-03\"");
    assert_int_equal(bp_state_apply(st, &c), 0);
    a = bp_state_incident(st, 0);
    assert_int_equal(a->version, 2);
    assert_int_equal(a->priority, 2);
    assert_int_equal(a->category, BP_CAT_STROKE);
    assert_string_equal(a->unit, "115-HK-03");
    assert_string_equal(a->address, "Ph\xe1\xbb\x91 Hu\xe1\xba\xbf");
    assert_int_equal(a->at_ms, NOW_MS + 60000);
    assert_int_equal(a->opened_ms, NOW_MS);
    /* listed by when they were opened: B (07:59) before A, C after */
    c = incident("INC-C", "create", "08:02:00", CREATE_STROKE);
    assert_int_equal(bp_state_apply(st, &c), 1);
    c = incident("INC-B", "create", "07:59:00", CREATE_STROKE);
    assert_int_equal(bp_state_apply(st, &c), 0);
    assert_int_equal(bp_state_incident_count(st), 3);
    assert_string_equal(bp_state_incident(st, 0)->id, "INC-B");
    assert_string_equal(bp_state_incident(st, 1)->id, "INC-A");
    assert_string_equal(bp_state_incident(st, 2)->id, "INC-C");
    assert_int_equal(bp_state_incident_find(st, "INC-C"), 2);
    assert_int_equal(bp_state_incident_find(st, "INC-Z"), -1);
    assert_null(bp_state_incident(st, 3));
    /* a close takes it out */
    c = incident("INC-A", "close", "08:03:00", ",\"destination\":\"bach-mai\"");
    assert_int_equal(bp_state_apply(st, &c), 1);
    assert_int_equal(bp_state_incident_count(st), 2);
    assert_int_equal(bp_state_incident_find(st, "INC-A"), -1);
    /* an update or close of one not held changes nothing */
    c = incident("INC-A", "update", "08:04:00", ",\"priority\":3");
    assert_int_equal(bp_state_apply(st, &c), -1);
    c = incident("INC-Q", "close", "08:04:00", "");
    assert_int_equal(bp_state_apply(st, &c), -1);
    assert_int_equal(bp_state_incident_count(st), 2);
    /* a create over one held (a reload, a reopened id) replaces it whole */
    c = incident("INC-C", "create", "08:05:00",
                 ",\"priority\":3,\"category\":\"burn\",\"lat\":21.1,\"lon\":105.9");
    assert_int_equal(bp_state_apply(st, &c), 1);
    const bp_incident_state_t *x = bp_state_incident(st, 1);
    assert_string_equal(x->id, "INC-C");
    assert_int_equal(x->category, BP_CAT_BURN);
    assert_int_equal(x->version, 2);
    assert_int_equal(x->opened_ms, NOW_MS + 5 * 60000);
    /* a change read from the stream carries its version and opened time */
    c = incident("INC-D", "create", "08:04:30", CREATE_STROKE);
    c.version = 9;
    c.inc.opened_ms = NOW_MS - 3600000;
    assert_int_equal(bp_state_apply(st, &c), 0);
    assert_int_equal(bp_state_incident(st, 0)->version, 9);
    assert_int_equal(bp_state_incident(st, 0)->opened_ms, NOW_MS - 3600000);
    /* a reset forgets them */
    bp_state_reset(st);
    assert_int_equal(bp_state_incident_count(st), 0);
    bp_state_destroy(st);
}

/* The table holds at most stream.max_open_incidents; creates beyond it are
 * counted, not kept (the collector refuses them before that). */
static void test_incidents_bound(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 20);
    char id[16];
    for (int i = 0; i < 21; i++) {
        snprintf(id, sizeof id, "I-%02d", i);
        bp_change_t c = incident(id, "create", "08:00:00", CREATE_STROKE);
        assert_int_equal(bp_state_apply(st, &c), i < 20 ? i : -1);
    }
    assert_int_equal(bp_state_incident_count(st), 20);
    assert_int_equal(bp_state_incidents_dropped(st), 1);
    /* a close makes room again */
    bp_change_t c = incident("I-00", "close", "08:01:00", "");
    assert_int_equal(bp_state_apply(st, &c), 0);
    c = incident("I-20", "create", "08:02:00", CREATE_STROKE);
    assert_int_equal(bp_state_apply(st, &c), 19);
    bp_state_destroy(st);
    /* 0 keeps none */
    st = bp_state_create(&reg, NULL, 0);
    c = incident("I-00", "create", "08:00:00", CREATE_STROKE);
    assert_int_equal(bp_state_apply(st, &c), -1);
    assert_int_equal(bp_state_incident_count(st), 0);
    bp_state_destroy(st);
}

/* Dispatchers (the full view) see incidents; wall and hospital audiences
 * never do: no list in their snapshot, an offset marker for each event. */
static void test_incidents_written_per_audience(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 8);
    bp_change_t c = incident("INC-A", "create", "08:00:00",
                             CREATE_STROKE ",\"address\":\"\\\"12\\\" L\xc3\xaa Du\xe1\xba\xa9n\","
                                           "\"received\":\"2026-11-22T07:58:00+07:00\"");
    bp_state_apply(st, &c);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 24);
    bp_state_write_snapshot(&b, st, "e", 7, NOW_MS, bp_view_all);
    cJSON *j = tu_parse_buf(&b);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "incidents")), 1);
    assert_string_equal(tu_str(j, "incidents.0.id"), "INC-A");
    assert_int_equal(tu_num(j, "incidents.0.version"), 1);
    assert_string_equal(tu_str(j, "incidents.0.opened"), "2026-11-22T01:00:00.000Z");
    assert_string_equal(tu_str(j, "incidents.0.received"), "2026-11-22T00:58:00.000Z");
    assert_int_equal(tu_num(j, "incidents.0.priority"), 1);
    assert_string_equal(tu_str(j, "incidents.0.category"), "stroke");
    assert_float_equal(tu_num(j, "incidents.0.lat"), 21.0, 1e-9);
    assert_string_equal(tu_str(j, "incidents.0.address"), "\"12\" L\xc3\xaa Du\xe1\xba\xa9n");
    assert_true(tu_is_null(j, "incidents.0.unit"));
    assert_true(tu_is_null(j, "incidents.0.destination"));
    assert_string_equal(tu_str(j, "incidents.0.source"), "cad-115");
    cJSON_Delete(j);
    const bp_view_t wall = {BP_AF_STATUS, false}, hospitals = {0, false};
    const bp_view_t others[] = {wall, hospitals};
    for (size_t k = 0; k < 2; k++) {
        bp_buf_reset(&b);
        bp_state_write_snapshot(&b, st, "e", 7, NOW_MS, others[k]);
        j = tu_parse_buf(&b);
        assert_null(tu_get(j, "incidents"));
        assert_null(strstr(bp_buf_data(&b), "INC-A"));
        cJSON_Delete(j);
    }
    bp_buf_reset(&b);
    bp_state_write_incidents(&b, st);
    j = tu_parse_buf(&b);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);

    /* events: the action and what changed, for the full view only */
    c = incident("INC-A", "update", "08:01:00", ",\"unit\":\"115-HK-03\",\"address\":null");
    c.offset = 8;
    c.version = 2;
    bp_buf_reset(&b);
    bp_state_write_event_for(&b, &c, bp_view_all);
    j = tu_parse_buf(&b);
    assert_int_equal(tu_num(j, "offset"), 8);
    assert_string_equal(tu_str(j, "kind"), "incident");
    assert_string_equal(tu_str(j, "id"), "INC-A");
    assert_string_equal(tu_str(j, "data.action"), "update");
    assert_int_equal(tu_num(j, "data.version"), 2);
    assert_string_equal(tu_str(j, "data.unit"), "115-HK-03");
    assert_true(tu_is_null(j, "data.address"));
    assert_null(tu_get(j, "data.priority"));
    assert_null(tu_get(j, "data.lat"));
    cJSON_Delete(j);
    for (size_t k = 0; k < 2; k++) {
        bp_buf_reset(&b);
        bp_state_write_event_for(&b, &c, others[k]);
        assert_int_equal(b.len, strlen("{\"offset\":8}"));
        assert_memory_equal(bp_buf_data(&b), "{\"offset\":8}", b.len);
    }
    c = incident("INC-A", "close", "08:02:00", ",\"destination\":\"bach-mai\"");
    c.offset = 9;
    bp_buf_reset(&b);
    bp_state_write_event(&b, &c);
    j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "data.action"), "close");
    assert_string_equal(tu_str(j, "data.destination"), "bach-mai");
    cJSON_Delete(j);
    bp_buf_free(&b);
    bp_state_destroy(st);
}

/* A writer into a buffer too small for it fails without overrunning. */
static void test_writer_cap(void **state) {
    bp_state_t *st = *state;
    bp_buf_t b;
    bp_buf_init(&b, 16, 4096);
    bp_state_write_snapshot(&b, st, "e", 1, NOW_MS, bp_view_all);
    assert_true(b.failed);
    assert_true(b.len <= 4096);
    bp_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_baseline, setup, teardown),
        cmocka_unit_test(test_custom_pressure),
        cmocka_unit_test_setup_teardown(test_apply_partial_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_unknown_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_ambulance_and_stream_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_hospital_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_hospital_never_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_escapes_text, setup, teardown),
        cmocka_unit_test(test_write_event_hospital),
        cmocka_unit_test(test_write_event_ambulance),
        cmocka_unit_test_setup_teardown(test_write_collections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_summary_icu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test(test_incidents_apply),
        cmocka_unit_test(test_incidents_bound),
        cmocka_unit_test(test_incidents_written_per_audience),
        cmocka_unit_test_setup_teardown(test_writer_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
