/*
 * Tests for core/bp_codec_feed.c: the strict feed validator
 * (docs/protocol.md §1) on beds, ambulance and incident lines. Ids come from
 * the real registry.
 */
#include "test_util.h"

#include "bp_codec_feed.h"
#include "bp_time.h"

#include "codec_fixture.h"

static void test_beds_full_example(void **state) {
    (void)state;
    bp_change_t c;
    expect_ok(BEDS_HEAD ",\"beds\":{\"icu_adult\":{\"staffed\":60,\"occupied\":63,\"surge24\":8}},"
                        "\"ed\":{\"status\":\"diversion\",\"reason\":\"no ICU beds\","
                        "\"until\":\"2026-11-22T12:00:00+07:00\",\"waiting\":12}}",
              &c);
    assert_int_equal(c.kind, BP_KIND_HOSPITAL);
    assert_string_equal(c.source, "his-bach-mai");
    assert_int_equal(c.seq, 41);
    assert_int_equal(c.at_ms, NOW_MS);
    assert_string_equal(c.id, "bach-mai");
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT],
                     BP_BF_STAFFED | BP_BF_OCCUPIED | BP_BF_SURGE24);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].staffed, 60);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].occupied, 63);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].surge24, 8);
    /* occupancy above staffed is valid: overcrowding */
    assert_int_equal(bp_beds_available(&c.beds[BP_BED_ICU_ADULT]), 0);
    assert_int_equal(bp_beds_overflow(&c.beds[BP_BED_ICU_ADULT]), 3);
    for (int t = 0; t < BP_BED__COUNT; t++)
        if (t != BP_BED_ICU_ADULT) assert_int_equal(c.bed_fields[t], 0);
    assert_true(c.has_ed);
    assert_int_equal(c.ed.status, BP_ED_DIVERSION);
    assert_string_equal(c.ed.reason, "no ICU beds");
    assert_int_equal(c.ed.until_ms, NOW_MS + 4 * 3600000LL);
    assert_int_equal(c.ed.waiting, 12);
    assert_int_equal(c.amb_fields, 0);
}

static void test_beds_partial(void **state) {
    (void)state;
    bp_change_t c;
    expect_ok(
        with_beds("\"icu_adult\":{\"occupied\":63},\"burn\":{\"staffed\":0,\"surge24\":100000}"),
        &c);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], BP_BF_OCCUPIED);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].occupied, 63);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].staffed, -1);
    assert_int_equal(c.bed_fields[BP_BED_BURN], BP_BF_STAFFED | BP_BF_SURGE24);
    assert_int_equal(c.beds[BP_BED_BURN].staffed, 0);
    assert_int_equal(c.beds[BP_BED_BURN].surge24, 100000);
    assert_false(c.has_ed);
    /* neither beds nor ed: a confirmation */
    expect_ok(BEDS_HEAD "}", &c);
    for (int t = 0; t < BP_BED__COUNT; t++)
        assert_int_equal(c.bed_fields[t], 0);
    assert_false(c.has_ed);
    assert_string_equal(c.id, "bach-mai");
    /* an empty beds object is allowed too */
    expect_ok(with_beds(""), &c);
    /* the ED with a status only */
    expect_ok(BEDS_HEAD ",\"ed\":{\"status\":\"normal\",\"reason\":null,\"until\":null}}", &c);
    assert_true(c.has_ed);
    assert_int_equal(c.ed.status, BP_ED_NORMAL);
    assert_int_equal(c.ed.until_ms, 0);
    assert_int_equal(c.ed.waiting, -1);
    assert_string_equal(c.ed.reason, "");
    /* fields in any order, whitespace around */
    expect_ok(" { \"hospital\" : \"viet-duc\" , \"at\" : \"2026-11-22T00:59:00Z\" , \"seq\" : 0 ,"
              " \"source\" : \"a\" , \"type\" : \"beds\" } \r\n",
              &c);
    assert_string_equal(c.id, "viet-duc");
    assert_int_equal(c.seq, 0);
    assert_int_equal(c.at_ms, NOW_MS - 60000);
}

/* The intensive-care detail (issue 15 part 3): ventilated and ECMO places
 * of the ICU bed types, each {"total","free"}; every rule refused with the
 * field it names. */
