/* SHA-256, HMAC-SHA-256 and a constant-time compare: libcrypto's. */
#include "bp_crypto.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

_Static_assert(BP_SHA256_LEN == SHA256_DIGEST_LENGTH, "SHA-256 digest length");

void bp_sha256(const void *data, size_t len, unsigned char out[BP_SHA256_LEN]) {
    SHA256(data, len, out);
}

int bp_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                   unsigned char out[BP_SHA256_LEN]) {
    unsigned int n = 0;
    if (key_len > INT_MAX) return -1;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) || n != BP_SHA256_LEN) return -1;
    return 0;
}

bool bp_ct_equal(const void *a, const void *b, size_t n) {
    return CRYPTO_memcmp(a, b, n) == 0;
}
