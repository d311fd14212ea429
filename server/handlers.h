/*
 * The route handlers, by resource file. Each is called by the route table
 * (routes.c) once the route's method, guard and action have passed; when
 * the route declares an action, r->principal is who asks. A handler either
 * decides the answer (bp_req_error, or a body in r->resp) and returns, or
 * sets r->pending and calls bp_req_done when its answer comes (writes,
 * Redis reads: what it needs then rides in r->ctx). Guards (bool) run
 * before the method is checked and return false once they decided.
 */
#ifndef BP_HANDLERS_H
#define BP_HANDLERS_H

#include "request.h"

/* probes.c */
void bp_api_healthz(bp_req_t *r);
void bp_api_readyz(bp_req_t *r);
void bp_api_metrics(bp_req_t *r);
void bp_api_config(bp_req_t *r);

/* public.c: the public document and open data */
void bp_api_public_get(bp_req_t *r);

/* reads.c: the city's figures from memory */
void bp_api_hospitals_get(bp_req_t *r);
void bp_api_hospital_get(bp_req_t *r);
void bp_api_ambulances_get(bp_req_t *r);
void bp_api_summary_get(bp_req_t *r);
void bp_api_history_get(bp_req_t *r);
void bp_api_outlook_get(bp_req_t *r);
void bp_api_other(bp_req_t *r);

/* sessions.c */
void bp_api_session_post(bp_req_t *r);
void bp_api_session_get(bp_req_t *r);
void bp_api_session_delete(bp_req_t *r);

/* writes.c: a manager's PATCH; import.c: CSV */
void bp_api_hospital_patch(bp_req_t *r);
void bp_api_hospital_confirm(bp_req_t *r);
void bp_api_hospital_other(bp_req_t *r);
void bp_api_import_post(bp_req_t *r);

/* audit.c */
void bp_api_audit_get(bp_req_t *r);

/* dispatch_reads.c: what a dispatcher reads */
void bp_api_recommend_get(bp_req_t *r);
void bp_api_incidents_get(bp_req_t *r);
void bp_api_incident_get(bp_req_t *r);
void bp_api_handover_get(bp_req_t *r);

/* alerting.c */
bool bp_api_alerts_ready(bp_req_t *r);
bool bp_api_alert_ack_ok(bp_req_t *r);
void bp_api_alerts_get(bp_req_t *r);
void bp_api_mute_post(bp_req_t *r);
void bp_api_mute_delete(bp_req_t *r);
void bp_api_alert_ack(bp_req_t *r);
void bp_api_alerts_other(bp_req_t *r);

/* subscriptions.c: subscriptions and dead letters */
bool bp_api_notifier_ready(bp_req_t *r);
void bp_api_subscriptions_get(bp_req_t *r);
void bp_api_subscriptions_post(bp_req_t *r);
void bp_api_subscription_delete(bp_req_t *r);
void bp_api_dead_letters_get(bp_req_t *r);

/* mci.c */
bool bp_api_mci_id_ok(bp_req_t *r);
void bp_api_mci_list(bp_req_t *r);
void bp_api_mci_declare(bp_req_t *r);
void bp_api_mci_get(bp_req_t *r);
void bp_api_mci_answer(bp_req_t *r);
void bp_api_mci_patient(bp_req_t *r);
void bp_api_mci_close(bp_req_t *r);
void bp_api_mci_other(bp_req_t *r);

/* export.c */
void bp_api_export_get(bp_req_t *r);
void bp_api_history_csv_get(bp_req_t *r);
void bp_api_sources_get(bp_req_t *r);

/* feed.c */
void bp_api_feed_post(bp_req_t *r);

#endif
