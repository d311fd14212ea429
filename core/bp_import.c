/* Items of an imported document (bp_import.h). */
#include "bp_import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bp_import_init(bp_import_t *im, size_t max_items) {
    memset(im, 0, sizeof *im);
    im->max = max_items;
}

void bp_import_free(bp_import_t *im) {
    free(im->items);
    im->items = NULL;
    im->n = im->cap = 0;
}

void bp_import_error(bp_import_t *im, const char *code, const char *field, const char *fmt, ...) {
    if (im->errs.n == BP_ERRORS_MAX) return;
    bp_error_t *e = &im->errs.e[im->errs.n++];
    va_list ap;
    va_start(ap, fmt);
    snprintf(e->code, sizeof e->code, "%s", code);
    snprintf(e->field, sizeof e->field, "%s", field);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void bp_import_note(bp_import_t *im, const char *fmt, ...) {
    if (im->n_notes == BP_IMPORT_NOTES_MAX) {
        im->notes_dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->notes[im->n_notes++], BP_IMPORT_NOTE_MAX, fmt, ap);
    va_end(ap);
}

bp_import_item_t *bp_import_add(bp_import_t *im, const char *path) {
    if (im->n == im->max) {
        bp_import_error(im, "too_many", path,
                        "a document may report at most %zu hospitals; split it", im->max);
        return NULL;
    }
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 8;
        if (cap > im->max) cap = im->max;
        bp_import_item_t *n = realloc(im->items, cap * sizeof *n);
        if (!n) {
            bp_import_error(im, "no_memory", path, "out of memory reading the document");
            return NULL;
        }
        im->items = n;
        im->cap = cap;
    }
    bp_import_item_t *it = &im->items[im->n++];
    memset(it, 0, sizeof *it);
    snprintf(it->path, sizeof it->path, "%s", path);
    it->hospital = -1;
    bp_change_init(&it->change, BP_KIND_HOSPITAL);
    return it;
}

int bp_import_hospital(const bp_import_t *im, const bp_registry_t *reg, const char *id,
                       size_t len) {
    return im->lookup ? im->lookup(im->lookup_ctx, reg, id, len)
                      : bp_registry_hospital_external(reg, id, len);
}

void bp_import_sort(bp_import_t *im) {
    /* insertion sort: stable, and documents arrive mostly in order */
    for (size_t i = 1; i < im->n; i++) {
        if (im->items[i].change.at_ms >= im->items[i - 1].change.at_ms) continue;
        bp_import_item_t tmp = im->items[i];
        size_t j = i;
        while (j > 0 && im->items[j - 1].change.at_ms > tmp.change.at_ms) {
            im->items[j] = im->items[j - 1];
            j--;
        }
        im->items[j] = tmp;
    }
}

void bp_import_source(char out[BP_SOURCE_MAX + 1], const char *prefix, const char *hospital_id) {
    size_t hl = strlen(hospital_id), pl = strlen(prefix);
    if (hl > BP_SOURCE_MAX - 2) hl = BP_SOURCE_MAX - 2;
    if (pl + 1 + hl > BP_SOURCE_MAX) pl = BP_SOURCE_MAX - 1 - hl;
    snprintf(out, BP_SOURCE_MAX + 1, "%.*s:%.*s", (int)pl, prefix, (int)hl, hospital_id);
}
