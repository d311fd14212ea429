/*
 * Tests for bp_mci: the suggested distribution (trauma-capable first for
 * Immediate, nearest first, Minor away from central hospitals, capacity
 * limits, nothing silently dropped) and the request bodies (every error
 * named).
 */
#include "test_util.h"

#include "bp_mci.h"

enum { I = BP_TRIAGE_IMMEDIATE, D = BP_TRIAGE_DELAYED, M = BP_TRIAGE_MINOR };

/* 0: near central trauma, 1: near district, 2: far city trauma, 3: unanswered */
static const bp_mci_site_t sites[] = {
    {.hospital = 0,
     .eta_min = 5,
     .answered = true,
     .trauma = true,
     .central = true,
     .can = {2, 5, 10}},
    {.hospital = 1,
     .eta_min = 4,
     .answered = true,
     .trauma = false,
     .central = false,
     .can = {1, 3, 6}},
    {.hospital = 2,
     .eta_min = 12,
     .answered = true,
     .trauma = true,
     .central = false,
     .can = {3, 4, 8}},
    {.hospital = 3,
     .eta_min = 2,
     .answered = false,
     .trauma = true,
     .central = false,
     .can = {9, 9, 9}},
};

static void test_suggest(void **state) {
    (void)state;
    int alloc[4][BP_TRIAGE__COUNT], unplaced[BP_TRIAGE__COUNT];
    int expected[BP_TRIAGE__COUNT] = {4, 6, 7};
    bp_mci_suggest(sites, 4, expected, alloc, unplaced);
    /* Immediate: trauma-capable nearest first (0 then 2), not the nearer district 1 */
    assert_int_equal(alloc[0][I], 2);
    assert_int_equal(alloc[2][I], 2);
    assert_int_equal(alloc[1][I], 0);
    /* Delayed: nearest first: 1 (3), then 0 (3 of 5) */
    assert_int_equal(alloc[1][D], 3);
    assert_int_equal(alloc[0][D], 3);
    assert_int_equal(alloc[2][D], 0);
    /* Minor: non-central first: 1 (6), then 2 (1); the central one keeps room */
    assert_int_equal(alloc[1][M], 6);
    assert_int_equal(alloc[2][M], 1);
    assert_int_equal(alloc[0][M], 0);
    /* the unanswered hospital takes nothing */
    for (int t = 0; t < BP_TRIAGE__COUNT; t++)
        assert_int_equal(alloc[3][t], 0);
    for (int t = 0; t < BP_TRIAGE__COUNT; t++)
        assert_int_equal(unplaced[t], 0);
    /* more than everyone can take: the rest is reported */
    int big[BP_TRIAGE__COUNT] = {10, 0, 30};
    bp_mci_suggest(sites, 4, big, alloc, unplaced);
    assert_int_equal(alloc[0][I] + alloc[1][I] + alloc[2][I], 6);
    assert_int_equal(unplaced[I], 4);
    assert_int_equal(unplaced[D], 0);
    assert_int_equal(unplaced[M], 30 - 24);
    /* nothing answered yet: everything unplaced */
    bp_mci_suggest(sites + 3, 1, expected, alloc, unplaced);
    assert_int_equal(unplaced[I] + unplaced[D] + unplaced[M], 17);
}

static void test_triage_names(void **state) {
    (void)state;
    for (int t = 0; t < BP_TRIAGE__COUNT; t++) {
        const char *n = bp_triage_name((bp_triage_t)t);
        assert_int_equal(bp_triage_parse(n, strlen(n)), t);
    }
    assert_int_equal(bp_triage_parse("red", 3), -1);
    assert_null(bp_triage_name(BP_TRIAGE__COUNT));
}

static bool has(const bp_errors_t *e, const char *field) {
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->e[i].field, field) == 0 && strlen(e->e[i].message) > 10) return true;
    return false;
}

static void test_bodies(void **state) {
    (void)state;
    bp_mci_declare_t d;
    bp_errors_t e;
    const char *ok = "{\"lat\":21.03,\"lon\":105.85,\"address\":\"Cầu Long "
                     "Biên\",\"expected\":{\"immediate\":5,\"minor\":20}}";
    assert_int_equal(bp_mci_parse_declare(ok, strlen(ok), &d, &e), 0);
    assert_true(d.radius_km == 10);
    assert_int_equal(d.expected[I], 5);
    assert_int_equal(d.expected[D], 0);
    assert_int_equal(d.expected[M], 20);
    assert_string_equal(d.address, "Cầu Long Biên");
    const char *bad =
        "{\"lat\":91,\"radius_km\":0,\"expected\":{\"immediate\":-1,\"red\":2},\"x\":1}";
    assert_int_equal(bp_mci_parse_declare(bad, strlen(bad), &d, &e), -1);
    static const char *const fields[] = {"lat",          "lon", "radius_km", "expected.immediate",
                                         "expected.red", "x"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!has(&e, fields[i])) fail_msg("no error for %s", fields[i]);
    int c[BP_TRIAGE__COUNT];
    const char *ans = "{\"immediate\":2,\"delayed\":0,\"minor\":7}";
    assert_int_equal(bp_mci_parse_answer(ans, strlen(ans), c, &e), 0);
    assert_int_equal(c[M], 7);
    const char *part = "{\"immediate\":2,\"minor\":1001}";
    assert_int_equal(bp_mci_parse_answer(part, strlen(part), c, &e), -1);
    assert_true(has(&e, "delayed") && has(&e, "minor"));
    bp_mci_patient_t p;
    const char *pat =
        "{\"triage\":\"delayed\",\"destination\":\"viet-duc\",\"unit\":\"115-HK-01\"}";
    assert_int_equal(bp_mci_parse_patient(pat, strlen(pat), &p, &e), 0);
    assert_int_equal(p.triage, D);
    assert_string_equal(p.destination, "viet-duc");
    const char *badp = "{\"triage\":\"red\",\"destination\":\"Viet Duc\",\"unit\":\"a b\"}";
    assert_int_equal(bp_mci_parse_patient(badp, strlen(badp), &p, &e), -1);
    assert_true(has(&e, "triage") && has(&e, "destination") && has(&e, "unit"));
    assert_int_equal(bp_mci_parse_patient("[", 1, &p, &e), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_triage_names),
        cmocka_unit_test(test_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
