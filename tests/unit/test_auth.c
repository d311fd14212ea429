/* Security primitives: token hashes (SHA-256) and session signatures
 * (HMAC-SHA256) against known values, token and session forms, and the
 * permission table. */
#include "bp_auth.h"
#include "test_util.h"

/* The stored form of a token is the hex SHA-256 of its text (FIPS 180-4
 * vectors: libcrypto does the hashing, this checks we call it right). */
static void test_token_hash(void **state) {
    (void)state;
    char out[65];
    bp_token_hash("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    bp_token_hash("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    bp_token_hash(m, strlen(m), out);
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_tokens(void **state) {
    (void)state;
    /* what bp-admin makes: "bp_" + base64url of 32 bytes, no padding
     * (this one: bytes i * 37 + 11, encoded by Python's base64 module) */
    const char *t = "bp_CzBVep_E6Q4zWH2ix-wRNluApcrvFDleg6jN8hc8YYY";
    assert_int_equal(strlen(t), BP_TOKEN_LEN);
    assert_true(bp_token_well_formed(t, strlen(t)));
    char bad[BP_TOKEN_LEN + 1];
    memcpy(bad, t, sizeof bad);
    bad[10] = '+';
    assert_false(bp_token_well_formed(bad, strlen(bad)));
    bad[10] = '=';
    assert_false(bp_token_well_formed(bad, strlen(bad)));
    assert_false(bp_token_well_formed(t, strlen(t) - 1));
    assert_false(bp_token_well_formed("xp_", 3));
    char h1[65], h2[65];
    bp_token_hash(t, strlen(t), h1);
    bp_token_hash(t, strlen(t) - 1, h2);
    assert_int_equal(strlen(h1), 64);
    assert_string_not_equal(h1, h2);
}

static void test_sessions(void **state) {
    (void)state;
    const unsigned char key[] = "0123456789abcdef0123456789abcdef";
    char c[BP_SESSION_MAX + 1];
    assert_int_equal(
        bp_session_sign(key, 32, "t-1a2b3c4d", 1000, 5000, "00ff00ff00ff00ff", c, sizeof c), 0);
    /* payload "." hex HMAC-SHA256(key, payload) (RFC 2104; this value from
     * Python's hmac module) */
    assert_string_equal(c, "v1|t-1a2b3c4d|1000|5000|00ff00ff00ff00ff."
                           "36c31dc13707587ea1d7a8a155de0337f2687125676cbd508c19aa6cdcfd7ebf");
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
    /* the pollers' status: admins only */
    assert_true(bp_auth_allows(&a, -1, BP_ACT_READ_SOURCES, 0, now));
    assert_false(bp_auth_allows(&d, -1, BP_ACT_READ_SOURCES, 0, now));
    assert_false(bp_auth_allows(NULL, BP_ROLE_DISPATCHER, BP_ACT_READ_SOURCES, 0, now));

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
        cmocka_unit_test(test_token_hash),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_permissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
