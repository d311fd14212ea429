/*
 * Tests for bp_alert_groups: conditions of one rule that start together
 * are one grouped alert with the list inside; one that starts alone is an
 * alert of its own with the "<rule>:<subject>" id; a burst spread over
 * several evaluations still joins the young alert (a single one becoming a
 * group under its id), but not an acknowledged or an older one; members leave as their condition
 * ends and the alert clears with the last; the stored form round-trips; the words count the group
 * and name its first members; severity follows the rule.
 */
#include "test_util.h"

#include "bp_alert_groups.h"
#include "bp_state.h"

#define T0   1795402800000LL
#define JOIN 10000

static bp_registry_t reg;
static bp_alert_cfg_t cfg;

static int setup_group(void **state) {
    (void)state;
    tu_load_registry(&reg);
    bp_alert_defaults(&cfg);
    cfg.icu_adult_free_below = 0; /* only level 4 in these tests */
    return 0;
}

static int teardown_group(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

typedef struct {
    bp_state_t *st;
    bp_alerts_t *conds;
    bp_arecs_t cur, next;
    bp_achanges_t ch;
    const char *acked;
} fx_t;

static int setup(void **state) {
    fx_t *f = calloc(1, sizeof *f);
    f->st = bp_state_create(&reg, NULL, 100);
    f->conds = bp_alerts_create();
    bp_arecs_init(&f->cur);
    bp_arecs_init(&f->next);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    bp_state_destroy(f->st);
    bp_alerts_destroy(f->conds);
    bp_arecs_free(&f->cur);
    bp_arecs_free(&f->next);
    bp_achanges_free(&f->ch);
    free(f);
    return 0;
}

/* adult ICU at occupied/staffed: 120 % is level 4, 50 % is not */
static void icu(fx_t *f, const char *id, int staffed, int occupied, int64_t at) {
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.source, sizeof c.source, "test");
    c.at_ms = at;
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[BP_BED_ICU_ADULT].staffed = staffed;
    c.beds[BP_BED_ICU_ADULT].occupied = occupied;
    assert_true(bp_state_apply(f->st, &c) >= 0);
}

static void full(fx_t *f, const char *id, int64_t at) {
    icu(f, id, 10, 12, at);
}

static void relieved(fx_t *f, const char *id, int64_t at) {
    icu(f, id, 10, 5, at);
}

static bool is_acked(const char *id, void *ctx) {
    const fx_t *f = ctx;
    return f->acked && strcmp(f->acked, id) == 0;
}

/* Evaluates at now and plans; cur becomes next. */
static void plan(fx_t *f, int64_t now) {
    bp_alerts_update(f->conds, f->st, NULL, &cfg, now);
    bp_achanges_free(&f->ch);
    assert_int_equal(bp_agroups_plan(&f->cur, f->conds, is_acked, f, JOIN, now, &f->next, &f->ch),
                     0);
    assert_int_equal(bp_arecs_copy(&f->cur, &f->next), 0);
}

static bool has_member(const bp_arec_t *r, const char *subject) {
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->m[i].subject, subject) == 0) return true;
    return false;
}