static void test_icu_detail(void **state) {
    (void)state;
    bp_change_t c;
    expect_ok(with_beds("\"icu_adult\":{\"staffed\":40,\"ventilated\":{\"total\":30,\"free\":4},"
                        "\"ecmo\":{\"total\":3,\"free\":0}},"
                        "\"icu_pediatric\":{\"ecmo\":{\"free\":1,\"total\":1}}"),
              &c);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], BP_BF_STAFFED | BP_BF_VENTILATED | BP_BF_ECMO);
    assert_int_equal(c.icu[BP_BED_ICU_ADULT].ventilated.total, 30);
    assert_int_equal(c.icu[BP_BED_ICU_ADULT].ventilated.free, 4);
    assert_int_equal(c.icu[BP_BED_ICU_ADULT].ecmo.total, 3);
    assert_int_equal(c.icu[BP_BED_ICU_ADULT].ecmo.free, 0);
    /* the detail alone is a report of the bed type */
    assert_int_equal(c.bed_fields[BP_BED_ICU_PEDIATRIC], BP_BF_ECMO);
    assert_int_equal(c.icu[BP_BED_ICU_PEDIATRIC].ecmo.total, 1);
    /* bounds */
    expect_ok(with_beds("\"icu_adult\":{\"ventilated\":{\"total\":100000,\"free\":0}}"), &c);
    static const struct {
        const char *beds, *code, *field;
    } bad[] = {
        {"\"medical_surgical\":{\"ventilated\":{\"total\":1,\"free\":1}}", "unknown_field",
         "beds.medical_surgical.ventilated"},
        {"\"icu_neonatal\":{\"ecmo\":{\"total\":1,\"free\":1}}", "unknown_field",
         "beds.icu_neonatal.ecmo"},
        {"\"icu_adult\":{\"ventilated\":{\"total\":3,\"free\":4}}", "bad_value",
         "beds.icu_adult.ventilated.free"},
        {"\"icu_adult\":{\"staffed\":10,\"ecmo\":{\"total\":11,\"free\":0}}", "bad_value",
         "beds.icu_adult.ecmo.total"},
        {"\"icu_adult\":{\"ventilated\":{\"total\":3}}", "missing_field",
         "beds.icu_adult.ventilated.free"},
        {"\"icu_adult\":{\"ecmo\":{\"free\":0}}", "missing_field", "beds.icu_adult.ecmo.total"},
        {"\"icu_adult\":{\"ventilated\":{\"total\":-1,\"free\":0}}", "out_of_range",
         "beds.icu_adult.ventilated.total"},
        {"\"icu_adult\":{\"ventilated\":{\"total\":100001,\"free\":0}}", "out_of_range",
         "beds.icu_adult.ventilated.total"},
        {"\"icu_adult\":{\"ventilated\":{\"total\":2.5,\"free\":0}}", "wrong_type",
         "beds.icu_adult.ventilated.total"},
        {"\"icu_adult\":{\"ventilated\":{\"total\":\"3\",\"free\":0}}", "wrong_type",
         "beds.icu_adult.ventilated.total"},
        {"\"icu_adult\":{\"ventilated\":{\"total\":3,\"free\":0,\"vent\":1}}", "unknown_field",
         "beds.icu_adult.ventilated.vent"},
        {"\"icu_adult\":{\"ventilated\":[3,0]}", "wrong_type", "beds.icu_adult.ventilated"},
        {"\"icu_adult\":{\"ventilated\":null}", "wrong_type", "beds.icu_adult.ventilated"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_err(with_beds(bad[i].beds), bad[i].code, bad[i].field);
}

static void test_ambulance_full_example(void **state) {
    (void)state;
    bp_change_t c;
    expect_ok(AMB_HEAD ",\"status\":\"transporting\",\"lat\":21.0285,\"lon\":105.8542,"
                       "\"heading\":135,\"speed\":42,\"destination\":\"viet-duc\","
                       "\"incident\":\"INC-2211-0042\"}",
              &c);
    assert_int_equal(c.kind, BP_KIND_AMBULANCE);
    assert_string_equal(c.id, "115-HK-03");
    assert_int_equal(c.seq, 9001);
    assert_int_equal(c.at_ms, NOW_MS + 5000);
    assert_int_equal(c.amb_fields, BP_AF_STATUS | BP_AF_POSITION | BP_AF_HEADING | BP_AF_SPEED |
                                       BP_AF_DESTINATION | BP_AF_INCIDENT);
    assert_int_equal(c.amb.status, BP_AMB_TRANSPORTING);
    assert_true(c.amb.has_position);
    assert_float_equal(c.amb.lat, 21.0285, 1e-12);
    assert_float_equal(c.amb.lon, 105.8542, 1e-12);
    assert_float_equal(c.amb.heading, 135, 0);
    assert_float_equal(c.amb.speed, 42, 0);
    assert_string_equal(c.amb.destination, "viet-duc");
    assert_string_equal(c.amb.incident, "INC-2211-0042");
    /* only an id: nothing flagged */
    expect_ok(AMB_HEAD "}", &c);
    assert_int_equal(c.amb_fields, 0);
    /* range ends */
    expect_ok(AMB_HEAD ",\"lat\":-90,\"lon\":180,\"heading\":360,\"speed\":0}", &c);
    assert_float_equal(c.amb.lat, -90, 0);
    assert_float_equal(c.amb.lon, 180, 0);
}

static void test_ambulance_destination_clears(void **state) {
    (void)state;
    bp_change_t c;
    expect_ok(AMB_HEAD ",\"destination\":null}", &c);
    assert_int_equal(c.amb_fields, BP_AF_DESTINATION);
    assert_string_equal(c.amb.destination, "");
    expect_ok(AMB_HEAD ",\"destination\":\"\",\"incident\":null}", &c);
    assert_int_equal(c.amb_fields, BP_AF_DESTINATION | BP_AF_INCIDENT);
    assert_string_equal(c.amb.destination, "");
    assert_string_equal(c.amb.incident, "");
    expect_err(AMB_HEAD ",\"destination\":\"nope\"}", "unknown_hospital", "destination");
    expect_err(AMB_HEAD ",\"destination\":7}", "wrong_type", "destination");
    expect_err(AMB_HEAD ",\"destination\":[\"viet-duc\"]}", "wrong_type", "destination");
}

static void test_ambulance_rules(void **state) {
    (void)state;
    expect_err(AMB_HEAD ",\"lat\":21.0}", "missing_field", "lon");
    expect_err(AMB_HEAD ",\"lon\":105.8}", "missing_field", "lat");
    expect_err(AMB_HEAD ",\"lat\":90.5,\"lon\":105}", "out_of_range", "lat");
    expect_err(AMB_HEAD ",\"lat\":21,\"lon\":-180.01}", "out_of_range", "lon");
    expect_err(AMB_HEAD ",\"lat\":\"21\",\"lon\":105}", "wrong_type", "lat");
    expect_err(AMB_HEAD ",\"heading\":360.5}", "out_of_range", "heading");
    expect_err(AMB_HEAD ",\"heading\":-1}", "out_of_range", "heading");
    expect_err(AMB_HEAD ",\"speed\":301}", "out_of_range", "speed");
    expect_err(AMB_HEAD ",\"speed\":null}", "wrong_type", "speed");
    expect_err(AMB_HEAD ",\"status\":\"parked\"}", "bad_value", "status");
    expect_err(AMB_HEAD ",\"status\":7}", "bad_value", "status");
    expect_err(AMB_HEAD ",\"incident\":\"INC\\u202e\"}", "bad_string", "incident");
    expect_err(
        AMB_HEAD
        ",\"incident\":\"12345678901234567890123456789012345678901234567890123456789012345\"}",
        "too_long", "incident");
    expect_err(AMB_HEAD ",\"hospital\":\"bach-mai\"}", "unknown_field", "hospital");
    expect_err("{\"type\":\"ambulance\",\"source\":\"avl-115\",\"seq\":1,"
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"id\":\"115-XX-99\"}",
               "unknown_ambulance", "id");
    expect_err("{\"type\":\"ambulance\",\"source\":\"avl-115\",\"seq\":1,"
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"id\":\"115 HK 03\"}",
               "bad_value", "id");
    expect_err("{\"type\":\"ambulance\",\"source\":\"avl-115\",\"seq\":1,"
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"status\":\"on_scene\"}",
               "missing_field", "id");
}

/* -- numbers -------------------------------------------------------------- */

static void test_numbers_rejected_with_path(void **state) {
    (void)state;
    bp_change_t c;
    bp_error_t err;
    const char *line = with_beds("\"icu_adult\":{\"staffed\":60,\"occupied\":-3}");
    assert_int_equal(feed_n(line, strlen(line), &c, &err), -1);
    assert_string_equal(err.code, "out_of_range");
    assert_string_equal(err.field, "beds.icu_adult.occupied");
    assert_string_equal(err.message, "beds.icu_adult.occupied must be from 0 to 100000, got -3");

    expect_err(with_beds("\"icu_adult\":{\"occupied\":1.5}"), "wrong_type",
               "beds.icu_adult.occupied");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":100001}"), "out_of_range",
               "beds.icu_adult.occupied");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":1e300}"), "out_of_range",
               "beds.icu_adult.occupied");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":\"63\"}"), "wrong_type",
               "beds.icu_adult.occupied");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":null}"), "wrong_type",
               "beds.icu_adult.occupied");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":true}"), "wrong_type",
               "beds.icu_adult.occupied");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":[63]}"), "wrong_type",
               "beds.icu_adult.occupied");
    expect_err(with_beds("\"medical_surgical\":{\"staffed\":-1}"), "out_of_range",
               "beds.medical_surgical.staffed");
    expect_err(with_beds("\"burn\":{\"surge24\":2.25}"), "wrong_type", "beds.burn.surge24");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":1},\"isolation\":{\"staffed\":\"x\"}"),
               "wrong_type", "beds.isolation.staffed");
    expect_err(with_beds("\"icu_adult\":63"), "wrong_type", "beds.icu_adult");
    expect_err(with_beds("\"icu_adult\":{}"), "missing_field", "beds.icu_adult");
    expect_err(BEDS_HEAD ",\"beds\":[1]}", "wrong_type", "beds");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"advisory\",\"waiting\":-1}}", "out_of_range",
               "ed.waiting");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"advisory\",\"waiting\":10001}}", "out_of_range",
               "ed.waiting");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"advisory\",\"waiting\":\"5\"}}", "wrong_type",
               "ed.waiting");
    /* the upper bounds themselves are fine, as is a whole number written as a float */
    expect_ok(with_beds("\"icu_adult\":{\"occupied\":100000,\"staffed\":60.0}"), &c);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].occupied, 100000);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].staffed, 60);
    expect_ok(BEDS_HEAD ",\"ed\":{\"status\":\"advisory\",\"waiting\":10000}}", &c);
    assert_int_equal(c.ed.waiting, 10000);
}

