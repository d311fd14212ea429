/*
 * The little of RFC 6455 the benchmark tools need, with no I/O: SHA-1 and
 * base64 for the handshake key, and frame headers (build and parse). The
 * benchmarks speak WebSocket by hand so that they measure the server, not a
 * client library, and so that one process can hold 10,000 connections with
 * a few hundred bytes of state each.
 */
#ifndef BP_WS_H
#define BP_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_WS_HEADER_MAX  14 /* 2 + 8 (64-bit length) + 4 (mask) */
#define BP_WS_KEY_LEN     24 /* base64 of a 16-byte nonce */
#define BP_WS_ACCEPT_LEN  28 /* base64 of a 20-byte SHA-1 */
#define BP_WS_CONTROL_MAX 125

enum {
    BP_WS_CONT = 0x0,
    BP_WS_TEXT = 0x1,
    BP_WS_BINARY = 0x2,
    BP_WS_CLOSE = 0x8,
    BP_WS_PING = 0x9,
    BP_WS_PONG = 0xA,
};

typedef struct {
    bool fin;
    uint8_t opcode;
    bool masked;
    uint8_t mask[4];
    uint64_t len; /* payload length */
} bp_ws_frame_t;

/* Standard base64 (with padding, lws' encoder) of len bytes into out,
 * NUL-terminated. out needs 4 * ((len + 2) / 3) + 1 bytes. Returns the
 * length written, 0 for an input longer than BP_WS_B64_MAX characters of
 * base64 can hold (the handshake needs 24 and 28). */
#define BP_WS_B64_MAX 64
size_t bp_ws_base64(const uint8_t *in, size_t len, char *out);

/* The Sec-WebSocket-Accept value for a Sec-WebSocket-Key of key_len bytes:
 * base64(SHA-1(key + GUID)) (libcrypto's SHA-1), 28 characters plus NUL
 * into out (>= 29 bytes).
 * Returns 0, or -1 when the key is longer than a key can be. */
int bp_ws_accept(const char *key, size_t key_len, char out[BP_WS_ACCEPT_LEN + 1]);

/* Writes a frame header for a payload of len bytes into out (>= 14 bytes).
 * With mask non-NULL the header carries that masking key (client frames);
 * the caller masks the payload itself (bp_ws_mask). Returns the header
 * length. */
size_t bp_ws_header(uint8_t *out, uint8_t opcode, bool fin, uint64_t len, const uint8_t *mask);

/* XORs len bytes with the masking key, starting at payload position pos. */
void bp_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t pos);

/* Parses a frame header from the n bytes at p. Returns the header length
 * and fills *f; 0 when more bytes are needed; -1 when the header is not
 * valid (reserved bits, unknown opcode, fragmented or oversized control
 * frame, a length of 2^63 or more). Non-minimal lengths are accepted. */
int bp_ws_parse_header(const uint8_t *p, size_t n, bp_ws_frame_t *f);

#endif
