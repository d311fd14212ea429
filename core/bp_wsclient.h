/*
 * What a live-feed client may send the hub over its WebSocket, decided
 * without I/O: one text message, its hello ({"type":"hello",...}, parsed
 * by bp_codec_parse_hello), of at most BP_WSCLIENT_MSG_MAX bytes for all
 * the frames of the message together. Anything else closes the client with
 * a status it can act on (docs/protocol.md): 1003 for a binary frame, 4009
 * for a message too big, 4002 for a bad or a second hello.
 *
 * The hub (server/hub.c) buffers a message's frames and asks
 * bp_wsclient_frame before keeping each one, then bp_wsclient_message once
 * the message is whole. Fuzzed by tests/fuzz/fuzz_ws.c.
 */
#ifndef BP_WSCLIENT_H
#define BP_WSCLIENT_H

#include "bp_codec_api.h"
#include "bp_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_WSCLIENT_MSG_MAX 1024 /* bytes of one client message, all its frames */

typedef enum {
    BP_WSC_OK,           /* frame: keep it; message: a first hello, taken */
    BP_WSC_BINARY,       /* a binary frame: 1003 "text only" */
    BP_WSC_TOO_BIG,      /* the message would exceed BP_WSCLIENT_MSG_MAX: 4009 */
    BP_WSC_BAD_HELLO,    /* not a valid hello: 4002, err says why */
    BP_WSC_SECOND_HELLO, /* a valid hello after the first one: 4002 */
} bp_wsclient_verdict_t;

/* A frame of len bytes arrives while `have` bytes of its message are
 * already buffered: BP_WSC_OK when the caller may append it (have + len is
 * then at most BP_WSCLIENT_MSG_MAX), else why the client is closed. */
bp_wsclient_verdict_t bp_wsclient_frame(bool binary, size_t have, size_t len);

/* A whole message from a client that has (hello_done) or has not said hello
 * yet. BP_WSC_OK with *hello filled for a first hello; BP_WSC_BAD_HELLO with
 * err filled; BP_WSC_SECOND_HELLO when the client already said hello. */
bp_wsclient_verdict_t bp_wsclient_message(const char *msg, size_t len, bool hello_done,
                                          bp_hello_t *hello, bp_error_t *err);

/* The close status and reason (static text) for a verdict other than
 * BP_WSC_OK; 0 and "" for BP_WSC_OK. */
uint16_t bp_wsclient_close_code(bp_wsclient_verdict_t v);
const char *bp_wsclient_reason(bp_wsclient_verdict_t v);

#endif