static void test_seq_rules(void **state) {
    (void)state;
    bp_change_t c;
    expect_ok("{\"type\":\"beds\",\"source\":\"s\",\"seq\":9007199254740991,"
              "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
              &c);
    assert_int_equal(c.seq, 9007199254740991LL);
    assert_int_equal(expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":9007199254740992,"
                                "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
                                "out_of_range", "seq"),
                     -1);
    expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":-1,"
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
               "out_of_range", "seq");
    expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":4.5,"
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
               "wrong_type", "seq");
    expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":\"41\","
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
               "wrong_type", "seq");
}

/* -- names, ids, fields --------------------------------------------------- */

static void test_unknowns(void **state) {
    (void)state;
    expect_err(with_beds("\"icu\":{\"occupied\":1}"), "unknown_bed_type", "beds.icu");
    expect_err(with_beds("\"ICU_ADULT\":{\"occupied\":1}"), "unknown_bed_type", "beds.ICU_ADULT");
    expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\","
               "\"hospital\":\"benh-vien-khong-co\"}",
               "unknown_hospital", "hospital");
    expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\","
               "\"hospital\":\"Bach-Mai\"}",
               "bad_value", "hospital");
    expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\","
               "\"hospital\":42}",
               "bad_value", "hospital");
    expect_err(BEDS_HEAD ",\"colour\":\"red\"}", "unknown_field", "colour");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":1,\"free\":3}"), "unknown_field",
               "beds.icu_adult.free");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"normal\",\"color\":\"red\"}}", "unknown_field",
               "ed.color");
    expect_err("{\"type\":\"chairs\",\"source\":\"s\",\"seq\":1}", "unknown_type", "type");
    expect_err("{\"type\":1,\"source\":\"s\",\"seq\":1}", "unknown_type", "type");
    expect_err("{\"type\":\"BEDS\",\"source\":\"s\",\"seq\":1}", "unknown_type", "type");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"busy\"}}", "bad_value", "ed.status");
    expect_err(BEDS_HEAD ",\"ed\":{\"reason\":\"x\"}}", "missing_field", "ed.status");
    expect_err(BEDS_HEAD ",\"ed\":\"diversion\"}", "wrong_type", "ed");
    expect_err("{\"type\":\"beds\",\"source\":\"his bach mai\",\"seq\":1,"
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
               "bad_value", "source");
    expect_err("{\"type\":\"beds\",\"source\":\"\",\"seq\":1,"
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
               "bad_value", "source");
    expect_err("{\"type\":\"beds\",\"source\":"
               "\"x1234567890123456789012345678901234567890123456789012345678901234\","
               "\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
               "bad_value", "source");
}

static void test_duplicates(void **state) {
    (void)state;
    assert_int_equal(expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":41,\"seq\":42,"
                                "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
                                "duplicate_field", "seq"),
                     41);
    expect_err(BEDS_HEAD ",\"hospital\":\"viet-duc\"}", "duplicate_field", "hospital");
    expect_err(BEDS_HEAD ",\"type\":\"beds\"}", "duplicate_field", "type");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":1},\"icu_adult\":{\"occupied\":2}"),
               "duplicate_field", "beds.icu_adult");
    expect_err(with_beds("\"icu_adult\":{\"occupied\":1,\"occupied\":2}"), "duplicate_field",
               "beds.icu_adult.occupied");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"normal\",\"status\":\"closed\"}}",
               "duplicate_field", "ed.status");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"normal\"},\"ed\":{\"status\":\"closed\"}}",
               "duplicate_field", "ed");
}

