/* WebSocket fan-out from the shared ring (see hub.h). */
#include "hub.h"
#include "bp_auth.h"
#include "bp_codec.h"
#include "bp_compress.h"
#include "bp_httputil.h"
#include "bp_log.h"
#include "bp_ring.h"
#include "bp_time.h"
#include "bp_tokens.h"
#include "bp_wsclient.h"
#include "credential.h"
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNAP_CHUNK            16384
/* A snapshot gzipped once for every client that asked (hello "compress"):
 * ~116 KiB of a dispatcher's becomes ~12 KiB for a millisecond or two of
 * CPU per snapshot built, not per client (permessage-deflate would
 * compress it, and every event, once per client). */
#define SNAP_GZIP_LEVEL 6
#define SNAPSHOT_MIN_INTERVAL 100000000ull /* ns between rebuilds while the ring covers the gap */
#define CTL_MAX               320
#define IP_BUCKETS            4096
#define RANGE_MAX_CONCURRENT  32   /* stream resumes waiting for Redis at once */
#define FANOUT_GIVE_UP_NS     10000000000ull
#define STALE_AFTER_MS        1000 /* not following the stream this long: clients are told */

typedef struct {
    char *buf; /* LWS_PRE + data */
    size_t len;
} chunk_t;

typedef struct snap {
    int refs;
    uint64_t offset;
    char epoch[BP_EPOCH_MAX + 1];
    uint64_t built_ns;
    size_t bytes;
    bool binary;      /* gzip of a snapshot: one binary message */
    struct snap *gz;  /* this one gzipped, made at first use (a reference) */
    size_t n;
    chunk_t chunks[];
} snap_t;

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
    bool gzip; /* takes its snapshots gzipped (hello "compress") */
    uint32_t seen[BP_BCAST__COUNT]; /* broadcast generations it has (0: none) */
    uint16_t close_code;
    char reason[16];
    snap_t *snap;
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
    char *rx; /* BP_WSCLIENT_MSG_MAX bytes while a message is being received, else NULL */
    bp_cred_t auth;    /* who it is: from the upgrade request, or a token in the hello */
    uint8_t aud;       /* bp_audience_t: what its role may see */
    uint64_t *only;    /* a manager's hospitals: all her snapshots hold (NULL: every one) */
    uint64_t auth_gen; /* token table generation its rights were checked at */
} client_t;

typedef struct {
    uint64_t connections, closed_slow, closed_hello, closed_protocol;
    uint64_t events_in, frames, bytes, coalesced, event_deliveries;
    uint64_t snapshots_built, snapshots_gzipped, snapshots_sent, skips;
    uint64_t resume_window, resume_stream, resume_snapshot_new, resume_snapshot_epoch,
        resume_snapshot_old;
    uint64_t ticks, rejected_full, rejected_ip, closed_silent;
    uint64_t rejected_origin, closed_unauthorized, closed_forbidden, closed_expired;
    uint64_t bcast_frames[BP_BCAST__COUNT];
} hub_stats_t;

/* What each audience is sent (DESIGN §8): its own ring and snapshot cache.
 * A hospital event is serialized once and shared by the three rings; an
 * ambulance or incident event is written once per audience (for an
 * audience that may not see it, an offset marker, so offsets stay
 * contiguous for resume). */
typedef struct {
    bp_view_t view; /* ambulance fields and incidents visible to it */
    bp_ring_t ring;
    struct snap *snap;
} aud_t;

/* Fan-out time: from a batch's arrival until every client that was live then
 * has it. One measurement at a time (a sample per batch while idle). */
static const double fanout_bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                       0.1,    0.2,   0.5,   1,     2,    5};
#define FANOUT_BUCKETS (sizeof fanout_bounds / sizeof *fanout_bounds)

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
        chunk_t v[2];
        uint32_t gen;
        bool full_only;
    } bcast[BP_BCAST__COUNT];
    int64_t last_tick_ms;
    ip_node_t *ips[IP_BUCKETS];
    size_t ranges_inflight;
    bool fanout_active;
    uint64_t fanout_target, fanout_start_ns;
    size_t fanout_remaining;
    uint64_t fanout_counts[FANOUT_BUCKETS + 1];
    double fanout_sum;
    uint64_t fanout_n;
    hub_stats_t st;
};

