/*
 * What a dispatcher reads (routes.c), from the in-memory state:
 *
 *   GET /api/v1/recommend?lat=&lon=&category=&priority=&limit=&needs=
 *   GET /api/v1/incidents[/{id}]   open incidents, each with its top destinations
 *   GET /api/v1/handover           inbound, at the door, offload times
 */
#include "bp_httputil.h"
#include "bp_jw.h"
#include "bp_time.h"
#include "handlers.h"
#include "ranking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int num_arg(bp_req_t *r, const char *name, double lo, double hi, double *v, bool required,
                   const char *rule) {
    char s[40];
    int n = bp_http_arg(r->query, r->query_len, name, s, sizeof s);
    if (n == -1 && !required) return 0;
    char *e = NULL;
    double x = n > 0 ? strtod(s, &e) : 0;
    if (n <= 0 || *e || !(x >= lo && x <= hi)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s must be %s", name, rule);
        bp_req_error(r, 400, "bad_request", msg);
        return -1;
    }
    *v = x;
    return 0;
}

/* Ambulances transporting to each hospital now, malloc'd (NULL: 503 decided). */
static int *inbound_now(bp_req_t *r) {
    const bp_registry_t *reg = &r->app->cfg.registry;
    int *inbound = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *inbound);
    if (!inbound)
        bp_req_error(r, 503, "unavailable", "out of memory");
    else
        bp_recommend_inbound(r->app->state, inbound);
    return inbound;
}

/* ?needs=ventilator,ecmo: the ICU places the patient needs (bits of
 * bp_place_t) on top of the category's; -1 when refused (400 decided). */
static int needs_arg(bp_req_t *r, uint32_t *places) {
    char s[40];
    int n = bp_http_arg(r->query, r->query_len, "needs", s, sizeof s);
    *places = 0;
    if (n == -1) return 0;
    for (int at = 0; n >= 0 && at <= n;) {
        int end = at;
        while (end < n && s[end] != ',')
            end++;
        int p = bp_place_parse(s + at, (size_t)(end - at));
        if (p < 0) break;
        *places |= 1u << p;
        if (end == n) return 0;
        at = end + 1;
    }
    bp_req_error(r, 400, "bad_request",
                 "needs must be ventilator, ecmo or both separated by a comma");
    return -1;
}

void bp_api_recommend_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_registry_t *reg = &app->cfg.registry;
    if (!bp_req_state_loaded(r)) return;
    double lat, lon, prio = 2, limit = 5;
    if (num_arg(r, "lat", -90, 90, &lat, true, "a latitude in degrees (-90 to 90)") ||
        num_arg(r, "lon", -180, 180, &lon, true, "a longitude in degrees (-180 to 180)") ||
        num_arg(r, "priority", 1, 3, &prio, false, "1 (most urgent), 2 or 3") ||
        num_arg(r, "limit", 1, 20, &limit, false, "from 1 to 20"))
        return;
    if (prio != (int)prio || limit != (int)limit) {
        bp_req_error(r, 400, "bad_request", "priority and limit must be whole numbers");
        return;
    }
    char cat[24];
    int n = bp_http_arg(r->query, r->query_len, "category", cat, sizeof cat);
    int c = n >= 0 ? bp_category_parse(cat, (size_t)n) : BP_CAT_OTHER;
    if (c < 0 || n == -2) {
        bp_req_error(r, 400, "bad_request",
                     "category must be one of trauma, stroke, cardiac, obstetric, pediatric, burn, "
                     "respiratory, psychiatric, other");
        return;
    }
    uint32_t places;
    if (needs_arg(r, &places)) return;
    int *inbound = inbound_now(r);
    if (!inbound) return;
    bp_rec_query_t q;
    bp_candidate_t out[20];
    size_t k = bp_rank(app, lat, lon, (int)prio, (bp_category_t)c, places, inbound, &q, out,
                       (size_t)limit);
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "query");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "lat");
    bp_jw_num(&w, lat, 5);
    BP_JW_KEY(&w, "lon");
    bp_jw_num(&w, lon, 5);
    BP_JW_KEY(&w, "category");
    bp_jw_cstr(&w, bp_category_name((bp_category_t)c));
    BP_JW_KEY(&w, "priority");
    bp_jw_int(&w, (int)prio);
    BP_JW_KEY(&w, "bed_types");
    bp_jw_arr(&w);
    for (int i = 0; i < q.need.n_beds; i++)
        bp_jw_cstr(&w, bp_bed_type_name((bp_bed_type_t)q.need.beds[i]));
    bp_jw_end(&w);
    BP_JW_KEY(&w, "specialties");
    bp_jw_arr(&w);
    for (int s = 0; s < BP_SPEC__COUNT; s++)
        if (q.need.specialties >> s & 1) bp_jw_cstr(&w, bp_specialty_name((bp_specialty_t)s));
    bp_jw_end(&w);
    BP_JW_KEY(&w, "services");
    bp_jw_arr(&w);
    for (int s = 0; s < BP_SVC__COUNT; s++)
        if (q.need.services >> s & 1) bp_jw_cstr(&w, bp_service_name((bp_service_t)s));
    bp_jw_end(&w);
    BP_JW_KEY(&w, "needs");
    bp_jw_arr(&w);
    for (int p = 0; p < BP_PLACE__COUNT; p++)
        if (q.need.places >> p & 1) bp_jw_cstr(&w, bp_place_name((bp_place_t)p));
    bp_jw_end(&w);
    BP_JW_KEY(&w, "at");
    bp_jw_time(&w, q.now_ms);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "candidates");
    bp_jw_splice(&w);
    bp_rank_write(&r->resp.body, reg, &q, out, k);
    bp_jw_end(&w);
    free(inbound);
}

