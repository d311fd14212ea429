/*
 * The reply line to a feed line Redis has answered (docs/protocol.md §1),
 * shared by the collector's TCP port and the server's POST /api/v1/feed:
 * one mapping from the apply script's result to the protocol's words.
 */
#ifndef BP_FEEDREPLY_H
#define BP_FEEDREPLY_H

#include "bp_apply.h"
#include "bp_buf.h"

typedef enum {
    BP_FEED_ACCEPTED,   /* applied */
    BP_FEED_DUPLICATE,  /* this source's seq was applied before: acknowledged again */
    BP_FEED_REFUSED,    /* out_of_order, or an incident rule */
    BP_FEED_CONFLICT,   /* a version check failed (feeds send none) */
    BP_FEED_UNAVAILABLE /* not applied: the sender resends it (bp_feed_block_set) */
} bp_feed_outcome_t;

/* Appends the reply (without its newline) for a line with this seq; *code
 * is the error code for error replies (for counting), else NULL. */
bp_feed_outcome_t bp_feedreply_write(bp_buf_t *b, int64_t seq, const bp_apply_result_t *res,
                                     const char **code);

#endif