static void test_together_is_one_group(void **state) {
    fx_t *f = *state;
    full(f, "bach-mai", T0);
    full(f, "viet-duc", T0);
    full(f, "benh-vien-e", T0);
    plan(f, T0 + 1000);
    assert_int_equal(f->cur.n, 1);
    const bp_arec_t *g = &f->cur.r[0];
    char id[64];
    snprintf(id, sizeof id, "level4:group.%lld", T0 + 1000);
    assert_string_equal(g->id, id);
    assert_true(g->group);
    assert_int_equal(g->n, 3);
    assert_true(has_member(g, "viet-duc"));
    assert_int_equal(f->ch.n, 1);
    assert_int_equal(f->ch.c[0].kind, BP_ACH_RAISED);
    assert_int_equal(f->ch.c[0].delta.n, 3);
    assert_int_equal(f->ch.c[0].total, 3);
    /* again: nothing changes */
    plan(f, T0 + 2000);
    assert_int_equal(f->ch.n, 0);
    assert_int_equal(f->cur.n, 1);
    assert_int_equal(f->cur.r[0].since_ms, T0 + 1000);
    /* the words count the group; with names, the first three follow */
    char vi[600], en[600];
    bp_arec_text(&f->cur.r[0], f->conds, f->st, false, vi, sizeof vi, en, sizeof en);
    assert_string_equal(en, "3 hospitals at pressure level 4");
    assert_string_equal(vi, "3 bệnh viện ở mức áp lực 4");
    bp_arec_text(&f->cur.r[0], f->conds, f->st, true, vi, sizeof vi, en, sizeof en);
    assert_non_null(strstr(en, "3 hospitals at pressure level 4: "));
    assert_non_null(strstr(en, "Bach Mai Hospital"));
    /* as clients see it */
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_jw_t w;
    bp_jw_init(&w, &b);
    bp_arec_write_open(&w, &f->cur.r[0], f->conds, f->st);
    bp_jw_end(&w);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "subject"), "group");
    assert_int_equal(tu_num(j, "count"), 3);
    assert_int_equal(tu_num(j, "value"), 4);
    assert_string_equal(tu_str(j, "severity"), "warning");
    assert_true(cJSON_IsTrue(tu_get(j, "group")));
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "members")), 3);
    assert_int_equal(tu_num(j, "members.0.value"), 4);
    cJSON_Delete(j);
    bp_buf_free(&b);
}

static void test_alone_is_single_and_takes_the_burst(void **state) {
    fx_t *f = *state;
    full(f, "bach-mai", T0);
    plan(f, T0 + 1000);
    assert_int_equal(f->cur.n, 1);
    assert_string_equal(f->cur.r[0].id, "level4:bach-mai");
    assert_false(f->cur.r[0].group);
    char vi[600], en[600];
    bp_arec_text(&f->cur.r[0], f->conds, f->st, true, vi, sizeof vi, en, sizeof en);
    assert_string_equal(en, "Bach Mai Hospital: pressure level 4");
    /* more of the burst, an evaluation later: the young single alert takes
     * them and becomes a group, keeping its id */
    full(f, "viet-duc", T0 + 2000);
    full(f, "benh-vien-e", T0 + 2000);
    plan(f, T0 + 3000);
    assert_int_equal(f->cur.n, 1);
    assert_int_equal(f->ch.n, 1);
    assert_int_equal(f->ch.c[0].kind, BP_ACH_JOINED);
    assert_string_equal(f->ch.c[0].delta.id, "level4:bach-mai");
    assert_int_equal(f->ch.c[0].delta.n, 2);
    assert_int_equal(f->ch.c[0].total, 3);
    const bp_arec_t *g = bp_arecs_holding(&f->cur, BP_ALERT_LEVEL4, "viet-duc");
    assert_string_equal(g->id, "level4:bach-mai");
    assert_true(g->group);
    bp_arec_text(g, f->conds, f->st, false, vi, sizeof vi, en, sizeof en);
    assert_string_equal(en, "3 hospitals at pressure level 4");
    /* and again */
    full(f, "benh-vien-108", T0 + 4000);
    plan(f, T0 + 5000);
    assert_int_equal(f->ch.n, 1);
    assert_int_equal(f->ch.c[0].kind, BP_ACH_JOINED);
    assert_string_equal(f->ch.c[0].delta.m[0].subject, "benh-vien-108");
    assert_int_equal(f->ch.c[0].total, 4);
    assert_int_equal(f->cur.n, 1);
    /* past the join window two new ones together are a new group */
    full(f, "nhiet-doi-trung-uong", T0 + 20000);
    full(f, "phu-san-trung-uong", T0 + 20000);
    plan(f, T0 + 20000);
    assert_int_equal(f->cur.n, 2);
    assert_int_equal(f->ch.c[0].kind, BP_ACH_RAISED);
    char gid[BP_ALERT_ID_MAX + 1];
    snprintf(gid, sizeof gid, "level4:group.%lld", T0 + 20000);
    assert_non_null(bp_arecs_find(&f->cur, gid));
    /* Bach Mai leaves the group that kept its id, and comes back alone
     * later: a single alert of its own, under another id */
    relieved(f, "bach-mai", T0 + 21000);
    plan(f, T0 + 21000);
    assert_int_equal(f->ch.c[0].kind, BP_ACH_LEFT);
    assert_non_null(bp_arecs_find(&f->cur, "level4:bach-mai"));
    full(f, "bach-mai", T0 + 40000);
    plan(f, T0 + 40000);
    assert_int_equal(f->cur.n, 3);
    assert_int_equal(f->ch.n, 1);
    assert_int_equal(f->ch.c[0].kind, BP_ACH_RAISED);
    snprintf(gid, sizeof gid, "level4:group.%lld", T0 + 40000);
    const bp_arec_t *back = bp_arecs_find(&f->cur, gid);
    assert_non_null(back);
    assert_false(back->group);
    assert_int_equal(back->n, 1);
    assert_ptr_equal(bp_arecs_holding(&f->cur, BP_ALERT_LEVEL4, "bach-mai"), back);
    bp_arec_text(back, f->conds, f->st, false, vi, sizeof vi, en, sizeof en);
    assert_string_equal(en, "Bach Mai Hospital: pressure level 4");
}

