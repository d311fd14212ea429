/*
 * The simulator model's private parts, shared by sim_model.c (hospitals,
 * fleet, the step), sim_incident.c (115 calls: their rhythm, the CAD's
 * incident lines, destinations, handover) and sim_base.c (what both use).
 * Not for the adapter or tests.
 */
#ifndef BP_SIM_INTERNAL_H
#define BP_SIM_INTERNAL_H

#include "bp_recommend.h"
#include "bp_state.h"
#include "sim_base.h"
#include "sim_rng.h"

#include <math.h>

#define RARE_MAX    8
#define MINUTE      60.0
#define POSITION_MS 5000 /* a driving unit reports every 5 s (real time) */

typedef struct {
    double target[BP_BED__COUNT]; /* occupied / staffed the walk returns to */
    double drift[BP_BED__COUNT];  /* a slow wave on the target (a fraction of it) */
    int64_t drift_at;             /* real ms the waves were last moved */
    int32_t staffed[BP_BED__COUNT], occupied[BP_BED__COUNT], surge24[BP_BED__COUNT];
    bp_ed_status_t ed;
    int64_t ed_until;
    const char *ed_reason;
    int32_t waiting;
    int64_t ed_checked; /* real ms the ED status was last brought up to date */
    /* a service taken down now and then (issue 15): bp_service_t + 1, 0 none */
    int svc_down;
    int svc_report; /* bp_service_t + 1 the next line must carry, 0 none */
    int64_t svc_until, svc_checked;
    const char *svc_reason;
    /* the facility compromised now and then (issue 15): bp_utility_t + 1
     * of the cause, 0 normal; fac_report: the next line carries it */
    int fac_down;
    bool fac_report;
    int64_t fac_until;
    int64_t seq;
    int64_t next_due;   /* real ms of the next scheduled update */
    int64_t pending_at; /* != 0: the `at` of the next report (back-dated first report) */
    bool full;          /* a full report is wanted */
    bool reported;      /* the initial report was built */
    bool rare;
} hosp_t;

typedef struct {
    bp_amb_status_t status;
    double lat, lon;       /* where it is now */
    double to_lat, to_lon; /* where it drives to */
    double kmh;            /* speed on this leg */
    double heading;        /* -1 unknown */
    double phase_end;      /* fleet seconds when on-scene / handover / repair ends */
    bool driving;
    int dest; /* hospital index, -1 none */
    int inc;  /* incident slot, -1 none */
    char incident[BP_INCIDENT_MAX + 1];
    bool full, charged; /* full report wanted; counts against the rate */
    int64_t next_pos;   /* real ms of the next position report while driving */
} unit_t;

/* One 115 call, from the call to the handover (or the end on scene). */
typedef struct {
    bool used;
    uint32_t gen; /* serial: tells a reused slot from its last occupant */
    char id[BP_INCIDENT_MAX + 1];
    bp_category_t cat;
    int prio;
    double lat, lon;
    char address[BP_ADDRESS_MAX + 1];
    int64_t received_ms; /* real time of the call */
    double assign_s;     /* fleet s when the dispatcher assigns a unit */
    int unit, dest;      /* -1 none */
    bool waited;         /* found no free unit when it was due */
    bool mci;
    /* what the collector has still to hear */
    bool created;     /* its create went out */
    unsigned pending; /* BP_IF_* fields for an update */
    bool closing;     /* ended in the model; its close is due */
    bool muted;       /* refused (too_many_incidents): no more lines */
} incident_t;

struct bp_sim {
    const bp_registry_t *reg;
    bp_sim_options_t opt;
    bp_rng_t rng;
    hosp_t *hosp;
    unit_t *units;
    int *station_units; /* units per station: where people live */
    size_t n_units_total;
    int64_t last_ms, start_ms;
    double fleet_s;
    double tokens;
    int64_t amb_seq, inc_seq;
    int rare[RARE_MAX];
    int n_rare;
    uint64_t hospital_lines, ambulance_lines, incident_lines;
    /* incidents */
    bp_dispatch_cfg_t dispatch;
    bp_state_t *view; /* what the sim reported of its hospitals: the dispatcher's view */
    int *inbound;     /* per hospital, scratch */
    int *mci_taken;   /* per hospital: patients of the burst sent there */
    incident_t *inc;
    size_t inc_cap, inc_hi; /* slots; 1 + the highest in use */
    uint32_t inc_gen, inc_no;
    double arrival_acc, arrival_next; /* integrated call rate; the next call at */
    double rhythm_norm;
    bool warming; /* the warm start runs: nothing was reported yet */
    /* a mass-casualty burst */
    int mci_left;
    bool no_new_calls; /* stopping: the open calls are being closed */
    double mci_next_s, mci_lat, mci_lon;
    bool mci_started;
    bp_sim_stats_t st; /* the incident counters */
};

