/* The WebSocket protocol and the fan-out from the shared ring (see hub.h).
 * Who may listen is hub_auth.c, where a client starts (resume or snapshot)
 * hub_start.c, snapshots snapshot_cache.c, the metrics hub_metrics.c; their
 * shared types are in hub_parts.h. */
#include "hub.h"
#include "bp_codec.h"
#include "bp_httputil.h"
#include "bp_log.h"
#include "bp_time.h"
#include "bp_wsclient.h"
#include "credential.h"
#include "hub_parts.h"
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FANOUT_GIVE_UP_NS 10000000000ull
#define STALE_AFTER_MS    1000 /* not following the stream this long: clients are told */

/* -- fan-out timing ------------------------------------------------------------ */

static void fanout_record(bp_hub_t *h, uint64_t ns) {
    bp_hub_stats_fanout(&h->st, ns);
    h->fanout_active = false;
}

/* A client in the current measurement reached (or left) the target. */
static void fanout_done_one(bp_hub_t *h, client_t *c) {
    c->in_fanout = false;
    if (h->fanout_active && --h->fanout_remaining == 0)
        fanout_record(h, bp_time_mono_ns() - h->fanout_start_ns);
}

static void fanout_check(bp_hub_t *h, client_t *c) {
    if (c->in_fanout && c->tail >= h->fanout_target) fanout_done_one(h, c);
}

/* -- writing ----------------------------------------------------------------------- */

static int write_frame(bp_hub_t *h, client_t *c, unsigned char *data, size_t len,
                       enum lws_write_protocol wp) {
    int n = lws_write(c->wsi, data, len, wp);
    if (n < (int)len) return -1;
    h->st.frames++;
    h->st.bytes += len;
    c->progress_ms = bp_time_now_ms();
    return 0;
}

/* The broadcast list this client is owed next, or -1. Managers' pages get
 * only the offload list; full-only lists go to dispatchers and admins. */
static int bcast_due(const bp_hub_t *h, const client_t *c) {
    for (int s = 0; s < BP_BCAST__COUNT; s++) {
        if (!h->bcast[s].gen || c->seen[s] == h->bcast[s].gen) continue;
        if (c->aud == BP_AUD_HOSPITALS && s != BP_BCAST_OFFLOAD && s != BP_BCAST_STATUS) continue;
        if (h->bcast[s].full_only && c->aud != BP_AUD_FULL) continue;
        return s;
    }
    return -1;
}

static bool has_more(bp_hub_t *h, client_t *c) {
    if (c->close_code || c->ctl_len || c->snap || c->need_snapshot || c->backlog) return true;
    if (c->state == C_WAIT && h->ready) return true;
    return c->state == C_ACTIVE && (c->tail < h->offset || c->tick_due || bcast_due(h, c) >= 0);
}

/* One write step for a client: at most one lws_write. Called from its
 * WRITEABLE callback, and directly for clients that are caught up when a
 * batch arrives (which saves the two epoll_ctl calls the WRITEABLE round
 * trip costs per delivery on libuv). -1: the connection is broken. */
