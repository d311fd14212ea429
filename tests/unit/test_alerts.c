/*
 * Tests for bp_alerts: each rule fires once when its condition starts
 * (a second evaluation changes nothing), keeps its "since", and clears when
 * the condition ends; thresholds come from the configuration; the JSON says
 * it in both languages.
 */
#include "test_util.h"

#include "bp_alerts.h"
#include "bp_state.h"

#define MIN 60000LL
#define T0  1795402800000LL

static bp_registry_t reg;
static bp_alert_cfg_t cfg;

static int setup_group(void **state) {
    (void)state;
    tu_load_registry(&reg);
    bp_alert_defaults(&cfg);
    return 0;
}

static int teardown_group(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

typedef struct {
    bp_state_t *st;
    bp_alerts_t *al;
} fx_t;

static int setup(void **state) {
    fx_t *f = calloc(1, sizeof *f);
    f->st = bp_state_create(&reg, NULL, 100);
    f->al = bp_alerts_create();
    assert_non_null(f->st);
    assert_non_null(f->al);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    bp_state_destroy(f->st);
    bp_alerts_destroy(f->al);
    free(f);
    return 0;
}

static bp_change_t hospital_change(const char *id, int64_t at) {
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.source, sizeof c.source, "test");
    c.at_ms = at;
    return c;
}

static void icu(fx_t *f, const char *id, int staffed, int occupied, int64_t at) {
    bp_change_t c = hospital_change(id, at);
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[BP_BED_ICU_ADULT].staffed = staffed;
    c.beds[BP_BED_ICU_ADULT].occupied = occupied;
    assert_true(bp_state_apply(f->st, &c) >= 0);
}

static size_t update(fx_t *f, int64_t now) {
    return bp_alerts_update(f->al, f->st, NULL, &cfg, now);
}

static bool active(fx_t *f, const char *id) {
    return bp_alerts_find(f->al, id) != NULL;
}

static void test_level4_fires_once_and_clears(void **state) {
    fx_t *f = *state;
    bp_alert_cfg_t saved = cfg;
    cfg.icu_adult_free_below = 0;
    icu(f, "bach-mai", 75, 90, T0); /* 120 % of its adult ICU, the only type known */
    assert_int_equal(update(f, T0 + 1000), 1);
    assert_true(active(f, "level4:bach-mai"));
    assert_int_equal(bp_alerts_get(f->al, 0)->since_ms, T0 + 1000);
    /* again: nothing new, the same since */
    assert_int_equal(update(f, T0 + 2000), 0);
    assert_int_equal(bp_alerts_count(f->al), 1);
    assert_int_equal(bp_alerts_get(f->al, 0)->since_ms, T0 + 1000);
    assert_int_equal(bp_alerts_raised_total(f->al), 1);
    /* relieved: cleared */
    icu(f, "bach-mai", 75, 40, T0 + 3000);
    assert_int_equal(update(f, T0 + 4000), 1);
    assert_int_equal(bp_alerts_count(f->al), 0);
    cfg = saved;
}

static void test_diversion_and_its_expiry(void **state) {
    fx_t *f = *state;
    bp_change_t c = hospital_change("viet-duc", T0);
    c.has_ed = true;
    c.ed.status = BP_ED_DIVERSION;
    c.ed.until_ms = T0 + 20 * MIN;
    c.ed.waiting = -1;
    snprintf(c.ed.reason, sizeof c.ed.reason, "CT down");
    assert_true(bp_state_apply(f->st, &c) >= 0);
    assert_int_equal(update(f, T0 + MIN), 1);
    assert_true(active(f, "diversion:viet-duc"));
    char *text = NULL;
    bp_buf_t b;
    bp_buf_init(&b, 0, 4096);
    bp_alert_write(&b, bp_alerts_find(f->al, "diversion:viet-duc"), f->st);
    cJSON *j = tu_parse_buf(&b);
    text = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "text"), "en")->valuestring;
    assert_string_equal(text, "Viet Duc University Hospital: ED on diversion");
    assert_string_equal(cJSON_GetObjectItem(j, "rule")->valuestring, "diversion");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "incident")));
    cJSON_Delete(j);
    bp_buf_free(&b);
    /* the diversion runs out by itself: the alert clears with no new report */
    assert_int_equal(update(f, T0 + 21 * MIN), 1);
    assert_false(active(f, "diversion:viet-duc"));
}

