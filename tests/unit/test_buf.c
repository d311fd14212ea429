/*
 * Tests for bp_buf: the capped byte buffer (sticky failure, headroom) and
 * the JSON pieces written on top of it (string escaping, numbers, times).
 */
#include "test_util.h"

#include <math.h>

/* The text a writer produced, as a C string (the buffer NUL-terminates). */
static const char *text(const bp_buf_t *b) {
    assert_non_null(bp_buf_data(b));
    assert_int_equal(bp_buf_data(b)[b->len], '\0');
    return bp_buf_data(b);
}

/* Escapes (s, len) with bp_json_str and returns the output (static buffer). */
static const char *escaped(const char *s, size_t len) {
    static char out[512];
    bp_buf_t b;
    bp_buf_init(&b, 0, 4096);
    bp_json_str(&b, s, len);
    assert_false(b.failed);
    assert_true(b.len < sizeof out);
    memcpy(out, text(&b), b.len + 1);
    bp_buf_free(&b);
    return out;
}

static void test_init_is_empty(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 16, 100);
    assert_null(b.base);
    assert_null(bp_buf_data(&b));
    assert_int_equal(b.len, 0);
    assert_int_equal(b.headroom, 16);
    assert_int_equal(b.max, 100);
    assert_false(b.failed);
    bp_buf_free(&b); /* freeing an unused buffer is fine */
    bp_buf_free(&b); /* and so is freeing twice */
}

static void test_headroom(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 16, 1 << 20);
    bp_buf_puts(&b, "hello");
    assert_non_null(b.base);
    assert_ptr_equal(bp_buf_data(&b), b.base + 16);
    assert_int_equal(b.len, 5);
    assert_string_equal(text(&b), "hello");
    /* Bytes written into the headroom survive growth (realloc). */
    memset(b.base, 'H', 16);
    for (int i = 0; i < 2000; i++)
        bp_buf_putc(&b, (char)('a' + i % 26));
    assert_false(b.failed);
    assert_int_equal(b.len, 2005);
    assert_ptr_equal(bp_buf_data(&b), b.base + 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(b.base[i], 'H');
    assert_memory_equal(bp_buf_data(&b), "helloabc", 8);
    assert_int_equal(bp_buf_data(&b)[2004], 'a' + 1999 % 26);
    bp_buf_free(&b);
    assert_null(b.base);
}

static void test_cap_sets_failed_and_ignores_writes(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 8, 10);
    bp_buf_put(&b, "12345678", 8);
    assert_false(b.failed);
    assert_int_equal(b.len, 8);
    bp_buf_put(&b, "abc", 3); /* 11 > 10 */
    assert_true(b.failed);
    assert_int_equal(b.len, 8);
    /* Sticky: a write that would fit is ignored too. */
    bp_buf_putc(&b, 'x');
    bp_buf_puts(&b, "");
    bp_buf_printf(&b, "%d", 1);
    assert_true(b.failed);
    assert_int_equal(b.len, 8);
    assert_memory_equal(bp_buf_data(&b), "12345678", 8);
    assert_true(b.cap <= 10);
    /* reset clears the flag and keeps the memory */
    char *base = b.base;
    bp_buf_reset(&b);
    assert_false(b.failed);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.base, base);
    bp_buf_puts(&b, "0123456789"); /* exactly max */
    assert_false(b.failed);
    assert_int_equal(b.len, 10);
    assert_string_equal(text(&b), "0123456789");
    bp_buf_putc(&b, '!');
    assert_true(b.failed);
    assert_int_equal(b.len, 10);
    bp_buf_free(&b);
}

static void test_cap_zero(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 0);
    bp_buf_putc(&b, 'x');
    assert_true(b.failed);
    assert_int_equal(b.len, 0);
    bp_buf_free(&b);
}

static void test_huge_length_does_not_wrap(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 100);
    bp_buf_puts(&b, "abc");
    /* len + SIZE_MAX would wrap around; the cap check must not. */
    bp_buf_put(&b, "x", SIZE_MAX);
    assert_true(b.failed);
    assert_int_equal(b.len, 3);
    bp_buf_free(&b);
}

static void test_printf_small_and_large(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 4, 1 << 20);
    bp_buf_printf(&b, "n=%d s=%s", 42, "x");
    assert_string_equal(text(&b), "n=42 s=x");
    /* Far past the 256-byte fast path. */
    char big[5001];
    memset(big, 'q', 5000);
    big[5000] = '\0';
    bp_buf_printf(&b, "[%s]%d", big, 7);
    assert_false(b.failed);
    assert_int_equal(b.len, 8 + 5003);
    assert_int_equal(bp_buf_data(&b)[8], '[');
    assert_int_equal(bp_buf_data(&b)[9], 'q');
    assert_int_equal(bp_buf_data(&b)[5008], 'q');
    assert_string_equal(bp_buf_data(&b) + 5009, "]7");
    /* Writes after a large printf append correctly. */
    bp_buf_puts(&b, "end");
    assert_string_equal(bp_buf_data(&b) + 5009, "]7end");
    bp_buf_free(&b);
}