static void test_missing_fields(void **state) {
    (void)state;
    assert_int_equal(expect_err("{\"type\":\"beds\",\"source\":\"s\","
                                "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
                                "missing_field", "seq"),
                     -1);
    assert_int_equal(expect_err("{\"source\":\"s\",\"seq\":5,"
                                "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
                                "missing_field", "type"),
                     5);
    expect_err("{\"type\":\"beds\",\"seq\":5,"
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
               "missing_field", "source");
    expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":5,\"hospital\":\"bach-mai\"}",
               "missing_field", "at");
    expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":5,"
               "\"at\":\"2026-11-22T08:00:00+07:00\"}",
               "missing_field", "hospital");
    expect_err("{}", "missing_field", "seq");
}

/* -- times ---------------------------------------------------------------- */

static const char *with_at(const char *at_json) {
    static char line[512];
    snprintf(line, sizeof line,
             "{\"type\":\"beds\",\"source\":\"s\",\"seq\":3,\"at\":%s,\"hospital\":\"bach-mai\"}",
             at_json);
    return line;
}

static void test_bad_times(void **state) {
    (void)state;
    expect_err(with_at("\"2026-11-22T08:00:00\""), "bad_time", "at");
    expect_err(with_at("\"2026-02-30T08:00:00+07:00\""), "bad_time", "at");
    expect_err(with_at("\"garbage\""), "bad_time", "at");
    expect_err(with_at("\"\""), "bad_time", "at");
    expect_err(with_at("1795309200000"), "bad_time", "at");
    expect_err(with_at("null"), "bad_time", "at");
    expect_err(with_at("\"2026-11-22T08:00:00+07:00\\u0020\""), "bad_time", "at");
    assert_int_equal(expect_err(with_at("\"22/11/2026 08:00\""), "bad_time", "at"), 3);
}

static void test_future_at(void **state) {
    (void)state;
    bp_change_t c;
    bp_error_t err;
    /* exactly the allowed skew is fine, one second more is not */
    expect_ok(with_at("\"2026-11-22T08:05:00+07:00\""), &c);
    assert_int_equal(c.at_ms, NOW_MS + SKEW_MS);
    expect_err(with_at("\"2026-11-22T08:05:01+07:00\""), "out_of_range", "at");
    expect_err(with_at("\"2027-01-01T00:00:00Z\""), "out_of_range", "at");
    /* the bound comes from the parameters */
    const char *line = with_at("\"2026-11-22T08:00:01+07:00\"");
    assert_int_equal(bp_codec_parse_feed(line, strlen(line), &reg, NOW_MS, 0, &c, &err), -1);
    assert_string_equal(err.code, "out_of_range");
    assert_string_equal(err.field, "at");
    assert_int_equal(bp_codec_parse_feed(line, strlen(line), &reg, NOW_MS, 1000, &c, &err), 0);
    assert_int_equal(bp_codec_parse_feed(line, strlen(line), &reg, NOW_MS + 1000, 0, &c, &err), 0);
    /* the past is fine here (out-of-order is decided against the stored state) */
    expect_ok(with_at("\"2020-01-01T00:00:00Z\""), &c);
}

static void test_ed_until(void **state) {
    (void)state;
    bp_change_t c;
    expect_err(BEDS_HEAD
               ",\"ed\":{\"status\":\"diversion\",\"until\":\"2026-11-22T07:00:00+07:00\"}}",
               "bad_value", "ed.until");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"diversion\",\"until\":\"2026-11-22T01:00:00Z\"}}",
               "bad_value", "ed.until"); /* equal to at */
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"normal\",\"until\":\"2026-11-22T12:00:00+07:00\"}}",
               "bad_value", "ed.until");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"closed\",\"until\":\"noon\"}}", "bad_time",
               "ed.until");
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"closed\",\"until\":\"2026-11-22T12:00:00\"}}",
               "bad_time", "ed.until");
    expect_ok(BEDS_HEAD ",\"ed\":{\"status\":\"closed\",\"until\":\"2026-11-22T01:00:00.001Z\"}}",
              &c);
    assert_int_equal(c.ed.until_ms, NOW_MS + 1);
    assert_int_equal(c.ed.status, BP_ED_CLOSED);
    /* until may lie beyond the skew: it is a plan, not a report time */
    expect_ok(
        BEDS_HEAD ",\"ed\":{\"status\":\"advisory\",\"until\":\"2026-11-23T08:00:00+07:00\"}}", &c);
    assert_int_equal(c.ed.until_ms, NOW_MS + 86400000LL);
}

/* -- hostile strings ------------------------------------------------------ */