static int pump(bp_hub_t *h, client_t *c) {
    /* A close decided here or by the sweep is carried out by the sweep (see
     * close_client): returning -1 from this callback would drop the
     * connection without the close frame that tells the client why. */
    if (c->close_code) return 0;
    if (c->state == C_WAIT && h->ready) bp_hub_start_client(h, c);
    int slot;
    if (c->ctl_len) {
        if (write_frame(h, c, c->ctl + LWS_PRE, c->ctl_len, LWS_WRITE_TEXT)) return -1;
        c->ctl_len = 0;
    } else if (c->state != C_ACTIVE || !h->ready) {
        return 0;
    } else if (c->snap) {
        bp_snap_t *s = c->snap;
        size_t i = c->snap_chunk;
        int wp = i > 0 ? LWS_WRITE_CONTINUATION : s->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
        if (i + 1 < s->n) wp |= LWS_WRITE_NO_FIN;
        if (write_frame(h, c, (unsigned char *)s->chunks[i].buf + LWS_PRE, s->chunks[i].len,
                        (enum lws_write_protocol)wp))
            return -1;
        if (++c->snap_chunk == s->n) {
            c->tail = s->offset;
            c->snap = NULL;
            bp_snap_unref(s);
            fanout_check(h, c);
        }
    } else if (c->need_snapshot) {
        bp_hub_start_snapshot(h, c, c->reason[0] ? c->reason : "reload");
    } else if (c->backlog) {
        /* events from the stream, as many as fit in one frame */
        backlog_t *b = c->backlog;
        bp_buf_t *f = &h->scratch;
        bp_buf_reset(f);
        bp_buf_printf(f, "{\"type\":\"events\",\"epoch\":\"%s\",\"events\":[", h->epoch);
        size_t i = b->next;
        for (; i < b->n; i++) {
            size_t start = i ? b->ends[i - 1] : 0, len = b->ends[i] - start;
            if (i > b->next && f->len + len + 3 > (size_t)h->s->server_max_frame_bytes) break;
            if (i > b->next) bp_buf_putc(f, ',');
            bp_buf_put(f, b->data + start, len);
        }
        BP_BUF_LIT(f, "]}");
        if (f->failed || write_frame(h, c, (unsigned char *)bp_buf_data(f), f->len, LWS_WRITE_TEXT))
            return -1;
        h->st.event_deliveries += i - b->next;
        c->tail = b->first + i - 1;
        b->next = i;
        if (b->next == b->n) {
            bp_hub_backlog_free(b);
            c->backlog = NULL;
        }
        fanout_check(h, c);
    } else if (c->tail < h->offset) {
        bp_ring_t *ring = &h->aud[c->aud].ring;
        if (!bp_ring_get(ring, c->tail + 1)) {
            /* Fell out of the ring: skip to the latest state. A client that
             * keeps taking snapshots is taking what it can (coarser updates
             * under overload); only one that stops taking anything is closed,
             * by the sweep. */
            h->st.skips++;
            bp_hub_start_snapshot(h, c, "lagging");
        } else if (c->tail + 1 == h->offset) {
            const bp_ring_entry_t *e = bp_ring_get(ring, c->tail + 1);
            if (write_frame(h, c, (unsigned char *)e->buf + LWS_PRE, e->frame_len, LWS_WRITE_TEXT))
                return -1;
            c->tail++;
            h->st.event_deliveries++;
        } else {
            uint64_t last = c->tail;
            size_t n = bp_ring_coalesce(ring, c->tail, (size_t)h->s->server_max_frame_bytes,
                                        &h->scratch, &last);
            if (!n) return -1;
            if (write_frame(h, c, (unsigned char *)bp_buf_data(&h->scratch), h->scratch.len,
                            LWS_WRITE_TEXT))
                return -1;
            h->st.coalesced++;
            h->st.event_deliveries += n;
            c->tail = last;
        }
        fanout_check(h, c);
    } else if ((slot = bcast_due(h, c)) >= 0) {
        const bp_chunk_t *a = &h->bcast[slot].v[c->aud == BP_AUD_FULL ? 0 : 1];
        if (write_frame(h, c, (unsigned char *)a->buf + LWS_PRE, a->len, LWS_WRITE_TEXT)) return -1;
        c->seen[slot] = h->bcast[slot].gen;
        h->st.bcast_frames[slot]++;
    } else if (c->tick_due && h->tick_len) {
        if (write_frame(h, c, h->tick + LWS_PRE, h->tick_len, LWS_WRITE_TEXT)) return -1;
        c->tick_due = false;
        h->st.ticks++;
    }
    if (c->tail >= h->offset) c->tick_due = false;
    return 0;
}

static int on_writeable(bp_hub_t *h, client_t *c) {
    if (pump(h, c)) return -1;
    if (has_more(h, c)) lws_callback_on_writable(c->wsi);
    return 0;
}

/* Writes to a live client now if nothing of its own is in the way (a
 * control message, a snapshot, a backlog, or output lws still holds);
 * otherwise, or if more remains, asks for a WRITEABLE callback. */
