/* FHIR R4 out and in: the Bundle an export writes (Location, SANER-style
 * MeasureReport), read back to the same figures, and what the reader
 * refuses (naming the JSON path). */
#include "bp_fhir.h"
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
    c.at_ms = NOW - 60123;
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 63, -1};
    c.bed_fields[BP_BED_ICU_ADULT] |= BP_BF_VENTILATED | BP_BF_ECMO;
    c.icu[BP_BED_ICU_ADULT].ventilated = (bp_places_t){40, 3};
    c.icu[BP_BED_ICU_ADULT].ecmo = (bp_places_t){4, 1};
    c.bed_fields[BP_BED_BURN] = BP_BF_OCCUPIED;
    c.beds[BP_BED_BURN].occupied = 2;
    c.bed_fields[BP_BED_OBSTETRICS] = BP_BF_STAFFED | BP_BF_OCCUPIED;
    c.beds[BP_BED_OBSTETRICS] = (bp_beds_t){40, 30, -1};
    bp_state_apply(st, &c);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bp_state_destroy(st);
    bp_registry_free(&reg);
    return 0;
}

static void test_bundle(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 8u << 20);
    bp_fhir_write_bundle(&b, st, -1, NOW);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "resourceType"), "Bundle");
    assert_string_equal(tu_str(j, "type"), "collection");
    /* a Location per hospital, a MeasureReport for the one that reported */
    int locations = 0, reports = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, tu_get(j, "entry")) {
        const char *t = tu_str(e, "resource.resourceType");
        locations += strcmp(t, "Location") == 0;
        reports += strcmp(t, "MeasureReport") == 0;
    }
    assert_int_equal(locations, (int)reg.n_hospitals);
    assert_int_equal(reports, 1);
    cJSON_Delete(j);
    bp_buf_free(&b);
}

static void test_location_and_report(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 1u << 20);
    bp_fhir_write_location(&b, st, (size_t)bm, NOW);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "id"), "bach-mai");
    assert_float_equal(tu_num(j, "position.longitude"), reg.hospitals[bm].lon, 1e-6);
    assert_float_equal(tu_num(j, "position.latitude"), reg.hospitals[bm].lat, 1e-6);
    assert_string_equal(tu_str(j, "operationalStatus.system"), BP_FHIR_OPSTATUS);
    assert_string_equal(tu_str(j, "identifier.0.value"), "bach-mai");
    cJSON_Delete(j);
    bp_buf_reset(&b);
    bp_fhir_write_report(&b, st, (size_t)bm);
    j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "status"), "complete");
    assert_string_equal(tu_str(j, "type"), "summary");
    assert_string_equal(tu_str(j, "subject.reference"), "Location/bach-mai");
    assert_string_equal(tu_str(j, "date"), tu_str(j, "period.start"));
    /* the SANER Beds group first, then one group per bed type */
    assert_string_equal(tu_str(j, "group.0.code.coding.0.code"), "Beds");
    assert_string_equal(tu_str(j, "group.0.population.0.code.coding.0.system"), BP_SANER_VALUES);
    assert_string_equal(tu_str(j, "group.0.population.0.code.coding.1.code"), "initial-population");
    bool icu = false, obstetrics = false;
    int icu_places = 0;
    /* SANER's Ventilators group: the places able to ventilate */
    assert_string_equal(tu_str(j, "group.1.code.coding.0.code"), "Ventilators");
    assert_string_equal(tu_str(j, "group.1.population.0.code.coding.0.code"), "numVent");
    assert_int_equal((int)tu_num(j, "group.1.population.0.count"), 40);
    assert_string_equal(tu_str(j, "group.1.population.1.code.coding.0.code"), "numVentUse");
    assert_int_equal((int)tu_num(j, "group.1.population.1.count"), 37);
    assert_string_equal(tu_str(j, "group.1.population.2.code.coding.0.code"), "numVentAvail");
    assert_int_equal((int)tu_num(j, "group.1.population.2.count"), 3);
    const cJSON *g;
    cJSON_ArrayForEach(g, tu_get(j, "group")) {
        const char *code = tu_str(g, "code.coding.0.code");
        if (strcmp(code, "icu_adult") == 0) {
            icu = true;
            assert_string_equal(tu_str(g, "code.coding.1.code"), "ICU"); /* v3-RoleCode */
            const cJSON *p;
            cJSON_ArrayForEach(p, tu_get(g, "population")) {
                const char *what = tu_str(p, "code.coding.0.code");
                if (!strcmp(what, "occupied")) assert_int_equal((int)tu_num(p, "count"), 63);
                if (!strcmp(what, "overflow")) assert_int_equal((int)tu_num(p, "count"), 3);
                if (!strcmp(what, "ventilated-free")) {
                    assert_string_equal(tu_str(p, "code.coding.0.system"), BP_FHIR_ICU);
                    assert_int_equal((int)tu_num(p, "count"), 3);
                    icu_places++;
                }
                if (!strcmp(what, "ecmo-total")) icu_places += (int)tu_num(p, "count") == 4;
            }
        }
        if (strcmp(code, "obstetrics") == 0) {
            obstetrics = true;
            assert_null(tu_get(g, "code.coding.1")); /* no RoleCode for it */
        }
    }
    assert_true(icu && obstetrics);
    assert_int_equal(icu_places, 2);
    cJSON_Delete(j);
    bp_buf_free(&b);
}

