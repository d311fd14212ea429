/*
 * The simulator's model: believable Hanoi traffic for the feed protocol
 * (docs/protocol.md §1), as a pure function of its state, its random
 * generator and the clock the caller passes in. No I/O, no libuv: the
 * adapter in main.c calls bp_sim_step() on a timer and sends the lines it
 * gets, and the test drives it with a fake clock.
 *
 * Hospitals: one source per hospital ("his-<id>"), bed occupancy doing a
 * bounded random walk around a tier target that follows the day in
 * Asia/Ho_Chi_Minh time, partial updates of 1-3 bed types with occasional
 * full reports, and occasional emergency-department advisories, diversions
 * and brief closures. A few hospitals report only every 2-3 reporting
 * intervals so that the dashboard shows them late and stale.
 *
 * 115: calls arrive at Hanoi's rhythm (about 110 a day, more by day and in
 * the evening rush than at night; options.incident_scale for surge drills)
 * where people are, as `incident` lines from the CAD ("cad-115"): create,
 * an update when the nearest free unit is assigned, one when it leaves the
 * scene for the top recommended hospital (bp_recommend on what the
 * simulator reported, with the inbound load of its own units), and a close
 * when the patient is handed over (or treated on scene). Handover takes
 * longer at crowded central hospitals. options.mci_after_s adds a burst of
 * 20-40 trauma calls at one place. The fleet runs on accelerated time
 * (options.speed), and starts mid-shift (calls open, units out) so the
 * demo shows work at once; every `at` on the wire is real time.
 *
 * What a message says is decided when it is emitted, from the current
 * state: an entity that could not be reported (no room) is simply reported
 * later with newer figures, so nothing has to be queued here.
 */
#ifndef BP_SIM_MODEL_H
#define BP_SIM_MODEL_H

#include "bp_buf.h"
#include "bp_registry.h"

#include <math.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_SIM_RATE_MAX  1000.0 /* changes per second */
#define BP_SIM_SPEED_MAX 1000.0 /* fleet time acceleration */
#define BP_SIM_LINE_MAX  4096   /* bytes of one generated line, far above the real ~600 */
#define BP_SIM_SCALE_MAX 50.0   /* incident_scale */
#define BP_SIM_INCIDENTS_PER_DAY 110.0 /* Hanoi 115 baseline, per fleet day */
#define BP_SIM_MCI_MIN   20     /* calls in a mass-casualty burst */
#define BP_SIM_MCI_MAX   40

struct bp_dispatch_cfg;

typedef struct {
    double rate;  /* messages per second overall after the start; 0: initial reports only */
    double speed; /* fleet time runs this much faster than real time (> 0) */
    uint64_t seed;
    int rare_hospitals;    /* hospitals that report only every 2-3 intervals */
    double incident_scale; /* calls per fleet day = 110 x this (0 .. 50; 0: none) */
    bool warm_start;       /* start mid-shift: calls open, units out (with rate > 0) */
    double mci_after_s;    /* real seconds after the start of a mass-casualty burst; < 0 none */
    double mci_lat, mci_lon; /* where; NAN: a random busy place */
    /* needs per category and ranking (config/dispatch.json, borrowed); NULL:
     * bp_dispatch_defaults */
    const struct bp_dispatch_cfg *dispatch;
} bp_sim_options_t;

void bp_sim_options_default(bp_sim_options_t *o);

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

/* Creates the model at real time now_ms with every hospital and unit due for
 * a full report. reg is borrowed and must outlive the model. NULL on bad
 * options or out of memory. */
bp_sim_t *bp_sim_create(const bp_registry_t *reg, const bp_sim_options_t *opt, int64_t now_ms);
void bp_sim_destroy(bp_sim_t *s);

/* Advances the model to now_ms (the fleet by speed times the elapsed time)
 * and emits at most max lines, appended to out and described in
 * lines[0..n). Returns n. Pending full reports go first, then due updates
 * as the rate allows. max = 0 only advances. Times going backwards count as
 * no time passing. */
size_t bp_sim_step(bp_sim_t *s, int64_t now_ms, size_t max, bp_buf_t *out, bp_sim_line_t *lines);

/* Asks for a full report of one entity on the next step (its last line was
 * lost or superseded), or of every entity (after a reconnect: the collector
 * or Redis may have lost state). A resync leaves the rarely reporting
 * hospitals alone: they report when they are due. For an open incident a
 * full report is an update with all its fields. */
void bp_sim_request_full(bp_sim_t *s, bp_sim_kind_t kind, int index);
void bp_sim_resync(bp_sim_t *s);

/* The collector refused a line with `error`. Returns true when that is
 * expected and taken care of: an incident the collector does not hold
 * (unknown_incident: it is created again with everything) or already holds
 * (exists, after a restart: it is updated with everything), or one past
 * its bound (too_many_incidents: that call goes unreported). */
bool bp_sim_rejected(bp_sim_t *s, const bp_sim_line_t *line, const char *error);

/* End of the run: every open incident is closed on the next steps (so a
 * stopped demo leaves none open behind it). */
void bp_sim_close_incidents(bp_sim_t *s);

typedef struct {
    size_t units_moving; /* driving: dispatched, transporting, returning */
    size_t units_busy;   /* not available (station or radio) */
    uint64_t incidents;  /* calls since the start (not those of the warm start) */
    uint64_t warm_incidents; /* calls of the warm start, before the start */
    uint64_t mci_incidents;  /* calls of the mass-casualty burst */
    uint64_t unanswered; /* calls that found no free unit when due (they wait) */
    uint64_t transports, treated_on_scene, dropped; /* dropped: no slot free */
    size_t incidents_open, incidents_waiting; /* in the model; waiting: no unit yet */
    uint64_t hospital_lines, ambulance_lines, incident_lines;
    double fleet_time_s; /* simulated fleet seconds since the start */
    int rare[8];         /* indexes of the rarely reporting hospitals */
    int n_rare;
} bp_sim_stats_t;

void bp_sim_stats(const bp_sim_t *s, bp_sim_stats_t *out);

/* Hour of day in Hanoi (UTC+7, no daylight saving), 0 <= h < 24. */
double bp_sim_hanoi_hour(int64_t ms);

/* Calls at Hanoi hour h relative to the day's mean (the mean over 24 h is 1):
 * low before dawn, peaks in the morning and in the evening rush. */
double bp_sim_call_rhythm(double h);

/* Minutes a handover (offload) takes at a hospital of this tier and
 * inpatient occupancy (1.0 = full), for a uniform draw u in [0, 1):
 * 10-20 normally, 15-30 when central or over 100 %, 30-60 at a central
 * hospital over 100 %. */
double bp_sim_handover_minutes(bp_tier_t tier, double occupancy, double u);

/* Writes an RFC 3339 time in Hanoi's zone, "2026-11-22T08:00:00.000+07:00",
 * as a JSON string. */
void bp_sim_json_time(bp_buf_t *b, int64_t ms);

#endif