static void test_hostile_reason(void **state) {
    (void)state;
    bp_change_t c;
    expect_err(with_reason("bell\\u0007"), "bad_string", "ed.reason");
    expect_err(with_reason("two\\nlines"), "bad_string", "ed.reason");
    expect_err(with_reason("tab\\there"), "bad_string", "ed.reason");
    expect_err(with_reason("esc\\u001b[2J"), "bad_string", "ed.reason");
    expect_err(with_reason("del\\u007f"), "bad_string", "ed.reason");
    expect_err(with_reason("c1\\u0085"), "bad_string", "ed.reason");
    /* bidi overrides and isolates, escaped and raw */
    expect_err(with_reason("abc\\u202edef"), "bad_string", "ed.reason");
    expect_err(with_reason("abc\xe2\x80\xae"
                           "def"),
               "bad_string", "ed.reason");
    expect_err(with_reason("\\u2066x\\u2069"), "bad_string", "ed.reason");
    expect_err(with_reason("\\u202a"), "bad_string", "ed.reason");
    /* invalid UTF-8 bytes, overlong forms, encoded surrogates */
    expect_err(with_reason("bad \xff byte"), "bad_string", "ed.reason");
    expect_err(with_reason("lone \x80"), "bad_string", "ed.reason");
    expect_err(with_reason("cut \xe1\xba"), "bad_string", "ed.reason");
    expect_err(with_reason("overlong \xc0\xaf"), "bad_string", "ed.reason");
    expect_err(with_reason("overlong \xe0\x80\xaf"), "bad_string", "ed.reason");
    expect_err(with_reason("surrogate \xed\xa0\x80"), "bad_string", "ed.reason");
    expect_err(with_reason("big \xf4\x90\x80\x80"), "bad_string", "ed.reason");
    /* a reason that is not a string */
    expect_err(BEDS_HEAD ",\"ed\":{\"status\":\"advisory\",\"reason\":42}}", "wrong_type",
               "ed.reason");
    /* clean Vietnamese text and other symbols are kept */
    expect_ok(
        with_reason("h\xe1\xba\xbft gi\xc6\xb0\xe1\xbb\x9dng ICU \\\"A\\\" <b> & \xe2\x80\xa8"),
        &c);
    assert_string_equal(c.ed.reason,
                        "h\xe1\xba\xbft gi\xc6\xb0\xe1\xbb\x9dng ICU \"A\" <b> & \xe2\x80\xa8");
}

static void test_raw_control_in_string(void **state) {
    (void)state;
    /* JSON forbids raw control characters in strings; whichever layer
     * catches it, the line is refused. */
    static const char *const raws[] = {"a\x01z", "a\tz", "a\x1fz", "a\x7fz"};
    for (size_t i = 0; i < sizeof raws / sizeof *raws; i++) {
        const char *line = with_reason(raws[i]);
        bp_change_t c;
        bp_error_t err;
        assert_int_equal(feed_n(line, strlen(line), &c, &err), -1);
        if (strcmp(err.code, "bad_string") != 0 && strcmp(err.code, "bad_json") != 0)
            fail_msg("raw control %zu: unexpected %s", i, err.code);
    }
}

static void test_unpaired_surrogate_escape(void **state) {
    (void)state;
    static const char *const bad[] = {"\\ud800", "x\\udc00y", "\\ud800\\u0041"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *line = with_reason(bad[i]);
        bp_change_t c;
        bp_error_t err;
        assert_int_equal(feed_n(line, strlen(line), &c, &err), -1);
        if (strcmp(err.code, "bad_string") != 0 && strcmp(err.code, "bad_json") != 0)
            fail_msg("%s: unexpected %s", bad[i], err.code);
    }
    /* a proper pair is a 4-byte character, which is fine */
    bp_change_t c;
    expect_ok(with_reason("\\ud83d\\ude91"), &c);
    assert_string_equal(c.ed.reason, "\xf0\x9f\x9a\x91");
}

static void test_reason_length(void **state) {
    (void)state;
    char r[1024];
    bp_change_t c;
    /* 200 ASCII bytes fit, 201 do not */
    memset(r, 'a', 200);
    r[200] = '\0';
    expect_ok(with_reason(r), &c);
    assert_int_equal(strlen(c.ed.reason), 200);
    r[200] = 'a';
    r[201] = '\0';
    expect_err(with_reason(r), "too_long", "ed.reason");
    /* the limit is in bytes of UTF-8: 66 x 3 = 198 fit, 67 x 3 = 201 do not */
    r[0] = '\0';
    for (int i = 0; i < 66; i++)
        strcat(r, "\xe1\xba\xa1");
    expect_ok(with_reason(r), &c);
    assert_int_equal(strlen(c.ed.reason), 198);
    assert_memory_equal(c.ed.reason, "\xe1\xba\xa1", 3);
    strcat(r, "\xe1\xba\xa1");
    expect_err(with_reason(r), "too_long", "ed.reason");
    /* escapes count as what they decode to */
    r[0] = '\0';
    for (int i = 0; i < 67; i++)
        strcat(r, "\\u1ea1");
    expect_err(with_reason(r), "too_long", "ed.reason");
}

static void test_escaped_nul(void **state) {
    (void)state;
    expect_err(with_reason("ok\\u0000hidden"), "bad_string", "");
    expect_err("{\"type\":\"beds\",\"source\":\"s\",\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\","
               "\"hospital\":\"bach-mai\\u0000x\"}",
               "bad_string", "");
    expect_err("{\"type\":\"beds\",\"source\":\"s\\u0000\",\"seq\":1,"
               "\"at\":\"2026-11-22T08:00:00+07:00\",\"hospital\":\"bach-mai\"}",
               "bad_string", "");
    expect_err("{\"type\\u0000\":\"beds\",\"seq\":7}", "bad_string", "");
    /* the seq is read first, so the reply can echo it */
    bp_change_t seen;
    bp_error_t err;
    assert_int_equal(
        bp_codec_parse_feed("{\"seq\":7,\"type\":\"be\\u0000ds\"}", 29, NULL, 0, 0, &seen, &err),
        -1);
    assert_string_equal(err.code, "bad_string");
    assert_int_equal(seen.seq, 7);
    expect_err(with_reason("\\\\\\u0000"), "bad_string", ""); /* escaped backslash, then a NUL */
    /* an escaped backslash followed by the text u0000 is not a NUL */
    bp_change_t c;
    expect_ok(with_reason("C:\\\\u0000"), &c);
    assert_string_equal(c.ed.reason, "C:\\u0000");
}

/* A raw NUL byte inside a string would end the C string early ("bach-mai"
 * instead of "bach-mai<NUL>x"); such a line must not be accepted. */
