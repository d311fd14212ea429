/*
 * Tests for core/bp_jw: commas placed by the nesting, keys from literals,
 * every value kind with the bytes bp_json_* write, fragments without
 * braces, continuing a list opened by hand, the errors list of 422
 * answers, and the nesting bound.
 */
#include "test_util.h"

#include "bp_jw.h"

#include <math.h>

static bp_buf_t b;

static int setup(void **state) {
    (void)state;
    bp_buf_init(&b, 0, 1 << 16);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bp_buf_free(&b);
    return 0;
}

static void expect(const char *want) {
    assert_false(b.failed);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(bp_buf_data(&b), want, b.len);
    bp_buf_reset(&b);
}

static void test_nested(void **state) {
    (void)state;
    bp_jw_t w;
    bp_jw_init(&w, &b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "hospital");
    bp_jw_cstr(&w, "bach-mai");
    BP_JW_KEY(&w, "beds");
    bp_jw_arr(&w);
    bp_jw_int(&w, 1);
    bp_jw_obj(&w);
    bp_jw_end(&w);
    bp_jw_arr(&w);
    bp_jw_end(&w);
    bp_jw_null(&w);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "ed");
    bp_jw_obj(&w);
    bp_jw_key(&w, "status");
    bp_jw_cstr(&w, "open");
    bp_jw_end(&w);
    BP_JW_KEY(&w, "ok");
    bp_jw_bool(&w, true);
    BP_JW_KEY(&w, "no");
    bp_jw_bool(&w, false);
    bp_jw_end(&w);
    expect("{\"hospital\":\"bach-mai\",\"beds\":[1,{},[],null],\"ed\":{\"status\":\"open\"},"
           "\"ok\":true,\"no\":false}");
    /* an empty top-level array, then a lone scalar */
    bp_jw_init(&w, &b);
    bp_jw_arr(&w);
    bp_jw_end(&w);
    expect("[]");
    bp_jw_init(&w, &b);
    bp_jw_int(&w, -42);
    expect("-42");
}

static void test_values_match_bp_json(void **state) {
    (void)state;
    bp_jw_t w;
    bp_buf_t ref;
    bp_buf_init(&ref, 0, 1 << 12);
    const char hostile[] = "a\"b\\c\n<x>&\x01\xe2\x80\xa8\xff";
    bp_jw_init(&w, &b);
    bp_jw_arr(&w);
    bp_jw_str(&w, hostile, sizeof hostile - 1);
    bp_jw_num(&w, 21.0285, 6);
    bp_jw_num(&w, -0.00001, 2);
    bp_jw_num(&w, NAN, 1);
    bp_jw_time(&w, 1795309200000LL);
    bp_jw_time(&w, 0);
    bp_jw_int(&w, INT64_MIN);
    bp_jw_end(&w);
    bp_buf_putc(&ref, '[');
    bp_json_str(&ref, hostile, sizeof hostile - 1);
    bp_buf_putc(&ref, ',');
    bp_json_num(&ref, 21.0285, 6);
    bp_buf_putc(&ref, ',');
    bp_json_num(&ref, -0.00001, 2);
    bp_buf_putc(&ref, ',');
    bp_json_num(&ref, NAN, 1);
    bp_buf_putc(&ref, ',');
    bp_json_time(&ref, 1795309200000LL);
    bp_buf_putc(&ref, ',');
    bp_json_time(&ref, 0);
    bp_buf_putc(&ref, ',');
    bp_json_int(&ref, INT64_MIN);
    bp_buf_putc(&ref, ']');
    assert_int_equal(b.len, ref.len);
    assert_memory_equal(bp_buf_data(&b), bp_buf_data(&ref), b.len);
    /* and what those bytes are */
    assert_non_null(strstr(bp_buf_data(&b), ",21.0285,0,null,\"2026-11-22T01:00:00.000Z\",null,"
                                            "-9223372036854775808]"));
    bp_buf_free(&ref);
    bp_buf_reset(&b);
}

static void test_or_null(void **state) {
    (void)state;
    bp_jw_t w;
    bp_jw_init(&w, &b);
    bp_jw_arr(&w);
    bp_jw_int_or_null(&w, true, 3);
    bp_jw_int_or_null(&w, false, 3);
    bp_jw_num_or_null(&w, true, 1.25, 1);
    bp_jw_num_or_null(&w, false, 1.25, 1);
    bp_jw_cstr_or_null(&w, "x");
    bp_jw_cstr_or_null(&w, "");
    bp_jw_cstr_or_null(&w, NULL);
    bp_jw_raw(&w, "{\"a\":1}", 7);
    bp_jw_end(&w);
    expect("[3,null,1.2,null,\"x\",null,null,{\"a\":1}]");
}

