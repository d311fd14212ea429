/*
 * "Where do I send this patient?" (issue 6): ranks hospitals for a patient
 * at a point with a need (bed types, specialties) and a priority, from the
 * live state. Pure: no I/O, no allocation.
 *
 * For each hospital that has a bed type the patient needs:
 *   - travel time: straight-line distance × detour factor at the speed of
 *     the local time-of-day band;
 *   - free capacity of the needed bed type: available + surge24 − inbound
 *     (ambulances already transporting there);
 *   - ED status: diversion and closed are left out unless no open hospital
 *     is reachable within diversion_extra_min of the nearest diverted one;
 *   - services (issue 15): a needed service (config/dispatch.json, e.g.
 *     stroke: ct + stroke_unit) reported unavailable diverts the hospital
 *     by the same rule as the ED; one reported limited costs a penalty.
 *     A service the registry does not list, or never reported, counts as
 *     neither (the specialty penalty already covers what it lacks);
 *   - ICU places (issue 15): a patient who needs an invasive-ventilation
 *     or an ECMO place (the category's `needs`, or the dispatcher's
 *     ?needs=) costs no_icu_place minutes at a hospital whose ICU reports
 *     none free, half as much at one that does not report the detail
 *     (unknown: after those with room, never left out);
 *   - facility: a hospital being evacuated or closed is never ranked; a
 *     compromised one is (its reason says so; its pressure level is 3+);
 *   - specialty: none of the needed specialties costs a penalty;
 *   - tier fit: priority 2–3 patients pay a penalty for central hospitals
 *     (they keep room for what only they can do); the sister hospital of the
 *     nearest district hospital gets a bonus (Hanoi's sister model);
 *   - data age: a late or stale report costs a penalty.
 * The score is minutes (travel plus penalties, minus bonuses); lower is
 * better; ties go to the shorter trip, then registry order (stable).
 */
#ifndef BP_RECOMMEND_H
#define BP_RECOMMEND_H

#include "bp_alerts.h"
#include "bp_plausible.h"
#include "bp_state.h"

#include <math.h>
#include <stddef.h>

/* Categories (bp_category_t) and their names live in bp_model.h. */

/* ICU places a patient may need (bp_need_t.places): one able to ventilate
 * invasively, an ECMO place. Names on the wire: "ventilator", "ecmo". */
typedef enum { BP_PLACE_VENTILATOR, BP_PLACE_ECMO, BP_PLACE__COUNT } bp_place_t;
const char *bp_place_name(bp_place_t p); /* NULL out of range */
int bp_place_parse(const char *s, size_t len);

#define BP_NEED_BEDS_MAX 4
typedef struct {
    int n_beds;
    int beds[BP_NEED_BEDS_MAX]; /* bp_bed_type_t, in order of preference */
    uint32_t specialties;       /* bit per bp_specialty_t: any one matches */
    uint32_t services;          /* bit per bp_service_t: all are needed */
    uint32_t places;            /* bit per bp_place_t: all are needed */
} bp_need_t;

#define BP_SPEED_BANDS_MAX 8
typedef struct bp_dispatch_cfg {
    double detour_factor; /* road km per straight-line km */
    int n_bands;
    struct {
        int from_min; /* local minutes after midnight this band starts */
        double kmh;
    } bands[BP_SPEED_BANDS_MAX]; /* ascending from_min, first at 0 */
    int utc_offset_min;          /* local time (Hanoi: +420) */
    double diversion_extra_min;
    double no_capacity_penalty_min;
    double no_specialty_penalty_min;
    double central_penalty_min[3]; /* by priority 1, 2, 3 */
    double sister_bonus_min;
    double late_penalty_min, stale_penalty_min;
    double limited_service_penalty_min;
    double no_icu_place_penalty_min; /* none free; half when not reported */
    bp_need_t needs[BP_CAT__COUNT];
    bp_alert_cfg_t alerts;       /* the alert rules' thresholds (bp_alerts.h) */
    bp_plaus_cfg_t plausibility; /* the plausibility rules (bp_plausible.h) */
} bp_dispatch_cfg_t;

/* Hanoi defaults (docs/dispatch.md): detour 1.4; 35 km/h at night, 18 in the
 * morning and evening rush, 24 by day; diversions within 10 min more; … */
void bp_dispatch_defaults(bp_dispatch_cfg_t *cfg);

/* Great-circle distance in km. */
double bp_distance_km(double lat1, double lon1, double lat2, double lon2);
/* Minutes by road for a straight-line distance at the local time of now_ms. */
double bp_travel_min(const bp_dispatch_cfg_t *cfg, double km, int64_t now_ms);

typedef struct {
    double lat, lon;
    int priority; /* 1 (most urgent) .. 3 */
    bp_need_t need;
    int64_t now_ms;
    const int *inbound; /* per registry hospital: ambulances on their way; NULL: none */
} bp_rec_query_t;

typedef struct {
    int hospital; /* registry index */
    double km, eta_min, score;
    int bed_type;                    /* the needed bed type counted */
    int available, surge24, inbound; /* of that bed type; -1 unknown */
    int free;                        /* available + surge24 − inbound; only if known */
    bool known;                      /* free is known (occupancy reported) */
    bool specialty;                  /* has one of the needed specialties (or none needed) */
    bool diverted;                   /* ED diversion/closed or a needed service unavailable: here
                                        only because nothing open is near */
    uint32_t svc_out;     /* needed services reported unavailable (bit per bp_service_t) */
    uint32_t svc_limited; /* needed services reported limited */
    char svc_reason[BP_REASON_MAX + 1]; /* the first unavailable (else limited) one's reason */
    bool central_penalty, sister;
    bool compromised; /* the facility reports itself compromised */
    /* per needed place (bp_need_t.places): free over the ICU types counted
     * that report the pair; -1 none of them reports it */
    int place_free[BP_PLACE__COUNT];
    bp_ed_status_t ed;
    bp_freshness_t freshness;
} bp_candidate_t;

/* Ranks; writes at most max candidates, best first; returns how many. */
size_t bp_recommend(const bp_state_t *st, const bp_dispatch_cfg_t *cfg, const bp_rec_query_t *q,
                    bp_candidate_t *out, size_t max);

/* Inbound load now: per registry hospital (inbound has one entry per
 * hospital), the ambulances transporting there. */
void bp_recommend_inbound(const bp_state_t *st, int *inbound);

/* One candidate as clients read it: {"hospital","name","tier","rank",
 * "eta_min","km","bed_type","known","available","surge24","inbound","free",
 * "specialty","ed","diverted","services_out","services_limited","sister","central_penalty","freshness",
 * "score","reason":{"en","vi"}}, with "places":{"ventilator":N|null,…}
 * when the need names ICU places (docs/dispatch.md). */
void bp_candidate_write(bp_buf_t *b, const bp_candidate_t *c, const bp_registry_t *reg,
                        const bp_need_t *need, size_t rank);

/* The travel time as it is published: eta_min in the candidate's JSON is
 * this, to one decimal, and the reason's "N min" is its ceiling — so the two
 * never disagree (a raw 1.04 is published 1.0 and said "1 min"). */
static inline double bp_eta_shown(double eta_min) {
    return round(eta_min * 10.0) / 10.0;
}

/* The reasons in words, "12 min · 3 adult ICU free, 1 inbound · stroke
 * unit", in "en" or "vi" (the numbers are the candidate's own). Returns the
 * length it needed (the text is cut to len - 1 bytes). */
size_t bp_candidate_reason(const bp_candidate_t *c, const bp_registry_t *reg, const bp_need_t *need,
                           const char *lang, char *out, size_t len);

#endif
