/* Unit tests for core/bp_httputil.c: request-header parsers. */
#include "test_util.h"

#include "bp_httputil.h"

static void test_bearer(void **state) {
    (void)state;
    const char *t;
    size_t n;
    assert_int_equal(bp_http_bearer("Bearer bp_abc", 13, &t, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(t, "bp_abc", 6);
    const char *h = "  bearer\t bp_x  ";
    assert_int_equal(bp_http_bearer(h, strlen(h), &t, &n), 0);
    assert_int_equal(n, 4);
    static const char *const bad[] = {"",           "Bearer",     "Bearer ",    "Basic dXNlcg==",
                                      "Bearerbp_x", "Bearer a b", "Bearer a,b", "Bear"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(bp_http_bearer(bad[i], strlen(bad[i]), &t, &n), -1);
}

static void test_cookie(void **state) {
    (void)state;
    const char *v;
    size_t n;
    const char *h = "theme=dark; bp_session=v1|t1|2|3|s.ab ; other=\"q\"";
    assert_int_equal(bp_http_cookie(h, strlen(h), "bp_session", &v, &n), 0);
    assert_int_equal(n, strlen("v1|t1|2|3|s.ab"));
    assert_memory_equal(v, "v1|t1|2|3|s.ab", n);
    assert_int_equal(bp_http_cookie(h, strlen(h), "other", &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(*v, 'q');
    assert_int_equal(bp_http_cookie(h, strlen(h), "bp", &v, &n), -1);
    assert_int_equal(bp_http_cookie(h, strlen(h), "session", &v, &n), -1);
    const char *h2 = "xbp_session=1;bp_session=2";
    assert_int_equal(bp_http_cookie(h2, strlen(h2), "bp_session", &v, &n), 0);
    assert_int_equal(*v, '2');
    assert_int_equal(bp_http_cookie(";;=;", 4, "bp_session", &v, &n), -1);
    assert_int_equal(bp_http_cookie("", 0, "bp_session", &v, &n), -1);
}

static void test_if_match(void **state) {
    (void)state;
    int64_t v = -1;
    assert_int_equal(bp_http_if_match("12", 2, &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(bp_http_if_match("\"7\"", 3, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(bp_http_if_match(" W/\"0\" ", 7, &v), 0);
    assert_int_equal(v, 0);
    static const char *const bad[] = {
        "", "*", "\"\"", "\"1\", \"2\"", "-1", "1.5", "abc", "99999999999999999999", "\"12"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(bp_http_if_match(bad[i], strlen(bad[i]), &v), -1);
}

/* Arguments as lws hands them over: decoded, one NUL-ended fragment each. */
#define ARGS(lit) lit, sizeof lit - 1

static void test_arg(void **state) {
    (void)state;
    char out[16];
    assert_int_equal(bp_http_arg(ARGS("a=1\0hospital=bach-mai\0b=\0"), "hospital", out, sizeof out),
                     8);
    assert_string_equal(out, "bach-mai");
    assert_int_equal(bp_http_arg(ARGS("a=1\0b=\0"), "b", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(bp_http_arg(ARGS("a=1\0b\0"), "b", out, sizeof out), 0);
    /* never decoded a second time: "%25" reached us as "%", "%2B" as "+" */
    assert_int_equal(bp_http_arg(ARGS("actor=50%\0"), "actor", out, sizeof out), 3);
    assert_string_equal(out, "50%");
    assert_int_equal(bp_http_arg(ARGS("actor=a+b c\0"), "actor", out, sizeof out), 5);
    assert_string_equal(out, "a+b c");
    assert_int_equal(bp_http_arg(ARGS("actor=%41\0"), "actor", out, sizeof out), 3);
    assert_string_equal(out, "%41");
    /* a decoded '&' or '=' stays inside its argument */
    assert_int_equal(bp_http_arg(ARGS("q=a&b=c\0b=2\0"), "b", out, sizeof out), 1);
    assert_string_equal(out, "2");
    assert_int_equal(bp_http_arg(ARGS("q=a&b=c\0"), "q", out, sizeof out), 5);
    assert_string_equal(out, "a&b=c");
    /* UTF-8 as is */
    assert_int_equal(bp_http_arg(ARGS("n=Tr\xe1\xbb\xb1\x63\0"), "n", out, sizeof out), 6);
    assert_string_equal(out, "Tr\xe1\xbb\xb1\x63");
    /* the first one wins; names match whole */
    assert_int_equal(bp_http_arg(ARGS("a=1\0a=2\0"), "a", out, sizeof out), 1);
    assert_string_equal(out, "1");
    assert_int_equal(bp_http_arg(ARGS("aa=1\0"), "a", out, sizeof out), -1);
    assert_int_equal(bp_http_arg(NULL, 0, "a", out, sizeof out), -1);
    assert_int_equal(bp_http_arg(ARGS(""), "a", out, sizeof out), -1);
    /* a last fragment without its NUL still counts, within args_len */
    assert_int_equal(bp_http_arg("a=12", 3, "a", out, sizeof out), 1);
    assert_string_equal(out, "1");
    /* too long for out (out_len counts the NUL) */
    assert_int_equal(bp_http_arg(ARGS("a=0123456789abcdef\0"), "a", out, sizeof out), -2);
    assert_int_equal(bp_http_arg(ARGS("a=0123456789abcde\0"), "a", out, sizeof out), 15);
}

static void test_origin(void **state) {
    (void)state;
    assert_true(bp_http_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080", ""));
    assert_true(bp_http_origin_ok("https://BedPulse.example.vn", "bedpulse.example.vn", NULL));
    assert_false(bp_http_origin_ok("http://127.0.0.1:8081", "127.0.0.1:8080", ""));
    assert_false(bp_http_origin_ok("http://evil.example", "127.0.0.1:8080", ""));
    assert_false(bp_http_origin_ok("http://127.0.0.1:8080.evil", "127.0.0.1:8080", ""));
    assert_false(bp_http_origin_ok("null", "127.0.0.1:8080", ""));
    assert_false(bp_http_origin_ok("", "127.0.0.1:8080", ""));
    const char *allowed = "https://wall.so-y-te.vn, https://115.hanoi.vn";
    assert_true(bp_http_origin_ok("https://115.hanoi.vn", "10.0.0.1:8080", allowed));
    assert_true(bp_http_origin_ok("https://wall.so-y-te.vn", "10.0.0.1:8080", allowed));
    assert_false(bp_http_origin_ok("https://115.hanoi", "10.0.0.1:8080", allowed));
    assert_false(bp_http_origin_ok("http://115.hanoi.vn", "10.0.0.1:8080", allowed));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer),   cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_if_match), cmocka_unit_test(test_arg),
        cmocka_unit_test(test_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
