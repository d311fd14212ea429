/*
 * Tests for core/bp_plausible.c: each rule fires just past its threshold
 * and not at it, a disabled rule never fires, the mark sets or clears the
 * check; and config/dispatch.json's "plausibility" section is read with
 * its bounds (a bad value refused naming the key and the rule).
 */
#include "test_util.h"

#include "bp_codec_config.h"
#include "bp_codec_stored.h"
#include "bp_plausible.h"
#include "bp_recommend.h"
#include "bp_state.h"

#define T0  1700000000000LL
#define MIN 60000LL
#define ICU BP_BED_ICU_ADULT
#define MED BP_BED_MEDICAL_SURGICAL

/* A hospital that reported at T0: ICU 20 staffed / occ occupied, medical
 * 100 / 50. */
static void hospital(bp_hospital_state_t *h, int32_t occ) {
    bp_hospital_state_init(h);
    h->at_ms = T0;
    h->version = 3;
    h->beds_mask = (1u << ICU) | (1u << MED);
    h->beds[ICU] = (bp_beds_t){20, occ, -1};
    h->beds[MED] = (bp_beds_t){100, 50, -1};
    h->occ_at_ms[ICU] = h->occ_at_ms[MED] = T0;
}

/* A report at T0 + min minutes setting ICU occupied. */
static void report(bp_change_t *c, int64_t min, int32_t icu_occ) {
    bp_change_init(c, BP_KIND_HOSPITAL);
    snprintf(c->id, sizeof c->id, "bv-test");
    c->at_ms = T0 + min * MIN;
    c->bed_fields[ICU] = BP_BF_OCCUPIED;
    c->beds[ICU].occupied = icu_occ;
}

static size_t eval(const bp_hospital_state_t *h, const bp_change_t *c, const bp_plaus_cfg_t *cfg,
                   bp_check_t *out) {
    return bp_plausible_eval(h, NULL, c, cfg, out, 4);
}

static void test_drop_edges(void **state) {
    (void)state;
    bp_plaus_cfg_t cfg;
    bp_plausible_defaults(&cfg); /* 40 % within 15 min from 10 beds */
    bp_hospital_state_t h;
    bp_change_t c;
    bp_check_t k[4];
    hospital(&h, 20);
    report(&c, 15, 12); /* exactly 40 %: not more than */
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    report(&c, 15, 11); /* 45 % at 15 min: fires */
    assert_int_equal(eval(&h, &c, &cfg, k), 1);
    assert_int_equal(k[0].rule, BP_CHECK_DROP);
    assert_int_equal(k[0].bed_type, ICU);
    assert_int_equal(k[0].was, 20);
    assert_int_equal(k[0].now, 11);
    assert_int_equal(k[0].at_ms, c.at_ms);
    assert_non_null(strstr(k[0].reason, "icu_adult occupied fell from 20 to 11"));
    report(&c, 16, 11); /* after the window: not a jump */
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    hospital(&h, 9); /* below min_beds: small wards swing */
    report(&c, 1, 0);
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    hospital(&h, 10);
    assert_int_equal(eval(&h, &c, &cfg, k), 1);
    cfg.drop = false;
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
}

/* The drop is timed per bed type: from that type's previous occupied
 * figure, not from the hospital's last report of another type. */
static void test_drop_per_bed_type(void **state) {
    (void)state;
    bp_plaus_cfg_t cfg;
    bp_plausible_defaults(&cfg); /* 40 % within 15 min */
    bp_hospital_state_t h;
    bp_change_t c, med;
    bp_check_t k[4];
    hospital(&h, 20); /* ICU 20 and medical 50 reported at T0 */
    /* a medical-only report at T0 + 20 min (the hospital's last report) */
    bp_change_init(&med, BP_KIND_HOSPITAL);
    med.at_ms = T0 + 20 * MIN;
    med.bed_fields[MED] = BP_BF_OCCUPIED;
    med.beds[MED].occupied = 52;
    bp_hospital_apply(&h, &med);
    assert_true(h.at_ms == T0 + 20 * MIN);
    assert_true(h.occ_at_ms[ICU] == T0 && h.occ_at_ms[MED] == T0 + 20 * MIN);
    /* ICU halves at T0 + 25 min: 5 min after the hospital's last report,
     * but 25 min after ICU's own figure: a slow fall, not a jump */
    report(&c, 25, 10);
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    /* medical halves at T0 + 30 min: 10 min after its own figure: a jump */
    bp_change_init(&med, BP_KIND_HOSPITAL);
    med.at_ms = T0 + 30 * MIN;
    med.bed_fields[MED] = BP_BF_OCCUPIED;
    med.beds[MED].occupied = 20;
    assert_int_equal(eval(&h, &med, &cfg, k), 1);
    assert_int_equal(k[0].rule, BP_CHECK_DROP);
    assert_int_equal(k[0].bed_type, MED);
    assert_non_null(strstr(k[0].reason, "from 52 to 20 (61 %) in 10 min"));
    /* ICU's figure refreshed at T0 + 22 min; a fall at T0 + 30 is 8 min on */
    report(&c, 22, 20);
    bp_hospital_apply(&h, &c);
    report(&c, 30, 10);
    assert_int_equal(eval(&h, &c, &cfg, k), 1);
    assert_int_equal(k[0].bed_type, ICU);
    /* a type never reported with a time: no drop can be judged */
    h.occ_at_ms[ICU] = 0;
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    /* a stored change carries each type's own time (hash "<type>.oa") */
    c.occ_at_ms[ICU] = T0 + 3 * MIN;
    bp_hospital_apply(&h, &c);
    assert_true(h.occ_at_ms[ICU] == T0 + 3 * MIN);
}

