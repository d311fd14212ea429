/*
 * POST /api/v1/feed (feed.c): feed lines, EDXL-HAVE or FHIR over HTTP.
 * Its own Redis link and loop hook, made and closed with the server; its
 * counters in /metrics. The handler is in handlers.h.
 */
#ifndef BP_FEED_SRV_H
#define BP_FEED_SRV_H

#include "app.h"

int bp_feed_start(bp_app_t *app);
void bp_feed_stop(bp_app_t *app);
void bp_feed_metrics(bp_app_t *app, bp_buf_t *o);

#endif
