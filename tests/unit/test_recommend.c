/*
 * Tests for bp_recommend: the destination ranking on a small made-up city
 * where every distance is known, so each rule can be seen to change the
 * order: inbound load, diversions, specialties, tier fit, the sister
 * hospital, data age, travel time bands, stable ties, services (a needed
 * one unavailable diverts, limited costs), ICU places (none free costs,
 * unknown costs half); and the reasons say the numbers the ranking used.
 */
#include "test_util.h"

#include "bp_recommend.h"
#include "bp_state.h"

#include <math.h>

/* 2026-11-23T03:00:00Z = 10:00 in Hanoi: the daytime band (24 km/h). */
#define DAY_MS 1795402800000LL

/* Hospitals on one meridian, 0.01° of latitude (1.11 km) apart, south to
 * north; the patient is at 21.000. */
static const char *const CITY =
    "{\"districts\":{\"d1\":{\"vi\":\"Một\",\"en\":\"One\"}},\"hospitals\":["
    "{\"id\":\"central-a\",\"name\":{\"vi\":\"A\",\"en\":\"A\"},\"tier\":\"central\",\"district\":"
    "\"d1\","
    " \"lat\":21.010,\"lon\":105.85,\"specialties\":[\"stroke\",\"trauma\"],\"sister\":null,"
    "\"services\":[\"ct\",\"stroke_unit\",\"trauma\"],"
    "\"phone\":\"\","
    " \"report_interval_s\":900,\"beds\":{\"icu_adult\":{\"staffed\":10,\"surge24\":0},\"medical_"
    "surgical\":{\"staffed\":100,\"surge24\":0}}},"
    "{\"id\":\"district-b\",\"name\":{\"vi\":\"B\",\"en\":\"B\"},\"tier\":\"district\","
    "\"district\":\"d1\","
    " \"lat\":21.020,\"lon\":105.85,\"specialties\":[\"internal_medicine\"],\"sister\":\"city-c\","
    "\"phone\":\"\","
    " \"report_interval_s\":900,\"beds\":{\"icu_adult\":{\"staffed\":4,\"surge24\":0},\"medical_"
    "surgical\":{\"staffed\":50,\"surge24\":0}}},"
    "{\"id\":\"city-c\",\"name\":{\"vi\":\"C\",\"en\":\"C\"},\"tier\":\"city\",\"district\":\"d1\","
    " \"lat\":21.040,\"lon\":105.85,\"specialties\":[\"stroke\"],\"sister\":null,\"phone\":\"\","
    "\"services\":[\"ct\",\"stroke_unit\"],"
    " \"report_interval_s\":900,\"beds\":{\"icu_adult\":{\"staffed\":6,\"surge24\":0},\"medical_"
    "surgical\":{\"staffed\":80,\"surge24\":0}}},"
    "{\"id\":\"city-d\",\"name\":{\"vi\":\"D\",\"en\":\"D\"},\"tier\":\"city\",\"district\":\"d1\","
    " \"lat\":21.040,\"lon\":105.85,\"specialties\":[\"internal_medicine\"],\"sister\":null,"
    "\"phone\":\"\","
    " \"report_interval_s\":900,\"beds\":{\"icu_adult\":{\"staffed\":6,\"surge24\":0},\"medical_"
    "surgical\":{\"staffed\":80,\"surge24\":0}}},"
    "{\"id\":\"maternity-e\",\"name\":{\"vi\":\"E\",\"en\":\"E\"},\"tier\":\"city\",\"district\":"
    "\"d1\","
    " \"lat\":21.001,\"lon\":105.85,\"specialties\":[\"obstetrics\"],\"sister\":null,\"phone\":"
    "\"\","
    " \"report_interval_s\":900,\"beds\":{\"obstetrics\":{\"staffed\":40,\"surge24\":0}}}"
    "]}";

enum { A, B, C, D, E };

static bp_registry_t reg;
static bp_dispatch_cfg_t cfg;

static int setup_group(void **state) {
    (void)state;
    bp_error_t err;
    memset(&reg, 0, sizeof reg);
    if (bp_codec_parse_hospitals(CITY, strlen(CITY), &reg, &err))
        fail_msg("%s at %s: %s", err.code, err.field, err.message);
    const char *fleet = "{\"stations\":[],\"ambulances\":[]}";
    if (bp_codec_parse_fleet(fleet, strlen(fleet), &reg, &err))
        fail_msg("%s at %s: %s", err.code, err.field, err.message);
    assert_int_equal(reg.n_hospitals, 5);
    assert_int_equal(bp_registry_hospital(&reg, "city-c", 6), C);
    bp_dispatch_defaults(&cfg);
    return 0;
}

