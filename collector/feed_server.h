/*
 * The feed listener (DESIGN §4): TCP, newline-delimited JSON, exactly one
 * reply line per input line, in order. Lines are validated by the core and
 * applied through bp_apply; a line is acknowledged only after Redis has
 * committed it.
 *
 * Bounds: connections (extra ones get one error line and are closed), line
 * length (an overlong line gets one error and is skipped), lines in flight
 * per connection and bytes of unsent replies (reading pauses at either),
 * idle time; over TLS (collector.tls_cert / tls_key) also the handshake's
 * time and what OpenSSL holds per connection (see feed_server.c).
 */
#ifndef BP_FEED_SERVER_H
#define BP_FEED_SERVER_H

#include "bp_apply.h"
#include "bp_metrics.h"
#include "bp_redis.h"
#include "bp_registry.h"
#include "bp_settings.h"

#include <stdint.h>
#include <uv.h>

typedef struct bp_feed_server bp_feed_server_t;

#define BP_FEED_ERROR_CODES 32

typedef struct {
    uint64_t lines_in;    /* lines read */
    uint64_t connections; /* accepted */
    uint64_t rejected;    /* over the connection limit */
    uint64_t lines;       /* lines answered */
    uint64_t accepted;    /* applied (ok, not duplicate) */
    uint64_t duplicates;
    uint64_t invalid;     /* rejected by validation */
    uint64_t unavailable; /* answered "unavailable" */
    size_t open;          /* connections open now */
    size_t in_flight;     /* lines waiting for Redis now */
    /* error replies by code (the last row, "other", takes the overflow) */
    struct {
        char code[24];
        uint64_t n;
    } errors[BP_FEED_ERROR_CODES];
    size_t n_errors;
    bp_hist_t apply_time; /* line submitted -> Redis answered, seconds */
} bp_feed_stats_t;

/* Borrowed: settings and registry outlive the server. Binds and listens;
 * NULL on failure (logged). */
bp_feed_server_t *bp_feed_server_create(uv_loop_t *loop, const bp_settings_t *s,
                                        const bp_registry_t *reg);

/* The port actually bound (useful with port 0). */
int bp_feed_server_port(const bp_feed_server_t *fs);
/* Whether feeds are spoken over TLS. */
bool bp_feed_server_tls(const bp_feed_server_t *fs);

void bp_feed_server_stats(const bp_feed_server_t *fs, bp_feed_stats_t *out);
/* Whether lines can be applied now: every Redis link (lane) is up. */
bool bp_feed_server_ready(const bp_feed_server_t *fs);
/* The counters of its first Redis link, and of the apply over all links. */
void bp_feed_server_redis_stats(bp_feed_server_t *fs, bp_redis_stats_t *lane0,
                                bp_apply_stats_t *apply);

/* Stops listening, closes every connection, closes Redis; on_closed fires
 * when every handle is released. */
void bp_feed_server_close(bp_feed_server_t *fs, void (*on_closed)(void *), void *data);

#endif
