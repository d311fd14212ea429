/*
 * bench/bp_ws: the handshake pieces the benchmark tools compute by hand.
 * base64 must fill exactly 4 * ceil(n / 3) + 1 bytes with a NUL at the end
 * (lws 4.1 refuses that exact fit, which once left bp-loadgen's keys
 * unterminated: a few clients in a run sent a key with stack bytes after it
 * and failed their handshake).
 */
#include "bp_ws.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

static void base64_exact_fit(void **state) {
    (void)state;
    /* RFC 4648 §10 vectors, each into a buffer of exactly the size needed,
     * filled with 'X' first so a missing NUL shows */
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},
             {"f", "Zg=="},
             {"fo", "Zm8="},
             {"foo", "Zm9v"},
             {"foob", "Zm9vYg=="},
             {"fooba", "Zm9vYmE="},
             {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i].in), need = 4 * ((n + 2) / 3) + 1;
        char out[16];
        memset(out, 'X', sizeof out);
        size_t len = bp_ws_base64((const uint8_t *)v[i].in, n, out);
        assert_int_equal(len, need - 1);
        assert_string_equal(out, v[i].out);
    }
    /* a 16-byte nonce: 24 characters and the NUL in 25 bytes, every time */
    for (int seed = 0; seed < 256; seed++) {
        uint8_t nonce[16];
        for (int i = 0; i < 16; i++)
            nonce[i] = (uint8_t)(seed * 31 + i * 7);
        char key[BP_WS_KEY_LEN + 1 + 8];
        memset(key, 'X', sizeof key);
        assert_int_equal(bp_ws_base64(nonce, sizeof nonce, key), BP_WS_KEY_LEN);
        assert_int_equal(key[BP_WS_KEY_LEN], '\0');
        assert_int_equal(strlen(key), BP_WS_KEY_LEN);
    }
}

static void accept_rfc6455_example(void **state) {
    (void)state;
    /* RFC 6455 §1.3 */
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    char out[BP_WS_ACCEPT_LEN + 1];
    memset(out, 'X', sizeof out);
    assert_int_equal(bp_ws_accept(key, strlen(key), out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_exact_fit),
        cmocka_unit_test(accept_rfc6455_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