static void test_stale_feed(void **state) {
    fx_t *f = *state;
    int i = bp_registry_hospital(&reg, "bach-mai", 8);
    int64_t iv = reg.hospitals[i].report_interval_s * 1000LL;
    icu(f, "bach-mai", 75, 40, T0);
    assert_int_equal(update(f, T0 + iv), 0);            /* late, not stale */
    assert_int_equal(update(f, T0 + 2 * iv + 1000), 1); /* stale */
    const bp_alert_t *a = bp_alerts_find(f->al, "stale_feed:bach-mai");
    assert_non_null(a);
    assert_int_equal(a->value, (2 * iv + 1000) / MIN);
    icu(f, "bach-mai", 75, 40, T0 + 2 * iv + 2000); /* reports again */
    assert_int_equal(update(f, T0 + 2 * iv + 3000), 1);
    assert_int_equal(bp_alerts_count(f->al), 0);
}

static void test_city_icu_low(void **state) {
    fx_t *f = *state;
    icu(f, "bach-mai", 75, 60, T0);
    icu(f, "viet-duc", 40, 35, T0); /* 15 + 5 = 20 free: not below 20 */
    assert_int_equal(update(f, T0 + 1000), 0);
    icu(f, "viet-duc", 40, 37, T0 + 2000); /* 18 free */
    assert_int_equal(update(f, T0 + 3000), 1);
    assert_int_equal(bp_alerts_find(f->al, "icu_low:city")->value, 18);
    cfg.icu_adult_free_below = 10; /* a lower threshold: no longer below it */
    assert_int_equal(update(f, T0 + 4000), 1);
    assert_int_equal(bp_alerts_count(f->al), 0);
    bp_alert_defaults(&cfg);
}

static void test_handover(void **state) {
    fx_t *f = *state;
    bp_handover_cfg_t hc = {.window_ms = 180 * MIN, .delayed_ms = 30 * MIN};
    bp_handover_t *ho = bp_handover_create(&reg, &hc);
    bp_handover_on_ambulance(ho, 0, BP_AMB_TRANSPORTING, "bach-mai", T0);
    bp_handover_on_ambulance(ho, 0, BP_AMB_AT_HOSPITAL, NULL, T0 + 10 * MIN);
    assert_int_equal(bp_alerts_update(f->al, f->st, ho, &cfg, T0 + 30 * MIN), 0);
    assert_int_equal(bp_alerts_update(f->al, f->st, ho, &cfg, T0 + 41 * MIN), 1);
    assert_int_equal(bp_alerts_find(f->al, "handover:bach-mai")->value, 31);
    /* handed over after 35 min: the median keeps it for the window */
    bp_handover_on_ambulance(ho, 0, BP_AMB_AVAILABLE_RADIO, NULL, T0 + 45 * MIN);
    assert_int_equal(bp_alerts_update(f->al, f->st, ho, &cfg, T0 + 50 * MIN), 0);
    assert_int_equal(bp_alerts_update(f->al, f->st, ho, &cfg, T0 + 226 * MIN), 1);
    assert_int_equal(bp_alerts_count(f->al), 0);
    bp_handover_destroy(ho);
}

static void incident(fx_t *f, bp_inc_action_t action, const char *unit, int64_t at) {
    bp_change_t c;
    bp_change_init(&c, BP_KIND_INCIDENT);
    snprintf(c.id, sizeof c.id, "INC-7");
    snprintf(c.source, sizeof c.source, "cad");
    c.at_ms = at;
    c.inc_action = action;
    snprintf(c.inc.id, sizeof c.inc.id, "INC-7");
    if (action == BP_INC_CREATE) {
        c.inc_fields = BP_IF_PRIORITY | BP_IF_CATEGORY | BP_IF_POSITION;
        c.inc.priority = 1;
        c.inc.category = BP_CAT_STROKE;
        c.inc.lat = 21.0;
        c.inc.lon = 105.85;
    }
    if (unit) {
        c.inc_fields |= BP_IF_UNIT;
        snprintf(c.inc.unit, sizeof c.inc.unit, "%s", unit);
    }
    assert_true(bp_state_apply(f->st, &c) >= 0);
}

