/*
 * The route table and its dispatcher (routes.h). Every route of the HTTP
 * side is one row below; nothing else in the server matches paths.
 *
 * A request goes through, in this order: the body limit (413); the first
 * row whose path template matches (none: 404); unless the row is OPEN, the
 * rate per client address (429) and, for requests that change data, the
 * Origin (403); the row's guard (an MCI id, a service that must be
 * running); the method, among the rows of that same template (405 with the
 * first row's text); then, when the row declares an action, who asks (401)
 * [, whether the state is loaded (503)] and whether that role may do it
 * (401/403), and the handler. Rows with AUTH_HANDLER check who asks
 * themselves: their right depends on the hospital named, or on more than
 * the role.
 *
 * Per-route metrics keep their names: they come from bp_route_of
 * (core/bp_route.c), which names a path by the same templates.
 */
#include "routes.h"
#include "bp_rate.h"
#include "bp_route.h"
#include "bp_time.h"
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#define AUTH_HANDLER (-1) /* the handler checks who asks */

typedef enum { BODY_NONE, BODY_JSON, BODY_CSV, BODY_FEED } body_t;

typedef struct {
    const char *method;         /* "GET" also takes HEAD; "*": any (the handler checks) */
    const char *path;           /* template: {x} one segment, {*} the rest */
    int action;                 /* bp_action_t checked before the handler, or AUTH_HANDLER */
    unsigned flags;             /* BP_RT_* */
    body_t body;                /* what the body holds; BODY_FEED: the feed's larger limit */
    bool (*guard)(bp_req_t *r); /* before the method check; false: decided */
    const char *not_allowed;    /* the 405 text (the first row of a template) */
    void (*handler)(bp_req_t *r);
} route_t;

#define GET_ONLY "this resource answers GET only"
/* The most common row: a read, GET only, no body, no guard. */
#define GET_ROW(path, action, flags, handler)                                                      \
    { "GET", path, action, flags, BODY_NONE, NULL, GET_ONLY, handler }

