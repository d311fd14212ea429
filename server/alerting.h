/*
 * Alerts shared by every server (issue 14, docs/dispatch.md "Alerts"):
 * the alert records (bp_alert_groups) kept in Redis, acknowledgements,
 * mutes per rule, the live-feed list, and the notification events of what
 * changed (alerts, ED status, stale reports, MCIs).
 *
 * Its routes (handlers.h, routes.c):
 *
 *   GET    /api/v1/alerts                  the records with ack and mute, the mutes
 *   POST   /api/v1/alerts/{id}/ack         a dispatcher acknowledges one
 *   POST   /api/v1/alerts/mutes            {"rule","minutes"}: silence a rule's alarm
 *   DELETE /api/v1/alerts/mutes/{rule}     end a mute early
 *
 * Once a second each server reads the records (one Lua call, which also
 * reports MCIs opened or closed since it was last looked at), evaluates the
 * rules on its state, plans the next records and applies the change in a
 * second Lua call that checks nobody changed the records meanwhile
 * (version) and that this server is not behind the one that changed them
 * last (stream offset, then time): so every change happens once, whatever
 * the number of servers, and is appended once to the notification stream
 * <prefix>notify:events. The records survive restarts: what was raised and
 * acknowledged is not raised again.
 */
#ifndef BP_ALERTING_H
#define BP_ALERTING_H

#include "request.h"

struct bp_alerting;

struct bp_alerting *bp_alerting_create(bp_app_t *app);
void bp_alerting_destroy(struct bp_alerting *a);

/* Once a second (the derived engine, derived.c): evaluate, sync with Redis, push. */
void bp_alerting_tick(bp_app_t *app);

/* After a batch of events: the rules run at once (at most every 250 ms),
 * so an alert does not wait for the next second. */
void bp_alerting_kick(bp_app_t *app);

/* For /metrics: alert records open now, events appended by this server,
 * applies refused because another server changed the records first. */
typedef struct {
    size_t open;
    uint64_t events, conflicts;
} bp_alerting_stats_t;
void bp_alerting_stats(const bp_app_t *app, bp_alerting_stats_t *out);

#endif
