/*
 * Tests for core/bp_codec_config.c: the repository's own config files read
 * cleanly, and a wrong key, type or cross reference is refused naming the
 * field (hospitals.json, fleet.json, settings, dispatch.json).
 */
#include "test_util.h"

#include "bp_codec_config.h"
#include "bp_recommend.h"
#include "bp_settings.h"

static void expect_refused(int rc, const bp_error_t *err, const char *code, const char *field) {
    assert_int_equal(rc, -1);
    if (strcmp(err->code, code) != 0 || strcmp(err->field, field) != 0)
        fail_msg("got %s at \"%s\" (%s), expected %s at \"%s\"", err->code, err->field,
                 err->message, code, field);
    assert_true(strlen(err->message) > 0);
}

static void test_repository_files(void **state) {
    (void)state;
    bp_registry_t reg;
    tu_load_registry(&reg); /* fails the test on any error */
    assert_true(reg.n_hospitals > 0);
    assert_true(reg.n_districts > 0);
    bp_registry_free(&reg);

    size_t len;
    char *json = tu_read_file("config/settings.json", &len);
    bp_settings_t s;
    bp_settings_defaults(&s);
    bp_error_t err = {0};
    if (bp_codec_parse_settings(json, len, &s, &err))
        fail_msg("settings.json: %s at %s: %s", err.code, err.field, err.message);
    free(json);

    json = tu_read_file("config/dispatch.json", &len);
    bp_dispatch_cfg_t d;
    bp_dispatch_defaults(&d);
    if (bp_codec_parse_dispatch(json, len, &d, &err))
        fail_msg("dispatch.json: %s at %s: %s", err.code, err.field, err.message);
    assert_true(d.n_bands > 0);
    free(json);
}

static void test_hospitals_refused(void **state) {
    (void)state;
    bp_registry_t reg;
    memset(&reg, 0, sizeof reg);
    bp_error_t err = {0};
    const char *extra = "{\"districts\":{},\"hospitals\":[],\"extra\":1}";
    expect_refused(bp_codec_parse_hospitals(extra, strlen(extra), &reg, &err), &err,
                   "unknown_field", "extra");
    bp_registry_free(&reg);
    memset(&reg, 0, sizeof reg);
    const char *not_array = "{\"districts\":{\"ba-dinh\":{}},\"hospitals\":{}}";
    int rc = bp_codec_parse_hospitals(not_array, strlen(not_array), &reg, &err);
    assert_int_equal(rc, -1);
    assert_true(strlen(err.message) > 0);
    bp_registry_free(&reg);
}

static void test_settings_refused(void **state) {
    (void)state;
    bp_settings_t s;
    bp_settings_defaults(&s);
    bp_error_t err = {0};
    const char *section = "{\"redis\":5}";
    expect_refused(bp_codec_parse_settings(section, strlen(section), &s, &err), &err, "wrong_type",
                   "redis");
    const char *bad = "{\"redis\":{\"port\":1,}}";
    expect_refused(bp_codec_parse_settings(bad, strlen(bad), &s, &err), &err, "bad_json", "");
}

static void test_dispatch_refused(void **state) {
    (void)state;
    bp_dispatch_cfg_t d;
    bp_dispatch_defaults(&d);
    bp_error_t err = {0};
    const char *cat = "{\"categories\":{\"meteor\":{}}}";
    expect_refused(bp_codec_parse_dispatch(cat, strlen(cat), &d, &err), &err, "unknown_field",
                   "categories.meteor");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repository_files),
        cmocka_unit_test(test_hospitals_refused),
        cmocka_unit_test(test_settings_refused),
        cmocka_unit_test(test_dispatch_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
