/*
 * The probes and what every page reads first (routes.c): GET /healthz,
 * /readyz, /metrics (Prometheus text) and /api/v1/config.
 */
#include "alerting.h"
#include "feed.h"
#include "bp_jw.h"
#include "bp_procstat.h"
#include "bp_registry.h"
#include "bp_time.h"
#include "handlers.h"
#include "history.h"
#include "notifier.h"
#include "public.h"

#include <stdio.h>
#include <string.h>

/* What a health department's monitoring wants to page on: hospitals whose
 * reports are late or stale, the oldest report's age, open alerts. */
static void domain_metrics(bp_app_t *app, bp_buf_t *o) {
    const bp_registry_t *reg = &app->cfg.registry;
    int64_t now = bp_time_now_ms();
    size_t count[4] = {0, 0, 0, 0};
    int64_t oldest = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_state_t *hs = bp_state_hospital(app->state, i);
        bp_freshness_t f = bp_freshness(hs->at_ms, reg->hospitals[i].report_interval_s, now);
        count[f]++;
        if (hs->at_ms && (oldest == 0 || hs->at_ms < oldest)) oldest = hs->at_ms;
    }
    bp_buf_puts(o, "# HELP bedpulse_hospitals Hospitals by the freshness of their last report.\n"
                   "# TYPE bedpulse_hospitals gauge\n");
    for (int f = 0; f < 4; f++)
        bp_buf_printf(o, "bedpulse_hospitals{freshness=\"%s\"} %zu\n",
                      bp_freshness_name((bp_freshness_t)f), count[f]);
    bp_buf_printf(o,
                  "# HELP bedpulse_oldest_report_age_seconds Age of the oldest hospital report "
                  "held (0: none yet).\n"
                  "# TYPE bedpulse_oldest_report_age_seconds gauge\n"
                  "bedpulse_oldest_report_age_seconds %.3f\n"
                  "# HELP bedpulse_alerts_open Alerts raised and not cleared.\n"
                  "# TYPE bedpulse_alerts_open gauge\nbedpulse_alerts_open %zu\n",
                  oldest ? (double)(now - oldest) / 1000.0 : 0.0, bp_alerts_count(app->alerts));
}

