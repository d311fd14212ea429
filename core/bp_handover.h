/*
 * Inbound load and handover (offload) times per hospital (issue 6), derived
 * from the ambulances' status changes as the event stream delivers them.
 * Pure: fixed-size tables, no allocation after create, no I/O.
 *
 * A unit that reports at_hospital starts waiting at its destination; when it
 * reports any other status the wait ends and its length is one handover
 * sample of that hospital. Per hospital: ambulances transporting there
 * (inbound), ambulances waiting at the door with how long, and the median
 * of the handovers that ended within the window. A hospital whose median —
 * or whose longest current wait — exceeds the threshold is offload-delayed
 * (EDXL-HAVE EMSOffloadStatus "Delayed").
 */
#ifndef BP_HANDOVER_H
#define BP_HANDOVER_H

#include "bp_model.h"
#include "bp_registry.h"

#define BP_HANDOVER_SAMPLES 32 /* per hospital, newest kept */

typedef struct bp_handover bp_handover_t;

typedef struct {
    int64_t window_ms;  /* samples older than this do not count (default 3 h) */
    int64_t delayed_ms; /* offload delayed beyond this (default 30 min) */
} bp_handover_cfg_t;

bp_handover_t *bp_handover_create(const bp_registry_t *reg, const bp_handover_cfg_t *cfg);
void bp_handover_destroy(bp_handover_t *h);
void bp_handover_reset(bp_handover_t *h); /* a new epoch: forget everything */

/* An ambulance change (unit = registry index) as applied: its status after
 * the change, its destination after it, and the change's source time. */
void bp_handover_on_ambulance(bp_handover_t *h, size_t unit, bp_amb_status_t status,
                              const char *destination, int64_t at_ms);

typedef struct {
    int inbound;             /* transporting there now */
    int waiting;             /* at the door now */
    int64_t longest_wait_ms; /* of those waiting, at now_ms; 0 none */
    int samples;             /* handovers within the window */
    int64_t median_ms;       /* of those; -1 none */
    bool delayed;            /* median or longest wait over the threshold */
} bp_handover_figures_t;

void bp_handover_figures(const bp_handover_t *h, size_t hospital, int64_t now_ms,
                         bp_handover_figures_t *out);

#endif