static int teardown_group(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static int setup(void **state) {
    *state = bp_state_create(&reg, NULL, 0);
    assert_non_null(*state);
    return 0;
}

static int teardown(void **state) {
    bp_state_destroy(*state);
    return 0;
}

/* A change of hospital h from the test source at at_ms. */
static void begin(bp_change_t *c, int h, int64_t at_ms) {
    bp_change_init(c, BP_KIND_HOSPITAL);
    snprintf(c->id, sizeof c->id, "%s", reg.hospitals[h].id);
    snprintf(c->source, sizeof c->source, "test");
    c->at_ms = at_ms;
}

/* A fresh report: adult ICU and ward occupancy of hospital h. */
static void report(bp_state_t *st, int h, int icu_occupied, int ward_occupied) {
    bp_change_t c;
    begin(&c, h, DAY_MS - 60000);
    if (icu_occupied >= 0) {
        c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_OCCUPIED;
        c.beds[BP_BED_ICU_ADULT].occupied = icu_occupied;
    }
    if (ward_occupied >= 0) {
        c.bed_fields[BP_BED_MEDICAL_SURGICAL] = BP_BF_OCCUPIED;
        c.beds[BP_BED_MEDICAL_SURGICAL].occupied = ward_occupied;
    }
    assert_int_equal(bp_state_apply(st, &c), h);
}

static void ed(bp_state_t *st, int h, bp_ed_status_t status) {
    bp_change_t c;
    begin(&c, h, DAY_MS - 30000);
    c.has_ed = true;
    c.ed.status = status;
    c.ed.waiting = -1;
    snprintf(c.ed.reason, sizeof c.ed.reason, "test");
    assert_int_equal(bp_state_apply(st, &c), h);
}

/* Service k of hospital h reported as status, with a reason and an expiry
 * (0: none). */
static void svc(bp_state_t *st, int h, bp_service_t k, bp_svc_status_t status, int64_t until_ms) {
    bp_change_t c;
    begin(&c, h, DAY_MS - 20000);
    c.svc_fields = 1u << k;
    c.svc[k].status = status;
    c.svc[k].until_ms = until_ms;
    snprintf(c.svc[k].reason, sizeof c.svc[k].reason, "%s", "scanner broken");
    assert_int_equal(bp_state_apply(st, &c), h);
}

/* The intensive-care detail of hospital h's adult ICU: ventilated places
 * (vent_total < 0: not reported) and ECMO places (ecmo_total < 0: not). */
static void icu(bp_state_t *st, int h, int vent_total, int vent_free, int ecmo_total,
                int ecmo_free) {
    bp_change_t c;
    begin(&c, h, DAY_MS - 10000);
    if (vent_total >= 0) {
        c.bed_fields[BP_BED_ICU_ADULT] |= BP_BF_VENTILATED;
        c.icu[BP_BED_ICU_ADULT].ventilated = (bp_places_t){vent_total, vent_free};
    }
    if (ecmo_total >= 0) {
        c.bed_fields[BP_BED_ICU_ADULT] |= BP_BF_ECMO;
        c.icu[BP_BED_ICU_ADULT].ecmo = (bp_places_t){ecmo_total, ecmo_free};
    }
    assert_int_equal(bp_state_apply(st, &c), h);
}

static bp_rec_query_t query(bp_category_t cat, int priority, const int *inbound) {
    bp_rec_query_t q = {
        .lat = 21.000, .lon = 105.85, .priority = priority, .now_ms = DAY_MS, .inbound = inbound};
    q.need = cfg.needs[cat];
    return q;
}

static size_t rank(bp_state_t *st, const bp_rec_query_t *q, bp_candidate_t *out) {
    return bp_recommend(st, &cfg, q, out, 10);
}

static void all_fresh(bp_state_t *st, int icu_free_each) {
    for (int h = A; h <= D; h++)
        report(st, h, reg.hospitals[h].staffed[BP_BED_ICU_ADULT] - icu_free_each,
               reg.hospitals[h].staffed[BP_BED_MEDICAL_SURGICAL] - 10);
}

static void test_travel_time(void **state) {
    (void)state;
    double km = bp_distance_km(21.0, 105.85, 21.01, 105.85);
    assert_true(km > 1.10 && km < 1.12);
    /* daytime: 24 km/h; road 1.4 × straight line */
    assert_true(fabs(bp_travel_min(&cfg, 10, DAY_MS) - 10 * 1.4 / 24 * 60) < 1e-9);
    /* 02:00 in Hanoi (19:00Z the day before): 35 km/h; 17:00 rush: 16 km/h */
    assert_true(fabs(bp_travel_min(&cfg, 10, DAY_MS - 8 * 3600000LL) - 10 * 1.4 / 35 * 60) < 1e-9);
    assert_true(fabs(bp_travel_min(&cfg, 10, DAY_MS + 7 * 3600000LL) - 10 * 1.4 / 16 * 60) < 1e-9);
}

/* The bands change at Hanoi minutes, whatever the UTC date (issue 9): the
 * last millisecond before a band and its first one. */
static void test_travel_time_band_edges(void **state) {
    (void)state;
    const int64_t h = 3600000LL, m = 60000LL;
    int64_t midnight = DAY_MS - 10 * h; /* 00:00 in Hanoi = 17:00Z the day before */
    struct {
        int64_t at;
        double kmh;
    } at[] = {
        {midnight - 1, 35},                  /* 23:59:59.999: night */
        {midnight, 35},                      /* 00:00: night, across the day */
        {midnight + 6 * h + 30 * m - 1, 35}, /* 06:29:59.999 (23:29Z) */
        {midnight + 6 * h + 30 * m, 18},     /* 06:30: the morning rush */
        {midnight + 9 * h - 1, 18},
        {midnight + 9 * h, 24},
        {midnight + 16 * h + 30 * m - 1, 24},
        {midnight + 16 * h + 30 * m, 16}, /* 16:30 (09:30Z): the evening rush */
        {midnight + 19 * h - 1, 16},
        {midnight + 19 * h, 26},
        {midnight + 22 * h - 1, 26},
        {midnight + 22 * h, 35},
        {midnight + 24 * h - 1, 35}, /* 23:59:59.999 (16:59:59.999Z) */
        {midnight + 24 * h + 6 * h + 30 * m, 18},
    };
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        double want = 10 * 1.4 / at[i].kmh * 60;
        if (fabs(bp_travel_min(&cfg, 10, at[i].at) - want) > 1e-9)
            fail_msg("edge %zu: %.4f min, want %.4f", i, bp_travel_min(&cfg, 10, at[i].at), want);
    }
}

