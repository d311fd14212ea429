/*
 * The collectors' pollers and how their last polls went, as the collector
 * stores them in <prefix>poll:status (bp_pollstatus.c): read for GET
 * /api/v1/sources (server/export.c). Typed: no caller walks a redisReply.
 */
#ifndef BP_POLLSTATUS_H
#define BP_POLLSTATUS_H

#include "bp_redis.h"

#include <stdbool.h>
#include <stddef.h>

/* One poller: its id and its status, a JSON object (borrowed for the
 * callback only). */
typedef struct {
    const char *id, *json;
    size_t len;
} bp_poll_status_t;

/* ok false: storage did not answer (or out of memory); else the pollers
 * sorted by id, those whose status is a JSON object. */
typedef void (*bp_pollstatus_cb)(void *data, bool ok, const bp_poll_status_t *items, size_t n);
/* 0: cb will be called once; -1: not sent. */
int bp_pollstatus_read(bp_redis_t *redis, const char *prefix, bp_pollstatus_cb cb, void *data);

#endif
