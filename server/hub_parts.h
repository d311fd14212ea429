/*
 * The hub's private parts, shared by hub.c (the WebSocket protocol and the
 * fan-out) and hub_auth.c (who may listen). Not for other modules.
 */
#ifndef BP_HUB_PARTS_H
#define BP_HUB_PARTS_H

#include "bp_auth.h"
#include "bp_credential.h"
#include "bp_ring.h"
#include "bp_state.h"
#include "bp_tokens.h"
#include "hub.h"
#include "hub_metrics.h"
#include "snapshot_cache.h"

#include <libwebsockets.h>
#include <stdio.h>

#define CTL_MAX    320
#define IP_BUCKETS 4096

typedef enum { C_HELLO, C_WAIT, C_RANGE, C_ACTIVE } cstate_t;

/* Events fetched from the stream for one resuming client, sent before it
 * joins the ring: serialized events back to back, ends[i] = end of event i. */
typedef struct {
    char *data;
    size_t *ends;
    size_t n, next;
    uint64_t first; /* offset of event 0 */
} backlog_t;

struct client;
typedef struct range_req {
    struct client *c; /* NULL once the client is gone */
    bp_hub_t *h;
    uint64_t from, to;
} range_req_t;

/* Connected clients per source address (lws_get_peer_simple text). */
typedef struct ip_node {
    struct ip_node *next;
    uint32_t count;
    char ip[48];
} ip_node_t;

typedef struct client {
    struct lws *wsi;
    bp_hub_t *hub;
    struct client *prev, *next;
    cstate_t state;
    bool need_snapshot, tick_due, has_resume, closing, counted, in_fanout;
    bool gzip;                      /* takes its snapshots gzipped (hello "compress") */
    uint32_t seen[BP_BCAST__COUNT]; /* broadcast generations it has (0: none) */
    uint16_t close_code;
    char reason[16];
    bp_snap_t *snap;
    size_t snap_chunk;
    uint64_t tail;
    uint64_t resume_offset;
    char resume_epoch[BP_EPOCH_MAX + 1];
    int64_t connected_ms, progress_ms;
    int64_t heard_ms; /* last time anything (a pong included) came from it */
    int64_t pinged_ms;
    size_t ctl_len;
    unsigned char ctl[LWS_PRE + CTL_MAX];
    backlog_t *backlog;
    range_req_t *req;
    char ip[48];
    size_t rx_len;
    char *rx;          /* BP_WSCLIENT_MSG_MAX bytes while a message is being received, else NULL */
    bp_cred_t auth;    /* who it is: from the upgrade request, or a token in the hello */
    uint8_t aud;       /* bp_audience_t: what its role may see */
    uint64_t *only;    /* a manager's hospitals: all her snapshots hold (NULL: every one) */
    uint64_t auth_gen; /* token table generation its rights were checked at */
} client_t;

/* What each audience is sent (DESIGN §8): its own ring and snapshot cache.
 * A hospital event is serialized once and shared by the three rings; an
 * ambulance or incident event is written once per audience (for an
 * audience that may not see it, an offset marker, so offsets stay
 * contiguous for resume). */
typedef struct {
    bp_view_t view; /* ambulance fields and incidents visible to it */
    bp_ring_t ring;
    bp_snap_t *snap; /* the cached snapshot (one reference) */
} aud_t;

struct bp_hub {
    const bp_settings_t *s;
    char node[64]; /* this server's name (host name): in welcome and /readyz */
    bp_state_t *state;
    struct lws_context *ctx;
    const struct lws_protocols *proto;
    struct bp_reader *reader;
    bp_tokens_t *tokens; /* NULL: everyone is anonymous */
    int anon_role;       /* what a connection without credentials is, -1: nobody */
    aud_t aud[BP_AUD__COUNT];
    bp_buf_t scratch; /* coalesced frames, LWS_PRE headroom */
    bp_buf_t ev;      /* one event being serialized */
    client_t *clients;
    size_t n_clients;
    bool ready;
    bool stale;           /* clients were told the data is not followed from Redis */
    int64_t following_ms; /* last sweep that found the reader following the stream */
    int64_t unready_ms;   /* first sweep that found it not following since, 0: none */
    char epoch[BP_EPOCH_MAX + 1];
    uint64_t offset;
    unsigned char tick[LWS_PRE + 256];
    size_t tick_len;
    /* lists that replace the previous one (alerts, recommendations): the
     * FULL audience's version and the others' (none: FULL only) */
    struct {
        bp_chunk_t v[2];
        uint32_t gen;
        bool full_only;
    } bcast[BP_BCAST__COUNT];
    int64_t last_tick_ms;
    ip_node_t *ips[IP_BUCKETS];
    size_t ranges_inflight;
    bool fanout_active;
    uint64_t fanout_target, fanout_start_ns;
    size_t fanout_remaining;
    bp_hub_stats_t st;
};

/* Marks a client to be closed with a status; nothing more is written to it,
 * and the next sweep closes it (close_client in hub.c). */
static inline void hub_close_with(client_t *c, uint16_t code, const char *reason) {
    c->close_code = code;
    snprintf(c->reason, sizeof c->reason, "%s", reason);
}

/* -- hub_start.c ---------------------------------------------------------- */

/* Where a client starts after its hello, once the hub has data: resume
 * from the ring or the stream, else a snapshot. */
void bp_hub_start_client(bp_hub_t *h, client_t *c);
/* Sends the client a snapshot (with a welcome naming `reason`). */
void bp_hub_start_snapshot(bp_hub_t *h, client_t *c, const char *reason);
void bp_hub_backlog_free(backlog_t *b);

/* -- hub_auth.c ----------------------------------------------------------- */

/* Checks (again) whether the client may have the live feed; on a change of
 * the token table or an expired session the sweep calls it for every
 * client. 0 when it may, with its audience set; else marks it to be closed
 * with 4401 (no valid credentials: sign in again), 4403 (valid, not
 * allowed) or 1013 (tokens not loaded yet: retry), and returns -1. */
int bp_hub_authorize(bp_hub_t *h, client_t *c, int64_t now);

/* Connections per source address: how many ip holds; add one (-1 when out
 * of memory); remove one; free the table. */
uint32_t bp_hub_ip_count(bp_hub_t *h, const char *ip);
int bp_hub_ip_add(bp_hub_t *h, const char *ip);
void bp_hub_ip_remove(bp_hub_t *h, const char *ip);
void bp_hub_ips_free(bp_hub_t *h);

#endif
