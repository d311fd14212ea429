/*
 * The materialized state a server keeps in memory: one bp_hospital_state_t
 * per registry hospital, one bp_ambulance_state_t per fleet unit, and a
 * bounded table of the open 115 incidents (ids come from the CAD, not the
 * registry), plus the writers of everything clients read (snapshot,
 * events, REST bodies).
 *
 * Client-facing JSON uses RFC 3339 UTC times and adds derived figures
 * (available, overflow, occupancy, pressure level, freshness, effective ED
 * status) computed at the time of writing.
 */
#ifndef BP_STATE_H
#define BP_STATE_H

#include "bp_buf.h"
#include "bp_jw.h"
#include "bp_model.h"
#include "bp_plausible.h"
#include "bp_registry.h"

typedef struct bp_state bp_state_t;

/* The registry is borrowed and must outlive the state. max_incidents bounds
 * the open incidents held (stream.max_open_incidents; 0 keeps none). NULL
 * on no memory. */
bp_state_t *bp_state_create(const bp_registry_t *reg, const bp_pressure_cfg_t *pressure,
                            size_t max_incidents);
void bp_state_destroy(bp_state_t *st);

/* Every entity back to its registry baseline, no incidents (used when the
 * epoch changes and before a snapshot load). */
void bp_state_reset(bp_state_t *st);

/* Applies a change read from the stream or the stored state. Returns the
 * entity's index, or -1 when its id is not in the registry (then nothing
 * changes). Incidents: a create adds (or replaces) one, an update changes
 * one held, a close takes it out; the result is the incident's index in
 * the table (for a close, the one it had), or -1 when nothing changed (an
 * update or close of an incident not held, or a create with the table
 * full: counted by bp_state_incidents_dropped). */
int bp_state_apply(bp_state_t *st, const bp_change_t *c);

/* The plausibility rules (bp_plausible.h; borrowed, NULL: none) that
 * bp_state_mark applies. */
void bp_state_set_plausibility(bp_state_t *st, const bp_plaus_cfg_t *cfg);
/* Before a stream event is applied: a hospital report that carries no
 * check gets the one the rules derive against the state before it
 * (bp_plausible_mark; check_derived set). Every server reads the same
 * stream in the same order, so every server derives the same check and
 * stores it (bp_writes_save_checks). A check's version is the report's.
 * True when c now sets the check. */
bool bp_state_mark(const bp_state_t *st, bp_change_t *c);
/* A hospital's hash read at a load (bp_codec_parse_hash, already applied)
 * whose last report that set occupied ("pre") is newer than the last
 * stored check ("ckv"): no server stored a check since it was applied
 * (every server stopped in between). Derives that report's check again
 * from the figures it replaced, as bp_state_mark would have; sets it
 * unsaved for bp_writes_save_checks. True when the hospital's check
 * changed. */
bool bp_state_rederive(bp_state_t *st, const bp_change_t *stored);
/* Hospital i's derived check is stored as of version (still its version:
 * check_unsaved cleared). */
void bp_state_check_saved(bp_state_t *st, size_t i, uint64_t version);

const bp_registry_t *bp_state_registry(const bp_state_t *st);
const bp_hospital_state_t *bp_state_hospital(const bp_state_t *st, size_t i);
/* The offload-delayed flag of hospital i (derived from ambulance handovers
 * by the server; it raises the pressure level to at least 3). True when it
 * changed. */
bool bp_state_set_offload(bp_state_t *st, size_t i, bool delayed);
const bp_ambulance_state_t *bp_state_ambulance(const bp_state_t *st, size_t i);
const bp_pressure_cfg_t *bp_state_pressure(const bp_state_t *st);

/* Open incidents, ordered by when they were opened, then id (every server
 * lists them alike). Pointers are valid until the next apply or reset. */
size_t bp_state_incident_count(const bp_state_t *st);
const bp_incident_state_t *bp_state_incident(const bp_state_t *st, size_t i);
int bp_state_incident_find(const bp_state_t *st, const char *id); /* index, or -1 */
uint64_t bp_state_incidents_dropped(const bp_state_t *st);

