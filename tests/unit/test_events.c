/*
 * Tests for bp_events: each notification event has its type, the level
 * filters and quiet hours look at (4 for level 4, a closed ED and MCIs),
 * the hospitals it is about, a sentence in both languages with the
 * registry's names, and its details as one JSON object; the hospital's
 * free-text ED reason goes in the details only; the facility rule (issue
 * 15). Also the mute body.
 */
#include "test_util.h"

#include "bp_events.h"
#include "bp_state.h"

#define T0 1795402800000LL

static bp_registry_t reg;
static bp_alert_cfg_t cfg;

static int setup_group(void **state) {
    (void)state;
    tu_load_registry(&reg);
    bp_alert_defaults(&cfg);
    cfg.icu_adult_free_below = 0;
    return 0;
}

static int teardown_group(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static void ed(bp_state_t *st, const char *id, bp_ed_status_t status, const char *reason) {
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.source, sizeof c.source, "t");
    c.at_ms = T0;
    c.has_ed = true;
    c.ed.status = status;
    c.ed.waiting = -1;
    snprintf(c.ed.reason, sizeof c.ed.reason, "%s", reason);
    assert_true(bp_state_apply(st, &c) >= 0);
}

static cJSON *data(const bp_event_out_t *e) {
    return tu_parse_buf(&e->data);
}

static void test_alert_events(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 10);
    bp_alerts_t *conds = bp_alerts_create();
    ed(st, "bach-mai", BP_ED_DIVERSION, "CT");
    ed(st, "viet-duc", BP_ED_CLOSED, "flood");
    bp_alerts_update(conds, st, NULL, &cfg, T0 + 1000);
    bp_arecs_t cur, next;
    bp_arecs_init(&cur);
    bp_arecs_init(&next);
    bp_achanges_t ch = {0};
    assert_int_equal(bp_agroups_plan(&cur, conds, NULL, NULL, 10000, T0 + 1000, &next, &ch), 0);
    /* the diversions together, and Viet Duc's closed ED is level 4 too */
    assert_int_equal(ch.n, 2);
    const bp_achange_t *div = ch.c[0].delta.rule == BP_ALERT_DIVERSION ? &ch.c[0] : &ch.c[1];
    bp_event_out_t e;
    bp_event_out_init(&e);
    bp_event_of_alert(&e, div, conds, st, T0 + 1000);
    assert_int_equal(e.type, BP_EV_ALERT_RAISED);
    assert_int_equal(e.level, 4); /* one of them is closed */
    bp_buf_putc(&e.hospitals, '\0');
    assert_string_equal(bp_buf_data(&e.hospitals), "bach-mai,viet-duc");
    assert_non_null(strstr(e.en, "2 emergency departments on diversion or closed: "));
    assert_non_null(strstr(e.en, "Bach Mai Hospital"));
    assert_non_null(strstr(e.vi, "2 khoa cấp cứu"));
    cJSON *j = data(&e);
    assert_string_equal(tu_str(j, "alert.rule"), "diversion");
    assert_string_equal(tu_str(j, "alert.severity"), "critical");
    assert_true(cJSON_IsTrue(tu_get(j, "alert.group")));
    assert_int_equal(tu_num(j, "count"), 2);
    assert_int_equal(tu_num(j, "members.1.value"), BP_ED_CLOSED);
    assert_string_equal(tu_str(j, "change"), "raised");
    cJSON_Delete(j);
    /* acknowledged by a named dispatcher */
    const bp_arec_t *group = bp_arecs_holding(&next, BP_ALERT_DIVERSION, "bach-mai");
    bp_event_of_ack(&e, group, conds, st, "t-0a0b", "Chị Lan", T0 + 2000);
    assert_int_equal(e.type, BP_EV_ALERT_ACKED);
    assert_non_null(strstr(e.vi, "Chị Lan đã xác nhận: 2 khoa"));
    j = data(&e);
    assert_string_equal(tu_str(j, "by.name"), "Chị Lan");
    cJSON_Delete(j);
    /* one leaves: a partial all-clear about it alone */
    ed(st, "bach-mai", BP_ED_NORMAL, "");
    bp_alerts_update(conds, st, NULL, &cfg, T0 + 3000);
    bp_arecs_copy(&cur, &next);
    bp_achanges_free(&ch);
    assert_int_equal(bp_agroups_plan(&cur, conds, NULL, NULL, 10000, T0 + 3000, &next, &ch), 0);
    assert_int_equal(ch.n, 1);
    assert_int_equal(ch.c[0].delta.rule, BP_ALERT_DIVERSION);
    bp_event_of_alert(&e, &ch.c[0], conds, st, T0 + 3000);
    assert_int_equal(e.type, BP_EV_ALERT_CLEARED);
    assert_non_null(strstr(e.en, "Alert over: Bach Mai Hospital: ED on diversion"));
    j = data(&e);
    assert_string_equal(tu_str(j, "change"), "left");
    assert_int_equal(tu_num(j, "count"), 1);
    cJSON_Delete(j);
    bp_event_out_free(&e);
    bp_achanges_free(&ch);
    bp_arecs_free(&cur);
    bp_arecs_free(&next);
    bp_alerts_destroy(conds);
    bp_state_destroy(st);
}