static void test_nearest_first_and_stable_ties(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    bp_candidate_t c[10];
    /* priority 1, no specialty needed: travel time decides; C and D are at
     * the same place with the same figures: registry order (with the sister
     * bonus off: C is the sister of the nearest district hospital) */
    bp_rec_query_t q = query(BP_CAT_OTHER, 1, NULL);
    cfg.sister_bonus_min = 0;
    size_t n = rank(st, &q, c);
    cfg.sister_bonus_min = 5;
    assert_int_equal(n, 4); /* E has no ward: it cannot take this patient */
    assert_int_equal(c[0].hospital, A);
    assert_int_equal(c[1].hospital, B);
    assert_int_equal(c[2].hospital, C);
    assert_int_equal(c[3].hospital, D);
    assert_true(c[0].eta_min < c[1].eta_min);
    assert_true(c[2].score == c[3].score);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(c[i].bed_type, BP_BED_MEDICAL_SURGICAL);
}

static void test_inbound_load_changes_the_order(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 1);      /* one adult ICU bed free everywhere; no surge */
    report(st, A, 9, 100); /* A's ward is full: its one ICU bed is all it has */
    int inbound[5] = {0};
    bp_candidate_t c[10];
    bp_rec_query_t q = query(BP_CAT_STROKE, 1, inbound);
    assert_true(rank(st, &q, c) >= 2);
    assert_int_equal(c[0].hospital, A);
    assert_int_equal(c[0].free, 1 + reg.hospitals[A].surge24[BP_BED_ICU_ADULT]);
    /* an ambulance already on its way to A takes its bed (and its surge) */
    inbound[A] = 1 + reg.hospitals[A].surge24[BP_BED_ICU_ADULT];
    assert_true(rank(st, &q, c) >= 2);
    assert_int_not_equal(c[0].hospital, A);
    assert_int_equal(c[0].hospital, C); /* the next stroke unit */
    for (size_t i = 0; i < 4; i++) {
        if (c[i].hospital != A) continue;
        assert_int_equal(c[i].free, 0);
        assert_int_equal(c[i].inbound, inbound[A]);
    }
}

static bool ranked(const bp_candidate_t *c, size_t n, int h) {
    for (size_t i = 0; i < n; i++)
        if (c[i].hospital == h) return true;
    return false;
}

static void test_service_unavailable_diverts(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    bp_candidate_t c[10];
    bp_rec_query_t q = query(BP_CAT_STROKE, 1, NULL);
    assert_int_equal(q.need.services, (1u << BP_SVC_CT) | (1u << BP_SVC_STROKE_UNIT));
    size_t n = rank(st, &q, c);
    assert_int_equal(n, 4);
    assert_int_equal(c[0].hospital, A);
    assert_int_equal(c[0].svc_out, 0);
    /* A's CT down: A leaves (B, C, D are open and near) */
    svc(st, A, BP_SVC_CT, BP_SVS_UNAVAILABLE, 0);
    n = rank(st, &q, c);
    assert_int_equal(n, 3);
    assert_false(ranked(c, n, A));
    /* a service the category does not need changes nothing: "other" keeps A */
    bp_rec_query_t other = query(BP_CAT_OTHER, 1, NULL);
    n = rank(st, &other, c);
    assert_true(ranked(c, n, A));
    /* nothing else near (B, C, D closed): A comes back, marked, with why */
    ed(st, B, BP_ED_CLOSED);
    ed(st, C, BP_ED_CLOSED);
    ed(st, D, BP_ED_CLOSED);
    n = rank(st, &q, c);
    assert_int_equal(n, 4);
    assert_int_equal(c[0].hospital, A);
    assert_true(c[0].diverted);
    assert_int_equal(c[0].svc_out, 1u << BP_SVC_CT);
    assert_string_equal(c[0].svc_reason, "scanner broken");
    char en[400], vi[400];
    bp_candidate_reason(&c[0], &reg, &q.need, "en", en, sizeof en);
    bp_candidate_reason(&c[0], &reg, &q.need, "vi", vi, sizeof vi);
    assert_non_null(strstr(en, " · CT unavailable (scanner broken) · nothing else is near"));
    assert_non_null(
        strstr(vi, " · CT ngừng hoạt động (scanner broken) · không còn nơi nào gần hơn"));
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_candidate_write(&b, &c[0], &reg, &q.need, 1);
    cJSON *j = tu_parse_buf(&b);
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "services_out")), 1);
    assert_string_equal(cJSON_GetArrayItem(tu_get(j, "services_out"), 0)->valuestring, "ct");
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "services_limited")), 0);
    assert_true(cJSON_IsTrue(tu_get(j, "diverted")));
    cJSON_Delete(j);
    bp_buf_free(&b);
}

