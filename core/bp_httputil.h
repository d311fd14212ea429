/*
 * Small parsers for the parts of an HTTP request the server reads itself,
 * all over untrusted bytes (fuzzed by tests/fuzz/fuzz_body.c): the bearer
 * token, one cookie, If-Match versions, query arguments, and the Origin of
 * a WebSocket upgrade. Pure: no allocation, no I/O.
 */
#ifndef BP_HTTPUTIL_H
#define BP_HTTPUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "Bearer <token>" (scheme case-insensitive, spaces around): points *tok at
 * the token inside hdr. 0, or -1 when the header is not a bearer token. */
int bp_http_bearer(const char *hdr, size_t len, const char **tok, size_t *tok_len);

/* The value of cookie `name` in a Cookie header ("a=1; b=2"), quotes
 * removed. 0, or -1 when absent. */
int bp_http_cookie(const char *hdr, size_t len, const char *name, const char **val,
                   size_t *val_len);

/* An If-Match header holding one version: 12, "12" or W/"12". 0 with
 * *version set, or -1 ("*", lists and anything else are refused: a write
 * must name the version it was based on). */
int bp_http_if_match(const char *hdr, size_t len, int64_t *version);

/* The value of `name` among a request's query arguments as libwebsockets
 * hands them over: already percent-decoded ('+' already a space), one
 * "name=value" fragment per argument, the fragments one after another, each
 * ended by a NUL (`args_len` bytes in all). The value is copied as is —
 * never decoded a second time, so "%25" arrives here as "%" and stays "%".
 * Returns the value's length, -1 when absent, -2 when it does not fit in
 * out (out_len counts the terminating NUL). The first fragment named
 * `name` wins; a fragment without '=' is a name with an empty value. */
int bp_http_arg(const char *args, size_t args_len, const char *name, char *out, size_t out_len);

/* Whether a browser's Origin header is acceptable for this server: the
 * same host and port as the Host header (http or https), or one of the
 * comma-separated origins in `allowed` (exact match, e.g.
 * "https://dashboard.example.vn"). */
bool bp_http_origin_ok(const char *origin, const char *host, const char *allowed);

#endif
