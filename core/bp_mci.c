/* Mass-casualty incidents: triage names and the suggested distribution
 * (see bp_mci.h; the request bodies are parsed in bp_codec.c, which keeps
 * cJSON to itself). */
#include "bp_mci.h"

#include <stdlib.h>
#include <string.h>

static const char *const triage_names[BP_TRIAGE__COUNT] = {"immediate", "delayed", "minor"};

const char *bp_triage_name(bp_triage_t t) {
    return (unsigned)t < BP_TRIAGE__COUNT ? triage_names[t] : NULL;
}

int bp_triage_parse(const char *s, size_t len) {
    for (int i = 0; i < BP_TRIAGE__COUNT; i++)
        if (strlen(triage_names[i]) == len && memcmp(triage_names[i], s, len) == 0) return i;
    return -1;
}

/* Site order for one triage class: preferred sites first, then by ETA,
 * then the caller's order. */
typedef struct {
    const bp_mci_site_t *s;
    size_t i;
    int pref; /* 0 preferred */
} ord_t;

static int cmp_ord(const void *a, const void *b) {
    const ord_t *x = a, *y = b;
    if (x->pref != y->pref) return x->pref - y->pref;
    if (x->s->eta_min != y->s->eta_min) return x->s->eta_min < y->s->eta_min ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

void bp_mci_suggest(const bp_mci_site_t *sites, size_t n, const int expected[BP_TRIAGE__COUNT],
                    int (*alloc)[BP_TRIAGE__COUNT], int unplaced[BP_TRIAGE__COUNT]) {
    memset(alloc, 0, n * sizeof *alloc);
    ord_t *o = n ? malloc(n * sizeof *o) : NULL;
    for (int t = 0; t < BP_TRIAGE__COUNT; t++) {
        int left = expected[t] > 0 ? expected[t] : 0;
        for (size_t i = 0; o && i < n; i++) {
            const bp_mci_site_t *s = &sites[i];
            int pref = 0;
            if (t == BP_TRIAGE_IMMEDIATE)
                pref = s->trauma ? 0 : 1;
            else if (t == BP_TRIAGE_MINOR)
                pref = s->central ? 1 : 0;
            o[i] = (ord_t){s, i, pref};
        }
        if (o) qsort(o, n, sizeof *o, cmp_ord);
        for (size_t k = 0; o && k < n && left > 0; k++) {
            const bp_mci_site_t *s = o[k].s;
            if (!s->answered || s->can[t] <= 0) continue;
            int take = s->can[t] < left ? s->can[t] : left;
            alloc[o[k].i][t] = take;
            left -= take;
        }
        unplaced[t] = left;
    }
    free(o);
}
