/*
 * The one place where BedPulse's model meets the field's standards
 * (docs/interop.md, /work/shared/INTEROP.md): EDXL-HAVE 1.0, FHIR R4 with
 * the HL7 SANER bed-capacity vocabulary, and NHSN/HHS-style CSV columns.
 * Every exporter and importer takes its names, codes and conversions from
 * here; nothing else spells "AdultICU" or "numICUBeds".
 *
 * None of these mappings is 1:1 throughout, and each loss is stated next to
 * the entry it concerns: HAVE 1.0 has one code (Closed) for both diversion
 * and closed, no element for occupied, overflow, the ED's expiry or its
 * waiting count, and no obstetrics bed type; FHIR's v3-RoleCode lacks burn,
 * isolation, operating rooms and obstetrics; SANER counts ICU beds without
 * saying which ICU.
 *
 * Pure: tables and arithmetic, no allocation, no I/O.
 */
#ifndef BP_INTEROP_H
#define BP_INTEROP_H

#include "bp_error.h"
#include "bp_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* -- namespaces, systems, canonical URLs --------------------------------- */

#define BP_HAVE_NS "urn:oasis:names:tc:emergency:EDXL:HAVE:1.0"
#define BP_XNL_NS  "urn:oasis:names:tc:ciq:xnl:3"
#define BP_CT_NS   "urn:oasis:names:tc:ciq:ct:3"
#define BP_GML_NS  "http://www.opengis.net/gml"
#define BP_DE_NS   "urn:oasis:names:tc:emergency:EDXL:DE:1.0" /* an envelope importers open */

#define BP_FHIR_ROLECODE   "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
#define BP_FHIR_POPULATION "http://terminology.hl7.org/CodeSystem/measure-population"
#define BP_FHIR_OPSTATUS   "http://terminology.hl7.org/CodeSystem/v2-0116"
#define BP_SANER_GROUPS    "http://hl7.org/fhir/uv/saner/CodeSystem/MeasureGroupSystem"
#define BP_SANER_VALUES    "http://hl7.org/fhir/uv/saner/CodeSystem/MeasuredValues"
/* BedPulse's own code systems and measure (URNs: no web page behind them,
 * nothing to resolve) for what SANER has no code for. */
#define BP_FHIR_BEDTYPES "urn:bedpulse:fhir:CodeSystem:bed-type"
#define BP_FHIR_COUNTS   "urn:bedpulse:fhir:CodeSystem:bed-count"
#define BP_FHIR_ICU      "urn:bedpulse:fhir:CodeSystem:icu-places"
#define BP_FHIR_HOSPITAL "urn:bedpulse:fhir:hospital-id" /* identifier system: registry ids */
#define BP_FHIR_MEASURE  "urn:bedpulse:fhir:Measure:bed-capacity"
#define BP_FHIR_SERVICES "urn:bedpulse:fhir:CodeSystem:service" /* the wire names */
/* Extensions (issue 15): the facility's status and utilities on a
 * Location; a service's status on a HealthcareService. */
#define BP_FHIR_EXT_FACILITY "urn:bedpulse:fhir:StructureDefinition:facility-status"
#define BP_FHIR_EXT_SERVICE  "urn:bedpulse:fhir:StructureDefinition:service-status"

/* -- bed types ----------------------------------------------------------- */

typedef struct {
    /* EDXL-HAVE 1.0 BedType written for this type; NULL: none (obstetrics,
     * which HAVE 1.0 does not have: not exported). */
    const char *have;
    /* a second HAVE BedType read into this type (summed with the first):
     * PediatricPsychiatric for psychiatric; NULL none. Exports write the
     * first only, so the adult/pediatric split is not told. */
    const char *have_also;
    /* HL7 v3-RoleCode (SANER ConceptMap HAvBED2toFHIR); NULL: unmatched
     * (burn, obstetrics, isolation, operating_room). */
    const char *role_code;
    const char *role_display;
    /* US SAFR / NHSN bed group: columns <X>Occupied / <X>Unoccupied; NULL
     * none (emergency: NHSN counts an ED census, not beds). */
    const char *safr;
    /* SANER totals this type counts in: numbeds (inpatient beds) and
     * numICUBeds (any ICU, neonatal included). Emergency and operating
     * room places are not inpatient beds (as bp_hospital_totals). */
    bool inpatient, icu;
} bp_bed_interop_t;