static void push_now(bp_hub_t *h, client_t *c) {
    if (c->state == C_ACTIVE && !c->close_code && !c->closing && !c->ctl_len && !c->snap &&
        !c->need_snapshot && !c->backlog && !lws_partial_buffered(c->wsi)) {
        if (pump(h, c)) {
            /* broken socket, found outside its callbacks: let lws reap it */
            c->closing = true;
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            return;
        }
    }
    if (has_more(h, c)) lws_callback_on_writable(c->wsi);
}

/* -- closing ------------------------------------------------------------------------ */

/* Closes now, from RECEIVE: lws sends the close frame with this status when
 * the receive callback returns -1 after lws_close_reason(). */
static int close_now(client_t *c, uint16_t code, const char *reason) {
    hub_close_with(c, code, reason);
    c->closing = true;
    lws_close_reason(c->wsi, (enum lws_close_status)code, (unsigned char *)c->reason,
                     strlen(c->reason));
    return -1;
}

/* Closes a marked client from outside its callbacks. lws 4.1 takes a -1
 * from a WRITEABLE callback, and a timeout kill, for a broken socket and
 * closes it without a close frame, so the client would only see 1006;
 * lws_close_free_wsi() with a status instead sends the close frame (with
 * the reason set here) and waits for the peer's. It may also free the
 * client at once (LWS_CALLBACK_CLOSED): do not touch c afterwards. */
static void close_client(client_t *c) {
    c->closing = true;
    lws_close_reason(c->wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->reason,
                     strlen(c->reason));
    lws_close_free_wsi(c->wsi, (enum lws_close_status)c->close_code, "bedpulse hub");
}

/* -- receiving ------------------------------------------------------------------------ */

static int on_message(bp_hub_t *h, client_t *c) {
    bp_hello_t hello;
    bp_error_t err;
    bp_wsclient_verdict_t v =
        bp_wsclient_message(c->rx, c->rx_len, c->state != C_HELLO, &hello, &err);
    if (v != BP_WSC_OK) {
        h->st.closed_protocol++;
        if (v == BP_WSC_BAD_HELLO) bp_debug("hub: bad hello: %s", err.message);
        return close_now(c, bp_wsclient_close_code(v), bp_wsclient_reason(v));
    }
    if (hello.has_token) {
        /* a token in the hello (clients that cannot set headers) */
        bp_tokens_resolve(h->tokens, BP_SECRET_BEARER, hello.token, strlen(hello.token),
                          bp_time_now_ms(), &c->auth);
        explicit_bzero(hello.token, sizeof hello.token);
    }
    if (bp_hub_authorize(h, c, bp_time_now_ms())) {
        c->closing = true;
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->reason,
                         strlen(c->reason));
        return -1;
    }
    bp_snap_unref(c->snap);
    c->snap = NULL;
    c->need_snapshot = false;
    c->has_resume = hello.has_resume;
    c->gzip = hello.gzip;
    c->resume_offset = hello.offset;
    snprintf(c->resume_epoch, sizeof c->resume_epoch, "%s", hello.epoch);
    c->state = C_WAIT;
    lws_callback_on_writable(c->wsi);
    return 0;
}

/* -- lws protocol callback ------------------------------------------------------------------ */

