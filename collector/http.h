/*
 * The collector's own small HTTP listener (libwebsockets, on the
 * collector's libuv loop): GET /healthz (the process answers), /readyz
 * (200 only while lines can be applied: the Redis link is up) and /metrics
 * (Prometheus text). On collector.host:collector.http_port; nothing else.
 */
#ifndef BP_COLLECTOR_HTTP_H
#define BP_COLLECTOR_HTTP_H

#include "feed_server.h"

#include <stdint.h>
#include <uv.h>

typedef struct bp_chttp bp_chttp_t;

/* Borrowed: settings and the feed server outlive it. NULL on failure
 * (logged). */
bp_chttp_t *bp_chttp_create(uv_loop_t *loop, const bp_settings_t *s, bp_feed_server_t *fs,
                            int64_t started_ms);
int bp_chttp_port(const bp_chttp_t *h);
/* The pollers whose status /metrics shows too (borrowed; NULL: none). */
struct bp_poller;
void bp_chttp_set_poller(bp_chttp_t *h, const struct bp_poller *p);
/* Destroys the lws context; the loop must keep running until lws has let
 * go of its handles (DESIGN §10). */
void bp_chttp_destroy(bp_chttp_t *h);

#endif
