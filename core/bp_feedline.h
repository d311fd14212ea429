/*
 * The feed protocol's rules (docs/protocol.md §1), shared by the
 * collector's TCP port and the server's POST /api/v1/feed so both answer
 * the same line the same way: which token may feed what, the block after
 * an `unavailable`, the reply lines, and splitting a body into lines.
 *
 * Pure: no I/O, no allocation beyond the caller's buffers.
 */
#ifndef BP_FEEDLINE_H
#define BP_FEEDLINE_H

#include "bp_auth.h"
#include "bp_buf.h"
#include "bp_error.h"
#include "bp_model.h"
#include "bp_registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* -- who may feed ----------------------------------------------------------- */

/* Whether a hello's token lets its connection feed: 0, or -1 with err
 * (code unauthorized: no token, unknown, revoked, expired; forbidden: a
 * role that may not feed; field "token"). p: the token's principal, NULL
 * when unknown; judged by the credential check (bp_cred_principal). */
int bp_feedline_hello_check(const bp_principal_t *p, bool has_token, int64_t now_ms,
                            bp_error_t *err);

/* Whether principal p may send change c (a hospital in its scope;
 * ambulances and incidents need fleet rights): 0, or -1 with err
 * (unauthorized when the token was revoked or has expired, forbidden with
 * field "hospital" or "id" otherwise). p NULL: the token disappeared. */
int bp_feedline_authorize(const bp_principal_t *p, const bp_change_t *c, const bp_registry_t *reg,
                          int64_t now_ms, bp_error_t *err);

/* -- no gaps behind an `unavailable` ------------------------------------------
 * Idempotency is by the highest seq applied per source, so a line applied
 * behind one that was refused `unavailable` would make that one's resend a
 * false duplicate. Once a line is answered `unavailable`, nothing new is
 * taken until the sender resends it: a line of the same source with a seq
 * no higher. */

typedef struct {
    bool blocked;
    uint64_t source; /* bp_feed_source_hash of the refused line's source */
    int64_t seq;
} bp_feed_block_t;

uint64_t bp_feed_source_hash(const char *source);
/* Whether a line may go on. A resend clears the block; any other line while
 * blocked may not (answer it `unavailable` with bp_feed_block_message). */
bool bp_feed_block_admit(bp_feed_block_t *b, uint64_t source, int64_t seq);
/* Remembers the first line refused since the block was last clear. */
void bp_feed_block_set(bp_feed_block_t *b, uint64_t source, int64_t seq);
void bp_feed_block_message(const bp_feed_block_t *b, char *out, size_t len);

/* -- replies (without their newline) ---------------------------------------- */

/* {"ok":true,"seq":S,"offset":N[,"duplicate":true]} (seq < 0: null) */
void bp_feedline_reply_ok(bp_buf_t *b, int64_t seq, uint64_t offset, bool duplicate);
/* {"ok":false,"seq":S,"error":code[,"field":f],"message":m} */
void bp_feedline_reply_error(bp_buf_t *b, int64_t seq, const char *code, const char *field,
                             const char *message);
/* {"ok":true,"seq":null,"hello":true,"token":id,"role":..,"all_hospitals":..,"fleet":..} */
void bp_feedline_reply_hello(bp_buf_t *b, const bp_principal_t *p);

/* -- lines of a body ---------------------------------------------------------- */

/* The next line of body[*pos..len): its start and length without "\n" or
 * "\r\n"; *pos moves past it. A last line without a newline counts;
 * nothing after a final newline does. Returns false at the end. */
bool bp_feedline_next(const char *body, size_t len, size_t *pos, const char **line,
                      size_t *line_len);

/* Whether a line is a hello ({"type":"hello",...}) rather than a feed
 * message: the cheap test both transports make before parsing it so. */
bool bp_feedline_is_hello(const char *line, size_t len);

#endif
