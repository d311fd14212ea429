/*
 * The public part of the simulator's 115 calls (sim_incident.c; see
 * sim_model.h): their rhythm, handover times, and what the collector's
 * refusals of incident lines mean. Users include sim_model.h.
 */
#ifndef BP_SIM_INCIDENT_H
#define BP_SIM_INCIDENT_H

#include "sim_base.h"

/* Calls at Hanoi hour h relative to the day's mean (the mean over 24 h is 1):
 * low before dawn, peaks in the morning and in the evening rush. */
double bp_sim_call_rhythm(double h);

/* Minutes a handover (offload) takes at a hospital of this tier and
 * inpatient occupancy (1.0 = full), for a uniform draw u in [0, 1):
 * 10-20 normally, 15-30 when central or over 100 %, 30-60 at a central
 * hospital over 100 %. */
double bp_sim_handover_minutes(bp_tier_t tier, double occupancy, double u);

/* The collector refused a line with `error`. Returns true when that is
 * expected and taken care of: an incident the collector does not hold
 * (unknown_incident: it is created again with everything) or already holds
 * (exists, after a restart: it is updated with everything), or one past
 * its bound (too_many_incidents: that call goes unreported). */
bool bp_sim_rejected(bp_sim_t *s, const bp_sim_line_t *line, const char *error);

/* End of the run: every open incident is closed on the next steps (so a
 * stopped demo leaves none open behind it). */
void bp_sim_close_incidents(bp_sim_t *s);

#endif
