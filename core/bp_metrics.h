/*
 * Prometheus text exposition helpers (format 0.0.4): a fixed-bucket latency
 * histogram, and a bounded table of them keyed by (route, status) for the
 * HTTP APIs. Pure: the programs own the tables and write them on /metrics.
 */
#ifndef BP_METRICS_H
#define BP_METRICS_H

#include "bp_buf.h"

#include <stddef.h>
#include <stdint.h>

/* upper bounds in seconds, then +Inf */
#define BP_HIST_BOUNDS 13
extern const double bp_hist_bounds[BP_HIST_BOUNDS];

typedef struct {
    uint64_t bucket[BP_HIST_BOUNDS + 1]; /* not cumulative; the last is +Inf */
    uint64_t count;
    double sum;
} bp_hist_t;

void bp_hist_observe(bp_hist_t *h, double seconds);
/* The HELP and TYPE lines of a histogram. */
void bp_hist_header(bp_buf_t *o, const char *name, const char *help);
/* Its _bucket (cumulative), _sum and _count lines; labels is "" or
 * `a="x",b="y"` (already escaped). */
void bp_hist_write(bp_buf_t *o, const char *name, const char *labels, const bp_hist_t *h);

/* Requests by route (an index from bp_route.h) and status. */
#define BP_REQSTATS_MAX 256
typedef struct {
    uint16_t route, status;
    bp_hist_t hist;
} bp_reqstat_t;

typedef struct {
    bp_reqstat_t e[BP_REQSTATS_MAX];
    size_t n;
    uint64_t dropped; /* observations with no room left (more pairs than the table) */
} bp_reqstats_t;

void bp_reqstats_observe(bp_reqstats_t *t, size_t route, int status, double seconds);
/* `name` histogram with labels route (bp_route_name) and status. */
void bp_reqstats_write(bp_buf_t *o, const char *name, const char *help, const bp_reqstats_t *t);

#endif
