/* The mapping between BedPulse and EDXL-HAVE 1.0, FHIR (SANER) and NHSN:
 * names, codes, counts, ED status, and the refinement of imports against
 * the current state (docs/interop.md). */
#include "bp_interop.h"
#include "test_util.h"

/* -- bed types -------------------------------------------------------------- */

static void test_every_type_has_an_entry(void **state) {
    (void)state;
    for (int t = 0; t < BP_BED__COUNT; t++)
        assert_non_null(bp_interop_bed((bp_bed_type_t)t));
    assert_null(bp_interop_bed(BP_BED__COUNT));
    assert_null(bp_interop_bed((bp_bed_type_t)-1));
}

static void test_have_bed_types(void **state) {
    (void)state;
    /* what is exported reads back as the same type */
    for (int t = 0; t < BP_BED__COUNT; t++) {
        const char *h = bp_interop_bed((bp_bed_type_t)t)->have;
        if (!h) continue;
        assert_int_equal(bp_interop_have_bed_parse(h, strlen(h)), t);
    }
    /* the losses the header states */
    assert_null(bp_interop_bed(BP_BED_OBSTETRICS)->have);
    assert_string_equal(bp_interop_bed(BP_BED_PSYCHIATRIC)->have, "AdultPsychiatric");
    assert_int_equal(bp_interop_have_bed_parse("PediatricPsychiatric", 20), BP_BED_PSYCHIATRIC);
    assert_string_equal(bp_interop_bed(BP_BED_ISOLATION)->have, "NegativeFlowIsolation");
    /* HAVE types BedPulse does not keep, and names HAVE 1.0 does not have */
    assert_int_equal(bp_interop_have_bed_parse("NurseryBeds", 11), BP_INTEROP_NO_TYPE);
    assert_int_equal(bp_interop_have_bed_parse("OtherIsolation", 14), BP_INTEROP_NO_TYPE);
    assert_int_equal(bp_interop_have_bed_parse("RehabLongTermCare", 17), BP_INTEROP_NO_TYPE);
    assert_int_equal(bp_interop_have_bed_parse("Obstetrics", 10), BP_INTEROP_UNKNOWN);
    assert_int_equal(bp_interop_have_bed_parse("CholeraTreatment", 16), BP_INTEROP_UNKNOWN);
    assert_int_equal(bp_interop_have_bed_parse("", 0), BP_INTEROP_UNKNOWN);
    /* values compare case-insensitively, surrounding white space ignored */
    assert_int_equal(bp_interop_have_bed_parse(" adulticu\n", 10), BP_BED_ICU_ADULT);
    assert_int_equal(bp_interop_have_bed_parse("ADULTICU", 8), BP_BED_ICU_ADULT);
    /* only len bytes count */
    assert_int_equal(bp_interop_have_bed_parse("BurnUnit", 4), BP_BED_BURN);
}

static void test_fhir_bed_types(void **state) {
    (void)state;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        const bp_bed_interop_t *m = bp_interop_bed((bp_bed_type_t)t);
        assert_int_equal(
            bp_interop_fhir_bed_parse(BP_FHIR_BEDTYPES, bp_bed_type_name((bp_bed_type_t)t)), t);
        if (m->role_code)
            assert_int_equal(bp_interop_fhir_bed_parse(BP_FHIR_ROLECODE, m->role_code), t);
    }
    /* the HAvBED2toFHIR concept map */
    assert_string_equal(bp_interop_bed(BP_BED_ICU_NEONATAL)->role_code, "PEDNICU");
    assert_string_equal(bp_interop_bed(BP_BED_MEDICAL_SURGICAL)->role_code, "HU");
    assert_null(bp_interop_bed(BP_BED_BURN)->role_code);
    assert_null(bp_interop_bed(BP_BED_OPERATING_ROOM)->role_code);
    assert_int_equal(bp_interop_fhir_bed_parse(BP_FHIR_ROLECODE, "HOSP"), BP_INTEROP_UNKNOWN);
    assert_int_equal(bp_interop_fhir_bed_parse("http://example.org", "ICU"), BP_INTEROP_UNKNOWN);
    assert_int_equal(bp_interop_fhir_bed_parse(BP_FHIR_BEDTYPES, "ICU_ADULT"), BP_INTEROP_UNKNOWN);
    assert_int_equal(bp_interop_fhir_bed_parse(NULL, "ICU"), BP_INTEROP_UNKNOWN);
}

