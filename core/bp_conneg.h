/*
 * Content negotiation for responses the server sends itself (static files,
 * JSON answers): which encodings an Accept-Encoding header admits, which of
 * those to send, and whether an If-None-Match header names the entity tag
 * of what would be sent (then a 304 will do). Pure: no allocation, no I/O;
 * every input is an untrusted request header (fuzzed by fuzz_body.c).
 */
#ifndef BP_CONNEG_H
#define BP_CONNEG_H

#include <stdbool.h>
#include <stddef.h>

/* Content codings we can send. */
typedef enum { BP_ENC_IDENTITY, BP_ENC_GZIP, BP_ENC_BR, BP_ENC__COUNT } bp_encoding_t;

#define BP_ENC_BIT(e) (1u << (e))

/* The set of codings (BP_ENC_BIT bits) an Accept-Encoding header admits
 * (RFC 9110 §12.5.3): "gzip" (or "x-gzip"), "br", "*" for any not named,
 * each unless its q is 0. Identity is always in the set (we never answer
 * 406). hdr NULL or len 0: no header, identity only. */
unsigned bp_conneg_accept_encoding(const char *hdr, size_t len);

/* The coding to send among those the client accepts and we have
 * (`accepted` & `have`): brotli, else gzip, else identity. */
bp_encoding_t bp_conneg_pick(unsigned accepted, unsigned have);

/* The token of a coding for Content-Encoding ("br", "gzip"), NULL for
 * identity; and the suffix of its entity tag ("-br", "-gz", ""). */
const char *bp_conneg_name(bp_encoding_t e);
const char *bp_conneg_tag_suffix(bp_encoding_t e);

/* Whether an If-None-Match header matches a resource whose entity tags are
 * "<base>" plus a coding suffix (one tag per representation: "abc",
 * "abc-gz", "abc-br"): "*", or any listed tag (weak or strong; RFC 9110
 * §13.1.2 compares weakly) whose opaque part is base or base + a suffix.
 * A cached representation in another coding is the same content, still
 * good. base is the bare tag, without quotes. */
bool bp_conneg_none_match(const char *hdr, size_t len, const char *base);

#endif
