/* Unit tests for core/bp_rate.c: token buckets in a bounded table. */
#include "test_util.h"

#include "bp_rate.h"

static void test_bucket(void **state) {
    (void)state;
    bp_rate_t *r = bp_rate_create(64, 60, 3); /* 1 a second, bursts of 3 */
    int64_t t = 1000000, retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(bp_rate_take(r, "10.0.0.1", t, &retry));
    assert_false(bp_rate_take(r, "10.0.0.1", t, &retry));
    assert_in_range(retry, 1, 1001);
    /* other keys are not affected */
    assert_true(bp_rate_take(r, "10.0.0.2", t, NULL));
    /* a second later one token is back, not more */
    assert_true(bp_rate_take(r, "10.0.0.1", t + 1000, NULL));
    assert_false(bp_rate_take(r, "10.0.0.1", t + 1000, NULL));
    /* a long pause refills only to the burst */
    for (int i = 0; i < 3; i++)
        assert_true(bp_rate_take(r, "10.0.0.1", t + 100000, NULL));
    assert_false(bp_rate_take(r, "10.0.0.1", t + 100000, NULL));
    bp_rate_destroy(r);
}

static void test_check_counts_nothing(void **state) {
    (void)state;
    bp_rate_t *r = bp_rate_create(64, 10, 2);
    int64_t t = 5000;
    for (int i = 0; i < 10; i++)
        assert_true(bp_rate_check(r, "a", t, NULL));
    assert_true(bp_rate_take(r, "a", t, NULL));
    assert_true(bp_rate_take(r, "a", t, NULL));
    int64_t retry;
    assert_false(bp_rate_check(r, "a", t, &retry));
    assert_in_range(retry, 1, 6001);
    bp_rate_destroy(r);
}

/* Many more keys than slots: memory stays the same, the busy keys keep
 * their state, and nothing crashes. */
static void test_bounded(void **state) {
    (void)state;
    bp_rate_t *r = bp_rate_create(32, 1, 5);
    int64_t t = 1;
    for (int i = 0; i < 5; i++)
        assert_true(bp_rate_take(r, "busy", t, NULL));
    char key[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "192.0.2.%d:%d", i % 256, i);
        bp_rate_take(r, key, t, NULL);
        if (i % 50 == 0) assert_false(bp_rate_take(r, "busy", t, NULL));
    }
    assert_true(bp_rate_tracked(r, t) <= 32);
    /* a key longer than the slot is cut, not overflowed */
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    assert_true(bp_rate_take(r, key, t, NULL));
    bp_rate_destroy(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_check_counts_nothing),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