/* An evacuating or closed facility never ranks, even when everything else
 * is diverted (where a diverted ED would come back); compromised stays. */
static void test_facility_out_even_alone(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    ed(st, B, BP_ED_CLOSED);
    ed(st, C, BP_ED_DIVERSION);
    ed(st, D, BP_ED_DIVERSION);
    bp_candidate_t c[10];
    bp_rec_query_t q = query(BP_CAT_OTHER, 1, NULL);
    for (int status = BP_FAC_NORMAL; status < BP_FAC__COUNT; status++) {
        bp_change_t ch;
        bp_change_init(&ch, BP_KIND_HOSPITAL);
        snprintf(ch.id, sizeof ch.id, "%s", reg.hospitals[A].id);
        snprintf(ch.source, sizeof ch.source, "test");
        ch.at_ms = DAY_MS - 10000;
        ch.has_fac = true;
        ch.fac.status = (bp_fac_status_t)status;
        assert_int_equal(bp_state_apply(st, &ch), A);
        size_t n = rank(st, &q, c);
        bool out = status == BP_FAC_EVACUATING || status == BP_FAC_CLOSED;
        assert_int_equal(ranked(c, n, A), !out);
        /* the diverted others: listed, as nothing open is near */
        assert_int_equal(n, out ? 3 : 1);
        if (!out) assert_int_equal(c[0].compromised, status == BP_FAC_COMPROMISED);
    }
}

static void test_service_limited_and_expiry(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    bp_candidate_t c[10];
    bp_rec_query_t q = query(BP_CAT_STROKE, 1, NULL);
    size_t n = rank(st, &q, c);
    double before = c[0].score;
    assert_int_equal(c[0].hospital, A);
    /* limited: still ranked, the penalty added, the reason said */
    svc(st, A, BP_SVC_STROKE_UNIT, BP_SVS_LIMITED, 0);
    n = rank(st, &q, c);
    assert_true(ranked(c, n, A));
    for (size_t i = 0; i < n; i++) {
        if (c[i].hospital != A) continue;
        assert_false(c[i].diverted);
        assert_int_equal(c[i].svc_limited, 1u << BP_SVC_STROKE_UNIT);
        assert_true(fabs(c[i].score - (before + cfg.limited_service_penalty_min)) < 1e-9);
        char en[400];
        bp_candidate_reason(&c[i], &reg, &q.need, "en", en, sizeof en);
        assert_non_null(strstr(en, "stroke unit limited (scanner broken)"));
    }
    /* unavailable until a time: out before it, back once it has passed */
    svc(st, A, BP_SVC_STROKE_UNIT, BP_SVS_UNAVAILABLE, DAY_MS + 60000);
    n = rank(st, &q, c);
    assert_false(ranked(c, n, A));
    q.now_ms = DAY_MS + 60000;
    n = rank(st, &q, c);
    assert_true(ranked(c, n, A));
    assert_int_equal(c[0].hospital, A);
    assert_int_equal(c[0].svc_out | c[0].svc_limited, 0);
}

static void test_diversion_drops_out_unless_nothing_else_is_near(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    ed(st, A, BP_ED_DIVERSION);
    bp_candidate_t c[10];
    bp_rec_query_t q = query(BP_CAT_OTHER, 1, NULL);
    size_t n = rank(st, &q, c);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(c[i].hospital, A);
    /* everything else closed or diverted too: A comes back, marked */
    ed(st, B, BP_ED_CLOSED);
    ed(st, C, BP_ED_DIVERSION);
    ed(st, D, BP_ED_DIVERSION);
    n = rank(st, &q, c);
    assert_int_equal(n, 4);
    assert_int_equal(c[0].hospital, A);
    assert_true(c[0].diverted);
    /* one open hospital within diversion_extra_min of A: the diverted stay out */
    ed(st, B, BP_ED_NORMAL);
    n = rank(st, &q, c);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].hospital, B);
    /* ... but one further away than that does not keep them out */
    cfg.diversion_extra_min = 0.5;
    n = rank(st, &q, c);
    cfg.diversion_extra_min = 10;
    assert_int_equal(n, 4);
    assert_int_equal(c[0].hospital, A);
}

static void test_specialty(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    bp_candidate_t c[10];
    /* a cardiac patient: nobody has cardiology, everyone pays the same */
    bp_rec_query_t q = query(BP_CAT_STROKE, 1, NULL);
    rank(st, &q, c);
    assert_int_equal(c[0].hospital, A);
    assert_true(c[0].specialty);
    /* with A on diversion, the stroke unit at C beats the nearer B */
    ed(st, A, BP_ED_DIVERSION);
    rank(st, &q, c);
    assert_int_equal(c[0].hospital, C);
    assert_true(c[0].specialty);
    assert_int_equal(c[1].hospital, B);
    assert_false(c[1].specialty);
    assert_true(c[1].eta_min < c[0].eta_min);
    /* obstetrics: only E has the bed type at all */
    q = query(BP_CAT_OBSTETRIC, 1, NULL);
    assert_int_equal(rank(st, &q, c), 1);
    assert_int_equal(c[0].hospital, E);
    assert_false(c[0].known); /* never reported */
}

