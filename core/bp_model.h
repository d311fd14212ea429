/*
 * The domain model (DESIGN §3): bed types, emergency-department status,
 * ambulance status, incidents (115 CAD), per-entity state, and the figures
 * derived from them.
 *
 * Everything here is plain data and pure functions: no allocation, no I/O.
 * Unknown numbers are -1 (a bed type whose occupancy was never reported is
 * not "0 occupied"). Occupancy above staffed is valid data: Hanoi's upper
 * level hospitals routinely run above 100%.
 */
#ifndef BP_MODEL_H
#define BP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_ID_MAX       48     /* hospital / station / district slug: [a-z0-9-]{1,48} */
#define BP_CALLSIGN_MAX 32     /* ambulance call sign: [A-Za-z0-9-]{1,32} */
#define BP_SOURCE_MAX   64     /* feed source name */
#define BP_REASON_MAX   200    /* ED status reason, bytes of UTF-8 */
#define BP_INCIDENT_MAX 64     /* incident id: [A-Za-z0-9-]{1,64} */
#define BP_ADDRESS_MAX  200    /* incident address, bytes of UTF-8 */
#define BP_BEDS_MAX     100000 /* per bed type and field: far above any hospital */
#define BP_WAITING_MAX  10000
#define BP_EPOCH_MAX    64 /* stream epoch id: [0-9a-zA-Z]{1,64} */
#define BP_TOKEN_MAX    256

/* The eleven bed types. Order is the display order; names are the wire
 * names. They do not map 1:1 onto EDXL-HAVE, FHIR or NHSN (bp_interop.h). */
typedef enum {
    BP_BED_EMERGENCY,
    BP_BED_ICU_ADULT,
    BP_BED_ICU_PEDIATRIC,
    BP_BED_ICU_NEONATAL,
    BP_BED_MEDICAL_SURGICAL,
    BP_BED_PEDIATRICS,
    BP_BED_OBSTETRICS,
    BP_BED_BURN,
    BP_BED_PSYCHIATRIC,
    BP_BED_ISOLATION,
    BP_BED_OPERATING_ROOM,
    BP_BED__COUNT
} bp_bed_type_t;

typedef enum {
    BP_ED_NORMAL,
    BP_ED_ADVISORY,
    BP_ED_DIVERSION,
    BP_ED_CLOSED,
    BP_ED__COUNT
} bp_ed_status_t;

/* Services a hospital may have (issue 15): each reported available,
 * limited or unavailable, with a reason and an expiry like the ED's. Order
 * is the display order; names are the wire names. */
typedef enum {
    BP_SVC_CT,
    BP_SVC_MRI,
    BP_SVC_CATH_LAB,
    BP_SVC_STROKE_UNIT,
    BP_SVC_TRAUMA,
    BP_SVC_BURN_UNIT,
    BP_SVC_DIALYSIS,
    BP_SVC_OBSTETRIC_ED,
    BP_SVC_PEDIATRIC_ED,
    BP_SVC_PSYCHIATRIC_ED,
    BP_SVC_ECMO,
    BP_SVC__COUNT
} bp_service_t;

#define BP_SERVICE_NAMES                                                                           \
    "ct, mri, cath_lab, stroke_unit, trauma, burn_unit, dialysis, obstetric_ed, pediatric_ed, "    \
    "psychiatric_ed, ecmo"

typedef enum {
    BP_SVS_AVAILABLE,
    BP_SVS_LIMITED,
    BP_SVS_UNAVAILABLE,
    BP_SVS__COUNT
} bp_svc_status_t;

/* The facility as a whole (issue 15, after EDXL-HAVE's FacilityStatus and
 * Sahana's utilities): its status, and power, oxygen and water. */
typedef enum {
    BP_FAC_NORMAL,
    BP_FAC_COMPROMISED,
    BP_FAC_EVACUATING,
    BP_FAC_CLOSED,
    BP_FAC__COUNT
} bp_fac_status_t;
typedef enum { BP_UTIL_POWER, BP_UTIL_OXYGEN, BP_UTIL_WATER, BP_UTIL__COUNT } bp_utility_t;

/* Close to the German FMS status model: 1/2 available, 3 dispatched,
 * 4 on scene, 7 transporting, 8 at hospital, 6 out of service. */