/* An export read back is the state: refine finds nothing to change. */
static void test_round_trip(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 8u << 20);
    bp_fhir_write_bundle(&b, st, bm, NOW);
    bp_import_t im;
    bp_import_init(&im, reg.n_hospitals);
    assert_int_equal(bp_fhir_parse(bp_buf_data(&b), b.len, &reg, NOW, 300000, &im), 0);
    assert_int_equal(im.n, 1);
    assert_int_equal(im.n_notes, 2); /* Location skipped, SANER totals skipped */
    bp_import_item_t *it = &im.items[0];
    assert_int_equal(it->hospital, bm);
    assert_int_equal(it->change.at_ms, NOW - 60123); /* milliseconds survive */
    assert_int_equal(it->change.beds[BP_BED_ICU_ADULT].occupied, 63);
    assert_int_equal(it->change.beds[BP_BED_OBSTETRICS].staffed,
                     40); /* FHIR keeps it; HAVE cannot */
    assert_true(it->change.bed_fields[BP_BED_ICU_ADULT] & BP_BF_VENTILATED);
    assert_int_equal(it->change.icu[BP_BED_ICU_ADULT].ventilated.free, 3);
    assert_int_equal(it->change.icu[BP_BED_ICU_ADULT].ecmo.total, 4);
    assert_true(
        bp_interop_refine(&it->change, bp_state_hospital(st, (size_t)bm), it->at_least, NOW));
    bp_import_free(&im);
    bp_buf_free(&b);
}

static void expect_error(const char *json, const char *code, const char *field) {
    bp_import_t im;
    bp_import_init(&im, reg.n_hospitals);
    if (bp_fhir_parse(json, strlen(json), &reg, NOW, 300000, &im) == 0)
        fail_msg("accepted, expected %s at %s: %s", code, field, json);
    assert_string_equal(im.errs.e[0].code, code);
    assert_string_equal(im.errs.e[0].field, field);
    bp_import_free(&im);
}

#define MR(body)                                                                                   \
    "{\"resourceType\":\"MeasureReport\",\"status\":\"complete\",\"date\":\"2026-11-18T08:00:"     \
    "00Z\","                                                                                       \
    "\"subject\":{\"reference\":\"Location/bach-mai\"}" body "}"
#define GROUP(type, pops)                                                                          \
    "{\"code\":{\"coding\":[{\"system\":\"" BP_FHIR_BEDTYPES "\",\"code\":\"" type "\"}]},"        \
    "\"population\":[" pops "]}"
#define POP(what, n)                                                                               \
    "{\"code\":{\"coding\":[{\"system\":\"" BP_FHIR_COUNTS "\",\"code\":\"" what                   \
    "\"}]},\"count\":" n "}"