static void metrics(bp_app_t *app, bp_buf_t *o) {
    bp_process_metrics(o, "server", app->started_ms);
    domain_metrics(app, o);
    bp_feed_metrics(app, o);
    bp_reqstats_write(o, "bedpulse_http_request_duration_seconds",
                      "HTTP requests by route and status, and the time to answer them.",
                      &app->http_stats);
    bp_hub_metrics(app->hub, o);
    bp_notifier_metrics(app->notifier, o);
    bp_public_metrics(app->pub, o);
    bp_alerting_stats_t als;
    bp_alerting_stats(app, &als);
    bp_buf_printf(
        o,
        "# HELP bedpulse_alert_records Alerts open, as grouped and shown (all servers).\n"
        "# TYPE bedpulse_alert_records gauge\nbedpulse_alert_records %zu\n"
        "# HELP bedpulse_alert_events_total Notification events this server appended.\n"
        "# TYPE bedpulse_alert_events_total counter\nbedpulse_alert_events_total %llu\n"
        "# HELP bedpulse_alert_conflicts_total Alert changes another server made first.\n"
        "# TYPE bedpulse_alert_conflicts_total counter\nbedpulse_alert_conflicts_total %llu\n",
        als.open, (unsigned long long)als.events, (unsigned long long)als.conflicts);
    bp_history_stats_t hs;
    bp_history_stats(app->history, &hs);
    bp_buf_printf(o,
                  "# HELP bedpulse_history_samples_written_total Trend samples this server wrote.\n"
                  "# TYPE bedpulse_history_samples_written_total counter\n"
                  "bedpulse_history_samples_written_total %llu\n"
                  "# HELP bedpulse_history_points_loaded_total Trend points read from Redis.\n"
                  "# TYPE bedpulse_history_points_loaded_total counter\n"
                  "bedpulse_history_points_loaded_total %llu\n",
                  (unsigned long long)hs.samples_written, (unsigned long long)hs.samples_loaded);
    bp_buf_printf(o,
                  "# HELP bedpulse_incidents_open Open 115 incidents held in memory.\n"
                  "# TYPE bedpulse_incidents_open gauge\nbedpulse_incidents_open %zu\n"
                  "# HELP bedpulse_incidents_dropped_total Incident creates not held: the table "
                  "was full (stream.max_open_incidents differs from the collector's?).\n"
                  "# TYPE bedpulse_incidents_dropped_total counter\n"
                  "bedpulse_incidents_dropped_total %llu\n",
                  bp_state_incident_count(app->state),
                  (unsigned long long)bp_state_incidents_dropped(app->state));
    bp_reader_stats_t rs;
    bp_reader_stats(app->reader, &rs);
    bp_apply_stats_t as;
    bp_apply_stats(app->apply, &as);
    bp_buf_printf(o,
                  "# HELP bedpulse_reloads_total Snapshot loads from Redis.\n"
                  "# TYPE bedpulse_reloads_total counter\nbedpulse_reloads_total %llu\n"
                  "# HELP bedpulse_redis_reconnects_total Redis connections lost.\n"
                  "# TYPE bedpulse_redis_reconnects_total counter\n"
                  "bedpulse_redis_reconnects_total %llu\n"
                  "# HELP bedpulse_bad_events_total Stream entries that could not be read.\n"
                  "# TYPE bedpulse_bad_events_total counter\nbedpulse_bad_events_total %llu\n"
                  "# HELP bedpulse_history_rewrites_total Failovers that lost stream entries this "
                  "server had read (a new epoch followed).\n"
                  "# TYPE bedpulse_history_rewrites_total counter\n"
                  "bedpulse_history_rewrites_total %llu\n"
                  "# HELP bedpulse_writes_not_replicated_total Manager writes answered 503 because "
                  "fewer than redis.min_replicas_ack replicas confirmed them in time.\n"
                  "# TYPE bedpulse_writes_not_replicated_total counter\n"
                  "bedpulse_writes_not_replicated_total %llu\n"
                  "# HELP bedpulse_ready Whether the server follows the stream (1) or not (0).\n"
                  "# TYPE bedpulse_ready gauge\nbedpulse_ready %d\n"
                  "# HELP bedpulse_http_requests_total HTTP API requests.\n"
                  "# TYPE bedpulse_http_requests_total counter\n"
                  "bedpulse_http_requests_total %llu\n"
                  "# HELP bedpulse_http_errors_total HTTP API requests answered with 4xx/5xx.\n"
                  "# TYPE bedpulse_http_errors_total counter\nbedpulse_http_errors_total %llu\n",
                  (unsigned long long)rs.reloads, (unsigned long long)rs.redis_reconnects,
                  (unsigned long long)rs.bad_events, (unsigned long long)rs.rewrites,
                  (unsigned long long)as.not_replicated, bp_reader_ready(app->reader) ? 1 : 0,
                  (unsigned long long)app->http_requests, (unsigned long long)app->http_errors);
    bp_buf_printf(
        o,
        "# HELP bedpulse_http_denied_total API requests refused by who asked.\n"
        "# TYPE bedpulse_http_denied_total counter\n"
        "bedpulse_http_denied_total{status=\"401\"} %llu\n"
        "bedpulse_http_denied_total{status=\"403\"} %llu\n"
        "bedpulse_http_denied_total{status=\"429\"} %llu\n"
        "# HELP bedpulse_writes_total Manager writes by outcome.\n"
        "# TYPE bedpulse_writes_total counter\n"
        "bedpulse_writes_total{outcome=\"ok\"} %llu\n"
        "bedpulse_writes_total{outcome=\"conflict\"} %llu\n"
        "bedpulse_writes_total{outcome=\"invalid\"} %llu\n"
        "# HELP bedpulse_sessions_created_total Browser sessions signed in.\n"
        "# TYPE bedpulse_sessions_created_total counter\n"
        "bedpulse_sessions_created_total %llu\n"
        "# HELP bedpulse_sign_in_failures_total Sign-ins with a token that is not valid.\n"
        "# TYPE bedpulse_sign_in_failures_total counter\n"
        "bedpulse_sign_in_failures_total %llu\n",
        (unsigned long long)app->http_unauthorized, (unsigned long long)app->http_forbidden,
        (unsigned long long)app->http_limited, (unsigned long long)app->writes_ok,
        (unsigned long long)app->writes_conflict, (unsigned long long)app->writes_invalid,
        (unsigned long long)app->sessions_created, (unsigned long long)app->sign_in_failures);
    /* tests wait for it to advance to know the rules have seen a change */
    bp_buf_printf(o,
                  "# HELP bedpulse_alert_evaluations_total Passes of the alert rules over the "
                  "state (once a second while the server follows the stream, and right after a "
                  "batch of events).\n"
                  "# TYPE bedpulse_alert_evaluations_total counter\n"
                  "bedpulse_alert_evaluations_total %llu\n",
                  (unsigned long long)app->alert_evaluations);
}

