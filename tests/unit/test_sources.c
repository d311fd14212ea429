/* The pollers' sources file, their hospital mapping, backoff and the URL
 * shown in status and logs. */
#include "bp_sources.h"
#include "test_util.h"

static bp_registry_t reg;

static int setup(void **state) {
    (void)state;
    tu_load_registry(&reg);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static void test_parse(void **state) {
    (void)state;
    const char *json =
        "{\"note\":\"x\",\"sources\":[{\"id\":\"bv-bach-mai\",\"url\":\"https://his.example.vn/"
        "have.xml\",\"format\":\"have\",\"interval_s\":60,\"headers\":{\"Authorization\":"
        "\"Bearer abc\"},\"hospitals\":{\"BV-01\":\"bach-mai\"}},{\"id\":\"doh\",\"url\":"
        "\"http://10.0.0.1:8080/fhir\",\"format\":\"fhir\",\"interval_s\":300,\"timeout_s\":30,"
        "\"hospitals\":\"*\"}]}";
    bp_sources_t s;
    bp_error_t err;
    if (bp_sources_parse(json, strlen(json), &reg, &s, &err))
        fail_msg("%s at %s: %s", err.code, err.field, err.message);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.s[0].id, "bv-bach-mai");
    assert_int_equal(s.s[0].format, BP_FORMAT_HAVE);
    assert_int_equal(s.s[0].timeout_s, 10); /* the default */
    assert_int_equal(s.s[0].n_headers, 1);
    assert_string_equal(s.s[0].headers[0], "Authorization: Bearer abc");
    int bm = bp_registry_hospital(&reg, "bach-mai", 8);
    assert_int_equal(bp_source_hospital(&s.s[0], &reg, "BV-01", 5), bm);
    assert_int_equal(bp_source_hospital(&s.s[0], &reg, "bach-mai", 8),
                     -1); /* only what is mapped */
    assert_true(s.s[1].all_hospitals);
    assert_int_equal(bp_source_hospital(&s.s[1], &reg, "bach-mai", 8), bm);
    assert_int_equal(s.s[1].timeout_s, 30);
    assert_string_equal(bp_format_name(s.s[1].format), "fhir");
    bp_sources_free(&s);
    bp_sources_free(&s);
    const char *empty = "{\"sources\":[]}";
    assert_int_equal(bp_sources_parse(empty, strlen(empty), &reg, &s, &err), 0);
    assert_int_equal(s.n, 0);
    bp_sources_free(&s);
}

static void expect_error(const char *source, const char *code, const char *field) {
    char json[2048];
    snprintf(json, sizeof json, "{\"sources\":[%s]}", source);
    bp_sources_t s;
    bp_error_t err;
    if (bp_sources_parse(json, strlen(json), &reg, &s, &err) == 0)
        fail_msg("accepted %s, expected %s at %s", source, code, field);
    assert_string_equal(err.code, code);
    assert_string_equal(err.field, field);
    assert_null(s.s);
}

#define OK_REST ",\"url\":\"http://h/x\",\"format\":\"have\",\"interval_s\":60,\"hospitals\":\"*\""

static void test_errors(void **state) {
    (void)state;
    expect_error("{\"id\":\"Not-OK\"" OK_REST "}", "bad_value", "sources[0].id");
    expect_error("{\"id\":\"sixteen-chars-xx\"" OK_REST "}", "bad_value", "sources[0].id");
    expect_error("{\"id\":\"a\"" OK_REST ",\"extra\":1}", "unknown_field", "sources[0].extra");
    expect_error("{\"id\":\"a\",\"url\":\"ftp://h/x\",\"format\":\"have\",\"interval_s\":60,"
                 "\"hospitals\":\"*\"}",
                 "bad_value", "sources[0].url");
    expect_error("{\"id\":\"a\",\"url\":\"http://h/a b\",\"format\":\"have\",\"interval_s\":60,"
                 "\"hospitals\":\"*\"}",
                 "bad_value", "sources[0].url");
    expect_error("{\"id\":\"a\",\"url\":\"http://h/x\",\"format\":\"csv\",\"interval_s\":60,"
                 "\"hospitals\":\"*\"}",
                 "bad_value", "sources[0].format");
    expect_error("{\"id\":\"a\",\"url\":\"http://h/x\",\"format\":\"have\",\"hospitals\":\"*\"}",
                 "missing_field", "sources[0].interval_s");
    expect_error("{\"id\":\"a\",\"url\":\"http://h/x\",\"format\":\"have\",\"interval_s\":0,"
                 "\"hospitals\":\"*\"}",
                 "out_of_range", "sources[0].interval_s");
    expect_error("{\"id\":\"a\"" OK_REST ",\"timeout_s\":301}", "out_of_range",
                 "sources[0].timeout_s");
    expect_error("{\"id\":\"a\"" OK_REST ",\"headers\":{\"X-A\":\"a\\nb\"}}", "bad_value",
                 "sources[0].headers");
    expect_error("{\"id\":\"a\"" OK_REST ",\"headers\":{\"Bad Name\":\"v\"}}", "bad_value",
                 "sources[0].headers");
    expect_error("{\"id\":\"a\",\"url\":\"http://h/x\",\"format\":\"have\",\"interval_s\":60}",
                 "missing_field", "sources[0].hospitals");
    expect_error("{\"id\":\"a\",\"url\":\"http://h/x\",\"format\":\"have\",\"interval_s\":60,"
                 "\"hospitals\":{\"X\":\"no-such\"}}",
                 "unknown_hospital", "sources[0].hospitals");
    expect_error("{\"id\":\"a\"" OK_REST "},{\"id\":\"a\"" OK_REST "}", "duplicate_id",
                 "sources[1].id");
    bp_sources_t s;
    bp_error_t err;
    assert_int_equal(bp_sources_parse("{\"sources\":{}}", 14, &reg, &s, &err), -1);
    assert_int_equal(bp_sources_parse("{\"x\":1,\"sources\":[]}", 20, &reg, &s, &err), -1);
    assert_int_equal(bp_sources_parse("", 0, &reg, &s, &err), -1);
}