static void unlink_client(bp_hub_t *h, client_t *c) {
    if (c->prev)
        c->prev->next = c->next;
    else if (h->clients == c)
        h->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

int bp_hub_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len) {
    const struct lws_protocols *p = lws_get_protocol(wsi);
    bp_hub_t *h = p ? p->user : NULL;
    client_t *c = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64];
        if (!h) return 1;
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws") != 0)
            return 1;
        /* Cross-site WebSocket hijacking: a page elsewhere must not ride
         * on the user's session cookie. No Origin: not a browser. */
        char origin[256], host[256];
        int on = lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
        if (on != 0) {
            if (on < 0 || lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0 ||
                !bp_http_origin_ok(origin, host, h->s->server_allowed_origins)) {
                h->st.rejected_origin++;
                bp_info("hub: upgrade refused: origin %.80s not allowed", on > 0 ? origin : "?");
                return 1;
            }
        }
        /* an Authorization header without a bearer token is ignored here */
        if (c) bp_credential_read(wsi, h->tokens, true, bp_time_now_ms(), &c->auth);
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        bp_cred_t auth = c->auth; /* read at the upgrade (FILTER_PROTOCOL_CONNECTION) */
        memset(c, 0, sizeof *c);
        c->auth = auth;
        c->wsi = wsi;
        c->hub = h;
        c->state = C_HELLO;
        c->connected_ms = c->progress_ms = c->heard_ms = c->pinged_ms = bp_time_now_ms();
        c->next = h->clients;
        if (h->clients) h->clients->prev = c;
        h->clients = c;
        h->st.connections++;
        lws_get_peer_simple(wsi, c->ip, sizeof c->ip);
        if (h->s->log_access && bp_log_enabled(BP_LOG_INFO)) {
            /* the access line of the upgrade; who it is shows at hello */
            bp_log_field_t f[] = {{"method", "GET", 0},
                                  {"route", "/ws", 0},
                                  {"status", NULL, 101},
                                  {"addr", c->ip, 0}};
            bp_log_fields(BP_LOG_INFO, f, sizeof f / sizeof *f, "http");
        }
        /* Over a limit: accept, then close with a status the client can act
         * on (1013 try again later / 4029 too many from this address),
         * which a refused upgrade could not tell it. */
        if (h->n_clients >= (size_t)h->s->server_max_clients) {
            h->st.rejected_full++;
            hub_close_with(c, 1013, "server full");
        } else if (bp_hub_ip_count(h, c->ip) >= (uint32_t)h->s->server_max_clients_per_ip) {
            h->st.rejected_ip++;
            hub_close_with(c, 4029, "address limit");
        } else if (bp_hub_ip_add(h, c->ip) == 0) {
            c->counted = true;
            h->n_clients++;
        } else {
            hub_close_with(c, 1011, "no memory");
        }
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (!c || !c->hub) return 0;
        unlink_client(h, c);
        if (c->counted) {
            h->n_clients--;
            bp_hub_ip_remove(h, c->ip);
        }
        if (c->in_fanout) fanout_done_one(h, c);
        if (c->req) c->req->c = NULL;
        bp_hub_backlog_free(c->backlog);
        c->backlog = NULL;
        free(c->rx);
        c->rx = NULL;
        bp_snap_unref(c->snap);
        c->snap = NULL;
        free(c->only);
        c->only = NULL;
        c->hub = NULL;
        return 0;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (c && c->hub) c->heard_ms = bp_time_now_ms();
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (!c || !c->hub) return -1;
        c->heard_ms = bp_time_now_ms();
        if (c->close_code) return 0; /* closing: its input no longer matters */
        {
            bp_wsclient_verdict_t v = bp_wsclient_frame(lws_frame_is_binary(wsi), c->rx_len, len);
            if (v != BP_WSC_OK) {
                h->st.closed_protocol++;
                c->rx_len = 0;
                return close_now(c, bp_wsclient_close_code(v), bp_wsclient_reason(v));
            }
        }
        /* the buffer lives only while a message comes in: idle clients
         * (nearly all of them) do not carry it */
        if (!c->rx && !(c->rx = malloc(BP_WSCLIENT_MSG_MAX)))
            return close_now(c, 1011, "no memory");
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
        {
            int rc = on_message(h, c);
            c->rx_len = 0;
            free(c->rx);
            c->rx = NULL;
            return rc;
        }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!c || !c->hub) return -1;
        return on_writeable(h, c);
    default: return 0;
    }
}

size_t bp_hub_session_size(void) {
    return sizeof(client_t);
}

/* -- reader callbacks ------------------------------------------------------------------------- */

