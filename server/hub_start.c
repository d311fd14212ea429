/* Where a WebSocket client starts after its hello (hub_parts.h): resumed
 * from the shared ring, from the stream in Redis when the ring no longer
 * holds its offset, or sent a snapshot; and the welcome that says which.
 * The fan-out that follows is hub.c. */
#include "bp_codec.h"
#include "bp_log.h"
#include "bp_time.h"
#include "hub_parts.h"
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANGE_MAX_CONCURRENT 32 /* stream resumes waiting for Redis at once */

/* -- control messages ---------------------------------------------------------- */

static void ctl_set(client_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctl_set(client_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf((char *)c->ctl + LWS_PRE, CTL_MAX, fmt, ap);
    va_end(ap);
    c->ctl_len = n > 0 && n < CTL_MAX ? (size_t)n : 0;
}

void bp_hub_start_snapshot(bp_hub_t *h, client_t *c, const char *reason) {
    /* a manager's holds her hospitals only: built for her (a few KiB
     * instead of the city's ~100), not cached */
    aud_t *a = &h->aud[c->aud];
    bp_snap_t *s =
        c->only ? bp_snap_build(h->state, h->epoch, h->offset, a->view, c->only, &h->st.snaps)
                : bp_snap_cached(&a->snap, h->state, h->epoch, h->offset, a->view, &a->ring,
                                 &h->st.snaps);
    if (!s) {
        bp_error("hub: cannot build a snapshot (out of memory)");
        c->close_code = 1011;
        return;
    }
    if (c->gzip) {
        bp_snap_t *z = bp_snap_gzip(s, &h->st.snaps);
        bp_snap_unref(s);
        s = z;
    }
    bp_snap_unref(c->snap);
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

void bp_hub_backlog_free(backlog_t *b) {
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
            bp_hub_backlog_free(b);
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
        bp_hub_start_snapshot(h, c, "too_old");
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
void bp_hub_start_client(bp_hub_t *h, client_t *c) {
    c->state = C_ACTIVE;
    c->progress_ms = bp_time_now_ms();
    bool same_epoch = c->has_resume && strcmp(c->resume_epoch, h->epoch) == 0;
    if (same_epoch && c->resume_offset <= h->offset &&
        (c->resume_offset == h->offset ||
         bp_ring_get(&h->aud[c->aud].ring, c->resume_offset + 1))) {
        c->tail = c->resume_offset;
        h->st.resume_window++;
        welcome_resume(h, c, "window");
        return;
    }
    if (same_epoch && c->resume_offset < h->offset && start_range(h, c) == 0) return;
    const char *reason = "new";
    if (!c->has_resume)
        h->st.resume_snapshot_new++;
    else if (strcmp(c->resume_epoch, h->epoch) != 0) {
        reason = "epoch";
        h->st.resume_snapshot_epoch++;
    } else {
        reason = c->resume_offset > h->offset ? "ahead" : "too_old";
        h->st.resume_snapshot_old++;
    }
    bp_hub_start_snapshot(h, c, reason);
}