static void test_over_staffed_edges(void **state) {
    (void)state;
    bp_plaus_cfg_t cfg;
    bp_plausible_defaults(&cfg); /* over 2 x staffed */
    bp_hospital_state_t h;
    bp_change_t c;
    bp_check_t k[4];
    hospital(&h, 20);
    report(&c, 60, 40); /* exactly twice 20: not over */
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    report(&c, 60, 41);
    assert_int_equal(eval(&h, &c, &cfg, k), 1);
    assert_int_equal(k[0].rule, BP_CHECK_OVER_STAFFED);
    assert_int_equal(k[0].was, 20);
    assert_int_equal(k[0].now, 41);
    /* staffed in the same report counts */
    c.bed_fields[ICU] |= BP_BF_STAFFED;
    c.beds[ICU].staffed = 21;
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    /* staffed never reported: the registry baseline */
    bp_hospital_state_init(&h);
    report(&c, 0, 41);
    bp_hospital_info_t info;
    memset(&info, 0, sizeof info);
    assert_int_equal(bp_plausible_eval(&h, &info, &c, &cfg, k, 4), 0);
    info.beds_mask = 1u << ICU;
    info.staffed[ICU] = 20;
    assert_int_equal(bp_plausible_eval(&h, &info, &c, &cfg, k, 4), 1);
    /* not the ED: a crowded one holds patients on trolleys */
    bp_change_t ed;
    bp_change_init(&ed, BP_KIND_HOSPITAL);
    ed.bed_fields[BP_BED_EMERGENCY] = BP_BF_OCCUPIED | BP_BF_STAFFED;
    ed.beds[BP_BED_EMERGENCY] = (bp_beds_t){20, 90, -1};
    assert_int_equal(bp_plausible_eval(&h, &info, &ed, &cfg, k, 4), 0);
    cfg.over_staffed = false;
    assert_int_equal(bp_plausible_eval(&h, &info, &c, &cfg, k, 4), 0);
}

static void test_all_zero_edges(void **state) {
    (void)state;
    bp_plaus_cfg_t cfg;
    bp_plausible_defaults(&cfg);
    bp_hospital_state_t h;
    bp_change_t c;
    bp_check_t k[4];
    hospital(&h, 20);
    report(&c, 600, 0); /* medical still 50: not every type at 0 */
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    c.bed_fields[MED] = BP_BF_OCCUPIED;
    c.beds[MED].occupied = 1;
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    c.beds[MED].occupied = 0;
    assert_int_equal(eval(&h, &c, &cfg, k), 1);
    assert_int_equal(k[0].rule, BP_CHECK_ALL_ZERO);
    assert_int_equal(k[0].bed_type, -1);
    assert_int_equal(k[0].was, 70);
    /* a hospital that had no patients may report 0 */
    hospital(&h, 0);
    h.beds[MED].occupied = 0;
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    hospital(&h, 20);
    cfg.all_zero = false;
    assert_int_equal(eval(&h, &c, &cfg, k), 0);
    /* within the window, all rules at once: all_zero first, then the drops */
    cfg.all_zero = true;
    report(&c, 5, 0);
    c.bed_fields[MED] = BP_BF_OCCUPIED;
    c.beds[MED].occupied = 0;
    assert_int_equal(eval(&h, &c, &cfg, k), 3);
    assert_int_equal(k[0].rule, BP_CHECK_ALL_ZERO);
    assert_int_equal(k[1].rule, BP_CHECK_DROP);
    assert_int_equal(k[2].rule, BP_CHECK_DROP);
    assert_int_equal(bp_plausible_eval(&h, NULL, &c, &cfg, k, 1), 1);
}

