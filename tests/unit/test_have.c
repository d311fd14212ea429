/* EDXL-HAVE 1.0, the pure part: what a Hospital element says, checked and
 * turned into a change (errors naming the element), and what an export
 * writes. The XML itself is tests/unit/test_havexml.c. */
#include "bp_have.h"
#include "test_util.h"

static bp_registry_t reg;
static bp_state_t *st;
static const int64_t NOW = 1795000000000; /* 2026-11-18 */

static int setup(void **state) {
    (void)state;
    tu_load_registry(&reg);
    st = bp_state_create(&reg, NULL, 0);
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "bach-mai");
    c.at_ms = NOW - 60000;
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 63, -1};
    c.bed_fields[BP_BED_OBSTETRICS] = BP_BF_OCCUPIED;
    c.beds[BP_BED_OBSTETRICS].occupied = 12;
    c.has_ed = true;
    c.ed.status = BP_ED_CLOSED;
    c.ed.waiting = -1;
    snprintf(c.ed.reason, sizeof c.ed.reason, "fire");
    bp_state_apply(st, &c);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bp_state_destroy(st);
    bp_registry_free(&reg);
    return 0;
}

static void val(bp_have_value_t *v, const char *s) {
    bp_have_value_set(v, s, strlen(s));
}

/* A Hospital for bach-mai with one AdultICU BedCapacity. */
static void hospital(bp_have_hospital_t *h) {
    memset(h, 0, sizeof *h);
    snprintf(h->path, sizeof h->path, "HospitalStatus/Hospital[1]");
    val(&h->id, "bach-mai");
    val(&h->last_update, "2026-11-18T08:00:00+07:00");
    bp_have_bed_t *b = &h->beds[h->n_beds++];
    h->beds_seen = 1;
    snprintf(b->path, sizeof b->path,
             "HospitalStatus/Hospital[1]/HospitalBedCapacityStatus/BedCapacity[1]");
    val(&b->bed_type, "AdultICU");
    val(&b->available, "5");
    val(&b->baseline, "60");
    b->capacities = 1;
}

static void expect_error(const bp_have_hospital_t *h, const char *code, const char *field) {
    bp_import_t im;
    bp_import_init(&im, 10);
    bp_have_import(h, &reg, st, NOW, 300000, &im);
    if (im.errs.n == 0) fail_msg("accepted, expected %s at %s", code, field);
    assert_string_equal(im.errs.e[0].code, code);
    assert_string_equal(im.errs.e[0].field, field);
    assert_true(strlen(im.errs.e[0].message) > 0);
    assert_int_equal(im.n, 0);
    bp_import_free(&im);
}

static void test_import_ok(void **state) {
    (void)state;
    bp_have_hospital_t h;
    hospital(&h);
    val(&h.traffic, " closed ");
    bp_have_text_set(&h.reason, "ED closed: fire", 15);
    bp_import_t im;
    bp_import_init(&im, 10);
    bp_have_import(&h, &reg, st, NOW, 300000, &im);
    assert_int_equal(im.errs.n, 0);
    assert_int_equal(im.n, 1);
    const bp_change_t *c = &im.items[0].change;
    assert_string_equal(c->id, "bach-mai");
    assert_int_equal(c->at_ms, 1794963600000); /* 2026-11-18T01:00:00Z */
    assert_int_equal(c->bed_fields[BP_BED_ICU_ADULT], BP_BF_STAFFED | BP_BF_OCCUPIED);
    assert_int_equal(c->beds[BP_BED_ICU_ADULT].occupied, 55);
    assert_true(c->has_ed);
    assert_int_equal(c->ed.status, BP_ED_CLOSED);
    assert_string_equal(c->ed.reason, "fire");
    assert_int_equal(im.items[0].at_least, 0);
    bp_import_free(&im);
}

/* A Hospital named by the registry's have_id (a partner's own xnl:ID). */
static void test_import_by_have_id(void **state) {
    (void)state;
    int xp = bp_registry_hospital(&reg, "xanh-pon", 8);
    snprintf(reg.hospitals[xp].have_id, sizeof reg.hospitals[xp].have_id, "urn:hn:BV-07");
    bp_have_hospital_t h;
    hospital(&h);
    memset(&h.id, 0, sizeof h.id); /* a second value would count as a second element */
    val(&h.id, "urn:hn:BV-07");
    bp_import_t im;
    bp_import_init(&im, 10);
    bp_have_import(&h, &reg, st, NOW, 300000, &im);
    assert_int_equal(im.errs.n, 0);
    assert_int_equal(im.n, 1);
    assert_int_equal(im.items[0].hospital, xp);
    assert_string_equal(im.items[0].change.id, "xanh-pon");
    bp_import_free(&im);
    /* a have_id that no hospital has is unknown */
    memset(&h.id, 0, sizeof h.id);
    val(&h.id, "urn:hn:BV-08");
    expect_error(&h, "unknown_hospital",
                 "HospitalStatus/Hospital[1]/Organization/OrganizationInformation/"
                 "OrganisationName/@xnl:ID");
    reg.hospitals[xp].have_id[0] = '\0';
}

