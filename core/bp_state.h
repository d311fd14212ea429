/*
 * The materialized state a server keeps in memory: one bp_hospital_state_t
 * per registry hospital and one bp_ambulance_state_t per fleet unit, plus
 * the writers of everything clients read (snapshot, events, REST bodies).
 *
 * Client-facing JSON uses RFC 3339 UTC times and adds derived figures
 * (available, overflow, occupancy, pressure level, freshness, effective ED
 * status) computed at the time of writing.
 */
#ifndef BP_STATE_H
#define BP_STATE_H

#include "bp_buf.h"
#include "bp_model.h"
#include "bp_registry.h"

typedef struct bp_state bp_state_t;

/* The registry is borrowed and must outlive the state. NULL on no memory. */
bp_state_t *bp_state_create(const bp_registry_t *reg, const bp_pressure_cfg_t *pressure);
void bp_state_destroy(bp_state_t *st);

/* Every entity back to its registry baseline (used when the epoch changes). */
void bp_state_reset(bp_state_t *st);

/* Applies a change read from the stream or the stored state. Returns the
 * entity's index, or -1 when its id is not in the registry (then nothing
 * changes). */
int bp_state_apply(bp_state_t *st, const bp_change_t *c);

const bp_registry_t *bp_state_registry(const bp_state_t *st);
const bp_hospital_state_t *bp_state_hospital(const bp_state_t *st, size_t i);
const bp_ambulance_state_t *bp_state_ambulance(const bp_state_t *st, size_t i);
const bp_pressure_cfg_t *bp_state_pressure(const bp_state_t *st);

/* One hospital as clients see it: registry facts, reported figures, derived
 * figures at now_ms. */
void bp_state_write_hospital(bp_buf_t *b, const bp_state_t *st, size_t i, int64_t now_ms);
void bp_state_write_ambulance(bp_buf_t *b, const bp_state_t *st, size_t i);
/* Only some of its fields (BP_AF_*): what a wall display may see. */
void bp_state_write_ambulance_fields(bp_buf_t *b, const bp_state_t *st, size_t i, unsigned fields);
/* Arrays of all of them. */
void bp_state_write_hospitals(bp_buf_t *b, const bp_state_t *st, int64_t now_ms);
void bp_state_write_ambulances(bp_buf_t *b, const bp_state_t *st);
/* The static part clients need: bed types, districts, stations, thresholds. */
void bp_state_write_meta(bp_buf_t *b, const bp_state_t *st);

/* {"type":"snapshot","epoch":..,"offset":..,"reason":..,"now":..,"meta":{..},
 *  "hospitals":[..],"ambulances":[..]}. amb_fields: the ambulance fields
 * (BP_AF_*) the audience may see; 0 leaves the ambulance list empty. */
void bp_state_write_snapshot(bp_buf_t *b, const bp_state_t *st, const char *epoch,
                             uint64_t offset, int64_t now_ms, unsigned amb_fields);

/* One event as it goes inside an "events" frame:
 * {"offset":N,"kind":"hospital"|"ambulance","id":..,"data":{..}} where data
 * holds only what changed (merged bed types, ED, ambulance fields) plus
 * version, at, updated and source. */
void bp_state_write_event(bp_buf_t *b, const bp_change_t *c);
/* The event for an audience that may see only amb_fields of ambulances: an
 * ambulance change with none of them becomes {"offset":N} (clients skip
 * it; the offsets they see stay contiguous). */
void bp_state_write_event_for(bp_buf_t *b, const bp_change_t *c, unsigned amb_fields);

/* City totals: by bed type, by tier, by district, levels, ED, freshness. */
void bp_state_write_summary(bp_buf_t *b, const bp_state_t *st, int64_t now_ms);

#endif