/* -- sim_base.c ------------------------------------------------------------ */
double sim_inpatient_occupancy(const bp_sim_t *s, int i);
/* Services and the facility (sim_services.c): brings hospital i's up to
 * now; writes what changed into its line (report time at). */
void sim_services_update(bp_sim_t *s, int i, int64_t now);
void sim_services_write(bp_jw_t *w, hosp_t *h, int64_t at);
void sim_set_status(unit_t *u, bp_amb_status_t st);
void sim_drive_to(bp_sim_t *s, unit_t *u, double lat, double lon, double kmh_lo, double kmh_hi,
                  int64_t now);
void sim_return_to_station(bp_sim_t *s, size_t idx, int64_t now);
/* "ventilated":{..},"ecmo":{..} of an ICU bed type with these figures, as
 * members of the bed type's open object */
void sim_write_icu_detail(bp_jw_t *w, int32_t staffed, int32_t occupied);
/* Fills line's kind, index and seq and opens a feed line in w:
 * {"type":..,"source":..,"seq":..,"at":now,"id":.. — the caller adds its
 * members and ends it with sim_line_end (the closing brace and '\n'). */
void sim_line_start(bp_jw_t *w, bp_sim_line_t *line, bp_sim_kind_t kind, int index, int64_t seq,
                    const char *type, const char *source, int64_t now, const char *id);
void sim_line_end(bp_jw_t *w);

/* -- sim_incident.c -------------------------------------------------------- */
int sim_incidents_init(bp_sim_t *s);
void sim_incidents_free(bp_sim_t *s);
/* New calls and the MCI burst for sim_dt fleet seconds up to real now;
 * units for the calls that are due. */
void sim_incidents_advance(bp_sim_t *s, double sim_dt, int64_t now);
/* The unit reached the end of its time on scene / at the hospital. */
void sim_incident_scene_done(bp_sim_t *s, size_t unit, int64_t now);
void sim_incident_handover_done(bp_sim_t *s, size_t unit);
/* Fleet minutes on scene for the unit's call (drawn now). */
double sim_scene_min(bp_sim_t *s, const unit_t *u);
/* Open incidents (one slot, or all for -1) report all their fields next. */
void sim_incidents_resync(bp_sim_t *s, int index);
/* Fleet minutes the handover at hospital h takes (drawn now). */
double sim_handover_min(bp_sim_t *s, int h);
/* The dispatcher's view follows what was reported. */
void sim_view_hospital_line(bp_sim_t *s, const char *line, size_t len, int64_t now);
void sim_view_seed(bp_sim_t *s, int64_t now);
/* Whether slot i has a line due (a call that ended unreported is dropped
 * here); sim_emit_incident writes it into out. */
bool sim_incident_due(bp_sim_t *s, size_t i);
void sim_emit_incident(bp_sim_t *s, size_t i, int64_t now, bp_buf_t *out, bp_sim_line_t *line);

/* Equirectangular distance and bearing: plenty for a city. */
static inline double sim_km(double lat1, double lon1, double lat2, double lon2) {
    double kx = 111.32 * cos((lat1 + lat2) * 0.5 * M_PI / 180.0);
    double dx = (lon2 - lon1) * kx, dy = (lat2 - lat1) * 110.57;
    return sqrt(dx * dx + dy * dy);
}

static inline double sim_bearing(double lat1, double lon1, double lat2, double lon2) {
    double kx = 111.32 * cos((lat1 + lat2) * 0.5 * M_PI / 180.0);
    double deg = atan2((lon2 - lon1) * kx, (lat2 - lat1) * 110.57) * 180.0 / M_PI;
    return deg < 0 ? deg + 360.0 : deg;
}

#endif