static void test_delay(void **state) {
    (void)state;
    assert_int_equal(bp_sources_delay_ms(60, 0, 12345), 60000);
    /* doubling per failure, less up to a tenth */
    assert_int_equal(bp_sources_delay_ms(60, 1, 0), 60000);
    assert_int_equal(bp_sources_delay_ms(60, 2, 0), 120000);
    assert_int_equal(bp_sources_delay_ms(60, 3, 0), 240000);
    int64_t d = bp_sources_delay_ms(60, 3, 999);
    assert_true(d < 240000 && d >= 216000);
    /* capped at 15 min, or the interval when that is longer */
    assert_int_equal(bp_sources_delay_ms(60, 50, 0), 900000);
    assert_int_equal(bp_sources_delay_ms(3600, 5, 0), 3600000);
    assert_int_equal(bp_sources_delay_ms(1, 100, 0), 900000);
}

static void test_url_shown(void **state) {
    (void)state;
    char out[256];
    bp_sources_url_shown("https://user:secret@his.example.vn:8443/api/have.xml?token=abc#x", out,
                         sizeof out);
    assert_string_equal(out, "https://his.example.vn:8443/api/have.xml");
    bp_sources_url_shown("http://h", out, sizeof out);
    assert_string_equal(out, "http://h");
    bp_sources_url_shown("http://h?k=v", out, sizeof out);
    assert_string_equal(out, "http://h");
    /* a password holding an '@': user information ends at the last one
     * (found by fuzz_sources: the first '@' left "h" of it shown) */
    bp_sources_url_shown("https://user:pw@h@his.example.vn/have.xml", out, sizeof out);
    assert_string_equal(out, "https://his.example.vn/have.xml");
    /* an '@' in the path is not user information */
    bp_sources_url_shown("https://his.example.vn/users/@me", out, sizeof out);
    assert_string_equal(out, "https://his.example.vn/users/@me");
}

/* Response header lines as libcurl hands them over. */
static void header(bp_validators_t *v, const char *line) {
    bp_sources_header(v, line, strlen(line));
}

static void test_header(void **state) {
    (void)state;
    bp_validators_t v;
    memset(&v, 0, sizeof v);
    header(&v, "HTTP/1.1 200 OK\r\n");
    header(&v, "ETag:   \"v1\" \r\n");
    header(&v, "last-modified: Wed, 02 Dec 2026 01:00:00 GMT\r\n");
    header(&v, "Content-Type: application/xml\r\n");
    header(&v, "X-ETag: \"other\"\r\n");
    assert_string_equal(v.etag, "\"v1\"");
    assert_string_equal(v.last_modified, "Wed, 02 Dec 2026 01:00:00 GMT");
    /* a value with a control character, or too long, would go back out in
     * a request header: not kept */
    header(&v, "ETag: \"v2\"\rX-Injected: 1\r\n");
    assert_string_equal(v.etag, "\"v1\"");
    char longer[BP_SOURCE_ETAG_MAX + 16];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    memcpy(longer, "ETag: ", 6);
    header(&v, longer);
    assert_string_equal(v.etag, "\"v1\"");
    /* not NUL-terminated: only len bytes are read */
    bp_sources_header(&v, "ETag: \"v3\"garbage", 10);
    assert_string_equal(v.etag, "\"v3\"");
    /* the next response (after a redirect) starts clear */
    header(&v, "HTTP/2 304\r\n");
    assert_string_equal(v.etag, "");
    assert_string_equal(v.last_modified, "");
    header(&v, "ETag\r\n");
    header(&v, "");
    assert_string_equal(v.etag, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),  cmocka_unit_test(test_errors),
        cmocka_unit_test(test_delay),  cmocka_unit_test(test_url_shown),
        cmocka_unit_test(test_header),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
