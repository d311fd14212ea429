/*
 * The shared event ring: each event is serialized once, into a ready-made
 * single-event frame with `headroom` free bytes in front (lws writes its
 * frame header there: the same bytes for every client, so sharing is safe),
 * and every client keeps only the offset it has reached.
 *
 * Bounded by event count and by bytes; pushing past either evicts the
 * oldest. Offsets in the ring are contiguous: the caller clears the ring
 * whenever it cannot guarantee that (epoch change, gap).
 *
 * Frame: {"type":"events","epoch":"<E>","events":[<event>,...]}
 */
#ifndef BP_RING_H
#define BP_RING_H

#include "bp_buf.h"
#include "bp_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t offset;
    uint64_t in_ns; /* monotonic time the event was pushed (fan-out timing) */
    char *buf;      /* headroom + frame, owned */
    size_t frame_len;
    size_t ev_off; /* the event JSON inside the frame */
    size_t ev_len;
} bp_ring_entry_t;

typedef struct {
    bp_ring_entry_t *e;
    size_t cap, first, count; /* circular: entry i at (first + i) % cap */
    size_t bytes, max_bytes, headroom;
    char epoch[BP_EPOCH_MAX + 1];
} bp_ring_t;

int bp_ring_init(bp_ring_t *r, size_t max_events, size_t max_bytes, size_t headroom);
void bp_ring_free(bp_ring_t *r);
/* Drops every entry and sets the epoch frames will carry (hex/ASCII id). */
void bp_ring_clear(bp_ring_t *r, const char *epoch);

/* Appends an event (its offset must be last + 1 unless the ring is empty).
 * 0, or -1 on no memory / bad offset (ring unchanged). */
int bp_ring_push(bp_ring_t *r, uint64_t offset, const char *event, size_t len, uint64_t in_ns);

size_t bp_ring_count(const bp_ring_t *r);
/* Offsets of the oldest and newest entries (0 when empty). */
uint64_t bp_ring_first(const bp_ring_t *r);
uint64_t bp_ring_last(const bp_ring_t *r);
/* The entry holding offset, or NULL. */
const bp_ring_entry_t *bp_ring_get(const bp_ring_t *r, uint64_t offset);

/* Builds one frame holding the events after `after`, as many as fit in
 * max_bytes (at least one), into out (reset first; out's headroom must be
 * the ring's). Returns the number of events put in and sets *last to the
 * last offset included; 0 when there is nothing after `after` in the ring. */
size_t bp_ring_coalesce(const bp_ring_t *r, uint64_t after, size_t max_bytes, bp_buf_t *out,
                        uint64_t *last);

#endif
