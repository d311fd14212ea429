/* CSV import of bed figures (see bp_csv.h). */
#include "bp_csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_MAX 64
#define MAX_COLS 8

enum { COL_TYPE, COL_STAFFED, COL_OCCUPIED, COL_SURGE, COL__COUNT };
static const char *const col_names[COL__COUNT] = {"bed_type", "staffed", "occupied", "surge24"};

__attribute__((format(printf, 5, 6))) static void add(bp_errors_t *errs, int row, const char *col,
                                                      const char *code, const char *fmt, ...) {
    if (errs->n >= BP_ERRORS_MAX) return;
    bp_error_t *e = &errs->e[errs->n++];
    char field[BP_ERR_FIELD_MAX];
    snprintf(field, sizeof field, "row %d%s%s", row, col ? ": " : "", col ? col : "");
    char msg[BP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* the message says where, for people reading it in a list */
    bp_error_set(e, code, field, "%.60s: %.180s", field, msg);
}

/* Splits one line into cells (quoted cells may hold the separator and ""). */
static int split(const char *s, size_t len, char sep, char cells[MAX_COLS][CELL_MAX],
                 int *too_long) {
    int n = 0;
    size_t i = 0;
    *too_long = 0;
    for (;;) {
        if (n == MAX_COLS) return -1;
        size_t o = 0;
        char *c = cells[n];
        if (i < len && s[i] == '"') {
            i++;
            while (i < len) {
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"')
                        i++;
                    else
                        break;
                }
                if (o + 1 < CELL_MAX)
                    c[o++] = s[i];
                else
                    *too_long = 1;
                i++;
            }
            if (i >= len) return -1; /* unterminated quote */
            i++;
        }
        while (i < len && s[i] != sep) {
            if (o + 1 < CELL_MAX)
                c[o++] = s[i];
            else
                *too_long = 1;
            i++;
        }
        /* trim spaces */
        while (o && (c[o - 1] == ' ' || c[o - 1] == '\t'))
            o--;
        c[o] = '\0';
        size_t lead = strspn(c, " \t");
        if (lead) memmove(c, c + lead, o - lead + 1);
        n++;
        if (i >= len) return n;
        i++; /* the separator */
    }
}

int bp_csv_parse_beds(const char *text, size_t len, bp_csv_row_t *rows, bp_errors_t *errs) {
    errs->n = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    int col_of[COL__COUNT] = {-1, -1, -1, -1};
    char sep = ',';
    int nrows = 0, line = 0, ncols = 0;
    uint32_t seen = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n && s[n - 1] == '\r') n--;
        line++;
        if (memchr(s, '\0', n)) {
            add(errs, line, NULL, "bad_string", "the line holds a NUL byte");
            continue;
        }
        if (n == 0) continue; /* blank lines are fine */
        if (!bp_is_clean_text(s, n, 4096)) {
            add(errs, line, NULL, "bad_string", "not UTF-8 text, or control characters");
            continue;
        }
        char cells[MAX_COLS][CELL_MAX];
        int too_long;
        if (line == 1) {
            size_t commas = 0, semis = 0;
            for (size_t i = 0; i < n; i++)
                commas += s[i] == ',', semis += s[i] == ';';
            sep = semis > commas ? ';' : ',';
            ncols = split(s, n, sep, cells, &too_long);
            if (ncols < 0) {
                add(errs, 1, NULL, "bad_csv", "the header must be bed_type and the columns to set");
                return -1;
            }
            for (int c = 0; c < ncols; c++) {
                int k = -1;
                for (int j = 0; j < COL__COUNT; j++)
                    if (strcmp(cells[c], col_names[j]) == 0) k = j;
                if (k < 0) {
                    add(errs, 1, cells[c], "unknown_field",
                        "unknown column \"%s\" (bed_type, staffed, occupied, surge24)", cells[c]);
                } else if (col_of[k] >= 0) {
                    add(errs, 1, cells[c], "duplicate_field", "column %s appears twice", cells[c]);
                } else {
                    col_of[k] = c;
                }
            }
            if (col_of[COL_TYPE] < 0)
                add(errs, 1, "bed_type", "missing_field", "the header needs a bed_type column");
            if (col_of[COL_STAFFED] < 0 && col_of[COL_OCCUPIED] < 0 && col_of[COL_SURGE] < 0)
                add(errs, 1, NULL, "missing_field",
                    "the header needs at least one of staffed, occupied, surge24");
            if (errs->n) return -1;
            continue;
        }
        int got = split(s, n, sep, cells, &too_long);
        if (got != ncols) {
            add(errs, line, NULL, "bad_csv", "the row must have %d cells like the header", ncols);
            continue;
        }
        if (nrows == BP_CSV_MAX_ROWS) {
            add(errs, line, NULL, "too_long", "at most 64 rows (one per bed type)");
            break;
        }
        bp_csv_row_t *r = &rows[nrows];
        memset(r, 0, sizeof *r);
        r->row = line;
        r->beds = (bp_beds_t){-1, -1, -1};
        const char *type = cells[col_of[COL_TYPE]];
        r->bed_type = bp_bed_type_parse(type, strlen(type));
        size_t errs_before = errs->n;
        if (r->bed_type < 0) {
            add(errs, line, "bed_type", "unknown_bed_type", "unknown bed type \"%s\"", type);
        } else if (seen & (1u << r->bed_type)) {
            add(errs, line, "bed_type", "duplicate_field", "bed type %s appears twice", type);
        } else {
            seen |= 1u << r->bed_type;
        }
        int32_t *dst[3] = {&r->beds.staffed, &r->beds.occupied, &r->beds.surge24};
        for (int k = COL_STAFFED; k <= COL_SURGE; k++) {
            if (col_of[k] < 0 || !cells[col_of[k]][0]) continue;
            const char *v = cells[col_of[k]];
            char *end;
            long x = strtol(v, &end, 10);
            if (*end || end == v || x < 0 || x > BP_BEDS_MAX || too_long) {
                add(errs, line, col_names[k], "out_of_range",
                    "\"%s\" is not a whole number from 0 to 100000", v);
                continue;
            }
            *dst[k - 1] = (int32_t)x;
            r->fields |= (uint8_t)(1u << (k - 1));
        }
        if (errs->n == errs_before && !r->fields)
            add(errs, line, NULL, "missing_field", "the row sets no figure");
        if (errs->n == errs_before) nrows++;
    }
    if (line == 0)
        add(errs, 1, NULL, "bad_csv", "the file is empty");
    else if (!errs->n && nrows == 0)
        add(errs, 2, NULL, "missing_field", "no rows after the header");
    return errs->n ? -1 : nrows;
}

void bp_csv_to_change(const bp_csv_row_t *rows, int n, bp_change_t *out) {
    bp_change_init(out, BP_KIND_HOSPITAL);
    for (int i = 0; i < n; i++) {
        int t = rows[i].bed_type;
        out->bed_fields[t] = rows[i].fields;
        out->beds[t] = rows[i].beds;
    }
}
