/*
 * Tests for core/bp_codec_api.c: the WebSocket hello and the body of a
 * manager's PATCH.
 */
#include "test_util.h"

#include "bp_codec_api.h"
#include "bp_time.h"

#include "codec_fixture.h"

/* -- hello ---------------------------------------------------------------- */

static int hello(const char *json, bp_hello_t *h, bp_error_t *err) {
    memset(err, 0, sizeof *err);
    return bp_codec_parse_hello(json, strlen(json), h, err);
}

static void test_hello(void **state) {
    (void)state;
    bp_hello_t h;
    bp_error_t err;
    assert_int_equal(hello("{\"type\":\"hello\"}", &h, &err), 0);
    assert_false(h.has_resume);
    assert_false(h.has_token);
    assert_int_equal(hello("{\"type\":\"hello\",\"resume\":{\"epoch\":\"9f2cAB\",\"offset\":1234},"
                           "\"token\":\"t0k\"}",
                           &h, &err),
                     0);
    assert_true(h.has_resume);
    assert_string_equal(h.epoch, "9f2cAB");
    assert_int_equal(h.offset, 1234);
    assert_true(h.has_token);
    assert_string_equal(h.token, "t0k");
    assert_int_equal(hello("{\"type\":\"hello\",\"resume\":null}", &h, &err), 0);
    assert_false(h.gzip);
    /* a snapshot gzipped, as a binary message */
    assert_int_equal(hello("{\"type\":\"hello\",\"compress\":\"gzip\"}", &h, &err), 0);
    assert_true(h.gzip);
    assert_int_equal(hello("{\"type\":\"hello\",\"compress\":null}", &h, &err), 0);
    assert_false(h.gzip);
    assert_int_equal(hello("{\"type\":\"hello\",\"compress\":\"br\"}", &h, &err), -1);
    assert_string_equal(err.field, "compress");
    assert_int_equal(hello("{\"type\":\"hello\",\"compress\":true}", &h, &err), -1);
    assert_false(h.has_resume);

    assert_int_equal(hello("{\"type\":\"helo\"}", &h, &err), -1);
    assert_string_equal(err.code, "unknown_type");
    assert_int_equal(hello("{\"type\":\"hello\",\"resume\":{\"epoch\":\"e\"}}", &h, &err), -1);
    assert_string_equal(err.code, "missing_field");
    assert_string_equal(err.field, "resume");
    assert_int_equal(
        hello("{\"type\":\"hello\",\"resume\":{\"epoch\":\"9f-2c\",\"offset\":1}}", &h, &err), -1);
    assert_string_equal(err.field, "resume.epoch");
    assert_int_equal(
        hello("{\"type\":\"hello\",\"resume\":{\"epoch\":\"\",\"offset\":1}}", &h, &err), -1);
    assert_string_equal(err.field, "resume.epoch");
    assert_int_equal(
        hello("{\"type\":\"hello\",\"resume\":{\"epoch\":\"e\",\"offset\":-1}}", &h, &err), -1);
    assert_string_equal(err.code, "out_of_range");
    assert_string_equal(err.field, "resume.offset");
    assert_int_equal(
        hello("{\"type\":\"hello\",\"resume\":{\"epoch\":\"e\",\"offset\":1,\"x\":1}}", &h, &err),
        -1);
    assert_string_equal(err.code, "unknown_field");
    assert_string_equal(err.field, "resume.x");
    assert_int_equal(hello("{\"type\":\"hello\",\"lang\":\"vi\"}", &h, &err), -1);
    assert_string_equal(err.code, "unknown_field");
    assert_string_equal(err.field, "lang");
    assert_int_equal(hello("{\"type\":\"hello\",\"token\":5}", &h, &err), -1);
    assert_string_equal(err.field, "token");
    char big[BP_TOKEN_MAX + 64];
    int n = snprintf(big, sizeof big, "{\"type\":\"hello\",\"token\":\"");
    memset(big + n, 'k', BP_TOKEN_MAX + 1);
    memcpy(big + n + BP_TOKEN_MAX + 1, "\"}", 3);
    assert_int_equal(hello(big, &h, &err), -1);
    assert_string_equal(err.field, "token");
    memcpy(big + n + BP_TOKEN_MAX, "\"}", 3); /* exactly the limit */
    assert_int_equal(hello(big, &h, &err), 0);
    assert_int_equal(strlen(h.token), BP_TOKEN_MAX);
    assert_int_equal(hello("", &h, &err), -1);
    assert_string_equal(err.code, "bad_json");
}

/* -- PATCH bodies from the manager view -- */

static int patch(const char *json, bp_change_t *c, bp_errors_t *errs) {
    return bp_codec_parse_patch(json, strlen(json), NOW_MS, NULL, c, errs);
}

static int has_error(const bp_errors_t *errs, const char *code, const char *field) {
    for (size_t i = 0; i < errs->n; i++)
        if (!strcmp(errs->e[i].code, code) && !strcmp(errs->e[i].field, field)) return 1;
    return 0;
}