static void test_no_join_when_acked_or_old(void **state) {
    fx_t *f = *state;
    full(f, "bach-mai", T0);
    full(f, "viet-duc", T0);
    plan(f, T0 + 1000);
    char gid[BP_ALERT_ID_MAX + 1];
    snprintf(gid, sizeof gid, "%s", f->cur.r[0].id);
    /* acknowledged: a new one sounds on its own */
    f->acked = gid;
    full(f, "benh-vien-e", T0 + 2000);
    plan(f, T0 + 3000);
    assert_int_equal(f->cur.n, 2);
    assert_non_null(bp_arecs_find(&f->cur, "level4:benh-vien-e"));
    assert_int_equal(f->ch.c[0].kind, BP_ACH_RAISED);
    /* not acknowledged but older than the join window: new too */
    f->acked = NULL;
    full(f, "benh-vien-108", T0 + 20000);
    plan(f, T0 + 20000);
    assert_non_null(bp_arecs_find(&f->cur, "level4:benh-vien-108"));
    assert_int_equal(f->cur.n, 3);
}

static void test_leave_and_clear(void **state) {
    fx_t *f = *state;
    full(f, "bach-mai", T0);
    full(f, "viet-duc", T0);
    full(f, "benh-vien-e", T0);
    plan(f, T0 + 1000);
    char gid[BP_ALERT_ID_MAX + 1];
    snprintf(gid, sizeof gid, "%s", f->cur.r[0].id);
    relieved(f, "viet-duc", T0 + 2000);
    plan(f, T0 + 3000);
    assert_int_equal(f->ch.n, 1);
    assert_int_equal(f->ch.c[0].kind, BP_ACH_LEFT);
    assert_string_equal(f->ch.c[0].delta.m[0].subject, "viet-duc");
    assert_int_equal(f->ch.c[0].total, 2);
    assert_int_equal(f->cur.r[0].n, 2);
    assert_string_equal(f->cur.r[0].id, gid); /* the same alert */
    /* back at level 4 after leaving: a new alert, not the old group's */
    full(f, "viet-duc", T0 + 30000);
    plan(f, T0 + 30000);
    assert_non_null(bp_arecs_find(&f->cur, "level4:viet-duc"));
    relieved(f, "bach-mai", T0 + 31000);
    relieved(f, "benh-vien-e", T0 + 31000);
    relieved(f, "viet-duc", T0 + 31000);
    plan(f, T0 + 32000);
    assert_int_equal(f->cur.n, 0);
    assert_int_equal(f->ch.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(f->ch.c[i].kind, BP_ACH_CLEARED);
        assert_int_equal(f->ch.c[i].total, 0);
    }
}