/* -- counts ------------------------------------------------------------------ */

static void test_have_counts(void **state) {
    (void)state;
    bp_have_counts_t c;
    bp_beds_t b = {60, 52, 8};
    bp_interop_have_counts(&b, &c);
    assert_int_equal(c.available, 8);
    assert_int_equal(c.baseline, 60);
    assert_int_equal(c.additional, 8);
    assert_string_equal(c.status, "Vacant/Available");
    /* overflow: HAVE shows a full ward, nothing more */
    b = (bp_beds_t){60, 63, -1};
    bp_interop_have_counts(&b, &c);
    assert_int_equal(c.available, 0);
    assert_string_equal(c.status, "NotAvailable");
    assert_int_equal(c.additional, -1);
    b = (bp_beds_t){60, -1, -1};
    bp_interop_have_counts(&b, &c);
    assert_int_equal(c.available, -1);
    assert_null(c.status);
}

static void test_beds_from_have(void **state) {
    (void)state;
    bp_beds_t b = {-1, -1, -1};
    uint8_t f;
    bool at_least;
    bp_error_t err;
    assert_int_equal(bp_interop_beds_from_have(8, 60, 4, -1, "x", &b, &f, &at_least, &err), 0);
    assert_int_equal(f, BP_BF_STAFFED | BP_BF_OCCUPIED | BP_BF_SURGE24);
    assert_int_equal(b.staffed, 60);
    assert_int_equal(b.occupied, 52);
    assert_int_equal(b.surge24, 4);
    assert_false(at_least);
    /* available 0: occupied is at least the baseline */
    assert_int_equal(bp_interop_beds_from_have(0, 60, -1, -1, "x", &b, &f, &at_least, &err), 0);
    assert_int_equal(b.occupied, 60);
    assert_true(at_least);
    assert_int_equal(f, BP_BF_STAFFED | BP_BF_OCCUPIED);
    /* no baseline: the current staffed stands in, else it is an error */
    assert_int_equal(bp_interop_beds_from_have(5, -1, -1, 20, "x", &b, &f, &at_least, &err), 0);
    assert_int_equal(f, BP_BF_OCCUPIED);
    assert_int_equal(b.occupied, 15);
    assert_int_equal(bp_interop_beds_from_have(5, -1, -1, -1, "Hospital[1]/BedCapacity[2]", &b, &f,
                                               &at_least, &err),
                     -1);
    assert_string_equal(err.code, "missing_field");
    assert_string_equal(err.field, "Hospital[1]/BedCapacity[2]");
    assert_non_null(strstr(err.message, "BaselineCount"));
    assert_int_equal(bp_interop_beds_from_have(61, 60, -1, -1, "x", &b, &f, &at_least, &err), -1);
    assert_string_equal(err.code, "out_of_range");
    assert_int_equal(bp_interop_beds_from_have(-1, 100001, -1, -1, "x", &b, &f, &at_least, &err),
                     -1);
    assert_int_equal(bp_interop_beds_from_have(-1, -1, -1, -1, "x", &b, &f, &at_least, &err), 0);
    assert_int_equal(f, 0);
}

