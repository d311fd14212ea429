/*
 * The live feed's snapshots (docs/design.md §9, §34): a state serialized
 * once per offset and audience, split into chunks that each carry their
 * own LWS_PRE headroom (fragments of one WebSocket message, written in
 * place), gzipped at most once for every client that asked, and shared by
 * reference. The hub keeps one cached snapshot per audience; a manager's,
 * built for her hospitals, is not cached.
 */
#ifndef BP_SNAPSHOT_CACHE_H
#define BP_SNAPSHOT_CACHE_H

#include "bp_ring.h"
#include "bp_state.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One frame's bytes: buf holds LWS_PRE headroom, then len bytes. */
typedef struct {
    char *buf; /* LWS_PRE + data */
    size_t len;
} bp_chunk_t;

typedef struct bp_snap {
    int refs;
    uint64_t offset;
    char epoch[BP_EPOCH_MAX + 1];
    uint64_t built_ns;
    size_t bytes;
    bool binary;        /* gzip of a snapshot: one binary message */
    struct bp_snap *gz; /* this one gzipped, made at first use (a reference) */
    size_t n;
    bp_chunk_t chunks[];
} bp_snap_t;

/* Counters for the metrics. */
typedef struct {
    uint64_t built, gzipped;
} bp_snap_stats_t;

/* Drops a reference; the last frees the snapshot (and its gzipped form).
 * NULL: nothing. */
void bp_snap_unref(bp_snap_t *s);

/* A new snapshot of state at (epoch, offset) as view shows it, with only
 * the hospitals in only (NULL: all); one reference, or NULL when out of
 * memory. Not cached. */
bp_snap_t *bp_snap_build(const bp_state_t *state, const char *epoch, uint64_t offset,
                         bp_view_t view, const uint64_t *only, bp_snap_stats_t *st);

/* The gzipped form of text snapshot s, made once and kept with it; s
 * itself when compressing fails (the client reads text as well). Returns
 * a new reference. */
bp_snap_t *bp_snap_gzip(bp_snap_t *s, bp_snap_stats_t *st);

/* The snapshot to send now from *cache (an audience's, holding one
 * reference): the cached one if it is at (epoch, offset), or recent and
 * still followed by ring; else a new one, which replaces it. Returns a new
 * reference, or NULL when out of memory. */
bp_snap_t *bp_snap_cached(bp_snap_t **cache, const bp_state_t *state, const char *epoch,
                          uint64_t offset, bp_view_t view, const bp_ring_t *ring,
                          bp_snap_stats_t *st);

#endif
