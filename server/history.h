/*
 * Trend history (issue 4): once per history.interval_s, one server (whoever
 * wins a per-interval lock in Redis) samples the city totals and every
 * hospital and adds the points to sorted sets (score = time), trimmed to
 * history.retention_h. Every server reads the points back into memory, so
 * GET /api/v1/history is answered without a Redis round trip and all
 * servers answer the same.
 *
 * Redis: <prefix>hist:city and <prefix>hist:h:<id> (sorted sets), and
 * <prefix>hist:lock:<t> (string, expires) — see docs/redis.md.
 */
#ifndef BP_HISTORY_SRV_H
#define BP_HISTORY_SRV_H

#include "bp_buf.h"
#include "bp_history.h"
#include "bp_settings.h"
#include "bp_state.h"
#include "reader.h"

#include <uv.h>

typedef struct bp_history bp_history_t;

/* Borrowed: settings, state and reader outlive the history. */
bp_history_t *bp_history_create(uv_loop_t *loop, const bp_settings_t *s, bp_state_t *state,
                                bp_reader_t *reader);
void bp_history_close(bp_history_t *h, void (*on_closed)(void *), void *data);

/* Writes the answer to GET /api/v1/history?series=..&hours=..: 200 and the
 * JSON, or 404 (unknown series) / 400 (bad hours) with an error body.
 * Returns the HTTP status. */
int bp_history_query(const bp_history_t *h, const char *series, const char *hours, int64_t now_ms,
                     bp_buf_t *out);

/* The series held in memory (borrowed: valid until the next loop turn):
 * hospital -1 for the city, else a registry index; NULL out of range. */
struct bp_series;
const struct bp_series *bp_history_series(const bp_history_t *h, int hospital);

typedef struct {
    uint64_t samples_written, samples_loaded, lock_lost;
} bp_history_stats_t;
void bp_history_stats(const bp_history_t *h, bp_history_stats_t *out);

#endif