static void test_counts_and_saner(void **state) {
    (void)state;
    for (int c = 0; c < BP_COUNT__COUNT; c++)
        assert_int_equal(bp_interop_count_parse(bp_interop_count_name((bp_count_t)c)), c);
    assert_int_equal(bp_interop_count_parse("Staffed"), -1);
    assert_null(bp_interop_count_name(BP_COUNT__COUNT));
    bp_beds_t b = {10, 12, 3};
    assert_int_equal(bp_interop_count_value(&b, BP_COUNT_OVERFLOW), 2);
    assert_int_equal(bp_interop_count_value(&b, BP_COUNT_AVAILABLE), 0);

    bp_hospital_state_t h;
    bp_hospital_state_init(&h);
    for (int s = 0; s < BP_SANER__COUNT; s++)
        assert_int_equal(bp_interop_saner_value(&h, (bp_saner_t)s), -1);
    h.beds_mask = (1u << BP_BED_ICU_ADULT) | (1u << BP_BED_ICU_NEONATAL) |
                  (1u << BP_BED_MEDICAL_SURGICAL) | (1u << BP_BED_EMERGENCY) | (1u << BP_BED_BURN);
    h.beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 63, 8};
    h.beds[BP_BED_ICU_NEONATAL] = (bp_beds_t){10, 4, 0};
    h.beds[BP_BED_MEDICAL_SURGICAL] = (bp_beds_t){100, 90, 20};
    h.beds[BP_BED_EMERGENCY] = (bp_beds_t){30, 40, 0};
    h.beds[BP_BED_BURN] = (bp_beds_t){5, -1, 0}; /* occupancy unknown: counts nowhere */
    assert_int_equal(bp_interop_saner_value(&h, BP_SANER_NUM_ICU_BEDS), 70);
    assert_int_equal(bp_interop_saner_value(&h, BP_SANER_NUM_ICU_BEDS_OCC), 67);
    assert_int_equal(bp_interop_saner_value(&h, BP_SANER_NUM_ICU_BEDS_AVAIL), 6);
    assert_int_equal(bp_interop_saner_value(&h, BP_SANER_NUM_BEDS), 170); /* not the ED */
    assert_int_equal(bp_interop_saner_value(&h, BP_SANER_NUM_BEDS_OCC), 157);
    /* all beds: staffed plus the overflow in use, = occupied + available */
    assert_int_equal(bp_interop_saner_value(&h, BP_SANER_NUM_TOT_BEDS),
                     60 + 3 + 10 + 100 + 30 + 10);
    assert_int_equal(bp_interop_saner_value(&h, BP_SANER_NUM_TOT_BEDS),
                     bp_interop_saner_value(&h, BP_SANER_NUM_TOT_BEDS_OCC) +
                         bp_interop_saner_value(&h, BP_SANER_NUM_TOT_BEDS_AVAIL));
    assert_string_equal(bp_interop_saner_code(BP_SANER_NUM_BEDS), "numbeds");
    assert_string_equal(bp_interop_saner_code(BP_SANER_NUM_ICU_BEDS_OCC), "numICUBedsOcc");
}

/* -- emergency department ---------------------------------------------------- */

static void test_have_traffic_out(void **state) {
    (void)state;
    assert_string_equal(bp_interop_have_traffic(BP_ED_NORMAL), "Normal");
    assert_string_equal(bp_interop_have_traffic(BP_ED_ADVISORY), "Advisory");
    /* HAVE 1.0 has no Diversion: Closed asks EMS to re-route */
    assert_string_equal(bp_interop_have_traffic(BP_ED_DIVERSION), "Closed");
    assert_string_equal(bp_interop_have_traffic(BP_ED_CLOSED), "Closed");
    assert_null(bp_interop_have_traffic(BP_ED__COUNT));
    bp_ed_t ed = {.status = BP_ED_CLOSED, .waiting = -1};
    char r[256];
    bp_interop_have_reason(&ed, r, sizeof r);
    assert_string_equal(r, "ED closed");
    snprintf(ed.reason, sizeof ed.reason, "fire");
    bp_interop_have_reason(&ed, r, sizeof r);
    assert_string_equal(r, "ED closed: fire");
    ed.status = BP_ED_DIVERSION;
    bp_interop_have_reason(&ed, r, sizeof r);
    assert_string_equal(r, "fire");
}