static void test_tier_fit_and_sister(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    bp_candidate_t c[10];
    /* priority 1: the nearest (central) hospital */
    bp_rec_query_t q = query(BP_CAT_OTHER, 1, NULL);
    rank(st, &q, c);
    assert_int_equal(c[0].hospital, A);
    assert_false(c[0].central_penalty);
    /* priority 3: steered away from the central hospital, to the district
     * hospital; C, the sister of the nearest district hospital B, before D */
    q = query(BP_CAT_OTHER, 3, NULL);
    size_t n = rank(st, &q, c);
    assert_int_equal(n, 4);
    assert_int_equal(c[0].hospital, B);
    assert_int_equal(c[1].hospital, C);
    assert_true(c[1].sister);
    assert_int_equal(c[2].hospital, D);
    assert_false(c[2].sister);
    assert_int_equal(c[3].hospital, A);
    assert_true(c[3].central_penalty);
}

static void test_no_capacity_and_stale(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    bp_candidate_t c[10];
    bp_rec_query_t q = query(BP_CAT_OTHER, 1, NULL);
    /* A's ward over 100 %: the nearest hospital with room wins */
    report(st, A, -1, 150);
    rank(st, &q, c);
    assert_int_equal(c[0].hospital, B);
    for (int i = 0; i < 4; i++)
        if (c[i].hospital == A) assert_true(c[i].known && c[i].free <= 0);
    /* B's report goes stale (the others report again): C overtakes it */
    bp_rec_query_t later = q;
    later.now_ms = DAY_MS + 3 * 900 * 1000LL;
    for (int h = A; h <= D; h++) {
        if (h == B) continue;
        bp_change_t ch;
        bp_change_init(&ch, BP_KIND_HOSPITAL);
        snprintf(ch.id, sizeof ch.id, "%s", reg.hospitals[h].id);
        snprintf(ch.source, sizeof ch.source, "test");
        ch.at_ms = later.now_ms - 1000;
        assert_int_equal(bp_state_apply(st, &ch), h);
    }
    rank(st, &later, c);
    assert_int_equal(c[0].hospital, C);
    for (int i = 0; i < 4; i++)
        if (c[i].hospital == B) assert_int_equal(c[i].freshness, BP_STALE);
}

