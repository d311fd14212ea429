/* The credential check's pure part: which secret a request presents, and
 * the verdict on a resolved credential when it is used. */
#include "bp_credential.h"
#include "test_util.h"

static bp_secret_t presented(const char *authz, const char *cookie, bool lax, char *out) {
    const char *v = NULL;
    size_t n = 0;
    bp_secret_t k = bp_cred_presented(authz, strlen(authz), cookie, strlen(cookie), lax, &v, &n);
    out[0] = '\0';
    if (v) snprintf(out, 64, "%.*s", (int)n, v);
    return k;
}

static void test_presented(void **state) {
    (void)state;
    char v[64];
    assert_int_equal(presented("", "", false, v), BP_SECRET_NONE);
    assert_int_equal(presented("", "a=1; other=2", false, v), BP_SECRET_NONE);
    assert_int_equal(presented("Bearer bp_x", "", false, v), BP_SECRET_BEARER);
    assert_string_equal(v, "bp_x");
    /* a bearer token wins over the cookie */
    assert_int_equal(presented("Bearer bp_x", "bp_session=c1", true, v), BP_SECRET_BEARER);
    assert_string_equal(v, "bp_x");
    assert_int_equal(presented("", "a=1; bp_session=c1", false, v), BP_SECRET_SESSION);
    assert_string_equal(v, "c1");
    /* another scheme: a bad credential for REST; ignored at the upgrade */
    assert_int_equal(presented("Basic YTpi", "bp_session=c1", false, v), BP_SECRET_MALFORMED);
    assert_int_equal(presented("Basic YTpi", "bp_session=c1", true, v), BP_SECRET_SESSION);
    assert_string_equal(v, "c1");
    assert_int_equal(presented("Basic YTpi", "", true, v), BP_SECRET_NONE);
}

static void test_principal(void **state) {
    (void)state;
    bp_principal_t p = {.id = "t-1", .role = BP_ROLE_FEED};
    assert_int_equal(bp_cred_principal(NULL, 1000), BP_CRED_GONE);
    assert_int_equal(bp_cred_principal(&p, 1000), BP_CRED_VALID);
    p.expires_ms = 1000;
    assert_int_equal(bp_cred_principal(&p, 999), BP_CRED_VALID);
    assert_int_equal(bp_cred_principal(&p, 1000), BP_CRED_EXPIRED);
    p.revoked_ms = 5; /* revoked says more than expired */
    assert_int_equal(bp_cred_principal(&p, 1000), BP_CRED_REVOKED);
}

static void test_verdict(void **state) {
    (void)state;
    bp_principal_t p = {.id = "t-1", .role = BP_ROLE_DISPATCHER};
    bp_cred_t c = {.state = BP_CRED_NONE};
    assert_int_equal(bp_cred_verdict(&c, NULL, false, 0), BP_CRED_ANONYMOUS);
    c.state = BP_CRED_UNREADY;
    assert_int_equal(bp_cred_verdict(&c, NULL, false, 0), BP_CRED_LOADING);
    c.state = BP_CRED_INVALID;
    assert_int_equal(bp_cred_verdict(&c, &p, false, 0), BP_CRED_NOT_VALID);
    c.state = BP_CRED_SIGNED_OUT;
    assert_int_equal(bp_cred_verdict(&c, &p, false, 0), BP_CRED_ENDED);

    /* a bearer token: its principal decides */
    c = (bp_cred_t){.state = BP_CRED_OK, .token_id = "t-1"};
    assert_int_equal(bp_cred_verdict(&c, &p, false, 0), BP_CRED_VALID);
    assert_int_equal(bp_cred_verdict(&c, NULL, false, 0), BP_CRED_GONE);
    p.revoked_ms = 1;
    assert_int_equal(bp_cred_verdict(&c, &p, false, 0), BP_CRED_REVOKED);
    p.revoked_ms = 0;

    /* a session: also its own expiry and the sign-out list */
    snprintf(c.session_id, sizeof c.session_id, "00ff00ff00ff00ff");
    c.session_exp = 5000;
    assert_int_equal(bp_cred_verdict(&c, &p, false, 4999), BP_CRED_VALID);
    assert_int_equal(bp_cred_verdict(&c, &p, false, 5000), BP_CRED_SESSION_ENDED);
    assert_int_equal(bp_cred_verdict(&c, &p, true, 1000), BP_CRED_SESSION_ENDED);
    p.expires_ms = 1000; /* the token's expiry comes first */
    assert_int_equal(bp_cred_verdict(&c, &p, true, 1000), BP_CRED_EXPIRED);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_presented),
                                       cmocka_unit_test(test_principal),
                                       cmocka_unit_test(test_verdict)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