void bp_hub_on_reload(void *hub, const char *epoch, uint64_t offset, const char *reason) {
    bp_hub_t *h = hub;
    bool new_epoch = strcmp(h->epoch, epoch) != 0;
    snprintf(h->epoch, sizeof h->epoch, "%s", epoch);
    h->offset = offset;
    for (int i = 0; i < BP_AUD__COUNT; i++) {
        bp_ring_clear(&h->aud[i].ring, epoch);
        bp_snap_unref(h->aud[i].snap);
        h->aud[i].snap = NULL;
    }
    bool was_ready = h->ready;
    h->ready = true;
    h->following_ms = bp_time_now_ms();
    if (new_epoch && was_ready) {
        for (client_t *c = h->clients; c; c = c->next) {
            if (c->state != C_ACTIVE) continue;
            c->need_snapshot = true;
            snprintf(c->reason, sizeof c->reason, "epoch");
        }
    }
    bp_info("hub: state at epoch %s offset %llu (%s)", epoch, (unsigned long long)offset, reason);
}

void bp_hub_on_event(void *hub, const bp_change_t *c, bool live) {
    bp_hub_t *h = hub;
    uint64_t now_ns = bp_time_mono_ns();
    for (int i = 0; i < BP_AUD__COUNT; i++) {
        aud_t *a = &h->aud[i];
        /* hospital events are the same for everyone: written once */
        if (i == 0 || c->kind != BP_KIND_HOSPITAL) {
            bp_buf_reset(&h->ev);
            bp_state_write_event_for(&h->ev, c, a->view);
        }
        if (h->ev.failed ||
            bp_ring_push(&a->ring, c->offset, bp_buf_data(&h->ev), h->ev.len, now_ns)) {
            /* an event we cannot hold: nobody can resume across it */
            bp_error("hub: event %llu could not be queued; clients will re-snapshot",
                     (unsigned long long)c->offset);
            bp_ring_clear(&a->ring, h->epoch);
        }
    }
    if (live) {
        h->offset = c->offset;
        h->st.events_in++;
    }
}

void bp_hub_broadcast(bp_hub_t *h, bp_bcast_t slot, const char *full, size_t full_len,
                      const char *other, size_t other_len) {
    if ((unsigned)slot >= BP_BCAST__COUNT) return;
    const char *src[2] = {full, other ? other : full};
    size_t len[2] = {full_len, other ? other_len : full_len};
    for (int i = 0; i < 2; i++) {
        char *buf = malloc(LWS_PRE + len[i]);
        if (!buf) return; /* keep the previous ones */
        memcpy(buf + LWS_PRE, src[i], len[i]);
        free(h->bcast[slot].v[i].buf);
        h->bcast[slot].v[i] = (bp_chunk_t){buf, len[i]};
    }
    h->bcast[slot].full_only = other == NULL;
    if (++h->bcast[slot].gen == 0) h->bcast[slot].gen = 1;
    for (client_t *c = h->clients; c; c = c->next)
        push_now(h, c);
}

void bp_hub_on_batch(void *hub) {
    bp_hub_t *h = hub;
    if (!h->fanout_active) {
        size_t n = 0;
        for (client_t *c = h->clients; c; c = c->next) {
            c->in_fanout =
                c->state == C_ACTIVE && c->counted && !c->close_code && c->tail < h->offset;
            n += c->in_fanout;
        }
        if (n) {
            h->fanout_active = true;
            h->fanout_remaining = n;
            h->fanout_target = h->offset;
            h->fanout_start_ns = bp_time_mono_ns();
        }
    }
    for (client_t *c = h->clients; c; c = c->next)
        push_now(h, c);
}

/* -- lifecycle and housekeeping -----------------------------------------------------------------
 */

