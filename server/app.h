/*
 * What the server's modules share: configuration, the materialized state,
 * the hub and the reader. One instance, owned by main.c.
 */
#ifndef BP_APP_H
#define BP_APP_H

#include "bp_config.h"
#include "bp_state.h"
#include "hub.h"
#include "reader.h"

#include <libwebsockets.h>
#include <uv.h>

typedef struct {
    bp_config_t cfg;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t housekeeping;
    struct lws_context *ctx;
    bp_state_t *state;
    bp_hub_t *hub;
    bp_reader_t *reader;
    struct bp_listener *listener;
    struct bp_history *history;
    int64_t started_ms;
    bool stopping;
    uint64_t http_requests, http_errors;
} bp_app_t;

#endif