static void test_mark(void **state) {
    (void)state;
    bp_plaus_cfg_t cfg;
    bp_plausible_defaults(&cfg);
    bp_hospital_state_t h;
    bp_change_t c;
    hospital(&h, 20);
    report(&c, 1, 20); /* plausible, nothing pending: leaves the check */
    assert_false(bp_plausible_mark(&h, NULL, &cfg, &c));
    report(&c, 1, 2);
    assert_true(bp_plausible_mark(&h, NULL, &cfg, &c));
    assert_int_equal(c.check.rule, BP_CHECK_DROP);
    bp_hospital_apply(&h, &c);
    assert_int_equal(h.check.rule, BP_CHECK_DROP);
    /* a later report with no figures keeps it; one that no longer triggers clears it */
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.at_ms = T0 + 2 * MIN;
    c.has_ed = true;
    assert_false(bp_plausible_mark(&h, NULL, &cfg, &c));
    report(&c, 3, 2);
    assert_true(bp_plausible_mark(&h, NULL, &cfg, &c));
    assert_int_equal(c.check.rule, BP_CHECK_NONE);
    bp_hospital_apply(&h, &c);
    assert_int_equal(h.check.rule, BP_CHECK_NONE);
    /* a manager's write never flags, and its figures clear a flag */
    report(&c, 4, 0);
    snprintf(c.source, sizeof c.source, "web:tok1");
    assert_false(bp_plausible_mark(&h, NULL, &cfg, &c));
    h.check.rule = BP_CHECK_OVER_STAFFED;
    assert_true(bp_plausible_mark(&h, NULL, &cfg, &c));
    assert_int_equal(c.check.rule, BP_CHECK_NONE);
}