static void test_reader(void **state) {
    (void)state;
    bp_import_t im;
    bp_import_init(&im, reg.n_hospitals);
    /* a RoleCode group; available stands in for occupied */
    const char *ok = MR(",\"group\":[{\"code\":{\"coding\":[{\"system\":\"" BP_FHIR_ROLECODE
                        "\",\"code\":\"PEDICU\"}]},\"population\":[" POP("staffed", "10") "," POP(
                            "available", "0") "]}]");
    assert_int_equal(bp_fhir_parse(ok, strlen(ok), &reg, NOW, 300000, &im), 0);
    assert_int_equal(im.items[0].change.beds[BP_BED_ICU_PEDIATRIC].occupied, 10);
    assert_int_equal(im.items[0].at_least, 1u << BP_BED_ICU_PEDIATRIC);
    bp_import_free(&im);
    expect_error("[]", "missing_field", "resourceType");
    expect_error("{\"resourceType\":\"Patient\"}", "bad_value", "resourceType");
    expect_error("{\"resourceType\":\"Bundle\",\"type\":\"document\"}", "bad_value", "type");
    expect_error("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{}]}",
                 "missing_field", "entry[0].resource");
    expect_error("{\"resourceType\":\"MeasureReport\",\"status\":\"pending\"}", "bad_value",
                 "MeasureReport.status");
    expect_error("{\"resourceType\":\"MeasureReport\",\"status\":\"complete\",\"date\":\"x\","
                 "\"subject\":{\"reference\":\"Location/bach-mai\"}}",
                 "bad_time", "MeasureReport.date");
    expect_error("{\"resourceType\":\"MeasureReport\",\"status\":\"complete\",\"date\":"
                 "\"2027-01-01T00:00:00Z\",\"subject\":{\"reference\":\"Location/bach-mai\"}}",
                 "out_of_range", "MeasureReport.date");
    expect_error("{\"resourceType\":\"MeasureReport\",\"status\":\"complete\",\"date\":"
                 "\"2026-11-18T08:00:00Z\",\"subject\":{\"identifier\":{\"value\":\"nope\"}}}",
                 "unknown_hospital", "MeasureReport.subject");
    expect_error(MR(",\"group\":[{\"code\":{\"coding\":[{\"system\":\"x\",\"code\":\"y\"}]}}]"),
                 "unknown_bed_type", "MeasureReport.group[0].code");
    expect_error(MR(",\"group\":[" GROUP("burn", POP("staffed", "1")) "," GROUP("burn", "") "]"),
                 "duplicate_field", "MeasureReport.group[1]");
    expect_error(MR(",\"group\":[" GROUP("burn", POP("beds", "1")) "]"), "unknown_field",
                 "MeasureReport.group[0].population[0]");
    expect_error(MR(",\"group\":[" GROUP("burn", POP("staffed", "-1")) "]"), "out_of_range",
                 "MeasureReport.group[0].population[0]");
    expect_error(MR(",\"group\":[" GROUP("burn", POP("staffed", "1.5")) "]"), "out_of_range",
                 "MeasureReport.group[0].population[0]");
    expect_error(
        MR(",\"group\":[" GROUP(
            "burn", POP("staffed", "10") "," POP("occupied", "4") "," POP("available", "5")) "]"),
        "bad_value", "MeasureReport.group[0]");
    expect_error(MR(",\"group\":[" GROUP("burn", POP("available", "5")) "]"), "missing_field",
                 "MeasureReport.group[0]");
    /* one hospital twice in a Bundle */
    expect_error(
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":" MR(
            "") "},{\"resource\":" MR("") "}]}",
        "duplicate_field", "entry[1].resource");
    expect_error("{\"resourceType\":\"MeasureReport\"} x", "bad_json", "");
    expect_error("{\"resourceType\":", "bad_json", "");
}

/* The hospital by its registry have_id (subject.identifier or a Location
 * reference), and the Bundle types docs/interop.md says are read. */
#define ICUPOP(what, n)                                                                            \
    "{\"code\":{\"coding\":[{\"system\":\"" BP_FHIR_ICU "\",\"code\":\"" what "\"}]},\"count\":" n \
    "}"

/* The intensive-care places read back, and their rules refused naming
 * the group. */
