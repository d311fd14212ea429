/*
 * What the server's modules share: configuration, the materialized state,
 * the hub and the reader. One instance, owned by main.c.
 */
#ifndef BP_APP_H
#define BP_APP_H

#include "bp_config.h"
#include "bp_handover.h"
#include "bp_metrics.h"
#include "bp_state.h"
#include "bp_tokens.h"
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
    struct bp_outlook_srv *outlook; /* the 24-hour outlook from the history (outlook.c) */
    bp_tokens_t *tokens;
    bp_handover_t *handover;      /* inbound and offload per hospital, from ambulance events */
    struct bp_alerts *alerts;     /* active alerts, evaluated every second */
    struct bp_derived *derived;   /* the per-second derived engine (derived.c) */
    struct bp_alerting *alerting; /* alert records, acknowledgements, mutes (alerting.c) */
    bool handover_ready;          /* the handover medians are replayed: alerts may be planned */
    char handover_epoch[BP_EPOCH_MAX + 1];
    struct bp_apply *apply;              /* manager writes: the feeds' Lua apply */
    struct bp_feed *feed;                /* POST /api/v1/feed (feed.c) */
    struct bp_havexml_cache *have_cache; /* the city's HAVE document, while it holds */
    struct bp_rate *rate_api;            /* REST requests per client address */
    struct bp_rate *rate_login;          /* failed sign-ins per client address */
    struct bp_rate *rate_writes;         /* writes per token */
    struct bp_req *waiting;              /* writes waiting for the live state */
    struct bp_notify *notify;            /* systemd, when under it */
    struct bp_notifier *notifier;        /* subscriptions and their deliveries (notifier.c) */
    struct bp_pubcache *pub; /* the public document and open data, serialised (public.c) */
    bool tls;
    int64_t started_ms;
    bool stopping;
    uint64_t http_requests, http_errors, http_unauthorized, http_forbidden, http_limited;
    uint64_t writes_ok, writes_conflict, writes_invalid, sessions_created, sign_in_failures;
    bp_reqstats_t http_stats;   /* requests by route and status, with their time */
    uint64_t alert_evaluations; /* passes of the alert rules over the state */
    uint64_t *checks_sent;      /* per hospital: the version whose check was sent to be stored */
} bp_app_t;

#endif