bp_hub_t *bp_hub_create(const bp_settings_t *s, bp_state_t *state) {
    bp_hub_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->s = s;
    h->state = state;
    /* the host name (a container's is its name in the compose file), kept
     * to what may stand in JSON unescaped */
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    size_t n = 0;
    for (const char *p = host; *p && n < sizeof h->node - 1; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '.' || *p == '-' || *p == '_')
            h->node[n++] = *p;
    if (n == 0) strcpy(h->node, "bp-server");
    h->anon_role = bp_auth_anonymous_role(s->auth_anonymous);
    /* incidents (115 CAD) are for dispatchers and admins only */
    static const bp_view_t views[BP_AUD__COUNT] = {[BP_AUD_FULL] = {BP_AF_ALL, true},
                                                   [BP_AUD_WALL] = {BP_AF_STATUS, false},
                                                   [BP_AUD_HOSPITALS] = {0, false}};
    for (int i = 0; i < BP_AUD__COUNT; i++) {
        h->aud[i].view = views[i];
        if (bp_ring_init(&h->aud[i].ring, (size_t)s->server_ring_events,
                         (size_t)s->server_ring_bytes, LWS_PRE)) {
            while (i--)
                bp_ring_free(&h->aud[i].ring);
            free(h);
            return NULL;
        }
    }
    bp_buf_init(&h->scratch, LWS_PRE, (size_t)s->server_max_frame_bytes + 4096);
    bp_buf_init(&h->ev, 0, 1u << 20);
    return h;
}

void bp_hub_destroy(bp_hub_t *h) {
    if (!h) return;
    bp_hub_ips_free(h);
    for (int i = 0; i < BP_AUD__COUNT; i++) {
        bp_snap_unref(h->aud[i].snap);
        bp_ring_free(&h->aud[i].ring);
    }
    for (int s = 0; s < BP_BCAST__COUNT; s++) {
        free(h->bcast[s].v[0].buf);
        free(h->bcast[s].v[1].buf);
    }
    bp_buf_free(&h->scratch);
    bp_buf_free(&h->ev);
    free(h);
}

void bp_hub_attach(bp_hub_t *h, struct lws_context *ctx, const struct lws_protocols *proto,
                   struct bp_reader *reader, bp_tokens_t *tokens) {
    h->ctx = ctx;
    h->proto = proto;
    h->reader = reader;
    h->tokens = tokens;
}

/* Tells every client whether what it has is still followed from Redis
 * (docs/protocol.md §2, status): "stale" once the reader has not followed
 * the stream for STALE_AFTER_MS (Redis lost, unreachable, frozen past the
 * command timeout; short reloads do not count), "live" when it does again
 * (after the reload: the events missed come first). Before the first
 * snapshot clients wait for it, so there is nothing to say. */
static void check_source(bp_hub_t *h, int64_t now) {
    if (!h->ready || !h->reader) return;
    bool following = bp_reader_ready(h->reader);
    if (following) h->following_ms = now;
    h->unready_ms = following ? 0 : h->unready_ms ? h->unready_ms : now;
    bool stale = !following && now - h->unready_ms >= STALE_AFTER_MS;
    if (stale == h->stale) return;
    h->stale = stale;
    char since[32], msg[128];
    bp_time_format(stale ? h->following_ms : now, since);
    int n = snprintf(msg, sizeof msg, "{\"type\":\"status\",\"state\":\"%s\",\"since\":\"%s\"%s}",
                     stale ? "stale" : "live", since, stale ? ",\"reason\":\"redis\"" : "");
    if (stale)
        bp_warn("hub: not following the Redis stream since %s: clients are told", since);
    else
        bp_info("hub: following the Redis stream again: clients are told");
    if (n > 0 && (size_t)n < sizeof msg)
        bp_hub_broadcast(h, BP_BCAST_STATUS, msg, (size_t)n, msg, (size_t)n);
}