typedef enum {
    BP_AMB_AVAILABLE_STATION,
    BP_AMB_AVAILABLE_RADIO,
    BP_AMB_DISPATCHED,
    BP_AMB_ON_SCENE,
    BP_AMB_TRANSPORTING,
    BP_AMB_AT_HOSPITAL,
    BP_AMB_OUT_OF_SERVICE,
    BP_AMB__COUNT
} bp_amb_status_t;

typedef enum {
    BP_TIER_CENTRAL,
    BP_TIER_CITY,
    BP_TIER_DISTRICT,
    BP_TIER_PRIVATE,
    BP_TIER__COUNT
} bp_tier_t;

typedef enum { BP_FRESH, BP_LATE, BP_STALE, BP_NEVER_REPORTED } bp_freshness_t;

/* What a patient needs, as the CAD classifies the call (the dispatch table
 * maps each to bed types and specialties: docs/dispatch.md). */
typedef enum {
    BP_CAT_TRAUMA,
    BP_CAT_STROKE,
    BP_CAT_CARDIAC,
    BP_CAT_OBSTETRIC,
    BP_CAT_PEDIATRIC,
    BP_CAT_BURN,
    BP_CAT_RESPIRATORY, /* respiratory / infectious */
    BP_CAT_PSYCHIATRIC,
    BP_CAT_OTHER,
    BP_CAT__COUNT
} bp_category_t;

/* What an incident line does: open it, change it, or end it. */
typedef enum { BP_INC_CREATE, BP_INC_UPDATE, BP_INC_CLOSE, BP_INC__COUNT } bp_inc_action_t;

/* Names on the wire. Each returns NULL for an out-of-range value. */
const char *bp_bed_type_name(bp_bed_type_t t);
const char *bp_ed_status_name(bp_ed_status_t s);
const char *bp_amb_status_name(bp_amb_status_t s);
int bp_amb_status_fms(bp_amb_status_t s); /* FMS status digit */
const char *bp_tier_name(bp_tier_t t);
const char *bp_freshness_name(bp_freshness_t f);
const char *bp_category_name(bp_category_t c);
const char *bp_inc_action_name(bp_inc_action_t a);
const char *bp_service_name(bp_service_t s);
const char *bp_svc_status_name(bp_svc_status_t s);
const char *bp_fac_status_name(bp_fac_status_t s);
/* A utility's field name ("power", "oxygen", "water") and its values:
 * power mains | generator | out, oxygen normal | low | out, water normal |
 * out. NULL out of range. */
const char *bp_utility_name(bp_utility_t u);
const char *bp_utility_value_name(bp_utility_t u, int v);

/* Parsers: the enum value, or -1 when (s, len) is not a known name. */
int bp_bed_type_parse(const char *s, size_t len);
/* The bed types that may carry the intensive-care detail (bp_icu_detail_t). */
bool bp_bed_type_has_detail(int t);
int bp_ed_status_parse(const char *s, size_t len);
int bp_amb_status_parse(const char *s, size_t len);
int bp_tier_parse(const char *s, size_t len);
int bp_category_parse(const char *s, size_t len);
int bp_inc_action_parse(const char *s, size_t len);
int bp_service_parse(const char *s, size_t len);
int bp_svc_status_parse(const char *s, size_t len);
int bp_fac_status_parse(const char *s, size_t len);
int bp_utility_value_parse(bp_utility_t u, const char *s, size_t len);

/* Slug rules. */
bool bp_is_slug(const char *s, size_t len);        /* [a-z0-9-]{1,48} */
bool bp_is_callsign(const char *s, size_t len);    /* [A-Za-z0-9-]{1,32} */
bool bp_is_incident_id(const char *s, size_t len); /* [A-Za-z0-9-]{1,64} */
bool bp_is_source(const char *s, size_t len);      /* [A-Za-z0-9._:-]{1,64} */
/* Valid UTF-8, no control characters (U+0000..U+001F, U+007F..U+009F),
 * no bidi overrides, at most max_bytes. Used for every free-text field. */
bool bp_is_clean_text(const char *s, size_t len, size_t max_bytes);

/* -- Hospital state ------------------------------------------------------ */

typedef struct {
    int32_t staffed;  /* -1 unknown */
    int32_t occupied; /* -1 unknown; may exceed staffed */
    int32_t surge24;  /* -1 unknown */
} bp_beds_t;

