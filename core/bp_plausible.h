/*
 * Plausibility (issue 15 part 5): the rules that flag a hospital report
 * jumping beyond what the hospital's own figures make plausible. Pure: from
 * the hospital's state before the report, the report, its registry entry
 * (the staffed baseline) and the thresholds (config/dispatch.json
 * "plausibility", docs/dispatch.md). A flagged report is still applied; the
 * flag (bp_check_t) rides with it to Redis and waits for a manager.
 *
 *   drop          a bed type's occupied falls by more than pct % within
 *                 within_min minutes of that bed type's previous occupied
 *                 figure (its own report time, h->occ_at_ms), from at
 *                 least min_beds
 *   over_staffed  a bed type's occupied is over factor x its staffed beds
 *                 (reported, else the registry baseline); not emergency nor
 *                 operating room places (a crowded ED holds patients on
 *                 trolleys; as in the occupancy)
 *   all_zero      every bed type known at the hospital has occupied exactly
 *                 0 after a report that sets occupied, and some were
 *                 occupied before
 */
#ifndef BP_PLAUSIBLE_H
#define BP_PLAUSIBLE_H

#include "bp_jw.h"
#include "bp_model.h"
#include "bp_registry.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool drop;
    int drop_pct;        /* 1..100 */
    int drop_within_min; /* 1..1440 */
    int drop_min_beds;   /* 1..BP_BEDS_MAX: smaller wards swing too much to judge */
    bool over_staffed;
    double over_factor; /* 1..100 */
    bool all_zero;
} bp_plaus_cfg_t;

/* drop 40 % within 15 min from 10 beds; over 2 x staffed; all_zero: all on. */
void bp_plausible_defaults(bp_plaus_cfg_t *cfg);

/* The flags report c raises on hospital h (its state before c; info its
 * registry entry, may be NULL), most serious first (all_zero, then drop,
 * then over_staffed, bed types in their order); at most max written to
 * out, the count returned. Each flag's at_ms is the report's; version 0
 * (the apply script stores the version). */
size_t bp_plausible_eval(const bp_hospital_state_t *h, const bp_hospital_info_t *info,
                         const bp_change_t *c, const bp_plaus_cfg_t *cfg, bp_check_t *out,
                         size_t max);

/* Sets c's check from the rules: the first flag when one fires (never for
 * a manager's write, source "web:<token>": it only clears); a clear
 * (rule NONE) when h carries a flag and c sets bed figures without firing
 * one (a later report that no longer triggers it); else has_check false
 * (the stored flag stays as it is). Returns whether c now sets the check. */
bool bp_plausible_mark(const bp_hospital_state_t *h, const bp_hospital_info_t *info,
                       const bp_plaus_cfg_t *cfg, bp_change_t *c);

/* The member "check" as the API, snapshot and live events show it: null, or
 * {"rule":..,"bed_type":..|null,"was":..,"now":..,"reason":..,"at":<ISO>,
 * "version":..} (docs/api.md). */
void bp_plausible_write(bp_jw_t *w, const bp_check_t *k);
/* The members the API and the stored format share (rule, bed_type, was,
 * now, reason); each adds its own "at" (and the API "version"). */
void bp_plausible_write_common(bp_jw_t *w, const bp_check_t *k);

#endif