static void test_raw_nul_byte(void **state) {
    (void)state;
    static const char line[] =
        "{\"type\":\"beds\",\"source\":\"s\",\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\","
        "\"hospital\":\"bach-mai\0x\"}";
    bp_change_t c;
    bp_error_t err;
    assert_int_equal(feed_n(line, sizeof line - 1, &c, &err), -1);
    assert_string_equal(err.code, "bad_json");
    assert_string_equal(err.field, "");
    static const char reason[] =
        "{\"type\":\"beds\",\"source\":\"s\",\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\","
        "\"hospital\":\"bach-mai\",\"ed\":{\"status\":\"advisory\",\"reason\":\"ok\0hidden\"}}";
    assert_int_equal(feed_n(reason, sizeof reason - 1, &c, &err), -1);
    assert_string_equal(err.code, "bad_json");
    /* a NUL after the object is trailing garbage */
    static const char after[] =
        "{\"type\":\"beds\",\"source\":\"s\",\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\","
        "\"hospital\":\"bach-mai\"}\0";
    assert_int_equal(feed_n(after, sizeof after - 1, &c, &err), -1);
}

/* -- malformed input ------------------------------------------------------ */

static void test_trailing_garbage(void **state) {
    (void)state;
    expect_err(BEDS_HEAD "} x", "bad_json", "");
    expect_err(BEDS_HEAD "}}", "bad_json", "");
    expect_err(BEDS_HEAD "}" BEDS_HEAD "}", "bad_json", "");
    expect_err(BEDS_HEAD "},", "bad_json", "");
    expect_err(BEDS_HEAD "}\n{}", "bad_json", "");
    bp_change_t c;
    expect_ok(BEDS_HEAD "} \t\r\n", &c); /* whitespace is fine */
}

static void test_malformed(void **state) {
    (void)state;
    expect_err_n("", 0, "bad_json", "");
    expect_err_n(BEDS_HEAD "}", 0, "bad_json", ""); /* length 0 even with bytes behind it */
    expect_err("   ", "bad_json", "");
    expect_err("\r", "bad_json", "");
    expect_err("{", "bad_json", "");
    expect_err(BEDS_HEAD, "bad_json", "");
    expect_err("{\"type\":\"beds\",}", "bad_json", "");
    expect_err("{'type':'beds'}", "bad_json", "");
    expect_err("nul", "bad_json", "");
    expect_err("[]", "wrong_type", "");
    expect_err("42", "wrong_type", "");
    expect_err("\"beds\"", "wrong_type", "");
    expect_err("null", "wrong_type", "");
    /* the length is honoured: a valid line cut short is malformed */
    const char *line = BEDS_HEAD "}";
    expect_err_n(line, strlen(line) - 1, "bad_json", "");
}

static void test_deep_nesting(void **state) {
    (void)state;
    enum { DEEP = 100000 };
    size_t head = strlen(BEDS_HEAD ",\"ed\":");
    char *line = malloc(head + 2 * DEEP + 2);
    assert_non_null(line);
    memcpy(line, BEDS_HEAD ",\"ed\":", head);
    /* unbalanced: only opening brackets */
    memset(line + head, '[', DEEP);
    expect_err_n(line, head + DEEP, "bad_json", "");
    /* balanced but far deeper than any message needs */
    memset(line + head + DEEP, ']', DEEP);
    line[head + 2 * DEEP] = '}';
    expect_err_n(line, head + 2 * DEEP + 1, "bad_json", "");
    /* objects nest the same way */
    for (size_t i = 0; i < 3000; i++)
        memcpy(line + head + 5 * i, "{\"a\":", 5);
    expect_err_n(line, head + 15000, "bad_json", "");
    free(line);
    /* moderate nesting parses, and is then refused for its shape */
    char mid[1024];
    int n = snprintf(mid, sizeof mid, "%s", BEDS_HEAD ",\"beds\":{\"icu_adult\":{\"occupied\":");
    for (int i = 0; i < 50; i++)
        mid[n++] = '[';
    for (int i = 0; i < 50; i++)
        mid[n++] = ']';
    memcpy(mid + n, "}}}", 4);
    expect_err(mid, "wrong_type", "beds.icu_adult.occupied");
}

static void test_seq_reported_on_later_errors(void **state) {
    (void)state;
    static const char *const lines[] = {
        "{\"seq\":77,\"type\":\"beds\",\"source\":\"s\",\"at\":\"2026-11-22T08:00:00+07:00\","
        "\"hospital\":\"nope\"}",
        "{\"seq\":77,\"type\":\"beds\",\"source\":\"s\",\"at\":\"2026-11-22T08:00:00+07:00\","
        "\"hospital\":\"bach-mai\",\"beds\":{\"icu_adult\":{\"occupied\":-3}}}",
        "{\"type\":\"beds\",\"source\":\"s\",\"at\":\"2026-11-22T08:00:00+07:00\","
        "\"hospital\":\"bach-mai\",\"ed\":{\"status\":\"advisory\",\"reason\":\"\\u202e\"},\"seq\":"
        "77}",
        "{\"type\":\"beds\",\"source\":\"s\",\"at\":\"bad\",\"seq\":77}",
        "{\"type\":\"beds\",\"seq\":77}",
        "{\"type\":\"trains\",\"seq\":77}",
        "{\"seq\":77,\"extra\":1,\"type\":\"beds\"}",
        "{\"type\":\"ambulance\",\"source\":\"avl\",\"at\":\"2026-11-22T08:00:00+07:00\","
        "\"id\":\"115-HK-03\",\"lat\":1,\"seq\":77}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        bp_change_t c;
        bp_error_t err;
        assert_int_equal(feed_n(lines[i], strlen(lines[i]), &c, &err), -1);
        if (c.seq != 77) fail_msg("line %zu (%s): seq %lld", i, err.code, (long long)c.seq);
    }
    /* when seq itself is broken there is none to report */
    bp_change_t c;
    bp_error_t err;
    const char *bad = "{\"seq\":\"77\",\"type\":\"beds\"}";
    assert_int_equal(feed_n(bad, strlen(bad), &c, &err), -1);
    assert_int_equal(c.seq, -1);
}

