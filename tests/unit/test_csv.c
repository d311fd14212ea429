/* Unit tests for core/bp_csv.c: the spreadsheet import of bed figures. */
#include "test_util.h"

#include "bp_csv.h"

static bp_csv_row_t rows[BP_CSV_MAX_ROWS];

static int parse(const char *text, bp_errors_t *errs) {
    return bp_csv_parse_beds(text, strlen(text), rows, errs);
}

static int has_error(const bp_errors_t *errs, const char *code, const char *field) {
    for (size_t i = 0; i < errs->n; i++)
        if (!strcmp(errs->e[i].code, code) && !strcmp(errs->e[i].field, field)) return 1;
    return 0;
}

static void test_plain(void **state) {
    (void)state;
    bp_errors_t errs;
    int n = parse("bed_type,staffed,occupied,surge24\n"
                  "icu_adult,60,63,8\n"
                  "medical_surgical,1170,1212,\n",
                  &errs);
    assert_int_equal(n, 2);
    assert_int_equal(errs.n, 0);
    assert_int_equal(rows[0].bed_type, BP_BED_ICU_ADULT);
    assert_int_equal(rows[0].fields, BP_BF_STAFFED | BP_BF_OCCUPIED | BP_BF_SURGE24);
    assert_int_equal(rows[0].beds.occupied, 63);
    assert_int_equal(rows[0].row, 2);
    assert_int_equal(rows[1].bed_type, BP_BED_MEDICAL_SURGICAL);
    assert_int_equal(rows[1].fields, BP_BF_STAFFED | BP_BF_OCCUPIED); /* empty cell: unchanged */
    assert_int_equal(rows[1].beds.staffed, 1170);

    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    bp_csv_to_change(rows, n, &c);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], 7);
    assert_int_equal(c.beds[BP_BED_MEDICAL_SURGICAL].occupied, 1212);
    assert_int_equal(c.bed_fields[BP_BED_BURN], 0);
}

/* What spreadsheets really export: BOM, CRLF, semicolons, quotes, columns
 * in any order, spaces, blank lines. */
static void test_spreadsheet_forms(void **state) {
    (void)state;
    bp_errors_t errs;
    int n = parse("\xEF\xBB\xBF"
                  "occupied;\"bed_type\"\r\n"
                  "\r\n"
                  " 7 ;\"burn\"\r\n"
                  "\"1\"\"2\";isolation\r\n",
                  &errs);
    /* "1""2" unquotes to 1"2, which is not a number */
    assert_int_equal(n, -1);
    assert_true(has_error(&errs, "out_of_range", "row 4: occupied"));

    n = parse("\xEF\xBB\xBFoccupied;\"bed_type\"\r\n\r\n 7 ;\"burn\"\r\n", &errs);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].bed_type, BP_BED_BURN);
    assert_int_equal(rows[0].fields, BP_BF_OCCUPIED);
    assert_int_equal(rows[0].beds.occupied, 7);
    assert_int_equal(rows[0].row, 3);
}

static void test_every_error_reported(void **state) {
    (void)state;
    bp_errors_t errs;
    int n = parse("bed_type,staffed,occupied\n"
                  "icu_adult,60,-3\n"
                  "spa,1,1\n"
                  "burn,ten,\n"
                  "icu_adult,1,1\n"
                  "burn,1\n"
                  "obstetrics,,\n"
                  "pediatrics,100001,0\n",
                  &errs);
    assert_int_equal(n, -1);
    assert_true(has_error(&errs, "out_of_range", "row 2: occupied"));
    assert_true(has_error(&errs, "unknown_bed_type", "row 3: bed_type"));
    assert_true(has_error(&errs, "out_of_range", "row 4: staffed"));
    assert_true(has_error(&errs, "bad_csv", "row 6"));
    assert_true(has_error(&errs, "missing_field", "row 7"));
    assert_true(has_error(&errs, "out_of_range", "row 8: staffed"));
    /* row 5 repeats icu_adult, but row 2 was bad so it never counted */
    for (size_t i = 0; i < errs.n; i++) {
        assert_non_null(strstr(errs.e[i].message, errs.e[i].field));
    }
    n = parse("bed_type,occupied\nicu_adult,1\nicu_adult,2\n", &errs);
    assert_int_equal(n, -1);
    assert_true(has_error(&errs, "duplicate_field", "row 3: bed_type"));
}

static void test_bad_headers(void **state) {
    (void)state;
    bp_errors_t errs;
    assert_int_equal(parse("", &errs), -1);
    assert_true(has_error(&errs, "bad_csv", "row 1"));
    assert_int_equal(parse("bed_type,occupied\n", &errs), -1);
    assert_true(has_error(&errs, "missing_field", "row 2"));
    assert_int_equal(parse("type,occupied\nburn,1\n", &errs), -1);
    assert_true(has_error(&errs, "unknown_field", "row 1: type"));
    assert_true(has_error(&errs, "missing_field", "row 1: bed_type"));
    assert_int_equal(parse("bed_type\nburn\n", &errs), -1);
    assert_true(has_error(&errs, "missing_field", "row 1"));
    assert_int_equal(parse("bed_type,occupied,occupied\nburn,1,1\n", &errs), -1);
    assert_true(has_error(&errs, "duplicate_field", "row 1: occupied"));
    assert_int_equal(parse("\"bed_type,occupied\nburn,1\n", &errs), -1);
    assert_true(has_error(&errs, "bad_csv", "row 1"));
    assert_int_equal(parse("a,b,c,d,e,f,g,h,i\n", &errs), -1);
    assert_true(has_error(&errs, "bad_csv", "row 1"));
}

static void test_hostile_bytes(void **state) {
    (void)state;
    bp_errors_t errs;
    static const char nul[] = "bed_type,occupied\nburn,1\0\n";
    assert_int_equal(bp_csv_parse_beds(nul, sizeof nul - 1, rows, &errs), -1);
    assert_true(has_error(&errs, "bad_string", "row 2"));
    assert_int_equal(parse("bed_type,occupied\nburn,\xff\xfe\n", &errs), -1);
    assert_true(has_error(&errs, "bad_string", "row 2"));
    assert_int_equal(parse("bed_type,occupied\nburn,\x1b[31m1\n", &errs), -1);
    assert_true(has_error(&errs, "bad_string", "row 2"));
    /* a very long cell is cut for the message, never overflows */
    char big[9000];
    strcpy(big, "bed_type,occupied\nburn,");
    size_t o = strlen(big);
    memset(big + o, '9', 3000);
    big[o + 3000] = '\0';
    assert_int_equal(parse(big, &errs), -1);
    assert_true(has_error(&errs, "out_of_range", "row 2: occupied"));
}

static void test_row_limit(void **state) {
    (void)state;
    bp_errors_t errs;
    char text[8192];
    size_t o = (size_t)snprintf(text, sizeof text, "bed_type,occupied\n");
    for (int i = 0; i < BP_CSV_MAX_ROWS + 1; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "burn,%d\n", i);
    assert_int_equal(parse(text, &errs), -1);
    /* every type may appear once; the rest are duplicates, and the list of
     * errors stops at its bound instead of growing */
    assert_true(has_error(&errs, "duplicate_field", "row 3: bed_type"));
    assert_int_equal(errs.n, BP_ERRORS_MAX);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_spreadsheet_forms),
        cmocka_unit_test(test_every_error_reported),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_row_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
