/*
 * The reads of the city's figures (routes.c), answered from the in-memory
 * state without a Redis round trip: hospitals, one hospital (with its
 * version as ETag), ambulances, the summary, the trend history and the
 * 24-hour outlook.
 */
#include "bp_registry.h"
#include "bp_time.h"
#include "handlers.h"
#include "history.h"
#include "outlook.h"

#include <stdio.h>
#include <string.h>

/* GET /api/v1/history?series=&hours= */
void bp_api_history_get(bp_req_t *r) {
    bp_http_resp_t *o = &r->resp;
    char series[64], hours[16];
    const char *se = bp_req_arg(r, "series", series, sizeof series);
    const char *ho = bp_req_arg(r, "hours", hours, sizeof hours);
    if (r->decided) return;
    o->status = bp_history_query(r->app->history, se, ho, bp_time_now_ms(), &o->body);
}

/* GET /api/v1/outlook[?hospital=] */
void bp_api_outlook_get(bp_req_t *r) {
    char hospital[64];
    const char *h = bp_req_arg(r, "hospital", hospital, sizeof hospital);
    if (r->decided) return;
    r->resp.status = bp_outlook_srv_query(r->app->outlook, h, &r->resp.body);
}

/* GET /api/v1/hospitals[?scope=mine] */
void bp_api_hospitals_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    int64_t now = bp_time_now_ms();
    const bp_registry_t *reg = &app->cfg.registry;
    bp_http_resp_t *o = &r->resp;
    const bp_principal_t *p = r->principal;
    char scope[8];
    const char *sc = bp_req_arg(r, "scope", scope, sizeof scope);
    if (r->decided) return;
    if (!sc) {
        bp_state_write_hospitals(&o->body, app->state, now);
    } else if (strcmp(sc, "mine") == 0) {
        /* ?scope=mine: the hospitals this token may change (a manager's
         * page needs hers, not the city) */
        static uint64_t mine[BP_REGISTRY_MAX / 64];
        memset(mine, 0, sizeof mine);
        int anon = bp_auth_anonymous_role(app->cfg.settings.auth_anonymous);
        for (size_t i = 0; i < reg->n_hospitals; i++)
            if (bp_auth_allows(p, anon, BP_ACT_WRITE_HOSPITAL, (int)i, now))
                mine[i / 64] |= (uint64_t)1 << (i % 64);
        bp_state_write_hospitals_in(&o->body, app->state, now, mine);
    } else {
        bp_req_error(r, 400, "bad_request", "scope must be \"mine\" (or absent: all hospitals)");
    }
}

/* GET /api/v1/hospitals/{id} (and any other path under it: then the id is
 * not a hospital's). Who asks is checked first, then whether the state is
 * loaded, then the read right on this hospital. */
void bp_api_hospital_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_registry_t *reg = &app->cfg.registry;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided || !bp_req_state_loaded(r)) return;
    const char *id = r->path + strlen("/api/v1/hospitals/");
    int i = bp_is_slug(id, strlen(id)) ? bp_registry_hospital(reg, id, strlen(id)) : -1;
    if (!bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, i)) return;
    if (i < 0) {
        bp_req_error(r, 404, "unknown_hospital", "no hospital with this id");
        return;
    }
    bp_state_write_hospital(&r->resp.body, app->state, (size_t)i, bp_time_now_ms());
    snprintf(r->etag, sizeof r->etag, "\"%llu\"",
             (unsigned long long)bp_state_hospital(app->state, (size_t)i)->version);
}

/* GET /api/v1/ambulances */
void bp_api_ambulances_get(bp_req_t *r) {
    bp_state_write_ambulances(&r->resp.body, r->app->state);
}

/* GET /api/v1/summary */
void bp_api_summary_get(bp_req_t *r) {
    bp_state_write_summary(&r->resp.body, r->app->state, bp_time_now_ms());
}

/* Any other path under /api: GET is a read of nothing (who asks is still
 * checked first), anything else 405. */
void bp_api_other(bp_req_t *r) {
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
        bp_req_error(r, 405, "method_not_allowed", "this resource answers GET only");
        return;
    }
    bp_req_principal(r);
    if (r->decided || !bp_req_state_loaded(r)) return;
    bp_req_error(r, 404, "not_found", "no such resource");
}