static void test_incident_create(void **state) {
    (void)state;
    bp_change_t c;
    expect_ok(inc_line("create", INC_CREATE ",\"address\":\"12 Gi\xe1\xba\xa3ng V\xc3\xb5, "
                                            "\xc4\x90\xe1\xbb\x91ng \xc4\x90\xc3\xa0\","
                                            "\"received\":\"2026-11-22T07:58:30+07:00\","
                                            "\"unit\":\"115-HK-03\",\"destination\":null"),
              &c);
    assert_int_equal(c.kind, BP_KIND_INCIDENT);
    assert_string_equal(c.id, "INC-2211-0042");
    assert_string_equal(c.source, "cad-115");
    assert_int_equal(c.seq, 7);
    assert_int_equal(c.at_ms, NOW_MS);
    assert_int_equal(c.inc_action, BP_INC_CREATE);
    assert_int_equal(c.inc_fields, BP_IF_ALL);
    assert_int_equal(c.inc.priority, 1);
    assert_int_equal(c.inc.category, BP_CAT_STROKE);
    assert_float_equal(c.inc.lat, 21.0, 0);
    assert_float_equal(c.inc.lon, 105.84, 0);
    assert_string_equal(c.inc.address,
                        "12 Gi\xe1\xba\xa3ng V\xc3\xb5, \xc4\x90\xe1\xbb\x91ng \xc4\x90\xc3\xa0");
    assert_int_equal(c.inc.received_ms, NOW_MS - 90000);
    assert_string_equal(c.inc.unit, "115-HK-03");
    assert_string_equal(c.inc.destination, "");
    assert_int_equal(c.amb_fields, 0);
    /* the least a create needs */
    expect_ok(inc_line("create", INC_CREATE), &c);
    assert_int_equal(c.inc_fields, BP_IF_PRIORITY | BP_IF_CATEGORY | BP_IF_POSITION);
    /* every category, every priority, a 64-character id */
    static const char *const cats[] = {"trauma",      "stroke",      "cardiac",
                                       "obstetric",   "pediatric",   "burn",
                                       "respiratory", "psychiatric", "other"};
    for (int k = 0; k < BP_CAT__COUNT; k++) {
        char more[160];
        snprintf(more, sizeof more, ",\"priority\":%d,\"category\":\"%s\",\"lat\":21,\"lon\":105.8",
                 1 + k % 3, cats[k]);
        expect_ok(inc_line("create", more), &c);
        assert_int_equal(c.inc.category, k);
        assert_int_equal(c.inc.priority, 1 + k % 3);
    }
    const char *long_id =
        "{\"type\":\"incident\",\"source\":\"cad\",\"seq\":1,\"at\":\"2026-11-22T08:00:00+07:00\","
        "\"id\":\"A123456789012345678901234567890123456789012345678901234567890123\","
        "\"action\":\"close\"}";
    expect_ok(long_id, &c);
    assert_int_equal(strlen(c.id), 64);
    /* the edges of the service area (Hanoi's registry, widened by 0.25 degrees) */
    bp_area_t a;
    bp_registry_area(&reg, &a);
    assert_true(a.lat_min < 20.53 && a.lat_max > 21.39 && a.lon_min < 105.28 && a.lon_max > 106.02);
    expect_ok(inc_line("update", ",\"lat\":20.5,\"lon\":106.1"), &c);
    assert_int_equal(c.inc_fields, BP_IF_POSITION);
}

static void test_incident_update_close(void **state) {
    (void)state;
    bp_change_t c;
    expect_ok(inc_line("update", ",\"priority\":2,\"unit\":\"115-HK-03\""), &c);
    assert_int_equal(c.inc_action, BP_INC_UPDATE);
    assert_int_equal(c.inc_fields, BP_IF_PRIORITY | BP_IF_UNIT);
    assert_int_equal(c.inc.priority, 2);
    /* null or "" clears address, unit and destination */
    expect_ok(inc_line("update", ",\"address\":null,\"unit\":\"\",\"destination\":null"), &c);
    assert_int_equal(c.inc_fields, BP_IF_ADDRESS | BP_IF_UNIT | BP_IF_DESTINATION);
    assert_string_equal(c.inc.address, "");
    assert_string_equal(c.inc.unit, "");
    assert_string_equal(c.inc.destination, "");
    expect_ok(inc_line("update", ",\"destination\":\"viet-duc\",\"category\":\"trauma\""), &c);
    assert_string_equal(c.inc.destination, "viet-duc");
    assert_int_equal(c.inc.category, BP_CAT_TRAUMA);
    /* close: alone, or with the final destination and unit */
    expect_ok(inc_line("close", ""), &c);
    assert_int_equal(c.inc_action, BP_INC_CLOSE);
    assert_int_equal(c.inc_fields, 0);
    expect_ok(inc_line("close", ",\"destination\":\"bach-mai\",\"unit\":\"115-HK-03\""), &c);
    assert_int_equal(c.inc_fields, BP_IF_DESTINATION | BP_IF_UNIT);
    assert_string_equal(c.inc.destination, "bach-mai");
}

