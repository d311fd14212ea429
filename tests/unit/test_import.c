/* Items of an imported document: the bound on hospitals, errors and notes,
 * the order changes are applied in, idempotency sources. */
#include "bp_import.h"
#include "test_util.h"

static void test_bound_and_errors(void **state) {
    (void)state;
    bp_import_t im;
    bp_import_init(&im, 3);
    for (int i = 0; i < 3; i++) {
        char p[16];
        snprintf(p, sizeof p, "H[%d]", i + 1);
        bp_import_item_t *it = bp_import_add(&im, p);
        assert_non_null(it);
        assert_int_equal(it->hospital, -1);
        assert_int_equal(it->change.kind, BP_KIND_HOSPITAL);
        assert_int_equal(it->change.beds[0].staffed, -1);
    }
    assert_null(bp_import_add(&im, "H[4]"));
    assert_int_equal(im.errs.n, 1);
    assert_string_equal(im.errs.e[0].code, "too_many");
    assert_string_equal(im.errs.e[0].field, "H[4]");
    for (int i = 0; i < 100; i++)
        bp_import_error(&im, "x", "f", "error %d", i);
    assert_int_equal(im.errs.n, BP_ERRORS_MAX); /* bounded */
    for (int i = 0; i < 40; i++)
        bp_import_note(&im, "note %d", i);
    assert_int_equal(im.n_notes, BP_IMPORT_NOTES_MAX);
    assert_int_equal(im.notes_dropped, 40 - BP_IMPORT_NOTES_MAX);
    bp_import_free(&im);
    bp_import_free(&im); /* twice is fine */
}

static void test_sort_is_stable(void **state) {
    (void)state;
    bp_import_t im;
    bp_import_init(&im, 10);
    const int64_t at[] = {30, 10, 20, 10, 30};
    for (int i = 0; i < 5; i++) {
        char p[16];
        snprintf(p, sizeof p, "%d", i);
        bp_import_add(&im, p)->change.at_ms = at[i];
    }
    bp_import_sort(&im);
    const char *want[] = {"1", "3", "2", "0", "4"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(im.items[i].path, want[i]);
    bp_import_free(&im);
}

static void test_source(void **state) {
    (void)state;
    char s[BP_SOURCE_MAX + 1];
    bp_import_source(s, "have:t-0123abcd", "bach-mai");
    assert_string_equal(s, "have:t-0123abcd:bach-mai");
    assert_true(bp_is_source(s, strlen(s)));
    /* the longest hospital id still fits, with the prefix cut */
    char id[BP_ID_MAX + 1];
    memset(id, 'h', BP_ID_MAX);
    id[BP_ID_MAX] = '\0';
    bp_import_source(s, "fhir:t-0123abcd", id);
    assert_int_equal(strlen(s), BP_SOURCE_MAX);
    assert_true(bp_is_source(s, strlen(s)));
    assert_non_null(strstr(s, id));
}

static int only_bach_mai(const void *ctx, const bp_registry_t *reg, const char *id, size_t len) {
    (void)ctx;
    return len == 5 && memcmp(id, "BV-01", 5) == 0 ? bp_registry_hospital(reg, "bach-mai", 8) : -1;
}

static void test_lookup(void **state) {
    (void)state;
    bp_registry_t reg;
    tu_load_registry(&reg);
    bp_import_t im;
    bp_import_init(&im, 1);
    assert_true(bp_import_hospital(&im, &reg, "viet-duc", 8) >= 0);
    im.lookup = only_bach_mai;
    assert_int_equal(bp_import_hospital(&im, &reg, "viet-duc", 8), -1);
    assert_int_equal(bp_import_hospital(&im, &reg, "BV-01", 5),
                     bp_registry_hospital(&reg, "bach-mai", 8));
    bp_registry_free(&reg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_and_errors),
        cmocka_unit_test(test_sort_is_stable),
        cmocka_unit_test(test_source),
        cmocka_unit_test(test_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
