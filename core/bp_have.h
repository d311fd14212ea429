/*
 * EDXL-HAVE 1.0 (docs/interop.md), the pure part: what a HAVE document
 * says about each hospital, as text read from the XML by io/bp_havexml (no
 * libxml2 here), checked and turned into hospital changes; and the figures
 * a HAVE export writes for a hospital.
 *
 * Both layouts in the field are read: counts inside BedCapacity/Capacity
 * (the schema) or directly under BedCapacity (Sahana Eden's exporter),
 * EMSTrafficStatus inside EMSTraffic or directly under
 * EmergencyDepartmentStatus (Sahana's importer), "VacantAvailable" for
 * "Vacant/Available"; values compare case-insensitively.
 */
#ifndef BP_HAVE_H
#define BP_HAVE_H

#include "bp_import.h"
#include "bp_interop.h"
#include "bp_registry.h"
#include "bp_state.h"

#include <stdbool.h>
#include <stddef.h>

#define BP_HAVE_VALUE_MAX 72                   /* codes, counts, times, ids */
#define BP_HAVE_TEXT_MAX  (BP_REASON_MAX + 24) /* EMSTrafficReason with the closed marker */
#define BP_HAVE_BEDS_MAX  32                   /* BedCapacity elements per Hospital */

/* A value as found: absent, present (text, trimmed by the reader or not),
 * or present but longer than the buffer (an error when used). `count`:
 * how many times the element occurred where one is allowed. */
typedef struct {
    bool present, too_long;
    int count;
    char text[BP_HAVE_VALUE_MAX + 1];
} bp_have_value_t;

typedef struct {
    bool present, too_long;
    int count;
    char text[BP_HAVE_TEXT_MAX + 1];
} bp_have_text_t;

typedef struct {
    char path[BP_IMPORT_PATH_MAX]; /* ".../BedCapacity[3]" */
    bp_have_value_t bed_type;      /* count: BedType elements (one is expected) */
    bp_have_value_t status, available, baseline, additional;
    int capacities; /* Capacity elements carrying any count (at most one may) */
} bp_have_bed_t;

typedef struct {
    char path[BP_IMPORT_PATH_MAX]; /* "HospitalStatus/Hospital[2]" */
    bp_have_value_t id;            /* xnl:ID of the first OrganisationName that has one */
    bp_have_text_t name;           /* its first NameElement, for messages */
    bp_have_value_t traffic;       /* EMSTrafficStatus */
    bp_have_text_t reason;         /* EMSTrafficReason */
    bp_have_value_t last_update;   /* LastUpdateTime */
    bp_have_bed_t beds[BP_HAVE_BEDS_MAX];
    size_t n_beds;
    size_t beds_seen; /* BedCapacity elements, beyond BP_HAVE_BEDS_MAX too */
} bp_have_hospital_t;

/* Sets a value from (s, len): whitespace trimmed, too_long when it does not
 * fit; a second call counts a repeat (the first text stays). */
void bp_have_value_set(bp_have_value_t *v, const char *s, size_t len);
void bp_have_text_set(bp_have_text_t *v, const char *s, size_t len);

/* Checks one hospital and adds its change to im (or errors naming the
 * element). reg: the registry (ids and have_ids); cur: the current states
 * by registry index, or NULL (a collector has none: then an AvailableCount
 * without BaselineCount is an error). now_ms and max_skew_ms bound
 * LastUpdateTime. */
void bp_have_import(const bp_have_hospital_t *h, const bp_registry_t *reg, const bp_state_t *cur,
                    int64_t now_ms, int64_t max_skew_ms, bp_import_t *im);

/* -- export ------------------------------------------------------------------ */

typedef struct {
    bp_bed_type_t type;
    const char *have; /* BedType */
    bp_have_counts_t counts;
} bp_have_bed_out_t;

/* What a HAVE export writes for one hospital. */
typedef struct {
    const char *id, *name_vi, *name_en;
    double lat, lon;
    const char *traffic;               /* EMSTrafficStatus */
    char reason[BP_HAVE_TEXT_MAX + 1]; /* EMSTrafficReason, "" none */
    const char *offload;               /* EMSOffloadStatus: Normal | Delayed */
    int64_t offload_minutes;           /* EMSOffloadMinutes, -1 none */
    bp_have_bed_out_t beds[BP_BED__COUNT];
    size_t n_beds;
    /* ServiceCoverageStatus (issue 15): bit per bp_service_t, the services
     * it has that HAVE names (svc_has), and which of them are not reported
     * unavailable now (svc_up: limited counts as available, HAVE has no
     * "limited"). CT, MRI and ECMO have no HAVE element. */
    uint32_t svc_has, svc_up;
    const char *facility; /* HospitalFacilityStatus/FacilityStatus, NULL never reported */
    int64_t at_ms;        /* LastUpdateTime */
} bp_have_out_t;

/* The view of hospital i at now_ms; offload_median_ms: the median handover
 * time (-1 unknown). Returns false for a hospital that never reported (HAVE
 * requires LastUpdateTime: such a hospital is left out of exports). */
bool bp_have_view(const bp_state_t *st, size_t i, int64_t now_ms, int64_t offload_median_ms,
                  bp_have_out_t *out);

#endif
