/*
 * Bulk import of a hospital's figures from a spreadsheet (issue 5): CSV with
 * a header row naming the columns, one row per bed type:
 *
 *   bed_type,staffed,occupied,surge24
 *   icu_adult,60,63,8
 *   medical_surgical,1170,1212,
 *
 * bed_type is required, and at least one of the number columns; an empty
 * cell leaves that figure as it is. "," or ";" separate cells (whichever
 * the header uses); cells may be quoted; a UTF-8 byte-order mark and CRLF
 * line ends are accepted. Every bad row is reported with its row number
 * (the header is row 1) and column, so the whole file can be fixed at once;
 * a file with any error applies nothing.
 */
#ifndef BP_CSV_H
#define BP_CSV_H

#include "bp_error.h"
#include "bp_model.h"

#define BP_CSV_MAX_ROWS 64

typedef struct {
    int row;      /* line number in the file, header = 1 */
    int bed_type; /* bp_bed_type_t */
    uint8_t fields;
    bp_beds_t beds;
} bp_csv_row_t;

/* Parses the whole text. Returns the number of rows (0 .. BP_CSV_MAX_ROWS)
 * with errs->n == 0, or -1 with the errors (field "row N: column"). */
int bp_csv_parse_beds(const char *text, size_t len, bp_csv_row_t *rows, bp_errors_t *errs);

/* The rows as one hospital change (bed fields only; out is initialized
 * here: id, source, seq and time are the caller's to set). */
void bp_csv_to_change(const bp_csv_row_t *rows, int n, bp_change_t *out);

#endif