static void test_have_traffic_in(void **state) {
    (void)state;
    bp_ed_t ed;
    bp_error_t err;
    assert_int_equal(bp_interop_ed_from_have("Closed", 6, "no ICU beds", 11, "p", &ed, &err), 0);
    assert_int_equal(ed.status, BP_ED_DIVERSION);
    assert_string_equal(ed.reason, "no ICU beds");
    assert_int_equal(ed.waiting, -1);
    assert_int_equal(ed.until_ms, 0);
    assert_int_equal(bp_interop_ed_from_have("closed", 6, "ED closed: fire", 15, "p", &ed, &err),
                     0);
    assert_int_equal(ed.status, BP_ED_CLOSED);
    assert_string_equal(ed.reason, "fire");
    assert_int_equal(bp_interop_ed_from_have("CLOSED", 6, "ED closed", 9, "p", &ed, &err), 0);
    assert_int_equal(ed.status, BP_ED_CLOSED);
    assert_string_equal(ed.reason, "");
    /* the marker only counts as a whole word before ": " */
    assert_int_equal(
        bp_interop_ed_from_have("Closed", 6, "ED closed for cleaning", 22, "p", &ed, &err), 0);
    assert_int_equal(ed.status, BP_ED_DIVERSION);
    assert_int_equal(bp_interop_ed_from_have(" advisory ", 10, NULL, 0, "p", &ed, &err), 0);
    assert_int_equal(ed.status, BP_ED_ADVISORY);
    assert_int_equal(bp_interop_ed_from_have("NotApplicable", 13, NULL, 0, "p", &ed, &err), 1);
    assert_int_equal(bp_interop_ed_from_have("Unknown", 7, NULL, 0, "Hospital[1]/x", &ed, &err),
                     -1);
    assert_string_equal(err.code, "bad_value");
    assert_string_equal(err.field, "Hospital[1]/x");
    assert_int_equal(bp_interop_ed_from_have("Diversion", 9, NULL, 0, "p", &ed, &err), -1);
    assert_int_equal(bp_interop_ed_from_have("Normal", 6, "a\x01z", 3, "p", &ed, &err), -1);
    assert_string_equal(err.code, "bad_string");
    char long_reason[300];
    memset(long_reason, 'x', sizeof long_reason);
    assert_int_equal(
        bp_interop_ed_from_have("Normal", 6, long_reason, sizeof long_reason, "p", &ed, &err), -1);
    assert_string_equal(err.code, "too_long");
    /* what an export writes reads back the same, for every status */
    for (int s = 0; s < BP_ED__COUNT; s++) {
        bp_ed_t w = {.status = (bp_ed_status_t)s, .waiting = -1};
        snprintf(w.reason, sizeof w.reason, "r%d", s);
        char r[256];
        bp_interop_have_reason(&w, r, sizeof r);
        const char *code = bp_interop_have_traffic(w.status);
        assert_int_equal(bp_interop_ed_from_have(code, strlen(code), r, strlen(r), "p", &ed, &err),
                         0);
        assert_int_equal(ed.status, s);
        assert_string_equal(ed.reason, w.reason);
    }
}

static void test_ed_view_and_opstatus(void **state) {
    (void)state;
    bp_ed_t ed = {.status = BP_ED_DIVERSION, .until_ms = 2000, .waiting = 3}, v;
    snprintf(ed.reason, sizeof ed.reason, "no ICU");
    bp_interop_ed_view(&ed, 1000, &v);
    assert_int_equal(v.status, BP_ED_DIVERSION);
    assert_string_equal(v.reason, "no ICU");
    bp_interop_ed_view(&ed, 2000, &v); /* expired: normal, reason and expiry gone */
    assert_int_equal(v.status, BP_ED_NORMAL);
    assert_string_equal(v.reason, "");
    assert_int_equal(v.until_ms, 0);
    assert_int_equal(v.waiting, 3);

    bp_hospital_state_t h;
    bp_hospital_state_init(&h);
    const char *display;
    assert_null(bp_interop_fhir_opstatus(&h, 0, &display));
    h.version = 1;
    h.at_ms = 1;
    h.beds_mask = 1u << BP_BED_ICU_ADULT;
    h.beds[BP_BED_ICU_ADULT] = (bp_beds_t){10, 10, 0};
    assert_string_equal(bp_interop_fhir_opstatus(&h, 0, &display), "O");
    assert_string_equal(display, "Occupied");
    h.beds[BP_BED_ICU_ADULT].occupied = 9;
    assert_string_equal(bp_interop_fhir_opstatus(&h, 0, &display), "U");
    h.ed.status = BP_ED_CLOSED;
    assert_string_equal(bp_interop_fhir_opstatus(&h, 0, &display), "C");
    h.ed.status = BP_ED_DIVERSION; /* no code for it */
    assert_string_equal(bp_interop_fhir_opstatus(&h, 0, &display), "U");
}

/* -- refine ---------------------------------------------------------------------- */

static void current(bp_hospital_state_t *h) {
    bp_hospital_state_init(h);
    h->version = 3;
    h->at_ms = 5000;
    h->beds_mask = (1u << BP_BED_ICU_ADULT) | (1u << BP_BED_BURN);
    h->beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 63, 8}; /* overflow */
    h->beds[BP_BED_BURN] = (bp_beds_t){10, 4, 2};
    h->ed.status = BP_ED_DIVERSION;
    h->ed.until_ms = 99000;
    h->ed.waiting = 7;
    snprintf(h->ed.reason, sizeof h->ed.reason, "no ICU beds");
}

