/*
 * The feed listener (DESIGN §4): TCP, newline-delimited JSON, exactly one
 * reply line per input line, in order. Lines are validated by the core and
 * applied through bp_apply; a line is acknowledged only after Redis has
 * committed it.
 *
 * Bounds: connections (extra ones get one error line and are closed), line
 * length (an overlong line gets one error and is skipped), lines in flight
 * per connection and bytes of unsent replies (reading pauses at either),
 * idle time.
 */
#ifndef BP_FEED_SERVER_H
#define BP_FEED_SERVER_H

#include "bp_registry.h"
#include "bp_settings.h"

#include <stdint.h>
#include <uv.h>

typedef struct bp_feed_server bp_feed_server_t;

typedef struct {
    uint64_t connections;   /* accepted */
    uint64_t rejected;      /* over the connection limit */
    uint64_t lines;         /* lines answered */
    uint64_t accepted;      /* applied (ok, not duplicate) */
    uint64_t duplicates;
    uint64_t invalid;       /* rejected by validation */
    uint64_t unavailable;   /* answered "unavailable" */
    size_t open;            /* connections open now */
} bp_feed_stats_t;

/* Borrowed: settings and registry outlive the server. Binds and listens;
 * NULL on failure (logged). */
bp_feed_server_t *bp_feed_server_create(uv_loop_t *loop, const bp_settings_t *s,
                                        const bp_registry_t *reg);

/* The port actually bound (useful with port 0). */
int bp_feed_server_port(const bp_feed_server_t *fs);

void bp_feed_server_stats(const bp_feed_server_t *fs, bp_feed_stats_t *out);

/* Stops listening, closes every connection, closes Redis; on_closed fires
 * when every handle is released. */
void bp_feed_server_close(bp_feed_server_t *fs, void (*on_closed)(void *), void *data);

#endif