/* Intensive-care detail (issue 15 part 3, after DIVI): of an ICU bed type's
 * places, those able to ventilate invasively and the ECMO places, each
 * total and free. Only icu_adult and icu_pediatric carry it
 * (bp_bed_type_has_detail); known when its BP_BF_VENTILATED / BP_BF_ECMO
 * bit is set (the hospital's icu_known, a change's bed_fields). */
typedef struct {
    int32_t total, free;
} bp_places_t;

typedef struct {
    bp_places_t ventilated, ecmo;
} bp_icu_detail_t;

typedef struct {
    bp_ed_status_t status;
    int64_t until_ms; /* 0: no expiry. A diversion past its expiry reads as normal. */
    int32_t waiting;  /* -1 unknown */
    char reason[BP_REASON_MAX + 1];
} bp_ed_t;

/* One service's status: limited and unavailable may carry a reason and an
 * expiry (like the ED's); past its expiry a status reads as available. */
typedef struct {
    bp_svc_status_t status;
    int64_t until_ms; /* 0: no expiry */
    char reason[BP_REASON_MAX + 1];
} bp_svc_t;

/* The facility's status, replaced whole like the ED's; a utility not
 * reported is -1. No expiry: a facility is normal again when it says so. */
typedef struct {
    bp_fac_status_t status;
    int8_t util[BP_UTIL__COUNT]; /* value index (bp_utility_value_name), -1 not reported */
    char reason[BP_REASON_MAX + 1];
} bp_facility_t;

/* A report that jumped beyond what the hospital's own figures make
 * plausible (core/bp_plausible.h): applied, but flagged until a manager
 * confirms it or a later report no longer triggers it. */
typedef enum {
    BP_CHECK_NONE,
    BP_CHECK_DROP,         /* occupied fell too far too fast */
    BP_CHECK_OVER_STAFFED, /* occupied over K x staffed */
    BP_CHECK_ALL_ZERO,     /* every reported bed type at exactly 0 */
    BP_CHECK__COUNT
} bp_check_rule_t;

#define BP_CHECK_REASON_MAX 120
typedef struct {
    bp_check_rule_t rule; /* NONE: no flag */
    int bed_type;         /* bp_bed_type_t, -1 the whole hospital */
    int32_t was, now;     /* the figures the rule compared (drop: occupied before and
                             after; over_staffed: staffed and occupied; all_zero: the
                             occupied before, and 0) */
    int64_t at_ms;        /* the `at` of the flagged report */
    uint64_t version;     /* the version it produced (stored by the apply script) */
    char reason[BP_CHECK_REASON_MAX + 1]; /* in English, for logs and the API */
} bp_check_t;

/* A hospital's last report with bed figures, and the occupied figures it
 * replaced: stored with the report by the apply script (hash field "pre"),
 * so that a server starting after it was applied, with no server running
 * in between to derive its check, derives it from the hash
 * (bp_state_rederive). */
typedef struct {
    uint64_t version; /* the version the report produced; 0 none */
    int64_t at_ms;    /* the report's `at` */
    char source[BP_SOURCE_MAX + 1];
    uint32_t mask;                    /* bed types it set figures of */
    uint8_t fields[BP_BED__COUNT];    /* of those, BP_BF_STAFFED and BP_BF_OCCUPIED */
    int32_t occupied[BP_BED__COUNT];  /* each one's occupied before it, -1 none */
    int64_t occ_at_ms[BP_BED__COUNT]; /* and when that was reported, 0 unknown */
} bp_check_pre_t;

const char *bp_check_rule_name(bp_check_rule_t r);
int bp_check_rule_parse(const char *s, size_t len);

/* What a hospital has reported, merged. */
typedef struct {
    uint64_t version;   /* +1 per accepted change; 0 = never reported */
    int64_t at_ms;      /* source time of the last report; 0 = never */
    int64_t updated_ms; /* our time when it was accepted */
    char source[BP_SOURCE_MAX + 1];
    uint32_t beds_mask; /* bit t set: bed type t is known at this hospital */
    bp_beds_t beds[BP_BED__COUNT];
    int64_t occ_at_ms[BP_BED__COUNT]; /* the `at` of the report that set occupied; 0 unknown */
    uint8_t icu_known[BP_BED__COUNT]; /* BP_BF_VENTILATED | BP_BF_ECMO reported */
    bp_icu_detail_t icu[BP_BED__COUNT];
    bp_ed_t ed;
    uint32_t svc_mask; /* bit s set: service s has been reported */
    bp_svc_t svc[BP_SVC__COUNT];
    bp_facility_t fac;
    bool fac_reported; /* the facility status was ever reported */
    /* ambulances wait too long to hand over (EDXL-HAVE EMSOffloadStatus
     * "Delayed"): derived by the server from the ambulances, not reported */
    bool offload_delayed;
    bp_check_t check;   /* rule NONE: no implausible report waits for a manager */
    bool check_unsaved; /* check derived from the stream, not yet stored (bp_writes_save_checks) */
} bp_hospital_state_t;

