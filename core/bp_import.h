/*
 * A standard document (EDXL-HAVE, FHIR) read into BedPulse changes: one
 * hospital change per hospital the document reports, each with where it
 * came from (for messages), the registry index, and what the conversion
 * could not know exactly (bp_interop_refine). Validation is all or nothing:
 * a document with any error applies nothing, and every error names its
 * element. What a document carries that BedPulse does not keep is listed
 * in notes, so a sender learns what was not taken.
 *
 * Pure: the items grow on the heap up to a bound given at init.
 */
#ifndef BP_IMPORT_H
#define BP_IMPORT_H

#include "bp_error.h"
#include "bp_model.h"
#include "bp_registry.h"

#include <stddef.h>
#include <stdint.h>

#define BP_IMPORT_PATH_MAX  96
#define BP_IMPORT_NOTES_MAX 16
#define BP_IMPORT_NOTE_MAX  160

typedef struct {
    char path[BP_IMPORT_PATH_MAX]; /* "Hospital[2]", "entry[3]" (1-based as XPath, 0-based as JSON)
                                    */
    int hospital;                  /* registry index */
    uint32_t at_least;             /* bed types whose occupied is a lower bound */
    bp_change_t change; /* hospital change: id, at, beds, ed (source and seq: the caller's) */
} bp_import_item_t;

typedef struct {
    bp_import_item_t *items;
    size_t n, cap, max;
    bp_errors_t errs; /* errs.n > 0: the document is refused */
    char notes[BP_IMPORT_NOTES_MAX][BP_IMPORT_NOTE_MAX];
    size_t n_notes, notes_dropped;
    /* how the document's hospital ids map to the registry: NULL for ids and
     * have_ids (bp_registry_hospital_external); a poller sets its source's
     * map. Returns the registry index, or -1 (unknown, or not this
     * sender's). */
    int (*lookup)(const void *ctx, const bp_registry_t *reg, const char *id, size_t len);
    const void *lookup_ctx;
} bp_import_t;

/* max_items bounds the hospitals one document may carry. */
void bp_import_init(bp_import_t *im, size_t max_items);
void bp_import_free(bp_import_t *im);

/* A new item (zeroed, change initialized as a hospital change), or NULL
 * with an error recorded when the document has more than max items or
 * memory ran out. */
bp_import_item_t *bp_import_add(bp_import_t *im, const char *path);

/* Records an error (up to BP_ERRORS_MAX; more are counted in the last). */
void bp_import_error(bp_import_t *im, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void bp_import_note(bp_import_t *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The registry index of a hospital id the document uses, or -1. */
int bp_import_hospital(const bp_import_t *im, const bp_registry_t *reg, const char *id, size_t len);

/* Orders the items by their report time (stable: document order among
 * equals), the order they are applied in. */
void bp_import_sort(bp_import_t *im);

/* The idempotency source of an imported hospital report:
 * "<prefix>:<hospital id>" (prefix: "have:<token id>", a poller's source
 * id), cut to fit BP_SOURCE_MAX by shortening the prefix. */
void bp_import_source(char out[BP_SOURCE_MAX + 1], const char *prefix, const char *hospital_id);

#endif
