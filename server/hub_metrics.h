/*
 * The hub's metrics (Prometheus text): its counters and the fan-out time
 * histogram, and how they are written for /metrics. The names and bytes
 * are the dashboards' contract: change them only with docs/operations.
 */
#ifndef BP_HUB_METRICS_H
#define BP_HUB_METRICS_H

#include "bp_buf.h"
#include "hub.h"
#include "snapshot_cache.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_FANOUT_BUCKETS 13 /* bounds of the fan-out histogram, +Inf apart */

/* Counters, written by the hub. */
typedef struct {
    uint64_t connections, closed_slow, closed_hello, closed_protocol;
    uint64_t events_in, frames, bytes, coalesced, event_deliveries;
    uint64_t snapshots_sent, skips;
    bp_snap_stats_t snaps;
    uint64_t resume_window, resume_stream, resume_snapshot_new, resume_snapshot_epoch,
        resume_snapshot_old;
    uint64_t ticks, rejected_full, rejected_ip, closed_silent;
    uint64_t rejected_origin, closed_unauthorized, closed_forbidden, closed_expired;
    uint64_t bcast_frames[BP_BCAST__COUNT];
    /* fan-out time (bp_hub_stats_fanout) */
    uint64_t fanout_counts[BP_FANOUT_BUCKETS + 1];
    double fanout_sum;
    uint64_t fanout_n;
} bp_hub_stats_t;

/* What the hub reads at the time the metrics are written. */
typedef struct {
    size_t clients;
    bool stale;
    size_t ring_events, ring_bytes;
    uint64_t offset;
    size_t ranges_pending;
} bp_hub_gauges_t;

/* One fan-out time sample (ns). */
void bp_hub_stats_fanout(bp_hub_stats_t *s, uint64_t ns);

/* Appends the hub's metrics to o. */
void bp_hub_stats_write(const bp_hub_stats_t *s, const bp_hub_gauges_t *g, bp_buf_t *o);

#endif
