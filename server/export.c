/*
 * Exports for other systems (docs/interop.md), all answered from the
 * in-memory state without a Redis round trip:
 *
 *   GET /api/v1/export/have[?hospital=]     EDXL-HAVE 1.0 (application/xml)
 *   GET /api/v1/export/fhir[?hospital=]     FHIR R4 Bundle (application/fhir+json)
 *   GET /api/v1/export/geojson[?hospital=]  GeoJSON FeatureCollection
 *   GET /api/v1/export/csv[?hospital=]      one row per hospital and bed type
 *   GET /api/v1/history.csv?hospital=&from=&to=&step=   trend per bed type
 *
 * and, from Redis, GET /api/v1/sources: the collectors' pollers and how
 * their last polls went (admin).
 *
 * Who may read: the per-hospital exports need hospital reads (wall,
 * manager, dispatcher, admin); the city's history (history.csv without
 * hospital) is an aggregate, which `public` may read too.
 */
#include "bp_export.h"
#include "bp_fhir.h"
#include "bp_havexml.h"
#include "bp_httputil.h"
#include "bp_jw.h"
#include "bp_pollstatus.h"
#include "bp_time.h"
#include "history.h"
#include "handlers.h"

#include <stdlib.h>
#include <string.h>

#define STEP_MAX_S (30 * 86400)

/* The state is loaded (baselines alone are not figures); else 503. */
static bool loaded(bp_req_t *r) {
    if (bp_reader_offset(r->app->reader) == 0 && !bp_reader_ready(r->app->reader)) {
        bp_req_error(r, 503, "not_ready", "the server has not loaded the current state yet");
        r->retry_after_s = 1;
        return false;
    }
    return true;
}

/* ?hospital=<id>: its index into *out, -1 when absent; false when a 4xx
 * was decided. */
static bool hospital_arg(bp_req_t *r, int *out) {
    char id[BP_ID_MAX + 2];
    int n = bp_http_arg(r->query, r->query_len, "hospital", id, sizeof id);
    *out = -1;
    if (n == -1) return true;
    *out = n > 0 && bp_is_slug(id, (size_t)n)
               ? bp_registry_hospital(&r->app->cfg.registry, id, (size_t)n)
               : -1;
    if (*out < 0) {
        bp_req_error(r, 404, "unknown_hospital", "hospital must be the id of a known hospital");
        return false;
    }
    return true;
}

void bp_api_export_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    const char *what = r->path + strlen("/api/v1/export/");
    const bp_principal_t *p = bp_req_principal(r);
    int only;
    if (r->decided || !hospital_arg(r, &only) || !bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, only) ||
        !loaded(r))
        return;
    int64_t now = bp_time_now_ms();
    bp_http_resp_t *o = &r->resp;
    if (strcmp(what, "have") == 0) {
        o->content_type = "application/xml; charset=utf-8";
        bool hit;
        int n = only < 0 ? bp_havexml_write_all(app->have_cache, &o->body, app->state,
                                                app->handover, now, &hit)
                         : bp_havexml_write(&o->body, app->state, app->handover, only, now);
        if (n < 0)
            bp_req_error(r, 500, "internal", "the HAVE document could not be written");
        else if (n == 0)
            bp_req_error(r, 404, "not_reported",
                         only >= 0 ? "this hospital has not reported yet (HAVE needs a report time)"
                                   : "no hospital has reported yet");
    } else if (strcmp(what, "fhir") == 0) {
        o->content_type = "application/fhir+json; fhirVersion=4.0; charset=utf-8";
        bp_fhir_write_bundle(&o->body, app->state, only, now);
    } else if (strcmp(what, "geojson") == 0) {
        o->content_type = "application/geo+json; charset=utf-8";
        bp_export_geojson(&o->body, app->state, only, now);
    } else {
        o->content_type = "text/csv; charset=utf-8; header=present";
        bp_export_csv(&o->body, app->state, only, now);
    }
}

void bp_api_history_csv_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_principal_t *p = bp_req_principal(r);
    int only;
    if (r->decided || !hospital_arg(r, &only)) return;
    /* the city's history is an aggregate; a hospital's is not */
    if (!bp_req_allow(r, p, only < 0 ? BP_ACT_READ_SUMMARY : BP_ACT_READ_HOSPITALS, only)) return;
    int64_t now = bp_time_now_ms(), from = now - 24 * 3600 * 1000LL, to = now;
    if (bp_req_time_arg(r, "from", &from) || bp_req_time_arg(r, "to", &to)) return;
    char step[16];
    int n = bp_http_arg(r->query, r->query_len, "step", step, sizeof step);
    long long step_s = 0;
    if (n != -1) {
        char *end;
        step_s = n > 0 ? strtoll(step, &end, 10) : -1;
        if (n <= 0 || *end || step_s < 1 || step_s > STEP_MAX_S) {
            bp_req_error(r, 400, "bad_request",
                         "step must be a number of seconds from 1 to 2592000");
            return;
        }
    }
    if (from > to) {
        bp_req_error(r, 400, "bad_request", "from must not be later than to");
        return;
    }
    const struct bp_series *s = bp_history_series(app->history, only);
    r->resp.content_type = "text/csv; charset=utf-8; header=present";
    bp_export_history_csv(&r->resp.body, s,
                          only < 0 ? "city" : app->cfg.registry.hospitals[only].id, from, to,
                          step_s * 1000);
}

/* -- the pollers' status (Redis) ------------------------------------------------ */

static void on_sources(void *data, bool ok, const bp_poll_status_t *items, size_t n) {
    bp_req_t *r = data;
    if (!ok) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable",
                     "the pollers' status cannot be read now; retry shortly");
        bp_req_done(r);
        return;
    }
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "sources");
    bp_jw_arr(&w);
    for (size_t i = 0; i < n; i++) /* written by our collector: JSON objects */
        bp_jw_raw(&w, items[i].json, items[i].len);
    bp_jw_end(&w);
    bp_jw_end(&w);
    bp_req_done(r);
}

void bp_api_sources_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    if (bp_pollstatus_read(bp_apply_redis(app->apply), app->cfg.settings.redis_prefix, on_sources,
                           r)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; retry shortly");
        return;
    }
    r->pending = true;
}