/* GET /healthz */
void bp_api_healthz(bp_req_t *r) {
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "status");
    bp_jw_cstr(&w, "ok");
    BP_JW_KEY(&w, "uptime_s");
    bp_jw_int(&w, (bp_time_now_ms() - r->app->started_ms) / 1000);
    bp_jw_end(&w);
}

/* GET /readyz */
void bp_api_readyz(bp_req_t *r) {
    bp_app_t *app = r->app;
    bp_http_resp_t *o = &r->resp;
    if (!bp_reader_ready(app->reader)) {
        bp_req_error(r, 503, "not_ready", "not following the Redis event stream yet");
        return;
    }
    bp_jw_t w;
    bp_jw_init(&w, &o->body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "ready");
    bp_jw_bool(&w, true);
    BP_JW_KEY(&w, "epoch");
    bp_jw_cstr(&w, bp_reader_epoch(app->reader));
    BP_JW_KEY(&w, "offset");
    bp_jw_int(&w, (int64_t)bp_reader_offset(app->reader));
    BP_JW_KEY(&w, "clients");
    bp_jw_int(&w, (int64_t)bp_hub_clients(app->hub));
    BP_JW_KEY(&w, "server");
    bp_jw_cstr(&w, bp_hub_node(app->hub));
    bp_jw_end(&w);
}

/* GET /metrics */
void bp_api_metrics(bp_req_t *r) {
    r->resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    metrics(r->app, &r->resp.body);
}

/* GET /api/v1/config: what every page needs before anything else. */
void bp_api_config(bp_req_t *r) {
    const bp_settings_t *st = &r->app->cfg.settings;
    bp_http_resp_t *o = &r->resp;
    bp_jw_t w;
    bp_jw_init(&w, &o->body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "tile_url");
    bp_jw_cstr(&w, st->web_tile_url);
    BP_JW_KEY(&w, "tile_attribution");
    bp_jw_cstr(&w, st->web_tile_attribution);
    BP_JW_KEY(&w, "tick_interval_s");
    bp_jw_int(&w, st->server_tick_interval_s);
    BP_JW_KEY(&w, "history_interval_s");
    bp_jw_int(&w, st->history_interval_s);
    BP_JW_KEY(&w, "history_retention_h");
    bp_jw_int(&w, st->history_retention_h);
    BP_JW_KEY(&w, "anonymous");
    bp_jw_cstr(&w, st->auth_anonymous);
    bp_jw_end(&w);
}
