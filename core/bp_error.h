/*
 * Errors that callers can show to a person: a stable machine code, the path
 * of the offending field ("beds.icu_adult.occupied", or "" when the whole
 * input is at fault) and one sentence that names the field and the rule.
 * Validators and parsers fill a caller-given bp_error_t; they never allocate.
 */
#ifndef BP_ERROR_H
#define BP_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define BP_ERR_CODE_MAX  32
#define BP_ERR_FIELD_MAX 96
#define BP_ERR_MSG_MAX   256

typedef struct {
    char code[BP_ERR_CODE_MAX];
    char field[BP_ERR_FIELD_MAX];
    char message[BP_ERR_MSG_MAX];
} bp_error_t;

/* Fills err (if not NULL) and returns -1, so a caller can write
 * `return bp_error_set(err, "out_of_range", "seq", "...", ...);`. */
int bp_error_set(bp_error_t *err, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void bp_error_clear(bp_error_t *err);

/* Several errors at once, for answers that name every bad field (422). */
#define BP_ERRORS_MAX 32
typedef struct {
    bp_error_t e[BP_ERRORS_MAX];
    size_t n;
} bp_errors_t;

#endif