static void test_reasons_say_the_numbers(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    int inbound[5] = {1, 0, 0, 0, 0};
    bp_candidate_t c[10];
    bp_rec_query_t q = query(BP_CAT_STROKE, 2, inbound);
    rank(st, &q, c);
    char en[256], vi[256], want[128];
    const bp_candidate_t *a = NULL;
    for (int i = 0; i < 4; i++)
        if (c[i].hospital == A) a = &c[i];
    assert_non_null(a);
    bp_candidate_reason(a, &reg, &q.need, "en", en, sizeof en);
    bp_candidate_reason(a, &reg, &q.need, "vi", vi, sizeof vi);
    int free = 3 + reg.hospitals[A].surge24[BP_BED_ICU_ADULT] - 1;
    snprintf(want, sizeof want, "%.0f min · %d adult ICU free, 1 inbound · stroke unit",
             ceil(bp_eta_shown(a->eta_min)), free);
    assert_memory_equal(en, want, strlen(want));
    assert_non_null(strstr(en, "central: kept for severe cases"));
    snprintf(want, sizeof want, "%.0f phút · %d HSTC người lớn trống, 1 xe đang đến",
             ceil(bp_eta_shown(a->eta_min)), free);
    assert_memory_equal(vi, want, strlen(want));
    /* a hospital without the specialty says so; a full one says no beds */
    for (int i = 0; i < 4; i++) {
        if (c[i].hospital != B) continue;
        bp_candidate_reason(&c[i], &reg, &q.need, "en", en, sizeof en);
        assert_non_null(strstr(en, "no matching specialty"));
    }
    report(st, C, 6, 80); /* C full: ICU and ward */
    inbound[C] = 5;
    rank(st, &q, c);
    for (int i = 0; i < 4; i++) {
        if (c[i].hospital != C) continue;
        assert_true(c[i].free <= 0);
        bp_candidate_reason(&c[i], &reg, &q.need, "en", en, sizeof en);
        assert_non_null(strstr(en, "no adult ICU free, 5 inbound"));
    }
    /* the text is cut safely */
    char tiny[8];
    size_t need = bp_candidate_reason(&c[0], &reg, &q.need, "en", tiny, sizeof tiny);
    assert_true(need > sizeof tiny);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

static void test_categories(void **state) {
    (void)state;
    for (int i = 0; i < BP_CAT__COUNT; i++) {
        const char *n = bp_category_name((bp_category_t)i);
        assert_int_equal(bp_category_parse(n, strlen(n)), i);
        assert_true(cfg.needs[i].n_beds >= 1);
    }
    assert_int_equal(bp_category_parse("Stroke", 6), -1);
    assert_null(bp_category_name(BP_CAT__COUNT));
    /* the table: a stroke needs a stroke unit or neurosurgery, adult ICU first */
    assert_int_equal(cfg.needs[BP_CAT_STROKE].beds[0], BP_BED_ICU_ADULT);
    assert_true(cfg.needs[BP_CAT_STROKE].specialties & (1u << BP_SPEC_STROKE));
    assert_int_equal(cfg.needs[BP_CAT_OTHER].specialties, 0);
}

/* config/dispatch.json says what the defaults say; bad tables are refused
 * naming the field. */
static void test_dispatch_file(void **state) {
    (void)state;
    size_t len;
    char *json = tu_read_file("config/dispatch.json", &len);
    bp_dispatch_cfg_t d, def;
    bp_dispatch_defaults(&d);
    bp_dispatch_defaults(&def);
    bp_error_t err;
    if (bp_codec_parse_dispatch(json, len, &d, &err)) fail_msg("%s: %s", err.field, err.message);
    free(json);
    assert_memory_equal(&d, &def, sizeof d);
    /* a change takes effect */
    const char *ok =
        "{\"detour_factor\":2,\"categories\":{\"burn\":{\"beds\":[\"burn\"],\"specialties\":[]}}}";
    assert_int_equal(bp_codec_parse_dispatch(ok, strlen(ok), &d, &err), 0);
    assert_true(d.detour_factor == 2);
    assert_int_equal(d.needs[BP_CAT_BURN].n_beds, 1);
    assert_int_equal(d.needs[BP_CAT_BURN].specialties, 0);
    assert_int_equal(d.alerts.full_within_h, 6); /* the default */
    const char *full = "{\"alerts\":{\"full_within_h\":24}}";
    assert_int_equal(bp_codec_parse_dispatch(full, strlen(full), &d, &err), 0);
    assert_int_equal(d.alerts.full_within_h, 24);
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"detour\":1}", "detour"},
        {"{\"detour_factor\":0.5}", "detour_factor"},
        {"{\"speed_bands\":[{\"from\":\"01:00\",\"kmh\":30}]}", "speed_bands[0]"},
        {"{\"speed_bands\":[{\"from\":\"00:00\",\"kmh\":30},{\"from\":\"00:00\",\"kmh\":20}]}",
         "speed_bands[1]"},
        {"{\"speed_bands\":[{\"from\":\"00:00\",\"kmh\":0}]}", "speed_bands[0].kmh"},
        {"{\"categories\":{\"flu\":{\"beds\":[\"icu_adult\"],\"specialties\":[]}}}",
         "categories.flu"},
        {"{\"categories\":{\"stroke\":{\"beds\":[\"spa\"],\"specialties\":[]}}}",
         "categories.stroke.beds"},
        {"{\"categories\":{\"stroke\":{\"beds\":[],\"specialties\":[]}}}",
         "categories.stroke.beds"},
        {"{\"categories\":{\"stroke\":{\"beds\":[\"icu_adult\"],\"specialties\":[\"magic\"]}}}",
         "categories.stroke.specialties"},
        {"{\"penalties_min\":{\"central_by_priority\":[1,2]}}",
         "penalties_min.central_by_priority"},
        {"{\"penalties_min\":{\"bribes\":1}}", "penalties_min.bribes"},
        {"{\"alerts\":{\"level4\":1}}", "alerts.level4"},
        {"{\"alerts\":{\"handover_over_min\":-1}}", "alerts.handover_over_min"},
        {"{\"alerts\":{\"sirens\":true}}", "alerts.sirens"},
        {"{\"alerts\":{\"full_within_h\":25}}", "alerts.full_within_h"},
        {"{\"alerts\":{\"full_within_h\":-1}}", "alerts.full_within_h"},
        {"{\"categories\":{\"burn\":{\"beds\":[\"burn\"],\"specialties\":[],"
         "\"needs\":[\"ecmo\",\"ecmo\"]}}}",
         "categories.burn.needs"},
        {"{\"categories\":{\"burn\":{\"beds\":[\"burn\"],\"specialties\":[],\"needs\":\"ecmo\"}}}",
         "categories.burn.needs"},
        {"{\"penalties_min\":{\"no_icu_place\":-1}}", "penalties_min.no_icu_place"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bp_dispatch_defaults(&d);
        memset(&err, 0, sizeof err);
        if (bp_codec_parse_dispatch(bad[i].json, strlen(bad[i].json), &d, &err) == 0)
            fail_msg("accepted %s", bad[i].json);
        assert_string_equal(err.field, bad[i].field);
        assert_true(strlen(err.message) > 10);
    }
}

/* Inbound load from the live state: ambulances transporting with a
 * destination, nothing else (the real fleet: the test city has none). */