static void test_incident_without_unit(void **state) {
    fx_t *f = *state;
    incident(f, BP_INC_CREATE, NULL, T0);
    assert_int_equal(update(f, T0 + 4 * MIN), 0);
    assert_int_equal(update(f, T0 + 5 * MIN), 1);
    const bp_alert_t *a = bp_alerts_find(f->al, "unassigned:INC-7");
    assert_non_null(a);
    bp_buf_t b;
    bp_buf_init(&b, 0, 4096);
    bp_alert_write(&b, a, f->st);
    cJSON *j = tu_parse_buf(&b);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "incident")));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "text"), "vi")->valuestring,
                        "Sự cố INC-7 chưa có xe sau 5 phút");
    cJSON_Delete(j);
    bp_buf_free(&b);
    /* a unit is assigned: cleared */
    incident(f, BP_INC_UPDATE, "115-HK-01", T0 + 6 * MIN);
    assert_int_equal(update(f, T0 + 7 * MIN), 1);
    assert_int_equal(bp_alerts_count(f->al), 0);
    /* rules can be switched off */
    cfg.incident_unassigned_min = 0;
    incident(f, BP_INC_UPDATE, "", T0 + 8 * MIN);
    assert_int_equal(update(f, T0 + 30 * MIN), 0);
    bp_alert_defaults(&cfg);
}

/* "Expected full within N hours" (issue 15): from the outlook's verdict per
 * hospital; fires for the hospitals within N, not beyond, clears when the
 * outlook no longer says so, and is off at 0. */
static void test_full_soon(void **state) {
    fx_t *f = *state;
    uint8_t soon[8] = {0, 3, 9, 6, 0, 0, 0, 0};
    const char *id1 = reg.hospitals[1].id, *id3 = reg.hospitals[3].id;
    char a1[BP_ALERT_ID_MAX + 1], a2[BP_ALERT_ID_MAX + 1], a3[BP_ALERT_ID_MAX + 1];
    snprintf(a1, sizeof a1, "full_soon:%s", id1);
    snprintf(a2, sizeof a2, "full_soon:%s", reg.hospitals[2].id);
    snprintf(a3, sizeof a3, "full_soon:%s", id3);
    assert_int_equal(update(f, T0), 0); /* no outlook yet: nothing */
    bp_alerts_set_outlook(f->al, soon, 8);
    assert_int_equal(update(f, T0 + 1000), 2);
    assert_true(active(f, a1) && active(f, a3));
    assert_false(active(f, a2)); /* 9 h: beyond the 6 configured */
    assert_int_equal(bp_alerts_find(f->al, a1)->value, 3);
    assert_int_equal(update(f, T0 + 2000), 0); /* raised once */
    bp_buf_t b;
    bp_buf_init(&b, 0, 4096);
    bp_alert_write(&b, bp_alerts_find(f->al, a1), f->st);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "rule"), "full_soon");
    char want[256];
    snprintf(want, sizeof want, "%s: expected full within 3 h", reg.hospitals[1].name.en);
    assert_string_equal(tu_str(j, "text.en"), want);
    snprintf(want, sizeof want, "%s: dự kiến hết giường trong 3 giờ", reg.hospitals[1].name.vi);
    assert_string_equal(tu_str(j, "text.vi"), want);
    cJSON_Delete(j);
    bp_buf_free(&b);
    /* the next refresh: hospital 1 no longer expected full */
    soon[1] = 0;
    bp_alerts_set_outlook(f->al, soon, 8);
    assert_int_equal(update(f, T0 + 3000), 1);
    assert_false(active(f, a1));
    assert_true(active(f, a3));
    /* switched off */
    cfg.full_within_h = 0;
    assert_int_equal(update(f, T0 + 4000), 1);
    assert_int_equal(bp_alerts_count(f->al), 0);
    bp_alert_defaults(&cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_soon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level4_fires_once_and_clears, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diversion_and_its_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_feed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_city_icu_low, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incident_without_unit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