static void test_refine_round_trip_is_a_no_op(void **state) {
    (void)state;
    bp_hospital_state_t h;
    current(&h);
    /* the HAVE export of h, read back */
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.at_ms = 5000;
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED | BP_BF_SURGE24;
    c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 60, 8}; /* AvailableCount 0 */
    c.bed_fields[BP_BED_BURN] = BP_BF_STAFFED | BP_BF_OCCUPIED | BP_BF_SURGE24;
    c.beds[BP_BED_BURN] = (bp_beds_t){10, 4, 2};
    c.has_ed = true;
    c.ed.status = BP_ED_DIVERSION;
    c.ed.waiting = -1;
    snprintf(c.ed.reason, sizeof c.ed.reason, "no ICU beds");
    assert_true(bp_interop_refine(&c, &h, 1u << BP_BED_ICU_ADULT, 6000));
    assert_false(c.has_ed);
    for (int t = 0; t < BP_BED__COUNT; t++)
        assert_int_equal(c.bed_fields[t], 0);
    /* without the lower-bound bit the flattened occupied is a change */
    bp_change_t d = c;
    d.bed_fields[BP_BED_ICU_ADULT] = BP_BF_OCCUPIED;
    assert_false(bp_interop_refine(&d, &h, 0, 6000));
    assert_int_equal(d.bed_fields[BP_BED_ICU_ADULT], BP_BF_OCCUPIED);
}

static void test_refine_keeps_what_changes(void **state) {
    (void)state;
    bp_hospital_state_t h;
    current(&h);
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.at_ms = 5000;
    c.bed_fields[BP_BED_BURN] = BP_BF_STAFFED | BP_BF_OCCUPIED | BP_BF_SURGE24;
    c.beds[BP_BED_BURN] = (bp_beds_t){10, 5, 2}; /* one more burn patient */
    assert_false(bp_interop_refine(&c, &h, 0, 6000));
    assert_int_equal(c.bed_fields[BP_BED_BURN], BP_BF_OCCUPIED);
    /* a new bed type is all new */
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.at_ms = 5000;
    c.bed_fields[BP_BED_PEDIATRICS] = BP_BF_STAFFED;
    c.beds[BP_BED_PEDIATRICS].staffed = 0;
    assert_false(bp_interop_refine(&c, &h, 0, 6000));
    assert_int_equal(c.bed_fields[BP_BED_PEDIATRICS], BP_BF_STAFFED);
    /* an ED that differs replaces the current one */
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.at_ms = 5000;
    c.has_ed = true;
    c.ed.status = BP_ED_CLOSED;
    assert_false(bp_interop_refine(&c, &h, 0, 6000));
    assert_true(c.has_ed);
    /* the current diversion has expired: "Normal" says nothing new */
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.at_ms = 5000;
    c.has_ed = true;
    c.ed.status = BP_ED_NORMAL;
    assert_true(bp_interop_refine(&c, &h, 0, 99000));
    /* nothing changes but the report is newer: a confirmation, applied */
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.at_ms = 7000;
    assert_false(bp_interop_refine(&c, &h, 0, 8000));
    /* a newer report is applied whole (the live state may lag Redis), but
     * an overflow HAVE shows as full and the same ED stay as they are */
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.at_ms = 7000;
    c.bed_fields[BP_BED_BURN] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[BP_BED_BURN] = (bp_beds_t){10, 4, -1};
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 60, -1};
    c.has_ed = true;
    c.ed.status = BP_ED_DIVERSION;
    snprintf(c.ed.reason, sizeof c.ed.reason, "no ICU beds");
    assert_false(bp_interop_refine(&c, &h, 1u << BP_BED_ICU_ADULT, 8000));
    assert_int_equal(c.bed_fields[BP_BED_BURN], BP_BF_STAFFED | BP_BF_OCCUPIED);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], BP_BF_STAFFED);
    assert_false(c.has_ed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_has_an_entry),
        cmocka_unit_test(test_have_bed_types),
        cmocka_unit_test(test_fhir_bed_types),
        cmocka_unit_test(test_have_counts),
        cmocka_unit_test(test_beds_from_have),
        cmocka_unit_test(test_counts_and_saner),
        cmocka_unit_test(test_have_traffic_out),
        cmocka_unit_test(test_have_traffic_in),
        cmocka_unit_test(test_ed_view_and_opstatus),
        cmocka_unit_test(test_refine_round_trip_is_a_no_op),
        cmocka_unit_test(test_refine_keeps_what_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