/* -- per-address counts ------------------------------------------------------ */

static ip_node_t **ip_slot(bp_hub_t *h, const char *ip) {
    uint32_t x = 2166136261u; /* FNV-1a */
    for (const char *p = ip; *p; p++) x = (x ^ (unsigned char)*p) * 16777619u;
    ip_node_t **n = &h->ips[x % IP_BUCKETS];
    while (*n && strcmp((*n)->ip, ip) != 0) n = &(*n)->next;
    return n;
}

static uint32_t ip_count(bp_hub_t *h, const char *ip) {
    ip_node_t *n = *ip_slot(h, ip);
    return n ? n->count : 0;
}

static int ip_add(bp_hub_t *h, const char *ip) {
    ip_node_t **slot = ip_slot(h, ip);
    if (!*slot) {
        ip_node_t *n = calloc(1, sizeof *n);
        if (!n) return -1;
        snprintf(n->ip, sizeof n->ip, "%s", ip);
        *slot = n;
    }
    (*slot)->count++;
    return 0;
}

static void ip_remove(bp_hub_t *h, const char *ip) {
    ip_node_t **slot = ip_slot(h, ip);
    ip_node_t *n = *slot;
    if (!n || --n->count) return;
    *slot = n->next;
    free(n);
}

/* -- fan-out timing ------------------------------------------------------------ */

