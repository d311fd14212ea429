/* Unit tests for core/bp_derive.c: what the derived engine sends next. */
#include "test_util.h"

#include "bp_derive.h"

#include <string.h>

static void test_rec_due(void **state) {
    (void)state;
    bp_derive_t d = {0};
    assert_true(bp_derive_rec_due(&d, 1764000000000LL)); /* never built */
    d.rec_ms = 10000;
    assert_false(bp_derive_rec_due(&d, 10000));
    assert_false(bp_derive_rec_due(&d, 10000 + BP_DERIVE_REC_PUSH_MS - 1));
    assert_true(bp_derive_rec_due(&d, 10000 + BP_DERIVE_REC_PUSH_MS));
}

static void test_offload(void **state) {
    (void)state;
    bp_derive_t d = {.rec_ms = 5};
    assert_int_equal(bp_derive_next(&d, 100, true, NULL, 0, NULL, 0), BP_DERIVE_OFFLOAD);
    assert_int_equal(bp_derive_next(&d, 100, false, NULL, 0, NULL, 0), 0);
    assert_int_equal(d.rec_ms, 5); /* nothing built: nothing noted */
}

static void test_recommend_only_when_different(void **state) {
    (void)state;
    bp_derive_t d = {0};
    const char *a = "{\"type\":\"recommendations\",\"incidents\":[]}";
    const char *b = "{\"type\":\"recommendations\",\"incidents\":[{\"id\":\"I-1\"}]}";
    /* the first frame goes out */
    assert_int_equal(bp_derive_next(&d, 4000, false, a, strlen(a), NULL, 0), BP_DERIVE_RECOMMEND);
    assert_int_equal(d.rec_ms, 4000);
    /* the same bytes again: built (noted), not sent */
    assert_int_equal(bp_derive_next(&d, 7000, false, a, strlen(a), a, strlen(a)), 0);
    assert_int_equal(d.rec_ms, 7000);
    assert_false(bp_derive_rec_due(&d, 9999));
    /* a change goes out, with the offload list when that changed too */
    assert_int_equal(bp_derive_next(&d, 10000, true, b, strlen(b), a, strlen(a)),
                     BP_DERIVE_RECOMMEND | BP_DERIVE_OFFLOAD);
    /* same length, other bytes */
    char c[64];
    snprintf(c, sizeof c, "%s", a);
    c[10] = 'X';
    assert_int_equal(bp_derive_next(&d, 13000, false, c, strlen(c), a, strlen(a)),
                     BP_DERIVE_RECOMMEND);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rec_due),
        cmocka_unit_test(test_offload),
        cmocka_unit_test(test_recommend_only_when_different),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