void bp_hub_sweep(bp_hub_t *h) {
    int64_t now = bp_time_now_ms();
    int64_t hello_ms = (int64_t)h->s->server_hello_timeout_s * 1000;
    int64_t slow_ms = (int64_t)h->s->server_slow_client_timeout_s * 1000;
    int64_t ping_ms = (int64_t)h->s->server_ping_interval_s * 1000;
    int64_t dead_ms = (int64_t)h->s->server_idle_timeout_s * 1000;
    bool tick = now - h->last_tick_ms >= (int64_t)h->s->server_tick_interval_s * 1000;
    if (h->fanout_active && bp_time_mono_ns() - h->fanout_start_ns > FANOUT_GIVE_UP_NS) {
        /* someone is stuck: record the measurement as it stands (slow bucket) */
        for (client_t *c = h->clients; c; c = c->next)
            c->in_fanout = false;
        fanout_record(h, bp_time_mono_ns() - h->fanout_start_ns);
    }
    if (tick && h->ready) {
        h->last_tick_ms = now;
        char ts[32];
        bp_time_format(now, ts);
        int n = snprintf((char *)h->tick + LWS_PRE, 256,
                         "{\"type\":\"tick\",\"epoch\":\"%s\",\"offset\":%llu,\"now\":\"%s\"}",
                         h->epoch, (unsigned long long)h->offset, ts);
        h->tick_len = n > 0 && n < 256 ? (size_t)n : 0;
    }
    check_source(h, now);
    uint64_t gen = h->tokens ? bp_tokens_generation(h->tokens) : 0;
    for (client_t *c = h->clients, *next; c; c = next) {
        next = c->next; /* closing may free c */
        if (c->state == C_HELLO && now - c->connected_ms > hello_ms && !c->close_code) {
            h->st.closed_hello++;
            hub_close_with(c, 4001, "hello expected");
        }
        /* rights are re-checked when tokens change (revocation, logout) and
         * when a session runs out */
        if (c->state != C_HELLO && !c->close_code &&
            (c->auth_gen != gen || (c->auth.session_id[0] && c->auth.session_exp <= now)))
            bp_hub_authorize(h, c, now);
        if (c->close_code) {
            if (!c->closing) close_client(c);
            continue;
        }
        bool pending =
            c->snap || c->ctl_len || c->backlog || (c->state == C_ACTIVE && c->tail < h->offset);
        if (pending && now - c->progress_ms > slow_ms) {
            /* It took nothing for idle_timeout_s: close it with 4008. The
             * close frame waits behind what it did not read; lws gives up on
             * the close handshake after its own timeout. */
            h->st.closed_slow++;
            hub_close_with(c, 4008, "too slow");
            close_client(c);
            continue;
        }
        /* Heartbeats are ours, not lws' retry policy: lws 4.1 keeps its
         * timers in one sorted list, and a ping timer per connection made
         * every accept and every pong O(clients). */
        if (now - c->heard_ms > dead_ms) {
            h->st.closed_silent++;
            hub_close_with(c, 1001, "no pong");
            close_client(c);
            continue;
        }
        if (now - c->heard_ms > ping_ms && now - c->pinged_ms > ping_ms &&
            !lws_partial_buffered(c->wsi)) {
            /* with a payload: lws 4.1 does not report an empty pong */
            unsigned char ping[LWS_PRE + 2] = {[LWS_PRE] = 'b', [LWS_PRE + 1] = 'p'};
            c->pinged_ms = now;
            if (lws_write(c->wsi, ping + LWS_PRE, 2, LWS_WRITE_PING) < 0) {
                c->closing = true;
                lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
                continue;
            }
        }
        if (tick && c->state == C_ACTIVE && h->tick_len) {
            c->tick_due = true;
            push_now(h, c);
        }
    }
}

const char *bp_hub_node(const bp_hub_t *h) {
    return h->node;
}

size_t bp_hub_clients(const bp_hub_t *h) {
    return h->n_clients;
}

void bp_hub_metrics(const bp_hub_t *h, bp_buf_t *o) {
    const bp_ring_t *full = &h->aud[BP_AUD_FULL].ring;
    bp_hub_gauges_t g = {
        .clients = h->n_clients,
        .stale = h->stale,
        .ring_events = bp_ring_count(full),
        .ring_bytes =
            full->bytes + h->aud[BP_AUD_WALL].ring.bytes + h->aud[BP_AUD_HOSPITALS].ring.bytes,
        .offset = h->offset,
        .ranges_pending = h->ranges_inflight,
    };
    bp_hub_stats_write(&h->st, &g, o);
}
