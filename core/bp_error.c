/* Filling bp_error_t: truncating, always NUL-terminated. */
#include "bp_error.h"

#include <stdio.h>
#include <string.h>

int bp_error_set(bp_error_t *err, const char *code, const char *field, const char *fmt, ...) {
    if (!err) return -1;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "error");
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

void bp_error_clear(bp_error_t *err) {
    if (err) memset(err, 0, sizeof *err);
}
