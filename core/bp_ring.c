/* Bounded ring of pre-serialized events. */
#include "bp_ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char suffix[] = "]}";

int bp_ring_init(bp_ring_t *r, size_t max_events, size_t max_bytes, size_t headroom) {
    memset(r, 0, sizeof *r);
    r->e = calloc(max_events ? max_events : 1, sizeof *r->e);
    if (!r->e) return -1;
    r->cap = max_events ? max_events : 1;
    r->max_bytes = max_bytes;
    r->headroom = headroom;
    return 0;
}

static bp_ring_entry_t *at(const bp_ring_t *r, size_t i) {
    return &r->e[(r->first + i) % r->cap];
}

static void drop_oldest(bp_ring_t *r) {
    bp_ring_entry_t *e = at(r, 0);
    r->bytes -= e->frame_len;
    free(e->buf);
    memset(e, 0, sizeof *e);
    r->first = (r->first + 1) % r->cap;
    r->count--;
}

void bp_ring_free(bp_ring_t *r) {
    while (r->count)
        drop_oldest(r);
    free(r->e);
    memset(r, 0, sizeof *r);
}

void bp_ring_clear(bp_ring_t *r, const char *epoch) {
    while (r->count)
        drop_oldest(r);
    r->first = 0;
    snprintf(r->epoch, sizeof r->epoch, "%s", epoch ? epoch : "");
}

static int prefix(const bp_ring_t *r, char *out, size_t out_len) {
    return snprintf(out, out_len, "{\"type\":\"events\",\"epoch\":\"%s\",\"events\":[", r->epoch);
}

int bp_ring_push(bp_ring_t *r, uint64_t offset, const char *event, size_t len, uint64_t in_ns) {
    if (r->count && offset != bp_ring_last(r) + 1) return -1;
    char pre[BP_EPOCH_MAX + 48];
    int pl = prefix(r, pre, sizeof pre);
    size_t frame = (size_t)pl + len + sizeof suffix - 1;
    if (frame > r->max_bytes) return -1;
    char *buf = malloc(r->headroom + frame);
    if (!buf) return -1;
    memcpy(buf + r->headroom, pre, (size_t)pl);
    memcpy(buf + r->headroom + pl, event, len);
    memcpy(buf + r->headroom + pl + len, suffix, sizeof suffix - 1);
    while (r->count && (r->count == r->cap || r->bytes + frame > r->max_bytes))
        drop_oldest(r);
    bp_ring_entry_t *e = at(r, r->count);
    e->offset = offset;
    e->in_ns = in_ns;
    e->buf = buf;
    e->frame_len = frame;
    e->ev_off = (size_t)pl;
    e->ev_len = len;
    r->count++;
    r->bytes += frame;
    return 0;
}

size_t bp_ring_count(const bp_ring_t *r) {
    return r->count;
}

uint64_t bp_ring_first(const bp_ring_t *r) {
    return r->count ? at(r, 0)->offset : 0;
}

uint64_t bp_ring_last(const bp_ring_t *r) {
    return r->count ? at(r, r->count - 1)->offset : 0;
}

const bp_ring_entry_t *bp_ring_get(const bp_ring_t *r, uint64_t offset) {
    if (!r->count || offset < bp_ring_first(r) || offset > bp_ring_last(r)) return NULL;
    return at(r, (size_t)(offset - bp_ring_first(r)));
}

size_t bp_ring_coalesce(const bp_ring_t *r, uint64_t after, size_t max_bytes, bp_buf_t *out,
                        uint64_t *last) {
    bp_buf_reset(out);
    if (!r->count || after >= bp_ring_last(r)) return 0;
    uint64_t from = after + 1 < bp_ring_first(r) ? bp_ring_first(r) : after + 1;
    char pre[BP_EPOCH_MAX + 48];
    int pl = prefix(r, pre, sizeof pre);
    bp_buf_put(out, pre, (size_t)pl);
    size_t n = 0;
    for (uint64_t o = from; o <= bp_ring_last(r); o++) {
        const bp_ring_entry_t *e = bp_ring_get(r, o);
        size_t need = e->ev_len + (n ? 1 : 0) + sizeof suffix - 1;
        if (n && out->len + need > max_bytes) break;
        if (n) bp_buf_putc(out, ',');
        bp_buf_put(out, e->buf + r->headroom + e->ev_off, e->ev_len);
        *last = o;
        n++;
    }
    bp_buf_put(out, suffix, sizeof suffix - 1);
    return out->failed ? 0 : n;
}
