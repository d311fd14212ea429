/*
 * Pollers (README "Pollers", docs/interop.md): the collector fetches the
 * figures hospital systems publish at a URL — EDXL-HAVE, FHIR or BedPulse
 * feed lines — on their interval, with libcurl's multi interface driven by
 * the libuv loop (curl_multi_socket_action from uv_poll and uv_timer
 * callbacks: no blocking call, no thread per source).
 *
 * Each poll sends the validators of the last document applied (ETag as
 * If-None-Match, Last-Modified as If-Modified-Since), is bounded in time
 * (the source's timeout_s) and size (collector.max_poll_bytes), and after a
 * failure the next one waits longer (bp_sources_delay_ms). A document is
 * checked whole: one that is not valid in its format ("garbage") is
 * logged and counted, and nothing from it is applied. Its changes go
 * through the same apply script as feed lines (source: the source id; for
 * HAVE and FHIR "<source id>:<hospital id>" with the report time as seq).
 *
 * Each source's status (last success, last error, counters) is in the
 * collector's /metrics and, for GET /api/v1/sources on the servers, in the
 * Redis hash <prefix>poll:status.
 */
#ifndef BP_POLLER_H
#define BP_POLLER_H

#include "bp_buf.h"
#include "bp_registry.h"
#include "bp_settings.h"
#include "bp_sources.h"

#include <uv.h>

typedef struct bp_poller bp_poller_t;

/* Borrowed: settings, registry and sources outlive the poller. Starts
 * polling at once (sources staggered over the first seconds). NULL on
 * failure (logged). */
bp_poller_t *bp_poller_create(uv_loop_t *loop, const bp_settings_t *s, const bp_registry_t *reg,
                              const bp_sources_t *sources);

/* Prometheus text: polls by result, changes by outcome, last success and
 * last error times, failures in a row — per source. */
void bp_poller_metrics(const bp_poller_t *p, bp_buf_t *o);

/* Stops polling, abandons transfers in flight, closes its Redis link;
 * on_closed fires once every handle is released. */
void bp_poller_close(bp_poller_t *p, void (*on_closed)(void *), void *data);

#endif
