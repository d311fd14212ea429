/*
 * Tests for bp_handover: inbound and waiting counts follow the status
 * changes; a wait at the door becomes a handover sample when the unit moves
 * on; the median covers the window only; long waits set "delayed".
 */
#include "test_util.h"

#include "bp_handover.h"

#define MIN 60000LL
#define T0  1795402800000LL

static bp_registry_t reg;
static const bp_handover_cfg_t cfg = {.window_ms = 180 * MIN, .delayed_ms = 30 * MIN};

static int setup_group(void **state) {
    (void)state;
    tu_load_registry(&reg);
    return 0;
}

static int teardown_group(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static int hosp(const char *id) {
    int i = bp_registry_hospital(&reg, id, strlen(id));
    assert_true(i >= 0);
    return i;
}

/* unit u: transporting to dest at t, at the door at t + 10 min, free after `wait` */
static void trip(bp_handover_t *h, size_t u, const char *dest, int64_t t, int64_t wait) {
    bp_handover_on_ambulance(h, u, BP_AMB_TRANSPORTING, dest, t);
    bp_handover_on_ambulance(h, u, BP_AMB_AT_HOSPITAL, "", t + 10 * MIN);
    bp_handover_on_ambulance(h, u, BP_AMB_AVAILABLE_RADIO, "", t + 10 * MIN + wait);
}

static void test_inbound_and_waiting(void **state) {
    (void)state;
    bp_handover_t *h = bp_handover_create(&reg, &cfg);
    assert_non_null(h);
    int bm = hosp("bach-mai"), vd = hosp("viet-duc");
    bp_handover_figures_t f;
    bp_handover_on_ambulance(h, 0, BP_AMB_TRANSPORTING, "bach-mai", T0);
    bp_handover_on_ambulance(h, 1, BP_AMB_TRANSPORTING, "bach-mai", T0);
    bp_handover_on_ambulance(h, 2, BP_AMB_TRANSPORTING, "viet-duc", T0);
    bp_handover_figures(h, (size_t)bm, T0, &f);
    assert_int_equal(f.inbound, 2);
    assert_int_equal(f.waiting, 0);
    assert_int_equal(f.median_ms, -1);
    assert_false(f.delayed);
    /* one arrives (without repeating its destination): inbound 1, waiting 1 */
    bp_handover_on_ambulance(h, 0, BP_AMB_AT_HOSPITAL, NULL, T0 + 12 * MIN);
    bp_handover_figures(h, (size_t)bm, T0 + 20 * MIN, &f);
    assert_int_equal(f.inbound, 1);
    assert_int_equal(f.waiting, 1);
    assert_int_equal(f.longest_wait_ms, 8 * MIN);
    /* still waiting 40 min after arriving: delayed, before any sample */
    bp_handover_figures(h, (size_t)bm, T0 + 52 * MIN, &f);
    assert_true(f.delayed);
    assert_int_equal(f.samples, 0);
    /* handed over: a 25 min sample, no longer waiting */
    bp_handover_on_ambulance(h, 0, BP_AMB_AVAILABLE_RADIO, NULL, T0 + 37 * MIN);
    bp_handover_figures(h, (size_t)bm, T0 + 40 * MIN, &f);
    assert_int_equal(f.waiting, 0);
    assert_int_equal(f.samples, 1);
    assert_int_equal(f.median_ms, 25 * MIN);
    assert_false(f.delayed);
    /* a diverted transport counts where it goes now */
    bp_handover_on_ambulance(h, 1, BP_AMB_TRANSPORTING, "viet-duc", T0 + 41 * MIN);
    bp_handover_figures(h, (size_t)bm, T0 + 42 * MIN, &f);
    assert_int_equal(f.inbound, 0);
    bp_handover_figures(h, (size_t)vd, T0 + 42 * MIN, &f);
    assert_int_equal(f.inbound, 2);
    /* a cancelled transport is no longer inbound */
    bp_handover_on_ambulance(h, 2, BP_AMB_AVAILABLE_RADIO, NULL, T0 + 43 * MIN);
    bp_handover_figures(h, (size_t)vd, T0 + 44 * MIN, &f);
    assert_int_equal(f.inbound, 1);
    assert_int_equal(f.samples, 0);
    bp_handover_destroy(h);
}

static void test_median_window_and_delay(void **state) {
    (void)state;
    bp_handover_t *h = bp_handover_create(&reg, &cfg);
    int bm = hosp("bach-mai");
    bp_handover_figures_t f;
    /* 10, 20, 50, 60 min handovers, two hours apart from the old ones */
    trip(h, 3, "bach-mai", T0, 10 * MIN);
    trip(h, 4, "bach-mai", T0, 20 * MIN);
    trip(h, 5, "bach-mai", T0 + 120 * MIN, 50 * MIN);
    trip(h, 6, "bach-mai", T0 + 120 * MIN, 60 * MIN);
    bp_handover_figures(h, (size_t)bm, T0 + 190 * MIN, &f);
    assert_int_equal(f.samples, 4);
    assert_int_equal(f.median_ms, 35 * MIN);
    assert_true(f.delayed);
    /* three hours after they ended (T0+20, T0+30) the short ones are out */
    bp_handover_figures(h, (size_t)bm, T0 + 211 * MIN, &f);
    assert_int_equal(f.samples, 2);
    assert_int_equal(f.median_ms, 55 * MIN);
    /* and later still, nothing: not delayed */
    bp_handover_figures(h, (size_t)bm, T0 + 600 * MIN, &f);
    assert_int_equal(f.samples, 0);
    assert_false(f.delayed);
    /* a new epoch forgets */
    bp_handover_reset(h);
    bp_handover_figures(h, (size_t)bm, T0 + 190 * MIN, &f);
    assert_int_equal(f.samples, 0);
    bp_handover_destroy(h);
}

static void test_bounded_and_odd_input(void **state) {
    (void)state;
    bp_handover_t *h = bp_handover_create(&reg, &cfg);
    int bm = hosp("bach-mai");
    bp_handover_figures_t f;
    /* many more handovers than the ring holds: the newest count */
    for (int i = 0; i < 100; i++)
        trip(h, 7, "bach-mai", T0 + i * MIN, (i < 68 ? 5 : 40) * MIN);
    bp_handover_figures(h, (size_t)bm, T0 + 160 * MIN, &f);
    assert_int_equal(f.samples, BP_HANDOVER_SAMPLES);
    assert_int_equal(f.median_ms, 40 * MIN);
    /* unknown units, unknown hospitals, time going backwards: no sample, no crash */
    bp_handover_on_ambulance(h, reg.n_units + 5, BP_AMB_AT_HOSPITAL, "bach-mai", T0);
    bp_handover_on_ambulance(h, 8, BP_AMB_TRANSPORTING, "no-such-hospital", T0);
    bp_handover_on_ambulance(h, 8, BP_AMB_AT_HOSPITAL, NULL, T0);
    bp_handover_on_ambulance(h, 8, BP_AMB_AVAILABLE_RADIO, NULL, T0 + 5 * MIN);
    bp_handover_on_ambulance(h, 9, BP_AMB_TRANSPORTING, "bach-mai", T0);
    bp_handover_on_ambulance(h, 9, BP_AMB_AT_HOSPITAL, NULL, T0 + 10 * MIN);
    bp_handover_on_ambulance(h, 9, BP_AMB_AVAILABLE_RADIO, NULL, T0 + 5 * MIN);
    bp_handover_figures(h, (size_t)bm, T0 + 160 * MIN, &f);
    assert_int_equal(f.samples, BP_HANDOVER_SAMPLES);
    assert_int_equal(f.median_ms, 40 * MIN);
    bp_handover_figures(h, reg.n_hospitals, T0, &f);
    assert_int_equal(f.inbound, 0);
    bp_handover_destroy(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inbound_and_waiting),
        cmocka_unit_test(test_median_window_and_delay),
        cmocka_unit_test(test_bounded_and_odd_input),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