/* -- open incidents ------------------------------------------------------------------------ */

#define INCIDENT_CANDIDATES 3 /* destinations recommended with each incident */

/* One incident with its recommendation. */
static void write_incident(bp_app_t *app, bp_jw_t *w, const bp_incident_state_t *inc,
                           const int *inbound) {
    bp_rec_query_t q;
    bp_candidate_t out[INCIDENT_CANDIDATES];
    size_t k = bp_rank(app, inc->lat, inc->lon, inc->priority, inc->category, 0, inbound, &q, out,
                       INCIDENT_CANDIDATES);
    bp_jw_obj(w);
    bp_jw_splice(w);
    bp_state_write_incident_members(w->b, inc);
    BP_JW_KEY(w, "recommend");
    bp_jw_splice(w);
    bp_rank_write(w->b, &app->cfg.registry, &q, out, k);
    bp_jw_end(w);
}

/* GET /api/v1/incidents (id NULL) and /api/v1/incidents/{id}. */
static void list_incidents(bp_req_t *r, const char *id, size_t idl) {
    bp_app_t *app = r->app;
    if (!bp_req_state_loaded(r)) return;
    int one = -1;
    if (id) {
        char key[BP_INCIDENT_MAX + 1];
        snprintf(key, sizeof key, "%.*s", (int)idl, id);
        one = bp_is_incident_id(id, idl) ? bp_state_incident_find(app->state, key) : -1;
        if (one < 0) {
            bp_req_error(r, 404, "unknown_incident", "no open incident with this id");
            return;
        }
    }
    int *inbound = inbound_now(r);
    if (!inbound) return;
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    if (one >= 0) {
        write_incident(app, &w, bp_state_incident(app->state, (size_t)one), inbound);
    } else {
        bp_jw_arr(&w);
        for (size_t i = 0; i < bp_state_incident_count(app->state); i++)
            write_incident(app, &w, bp_state_incident(app->state, i), inbound);
        bp_jw_end(&w);
    }
    free(inbound);
}

/* Per hospital: ambulances inbound and at the door, handover times. */
void bp_api_handover_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_registry_t *reg = &app->cfg.registry;
    int64_t now = bp_time_now_ms();
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "at");
    bp_jw_time(&w, now);
    BP_JW_KEY(&w, "hospitals");
    bp_jw_arr(&w);
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        bp_handover_figures_t f;
        bp_handover_figures(app->handover, i, now, &f);
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "id");
        bp_jw_cstr(&w, reg->hospitals[i].id);
        BP_JW_KEY(&w, "inbound");
        bp_jw_int(&w, f.inbound);
        BP_JW_KEY(&w, "waiting");
        bp_jw_int(&w, f.waiting);
        BP_JW_KEY(&w, "longest_wait_min");
        bp_jw_num(&w, (double)f.longest_wait_ms / 60000.0, 1);
        BP_JW_KEY(&w, "handovers");
        bp_jw_int(&w, f.samples);
        BP_JW_KEY(&w, "median_min");
        bp_jw_num_or_null(&w, f.median_ms >= 0, (double)f.median_ms / 60000.0, 1);
        BP_JW_KEY(&w, "offload");
        bp_jw_cstr(&w, f.delayed ? "delayed" : "normal");
        BP_JW_KEY(&w, "inbound_units");
        bp_jw_arr(&w);
        /* each ambulance on its way, with its ETA from where it last was */
        const bp_hospital_info_t *hi = &reg->hospitals[i];
        for (size_t u = 0; u < reg->n_units; u++) {
            const bp_ambulance_state_t *a = bp_state_ambulance(app->state, u);
            if (a->status != BP_AMB_TRANSPORTING || strcmp(a->destination, hi->id) != 0) continue;
            bp_jw_obj(&w);
            BP_JW_KEY(&w, "id");
            bp_jw_cstr(&w, reg->units[u].id);
            BP_JW_KEY(&w, "eta_min");
            if (a->has_position)
                bp_jw_num(&w,
                          bp_travel_min(&app->cfg.dispatch,
                                        bp_distance_km(a->lat, a->lon, hi->lat, hi->lon), now),
                          1);
            else
                bp_jw_null(&w);
            bp_jw_end(&w);
        }
        bp_jw_end(&w);
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    bp_jw_end(&w);
}

void bp_api_incidents_get(bp_req_t *r) {
    list_incidents(r, NULL, 0);
}

void bp_api_incident_get(bp_req_t *r) {
    const char *id = r->path + strlen("/api/v1/incidents/");
    list_incidents(r, id, strlen(id));
}
