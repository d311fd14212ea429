/*
 * The server's view of Redis: loads a consistent snapshot (epoch, offset,
 * every entity, the open incidents, and the last events of the stream) in
 * one MULTI/EXEC, then
 * follows the stream with XREAD BLOCK on a dedicated connection, applying
 * each event to the in-memory state in offset order.
 *
 * It reloads (and says why) when the epoch changes, when the stream skips
 * an offset (trimmed while we were away), or when the command connection
 * comes back after an outage. Two Redis links: "cmd" (snapshot, epoch
 * checks, ranges) with a heartbeat, and "block" (XREAD only). Both follow
 * the master (Sentinel): the stream is read from the server the snapshot
 * came from, never from a replica, so offsets are the acknowledged ones.
 *
 * A failover can rewrite history: a promoted replica may lack the last
 * entries this server already read (never acknowledged ones with
 * redis.min_replicas_ack >= 1; acknowledged ones too with 0), and new
 * changes then take those offsets under the same epoch. On each reload
 * after an outage the reader compares the stream with what it had read:
 * an offset that went back, or another entry at its last offset, means
 * the history it served is gone, so it replaces the epoch (if nobody did
 * yet) and reloads ("failover"): every server and client takes a fresh
 * snapshot instead of resuming across the rewritten offsets.
 */
#ifndef BP_READER_H
#define BP_READER_H

#include "bp_model.h"
#include "bp_settings.h"
#include "bp_state.h"

#include <stdbool.h>
#include <uv.h>

typedef struct bp_reader bp_reader_t;

typedef struct {
    /* The state was just rebuilt at (epoch, offset); reason: "start",
     * "epoch", "gap" or "reconnect". History events follow. */
    void (*on_reload)(void *data, const char *epoch, uint64_t offset, const char *reason);
    /* One event in offset order. live: read after the snapshot and already
     * applied to the state; !live: history from before it (for the ring). */
    void (*on_event)(void *data, const bp_change_t *c, bool live);
    /* A batch of events ended (wake clients once per batch). */
    void (*on_batch)(void *data);
} bp_reader_cbs_t;

/* settings and state are borrowed. history: how many recent events to load
 * with each snapshot. */
bp_reader_t *bp_reader_create(uv_loop_t *loop, const bp_settings_t *s, bp_state_t *state,
                              size_t history, const bp_reader_cbs_t *cbs, void *data);
void bp_reader_close(bp_reader_t *r, void (*on_closed)(void *), void *data);

/* Loaded and following the stream (both links up). */
bool bp_reader_ready(const bp_reader_t *r);
const char *bp_reader_epoch(const bp_reader_t *r);
uint64_t bp_reader_offset(const bp_reader_t *r);

typedef struct {
    uint64_t reloads, events, redis_reconnects, bad_events;
    uint64_t rewrites; /* failovers that lost entries this server had read: new epoch */
} bp_reader_stats_t;
void bp_reader_stats(const bp_reader_t *r, bp_reader_stats_t *out);

/* Reads events (from, to] from the stream, at most max_count, for resumes
 * older than the in-memory window. cb gets them in order (count 0 when the
 * stream no longer holds `from + 1`, or on error: ok false). The changes
 * array is valid only during the callback. */
typedef void (*bp_reader_range_cb)(void *privdata, bool ok, const bp_change_t *changes,
                                   size_t count);
int bp_reader_range(bp_reader_t *r, uint64_t from, uint64_t to, size_t max_count,
                    bp_reader_range_cb cb, void *privdata);

#endif
