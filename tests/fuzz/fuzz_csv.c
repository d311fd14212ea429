/*
 * libFuzzer harness for the CSV import of bed figures (core/bp_csv.c): any
 * bytes in; an accepted file gives at most one row per bed type, each
 * figure either unset (-1) or within 0..BP_BEDS_MAX; written back as CSV
 * the rows read back the same; a byte-order mark or CRLF line ends change
 * nothing; every error names its row; and the rows become the change the
 * server applies, figure for figure.
 */
#include "bp_csv.h"
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int rc;
    bp_csv_row_t rows[BP_CSV_MAX_ROWS];
    bp_errors_t errs;
} result_t;

static void parse(const char *text, size_t len, result_t *r) {
    memset(r, 0, sizeof *r);
    r->rc = bp_csv_parse_beds(text, len, r->rows, &r->errs);
    fz_check_errors(&r->errs);
    if ((r->rc < 0) != (r->errs.n > 0) || r->rc < -1 || r->rc > BP_BED__COUNT) abort();
    for (size_t i = 0; i < r->errs.n; i++)
        if (strncmp(r->errs.e[i].field, "row ", 4) != 0 ||
            strncmp(r->errs.e[i].message, "row ", 4) != 0)
            abort();
}

static bool same(const result_t *a, const result_t *b, bool rows_too) {
    if (a->rc != b->rc || a->errs.n != b->errs.n) return false;
    for (size_t i = 0; i < a->errs.n; i++)
        if (strcmp(a->errs.e[i].code, b->errs.e[i].code) != 0 ||
            strcmp(a->errs.e[i].field, b->errs.e[i].field) != 0)
            return false;
    for (int i = 0; i < a->rc; i++) {
        const bp_csv_row_t *x = &a->rows[i], *y = &b->rows[i];
        if ((rows_too && x->row != y->row) || x->bed_type != y->bed_type ||
            x->fields != y->fields || memcmp(&x->beds, &y->beds, sizeof x->beds) != 0)
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static result_t a, b;
    const char *text = (const char *)data;
    parse(text, size, &a);

    uint32_t types = 0;
    int last_row = 1;
    for (int i = 0; i < a.rc; i++) {
        const bp_csv_row_t *r = &a.rows[i];
        if (r->row <= last_row || r->bed_type < 0 || r->bed_type >= BP_BED__COUNT ||
            (types & 1u << r->bed_type) || !r->fields || r->fields > 7)
            abort();
        types |= 1u << r->bed_type;
        last_row = r->row;
        const int32_t v[3] = {r->beds.staffed, r->beds.occupied, r->beds.surge24};
        for (int k = 0; k < 3; k++) {
            if (r->fields & 1u << k ? v[k] < 0 || v[k] > BP_BEDS_MAX : v[k] != -1) abort();
        }
    }

    if (a.rc >= 0) {
        /* the rows as the change the server applies */
        bp_change_t c;
        bp_csv_to_change(a.rows, a.rc, &c);
        if (c.kind != BP_KIND_HOSPITAL) abort();
        for (int t = 0; t < BP_BED__COUNT; t++) {
            int i = 0;
            while (i < a.rc && a.rows[i].bed_type != t)
                i++;
            if (i == a.rc ? c.bed_fields[t] != 0
                          : c.bed_fields[t] != a.rows[i].fields ||
                                memcmp(&c.beds[t], &a.rows[i].beds, sizeof c.beds[t]) != 0)
                abort();
        }
        /* written back as CSV, the rows read back the same */
        static char out[8192];
        size_t n = (size_t)snprintf(out, sizeof out, "bed_type;staffed;occupied;surge24\r\n");
        for (int i = 0; i < a.rc; i++) {
            const bp_csv_row_t *r = &a.rows[i];
            const int32_t v[3] = {r->beds.staffed, r->beds.occupied, r->beds.surge24};
            n += (size_t)snprintf(out + n, sizeof out - n, "\"%s\"", bp_bed_type_name(r->bed_type));
            for (int k = 0; k < 3; k++) {
                if (r->fields & 1u << k)
                    n += (size_t)snprintf(out + n, sizeof out - n, "; %d", (int)v[k]);
                else
                    n += (size_t)snprintf(out + n, sizeof out - n, ";");
            }
            n += (size_t)snprintf(out + n, sizeof out - n, "\n");
        }
        parse(out, n, &b);
        if (!same(&a, &b, false)) abort();
    }

    /* a byte-order mark in front, or CRLF line ends, change nothing */
    if (size < 4096) {
        static char copy[2 * 4096 + 3];
        if (size < 3 || memcmp(text, "\xEF\xBB\xBF", 3) != 0) {
            memcpy(copy, "\xEF\xBB\xBF", 3);
            memcpy(copy + 3, text, size);
            parse(copy, size + 3, &b);
            if (!same(&a, &b, true)) abort();
        }
        if (!memchr(text, '\r', size)) {
            size_t n = 0;
            for (size_t i = 0; i < size; i++) {
                if (text[i] == '\n') copy[n++] = '\r';
                copy[n++] = text[i];
            }
            parse(copy, n, &b);
            if (!same(&a, &b, true)) abort();
        }
    }
    return 0;
}