/* NULL for an out-of-range type. */
const bp_bed_interop_t *bp_interop_bed(bp_bed_type_t t);

/* A HAVE BedType (compared case-insensitively, surrounding white space
 * ignored): the BedPulse type, BP_INTEROP_NO_TYPE for a HAVE type BedPulse
 * does not keep (NurseryBeds, RehabLongTermCare, OtherIsolation), or
 * BP_INTEROP_UNKNOWN for a name that is not a HAVE 1.0 BedType. */
#define BP_INTEROP_NO_TYPE (-1)
#define BP_INTEROP_UNKNOWN (-2)
int bp_interop_have_bed_parse(const char *s, size_t len);

/* A FHIR group code: the BedPulse type for (system, code) in the BedPulse
 * bed-type system (its codes are the wire names) or in v3-RoleCode where
 * the mapping is unique; BP_INTEROP_UNKNOWN otherwise. */
int bp_interop_fhir_bed_parse(const char *system, const char *code);

/* -- counts -------------------------------------------------------------- */

/* The figures of one bed type as HAVE carries them. -1: not written. */
typedef struct {
    int32_t available;  /* AvailableCount = max(staffed - occupied, 0) */
    int32_t baseline;   /* BaselineCount = staffed */
    int32_t additional; /* AdditionalCapacityCount24Hr = surge24 */
    const char *status; /* CapacityStatus: "Vacant/Available", "NotAvailable", NULL */
} bp_have_counts_t;

void bp_interop_have_counts(const bp_beds_t *b, bp_have_counts_t *out);

/* The other way: HAVE counts (-1 absent) into bed fields. staffed =
 * BaselineCount; occupied = BaselineCount - AvailableCount (when the
 * baseline is absent, cur_staffed stands in for it if known, else
 * AvailableCount is an error); surge24 = AdditionalCapacityCount24Hr. An
 * AvailableCount of 0 says only "occupied >= staffed" (HAVE cannot tell
 * overflow): *at_least is set then, for bp_interop_refine. Fills beds and
 * the BP_BF_* fields present; 0, or -1 with err (field = path). */
int bp_interop_beds_from_have(int64_t available, int64_t baseline, int64_t additional,
                              int32_t cur_staffed, const char *path, bp_beds_t *beds,
                              uint8_t *fields, bool *at_least, bp_error_t *err);

/* Names of the per-bed-type counts in the BedPulse FHIR count system (and
 * the CSV): staffed, occupied, available, overflow, surge24. */
typedef enum {
    BP_COUNT_STAFFED,
    BP_COUNT_OCCUPIED,
    BP_COUNT_AVAILABLE,
    BP_COUNT_OVERFLOW,
    BP_COUNT_SURGE24,
    BP_COUNT__COUNT
} bp_count_t;
const char *bp_interop_count_name(bp_count_t c);
int bp_interop_count_parse(const char *s); /* -1 unknown */
/* The figure of b for count c; -1 unknown. */
int32_t bp_interop_count_value(const bp_beds_t *b, bp_count_t c);

/* The intensive-care detail's four figures (bp_icu_detail_t), named in the
 * BedPulse FHIR code system BP_FHIR_ICU: ventilated-total, ventilated-free,
 * ecmo-total, ecmo-free; also the CSV's last four columns. */
typedef enum {
    BP_ICU_VENT_TOTAL,
    BP_ICU_VENT_FREE,
    BP_ICU_ECMO_TOTAL,
    BP_ICU_ECMO_FREE,
    BP_ICU__COUNT
} bp_icu_count_t;
const char *bp_interop_icu_name(bp_icu_count_t k);
int bp_interop_icu_parse(const char *s); /* -1 unknown */
/* Figure k of bed type t at hospital h; -1 not reported. */
int32_t bp_interop_icu_value(const bp_hospital_state_t *h, int t, bp_icu_count_t k);
/* Sets a change's detail of bed type t from the four figures (-1 absent):
 * a pair needs both, free <= total, and only the ICU types carry it. 0, or
 * -1 with err (field = path). */
int bp_interop_icu_to_change(const int64_t v[BP_ICU__COUNT], int t, const char *path,
                             bp_change_t *c, bp_error_t *err);

/* SANER measured values in the "Beds" group: codes and how BedPulse
 * computes them from a hospital (over bed types with staffed and occupied
 * known, as bp_hospital_totals). */