static const route_t table[] = {
    /* probes and the config every page reads first */
    GET_ROW("/healthz", AUTH_HANDLER, BP_RT_OPEN, bp_api_healthz),
    GET_ROW("/readyz", AUTH_HANDLER, BP_RT_OPEN, bp_api_readyz),
    GET_ROW("/metrics", AUTH_HANDLER, BP_RT_OPEN, bp_api_metrics),
    GET_ROW("/api/v1/config", AUTH_HANDLER, BP_RT_OPEN, bp_api_config),
    /* open to all and served from bytes made once: before the rate limit */
    GET_ROW("/api/v1/public", AUTH_HANDLER, BP_RT_OPEN, bp_api_public_get),
    GET_ROW("/api/v1/public/daily.csv", AUTH_HANDLER, BP_RT_OPEN, bp_api_public_get),
    GET_ROW("/api/v1/public/daily.json", AUTH_HANDLER, BP_RT_OPEN, bp_api_public_get),

    /* mass-casualty incidents (mci.c) */
    {"GET", "/api/v1/mci", BP_ACT_READ_HOSPITALS, 0, BODY_NONE, NULL,
     "GET the list, POST to declare", bp_api_mci_list},
    {"POST", "/api/v1/mci", BP_ACT_READ_AMBULANCES, 0, BODY_JSON, NULL, NULL, bp_api_mci_declare},
    {"GET", "/api/v1/mci/{id}", BP_ACT_READ_HOSPITALS, 0, BODY_NONE, bp_api_mci_id_ok, GET_ONLY,
     bp_api_mci_get},
    {"PUT", "/api/v1/mci/{id}/answers/{*}", AUTH_HANDLER, 0, BODY_JSON, bp_api_mci_id_ok,
     "answer with PUT", bp_api_mci_answer},
    {"POST", "/api/v1/mci/{id}/patients", BP_ACT_READ_AMBULANCES, 0, BODY_JSON, bp_api_mci_id_ok,
     "record a patient with POST", bp_api_mci_patient},
    {"POST", "/api/v1/mci/{id}/close", BP_ACT_READ_AMBULANCES, 0, BODY_NONE, bp_api_mci_id_ok,
     "close with POST", bp_api_mci_close},
    {"*", "/api/v1/mci/{*}", AUTH_HANDLER, 0, BODY_NONE, bp_api_mci_id_ok, NULL, bp_api_mci_other},

    /* exports for other systems, the collectors' sources (export.c) */
    GET_ROW("/api/v1/export/have", AUTH_HANDLER, 0, bp_api_export_get),
    GET_ROW("/api/v1/export/fhir", AUTH_HANDLER, 0, bp_api_export_get),
    GET_ROW("/api/v1/export/geojson", AUTH_HANDLER, 0, bp_api_export_get),
    GET_ROW("/api/v1/export/csv", AUTH_HANDLER, 0, bp_api_export_get),
    GET_ROW("/api/v1/history.csv", AUTH_HANDLER, 0, bp_api_history_csv_get),
    GET_ROW("/api/v1/sources", BP_ACT_READ_SOURCES, 0, bp_api_sources_get),

    /* feed lines over HTTP (feed.c): a feed token */
    {"POST", "/api/v1/feed", AUTH_HANDLER, 0, BODY_FEED, NULL, "the feed takes POST",
     bp_api_feed_post},

    /* browser sessions (sessions.c) */
    {"POST", "/api/v1/session", AUTH_HANDLER, 0, BODY_JSON, NULL,
     "use POST to sign in, GET, or DELETE to sign out", bp_api_session_post},
    {"GET", "/api/v1/session", AUTH_HANDLER, 0, BODY_NONE, NULL, NULL, bp_api_session_get},
    {"DELETE", "/api/v1/session", AUTH_HANDLER, 0, BODY_NONE, NULL, NULL, bp_api_session_delete},

    /* alerts, acknowledgements and mutes (alerting.c) */
    GET_ROW("/api/v1/alerts", BP_ACT_READ_HOSPITALS, 0, bp_api_alerts_get),
    {"POST", "/api/v1/alerts/mutes", BP_ACT_READ_AMBULANCES, 0, BODY_JSON, bp_api_alerts_ready,
     "mute with POST", bp_api_mute_post},
    {"DELETE", "/api/v1/alerts/mutes/{*}", BP_ACT_READ_AMBULANCES, 0, BODY_NONE,
     bp_api_alerts_ready, "end a mute with DELETE", bp_api_mute_delete},
    {"POST", "/api/v1/alerts/{*}/ack", BP_ACT_READ_AMBULANCES, 0, BODY_NONE, bp_api_alert_ack_ok,
     "acknowledge with POST", bp_api_alert_ack},
    {"*", "/api/v1/alerts/{*}", AUTH_HANDLER, 0, BODY_NONE, NULL, NULL, bp_api_alerts_other},

    /* subscriptions and dead letters (subscriptions.c) */
    {"GET", "/api/v1/subscriptions", AUTH_HANDLER, 0, BODY_NONE, bp_api_notifier_ready,
     "list with GET, make one with POST", bp_api_subscriptions_get},
    {"POST", "/api/v1/subscriptions", AUTH_HANDLER, 0, BODY_JSON, bp_api_notifier_ready, NULL,
     bp_api_subscriptions_post},
    {"DELETE", "/api/v1/subscriptions/{*}", AUTH_HANDLER, 0, BODY_NONE, bp_api_notifier_ready,
     "end a subscription with DELETE", bp_api_subscription_delete},
    {"GET", "/api/v1/notify/dead-letters", BP_ACT_READ_AUDIT, 0, BODY_NONE, bp_api_notifier_ready,
     GET_ONLY, bp_api_dead_letters_get},

    /* what a dispatcher reads (dispatch_reads.c) */
    GET_ROW("/api/v1/handover", BP_ACT_READ_AMBULANCES, 0, bp_api_handover_get),
    {"GET", "/api/v1/incidents", BP_ACT_READ_AMBULANCES, 0, BODY_NONE, NULL,
     "incidents answer GET only (they change through the CAD feed)", bp_api_incidents_get},
    {"GET", "/api/v1/incidents/{*}", BP_ACT_READ_AMBULANCES, 0, BODY_NONE, NULL,
     "incidents answer GET only (they change through the CAD feed)", bp_api_incident_get},
    GET_ROW("/api/v1/recommend", BP_ACT_READ_AMBULANCES, 0, bp_api_recommend_get),

    /* the audit trail (audit.c) */
    GET_ROW("/api/v1/audit", BP_ACT_READ_AUDIT, 0, bp_api_audit_get),

    /* hospitals: reads (reads.c), a manager's writes (writes.c, import.c) */
    GET_ROW("/api/v1/hospitals", BP_ACT_READ_HOSPITALS, BP_RT_LOADED, bp_api_hospitals_get),
    {"POST", "/api/v1/hospitals/{id}/import", AUTH_HANDLER, BP_RT_IF_MATCH, BODY_CSV, NULL,
     "import answers POST only", bp_api_import_post},
    {"POST", "/api/v1/hospitals/{id}/confirm", AUTH_HANDLER, BP_RT_IF_MATCH, BODY_NONE, NULL,
     "confirming a hospital's figures answers POST only", bp_api_hospital_confirm},
    {"GET", "/api/v1/hospitals/{id}", AUTH_HANDLER, 0, BODY_NONE, NULL,
     "a hospital answers GET and PATCH", bp_api_hospital_get},
    {"PATCH", "/api/v1/hospitals/{id}", AUTH_HANDLER, BP_RT_IF_MATCH, BODY_JSON, NULL, NULL,
     bp_api_hospital_patch},
    {"*", "/api/v1/hospitals/{*}", AUTH_HANDLER, BP_RT_IF_MATCH, BODY_JSON, NULL, NULL,
     bp_api_hospital_other},
    GET_ROW("/api/v1/ambulances", BP_ACT_READ_AMBULANCES, BP_RT_LOADED, bp_api_ambulances_get),
    GET_ROW("/api/v1/summary", BP_ACT_READ_SUMMARY, BP_RT_LOADED, bp_api_summary_get),
    GET_ROW("/api/v1/history", BP_ACT_READ_HOSPITALS, BP_RT_LOADED, bp_api_history_get),
    GET_ROW("/api/v1/outlook", BP_ACT_READ_HOSPITALS, BP_RT_LOADED, bp_api_outlook_get),

    /* anything else under /api */
    {"*", "/api/{*}", AUTH_HANDLER, 0, BODY_NONE, NULL, NULL, bp_api_other},
};

