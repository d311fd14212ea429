/* Unit tests for core/bp_conneg.c: Accept-Encoding and If-None-Match. */
#include "test_util.h"

#include "bp_conneg.h"

#define ID BP_ENC_BIT(BP_ENC_IDENTITY)
#define GZ BP_ENC_BIT(BP_ENC_GZIP)
#define BR BP_ENC_BIT(BP_ENC_BR)

static unsigned ae(const char *h) {
    return bp_conneg_accept_encoding(h, h ? strlen(h) : 0);
}

static void test_accept_encoding(void **state) {
    (void)state;
    assert_int_equal(ae(NULL), ID);
    assert_int_equal(ae(""), ID);
    /* what browsers send */
    assert_int_equal(ae("gzip, deflate, br, zstd"), ID | GZ | BR);
    assert_int_equal(ae("gzip, deflate"), ID | GZ);
    assert_int_equal(ae("GZIP;q=0.5,BR;Q=1"), ID | GZ | BR);
    assert_int_equal(ae("x-gzip"), ID | GZ);
    assert_int_equal(ae("identity"), ID);
    /* q=0 means "not this one", in any spelling of zero */
    assert_int_equal(ae("gzip;q=0, br"), ID | BR);
    assert_int_equal(ae("gzip ; q = 0.000 , br;q=0."), ID);
    assert_int_equal(ae("br;q=0.001"), ID | BR);
    assert_int_equal(ae("br;level=3;q=0"), ID);
    /* "*" stands for any coding not named */
    assert_int_equal(ae("*"), ID | GZ | BR);
    assert_int_equal(ae("*;q=0"), ID);
    assert_int_equal(ae("br;q=0, *"), ID | GZ);
    assert_int_equal(ae("*, gzip;q=0"), ID | BR);
    /* identity is never refused (no 406 from us) */
    assert_int_equal(ae("identity;q=0"), ID);
    /* words that only start like ours */
    assert_int_equal(ae("gzipx, brotli, b, g"), ID);
    assert_int_equal(ae(",,, ;q=0,"), ID);
}

static void test_pick(void **state) {
    (void)state;
    assert_int_equal(bp_conneg_pick(ID | GZ | BR, ID | GZ | BR), BP_ENC_BR);
    assert_int_equal(bp_conneg_pick(ID | GZ, ID | GZ | BR), BP_ENC_GZIP);
    assert_int_equal(bp_conneg_pick(ID | GZ | BR, ID | GZ), BP_ENC_GZIP);
    assert_int_equal(bp_conneg_pick(ID | BR, ID | GZ), BP_ENC_IDENTITY);
    assert_int_equal(bp_conneg_pick(ID, ID | GZ | BR), BP_ENC_IDENTITY);
    assert_string_equal(bp_conneg_name(BP_ENC_BR), "br");
    assert_string_equal(bp_conneg_name(BP_ENC_GZIP), "gzip");
    assert_null(bp_conneg_name(BP_ENC_IDENTITY));
    assert_string_equal(bp_conneg_tag_suffix(BP_ENC_GZIP), "-gz");
    assert_string_equal(bp_conneg_tag_suffix(BP_ENC_IDENTITY), "");
}

static bool inm(const char *h, const char *base) {
    return bp_conneg_none_match(h, strlen(h), base);
}

static void test_none_match(void **state) {
    (void)state;
    assert_true(inm("\"abc\"", "abc"));
    assert_true(inm("\"abc-br\"", "abc"));
    assert_true(inm("\"abc-gz\"", "abc"));
    assert_true(inm("W/\"abc-gz\"", "abc"));
    assert_true(inm("\"x\", \"y\" ,W/\"abc\"", "abc"));
    assert_true(inm("*", "abc"));
    assert_true(inm(" , *", "abc"));
    assert_false(inm("\"abcd\"", "abc"));
    assert_false(inm("\"ab\"", "abc"));
    assert_false(inm("\"abc-zz\"", "abc"));
    assert_false(inm("\"abc-br-gz\"", "abc"));
    assert_false(inm("abc", "abc"));
    assert_false(inm("\"abc", "abc"));
    assert_false(inm("", "abc"));
    assert_false(inm("\"\"", ""));
    assert_false(bp_conneg_none_match(NULL, 0, "abc"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_encoding),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_none_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
