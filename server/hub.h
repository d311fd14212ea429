/*
 * The WebSocket hub (DESIGN §6): takes events from the reader, serializes
 * each once into the shared ring, and writes them to every client from
 * there; a client keeps only the offset it has reached.
 *
 * Per client, per WRITEABLE callback, exactly one lws_write: a control
 * message, a snapshot chunk, one event frame straight from the ring, a
 * coalesced frame of everything pending (bounded by max_frame_bytes), or a
 * tick. A client that falls out of the ring skips to the latest snapshot; one
 * that keeps failing to catch up, or makes no progress for too long, is
 * closed with a 4xxx code.
 *
 * Snapshots are serialized at most once per offset (and at most every
 * SNAPSHOT_MIN_INTERVAL under load) and shared, split in chunks that each
 * carry their own LWS_PRE headroom so they can be written in place.
 */
#ifndef BP_HUB_H
#define BP_HUB_H

#include "bp_buf.h"
#include "bp_settings.h"
#include "bp_state.h"

#include <libwebsockets.h>
#include <stdbool.h>

typedef struct bp_hub bp_hub_t;
struct bp_reader;
struct bp_tokens;

bp_hub_t *bp_hub_create(const bp_settings_t *s, bp_state_t *state);
void bp_hub_destroy(bp_hub_t *h);

/* Wiring: the lws context and our ws protocol entry, the reader (for
 * offsets and ranges) and the token table (NULL: everyone is anonymous, and
 * gets what auth.anonymous allows).
 *
 * Who listens: credentials come from the upgrade request (Authorization:
 * Bearer, or the bp_session cookie) or a token in the hello; the Origin of
 * a browser must be this site or one of server.allowed_origins, else the
 * upgrade is refused. At hello a client without the right to the live
 * feed is closed with 4401 (no valid credentials) or 4403 (its role may
 * not); one whose token is revoked or session ends later is closed with
 * 4401 within about a second. Each role's audience has its own ring and
 * snapshot: ambulance positions and incidents never reach wall or
 * hospital-only roles. */
void bp_hub_attach(bp_hub_t *h, struct lws_context *ctx, const struct lws_protocols *proto,
                   struct bp_reader *reader, struct bp_tokens *tokens);

/* Reader callbacks (see reader.h). */
void bp_hub_on_reload(void *hub, const char *epoch, uint64_t offset, const char *reason);
void bp_hub_on_event(void *hub, const bp_change_t *c, bool live);
void bp_hub_on_batch(void *hub);

/* Lists that replace the previous one, outside the event sequence:
 * {"type":"alerts"} (dispatchers and admins get `full`, wall displays
 * `other`), {"type":"recommendations"} (other NULL: dispatchers and
 * admins only) and {"type":"offload"} (everyone: it changes pressure
 * levels). Managers' pages get only the last. Every such client gets the
 * newest list once, after the events it is owed (new clients after their
 * snapshot). Copied. */
typedef enum { BP_BCAST_ALERTS, BP_BCAST_RECOMMEND, BP_BCAST_OFFLOAD, BP_BCAST__COUNT } bp_bcast_t;
void bp_hub_broadcast(bp_hub_t *h, bp_bcast_t slot, const char *full, size_t full_len,
                      const char *other, size_t other_len);

/* Once a second: hello timeouts, slow clients, ticks. */
void bp_hub_sweep(bp_hub_t *h);

/* The lws protocol callback for "bedpulse.v1"; protocol user = the hub. */
int bp_hub_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len);
size_t bp_hub_session_size(void);

/* Prometheus text for the hub's counters. */
void bp_hub_metrics(const bp_hub_t *h, bp_buf_t *out);
size_t bp_hub_clients(const bp_hub_t *h);
/* This server's name (its host name): in welcome messages and /readyz, so
 * a client or a load balancer's operator can tell servers apart. */
const char *bp_hub_node(const bp_hub_t *h);

#endif