static void test_stored_round_trip(void **state) {
    fx_t *f = *state;
    full(f, "bach-mai", T0);
    full(f, "viet-duc", T0);
    plan(f, T0 + 1000);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_arec_write_stored(&b, &f->cur.r[0]);
    bp_arecs_t back;
    bp_arecs_init(&back);
    assert_int_equal(bp_arecs_add_stored(&back, f->cur.r[0].id, bp_buf_data(&b), b.len), 0);
    assert_int_equal(back.n, 1);
    assert_string_equal(back.r[0].id, f->cur.r[0].id);
    assert_int_equal(back.r[0].since_ms, T0 + 1000);
    assert_true(back.r[0].group);
    assert_int_equal(back.r[0].n, 2);
    assert_int_equal(back.r[0].m[1].since_ms, f->cur.r[0].m[1].since_ms);
    /* a restarted server plans from what Redis holds: nothing is raised again */
    bp_arecs_copy(&f->cur, &back);
    plan(f, T0 + 60000);
    assert_int_equal(f->ch.n, 0);
    /* malformed records are refused, nothing added */
    const char *bad[] = {"{}", "{\"rule\":\"flood\",\"since\":1,\"m\":[[\"a\",1]]}",
                         "{\"rule\":\"level4\",\"since\":1,\"m\":[]}",
                         "{\"rule\":\"level4\",\"since\":1,\"m\":[[\"a\",1],[2,1]]}", "not json"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(bp_arecs_add_stored(&back, "x", bad[i], strlen(bad[i])), -1);
    assert_int_equal(back.n, 1);
    bp_arecs_free(&back);
    bp_buf_free(&b);
}

static void test_severity(void **state) {
    (void)state;
    assert_int_equal(bp_alert_severity(BP_ALERT_DIVERSION), BP_SEV_CRITICAL);
    assert_int_equal(bp_alert_severity(BP_ALERT_ICU_LOW), BP_SEV_CRITICAL);
    assert_int_equal(bp_alert_severity(BP_ALERT_UNASSIGNED), BP_SEV_CRITICAL);
    assert_int_equal(bp_alert_severity(BP_ALERT_LEVEL4), BP_SEV_WARNING);
    assert_int_equal(bp_alert_severity(BP_ALERT_HANDOVER), BP_SEV_WARNING);
    assert_int_equal(bp_alert_severity(BP_ALERT_STALE), BP_SEV_NOTICE);
    assert_string_equal(bp_severity_name(BP_SEV_CRITICAL), "critical");
}

static void test_group_words_per_rule(void **state) {
    fx_t *f = *state;
    bp_amember_t m[2] = {{"a", T0}, {"b", T0}};
    const struct {
        bp_alert_rule_t rule;
        const char *en, *vi;
    } want[] = {
        {BP_ALERT_LEVEL4, "2 hospitals at pressure level 4", "2 bệnh viện ở mức áp lực 4"},
        {BP_ALERT_DIVERSION, "2 emergency departments on diversion or closed",
         "2 khoa cấp cứu chuyển hướng hoặc tạm đóng"},
        {BP_ALERT_STALE, "2 hospitals with no recent report", "2 bệnh viện không có báo cáo mới"},
        {BP_ALERT_HANDOVER, "2 hospitals where ambulances wait long to hand over",
         "2 bệnh viện có xe cấp cứu chờ bàn giao lâu"},
        {BP_ALERT_FACILITY, "2 hospitals with a facility problem", "2 bệnh viện có sự cố cơ sở"},
        {BP_ALERT_FULL_SOON, "2 hospitals expected full within hours",
         "2 bệnh viện dự kiến hết giường trong vài giờ tới"},
        {BP_ALERT_UNASSIGNED, "2 incidents without a unit", "2 sự cố chưa có xe"},
        /* one city-wide subject: never a group of its own kind; if it were,
         * its name says what it is */
        {BP_ALERT_ICU_LOW, "2 icu_low alerts", "2 cảnh báo icu_low"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        bp_arec_t r = {.rule = want[i].rule, .since_ms = T0, .group = true, .m = m, .n = 2};
        char vi[600], en[600];
        bp_arec_text(&r, f->conds, f->st, false, vi, sizeof vi, en, sizeof en);
        assert_string_equal(en, want[i].en);
        assert_string_equal(vi, want[i].vi);
    }
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_together_is_one_group),     T(test_alone_is_single_and_takes_the_burst),
        T(test_no_join_when_acked_or_old), T(test_leave_and_clear),
        T(test_stored_round_trip),         cmocka_unit_test(test_severity),
        T(test_group_words_per_rule),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
