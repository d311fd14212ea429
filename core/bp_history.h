/*
 * Trend history (pure part): one sample per interval of the city totals and
 * of each hospital, a compact text form for Redis, and a bounded in-memory
 * series per name that answers range queries as JSON.
 *
 * A sample is the state as it was when taken (not an average): the trend
 * shows what dashboards showed. Missing intervals (the servers were down)
 * stay missing; readers draw them as gaps.
 */
#ifndef BP_HISTORY_H
#define BP_HISTORY_H

#include "bp_buf.h"
#include "bp_state.h"

#include <stddef.h>
#include <stdint.h>

#define BP_HISTORY_MAX_POINTS 20000 /* per series, whatever the retention says */

typedef struct {
    int64_t t_ms;
    double occupancy_pct; /* -1 unknown */
    int32_t occupied, staffed;
    int32_t icu_adult_available; /* -1 unknown */
    /* city only */
    int32_t diversions, level4, reporting;
    /* hospital only */
    int32_t level;
    /* per bed type (bit t of beds_mask: known): a hospital's figures as
     * reported; the city's sums over reporting hospitals with both staffed
     * and occupied known (as the summary). Points stored before bed types
     * were kept have none. */
    uint32_t beds_mask;
    bp_beds_t beds[BP_BED__COUNT];
} bp_history_point_t;

/* Samples of the state at now_ms, stamped t_ms. */
void bp_history_sample_city(const bp_state_t *st, int64_t now_ms, int64_t t_ms,
                            bp_history_point_t *out);
void bp_history_sample_hospital(const bp_state_t *st, size_t i, int64_t now_ms, int64_t t_ms,
                                bp_history_point_t *out);

/* "t,occupancy,occupied,staffed,icu,diversions,level4,reporting,level"
 * then "|<bed type>:<staffed>:<occupied>:<surge24>" per known bed type
 * (-1 unknown) — the sorted-set member (score = t). decode: 0, or -1 if
 * malformed; a member without bed types (written before they were kept)
 * decodes with none, an unknown bed type name is skipped. */
void bp_history_encode(bp_buf_t *b, const bp_history_point_t *p);
int bp_history_decode(const char *s, size_t len, bp_history_point_t *out);

/* A series: points ordered by time, at most cap of them (oldest dropped). */
typedef struct bp_series {
    bp_history_point_t *p;
    size_t cap, first, count;
} bp_series_t;

int bp_series_init(bp_series_t *s, size_t cap);
void bp_series_free(bp_series_t *s);
/* Adds a point newer than the last one (an equal or older time is
 * ignored: samples arrive from Redis in order, and reloads overlap). */
void bp_series_add(bp_series_t *s, const bp_history_point_t *p);
int64_t bp_series_last_t(const bp_series_t *s); /* 0 when empty */
/* The i-th point, oldest first (i < count), or NULL. */
const bp_history_point_t *bp_series_at(const bp_series_t *s, size_t i);

/* {"series":..,"interval_s":..,"from":..,"to":..,"points":[...]} with the
 * points in [from_ms, to_ms]; city fields or hospital fields by `city`. */
void bp_series_write(bp_buf_t *b, const bp_series_t *s, const char *name, int city, int interval_s,
                     int64_t from_ms, int64_t to_ms);

#endif