/* -- Ambulance state ------------------------------------------------------ */

typedef struct {
    uint64_t version;
    int64_t at_ms;
    int64_t updated_ms;
    char source[BP_SOURCE_MAX + 1];
    bp_amb_status_t status;
    bool has_position;
    double lat, lon;
    double heading;                  /* degrees 0..360, -1 unknown */
    double speed;                    /* km/h, -1 unknown */
    char destination[BP_ID_MAX + 1]; /* hospital id, "" none */
    char incident[BP_INCIDENT_MAX + 1];
} bp_ambulance_state_t;

/* -- Incident state (115 CAD) ---------------------------------------------
 * An open incident as the CAD gateway reported it, merged. Closed ones are
 * not kept in memory. */

typedef struct {
    char id[BP_INCIDENT_MAX + 1];
    uint64_t version;
    int64_t at_ms;
    int64_t updated_ms;
    char source[BP_SOURCE_MAX + 1];
    int64_t opened_ms; /* the `at` of its create */
    int priority;      /* 1 (most urgent) .. 3 */
    bp_category_t category;
    double lat, lon;
    char address[BP_ADDRESS_MAX + 1]; /* "" unknown */
    int64_t received_ms;              /* when the call came in; 0 unknown */
    char unit[BP_CALLSIGN_MAX + 1];   /* assigned ambulance, "" none */
    char destination[BP_ID_MAX + 1];  /* hospital id, "" none */
} bp_incident_state_t;

/* -- Changes --------------------------------------------------------------
 * A validated change, as accepted from a feed or read back from the event
 * stream. Only the parts flagged present change; the rest stay. */

enum {
    BP_BF_STAFFED = 1,
    BP_BF_OCCUPIED = 2,
    BP_BF_SURGE24 = 4,
    BP_BF_VENTILATED = 8, /* icu[t].ventilated, total and free together */
    BP_BF_ECMO = 16,      /* icu[t].ecmo, total and free together */
};

typedef enum { BP_KIND_HOSPITAL, BP_KIND_AMBULANCE, BP_KIND_INCIDENT } bp_kind_t;

enum {
    BP_AF_STATUS = 1 << 0,
    BP_AF_POSITION = 1 << 1, /* lat and lon together */
    BP_AF_HEADING = 1 << 2,
    BP_AF_SPEED = 1 << 3,
    BP_AF_DESTINATION = 1 << 4,
    BP_AF_INCIDENT = 1 << 5,
    BP_AF_ALL = 0x3f,
};

enum {
    BP_IF_PRIORITY = 1 << 0,
    BP_IF_CATEGORY = 1 << 1,
    BP_IF_POSITION = 1 << 2, /* lat and lon together */
    BP_IF_ADDRESS = 1 << 3,
    BP_IF_RECEIVED = 1 << 4,
    BP_IF_UNIT = 1 << 5,
    BP_IF_DESTINATION = 1 << 6,
    BP_IF_ALL = 0x7f,
};

