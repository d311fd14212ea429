/*
 * FHIR R4 out and in (docs/interop.md): a Location per hospital (position,
 * operational status, the facility's status: status suspended when closed,
 * operationalStatus C when evacuating or closed, and the facility-status
 * extension), a HealthcareService per service it has (its status in an
 * extension, an unavailable one as notAvailable) and a MeasureReport per
 * hospital that has reported,
 * after the HL7 SANER bed-capacity vocabulary where it has codes (a "Beds"
 * group of SANER totals: numTotBeds, numbeds, numBedsOcc, numICUBeds, ...)
 * and BedPulse's own code systems for the rest (one group per bed type,
 * coded with BedPulse's bed-type system and v3-RoleCode where it maps; one
 * population per figure: staffed, occupied, available, overflow, surge24).
 *
 * Like bp_codec this module reads JSON with cJSON; every other module sees
 * plain structs. Reading is strict about what it uses (every error names
 * the JSON path and the rule) and ignores the rest of a resource.
 */
#ifndef BP_FHIR_H
#define BP_FHIR_H

#include "bp_buf.h"
#include "bp_import.h"
#include "bp_registry.h"
#include "bp_state.h"

/* A Bundle of type collection: a Location for every hospital (only = -1)
 * or for hospital `only`, each followed by its HealthcareServices and its
 * MeasureReport when it has reported (a report without a time would be
 * invalid). */
void bp_fhir_write_bundle(bp_buf_t *b, const bp_state_t *st, int only, int64_t now_ms);

/* One hospital's Location and MeasureReport, as resources (no Bundle). */
void bp_fhir_write_location(bp_buf_t *b, const bp_state_t *st, size_t i, int64_t now_ms);
void bp_fhir_write_report(bp_buf_t *b, const bp_state_t *st, size_t i);

/* Reads a MeasureReport, or a Bundle of them (other resources in it, such
 * as the Locations of an export, are skipped with a note), into im: one
 * item per MeasureReport, its hospital found by subject.identifier.value
 * or subject.reference "Location/<id>" (a registry id or have_id), its time
 * from `date` (not more than max_skew_ms after now_ms), its figures from
 * the bed-type groups. A report must be `complete`. SANER's "Beds" group
 * is derived and ignored. The ED is not in FHIR: imports never change it.
 * Returns 0, or -1 with im->errs filled (then nothing may be applied). */
int bp_fhir_parse(const char *json, size_t len, const bp_registry_t *reg, int64_t now_ms,
                  int64_t max_skew_ms, bp_import_t *im);

#endif
