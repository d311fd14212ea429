/*
 * The simulator's model: believable Hanoi traffic for the feed protocol
 * (docs/protocol.md §1), as a pure function of its state, its random
 * generator and the clock the caller passes in. No I/O, no libuv: the
 * adapter in main.c calls bp_sim_step() on a timer and sends the lines it
 * gets, and the test drives it with a fake clock.
 *
 * Hospitals: one source per hospital ("his-<id>"), bed occupancy doing a
 * bounded random walk around a tier target that follows the day and the
 * week in Asia/Ho_Chi_Minh time (wards fill Monday to Thursday and empty
 * at the weekend; the emergency department is busiest on Monday and at
 * weekends) with a slow wave of its own per bed type (days long: a flu
 * season, a ward closed), deterministic under the seed; partial updates of 1-3 bed types with
 * occasional full reports, and occasional emergency-department advisories, diversions and brief
 * closures. A few hospitals report only every 2-3 reporting intervals so that the dashboard shows
 * them late and stale.
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

#include "sim_base.h"
#include "sim_incident.h"

void bp_sim_options_default(bp_sim_options_t *o);

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

void bp_sim_stats(const bp_sim_t *s, bp_sim_stats_t *out);

#endif