typedef struct {
    bp_kind_t kind;
    char source[BP_SOURCE_MAX + 1];
    int64_t seq;
    int64_t at_ms;
    char id[BP_INCIDENT_MAX + 1]; /* hospital id, ambulance call sign or incident id */
    /* hospital */
    uint8_t bed_fields[BP_BED__COUNT]; /* BP_BF_* present per bed type */
    bp_beds_t beds[BP_BED__COUNT];
    bp_icu_detail_t icu[BP_BED__COUNT]; /* with BP_BF_VENTILATED / BP_BF_ECMO */
    bool has_ed;
    bp_ed_t ed;
    uint32_t svc_fields; /* bit s: this change sets service s (whole) */
    bp_svc_t svc[BP_SVC__COUNT];
    bool has_fac; /* the facility status, replaced whole */
    bp_facility_t fac;
    bool has_check;     /* sets the check whole (rule NONE: clears it) */
    bool check_derived; /* has_check set by this server's rules, not yet stored */
    bp_check_t check;
    /* read back from a hospital's hash only (bp_codec_parse_hash): when
     * each occupied figure was reported ("<type>.oa"; 0 unknown: the
     * change's at_ms), the version the check was last stored at ("ckv"),
     * the last report that set occupied ("pre", has_pre) */
    int64_t occ_at_ms[BP_BED__COUNT];
    uint64_t check_version;
    bool has_pre;
    bp_check_pre_t pre;
    /* ambulance */
    unsigned amb_fields; /* BP_AF_* */
    bp_ambulance_state_t amb;
    /* incident: the action, and the fields present (BP_IF_*) in inc */
    bp_inc_action_t inc_action;
    unsigned inc_fields;
    bp_incident_state_t inc;
    /* set when read back from the stream: the entity's state after the change */
    uint64_t version;
    int64_t updated_ms;
    uint64_t offset;
} bp_change_t;

/* -- Derived figures ------------------------------------------------------ */

/* max(staffed - occupied, 0), or -1 when either is unknown. */
int32_t bp_beds_available(const bp_beds_t *b);
/* max(occupied - staffed, 0), or -1 when either is unknown. */
int32_t bp_beds_overflow(const bp_beds_t *b);

/* The ED status as it reads at now_ms: a non-normal status whose expiry has
 * passed reads as normal. */
bp_ed_status_t bp_ed_effective(const bp_ed_t *ed, int64_t now_ms);

/* A service's status as it reads at now_ms: limited or unavailable past
 * its expiry reads as available. */
bp_svc_status_t bp_svc_effective(const bp_svc_t *s, int64_t now_ms);

/* Sums over bed types with both staffed and occupied known. Emergency and
 * operating room places are excluded: they are not inpatient beds. */
typedef struct {
    int64_t staffed, occupied, available, overflow, surge24;
    int types; /* how many bed types contributed */
} bp_totals_t;
void bp_hospital_totals(const bp_hospital_state_t *h, bp_totals_t *out);

/* Occupancy in percent (may exceed 100), or -1 when nothing is known. */
double bp_occupancy_pct(const bp_totals_t *t);

/* Pressure level 1..4, after NHS OPEL: occupancy against three thresholds,
 * raised by the ED status (advisory >= 2, diversion >= 3, closed = 4), by
 * a full adult ICU (>= 3) and by the facility (compromised >= 3,
 * evacuating or closed = 4). Percentages may exceed 100. */
typedef struct {
    double level2_pct, level3_pct, level4_pct;
} bp_pressure_cfg_t;
extern const bp_pressure_cfg_t bp_pressure_default;
int bp_pressure_level(const bp_hospital_state_t *h, const bp_pressure_cfg_t *cfg, int64_t now_ms);

/* Fresh until one reporting interval has passed since at_ms, late until
 * two, stale after; never reported when at_ms is 0. A source time in the
 * future counts as now. */
bp_freshness_t bp_freshness(int64_t at_ms, int64_t interval_s, int64_t now_ms);

/* Applies a change to a state (the same merge as the Redis script): bed types
 * present replace their present fields, ED and each service present
 * replace whole, ambulance fields
 * present replace. Also sets version/at/updated/source from the change when
 * the change carries a version (read back from the stream), else version+1. */
void bp_hospital_apply(bp_hospital_state_t *h, const bp_change_t *c);
void bp_ambulance_apply(bp_ambulance_state_t *a, const bp_change_t *c);
/* An incident change onto an incident: a create starts it afresh (opened at
 * inc.opened_ms, or at the change's `at` when that is 0), then the fields
 * present replace. A close changes what it carries; taking a closed incident
 * out of a table is the table's business. */
void bp_incident_apply(bp_incident_state_t *s, const bp_change_t *c);

void bp_hospital_state_init(bp_hospital_state_t *h);
void bp_ambulance_state_init(bp_ambulance_state_t *a);
void bp_incident_state_init(bp_incident_state_t *s, const char *id);
void bp_change_init(bp_change_t *c, bp_kind_t kind);
void bp_facility_init(bp_facility_t *f); /* normal, no utility reported */
/* How many bed types a hospital change carries figures for. */
int bp_change_bed_types(const bp_change_t *c);

#endif
