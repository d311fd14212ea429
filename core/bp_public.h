/*
 * What BedPulse tells everyone (issue 14): the public capacity document
 * behind /public and GET /api/v1/public, and the open-data files
 * GET /api/v1/public/daily.csv and .json. Pure: the state and the trend
 * history in, bytes out; the server serialises them at most every few
 * seconds and serves the same bytes to every request.
 *
 * For citizens and the press: each hospital's emergency department as
 * accepting / busy / diverting / closed with a reason category derived
 * from the figures (full beds, full adult ICU, ambulances waiting at the
 * door, other; the facility evacuating or closed) and never the
 * hospital's own free text; the facility's status when it is evacuating or
 * closed; the emergency services unavailable (names only); free beds by type
 * for the city, each district and each hospital; when each was last
 * updated. Never ambulances, incidents or who reported.
 */
#ifndef BP_PUBLIC_H
#define BP_PUBLIC_H

#include "bp_buf.h"
#include "bp_history.h"
#include "bp_state.h"

typedef struct {
    const char *licence;     /* "CC BY 4.0" */
    const char *licence_url; /* "https://creativecommons.org/licenses/by/4.0/" */
    const char *publisher;   /* who publishes it */
} bp_public_meta_t;

/* The facility as citizens see it (issue 15): "evacuating" or "closed"
 * when the hospital reports so, else "open" (compromised is for the
 * dispatchers: the hospital still takes patients). */
const char *bp_public_facility(const bp_hospital_state_t *h);
/* The ED status citizens see: closed when the facility is evacuating or
 * closed, else the effective status. */
bp_ed_status_t bp_public_ed(const bp_hospital_state_t *h, int64_t now_ms);
/* The emergency services citizens choose a hospital for (stroke_unit,
 * trauma, obstetric_ed, pediatric_ed): the public document lists those
 * reported unavailable now, by name only. */
#define BP_PUBLIC_SERVICES 4
extern const bp_service_t bp_public_services[BP_PUBLIC_SERVICES];

/* "accepting" | "busy" | "diverting" | "closed" for an effective ED status. */
const char *bp_public_ed_state(bp_ed_status_t s);
/* Why an ED is not accepting, from the facility and the figures:
 * "evacuating" or "facility_closed" (the facility), "icu_full" (adult ICU
 * reported and none free), "beds_full" (occupancy at or above pressure
 * level 3), "ambulance_delays" (offload delayed), else "other"; NULL when
 * it is accepting. */
const char *bp_public_ed_reason(const bp_hospital_state_t *h, const bp_pressure_cfg_t *p,
                                int64_t now_ms);

/* The public document at now_ms:
 * {"generated","licence":{"name","url"},"publisher",
 *  "city":{"beds":{<type>:{"free","staffed","hospitals"}},"updated","hospitals","reporting"},
 *  "districts":[{"id","name":{"vi","en"},"beds":{..},"updated"}],
 *  "hospitals":[{"id","name","tier","district","lat","lon","phone",
 *    "ed":{"state","reason"},"facility","services_unavailable":[..],
 *    "beds":{<type>:{"free","staffed"}},"updated","freshness"}]}
 * A bed type counts where its staffed and occupied figures are both known;
 * "updated" is the newest report among what was counted (null: none). */
void bp_public_write(bp_buf_t *b, const bp_state_t *st, const bp_public_meta_t *meta,
                     int64_t now_ms);

/* The open-data rows: one per local day x hospital x bed type, with the
 * figures as they stood at each of the fixed hours (08:00 and 20:00 local
 * time): the latest trend sample at or before that hour and not older than
 * `tolerance_ms`. The trend history keeps, per hospital, the inpatient
 * total (staffed, occupied) and the free adult ICU beds: those are the bed
 * types "inpatient" and "icu_adult" (staffed and occupied unknown for it)
 * until the history keeps every bed type. Days: the `days` local days up
 * to and including today. series(ctx, i) gives hospital i's samples. */
#define BP_OPENDATA_HOURS 2
extern const int bp_opendata_hours[BP_OPENDATA_HOURS]; /* minutes of the local day */

typedef struct {
    const bp_registry_t *reg;
    const bp_series_t *(*series)(void *ctx, size_t hospital);
    void *ctx;
    int utc_offset_min;
    int days;
    int64_t tolerance_ms;
    const bp_public_meta_t *meta;
} bp_opendata_q_t;

void bp_opendata_csv(bp_buf_t *b, const bp_opendata_q_t *q, int64_t now_ms);
void bp_opendata_json(bp_buf_t *b, const bp_opendata_q_t *q, int64_t now_ms);

#endif