/* The facility rule (issue 15): compromised is level 3, evacuating level 4
 * (filters and quiet hours let it through), both critical. */
static void test_facility_alert_events(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 10);
    bp_alerts_t *conds = bp_alerts_create();
    bp_arecs_t cur, next;
    bp_event_out_t e;
    bp_event_out_init(&e);
    static const bp_fac_status_t statuses[] = {BP_FAC_COMPROMISED, BP_FAC_EVACUATING};
    static const char *const words[] = {
        "Xanh Pon (Saint Paul) General Hospital: facility compromised",
        "Xanh Pon (Saint Paul) General Hospital: facility being evacuated"};
    for (int i = 0; i < 2; i++) {
        bp_change_t c;
        bp_change_init(&c, BP_KIND_HOSPITAL);
        snprintf(c.id, sizeof c.id, "xanh-pon");
        snprintf(c.source, sizeof c.source, "t");
        c.at_ms = T0;
        c.has_fac = true;
        c.fac.status = statuses[i];
        assert_true(bp_state_apply(st, &c) >= 0);
        bp_alerts_update(conds, st, NULL, &cfg, T0 + 1000);
        bp_arecs_init(&cur); /* from nothing: each status raises its alert */
        bp_arecs_init(&next);
        bp_achanges_t ch = {0};
        assert_int_equal(bp_agroups_plan(&cur, conds, NULL, NULL, 10000, T0 + 1000, &next, &ch), 0);
        /* evacuating is pressure level 4 as well: that rule fires beside it */
        assert_int_equal(ch.n, i ? 2 : 1);
        const bp_achange_t *fac = &ch.c[0];
        if (fac->delta.rule != BP_ALERT_FACILITY) fac = &ch.c[1];
        assert_int_equal(fac->delta.rule, BP_ALERT_FACILITY);
        bp_event_of_alert(&e, fac, conds, st, T0 + 1000);
        assert_int_equal(e.type, BP_EV_ALERT_RAISED);
        assert_int_equal(e.level, i ? 4 : 3);
        assert_string_equal(e.en, words[i]);
        cJSON *j = data(&e);
        assert_string_equal(tu_str(j, "alert.rule"), "facility");
        assert_string_equal(tu_str(j, "alert.severity"), "critical");
        cJSON_Delete(j);
        bp_achanges_free(&ch);
        bp_arecs_free(&cur);
        bp_arecs_free(&next);
    }
    bp_event_out_free(&e);
    bp_alerts_destroy(conds);
    bp_state_destroy(st);
}