/* What an audience may see of the live feed (DESIGN §8): the ambulance
 * fields (BP_AF_*, 0: no ambulances) and whether incidents. */
typedef struct {
    unsigned amb_fields;
    bool incidents;
} bp_view_t;
extern const bp_view_t bp_view_all;

/* A name in both languages: {"vi":..,"en":..}. */
void bp_state_write_name(bp_jw_t *w, const bp_name_t *n);
/* One hospital as clients see it: registry facts, reported figures, derived
 * figures at now_ms. */
void bp_state_write_hospital(bp_buf_t *b, const bp_state_t *st, size_t i, int64_t now_ms);
void bp_state_write_ambulance(bp_buf_t *b, const bp_state_t *st, size_t i);
/* Only some of its fields (BP_AF_*): what a wall display may see. */
void bp_state_write_ambulance_fields(bp_buf_t *b, const bp_state_t *st, size_t i, unsigned fields);
/* One open incident: {"id","version","at","updated","source","opened",
 * "priority","category","lat","lon","address","received","unit",
 * "destination"} (unknowns null). _members writes it without the braces,
 * for callers that add to it. */
void bp_state_write_incident(bp_buf_t *b, const bp_incident_state_t *inc);
void bp_state_write_incident_members(bp_buf_t *b, const bp_incident_state_t *inc);
/* Arrays of all of them. */
void bp_state_write_hospitals(bp_buf_t *b, const bp_state_t *st, int64_t now_ms);
/* Only the hospitals whose bit is set in `only` (one bit per registry
 * index, as bp_principal_t.scope; NULL: all of them), in registry order. */
void bp_state_write_hospitals_in(bp_buf_t *b, const bp_state_t *st, int64_t now_ms,
                                 const uint64_t *only);
void bp_state_write_ambulances(bp_buf_t *b, const bp_state_t *st);
void bp_state_write_incidents(bp_buf_t *b, const bp_state_t *st);
/* The static part clients need: bed types, districts, stations, thresholds. */
void bp_state_write_meta(bp_buf_t *b, const bp_state_t *st);

/* {"type":"snapshot","epoch":..,"offset":..,"reason":..,"now":..,"meta":{..},
 *  "hospitals":[..],"ambulances":[..],"incidents":[..]} for an audience:
 * ambulances with the fields it may see (an empty list for none),
 * "incidents" only when it may see them (absent otherwise). */
void bp_state_write_snapshot(bp_buf_t *b, const bp_state_t *st, const char *epoch, uint64_t offset,
                             int64_t now_ms, bp_view_t view);
/* The same with only the hospitals set in `only` (see
 * bp_state_write_hospitals_in): a manager's page, which shows hers. */
void bp_state_write_snapshot_in(bp_buf_t *b, const bp_state_t *st, const char *epoch,
                                uint64_t offset, int64_t now_ms, bp_view_t view,
                                const uint64_t *only);

/* One event as it goes inside an "events" frame:
 * {"offset":N,"kind":"hospital"|"ambulance"|"incident","id":..,"data":{..}}
 * where data holds only what changed (merged bed types, ED, ambulance
 * fields; an incident's action and fields) plus version, at, updated and
 * source. */
void bp_state_write_event(bp_buf_t *b, const bp_change_t *c);
/* The event for an audience: an ambulance change with none of the fields it
 * may see, or an incident change when it may not see incidents, becomes
 * {"offset":N} (clients skip it; the offsets they see stay contiguous). */
void bp_state_write_event_for(bp_buf_t *b, const bp_change_t *c, bp_view_t view);

/* City totals: by bed type, by tier, by district, levels, ED, freshness. */
void bp_state_write_summary(bp_buf_t *b, const bp_state_t *st, int64_t now_ms);
/* Occupancy as shown: rounded down to 0.1 (see bp_state.c). */
double bp_state_pct_shown(double pct);

#endif
