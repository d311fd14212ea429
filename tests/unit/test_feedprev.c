/* The previous line in flight per source (core/bp_feedprev): what prev a
 * line is sent with, as lines go out and answers come back in order, and
 * the table under many sources and collisions. */
#include "bp_feedprev.h"
#include "test_util.h"

static void test_one_source(void **state) {
    (void)state;
    bp_feed_prev_t p = {0};
    /* the first line of a connection: none */
    assert_int_equal(bp_feed_prev_before(&p, 7, 1), -1);
    bp_feed_prev_sent(&p, 7, 1);
    /* pipelined: each names the one before */
    assert_int_equal(bp_feed_prev_before(&p, 7, 2), 1);
    bp_feed_prev_sent(&p, 7, 2);
    assert_int_equal(bp_feed_prev_before(&p, 7, 3), 2);
    bp_feed_prev_sent(&p, 7, 3);
    assert_int_equal(bp_feed_prev_inflight(&p, 7), 3);
    /* answers in order: while any is in flight, the last sent is */
    bp_feed_prev_answered(&p, 7);
    bp_feed_prev_answered(&p, 7);
    assert_int_equal(bp_feed_prev_before(&p, 7, 4), 3);
    bp_feed_prev_answered(&p, 7);
    assert_int_equal(bp_feed_prev_inflight(&p, 7), 0);
    /* all answered: none */
    assert_int_equal(bp_feed_prev_before(&p, 7, 4), -1);
    /* a resend going back (seq not above the last sent): none */
    bp_feed_prev_sent(&p, 7, 4);
    assert_int_equal(bp_feed_prev_before(&p, 7, 2), -1);
    assert_int_equal(bp_feed_prev_before(&p, 7, 4), -1);
    bp_feed_prev_sent(&p, 7, 2);
    /* ...and the line after the resend names the resend */
    assert_int_equal(bp_feed_prev_before(&p, 7, 3), 2);
    /* another source is its own */
    assert_int_equal(bp_feed_prev_before(&p, 8, 100), -1);
    /* an answer for a source with nothing in flight changes nothing */
    bp_feed_prev_answered(&p, 9);
    assert_int_equal(bp_feed_prev_inflight(&p, 7), 2);
    bp_feed_prev_free(&p);
    bp_feed_prev_free(&p); /* twice is harmless */
}

/* Many sources whose hashes share their low bits (the same home entry):
 * every one keeps its own last seq as others come and go. */
static void test_many_sources(void **state) {
    (void)state;
    bp_feed_prev_t p = {0};
    enum { N = 300 };
    for (int round = 0; round < 3; round++) {
        for (uint64_t s = 0; s < N; s++) {
            uint64_t src = s << 40; /* low bits equal: they collide */
            int64_t seq = round * 10 + 1;
            assert_int_equal(bp_feed_prev_before(&p, src, seq), round ? seq - 10 : -1);
            bp_feed_prev_sent(&p, src, seq);
        }
        assert_int_equal(p.used, N);
        assert_true(p.used * 2 <= p.cap);
        /* every other source answered once (in round 0 its entry goes) */
        for (uint64_t s = 0; s < N; s += 2)
            bp_feed_prev_answered(&p, s << 40);
        for (uint64_t s = 0; s < N; s++)
            assert_int_equal(bp_feed_prev_inflight(&p, s << 40),
                             s % 2 ? (size_t)round + 1 : (size_t)round);
        for (uint64_t s = 0; s < N; s += 2)
            bp_feed_prev_sent(&p, s << 40, round * 10 + 1); /* back in flight */
    }
    /* drain: every line answered, the table empty */
    for (uint64_t s = 0; s < N; s++) {
        size_t n = bp_feed_prev_inflight(&p, s << 40);
        while (n--)
            bp_feed_prev_answered(&p, s << 40);
    }
    assert_int_equal(p.used, 0);
    for (uint64_t s = 0; s < N; s++)
        assert_int_equal(bp_feed_prev_before(&p, s << 40, 1000), -1);
    bp_feed_prev_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_source),
        cmocka_unit_test(test_many_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