static void test_ed_and_stale(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 10);
    ed(st, "bach-mai", BP_ED_DIVERSION, "CT hỏng");
    int h = bp_registry_hospital(&reg, "bach-mai", 8);
    bp_event_out_t e;
    bp_event_out_init(&e);
    bp_event_of_ed(&e, st, (size_t)h, BP_ED_NORMAL, BP_ED_DIVERSION, T0);
    assert_int_equal(e.type, BP_EV_ED_STATUS);
    assert_int_equal(e.level, 3);
    assert_string_equal(
        e.en, "Bach Mai Hospital: emergency department on diversion (was: accepting normally)");
    assert_null(strstr(e.vi, "CT hỏng")); /* the free text is not in the sentence */
    cJSON *j = data(&e);
    assert_string_equal(tu_str(j, "status"), "diversion");
    assert_string_equal(tu_str(j, "previous"), "normal");
    assert_string_equal(tu_str(j, "reason"), "CT hỏng");
    cJSON_Delete(j);
    bp_event_of_ed(&e, st, (size_t)h, BP_ED_DIVERSION, BP_ED_CLOSED, T0);
    assert_int_equal(e.level, 4);
    bp_event_of_stale(&e, st, (size_t)h, T0 + 40 * 60000);
    assert_int_equal(e.type, BP_EV_HOSPITAL_STALE);
    assert_string_equal(e.en, "Bach Mai Hospital: no report for 40 min");
    j = data(&e);
    assert_int_equal(tu_num(j, "minutes"), 40);
    cJSON_Delete(j);
    bp_event_out_free(&e);
    bp_state_destroy(st);
}

static void test_mci(void **state) {
    (void)state;
    bp_mci_brief_t m = {.id = "MCI-1",
                        .lat = 21.001,
                        .lon = 105.8407,
                        .radius_km = 3,
                        .address = "Ngã tư Kim Liên",
                        .expected = {5, 10, 15},
                        .by = "t-1"};
    bp_event_out_t e;
    bp_event_out_init(&e);
    bp_event_of_mci(&e, &reg, &m, false, T0);
    assert_int_equal(e.type, BP_EV_MCI_DECLARED);
    assert_int_equal(e.level, 4);
    bp_buf_putc(&e.hospitals, '\0');
    assert_non_null(strstr(bp_buf_data(&e.hospitals), "bach-mai"));
    assert_null(strstr(bp_buf_data(&e.hospitals), "benh-vien-k,")); /* Thanh Tri: too far */
    assert_non_null(
        strstr(e.en, "Mass-casualty incident at Ngã tư Kim Liên: 30 patients expected"));
    cJSON *j = data(&e);
    assert_string_equal(tu_str(j, "mci.id"), "MCI-1");
    assert_int_equal(tu_num(j, "mci.expected.delayed"), 10);
    assert_true(tu_num(j, "hospitals_asked") >= 2);
    cJSON_Delete(j);
    bp_event_of_mci(&e, &reg, &m, true, T0);
    assert_int_equal(e.type, BP_EV_MCI_CLOSED);
    assert_string_equal(e.en, "Mass-casualty incident at Ngã tư Kim Liên closed");
    bp_event_out_free(&e);
}

static void test_mute_body(void **state) {
    (void)state;
    bp_alert_rule_t rule;
    int min;
    bp_errors_t errs;
    const char *ok = "{\"rule\":\"level4\",\"minutes\":60}";
    assert_int_equal(bp_alert_mute_parse(ok, strlen(ok), &rule, &min, &errs), 0);
    assert_int_equal(rule, BP_ALERT_LEVEL4);
    assert_int_equal(min, 60);
    const char *bad = "{\"rule\":\"flood\",\"minutes\":721,\"why\":1}";
    assert_int_equal(bp_alert_mute_parse(bad, strlen(bad), &rule, &min, &errs), -1);
    assert_int_equal(errs.n, 3);
    bool rule_named = false, minutes_named = false;
    for (size_t i = 0; i < errs.n; i++) {
        rule_named |= strcmp(errs.e[i].field, "rule") == 0;
        minutes_named |=
            strcmp(errs.e[i].field, "minutes") == 0 && strstr(errs.e[i].message, "1 to 720");
    }
    assert_true(rule_named && minutes_named);
    assert_int_equal(bp_alert_mute_parse("[]", 2, &rule, &min, &errs), -1);
    assert_int_equal(
        bp_alert_mute_parse("{\"rule\":\"level4\",\"minutes\":1.5}", 33, &rule, &min, &errs), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_events), cmocka_unit_test(test_facility_alert_events),
        cmocka_unit_test(test_ed_and_stale), cmocka_unit_test(test_mci),
        cmocka_unit_test(test_mute_body),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
