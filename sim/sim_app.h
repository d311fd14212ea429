/*
 * Inside bp-sim (not the model): what main.c (the queues, the pump, the
 * replies, status and shutdown) and sim_link.c (the connection to the
 * collector: resolve, connect, TLS, hello, reads and writes, reconnects)
 * share.
 */
#ifndef BP_SIM_APP_H
#define BP_SIM_APP_H

#include "bp_buf.h"
#include "bp_config.h"
#include "bp_lines.h"
#include "bp_notify.h"
#include "bp_tls.h"
#include "sim_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define MAX_INFLIGHT    256  /* lines sent and not yet answered */
#define RESEND_MAX      1024 /* lines waiting to be sent again; the oldest are dropped */
#define TICK_MS         100
#define STATUS_MS       10000
#define READ_CHUNK      65536
#define REPLY_LINE_MAX  65536
#define CONNECT_TIMEOUT 5000
#define BACKOFF_MIN_MS  250
#define BACKOFF_MAX_MS  10000
#define RESEND_MIN_MS   500
#define RESEND_MAX_MS   10000
#define DRAIN_MS        3000 /* how long a stop waits for outstanding replies */
#define HELLO_REFUSALS  5    /* the token refused this often in a row: exit 4 */
#define OUT_MAX         ((size_t)MAX_INFLIGHT * BP_SIM_LINE_MAX)

/* One line we sent and must hear about. */
typedef struct {
    char *text; /* with its newline, owned */
    size_t len;
    bp_sim_line_t meta;
    uint64_t order; /* first-send order: resends keep it */
    bool resent;
} entry_t;

/* A ring of entries. */
typedef struct {
    entry_t *e;
    size_t cap, head, n;
} queue_t;

typedef enum {
    LINK_IDLE,
    LINK_RESOLVING,
    LINK_CONNECTING,
    LINK_HANDSHAKE, /* TLS: connected, certificate not yet verified */
    LINK_UP,
    LINK_CLOSING
} link_state_t;

typedef struct app app_t;

/* What the connection tells the rest of bp-sim (main.c sets these), so
 * sim_link.c never calls into main.c by name. */
typedef struct {
    void (*up)(app_t *app);                                  /* lines may go out */
    void (*reply)(app_t *app, const char *line, size_t len); /* one reply line */
    void (*down)(app_t *app);    /* closing: what is in flight must be sent again */
    void (*stopped)(app_t *app); /* stopping and nothing left to wait for */
} sim_link_calls_t;

struct app {
    const sim_link_calls_t *calls;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    bp_notify_t *notify; /* systemd, when under it */
    uv_timer_t tick, status, reconnect, stop_timer;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_getaddrinfo_t gai;
    link_state_t link;
    bool tcp_open; /* tcp initialised and its close callback not yet run */
    bool stopping, finished;
    const bp_config_t *cfg;
    bp_sim_t *sim;
    bp_buf_t out;
    bp_sim_line_t lines[MAX_INFLIGHT];
    bp_lines_t replies;
    char read_buf[READ_CHUNK];
    char plain[READ_CHUNK];  /* decrypted replies on their way to the line buffer */
    bp_tls_ctx_t *tls_ctx;   /* NULL: plain TCP */
    bp_tls_t *tls;           /* this connection's TLS, over tcp */
    bool hello_pending;      /* sim.token sent, its answer not yet in */
    unsigned hello_failures; /* refusals of the token in a row */
    int exit_status;         /* 4: gave up on a refused token */
    queue_t inflight, resend;
    size_t resends_inflight; /* in-flight entries that are resends */
    int64_t resend_at;       /* real ms before which the resend queue waits */
    int resend_backoff, connect_backoff;
    unsigned connect_failures;
    bool ever_connected, unavailable_wave;
    uint64_t order;
    /* counters */
    uint64_t sent, ok, dup, errors, unavailable, resent, dropped, stale_skips;
    uint64_t status_sent;
    int64_t status_ms;
    uint64_t rng; /* jitter only */
};

/* One write to the collector: len bytes in data, freed when written. */
typedef struct {
    uv_write_t req;
    app_t *app;
    char data[];
} write_t;

/* -- sim_link.c: the connection ------------------------------------------- */

/* Resolves and connects (TLS, hello), with backoff on failure. */
void sim_link_start(app_t *app);
/* Closes the connection (logging why, if given): what is in flight goes to
 * the resend queue; a reconnect follows unless stopping. */
void sim_link_close(app_t *app, const char *why);
/* Sends w's len plaintext bytes, as they are or encrypted. Takes w. */
void sim_link_send(app_t *app, write_t *w, size_t len);

#endif
