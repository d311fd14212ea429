/*
 * The digests BedPulse computes, over libcrypto: SHA-256 (stored token
 * hashes, static files' ETags), HMAC-SHA-256 (session cookies, webhook
 * signatures) and a constant-time compare for anything secret. Thin on
 * purpose: the one place the algorithms are named, checked against the
 * FIPS 180-2 and RFC 4231 vectors (tests/unit/test_crypto.c).
 */
#ifndef BP_CRYPTO_H
#define BP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define BP_SHA256_LEN 32

void bp_sha256(const void *data, size_t len, unsigned char out[BP_SHA256_LEN]);
/* 0, or -1 if libcrypto refuses (a key over INT_MAX bytes, no memory). */
int bp_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                   unsigned char out[BP_SHA256_LEN]);
/* Whether n bytes at a and b are equal, in a time that does not depend on
 * where they differ. */
bool bp_ct_equal(const void *a, const void *b, size_t n);

#endif
