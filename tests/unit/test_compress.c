/* Unit tests for core/bp_compress.c: gzip and brotli round trips. */
#include "test_util.h"

#include "bp_compress.h"

static void round_trip(bp_encoding_t e, int level, const char *in, size_t len) {
    unsigned char *out = NULL;
    size_t n = 0;
    assert_int_equal(bp_compress(e, level, in, len, &out, &n), 0);
    assert_non_null(out);
    assert_true(bp_compress_check(e, out, n, in, len));
    /* a byte more or less, or another coding, does not check out */
    if (len) assert_false(bp_compress_check(e, out, n, in, len - 1));
    assert_false(bp_compress_check(e == BP_ENC_BR ? BP_ENC_GZIP : BP_ENC_BR, out, n, in, len));
    assert_false(bp_compress_check(e, out, n > 1 ? n - 1 : 0, in, len));
    free(out);
}

static void test_round_trips(void **state) {
    (void)state;
    char big[64 * 1024];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = "{\"id\":\"bach-mai\",\"beds\":[1,2,3]} "[i % 33];
    const char *text = "Bệnh viện Bạch Mai: 42 giường trống";
    for (int e = BP_ENC_GZIP; e < BP_ENC__COUNT; e++) {
        round_trip((bp_encoding_t)e, 6, text, strlen(text));
        round_trip((bp_encoding_t)e, e == BP_ENC_BR ? 11 : 9, big, sizeof big);
        round_trip((bp_encoding_t)e, 1, "", 0);
    }
    /* repetitive JSON shrinks a lot */
    unsigned char *out;
    size_t n;
    assert_int_equal(bp_compress(BP_ENC_BR, 5, big, sizeof big, &out, &n), 0);
    assert_true(n < sizeof big / 50);
    free(out);
    /* identity is not a compression */
    assert_int_equal(bp_compress(BP_ENC_IDENTITY, 1, text, strlen(text), &out, &n), -1);
}

static void test_garbage(void **state) {
    (void)state;
    const char *raw = "abc";
    assert_false(bp_compress_check(BP_ENC_GZIP, "abc", 3, raw, 3));
    assert_false(bp_compress_check(BP_ENC_BR, "\xff\xff\xff", 3, raw, 3));
    assert_false(bp_compress_check(BP_ENC_IDENTITY, raw, 3, raw, 3));
    /* gzip followed by trailing bytes is not one clean member */
    unsigned char *out;
    size_t n;
    assert_int_equal(bp_compress(BP_ENC_GZIP, 6, raw, 3, &out, &n), 0);
    unsigned char *more = malloc(n + 4);
    memcpy(more, out, n);
    memcpy(more + n, "junk", 4);
    assert_false(bp_compress_check(BP_ENC_GZIP, more, n + 4, raw, 3));
    free(more);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