static void test_reader_icu_detail(void **state) {
    (void)state;
    bp_import_t im;
    bp_import_init(&im, reg.n_hospitals);
    const char *ok = MR(",\"group\":[" GROUP(
        "icu_pediatric", ICUPOP("ventilated-total", "8") "," ICUPOP("ventilated-free", "2")) "]");
    assert_int_equal(bp_fhir_parse(ok, strlen(ok), &reg, NOW, 300000, &im), 0);
    assert_int_equal(im.items[0].change.bed_fields[BP_BED_ICU_PEDIATRIC], BP_BF_VENTILATED);
    assert_int_equal(im.items[0].change.icu[BP_BED_ICU_PEDIATRIC].ventilated.total, 8);
    bp_import_free(&im);
    expect_error(MR(",\"group\":[" GROUP(
                     "burn", ICUPOP("ecmo-total", "1") "," ICUPOP("ecmo-free", "0")) "]"),
                 "unknown_field", "MeasureReport.group[0]");
    expect_error(MR(",\"group\":[" GROUP("icu_adult", ICUPOP("ecmo-total", "1")) "]"),
                 "missing_field", "MeasureReport.group[0]");
    expect_error(MR(",\"group\":[" GROUP(
                     "icu_adult", ICUPOP("ecmo-total", "1") "," ICUPOP("ecmo-free", "2")) "]"),
                 "bad_value", "MeasureReport.group[0]");
    expect_error(MR(",\"group\":[" GROUP(
                     "icu_adult", ICUPOP("ecmo-total", "1") "," ICUPOP("ecmo-total", "2")) "]"),
                 "duplicate_field", "MeasureReport.group[0].population[1]");
    expect_error(MR(",\"group\":[" GROUP("icu_adult", ICUPOP("ecmo-spare", "1")) "]"),
                 "unknown_field", "MeasureReport.group[0].population[0]");
}

static void test_reader_have_id_and_bundles(void **state) {
    (void)state;
    int xp = bp_registry_hospital(&reg, "xanh-pon", 8);
    snprintf(reg.hospitals[xp].have_id, sizeof reg.hospitals[xp].have_id, "urn:hn:BV-07");
    static const char *const docs[] = {
        "{\"resourceType\":\"MeasureReport\",\"status\":\"complete\",\"date\":"
        "\"2026-11-18T08:00:00Z\",\"subject\":{\"identifier\":{\"value\":\"urn:hn:BV-07\"}},"
        "\"group\":[" GROUP("burn", POP("staffed", "3")) "]}",
        "{\"resourceType\":\"MeasureReport\",\"status\":\"complete\",\"date\":"
        "\"2026-11-18T08:00:00Z\",\"subject\":{\"reference\":\"Location/urn:hn:BV-07\"},"
        "\"group\":[" GROUP("burn", POP("staffed", "3")) "]}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        bp_import_t im;
        bp_import_init(&im, reg.n_hospitals);
        if (bp_fhir_parse(docs[i], strlen(docs[i]), &reg, NOW, 300000, &im))
            fail_msg("refused: %s at %s: %s", im.errs.e[0].code, im.errs.e[0].field, docs[i]);
        assert_int_equal(im.n, 1);
        assert_int_equal(im.items[0].hospital, xp);
        assert_string_equal(im.items[0].change.id, "xanh-pon");
        assert_int_equal(im.items[0].change.beds[BP_BED_BURN].staffed, 3);
        bp_import_free(&im);
    }
    reg.hospitals[xp].have_id[0] = '\0';
    static const char *const types[] = {"collection", "batch", "transaction", "searchset"};
    for (size_t i = 0; i < 4; i++) {
        char doc[1024];
        snprintf(doc, sizeof doc,
                 "{\"resourceType\":\"Bundle\",\"type\":\"%s\",\"entry\":[{\"resource\":" MR(
                     ",\"group\":[" GROUP("burn", POP("staffed", "4")) "]") "}]}",
                 types[i]);
        bp_import_t im;
        bp_import_init(&im, reg.n_hospitals);
        if (bp_fhir_parse(doc, strlen(doc), &reg, NOW, 300000, &im))
            fail_msg("Bundle of type %s refused: %s", types[i], im.errs.e[0].message);
        assert_int_equal(im.n, 1);
        assert_int_equal(im.items[0].change.beds[BP_BED_BURN].staffed, 4);
        bp_import_free(&im);
    }
}

/* Each {path, string} of a NULL-ended list is at path in j. */
static void expect_strings(const cJSON *j, const char *const want[][2]) {
    for (; want[0][0]; want++)
        if (strcmp(tu_str(j, want[0][0]), want[0][1]) != 0)
            fail_msg("%s: %s, not %s", want[0][0], tu_str(j, want[0][0]), want[0][1]);
}