static void test_fragments(void **state) {
    (void)state;
    bp_jw_t w;
    /* members without braces */
    bp_jw_init(&w, &b);
    BP_JW_KEY(&w, "status");
    bp_jw_cstr(&w, "idle");
    BP_JW_KEY(&w, "lat");
    bp_jw_num(&w, 21.5, 6);
    expect("\"status\":\"idle\",\"lat\":21.5");
    /* continuing an object opened by hand, empty or not */
    bp_buf_puts(&b, "{\"id\":1");
    bp_jw_init_inside(&w, &b, false);
    BP_JW_KEY(&w, "x");
    bp_jw_int(&w, 2);
    bp_buf_putc(&b, '}');
    expect("{\"id\":1,\"x\":2}");
    bp_buf_putc(&b, '[');
    bp_jw_init_inside(&w, &b, true);
    bp_jw_int(&w, 1);
    bp_jw_int(&w, 2);
    bp_buf_putc(&b, ']');
    expect("[1,2]");
    /* another writer's value, and members, spliced in */
    bp_jw_init(&w, &b);
    bp_jw_arr(&w);
    bp_jw_int(&w, 1);
    bp_jw_splice(&w);
    bp_buf_puts(&b, "{\"x\":2}");
    bp_jw_obj(&w);
    bp_jw_splice(&w);
    bp_buf_puts(&b, "\"id\":3");
    BP_JW_KEY(&w, "more");
    bp_jw_splice(&w);
    bp_buf_puts(&b, "[4]");
    BP_JW_KEY(&w, "last");
    bp_jw_bool(&w, true);
    bp_jw_end(&w);
    bp_jw_end(&w);
    expect("[1,{\"x\":2},{\"id\":3,\"more\":[4],\"last\":true}]");
}

static void test_errors(void **state) {
    (void)state;
    bp_jw_t w;
    bp_errors_t errs = {.n = 0};
    bp_jw_init(&w, &b);
    bp_jw_obj(&w);
    bp_jw_errors(&w, &errs);
    bp_jw_end(&w);
    expect("{\"errors\":[]}");
    errs.n = 2;
    bp_error_set(&errs.e[0], "out_of_range", "beds.icu.occupied", "occupied must be 0 or more");
    bp_error_set(&errs.e[1], "empty", "", "a \"quoted\" <word>");
    bp_jw_init(&w, &b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "error");
    bp_jw_cstr(&w, "invalid");
    bp_jw_errors(&w, &errs);
    bp_jw_end(&w);
    expect("{\"error\":\"invalid\",\"errors\":["
           "{\"field\":\"beds.icu.occupied\",\"code\":\"out_of_range\","
           "\"message\":\"occupied must be 0 or more\"},"
           "{\"field\":\"\",\"code\":\"empty\",\"message\":\"a \\\"quoted\\\" "
           "\\u003cword\\u003e\"}]}");
    bp_jw_error_doc(&b, "not_found", "no hospital \"x\"");
    expect("{\"error\":\"not_found\",\"message\":\"no hospital \\\"x\\\"\"}");
}

static void test_bounds(void **state) {
    (void)state;
    bp_jw_t w;
    bp_jw_init(&w, &b);
    for (int i = 0; i < BP_JW_DEPTH_MAX; i++)
        bp_jw_arr(&w);
    assert_false(b.failed);
    bp_jw_arr(&w); /* one deeper than the bound */
    assert_true(b.failed);
    bp_buf_reset(&b);
    bp_jw_init(&w, &b);
    bp_jw_end(&w); /* nothing open */
    assert_true(b.failed);
    bp_buf_reset(&b);
    /* the buffer's cap: sticky, one check at the end */
    bp_buf_t small;
    bp_buf_init(&small, 0, 8);
    bp_jw_init(&w, &small);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "hospital");
    bp_jw_cstr(&w, "bach-mai");
    bp_jw_end(&w);
    assert_true(small.failed);
    bp_buf_free(&small);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested),  cmocka_unit_test(test_values_match_bp_json),
        cmocka_unit_test(test_or_null), cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_errors),  cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