static void test_patch_ok(void **state) {
    (void)state;
    bp_change_t c;
    bp_errors_t errs;
    assert_int_equal(patch("{\"beds\":{\"icu_adult\":{\"occupied\":12,\"staffed\":20}},"
                           "\"ed\":{\"status\":\"diversion\",\"reason\":\"CT down\","
                           "\"until\":\"2026-11-22T23:00:00+07:00\",\"waiting\":4}}",
                           &c, &errs),
                     0);
    assert_int_equal(errs.n, 0);
    assert_int_equal(c.at_ms, NOW_MS);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], BP_BF_STAFFED | BP_BF_OCCUPIED);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].occupied, 12);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].staffed, 20);
    assert_int_equal(c.bed_fields[BP_BED_BURN], 0);
    assert_true(c.has_ed);
    assert_int_equal(c.ed.status, BP_ED_DIVERSION);
    assert_string_equal(c.ed.reason, "CT down");
    assert_int_equal(c.ed.waiting, 4);

    /* confirm alone: no figures, only a fresh report time */
    assert_int_equal(patch("{\"confirm\":true}", &c, &errs), 0);
    assert_false(c.has_ed);
    for (int t = 0; t < BP_BED__COUNT; t++)
        assert_int_equal(c.bed_fields[t], 0);
}

static void test_patch_collects_every_error(void **state) {
    (void)state;
    bp_change_t c;
    bp_errors_t errs;
    assert_int_equal(patch("{\"beds\":{\"icu_adult\":{\"occupied\":-1,\"staffed\":\"ten\"},"
                           "\"spa\":{\"occupied\":1},\"burn\":{}},"
                           "\"ed\":{\"status\":\"open\",\"waiting\":1.5},\"confirm\":false}",
                           &c, &errs),
                     -1);
    assert_true(has_error(&errs, "out_of_range", "beds.icu_adult.occupied"));
    assert_true(has_error(&errs, "wrong_type", "beds.icu_adult.staffed") ||
                has_error(&errs, "bad_value", "beds.icu_adult.staffed"));
    assert_true(has_error(&errs, "unknown_bed_type", "beds.spa"));
    assert_true(has_error(&errs, "missing_field", "beds.burn"));
    assert_true(has_error(&errs, "bad_value", "ed.status"));
    assert_true(has_error(&errs, "bad_value", "confirm"));
    assert_true(errs.n >= 7);
    for (size_t i = 0; i < errs.n; i++)
        assert_true(strlen(errs.e[i].message) > 10);
}

/* The intensive-care detail in a PATCH: the feed's rules, every error
 * collected with its field, nothing accepted. */
static void test_patch_icu_detail(void **state) {
    (void)state;
    bp_change_t c;
    bp_errors_t errs;
    assert_int_equal(
        patch("{\"beds\":{\"icu_adult\":{\"staffed\":40,\"ventilated\":{\"total\":"
              "30,\"free\":4}},\"icu_pediatric\":{\"ecmo\":{\"total\":2,\"free\":2}}}}",
              &c, &errs),
        0);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], BP_BF_STAFFED | BP_BF_VENTILATED);
    assert_int_equal(c.icu[BP_BED_ICU_ADULT].ventilated.free, 4);
    assert_int_equal(c.bed_fields[BP_BED_ICU_PEDIATRIC], BP_BF_ECMO);
    assert_int_equal(c.icu[BP_BED_ICU_PEDIATRIC].ecmo.total, 2);
    assert_int_equal(patch("{\"beds\":{\"icu_adult\":{\"staffed\":10,\"ventilated\":{\"total\":"
                           "11,\"free\":0}},\"icu_pediatric\":{\"ecmo\":{\"total\":1,\"free\":2}},"
                           "\"burn\":{\"ecmo\":{\"total\":1,\"free\":0}},"
                           "\"emergency\":{\"occupied\":3}}}",
                           &c, &errs),
                     -1);
    assert_true(has_error(&errs, "bad_value", "beds.icu_adult.ventilated.total"));
    assert_true(has_error(&errs, "bad_value", "beds.icu_pediatric.ecmo.free"));
    assert_true(has_error(&errs, "unknown_field", "beds.burn.ecmo"));
    assert_int_equal(errs.n, 3);
}

static void test_patch_rejects(void **state) {
    (void)state;
    bp_change_t c;
    bp_errors_t errs;
    static const struct {
        const char *body, *code, *field;
    } cases[] = {
        {"", "bad_json", ""},
        {"[]", "wrong_type", ""},
        {"{}", "missing_field", ""},
        {"{\"beds\":[]}", "wrong_type", "beds"},
        {"{\"hospital\":\"bm\"}", "unknown_field", "hospital"},
        {"{\"ed\":{\"status\":\"normal\",\"until\":\"2026-11-22T23:00:00+07:00\"}}", "bad_value",
         "ed.until"},
        {"{\"ed\":{\"status\":\"closed\",\"until\":\"2020-01-01T00:00:00Z\"}}", "bad_value",
         "ed.until"},
        {"{\"ed\":{\"reason\":\"x\"}}", "missing_field", "ed.status"},
        {"{\"ed\":{\"status\":\"diversion\"}}", "missing_field", "ed.reason"},
        {"{\"ed\":{\"status\":\"closed\",\"reason\":\"\"}}", "missing_field", "ed.reason"},
        {"{\"beds\":{\"burn\":{\"occupied\":100001}}}", "out_of_range", "beds.burn.occupied"},
        {"{\"ed\":{\"status\":\"advisory\",\"reason\":\"a\\u0000b\"}}", "bad_string", ""},
        {"{\"confirm\":true} x", "bad_json", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = patch(cases[i].body, &c, &errs);
        if (rc != -1 || !has_error(&errs, cases[i].code, cases[i].field)) {
            fail_msg("case %zu %s: rc %d, first error %s/%s", i, cases[i].body, rc,
                     errs.n ? errs.e[0].code : "-", errs.n ? errs.e[0].field : "-");
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_patch_ok),
        cmocka_unit_test(test_patch_collects_every_error),
        cmocka_unit_test(test_patch_rejects),
        cmocka_unit_test(test_patch_icu_detail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