/* The facility (Location.status, operationalStatus and the extension) and
 * the services (a HealthcareService each, at the Location). */
static void test_facility_and_services(void **state) {
    (void)state;
    int vd = bp_registry_hospital(&reg, "viet-duc", 8);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1u << 20);
    /* never reported: active, no extension; every service available */
    bp_fhir_write_bundle(&b, st, vd, NOW);
    cJSON *j = tu_parse_buf(&b);
    assert_null(tu_get(j, "entry.0.resource.extension"));
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "entry")), 1 + 6); /* viet-duc: six services */
    expect_strings(j,
                   (const char *const[][2]){{"entry.0.resource.status", "active"},
                                            {"entry.1.resource.resourceType", "HealthcareService"},
                                            {"entry.1.resource.id", "viet-duc-ct"},
                                            {"entry.1.resource.extension.0.valueCode", "available"},
                                            {"entry.3.resource.id", "viet-duc-cath-lab"},
                                            {"entry.3.resource.type.0.coding.0.code", "cath_lab"},
                                            {NULL, NULL}});
    cJSON_Delete(j);

    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "viet-duc");
    c.at_ms = NOW - 1000;
    c.has_fac = true;
    c.fac = (bp_facility_t){BP_FAC_EVACUATING, {2, -1, 1}, "cháy tầng 3"};
    c.svc_fields = 1u << BP_SVC_CT | 1u << BP_SVC_TRAUMA;
    c.svc[BP_SVC_CT] = (bp_svc_t){BP_SVS_UNAVAILABLE, NOW + 3600000, "tube"};
    c.svc[BP_SVC_TRAUMA] = (bp_svc_t){BP_SVS_LIMITED, 0, "one team"};
    bp_state_apply(st, &c);
    bp_buf_reset(&b);
    bp_fhir_write_bundle(&b, st, vd, NOW);
    j = tu_parse_buf(&b);
    expect_strings(j,
                   (const char *const[][2]){
                       {"entry.0.resource.status", "active"}, /* evacuating: still open */
                       {"entry.0.resource.operationalStatus.code", "C"},
                       {"entry.0.resource.extension.0.url", BP_FHIR_EXT_FACILITY},
                       {"entry.0.resource.extension.0.extension.0.url", "status"},
                       {"entry.0.resource.extension.0.extension.0.valueCode", "evacuating"},
                       {"entry.0.resource.extension.0.extension.1.valueString", "cháy tầng 3"},
                       {"entry.0.resource.extension.0.extension.2.url", "power"},
                       {"entry.0.resource.extension.0.extension.2.valueCode", "out"},
                       {"entry.0.resource.extension.0.extension.3.url", "water"}, /* no oxygen */
                       {"entry.1.resource.extension.0.valueCode", "unavailable"},
                       {"entry.1.resource.notAvailable.0.description", "tube"},
                       {"entry.1.resource.notAvailable.0.during.end", "2026-11-18T12:06:40.000Z"},
                       {"entry.1.resource.location.0.reference", "Location/viet-duc"},
                       {"entry.4.resource.id", "viet-duc-trauma"},
                       {"entry.4.resource.extension.0.valueCode", "limited"},
                       {"entry.4.resource.availabilityExceptions", "one team"},
                       {NULL, NULL}});
    assert_int_equal(cJSON_GetArraySize(tu_get(j, "entry.0.resource.extension.0.extension")), 4);
    const cJSON *trauma = tu_get(j, "entry.4.resource");
    assert_null(tu_get(trauma, "notAvailable"));
    cJSON_Delete(j);
    /* closed: suspended (R4: temporarily closed) */
    c.fac.status = BP_FAC_CLOSED;
    c.svc_fields = 0;
    c.at_ms = NOW - 500;
    bp_state_apply(st, &c);
    bp_buf_reset(&b);
    bp_fhir_write_location(&b, st, (size_t)vd, NOW);
    j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "status"), "suspended");
    assert_string_equal(tu_str(j, "operationalStatus.code"), "C");
    cJSON_Delete(j);
    bp_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundle),
        cmocka_unit_test(test_location_and_report),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_reader_have_id_and_bundles),
        cmocka_unit_test(test_reader_icu_detail),
        cmocka_unit_test(test_facility_and_services),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