static void test_printf_over_cap(void **state) {
    (void)state;
    char big[1001];
    memset(big, 'z', 1000);
    big[1000] = '\0';
    bp_buf_t b;
    bp_buf_init(&b, 0, 999);
    bp_buf_puts(&b, "ab");
    bp_buf_printf(&b, "%s", big);
    assert_true(b.failed);
    assert_int_equal(b.len, 2);
    bp_buf_free(&b);
}

/* A large printf that ends exactly at the cap fits, like a put would. */
static void test_printf_exactly_to_cap(void **state) {
    (void)state;
    char big[1001];
    memset(big, 'z', 1000);
    big[1000] = '\0';
    bp_buf_t b;
    bp_buf_init(&b, 8, 1000);
    bp_buf_printf(&b, "%s", big);
    assert_false(b.failed);
    assert_int_equal(b.len, 1000);
    assert_string_equal(text(&b), big);
    bp_buf_free(&b);

    bp_buf_init(&b, 8, 1002);
    bp_buf_puts(&b, "ab");
    bp_buf_printf(&b, "%s", big);
    assert_false(b.failed);
    assert_int_equal(b.len, 1002);
    assert_int_equal(bp_buf_data(&b)[1001], 'z');
    bp_buf_free(&b);
}

static void test_steal(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 3, 100);
    bp_buf_puts(&b, "abc");
    char *p = bp_buf_steal(&b);
    assert_non_null(p);
    assert_string_equal(p + 3, "abc");
    assert_null(b.base);
    assert_int_equal(b.len, 0);
    assert_null(bp_buf_data(&b));
    /* The buffer is usable again. */
    bp_buf_puts(&b, "de");
    assert_string_equal(text(&b), "de");
    assert_ptr_not_equal(b.base, p);
    free(p);
    bp_buf_free(&b);
}

static void test_json_str_plain_and_quotes(void **state) {
    (void)state;
    assert_string_equal(escaped("", 0), "\"\"");
    assert_string_equal(escaped("bach-mai", 8), "\"bach-mai\"");
    assert_string_equal(escaped("a\"b", 3), "\"a\\\"b\"");
    assert_string_equal(escaped("a\\b", 3), "\"a\\\\b\"");
    assert_string_equal(escaped("\\\"", 2), "\"\\\\\\\"\"");
}

static void test_json_str_controls(void **state) {
    (void)state;
    assert_string_equal(escaped("\n\r\t", 3), "\"\\n\\r\\t\"");
    assert_string_equal(escaped("\x01", 1), "\"\\u0001\"");
    assert_string_equal(escaped("\x1f", 1), "\"\\u001f\"");
    assert_string_equal(escaped("\b\f", 2), "\"\\u0008\\u000c\"");
    /* An embedded NUL is data when the length says so. */
    assert_string_equal(escaped("a\0b", 3), "\"a\\u0000b\"");
}

static void test_json_str_html_and_separators(void **state) {
    (void)state;
    assert_string_equal(escaped("</script>", 9), "\"\\u003c/script\\u003e\"");
    assert_string_equal(escaped("a&b", 3), "\"a\\u0026b\"");
    /* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR */
    assert_string_equal(escaped("x\xe2\x80\xa8y", 5), "\"x\\u2028y\"");
    assert_string_equal(escaped("\xe2\x80\xa9", 3), "\"\\u2029\"");
    /* Neighbouring code points pass through raw. */
    assert_string_equal(escaped("\xe2\x80\xa7", 3), "\"\xe2\x80\xa7\"");
}