#define N_ROUTES (sizeof table / sizeof *table)

static const route_t *find(const char *path) {
    for (size_t i = 0; i < N_ROUTES; i++)
        if (bp_route_match(table[i].path, path)) return &table[i];
    return NULL;
}

static bool method_is(const char *want, const char *method) {
    return strcmp(want, "*") == 0 || strcmp(want, method) == 0 ||
           (strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* The row of rt's template for the request's method, NULL when none. */
static const route_t *with_method(const route_t *rt, const char *method) {
    for (const route_t *e = rt; e < table + N_ROUTES; e++)
        if (strcmp(e->path, rt->path) == 0 && method_is(e->method, method)) return e;
    return NULL;
}

long long bp_routes_body_limit(const bp_app_t *app, const char *path) {
    const route_t *rt = find(path);
    return rt && rt->body == BODY_FEED ? app->cfg.settings.server_feed_max_body_bytes
                                       : app->cfg.settings.server_max_body_bytes;
}

/* Runs row e: its action checked first when it declares one. */
static void run(bp_req_t *r, const route_t *e) {
    r->route_flags = e->flags;
    if (e->action != AUTH_HANDLER) {
        const bp_principal_t *p = bp_req_principal(r);
        if (r->decided) return;
        if ((e->flags & BP_RT_LOADED) && !bp_req_state_loaded(r)) return;
        if (!bp_req_allow(r, p, (bp_action_t)e->action, -1)) return;
        r->principal = p;
    }
    e->handler(r);
}

void bp_routes_dispatch(bp_req_t *r) {
    bp_app_t *app = r->app;
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    r->resp.status = 200;
    r->resp.content_type = "application/json; charset=utf-8";
    const route_t *rt = find(r->path), *e;
    int64_t retry;

    if (r->too_big) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request body is larger than %lld bytes",
                 bp_routes_body_limit(app, r->path));
        bp_req_error(r, 413, "too_large", msg);
    } else if (!rt) {
        bp_req_error(r, 404, "not_found", "no such resource");
    } else if (!(rt->flags & BP_RT_OPEN) &&
               !bp_rate_take(app->rate_api, r->addr, bp_time_now_ms(), &retry)) {
        r->retry_after_s = (int)((retry + 999) / 1000);
        bp_req_error(r, 429, "rate_limited",
                     "too many requests from this address; wait and retry (see Retry-After)");
    } else if (!(rt->flags & BP_RT_OPEN) && r->has_origin && !r->origin_ok && !get) {
        /* a page elsewhere must not act with the user's cookie */
        bp_req_error(r, 403, "bad_origin", "requests that change data must come from this site");
    } else if (rt->guard && !rt->guard(r)) {
        /* decided by the guard */
    } else if (!(e = with_method(rt, r->method))) {
        bp_req_error(r, 405, "method_not_allowed", rt->not_allowed);
    } else {
        run(r, e);
        if (r->pending) return;
    }
    bp_req_done(r);
}
