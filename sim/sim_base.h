/*
 * The simulator's base: its public types and bounds, and what both halves
 * of the model use — Hanoi's clock, the start of a feed line, a unit's
 * moves, a hospital's occupancy. sim_model.c (hospitals, fleet, the step)
 * and sim_incident.c (115 calls) take these from here, and sim_model.c
 * calls sim_incident.c, never the other way: the dependency runs one way.
 * Users include sim_model.h, which includes this.
 */
#ifndef BP_SIM_BASE_H
#define BP_SIM_BASE_H

#include "bp_buf.h"
#include "bp_jw.h"
#include "bp_registry.h"

#include <math.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_SIM_RATE_MAX          1000.0 /* changes per second */
#define BP_SIM_SPEED_MAX         1000.0 /* fleet time acceleration */
#define BP_SIM_LINE_MAX          4096   /* bytes of one generated line, far above the real ~600 */
#define BP_SIM_SCALE_MAX         50.0   /* incident_scale */
#define BP_SIM_INCIDENTS_PER_DAY 110.0  /* Hanoi 115 baseline, per fleet day */
#define BP_SIM_MCI_MIN           20     /* calls in a mass-casualty burst */
#define BP_SIM_MCI_MAX           40

struct bp_dispatch_cfg;

typedef struct {
    double rate;  /* messages per second overall after the start; 0: initial reports only */
    double speed; /* fleet time runs this much faster than real time (> 0) */
    uint64_t seed;
    int rare_hospitals;      /* hospitals that report only every 2-3 intervals */
    double incident_scale;   /* calls per fleet day = 110 x this (0 .. 50; 0: none) */
    bool warm_start;         /* start mid-shift: calls open, units out (with rate > 0) */
    double mci_after_s;      /* real seconds after the start of a mass-casualty burst; < 0 none */
    double mci_lat, mci_lon; /* where; NAN: a random busy place */
    /* needs per category and ranking (config/dispatch.json, borrowed); NULL:
     * bp_dispatch_defaults */
    const struct bp_dispatch_cfg *dispatch;
} bp_sim_options_t;

typedef enum { BP_SIM_HOSPITAL, BP_SIM_AMBULANCE, BP_SIM_INCIDENT } bp_sim_kind_t;

/* One emitted line: bytes [off, off+len) of the output buffer, '\n' included. */
typedef struct {
    size_t off, len;
    bp_sim_kind_t kind;
    int index;    /* hospital or unit index in the registry, or incident slot */
    uint32_t gen; /* incident: which call held the slot */
    int64_t seq;
    /* The line's `at` lies in the past on purpose (a rarely reporting
     * hospital's last report). A collector that already holds a newer report
     * for it (a restarted simulator) answers out_of_order: expected, not a bug. */
    bool backdated;
} bp_sim_line_t;

typedef struct bp_sim bp_sim_t;

typedef struct {
    size_t units_moving;     /* driving: dispatched, transporting, returning */
    size_t units_busy;       /* not available (station or radio) */
    uint64_t incidents;      /* calls since the start (not those of the warm start) */
    uint64_t warm_incidents; /* calls of the warm start, before the start */
    uint64_t mci_incidents;  /* calls of the mass-casualty burst */
    uint64_t unanswered;     /* calls that found no free unit when due (they wait) */
    uint64_t transports, treated_on_scene, dropped; /* dropped: no slot free */
    size_t incidents_open, incidents_waiting;       /* in the model; waiting: no unit yet */
    uint64_t hospital_lines, ambulance_lines, incident_lines;
    double fleet_time_s; /* simulated fleet seconds since the start */
    int rare[8];         /* indexes of the rarely reporting hospitals */
    int n_rare;
} bp_sim_stats_t;

/* Hour of day in Hanoi (UTC+7, no daylight saving), 0 <= h < 24. */
double bp_sim_hanoi_hour(int64_t ms);
/* Day of the week in Hanoi, 0 = Monday .. 6 = Sunday. */
int bp_sim_hanoi_weekday(int64_t ms);

/* Writes an RFC 3339 time in Hanoi's zone, "2026-11-22T08:00:00.000+07:00",
 * as a JSON string value. */
void bp_sim_jw_time(bp_jw_t *w, int64_t ms);

#endif