static void test_json_str_utf8(void **state) {
    (void)state;
    /* Valid multi-byte text is kept as is. */
    const char *vi = "B\xe1\xba\xa1"
                     "ch Mai \xf0\x9f\x9a\x91";
    char want[64];
    snprintf(want, sizeof want, "\"%s\"", vi);
    assert_string_equal(escaped(vi, strlen(vi)), want);
    /* Invalid bytes become U+FFFD, one per bad byte. */
    assert_string_equal(escaped("a\xff"
                                "b",
                                3),
                        "\"a\\ufffdb\"");
    assert_string_equal(escaped("\x80", 1), "\"\\ufffd\"");
    /* Overlong "/" (C0 AF): both bytes replaced. */
    assert_string_equal(escaped("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");
    /* Overlong 3-byte NUL (E0 80 80). */
    assert_string_equal(escaped("\xe0\x80\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");
    /* A UTF-16 surrogate encoded in UTF-8 (ED A0 80). */
    assert_string_equal(escaped("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");
    /* Truncated sequence at the end of the input. */
    assert_string_equal(escaped("x\xe1\xba", 3), "\"x\\ufffd\\ufffd\"");
    /* Beyond U+10FFFF. */
    assert_string_equal(escaped("\xf4\x90\x80\x80", 4), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

/* Whatever goes in, the output is valid JSON that decodes to the input
 * (for valid UTF-8 input). */
static void test_json_str_decodes_back(void **state) {
    (void)state;
    const char *s = "q\"uote\\ <tag> & \x01\x1f\n \xe2\x80\xa8 Vi\xe1\xbb\x87t \xe2\x80\xae";
    bp_buf_t b;
    bp_buf_init(&b, 0, 4096);
    bp_json_cstr(&b, s);
    cJSON *v = tu_parse_buf(&b);
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, s);
    /* The raw output holds no control bytes, no '<' and no raw U+2028. */
    for (size_t i = 0; i < b.len; i++) {
        unsigned char c = (unsigned char)bp_buf_data(&b)[i];
        assert_true(c >= 0x20);
        assert_true(c != '<' && c != '>' && c != '&');
    }
    assert_null(strstr(bp_buf_data(&b), "\xe2\x80\xa8"));
    cJSON_Delete(v);
    bp_buf_free(&b);
}

static void test_json_int(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 1024);
    bp_json_int(&b, 0);
    bp_buf_putc(&b, ' ');
    bp_json_int(&b, -5);
    bp_buf_putc(&b, ' ');
    bp_json_int(&b, 9007199254740991LL);
    bp_buf_putc(&b, ' ');
    bp_json_int(&b, INT64_MAX);
    bp_buf_putc(&b, ' ');
    bp_json_int(&b, INT64_MIN);
    assert_string_equal(text(&b), "0 -5 9007199254740991 9223372036854775807 -9223372036854775808");
    bp_buf_free(&b);
}

static void test_json_num(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 1024);
    bp_json_num(&b, 21.0285, 6);
    bp_buf_putc(&b, ' ');
    bp_json_num(&b, 2.0, 1);
    bp_buf_putc(&b, ' ');
    bp_json_num(&b, 105.0, 0);
    bp_buf_putc(&b, ' ');
    bp_json_num(&b, -0.0001, 2); /* rounds to zero: no "-0" */
    bp_buf_putc(&b, ' ');
    bp_json_num(&b, 84.94, 1);
    bp_buf_putc(&b, ' ');
    bp_json_num(&b, NAN, 2);
    bp_buf_putc(&b, ' ');
    bp_json_num(&b, INFINITY, 2);
    bp_buf_putc(&b, ' ');
    bp_json_num(&b, -12.5, 1);
    bp_buf_putc(&b, ' ');
    bp_json_num(&b, 1e300, 2); /* does not fit the scratch space */
    assert_string_equal(text(&b), "21.0285 2 105 0 84.9 null null -12.5 null");
    bp_buf_free(&b);
}

static void test_json_time_and_key(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 1024);
    bp_json_key(&b, "at");
    bp_json_time(&b, 1795309200000LL);
    bp_buf_putc(&b, ',');
    bp_json_key(&b, "never");
    bp_json_time(&b, 0);
    bp_buf_putc(&b, ',');
    bp_json_key(&b, "neg");
    bp_json_time(&b, -5);
    assert_string_equal(text(&b),
                        "\"at\":\"2026-11-22T01:00:00.000Z\",\"never\":null,\"neg\":null");
    bp_buf_free(&b);
}

/* A JSON writer sequence into a too-small buffer fails once, cleanly. */
static void test_json_writers_respect_cap(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 8);
    bp_json_cstr(&b, "0123456789");
    assert_true(b.failed);
    size_t len = b.len;
    bp_json_int(&b, 1);
    bp_json_time(&b, 1);
    bp_json_num(&b, 1.0, 1);
    assert_int_equal(b.len, len);
    assert_true(len <= 8);
    bp_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_is_empty),
        cmocka_unit_test(test_headroom),
        cmocka_unit_test(test_cap_sets_failed_and_ignores_writes),
        cmocka_unit_test(test_cap_zero),
        cmocka_unit_test(test_huge_length_does_not_wrap),
        cmocka_unit_test(test_printf_small_and_large),
        cmocka_unit_test(test_printf_over_cap),
        cmocka_unit_test(test_printf_exactly_to_cap),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_json_str_plain_and_quotes),
        cmocka_unit_test(test_json_str_controls),
        cmocka_unit_test(test_json_str_html_and_separators),
        cmocka_unit_test(test_json_str_utf8),
        cmocka_unit_test(test_json_str_decodes_back),
        cmocka_unit_test(test_json_int),
        cmocka_unit_test(test_json_num),
        cmocka_unit_test(test_json_time_and_key),
        cmocka_unit_test(test_json_writers_respect_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
