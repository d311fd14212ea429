/*
 * Inside the feed server (collector/feed_server.c, collector/feed_listen.c):
 * a connection, its reply slots, the server's state, and the calls the
 * listener makes into the connection code. Not for other files.
 *
 * One way down: feed_listen.c (listening, accepting or refusing a
 * connection, the idle sweep, create, close, the figures) ->
 * feed_server.c (one connection: reading, TLS, lines, hello, the apply
 * window and its in-order replies).
 */
#ifndef BP_FEED_SERVER_INT_H
#define BP_FEED_SERVER_INT_H

#include "bp_apply.h"
#include "bp_buf.h"
#include "bp_feedline.h"
#include "bp_feedprev.h"
#include "bp_lines.h"
#include "bp_tls.h"
#include "bp_tokens.h"
#include "feed_server.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define READ_CHUNK        65536
#define MAX_UNSENT_BYTES  (1u << 20) /* pause reading while more replies than this wait */
#define APPLY_LANES       4          /* Redis connections; a feed connection keeps to one */
#define APPLY_MAX_PENDING 16384      /* changes waiting for Redis, per lane */
#define REPLY_MAX         2048
#define MAX_FAILED_HELLOS 3 /* then the connection is closed */
#define TLS_HANDSHAKE_MS  10000

typedef enum { SLOT_AWAITING = 1, SLOT_DONE } slot_state_t;

typedef struct {
    slot_state_t state;
    int64_t seq;
    uint64_t source;  /* hash of the line's source (for the block below) */
    uint64_t sent_ns; /* when it went to Redis (apply time histogram) */
    char *text;       /* reply line with its newline, malloc'd */
    size_t len;
} slot_t;

typedef struct conn {
    uv_tcp_t tcp;
    bp_feed_server_t *fs;
    struct conn *prev, *next;
    bp_lines_t lines;
    slot_t *slots;
    size_t cap;
    uint64_t head, tail;    /* absolute slot numbers; slot i lives at i % cap */
    uint64_t awaiting_from; /* oldest slot that may be awaiting Redis */
    size_t awaiting;
    size_t unsent; /* reply bytes handed to libuv, not yet written */
    int64_t last_active_ms;
    bool reading, drained, eof, closed, paused, dirty;
    struct conn *dirty_next; /* answered by Redis since the last flush */
    /* who speaks: the token given in hello (never a pointer kept across a
     * reload of the token table: see principal()) */
    bool authed;
    int failed_hellos;
    char token_id[BP_TOKEN_ID_MAX + 1];
    const bp_principal_t *who;
    uint64_t who_gen;
    size_t lane; /* its Redis connection (bp_apply lane): its lines apply in order */
    /* a line answered `unavailable`: nothing new until it is resent */
    bp_feed_block_t block;
    bool probing;         /* the resend is with Redis: no more lines until it answers */
    bp_feed_prev_t order; /* per source, the last line with Redis (prev, see feed_server.c) */
    char ip[48];
    char peer[64];
    bp_tls_t *tls;       /* NULL: plain TCP */
    bool tls_eof;        /* close_notify received: no more plaintext */
    bool tls_closing;    /* our close_notify is on its way */
    int64_t accepted_ms; /* for the handshake's time limit */
} conn_t;

struct bp_feed_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t sweep;
    uv_check_t flush; /* once per loop turn: write what Redis answered */
    conn_t *dirty;
    const bp_settings_t *s;
    const bp_registry_t *reg;
    bp_apply_t *apply;
    bp_tokens_t *tokens;
    conn_t *conns; /* open connections */
    size_t n_conns;
    size_t paused; /* connections waiting for room in the apply queue */
    size_t next_lane;
    int port;
    bool closing;
    int parts_open; /* listener, sweep timer, apply: closed on shutdown */
    size_t handles; /* connection handles not yet released */
    void (*on_closed)(void *);
    void *closed_data;
    bp_feed_stats_t stats;
    char read_buf[READ_CHUNK];
    bool read_buf_busy;
    char plain[READ_CHUNK]; /* decrypted bytes on their way to a line buffer */
    bp_tls_ctx_t *tls_ctx;  /* NULL: plain TCP */
    bp_buf_t reply;
};

/* feed_server.c */
/* Starts or stops reading as the connection's room allows. */
void bp_feed_update_reading(conn_t *c);
/* Closes the connection's handle (it is freed by bp_feed_maybe_free once
 * nothing refers to it). */
void bp_feed_conn_close(conn_t *c);
void bp_feed_maybe_free(conn_t *c);
void bp_feed_on_conn_closed(uv_handle_t *h);
/* Frees the server once every part and connection handle is released. */
void bp_feed_check_closed(bp_feed_server_t *fs);
/* Connections paused for room in the apply queue read again. */
void bp_feed_resume_paused(bp_feed_server_t *fs);
/* Redis' answer to a line (bp_apply's callback). */
void bp_feed_on_applied(void *privdata, const bp_apply_result_t *res);
/* Once per loop turn: write what Redis answered. */
void bp_feed_on_flush(uv_check_t *h);

#endif
