/*
 * The RFC 6455 pieces the benchmark tools share (bench/bp_ws.c): base64
 * into a buffer of exactly the size bp_ws.h gives, and the accept value of
 * the RFC's own example handshake.
 */
#include "bp_ws.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

/* The size bp_ws.h promises is enough, and not a byte more: a NUL inside it
 * and the guard after it untouched. */
static void test_base64_exact_buffer(void **state) {
    (void)state;
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},
             {"foo", "Zm9v"},    {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
             {"foobar", "Zm9vYmFy"}, {"the sample nonce", "dGhlIHNhbXBsZSBub25jZQ=="}};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        size_t len = strlen(v[i].in), size = 4 * ((len + 2) / 3) + 1;
        char buf[64];
        memset(buf, '#', sizeof buf);
        size_t n = bp_ws_base64((const uint8_t *)v[i].in, len, buf);
        assert_int_equal(n, strlen(v[i].out));
        assert_string_equal(buf, v[i].out);
        assert_int_equal(buf[size], '#');
    }
}

/* A 16-byte nonce makes a 24-character key, ended (the loadgen's keys ran
 * on into the stack when lws refused the exact buffer). */
static void test_key_ended(void **state) {
    (void)state;
    uint8_t nonce[16];
    for (int i = 0; i < 16; i++)
        nonce[i] = (uint8_t)(i * 37 + 1);
    char key[BP_WS_KEY_LEN + 1 + 8];
    memset(key, 'x', sizeof key);
    assert_int_equal(bp_ws_base64(nonce, sizeof nonce, key), BP_WS_KEY_LEN);
    assert_int_equal(strlen(key), BP_WS_KEY_LEN);
}

/* RFC 6455 section 1.3: key "dGhlIHNhbXBsZSBub25jZQ==" is answered
 * "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". */
static void test_accept_rfc_example(void **state) {
    (void)state;
    char out[BP_WS_ACCEPT_LEN + 1 + 8];
    memset(out, 'x', sizeof out);
    assert_int_equal(bp_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_exact_buffer),
        cmocka_unit_test(test_key_ended),
        cmocka_unit_test(test_accept_rfc_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
