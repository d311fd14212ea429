/*
 * What the server's derived engine (server/derived.c) sends next, decided
 * without I/O: the offload list goes out when a hospital's offload flag
 * changed; the recommendations are rebuilt at most every
 * BP_DERIVE_REC_PUSH_MS and go out only when the rebuilt frame differs from
 * the last one sent. Pure.
 */
#ifndef BP_DERIVE_H
#define BP_DERIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_DERIVE_REC_PUSH_MS 3000 /* recommendations rebuilt at most this often */

/* What the engine remembers between passes; zero-initialised: nothing built. */
typedef struct {
    int64_t rec_ms; /* when the recommendations were last built; 0: never */
} bp_derive_t;

/* What goes out after one pass (bits). */
enum {
    BP_DERIVE_OFFLOAD = 1u << 0,   /* the offload list */
    BP_DERIVE_RECOMMEND = 1u << 1, /* the recommendations frame */
};

/* Whether the recommendations are due for a rebuild at now_ms. */
bool bp_derive_rec_due(const bp_derive_t *d, int64_t now_ms);

/* The decision after a pass at now_ms: offload_changed, whether any
 * hospital's offload flag changed; frame/len, the recommendations rebuilt
 * this pass (NULL when not due or not built), last/last_len the frame sent
 * last. Notes a rebuilt frame as built at now_ms. Bits of BP_DERIVE_*. */
unsigned bp_derive_next(bp_derive_t *d, int64_t now_ms, bool offload_changed, const void *frame,
                        size_t len, const void *last, size_t last_len);

#endif