static void test_incident_rules(void **state) {
    (void)state;
    const char *head =
        "{\"type\":\"incident\",\"source\":\"cad\",\"seq\":9,\"at\":\"2026-11-22T08:00:00+07:00\"";
    char line[512];
    static const struct {
        const char *id;
        const char *code;
    } ids[] = {{"", "missing_field"},
               {",\"id\":\"INC 1\"", "bad_value"},
               {",\"id\":\"\"", "bad_value"},
               {",\"id\":42", "bad_value"},
               {",\"id\":\"INC/1\"", "bad_value"},
               {",\"id\":\"A1234567890123456789012345678901234567890123456789012345678901234\"",
                "bad_value"}};
    for (size_t k = 0; k < sizeof ids / sizeof *ids; k++) {
        snprintf(line, sizeof line, "%s%s,\"action\":\"close\"}", head, ids[k].id);
        assert_int_equal(expect_err(line, ids[k].code, "id"), 9);
    }
    snprintf(line, sizeof line, "%s,\"id\":\"I-1\"}", head);
    expect_err(line, "missing_field", "action");
    expect_err(inc_line("open", INC_CREATE), "bad_value", "action");
    expect_err(INC_HEAD ",\"action\":1}", "bad_value", "action");
    /* create needs priority, category, lat and lon */
    expect_err(inc_line("create", ",\"category\":\"stroke\",\"lat\":21,\"lon\":105.8"),
               "missing_field", "priority");
    expect_err(inc_line("create", ",\"priority\":1,\"lat\":21,\"lon\":105.8"), "missing_field",
               "category");
    expect_err(inc_line("create", ",\"priority\":1,\"category\":\"stroke\",\"lon\":105.8"),
               "missing_field", "lat");
    expect_err(inc_line("create", ",\"priority\":1,\"category\":\"stroke\",\"lat\":21"),
               "missing_field", "lon");
    /* an update changes something; a close carries destination and unit only */
    expect_err(inc_line("update", ""), "missing_field", "action");
    expect_err(inc_line("close", ",\"priority\":1"), "bad_value", "priority");
    expect_err(inc_line("close", ",\"lat\":21,\"lon\":105.8"), "bad_value", "lat");
    expect_err(inc_line("close", ",\"address\":\"x\""), "bad_value", "address");
    expect_err(inc_line("close", ",\"received\":\"2026-11-22T07:00:00+07:00\""), "bad_value",
               "received");
    /* priority 1..3, whole */
    expect_err(inc_line("update", ",\"priority\":0"), "out_of_range", "priority");
    expect_err(inc_line("update", ",\"priority\":4"), "out_of_range", "priority");
    expect_err(inc_line("update", ",\"priority\":1.5"), "wrong_type", "priority");
    expect_err(inc_line("update", ",\"priority\":\"1\""), "wrong_type", "priority");
    /* category from the list */
    expect_err(inc_line("update", ",\"category\":\"flu\""), "bad_value", "category");
    expect_err(inc_line("update", ",\"category\":\"Stroke\""), "bad_value", "category");
    expect_err(inc_line("update", ",\"category\":3"), "bad_value", "category");
    /* positions: together, numbers, degrees, inside the service area */
    expect_err(inc_line("update", ",\"lat\":21"), "missing_field", "lon");
    expect_err(inc_line("update", ",\"lon\":105.8"), "missing_field", "lat");
    expect_err(inc_line("update", ",\"lat\":\"21\",\"lon\":105.8"), "wrong_type", "lat");
    expect_err(inc_line("update", ",\"lat\":91,\"lon\":105.8"), "out_of_range", "lat");
    expect_err(inc_line("update", ",\"lat\":105.8,\"lon\":21"), "out_of_range",
               "lat"); /* swapped */
    expect_err(inc_line("update", ",\"lat\":0,\"lon\":0"), "out_of_range", "lat");
    expect_err(inc_line("update", ",\"lat\":10.78,\"lon\":106.7"), "out_of_range",
               "lat"); /* Saigon */
    expect_err(inc_line("update", ",\"lat\":21.0,\"lon\":106.7"), "out_of_range",
               "lon"); /* Hai Phong */
    expect_err(inc_line("update", ",\"lat\":21.0,\"lon\":104.9"), "out_of_range", "lon");
    /* address: clean text, at most 200 bytes */
    char addr[300] = ",\"address\":\"";
    size_t n = strlen(addr);
    memset(addr + n, 'x', 201);
    strcpy(addr + n + 201, "\"");
    expect_err(inc_line("update", addr), "too_long", "address");
    addr[n + 200] = '"';
    addr[n + 201] = '\0';
    bp_change_t c;
    expect_ok(inc_line("update", addr), &c);
    assert_int_equal(strlen(c.inc.address), 200);
    expect_err(inc_line("update", ",\"address\":\"a\\u0007b\""), "bad_string", "address");
    expect_err(inc_line("update", ",\"address\":\"a\xe2\x80\xae"
                                  "b\""),
               "bad_string", "address");
    expect_err(inc_line("update", ",\"address\":5"), "wrong_type", "address");
    /* received: a time with a zone, not after at, at most 7 days before */
    expect_err(inc_line("update", ",\"received\":\"yesterday\""), "bad_time", "received");
    expect_err(inc_line("update", ",\"received\":\"2026-11-22T08:00:00\""), "bad_time", "received");
    expect_err(inc_line("update", ",\"received\":null"), "bad_time", "received");
    expect_err(inc_line("update", ",\"received\":\"2026-11-22T08:00:01+07:00\""), "out_of_range",
               "received");
    expect_err(inc_line("update", ",\"received\":\"2026-11-15T07:59:59+07:00\""), "out_of_range",
               "received");
    expect_ok(inc_line("update", ",\"received\":\"2026-11-22T08:00:00+07:00\""), &c);
    /* unit: a call sign of the fleet; destination: a hospital */
    expect_err(inc_line("update", ",\"unit\":\"115-XX-99\""), "unknown_ambulance", "unit");
    expect_err(inc_line("update", ",\"unit\":7"), "wrong_type", "unit");
    expect_err(inc_line("update", ",\"destination\":\"nope\""), "unknown_hospital", "destination");
    expect_err(inc_line("update", ",\"destination\":[]"), "wrong_type", "destination");
    /* unknown and repeated fields */
    expect_err(inc_line("update", ",\"patient\":\"x\""), "unknown_field", "patient");
    expect_err(inc_line("update", ",\"status\":\"transporting\""), "unknown_field", "status");
    expect_err(inc_line("update", ",\"priority\":1,\"priority\":2"), "duplicate_field", "priority");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_beds_full_example),
        cmocka_unit_test(test_beds_partial),
        cmocka_unit_test(test_icu_detail),
        cmocka_unit_test(test_ambulance_full_example),
        cmocka_unit_test(test_ambulance_destination_clears),
        cmocka_unit_test(test_ambulance_rules),
        cmocka_unit_test(test_numbers_rejected_with_path),
        cmocka_unit_test(test_seq_rules),
        cmocka_unit_test(test_unknowns),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_bad_times),
        cmocka_unit_test(test_future_at),
        cmocka_unit_test(test_ed_until),
        cmocka_unit_test(test_hostile_reason),
        cmocka_unit_test(test_raw_control_in_string),
        cmocka_unit_test(test_unpaired_surrogate_escape),
        cmocka_unit_test(test_reason_length),
        cmocka_unit_test(test_escaped_nul),
        cmocka_unit_test(test_raw_nul_byte),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_seq_reported_on_later_errors),
        cmocka_unit_test(test_incident_create),
        cmocka_unit_test(test_incident_update_close),
        cmocka_unit_test(test_incident_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