static void fanout_record(bp_hub_t *h, uint64_t ns) {
    double sec = (double)ns / 1e9;
    size_t i = 0;
    while (i < FANOUT_BUCKETS && sec > fanout_bounds[i]) i++;
    h->fanout_counts[i]++;
    h->fanout_sum += sec;
    h->fanout_n++;
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

/* -- snapshots -------------------------------------------------------------- */

static void snap_unref(snap_t *s) {
    if (!s || --s->refs > 0) return;
    snap_unref(s->gz);
    for (size_t i = 0; i < s->n; i++) free(s->chunks[i].buf);
    free(s);
}

/* A snapshot of data[0..len) in chunks (fragments of one message), each
 * with its LWS_PRE headroom; NULL when out of memory. */
static snap_t *snap_of(const char *data, size_t len, bool binary, uint64_t offset,
                       const char *epoch) {
    size_t n = len / SNAP_CHUNK + 2;
    snap_t *s = calloc(1, sizeof *s + n * sizeof(chunk_t));
    if (!s) return NULL;
    s->refs = 1;
    s->offset = offset;
    snprintf(s->epoch, sizeof s->epoch, "%s", epoch);
    s->built_ns = bp_time_mono_ns();
    s->bytes = len;
    s->binary = binary;
    size_t off = 0;
    while (off < len) {
        size_t l = len - off < SNAP_CHUNK ? len - off : SNAP_CHUNK;
        /* never split a UTF-8 sequence between fragments of a text message */
        while (!binary && off + l < len && l > 1 && ((unsigned char)data[off + l] & 0xC0) == 0x80) l--;
        chunk_t *c = &s->chunks[s->n];
        c->buf = malloc(LWS_PRE + l);
        if (!c->buf) {
            snap_unref(s);
            return NULL;
        }
        memcpy(c->buf + LWS_PRE, data + off, l);
        c->len = l;
        s->n++;
        off += l;
    }
    return s;
}

static snap_t *snap_build(bp_hub_t *h, bp_view_t view, const uint64_t *only) {
    bp_buf_t b;
    bp_buf_init(&b, 0, 256u << 20);
    bp_state_write_snapshot_in(&b, h->state, h->epoch, h->offset, bp_time_now_ms(), view, only);
    snap_t *s = b.failed ? NULL : snap_of(bp_buf_data(&b), b.len, false, h->offset, h->epoch);
    bp_buf_free(&b);
    if (s) h->st.snapshots_built++;
    return s;
}

/* The gzipped form of text snapshot s, made once and kept with it; s
 * itself when compressing fails (the client reads text as well). Returns
 * a new reference. */
static snap_t *snap_gzip(bp_hub_t *h, snap_t *s) {
    if (!s->gz) {
        size_t len = 0;
        for (size_t i = 0; i < s->n; i++) len += s->chunks[i].len;
        char *all = malloc(len ? len : 1);
        unsigned char *z = NULL;
        size_t zn = 0;
        if (all) {
            size_t off = 0;
            for (size_t i = 0; i < s->n; i++) {
                memcpy(all + off, s->chunks[i].buf + LWS_PRE, s->chunks[i].len);
                off += s->chunks[i].len;
            }
            if (bp_compress(BP_ENC_GZIP, SNAP_GZIP_LEVEL, all, len, &z, &zn)) z = NULL;
        }
        free(all);
        if (z) {
            s->gz = snap_of((const char *)z, zn, true, s->offset, s->epoch);
            if (s->gz) h->st.snapshots_gzipped++;
        }
        free(z);
        if (!s->gz) {
            s->refs++;
            return s;
        }
    }
    s->gz->refs++;
    return s->gz;
}

/* The snapshot to send now: the cached one if it is current, or recent and
 * still followed by the ring; else a new one. Returns a new reference. */
static snap_t *snap_get(bp_hub_t *h, aud_t *a) {
    snap_t *s = a->snap;
    bool usable = s && strcmp(s->epoch, h->epoch) == 0 &&
                  (s->offset == h->offset ||
                   (bp_time_mono_ns() - s->built_ns < SNAPSHOT_MIN_INTERVAL &&
                    bp_ring_get(&a->ring, s->offset + 1)));
    if (!usable) {
        snap_t *n = snap_build(h, a->view, NULL);
        if (!n) return NULL;
        snap_unref(a->snap);
        a->snap = s = n;
    }
    s->refs++;
    return s;
}

/* -- control messages ---------------------------------------------------------- */

static void ctl_set(client_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctl_set(client_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf((char *)c->ctl + LWS_PRE, CTL_MAX, fmt, ap);
    va_end(ap);
    c->ctl_len = n > 0 && n < CTL_MAX ? (size_t)n : 0;
}

static void start_snapshot(bp_hub_t *h, client_t *c, const char *reason) {
    /* a manager's holds her hospitals only: built for her (a few KiB
     * instead of the city's ~100), not cached */
    snap_t *s = c->only ? snap_build(h, h->aud[c->aud].view, c->only) : snap_get(h, &h->aud[c->aud]);
    if (!s) {
        bp_error("hub: cannot build a snapshot (out of memory)");
        c->close_code = 1011;
        return;
    }
    if (c->gzip) {
        snap_t *z = snap_gzip(h, s);
        snap_unref(s);
        s = z;
    }
    snap_unref(c->snap);
    c->snap = s;
    c->snap_chunk = 0;
    c->need_snapshot = false;
    ctl_set(c,
            "{\"type\":\"welcome\",\"mode\":\"snapshot\",\"reason\":\"%s\",\"epoch\":\"%s\","
            "\"offset\":%llu,\"tick_interval_s\":%d,\"server\":\"%s\"}",
            reason, s->epoch, (unsigned long long)s->offset, h->s->server_tick_interval_s, h->node);
    h->st.snapshots_sent++;
}

static void welcome_resume(bp_hub_t *h, client_t *c, const char *via) {
    ctl_set(c,
            "{\"type\":\"welcome\",\"mode\":\"resume\",\"via\":\"%s\",\"epoch\":\"%s\","
            "\"offset\":%llu,\"tick_interval_s\":%d,\"server\":\"%s\"}",
            via, h->epoch, (unsigned long long)c->tail, h->s->server_tick_interval_s, h->node);
}

static void backlog_free(backlog_t *b) {
    if (!b) return;
    free(b->data);
    free(b->ends);
    free(b);
}

/* The stream's answer for a resume older than the ring. */
static void on_range(void *privdata, bool ok, const bp_change_t *changes, size_t count) {
    range_req_t *rq = privdata;
    bp_hub_t *h = rq->h;
    client_t *c = rq->c;
    uint64_t from = rq->from, to = rq->to;
    free(rq);
    h->ranges_inflight--;
    if (!c) return; /* it went away meanwhile */
    c->req = NULL;
    c->state = C_ACTIVE;
    backlog_t *b = NULL;
    if (ok && count == to - from && strcmp(c->resume_epoch, h->epoch) == 0) {
        b = calloc(1, sizeof *b);
        bp_buf_t data;
        bp_buf_init(&data, 0, (size_t)h->s->server_ring_bytes);
        if (b) b->ends = malloc(count * sizeof *b->ends);
        for (size_t i = 0; b && b->ends && i < count; i++) {
            bp_state_write_event_for(&data, &changes[i], h->aud[c->aud].view);
            b->ends[i] = data.len;
        }
        if (!b || !b->ends || data.failed) {
            bp_buf_free(&data);
            backlog_free(b);
            b = NULL;
        } else {
            b->data = bp_buf_steal(&data);
            b->n = count;
            b->first = from + 1;
        }
    }
    if (b) {
        c->backlog = b;
        c->tail = from;
        h->st.resume_stream++;
        welcome_resume(h, c, "stream");
    } else {
        h->st.resume_snapshot_old++;
        start_snapshot(h, c, "too_old");
    }
    lws_callback_on_writable(c->wsi);
}

/* Asks the stream for (from, to] when the ring no longer holds from + 1.
 * 0 when asked (the client waits in C_RANGE), -1 when not possible. */
static int start_range(bp_hub_t *h, client_t *c) {
    uint64_t from = c->resume_offset;
    const bp_ring_t *ring = &h->aud[c->aud].ring;
    uint64_t to = bp_ring_count(ring) ? bp_ring_first(ring) - 1 : h->offset;
    /* the bound is on everything the client missed: past it a snapshot is
     * cheaper than replaying history to a dashboard */
    if (!h->reader || to <= from || h->offset - from > (uint64_t)h->s->server_resume_max_events ||
        h->ranges_inflight >= RANGE_MAX_CONCURRENT)
        return -1;
    range_req_t *rq = malloc(sizeof *rq);
    if (!rq) return -1;
    *rq = (range_req_t){c, h, from, to};
    if (bp_reader_range(h->reader, from, to, (size_t)(to - from), on_range, rq)) {
        free(rq);
        return -1;
    }
    h->ranges_inflight++;
    c->req = rq;
    c->state = C_RANGE;
    return 0;
}

/* Where a client starts after its hello, once the hub has data. */
static void start_client(bp_hub_t *h, client_t *c) {
    c->state = C_ACTIVE;
    c->progress_ms = bp_time_now_ms();
    bool same_epoch = c->has_resume && strcmp(c->resume_epoch, h->epoch) == 0;
    if (same_epoch && c->resume_offset <= h->offset &&
        (c->resume_offset == h->offset || bp_ring_get(&h->aud[c->aud].ring, c->resume_offset + 1))) {
        c->tail = c->resume_offset;
        h->st.resume_window++;
        welcome_resume(h, c, "window");
        return;
    }
    if (same_epoch && c->resume_offset < h->offset && start_range(h, c) == 0) return;
    const char *reason = "new";
    if (!c->has_resume) h->st.resume_snapshot_new++;
    else if (strcmp(c->resume_epoch, h->epoch) != 0) {
        reason = "epoch";
        h->st.resume_snapshot_epoch++;
    } else {
        reason = c->resume_offset > h->offset ? "ahead" : "too_old";
        h->st.resume_snapshot_old++;
    }
    start_snapshot(h, c, reason);
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
    return c->state == C_ACTIVE &&
           (c->tail < h->offset || c->tick_due ||
            bcast_due(h, c) >= 0);
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
    if (c->state == C_WAIT && h->ready) start_client(h, c);
    int slot;
    if (c->ctl_len) {
        if (write_frame(h, c, c->ctl + LWS_PRE, c->ctl_len, LWS_WRITE_TEXT)) return -1;
        c->ctl_len = 0;
    } else if (c->state != C_ACTIVE || !h->ready) {
        return 0;
    } else if (c->snap) {
        snap_t *s = c->snap;
        size_t i = c->snap_chunk;
        int wp = i > 0 ? LWS_WRITE_CONTINUATION : s->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
        if (i + 1 < s->n) wp |= LWS_WRITE_NO_FIN;
        if (write_frame(h, c, (unsigned char *)s->chunks[i].buf + LWS_PRE, s->chunks[i].len,
                        (enum lws_write_protocol)wp))
            return -1;
        if (++c->snap_chunk == s->n) {
            c->tail = s->offset;
            c->snap = NULL;
            snap_unref(s);
            fanout_check(h, c);
        }
    } else if (c->need_snapshot) {
        start_snapshot(h, c, c->reason[0] ? c->reason : "reload");
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
        bp_buf_put(f, "]}", 2);
        if (f->failed ||
            write_frame(h, c, (unsigned char *)bp_buf_data(f), f->len, LWS_WRITE_TEXT))
            return -1;
        h->st.event_deliveries += i - b->next;
        c->tail = b->first + i - 1;
        b->next = i;
        if (b->next == b->n) {
            backlog_free(b);
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
            start_snapshot(h, c, "lagging");
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
        const chunk_t *a = &h->bcast[slot].v[c->aud == BP_AUD_FULL ? 0 : 1];
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

/* Marks a client to be closed with a status; nothing more is written to it,
 * and the next sweep closes it (close_client). */
static void close_with(client_t *c, uint16_t code, const char *reason) {
    c->close_code = code;
    snprintf(c->reason, sizeof c->reason, "%s", reason);
}

/* Closes now, from RECEIVE: lws sends the close frame with this status when
 * the receive callback returns -1 after lws_close_reason(). */
static int close_now(client_t *c, uint16_t code, const char *reason) {
    close_with(c, code, reason);
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

/* -- who may listen ------------------------------------------------------------------- */

/* Sets the hospitals a client's snapshots hold (NULL: all). 1 when that
 * changed, 0 when not, -1 when out of memory. */
static int set_only(client_t *c, const uint64_t *scope) {
    size_t size = BP_REGISTRY_MAX / 64 * sizeof(uint64_t);
    if (!scope || !c->only) {
        if (!scope && !c->only) return 0;
        free(c->only);
        c->only = scope ? malloc(size) : NULL;
        if (scope && !c->only) return -1;
    } else if (memcmp(c->only, scope, size) == 0) {
        return 0;
    }
    if (scope) memcpy(c->only, scope, size);
    return 1;
}

/* Checks (again) whether the client may have the live feed; on a change of
 * the token table or an expired session the sweep calls it for every
 * client. 0 when it may, with its audience set; else closes it with 4401
 * (no valid credentials: sign in again), 4403 (valid, not allowed) or 1013
 * (tokens not loaded yet: retry). */
static int authorize(bp_hub_t *h, client_t *c, int64_t now) {
    const bp_principal_t *p;
    const char *why = NULL;
    uint16_t code = 4401;
    switch (bp_tokens_check(h->tokens, &c->auth, now, &p)) {
    case BP_CRED_LOADING: code = 1013, why = "auth loading"; break;
    case BP_CRED_NOT_VALID:
    case BP_CRED_ENDED: why = "unauthorized"; break;
    case BP_CRED_GONE:
    case BP_CRED_REVOKED: why = "revoked"; break;
    case BP_CRED_EXPIRED:
    case BP_CRED_SESSION_ENDED: why = "expired"; break;
    case BP_CRED_ANONYMOUS:
    case BP_CRED_VALID: break;
    }
    if (!why && !bp_auth_allows(p, h->anon_role, BP_ACT_LIVE, -1, now)) {
        why = p ? "forbidden" : "unauthorized";
        if (p) code = 4403;
    }
    c->auth_gen = h->tokens ? bp_tokens_generation(h->tokens) : 0;
    if (why) {
        if (code == 4403) h->st.closed_forbidden++;
        else if (code == 4401 && c->state != C_HELLO) h->st.closed_expired++;
        else if (code == 4401) h->st.closed_unauthorized++;
        close_with(c, code, why);
        return -1;
    }
    bp_audience_t aud =
        bp_role_audience(p ? p->role : (bp_role_t)(h->anon_role < 0 ? 0 : h->anon_role));
    if (c->state != C_HELLO && aud != c->aud) {
        /* its role changed under it: what it holds may be more than it may see */
        close_with(c, 4401, "role changed");
        return -1;
    }
    c->aud = (uint8_t)aud;
    int changed = set_only(c, aud == BP_AUD_HOSPITALS && p && !p->all_hospitals ? p->scope : NULL);
    if (changed < 0) {
        close_with(c, 1011, "no memory");
        return -1;
    }
    if (changed && c->state == C_ACTIVE && !c->need_snapshot) {
        /* her hospitals changed under her: what she holds is not what she may see */
        c->need_snapshot = true;
        snprintf(c->reason, sizeof c->reason, "scope");
    }
    return 0;
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
    if (authorize(h, c, bp_time_now_ms())) {
        c->closing = true;
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->reason,
                         strlen(c->reason));
        return -1;
    }
    snap_unref(c->snap);
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
    if (c->prev) c->prev->next = c->next;
    else if (h->clients == c) h->clients = c->next;
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
            bp_log_field_t f[] = {{"method", "GET", 0}, {"route", "/ws", 0},
                                  {"status", NULL, 101}, {"addr", c->ip, 0}};
            bp_log_fields(BP_LOG_INFO, f, sizeof f / sizeof *f, "http");
        }
        /* Over a limit: accept, then close with a status the client can act
         * on (1013 try again later / 4029 too many from this address),
         * which a refused upgrade could not tell it. */
        if (h->n_clients >= (size_t)h->s->server_max_clients) {
            h->st.rejected_full++;
            close_with(c, 1013, "server full");
        } else if (ip_count(h, c->ip) >= (uint32_t)h->s->server_max_clients_per_ip) {
            h->st.rejected_ip++;
            close_with(c, 4029, "address limit");
        } else if (ip_add(h, c->ip) == 0) {
            c->counted = true;
            h->n_clients++;
        } else {
            close_with(c, 1011, "no memory");
        }
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (!c || !c->hub) return 0;
        unlink_client(h, c);
        if (c->counted) {
            h->n_clients--;
            ip_remove(h, c->ip);
        }
        if (c->in_fanout) fanout_done_one(h, c);
        if (c->req) c->req->c = NULL;
        backlog_free(c->backlog);
        c->backlog = NULL;
        free(c->rx);
        c->rx = NULL;
        snap_unref(c->snap);
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
    default:
        return 0;
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
        snap_unref(h->aud[i].snap);
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
        h->bcast[slot].v[i] = (chunk_t){buf, len[i]};
    }
    h->bcast[slot].full_only = other == NULL;
    if (++h->bcast[slot].gen == 0) h->bcast[slot].gen = 1;
    for (client_t *c = h->clients; c; c = c->next) push_now(h, c);
}

void bp_hub_on_batch(void *hub) {
    bp_hub_t *h = hub;
    if (!h->fanout_active) {
        size_t n = 0;
        for (client_t *c = h->clients; c; c = c->next) {
            c->in_fanout = c->state == C_ACTIVE && c->counted && !c->close_code && c->tail < h->offset;
            n += c->in_fanout;
        }
        if (n) {
            h->fanout_active = true;
            h->fanout_remaining = n;
            h->fanout_target = h->offset;
            h->fanout_start_ns = bp_time_mono_ns();
        }
    }
    for (client_t *c = h->clients; c; c = c->next) push_now(h, c);
}

/* -- lifecycle and housekeeping ----------------------------------------------------------------- */

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
            while (i--) bp_ring_free(&h->aud[i].ring);
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
    for (size_t i = 0; i < IP_BUCKETS; i++) {
        while (h->ips[i]) {
            ip_node_t *n = h->ips[i];
            h->ips[i] = n->next;
            free(n);
        }
    }
    for (int i = 0; i < BP_AUD__COUNT; i++) {
        snap_unref(h->aud[i].snap);
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
        for (client_t *c = h->clients; c; c = c->next) c->in_fanout = false;
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
            close_with(c, 4001, "hello expected");
        }
        /* rights are re-checked when tokens change (revocation, logout) and
         * when a session runs out */
        if (c->state != C_HELLO && !c->close_code &&
            (c->auth_gen != gen || (c->auth.session_id[0] && c->auth.session_exp <= now)))
            authorize(h, c, now);
        if (c->close_code) {
            if (!c->closing) close_client(c);
            continue;
        }
        bool pending = c->snap || c->ctl_len || c->backlog ||
                       (c->state == C_ACTIVE && c->tail < h->offset);
        if (pending && now - c->progress_ms > slow_ms) {
            /* It took nothing for idle_timeout_s: close it with 4008. The
             * close frame waits behind what it did not read; lws gives up on
             * the close handshake after its own timeout. */
            h->st.closed_slow++;
            close_with(c, 4008, "too slow");
            close_client(c);
            continue;
        }
        /* Heartbeats are ours, not lws' retry policy: lws 4.1 keeps its
         * timers in one sorted list, and a ping timer per connection made
         * every accept and every pong O(clients). */
        if (now - c->heard_ms > dead_ms) {
            h->st.closed_silent++;
            close_with(c, 1001, "no pong");
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
    const hub_stats_t *s = &h->st;
#define C(name, help, v)                                                                           \
    bp_buf_printf(o, "# HELP bedpulse_" name " " help "\n# TYPE bedpulse_" name " counter\n"      \
                     "bedpulse_" name " %llu\n",                                                    \
                  (unsigned long long)(v))
#define G(name, help, v)                                                                           \
    bp_buf_printf(o, "# HELP bedpulse_" name " " help "\n# TYPE bedpulse_" name " gauge\n"        \
                     "bedpulse_" name " %llu\n",                                                    \
                  (unsigned long long)(v))
    G("ws_clients", "WebSocket clients connected now.", h->n_clients);
    C("ws_connections_total", "WebSocket connections accepted.", s->connections);
    C("events_in_total", "Events read from the Redis stream.", s->events_in);
    C("event_deliveries_total", "Events delivered to clients (one per client per event).",
      s->event_deliveries);
    C("ws_frames_total", "WebSocket frames written.", s->frames);
    C("ws_bytes_total", "WebSocket payload bytes written.", s->bytes);
    C("ws_coalesced_frames_total", "Frames that carried several events.", s->coalesced);
    C("snapshots_built_total", "Snapshots serialized.", s->snapshots_built);
    C("snapshots_sent_total", "Snapshots sent to clients.", s->snapshots_sent);
    C("snapshots_gzipped_total", "Snapshots gzipped (once each, for the clients that take them so).",
      s->snapshots_gzipped);
    C("skip_to_latest_total", "Clients that fell out of the ring and got a fresh snapshot.",
      s->skips);
    C("ws_closed_slow_total", "Clients closed for not keeping up.", s->closed_slow);
    C("ws_closed_hello_total", "Clients closed for not saying hello in time.", s->closed_hello);
    C("ws_closed_protocol_total", "Clients closed for protocol errors.", s->closed_protocol);
    C("ws_closed_silent_total", "Clients closed for not answering pings.", s->closed_silent);
    C("ticks_total", "Heartbeat ticks sent.", s->ticks);
    C("alert_frames_total", "Alert lists sent to clients.", s->bcast_frames[BP_BCAST_ALERTS]);
    C("recommendation_frames_total", "Incident recommendation lists sent to clients.",
      s->bcast_frames[BP_BCAST_RECOMMEND]);
    C("offload_frames_total", "Offload-delayed lists sent to clients.",
      s->bcast_frames[BP_BCAST_OFFLOAD]);
    C("status_frames_total", "Status messages (stale / live) sent to clients.",
      s->bcast_frames[BP_BCAST_STATUS]);
    G("stale", "Whether clients were told their data is not followed from Redis (1) or not (0).",
      h->stale);
    bp_buf_printf(o, "# HELP bedpulse_resume_total Client starts by outcome.\n"
                     "# TYPE bedpulse_resume_total counter\n"
                     "bedpulse_resume_total{outcome=\"window\"} %llu\n"
                     "bedpulse_resume_total{outcome=\"stream\"} %llu\n"
                     "bedpulse_resume_total{outcome=\"snapshot_new\"} %llu\n"
                     "bedpulse_resume_total{outcome=\"snapshot_epoch\"} %llu\n"
                     "bedpulse_resume_total{outcome=\"snapshot_too_old\"} %llu\n",
                  (unsigned long long)s->resume_window, (unsigned long long)s->resume_stream,
                  (unsigned long long)s->resume_snapshot_new,
                  (unsigned long long)s->resume_snapshot_epoch,
                  (unsigned long long)s->resume_snapshot_old);
    G("ring_events", "Events held in the ring (each audience's ring holds the same offsets).",
      bp_ring_count(&h->aud[BP_AUD_FULL].ring));
    G("ring_bytes", "Bytes held in the rings of all audiences.",
      h->aud[BP_AUD_FULL].ring.bytes + h->aud[BP_AUD_WALL].ring.bytes +
          h->aud[BP_AUD_HOSPITALS].ring.bytes);
    G("offset", "Last offset applied.", h->offset);
    C("ws_rejected_full_total", "Connections closed with 1013: max_clients reached.",
      s->rejected_full);
    C("ws_rejected_address_total", "Connections closed with 4029: max_clients_per_ip reached.",
      s->rejected_ip);
    C("ws_rejected_origin_total", "Upgrades refused: Origin not this site nor allowed.",
      s->rejected_origin);
    C("ws_closed_unauthorized_total", "Clients closed with 4401 at hello: no valid credentials.",
      s->closed_unauthorized);
    C("ws_closed_forbidden_total", "Clients closed with 4403: role may not have the live feed.",
      s->closed_forbidden);
    C("ws_closed_expired_total",
      "Clients closed with 4401 later: token revoked or expired, session ended.",
      s->closed_expired);
    G("resumes_from_stream_pending", "Stream resumes waiting for Redis.", h->ranges_inflight);
    bp_buf_puts(o, "# HELP bedpulse_fanout_seconds Time from a batch of events arriving until "
                   "every live client has it.\n# TYPE bedpulse_fanout_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < FANOUT_BUCKETS; i++) {
        cum += h->fanout_counts[i];
        bp_buf_printf(o, "bedpulse_fanout_seconds_bucket{le=\"%g\"} %llu\n", fanout_bounds[i],
                      (unsigned long long)cum);
    }
    cum += h->fanout_counts[FANOUT_BUCKETS];
    bp_buf_printf(o,
                  "bedpulse_fanout_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "bedpulse_fanout_seconds_sum %.6f\nbedpulse_fanout_seconds_count %llu\n",
                  (unsigned long long)cum, h->fanout_sum, (unsigned long long)h->fanout_n);
#undef C
#undef G
}