static void test_inbound_from_ambulances(void **state) {
    (void)state;
    bp_registry_t real;
    tu_load_registry(&real);
    bp_state_t *st = bp_state_create(&real, NULL, 0);
    static const struct {
        const char *id;
        bp_amb_status_t status;
        const char *dest;
    } units[] = {{"115-HK-01", BP_AMB_TRANSPORTING, "bach-mai"},
                 {"115-HK-02", BP_AMB_TRANSPORTING, "bach-mai"},
                 {"115-HK-03", BP_AMB_AT_HOSPITAL, "bach-mai"},
                 {"115-HK-04", BP_AMB_TRANSPORTING, ""},
                 {"115-HK-05", BP_AMB_TRANSPORTING, "viet-duc"}};
    for (size_t k = 0; k < sizeof units / sizeof *units; k++) {
        bp_change_t c;
        bp_change_init(&c, BP_KIND_AMBULANCE);
        snprintf(c.id, sizeof c.id, "%s", units[k].id);
        c.amb_fields = BP_AF_STATUS | BP_AF_DESTINATION;
        c.amb.status = units[k].status;
        snprintf(c.amb.destination, sizeof c.amb.destination, "%s", units[k].dest);
        assert_true(bp_state_apply(st, &c) >= 0);
    }
    int *inbound = malloc(real.n_hospitals * sizeof *inbound);
    assert_non_null(inbound);
    memset(inbound, 0x55, real.n_hospitals * sizeof *inbound);
    bp_recommend_inbound(st, inbound);
    int total = 0;
    for (size_t i = 0; i < real.n_hospitals; i++)
        total += inbound[i];
    assert_int_equal(inbound[bp_registry_hospital(&real, "bach-mai", 8)], 2);
    assert_int_equal(inbound[bp_registry_hospital(&real, "viet-duc", 8)], 1);
    assert_int_equal(total, 3);
    free(inbound);
    bp_state_destroy(st);
    bp_registry_free(&real);
}

/* A candidate as clients read it: its numbers and its reasons. */
static void test_candidate_json(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 2);
    int inbound[5] = {[A] = 1};
    bp_candidate_t c[10];
    bp_rec_query_t q = query(BP_CAT_STROKE, 1, inbound);
    assert_true(rank(st, &q, c) >= 1);
    assert_int_equal(c[0].hospital, A);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_candidate_write(&b, &c[0], &reg, &q.need, 1);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "hospital"), "central-a");
    assert_string_equal(tu_str(j, "name.en"), "A");
    assert_string_equal(tu_str(j, "tier"), "central");
    assert_int_equal(tu_num(j, "rank"), 1);
    assert_string_equal(tu_str(j, "bed_type"), "icu_adult");
    assert_int_equal(tu_num(j, "available"), 2);
    assert_int_equal(tu_num(j, "inbound"), 1);
    assert_int_equal(tu_num(j, "free"), c[0].free);
    assert_true(cJSON_IsTrue(tu_get(j, "specialty")));
    assert_string_equal(tu_str(j, "ed"), "normal");
    assert_string_equal(tu_str(j, "freshness"), "fresh");
    char en[320];
    bp_candidate_reason(&c[0], &reg, &q.need, "en", en, sizeof en);
    assert_string_equal(tu_str(j, "reason.en"), en);
    assert_non_null(strstr(tu_str(j, "reason.vi"), "HSTC"));
    cJSON_Delete(j);
    /* the published eta_min and the reason's minutes agree at every edge: a
     * client reading ceil(eta_min) reads the reason's number (a raw 1.04 was
     * once published 1.0 and said "2 min") */
    const double etas[] = {1.04, 1.05, 1.049999, 0.96, 1.0, 1.96, 2.0000001, 12.95, 0.01};
    for (size_t i = 0; i < sizeof etas / sizeof etas[0]; i++) {
        bp_candidate_t x = c[0];
        x.eta_min = etas[i];
        bp_buf_reset(&b);
        bp_candidate_write(&b, &x, &reg, &q.need, 1);
        j = tu_parse_buf(&b);
        char want[32];
        snprintf(want, sizeof want, "%.0f min ", ceil(tu_num(j, "eta_min")));
        assert_memory_equal(tu_str(j, "reason.en"), want, strlen(want));
        cJSON_Delete(j);
    }
    bp_buf_free(&b);
}

/* A patient who needs a ventilator: a hospital whose ICU reports none free
 * falls below those with one, and below those that do not say (unknown:
 * half the penalty, never left out); the reasons say the places. */