static void test_import_layouts_and_sums(void **state) {
    (void)state;
    bp_have_hospital_t h;
    hospital(&h);
    /* Sahana's "VacantAvailable"; psychiatry in two HAVE types, summed */
    val(&h.beds[0].status, "vacantavailable");
    bp_have_bed_t *a = &h.beds[h.n_beds++], *p = &h.beds[h.n_beds++], *n = &h.beds[h.n_beds++];
    h.beds_seen = 4;
    snprintf(a->path, sizeof a->path, "B[2]");
    val(&a->bed_type, "AdultPsychiatric");
    val(&a->available, "0");
    val(&a->baseline, "10");
    a->capacities = 1;
    snprintf(p->path, sizeof p->path, "B[3]");
    val(&p->bed_type, "PediatricPsychiatric");
    val(&p->available, "2");
    val(&p->baseline, "5");
    p->capacities = 1;
    snprintf(n->path, sizeof n->path, "B[4]");
    val(&n->bed_type, "NurseryBeds"); /* HAVE has it, BedPulse does not */
    val(&n->available, "2");
    n->capacities = 1;
    bp_import_t im;
    bp_import_init(&im, 10);
    bp_have_import(&h, &reg, st, NOW, 300000, &im);
    assert_int_equal(im.errs.n, 0);
    const bp_change_t *c = &im.items[0].change;
    assert_int_equal(c->beds[BP_BED_PSYCHIATRIC].staffed, 15);
    assert_int_equal(c->beds[BP_BED_PSYCHIATRIC].occupied, 13);
    assert_int_equal(im.n_notes, 1);
    assert_non_null(strstr(im.notes[0], "NurseryBeds"));
    bp_import_free(&im);
}

static void test_import_lower_bound_and_current_staffed(void **state) {
    (void)state;
    bp_have_hospital_t h;
    hospital(&h);
    h.beds[0].available = (bp_have_value_t){0};
    val(&h.beds[0].available, "0");
    h.beds[0].baseline = (bp_have_value_t){0};
    bp_import_t im;
    bp_import_init(&im, 10);
    bp_have_import(&h, &reg, st, NOW, 300000, &im);
    assert_int_equal(im.errs.n, 0);
    /* no BaselineCount: the current staffed (60) stands in */
    assert_int_equal(im.items[0].change.beds[BP_BED_ICU_ADULT].occupied, 60);
    assert_int_equal(im.items[0].at_least, 1u << BP_BED_ICU_ADULT);
    bp_import_free(&im);
    /* without a state (a collector), that is an error */
    bp_import_init(&im, 10);
    bp_have_import(&h, &reg, NULL, NOW, 300000, &im);
    assert_int_equal(im.errs.n, 1);
    assert_string_equal(im.errs.e[0].code, "missing_field");
    bp_import_free(&im);
}