static void test_config(void **state) {
    (void)state;
    size_t len;
    char *json = tu_read_file("config/dispatch.json", &len);
    bp_dispatch_cfg_t d;
    bp_dispatch_defaults(&d);
    bp_error_t err = {0};
    assert_int_equal(bp_codec_parse_dispatch(json, len, &d, &err), 0);
    free(json);
    const char *ok = "{\"plausibility\":{\"drop\":{\"enabled\":false,\"pct\":25,\"within_min\":"
                     "30,\"min_beds\":4},\"over_staffed\":{\"factor\":1.5},\"all_zero\":"
                     "{\"enabled\":false}}}";
    bp_dispatch_defaults(&d);
    assert_int_equal(bp_codec_parse_dispatch(ok, strlen(ok), &d, &err), 0);
    assert_false(d.plausibility.drop);
    assert_int_equal(d.plausibility.drop_pct, 25);
    assert_int_equal(d.plausibility.drop_within_min, 30);
    assert_int_equal(d.plausibility.drop_min_beds, 4);
    assert_true(d.plausibility.over_staffed);
    assert_true(d.plausibility.over_factor == 1.5);
    assert_false(d.plausibility.all_zero);
    static const struct {
        const char *json, *code, *field;
    } bad[] = {
        {"{\"plausibility\":{\"drop\":{\"pct\":0}}}", "out_of_range", "plausibility.drop.pct"},
        {"{\"plausibility\":{\"drop\":{\"pct\":101}}}", "out_of_range", "plausibility.drop.pct"},
        {"{\"plausibility\":{\"drop\":{\"within_min\":0}}}", "out_of_range",
         "plausibility.drop.within_min"},
        {"{\"plausibility\":{\"drop\":{\"min_beds\":1.5}}}", "wrong_type",
         "plausibility.drop.min_beds"},
        {"{\"plausibility\":{\"drop\":{\"enabled\":1}}}", "wrong_type",
         "plausibility.drop.enabled"},
        {"{\"plausibility\":{\"drop\":{\"factor\":2}}}", "unknown_field",
         "plausibility.drop.factor"},
        {"{\"plausibility\":{\"over_staffed\":{\"factor\":0.5}}}", "out_of_range",
         "plausibility.over_staffed.factor"},
        {"{\"plausibility\":{\"all_zero\":[]}}", "wrong_type", "plausibility.all_zero"},
        {"{\"plausibility\":{\"spike\":{}}}", "unknown_field", "plausibility.spike"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bp_dispatch_defaults(&d);
        memset(&err, 0, sizeof err);
        assert_int_equal(bp_codec_parse_dispatch(bad[i].json, strlen(bad[i].json), &d, &err), -1);
        if (strcmp(err.code, bad[i].code) || strcmp(err.field, bad[i].field))
            fail_msg("%s: got %s at %s, expected %s at %s", bad[i].json, err.code, err.field,
                     bad[i].code, bad[i].field);
        /* the message names the rule (an unknown key: its parent) */
        char rule[64];
        snprintf(rule, sizeof rule, "%s", bad[i].field);
        if (strcmp(bad[i].code, "unknown_field") == 0) *strrchr(rule, '.') = '\0';
        assert_non_null(strstr(err.message, rule));
    }
}

/* One stored hospital hash (field, value pairs) read back as a load does. */
static void load_hash(bp_state_t *st, const char *const *kv, size_t pairs, bp_change_t *c) {
    bp_error_t err;
    assert_int_equal(tu_parse_hash(BP_KIND_HOSPITAL, kv, pairs, c, &err), 0);
    snprintf(c->id, sizeof c->id, "bach-mai");
    assert_true(bp_state_apply(st, c) >= 0);
}

/* A report applied while no server ran: the hash holds the figures it
 * replaced ("pre") and no check stored since ("ckv" older); the load
 * derives its check as the stream would have. */
static void test_rederive_at_load(void **state) {
    (void)state;
    bp_registry_t reg;
    tu_load_registry(&reg);
    bp_plaus_cfg_t cfg;
    bp_plausible_defaults(&cfg);
    bp_state_t *st = bp_state_create(&reg, NULL, 0);
    bp_state_set_plausibility(st, &cfg);
    int i = bp_registry_hospital(&reg, "bach-mai", 8);
    assert_true(i >= 0);
    /* ICU 16 at T0 (version 6, check stored), 4 at T0 + 3 min (version 7) */
    char at[32], pre[200];
    snprintf(at, sizeof at, "%lld", T0 + 3 * MIN);
    snprintf(
        pre, sizeof pre,
        "{\"v\":7,\"at\":%lld,\"src\":\"his\",\"beds\":{\"icu_adult\":{\"o\":16,\"oa\":%lld}}}",
        T0 + 3 * MIN, T0);
    const char *kv[] = {"v",           "7", "at",           at, "src", "his", "icu_adult.s", "20",
                        "icu_adult.o", "4", "icu_adult.oa", at, "ckv", "6",   "pre",         pre};
    bp_change_t c;
    load_hash(st, kv, 8, &c);
    assert_true(c.has_pre && c.pre.version == 7 && c.check_version == 6);
    assert_true(c.pre.fields[ICU] == BP_BF_OCCUPIED && c.pre.occupied[ICU] == 16);
    const bp_hospital_state_t *h = bp_state_hospital(st, (size_t)i);
    assert_true(h->occ_at_ms[ICU] == T0 + 3 * MIN);
    assert_int_equal(h->check.rule, BP_CHECK_NONE);
    assert_true(bp_state_rederive(st, &c));
    assert_int_equal(h->check.rule, BP_CHECK_DROP);
    assert_int_equal(h->check.was, 16);
    assert_int_equal(h->check.now, 4);
    assert_true(h->check.version == 7 && h->check_unsaved);
    /* a check stored at that version since: nothing to derive */
    bp_state_reset(st);
    kv[13] = "7";
    load_hash(st, kv, 8, &c);
    assert_false(bp_state_rederive(st, &c));
    /* a manager's figures never flag */
    bp_state_reset(st);
    kv[13] = "6";
    snprintf(
        pre, sizeof pre,
        "{\"v\":7,\"at\":%lld,\"src\":\"web:t-1\",\"beds\":{\"icu_adult\":{\"o\":16,\"oa\":%lld}}}",
        T0 + 3 * MIN, T0);
    load_hash(st, kv, 8, &c);
    assert_false(bp_state_rederive(st, &c));
    assert_int_equal(bp_state_hospital(st, (size_t)i)->check.rule, BP_CHECK_NONE);
    /* the same from the HIS again: flagged (the rules are still on) */
    bp_state_reset(st);
    snprintf(
        pre, sizeof pre,
        "{\"v\":7,\"at\":%lld,\"src\":\"his\",\"beds\":{\"icu_adult\":{\"o\":16,\"oa\":%lld}}}",
        T0 + 3 * MIN, T0);
    load_hash(st, kv, 8, &c);
    assert_string_equal(c.pre.source, "his");
    assert_true(bp_state_rederive(st, &c));
    bp_state_destroy(st);
    bp_registry_free(&reg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_edges),
        cmocka_unit_test(test_drop_per_bed_type),
        cmocka_unit_test(test_over_staffed_edges),
        cmocka_unit_test(test_all_zero_edges),
        cmocka_unit_test(test_mark),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_rederive_at_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
