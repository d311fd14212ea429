/*
 * Known-answer tests for core/bp_crypto (libcrypto underneath) and the
 * wrappers over it: SHA-256 against the FIPS 180-2 examples (bp_sha256 and
 * bp_token_hash's hex), HMAC-SHA-256 against RFC 4231 test cases 1-7
 * (bp_hmac_sha256 and the webhook signature bp_webhook_sign; case 5 is
 * compared on its first 128 bits, as the RFC gives it), and the
 * constant-time compare (equal, and a difference at the first, a middle and
 * the last byte), with the session cookie it guards.
 */
#include "test_util.h"

#include "bp_auth.h"
#include "bp_crypto.h"
#include "bp_notify_rules.h"

/* Decodes the RFC's hex into out (at most cap bytes); the byte count. */
static size_t unhex(const char *hex, unsigned char *out, size_t cap) {
    size_t n = strlen(hex) / 2;
    assert_int_equal(strlen(hex) % 2, 0);
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
    return n;
}

static void expect_sha256(const void *data, size_t len, const char *want) {
    unsigned char md[BP_SHA256_LEN];
    char hex[2 * BP_SHA256_LEN + 1];
    bp_sha256(data, len, md);
    bp_hex(md, sizeof md, hex);
    assert_string_equal(hex, want);
    bp_token_hash(data, len, hex);
    assert_string_equal(hex, want);
}

/* FIPS 180-2, appendix B (and the empty message). */
static void test_sha256_fips(void **state) {
    (void)state;
    expect_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect_sha256(m448, sizeof m448 - 1,
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    size_t million = 1000000;
    char *a = malloc(million);
    assert_non_null(a);
    memset(a, 'a', million);
    expect_sha256(a, million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* RFC 4231 section 4: key, data and HMAC-SHA-256 in hex. */
static const struct {
    int id;
    const char *key, *data, *mac;
} rfc4231[] = {
    {1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {2, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "dddddddddddddddddddd",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    {4, "0102030405060708090a0b0c0d0e0f10111213141516171819",
     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
     "cdcdcdcdcdcdcdcdcdcd",
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    {5, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
     "a3b6167473100ee06e0c796c2955552b"},
    {6,
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaa",
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d20"
     "48617368204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    {7,
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaa",
     "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b"
     "2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a652064"
     "6174612e20546865206b6579206e6565647320746f20626520686173686564206265666f72652062"
     "65696e6720757365642062792074686520484d414320616c676f726974686d2e",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

static void test_hmac_rfc4231(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof rfc4231 / sizeof *rfc4231; i++) {
        unsigned char key[256], data[256], mac[BP_SHA256_LEN];
        size_t klen = unhex(rfc4231[i].key, key, sizeof key);
        size_t dlen = unhex(rfc4231[i].data, data, sizeof data);
        size_t want = strlen(rfc4231[i].mac); /* 64, or 32 for case 5 */
        print_message("RFC 4231 test case %d\n", rfc4231[i].id);
        char hex[2 * BP_SHA256_LEN + 1];
        assert_int_equal(bp_hmac_sha256(key, klen, data, dlen, mac), 0);
        bp_hex(mac, sizeof mac, hex);
        assert_memory_equal(hex, rfc4231[i].mac, want);
        /* the webhook signature: "sha256=" + the same hex */
        char sig[BP_SIGNATURE_LEN + 1];
        bp_webhook_sign((const char *)key, klen, data, dlen, sig);
        assert_int_equal(strlen(sig), BP_SIGNATURE_LEN);
        static const char prefix[] = "sha256=";
        assert_memory_equal(sig, prefix, sizeof prefix - 1);
        assert_string_equal(sig + sizeof prefix - 1, hex);
    }
    assert_int_equal(sizeof rfc4231 / sizeof *rfc4231, 7);
}

static void test_ct_equal(void **state) {
    (void)state;
    unsigned char a[64], b[64];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = b[i] = (unsigned char)(i * 7 + 1);
    assert_true(bp_ct_equal(a, b, sizeof a));
    assert_true(bp_ct_equal(a, b, 0));
    static const size_t at[] = {0, 31, 63};
    for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
        b[at[k]] ^= 0x01;
        assert_false(bp_ct_equal(a, b, sizeof a));
        assert_true(bp_ct_equal(a, b, at[k])); /* the bytes before it */
        b[at[k]] ^= 0x01;
    }
    assert_true(bp_ct_equal(a, b, sizeof a));
    /* the session cookie: signed, accepted; one hex digit changed, refused */
    static const unsigned char key[] = "a session key of some length";
    char cookie[BP_SESSION_MAX + 1], tok[BP_TOKEN_ID_MAX + 1], sid[33];
    int64_t exp = 0;
    assert_int_equal(
        bp_session_sign(key, sizeof key - 1, "tok-1", 1000, 2000000, "s-1", cookie, sizeof cookie),
        0);
    size_t len = strlen(cookie);
    assert_int_equal(bp_session_verify(key, sizeof key - 1, cookie, len, 1500, tok, sid, &exp), 0);
    assert_string_equal(tok, "tok-1");
    assert_int_equal(exp, 2000000);
    static const size_t from_end[] = {1, 32, 64};
    for (size_t k = 0; k < sizeof from_end / sizeof *from_end; k++) {
        char *c = &cookie[len - from_end[k]];
        char was = *c;
        *c = was == '0' ? '1' : '0';
        assert_int_equal(bp_session_verify(key, sizeof key - 1, cookie, len, 1500, tok, sid, &exp),
                         -1);
        *c = was;
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_fips),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_ct_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