static void test_import_errors(void **state) {
    (void)state;
    bp_have_hospital_t h;
    const char *id = "HospitalStatus/Hospital[1]/Organization/OrganizationInformation/"
                     "OrganisationName/@xnl:ID";
    hospital(&h);
    h.id = (bp_have_value_t){0};
    expect_error(&h, "missing_field", id);
    hospital(&h);
    h.id = (bp_have_value_t){0};
    val(&h.id, "no-such-hospital");
    expect_error(&h, "unknown_hospital", id);
    hospital(&h);
    h.last_update = (bp_have_value_t){0};
    expect_error(&h, "missing_field", "HospitalStatus/Hospital[1]/LastUpdateTime");
    hospital(&h);
    h.last_update = (bp_have_value_t){0};
    val(&h.last_update, "2026-11-18T08:00:00"); /* no zone */
    expect_error(&h, "bad_time", "HospitalStatus/Hospital[1]/LastUpdateTime");
    hospital(&h);
    h.last_update = (bp_have_value_t){0};
    val(&h.last_update, "2027-01-01T00:00:00Z"); /* the future */
    expect_error(&h, "out_of_range", "HospitalStatus/Hospital[1]/LastUpdateTime");
    hospital(&h);
    val(&h.last_update, "2026-11-18T08:00:00Z"); /* twice */
    expect_error(&h, "duplicate_field", "HospitalStatus/Hospital[1]/LastUpdateTime");
    hospital(&h);
    val(&h.traffic, "Diversion");
    expect_error(
        &h, "bad_value",
        "HospitalStatus/Hospital[1]/EmergencyDepartmentStatus/EMSTraffic/EMSTrafficStatus");
    const char *bed = "HospitalStatus/Hospital[1]/HospitalBedCapacityStatus/BedCapacity[1]";
    char p[160];
    snprintf(p, sizeof p, "%s/BedType", bed);
    hospital(&h);
    h.beds[0].bed_type = (bp_have_value_t){0};
    val(&h.beds[0].bed_type, "Obstetrics");
    expect_error(&h, "unknown_bed_type", p);
    hospital(&h);
    val(&h.beds[0].bed_type, "Burn"); /* a second BedType in one BedCapacity */
    expect_error(&h, "duplicate_field", p);
    snprintf(p, sizeof p, "%s/AvailableCount", bed);
    hospital(&h);
    h.beds[0].available = (bp_have_value_t){0};
    val(&h.beds[0].available, "-1");
    expect_error(&h, "out_of_range", p);
    hospital(&h);
    h.beds[0].available = (bp_have_value_t){0};
    val(&h.beds[0].available, "61");
    expect_error(&h, "out_of_range", bed);
    hospital(&h);
    h.beds[0].capacities = 2;
    expect_error(&h, "duplicate_field", bed);
    snprintf(p, sizeof p, "%s/CapacityStatus", bed);
    hospital(&h);
    val(&h.beds[0].status, "NotAvailable"); /* but 5 are */
    expect_error(&h, "bad_value", p);
    hospital(&h);
    h.beds[1] = h.beds[0]; /* AdultICU twice */
    h.n_beds = h.beds_seen = 2;
    snprintf(p, sizeof p, "%s/BedType", bed);
    expect_error(&h, "duplicate_field", p);
    hospital(&h);
    h.beds_seen = BP_HAVE_BEDS_MAX + 1;
    expect_error(&h, "too_many", "HospitalStatus/Hospital[1]");
}

static void test_values(void **state) {
    (void)state;
    bp_have_value_t v = {0};
    bp_have_value_set(&v, " \n 42\t", 6);
    assert_true(v.present);
    assert_string_equal(v.text, "42");
    assert_int_equal(v.count, 1);
    bp_have_value_set(&v, "43", 2);
    assert_string_equal(v.text, "42"); /* a repeat is counted, not kept */
    assert_int_equal(v.count, 2);
    char big[BP_HAVE_VALUE_MAX + 10];
    memset(big, '7', sizeof big);
    bp_have_value_t w = {0};
    bp_have_value_set(&w, big, sizeof big);
    assert_true(w.too_long);
    assert_int_equal(strlen(w.text), BP_HAVE_VALUE_MAX);
}

static void test_view(void **state) {
    (void)state;
    bp_have_out_t o;
    int bm = bp_registry_hospital(&reg, "bach-mai", 8),
        vd = bp_registry_hospital(&reg, "viet-duc", 8);
    assert_false(bp_have_view(st, (size_t)vd, NOW, -1, &o)); /* never reported */
    assert_true(bp_have_view(st, (size_t)bm, NOW, 42 * 60000 + 1000, &o));
    assert_string_equal(o.id, "bach-mai");
    assert_string_equal(o.traffic, "Closed");
    assert_string_equal(o.reason, "ED closed: fire");
    assert_string_equal(o.offload, "Normal");
    assert_int_equal(o.offload_minutes, 42);
    assert_int_equal(o.at_ms, NOW - 60000);
    bool icu = false;
    for (size_t k = 0; k < o.n_beds; k++) {
        assert_int_not_equal(o.beds[k].type, BP_BED_OBSTETRICS); /* not in HAVE 1.0 */
        if (o.beds[k].type != BP_BED_ICU_ADULT) continue;
        icu = true;
        assert_string_equal(o.beds[k].have, "AdultICU");
        assert_int_equal(o.beds[k].counts.available, 0);
        assert_int_equal(o.beds[k].counts.baseline, 60);
    }
    assert_true(icu);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_ok),
        cmocka_unit_test(test_import_by_have_id),
        cmocka_unit_test(test_import_layouts_and_sums),
        cmocka_unit_test(test_import_lower_bound_and_current_staffed),
        cmocka_unit_test(test_import_errors),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_view),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
