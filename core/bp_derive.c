/* What the derived engine sends next (bp_derive.h). */
#include "bp_derive.h"

#include <string.h>

bool bp_derive_rec_due(const bp_derive_t *d, int64_t now_ms) {
    return now_ms - d->rec_ms >= BP_DERIVE_REC_PUSH_MS;
}

unsigned bp_derive_next(bp_derive_t *d, int64_t now_ms, bool offload_changed, const void *frame,
                        size_t len, const void *last, size_t last_len) {
    unsigned out = offload_changed ? BP_DERIVE_OFFLOAD : 0;
    if (!frame) return out;
    d->rec_ms = now_ms;
    /* the same list again tells a dispatcher nothing */
    if (len != last_len || (len && memcmp(frame, last, len) != 0)) out |= BP_DERIVE_RECOMMEND;
    return out;
}
