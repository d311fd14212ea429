/* The previous line in flight, per source (bp_feedprev.h): a small open
 * addressing table (linear probing, deletion by shifting back). */
#include "bp_feedprev.h"

#include <stdlib.h>

static size_t home(const bp_feed_prev_t *p, uint64_t source) {
    return (size_t)(source ^ (source >> 29)) & (p->cap - 1);
}

static bp_feed_prev_entry_t *find(const bp_feed_prev_t *p, uint64_t source) {
    if (!p->cap) return NULL;
    for (size_t i = home(p, source);; i = (i + 1) & (p->cap - 1)) {
        bp_feed_prev_entry_t *e = &p->e[i];
        if (!e->n) return NULL;
        if (e->source == source) return e;
    }
}

/* Room for one more entry (at most half full). 0, or -1 without memory. */
static int reserve(bp_feed_prev_t *p) {
    if ((p->used + 1) * 2 <= p->cap) return 0;
    size_t cap = p->cap ? p->cap * 2 : 8;
    bp_feed_prev_entry_t *e = calloc(cap, sizeof *e);
    if (!e) return -1;
    bp_feed_prev_t q = {e, cap, 0};
    for (size_t i = 0; i < p->cap; i++) {
        if (!p->e[i].n) continue;
        size_t j = home(&q, p->e[i].source);
        while (e[j].n)
            j = (j + 1) & (cap - 1);
        e[j] = p->e[i];
    }
    free(p->e);
    p->e = e;
    p->cap = cap;
    return 0;
}

int64_t bp_feed_prev_before(bp_feed_prev_t *p, uint64_t source, int64_t seq) {
    const bp_feed_prev_entry_t *e = find(p, source);
    if (e) return e->seq < seq ? e->seq : -1;
    return reserve(p) ? -2 : -1;
}

void bp_feed_prev_sent(bp_feed_prev_t *p, uint64_t source, int64_t seq) {
    bp_feed_prev_entry_t *e = find(p, source);
    if (!e) {
        if (reserve(p)) return; /* cannot happen after bp_feed_prev_before */
        size_t i = home(p, source);
        while (p->e[i].n)
            i = (i + 1) & (p->cap - 1);
        e = &p->e[i];
        e->source = source;
        e->n = 0;
        p->used++;
    }
    e->seq = seq;
    e->n++;
}

void bp_feed_prev_answered(bp_feed_prev_t *p, uint64_t source) {
    bp_feed_prev_entry_t *e = find(p, source);
    if (!e || --e->n) return;
    /* the entry is free: shift back the ones after it that probed past it */
    size_t m = p->cap - 1, i = (size_t)(e - p->e);
    p->used--;
    for (size_t j = (i + 1) & m; p->e[j].n; j = (j + 1) & m) {
        size_t h = home(p, p->e[j].source);
        /* j's entry may move to i when its home is not in (i, j] */
        if (((j - h) & m) >= ((j - i) & m)) {
            p->e[i] = p->e[j];
            p->e[j].n = 0;
            i = j;
        }
    }
}

size_t bp_feed_prev_inflight(const bp_feed_prev_t *p, uint64_t source) {
    const bp_feed_prev_entry_t *e = find(p, source);
    return e ? e->n : 0;
}

void bp_feed_prev_free(bp_feed_prev_t *p) {
    free(p->e);
    p->e = NULL;
    p->cap = p->used = 0;
}
