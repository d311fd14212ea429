/*
 * No overtaking inside a pipelined window (docs/redis.md, "The apply
 * script"): a feed connection (or a POST /api/v1/feed request) sends the
 * lines of one source to Redis one after another without waiting for the
 * answers. If Redis refuses the script of one of them (OOM, NOREPLICAS:
 * before it runs) and takes the next, the later line is applied and the
 * refused one's resend looks like a duplicate. So each line carries `prev`:
 * the seq of the line of its source sent before it on the same connection
 * and not answered yet, and the apply script refuses it (`behind`) unless
 * that line was decided.
 *
 * This remembers, per source, the last line sent and how many of its lines
 * are with Redis. Redis answers a connection in send order, so the lines in
 * flight are the last ones sent: while any line of a source is in flight,
 * the last one sent is. A line whose seq is not above that one (a resend
 * going back) is given none: the sender resends from its oldest line not
 * acknowledged, whose predecessors were all answered.
 *
 * Bounded by the lines in flight (the caller's bound); a few entries for
 * the usual connection of one or two sources.
 */
#ifndef BP_FEEDPREV_H
#define BP_FEEDPREV_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t source; /* bp_feed_source_hash */
    int64_t seq;     /* the last line of this source sent */
    size_t n;        /* lines of this source with Redis; 0: a free entry */
} bp_feed_prev_entry_t;

typedef struct {
    bp_feed_prev_entry_t *e;
    size_t cap;  /* a power of two, or 0 */
    size_t used; /* entries with n > 0 */
} bp_feed_prev_t;

/* Before sending the line (source, seq >= 0): the prev to pass with it (-1:
 * none), or -2 when there is no memory to remember it (do not send it). */
int64_t bp_feed_prev_before(bp_feed_prev_t *p, uint64_t source, int64_t seq);
/* The line went to Redis (after bp_feed_prev_before: cannot fail). */
void bp_feed_prev_sent(bp_feed_prev_t *p, uint64_t source, int64_t seq);
/* Redis answered the oldest line in flight of this source. */
void bp_feed_prev_answered(bp_feed_prev_t *p, uint64_t source);
/* Lines in flight of this source. */
size_t bp_feed_prev_inflight(const bp_feed_prev_t *p, uint64_t source);
void bp_feed_prev_free(bp_feed_prev_t *p);

#endif
