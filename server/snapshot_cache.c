/* Snapshots: serialized once, split into chunks, cached (see snapshot_cache.h). */
#include "snapshot_cache.h"
#include "bp_compress.h"
#include "bp_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_CHUNK 16384
/* A snapshot gzipped once for every client that asked (hello "compress"):
 * ~116 KiB of a dispatcher's becomes ~12 KiB for a millisecond or two of
 * CPU per snapshot built, not per client (permessage-deflate would
 * compress it, and every event, once per client). */
#define SNAP_GZIP_LEVEL       6
#define SNAPSHOT_MIN_INTERVAL 100000000ull /* ns between rebuilds while the ring covers the gap */
/* ns a snapshot serves at its own offset: its "now" sets a client's clock
 * (web/live.js serverNow) until the next tick, so a wall connecting on a
 * quiet night must not be handed the time of the last change (issue 9) */
#define SNAPSHOT_MAX_AGE 1000000000ull

void bp_snap_unref(bp_snap_t *s) {
    if (!s || --s->refs > 0) return;
    bp_snap_unref(s->gz);
    for (size_t i = 0; i < s->n; i++)
        free(s->chunks[i].buf);
    free(s);
}

/* A snapshot of data[0..len) in chunks (fragments of one message), each
 * with its LWS_PRE headroom; NULL when out of memory. */
static bp_snap_t *snap_of(const char *data, size_t len, bool binary, uint64_t offset,
                          const char *epoch) {
    size_t n = len / SNAP_CHUNK + 2;
    bp_snap_t *s = calloc(1, sizeof *s + n * sizeof(bp_chunk_t));
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
        while (!binary && off + l < len && l > 1 && ((unsigned char)data[off + l] & 0xC0) == 0x80)
            l--;
        bp_chunk_t *c = &s->chunks[s->n];
        c->buf = malloc(LWS_PRE + l);
        if (!c->buf) {
            bp_snap_unref(s);
            return NULL;
        }
        memcpy(c->buf + LWS_PRE, data + off, l);
        c->len = l;
        s->n++;
        off += l;
    }
    return s;
}

bp_snap_t *bp_snap_build(const bp_state_t *state, const char *epoch, uint64_t offset,
                         bp_view_t view, const uint64_t *only, bp_snap_stats_t *st) {
    bp_buf_t b;
    bp_buf_init(&b, 0, 256u << 20);
    bp_state_write_snapshot_in(&b, state, epoch, offset, bp_time_now_ms(), view, only);
    bp_snap_t *s = b.failed ? NULL : snap_of(bp_buf_data(&b), b.len, false, offset, epoch);
    bp_buf_free(&b);
    if (s) st->built++;
    return s;
}

bp_snap_t *bp_snap_gzip(bp_snap_t *s, bp_snap_stats_t *st) {
    if (!s->gz) {
        size_t len = 0;
        for (size_t i = 0; i < s->n; i++)
            len += s->chunks[i].len;
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
            if (s->gz) st->gzipped++;
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

bp_snap_t *bp_snap_cached(bp_snap_t **cache, const bp_state_t *state, const char *epoch,
                          uint64_t offset, bp_view_t view, const bp_ring_t *ring,
                          bp_snap_stats_t *st) {
    bp_snap_t *s = *cache;
    uint64_t age = s ? bp_time_mono_ns() - s->built_ns : 0;
    bool usable =
        s && strcmp(s->epoch, epoch) == 0 && age < SNAPSHOT_MAX_AGE &&
        (s->offset == offset || (age < SNAPSHOT_MIN_INTERVAL && bp_ring_get(ring, s->offset + 1)));
    if (!usable) {
        bp_snap_t *n = bp_snap_build(state, epoch, offset, view, NULL, st);
        if (!n) return NULL;
        bp_snap_unref(*cache);
        *cache = s = n;
    }
    s->refs++;
    return s;
}