typedef enum {
    BP_SANER_NUM_TOT_BEDS,       /* numTotBeds: inpatient staffed + surge24 */
    BP_SANER_NUM_TOT_BEDS_OCC,   /* numTotBedsOcc */
    BP_SANER_NUM_TOT_BEDS_AVAIL, /* numTotBedsAvail: available + surge24 */
    BP_SANER_NUM_BEDS,           /* numbeds: inpatient staffed */
    BP_SANER_NUM_BEDS_OCC,       /* numBedsOcc */
    BP_SANER_NUM_ICU_BEDS,       /* numICUBeds: adult + pediatric + neonatal ICU staffed */
    BP_SANER_NUM_ICU_BEDS_OCC,   /* numICUBedsOcc */
    BP_SANER_NUM_ICU_BEDS_AVAIL, /* numICUBedsAvail */
    BP_SANER__COUNT
} bp_saner_t;
const char *bp_interop_saner_code(bp_saner_t s);
/* The value, or -1 when no bed type it covers has figures. */
int64_t bp_interop_saner_value(const bp_hospital_state_t *h, bp_saner_t s);

/* -- emergency department ------------------------------------------------ */

/* The ED as exports show it at now_ms: the effective status (an expired
 * diversion reads normal, its reason and expiry dropped), else as stored. */
void bp_interop_ed_view(const bp_ed_t *ed, int64_t now_ms, bp_ed_t *out);

/* HAVE EMSTrafficStatus for a status: Normal, Advisory, Closed (diversion:
 * HAVE's Closed asks EMS to re-route), Closed (closed). */
const char *bp_interop_have_traffic(bp_ed_status_t s);

/* EMSTrafficReason for an ED view: the reason; for `closed` the marker
 * "ED closed" first ("ED closed" or "ED closed: <reason>"), which is how a
 * HAVE reader tells closed from diversion. Writes "" when there is nothing
 * to say. */
#define BP_HAVE_CLOSED_MARK "ED closed"
void bp_interop_have_reason(const bp_ed_t *ed, char *out, size_t len);

/* EMSTrafficStatus and EMSTrafficReason (NULL/absent allowed for the
 * reason) into an ED. Status compared case-insensitively: Normal,
 * Advisory, Closed (diversion, or closed when the reason carries the
 * marker), NotApplicable (no ED: returns 1 and out is untouched). 0 with
 * out filled (waiting unknown, no expiry: HAVE has neither), 1, or -1 with
 * err naming `path`. */
int bp_interop_ed_from_have(const char *status, size_t slen, const char *reason, size_t rlen,
                            const char *path, bp_ed_t *out, bp_error_t *err);

/* FHIR Location.operationalStatus (v2-0116) of a hospital at now_ms: "C"
 * (Closed) when its ED is closed or the facility reports itself evacuating
 * or closed (it takes no one), "O" (Occupied) when no inpatient bed is
 * free, "U" (Unoccupied) when some are; NULL when nothing is known. The
 * display text goes to *display. Lossy: diversion and advisory have no
 * code. */
const char *bp_interop_fhir_opstatus(const bp_hospital_state_t *h, int64_t now_ms,
                                     const char **display);

/* -- imports against the current state ---------------------------------- */

/* Narrows an imported hospital change (HAVE, FHIR) against `cur` at
 * now_ms, so that posting an export back changes nothing: when the report
 * is not newer than the stored one, bed fields equal to the current ones
 * are dropped (a newer report is applied whole: the live state may lag
 * Redis by a few milliseconds); always, an occupied that is only a lower
 * bound (bit t of at_least: HAVE AvailableCount 0) is dropped when the
 * current occupied already reaches it (overflow survives HAVE), and an ED
 * equal to the current view (status, reason) is dropped, which keeps the
 * current expiry and waiting count that HAVE and FHIR cannot carry.
 * Returns true when nothing is left and the report is not newer: then
 * nothing need be applied. */
bool bp_interop_refine(bp_change_t *c, const bp_hospital_state_t *cur, uint32_t at_least,
                       int64_t now_ms);

/* -- CSV ----------------------------------------------------------------- */

/* The columns of GET /api/v1/export/csv, one row per hospital and bed type
 * (NHSN/HHS style names; docs/interop.md says what each holds). */
extern const char *const bp_interop_csv_columns[];
extern const size_t bp_interop_csv_ncolumns;

#endif
