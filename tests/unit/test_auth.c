/* Security primitives: SHA-256 and HMAC against the standard vectors,
 * token and session forms, and the permission table. */
#include "bp_auth.h"
#include "bp_sha256.h"
#include "test_util.h"

static void hex_of(const char *msg, size_t len, char out[65]) {
    unsigned char h[32];
    bp_sha256(msg, len, h);
    bp_hex(h, 32, out);
}

static void test_sha256_vectors(void **state) {
    (void)state;
    char out[65];
    hex_of("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(m, strlen(m), out);
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* one million 'a', fed in odd-sized pieces */
    bp_sha256_t c;
    bp_sha256_init(&c);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        bp_sha256_update(&c, chunk, n);
        left -= n;
    }
    unsigned char h[32];
    bp_sha256_final(&c, h);
    bp_hex(h, 32, out);
    assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_hmac_vectors(void **state) {
    (void)state;
    unsigned char mac[32];
    char out[65];
    /* RFC 4231 test case 1 */
    unsigned char key1[20];
    memset(key1, 0x0b, sizeof key1);
    bp_hmac_sha256(key1, sizeof key1, "Hi There", 8, mac);
    bp_hex(mac, 32, out);
    assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* test case 2 */
    const char *data = "what do ya want for nothing?";
    bp_hmac_sha256("Jefe", 4, data, strlen(data), mac);
    bp_hex(mac, 32, out);
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* test case 6: a key longer than the block is hashed first */
    unsigned char key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    bp_hmac_sha256(key6, sizeof key6, d6, strlen(d6), mac);
    bp_hex(mac, 32, out);
    assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_tokens(void **state) {
    (void)state;
    unsigned char r[32];
    for (int i = 0; i < 32; i++) r[i] = (unsigned char)(i * 37 + 11);
    char t[BP_TOKEN_LEN + 1];
    bp_token_format(r, t);
    assert_int_equal(strlen(t), BP_TOKEN_LEN);
    assert_memory_equal(t, "bp_", 3);
    assert_true(bp_token_well_formed(t, strlen(t)));
    char bad[BP_TOKEN_LEN + 1];
    memcpy(bad, t, sizeof bad);
    bad[10] = '+';
    assert_false(bp_token_well_formed(bad, strlen(bad)));
    assert_false(bp_token_well_formed(t, strlen(t) - 1));
    assert_false(bp_token_well_formed("xp_", 3));
    char h1[65], h2[65];
    bp_token_hash(t, strlen(t), h1);
    bp_token_hash(bad, strlen(bad), h2);
    assert_int_equal(strlen(h1), 64);
    assert_string_not_equal(h1, h2);
}

static void test_sessions(void **state) {
    (void)state;
    const unsigned char key[] = "0123456789abcdef0123456789abcdef";
    char c[BP_SESSION_MAX + 1];
    assert_int_equal(bp_session_sign(key, 32, "t-1a2b3c4d", 1000, 5000, "00ff00ff00ff00ff", c, sizeof c), 0);
    char tid[BP_TOKEN_ID_MAX + 1], sid[33];
    int64_t exp;
    assert_int_equal(bp_session_verify(key, 32, c, strlen(c), 4999, tid, sid, &exp), 0);
    assert_string_equal(tid, "t-1a2b3c4d");
    assert_string_equal(sid, "00ff00ff00ff00ff");
    assert_int_equal(exp, 5000);
    /* expired */
    assert_int_equal(bp_session_verify(key, 32, c, strlen(c), 5000, tid, sid, &exp), -1);
    /* another key */
    const unsigned char other[] = "0123456789abcdef0123456789abcdeX";
    assert_int_equal(bp_session_verify(other, 32, c, strlen(c), 1000, tid, sid, &exp), -1);
    /* any byte changed: the payload (a longer expiry) or the signature */
    for (size_t i = 0; i < strlen(c); i++) {
        char t[BP_SESSION_MAX + 1];
        memcpy(t, c, sizeof t);
        t[i] = t[i] == '9' ? '8' : '9';
        if (t[i] == c[i]) continue;
        assert_int_equal(bp_session_verify(key, 32, t, strlen(t), 1000, tid, sid, &exp), -1);
    }
    assert_int_equal(bp_session_verify(key, 32, "v1|x", 4, 0, tid, sid, &exp), -1);
    assert_int_equal(bp_session_verify(key, 32, "", 0, 0, tid, sid, &exp), -1);
    char tiny[20];
    assert_int_equal(bp_session_sign(key, 32, "t-1", 1, 2, "ab", tiny, sizeof tiny), -1);
}

static void test_permissions(void **state) {
    (void)state;
    const int64_t now = 1000;
    bp_principal_t m = {.role = BP_ROLE_MANAGER};
    bp_principal_scope_add(&m, 3);
    assert_true(bp_auth_allows(&m, -1, BP_ACT_WRITE_HOSPITAL, 3, now));
    assert_false(bp_auth_allows(&m, -1, BP_ACT_WRITE_HOSPITAL, 4, now));
    assert_false(bp_auth_allows(&m, -1, BP_ACT_READ_AMBULANCES, 0, now));
    assert_true(bp_auth_allows(&m, -1, BP_ACT_READ_HOSPITALS, 0, now));
    assert_false(bp_auth_allows(&m, -1, BP_ACT_READ_AUDIT, 0, now));
    m.revoked_ms = 1;
    assert_false(bp_auth_allows(&m, -1, BP_ACT_READ_HOSPITALS, 0, now));
    m.revoked_ms = 0;
    m.expires_ms = now;
    assert_false(bp_auth_allows(&m, -1, BP_ACT_READ_HOSPITALS, 0, now));

    bp_principal_t w = {.role = BP_ROLE_WALL};
    assert_true(bp_auth_allows(&w, -1, BP_ACT_LIVE, 0, now));
    assert_false(bp_auth_allows(&w, -1, BP_ACT_WRITE_HOSPITAL, 0, now));
    assert_false(bp_auth_allows(&w, -1, BP_ACT_READ_AMBULANCES, 0, now));
    assert_int_equal(bp_role_audience(BP_ROLE_WALL), BP_AUD_WALL);
    assert_int_equal(bp_role_audience(BP_ROLE_MANAGER), BP_AUD_HOSPITALS);
    assert_int_equal(bp_role_audience(BP_ROLE_DISPATCHER), BP_AUD_FULL);

    bp_principal_t d = {.role = BP_ROLE_DISPATCHER};
    assert_true(bp_auth_allows(&d, -1, BP_ACT_READ_AMBULANCES, 0, now));
    assert_false(bp_auth_allows(&d, -1, BP_ACT_WRITE_HOSPITAL, 0, now));
    bp_principal_t a = {.role = BP_ROLE_ADMIN};
    assert_true(bp_auth_allows(&a, -1, BP_ACT_WRITE_HOSPITAL, 77, now));
    assert_true(bp_auth_allows(&a, -1, BP_ACT_READ_AUDIT, 0, now));

    bp_principal_t f = {.role = BP_ROLE_FEED};
    bp_principal_scope_add(&f, 5);
    assert_true(bp_auth_allows(&f, -1, BP_ACT_FEED_HOSPITAL, 5, now));
    assert_false(bp_auth_allows(&f, -1, BP_ACT_FEED_HOSPITAL, 6, now));
    assert_false(bp_auth_allows(&f, -1, BP_ACT_FEED_FLEET, 0, now));
    f.fleet = true;
    assert_true(bp_auth_allows(&f, -1, BP_ACT_FEED_FLEET, 0, now));
    assert_false(bp_auth_allows(&f, -1, BP_ACT_READ_HOSPITALS, 0, now));

    /* anonymous: nothing by default, reads when configured, never writes */
    assert_false(bp_auth_allows(NULL, -1, BP_ACT_READ_SUMMARY, 0, now));
    assert_true(bp_auth_allows(NULL, BP_ROLE_PUBLIC, BP_ACT_READ_SUMMARY, 0, now));
    assert_false(bp_auth_allows(NULL, BP_ROLE_PUBLIC, BP_ACT_READ_HOSPITALS, 0, now));
    assert_false(bp_auth_allows(NULL, BP_ROLE_PUBLIC, BP_ACT_READ_AMBULANCES, 0, now));
    assert_true(bp_auth_allows(NULL, BP_ROLE_DISPATCHER, BP_ACT_READ_AMBULANCES, 0, now));
    assert_false(bp_auth_allows(NULL, BP_ROLE_ADMIN, BP_ACT_WRITE_HOSPITAL, 0, now));
    assert_false(bp_auth_allows(NULL, BP_ROLE_ADMIN, BP_ACT_READ_AUDIT, 0, now));
    assert_false(bp_auth_allows(NULL, BP_ROLE_ADMIN, BP_ACT_FEED_HOSPITAL, 0, now));

    for (int r = 0; r < BP_ROLE__COUNT; r++) {
        const char *n = bp_role_name((bp_role_t)r);
        assert_int_equal(bp_role_parse(n, strlen(n)), r);
    }
    assert_int_equal(bp_role_parse("root", 4), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors), cmocka_unit_test(test_hmac_vectors),
        cmocka_unit_test(test_tokens),         cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_permissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
