/*
 * Notifications beyond the open page (issue 14, docs/protocol.md
 * "Notifications"): subscriptions, fan-out of the notification events to
 * them, and delivery by webhook or e-mail.
 *
 *   GET    /api/v1/subscriptions[?owner=]   one's own (an admin: anyone's, or all)
 *   POST   /api/v1/subscriptions            make one (201), 422 naming the field
 *   DELETE /api/v1/subscriptions/{id}       end one (its owner or an admin)
 *   GET    /api/v1/notify/dead-letters      deliveries given up (admins)
 *
 * Events (alerting.c) are appended to the stream <prefix>notify:events.
 * Every server reads it in one consumer group, so each event is fanned out
 * by exactly one server: it matches the event against the subscriptions
 * (filters, quiet hours, the owner's right to see it) and, in one Lua call
 * that first acknowledges the event (an event acknowledged already is not
 * fanned out twice), creates one delivery job per subscription, bounded by
 * notify.queue_max. Jobs wait in a sorted set by due time; a server claims
 * due jobs in a Lua call (one per job, with a lease: a server that dies
 * mid-delivery leaves it to another after the lease) that also applies
 * the rate per subscription. Delivery runs on libcurl's multi interface on
 * the loop (curl_uv.h), after uv_getaddrinfo: a webhook whose host
 * resolves to a loopback, private or link-local address is refused unless
 * notify.allow_private_targets, and curl is pinned to the address checked.
 * A failed attempt is retried with exponential backoff for up to
 * notify.retry_max_s, then kept as a dead letter (at most 1000).
 */
#ifndef BP_NOTIFIER_H
#define BP_NOTIFIER_H

#include "request.h"

struct bp_notifier;

/* Starts following the events and delivering (its own Redis link and
 * timer). NULL on no memory. */
struct bp_notifier *bp_notifier_create(bp_app_t *app);

/* Stops: transfers in flight are abandoned (their jobs are retried by a
 * server after the lease); on_closed(data) once every handle is released. */
void bp_notifier_close(struct bp_notifier *n, void (*on_closed)(void *), void *data);

/* Prometheus text of the notification counters. */
void bp_notifier_metrics(const struct bp_notifier *n, bp_buf_t *out);

#endif
