/*
 * SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104), for token hashes and
 * session signatures. Pure, no allocation; checked against the standard
 * test vectors in tests/unit/test_auth.c.
 */
#ifndef BP_SHA256_H
#define BP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define BP_SHA256_LEN 32

typedef struct {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
} bp_sha256_t;

void bp_sha256_init(bp_sha256_t *c);
void bp_sha256_update(bp_sha256_t *c, const void *data, size_t len);
void bp_sha256_final(bp_sha256_t *c, unsigned char out[BP_SHA256_LEN]);
void bp_sha256(const void *data, size_t len, unsigned char out[BP_SHA256_LEN]);
void bp_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[BP_SHA256_LEN]);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void bp_hex(const unsigned char *in, size_t n, char *out);

#endif