static void test_icu_places(void **state) {
    bp_state_t *st = *state;
    all_fresh(st, 3);
    icu(st, A, 4, 0, -1, 0); /* the nearest: no ventilator free */
    icu(st, C, 2, 1, 2, 2);  /* one free, and two ECMO places */
    cfg.sister_bonus_min = 0;
    bp_candidate_t c[10];
    bp_rec_query_t q = query(BP_CAT_OTHER, 1, NULL);
    assert_int_equal(rank(st, &q, c), 4);
    assert_int_equal(c[0].hospital, A); /* without the need: nearest first */
    assert_int_equal(c[0].place_free[BP_PLACE_VENTILATOR], -1);
    q.need.places = 1u << BP_PLACE_VENTILATOR;
    size_t n = rank(st, &q, c);
    cfg.sister_bonus_min = 5;
    assert_int_equal(n, 4); /* nobody left out */
    /* C has room; B and D do not say (B nearer); A has none */
    const int want[4] = {C, B, D, A};
    for (int i = 0; i < 4; i++)
        assert_int_equal(c[i].hospital, want[i]);
    assert_int_equal(c[0].place_free[BP_PLACE_VENTILATOR], 1);
    assert_int_equal(c[1].place_free[BP_PLACE_VENTILATOR], -1);
    assert_int_equal(c[3].place_free[BP_PLACE_VENTILATOR], 0);
    assert_true(fabs(c[3].score - (c[3].eta_min + cfg.no_icu_place_penalty_min)) < 1e-9);
    assert_true(fabs(c[1].score - (c[1].eta_min + cfg.no_icu_place_penalty_min / 2)) < 1e-9);
    char en[256], vi[320];
    static const char *const say[4][2] = {
        {"1 ventilator place free", "1 chỗ thở máy trống"},
        {"ventilator places not reported", "chỗ thở máy: chưa báo cáo"},
        {"ventilator places not reported", "chỗ thở máy: chưa báo cáo"},
        {"no ventilator place free", "hết chỗ thở máy"}};
    for (int i = 0; i < 4; i++) {
        bp_candidate_reason(&c[i], &reg, &q.need, "en", en, sizeof en);
        bp_candidate_reason(&c[i], &reg, &q.need, "vi", vi, sizeof vi);
        if (!strstr(en, say[i][0]) || !strstr(vi, say[i][1])) fail_msg("%s | %s", en, vi);
        /* the reason's minutes stay the published eta's ceiling */
        char head[32];
        snprintf(head, sizeof head, "%.0f min ·", ceil(bp_eta_shown(c[i].eta_min)));
        assert_memory_equal(en, head, strlen(head));
    }
    /* both places: the JSON carries each, null where not reported */
    q.need.places |= 1u << BP_PLACE_ECMO;
    assert_int_equal(rank(st, &q, c), 4);
    assert_int_equal(c[0].hospital, C);
    bp_candidate_reason(&c[0], &reg, &q.need, "en", en, sizeof en);
    assert_non_null(strstr(en, "1 ventilator place free · 2 ECMO places free"));
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_candidate_write(&b, &c[0], &reg, &q.need, 1);
    cJSON *j = tu_parse_buf(&b);
    assert_int_equal(tu_num(j, "places.ventilator"), 1);
    assert_int_equal(tu_num(j, "places.ecmo"), 2);
    cJSON_Delete(j);
    bp_buf_reset(&b);
    bp_candidate_write(&b, &c[3], &reg, &q.need, 4);
    j = tu_parse_buf(&b);
    assert_true(cJSON_IsNull(tu_get(j, "places.ecmo")));
    cJSON_Delete(j);
    /* a need without places: no "places" in the candidate */
    q.need.places = 0;
    rank(st, &q, c);
    bp_buf_reset(&b);
    bp_candidate_write(&b, &c[0], &reg, &q.need, 1);
    j = tu_parse_buf(&b);
    assert_null(tu_get(j, "places"));
    cJSON_Delete(j);
    bp_buf_free(&b);
}

/* A category's needs in config/dispatch.json, and the names. */
static void test_icu_places_config(void **state) {
    (void)state;
    for (int k = 0; k < BP_PLACE__COUNT; k++) {
        const char *n = bp_place_name((bp_place_t)k);
        assert_int_equal(bp_place_parse(n, strlen(n)), k);
    }
    assert_null(bp_place_name(BP_PLACE__COUNT));
    assert_int_equal(bp_place_parse("oxygen", 6), -1);
    bp_dispatch_cfg_t d;
    bp_dispatch_defaults(&d);
    bp_error_t err;
    const char *ok = "{\"penalties_min\":{\"no_icu_place\":45},\"categories\":{\"respiratory\":"
                     "{\"beds\":[\"icu_adult\"],\"specialties\":[],\"needs\":[\"ventilator\"]}}}";
    if (bp_codec_parse_dispatch(ok, strlen(ok), &d, &err))
        fail_msg("%s: %s", err.field, err.message);
    assert_int_equal(d.needs[BP_CAT_RESPIRATORY].places, 1u << BP_PLACE_VENTILATOR);
    assert_true(d.no_icu_place_penalty_min == 45);
    const char *oxygen = "{\"categories\":{\"burn\":{\"beds\":[\"burn\"],\"specialties\":[],"
                         "\"needs\":[\"oxygen\"]}}}";
    assert_int_equal(bp_codec_parse_dispatch(oxygen, strlen(oxygen), &d, &err), -1);
    assert_string_equal(err.field, "categories.burn.needs");
    assert_non_null(strstr(err.message, "unknown ICU place \"oxygen\"; known: ventilator, ecmo"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_travel_time),
        cmocka_unit_test(test_travel_time_band_edges),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_dispatch_file),
        cmocka_unit_test_setup_teardown(test_nearest_first_and_stable_ties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inbound_load_changes_the_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diversion_drops_out_unless_nothing_else_is_near, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_specialty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tier_fit_and_sister, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_capacity_and_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reasons_say_the_numbers, setup, teardown),
        cmocka_unit_test(test_inbound_from_ambulances),
        cmocka_unit_test_setup_teardown(test_candidate_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_unavailable_diverts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_limited_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_facility_out_even_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icu_places, setup, teardown),
        cmocka_unit_test(test_icu_places_config),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
