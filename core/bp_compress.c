/* gzip and brotli of whole buffers (see bp_compress.h). */
#include "bp_compress.h"

#include <brotli/decode.h>
#include <stdint.h>
#include <brotli/encode.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* zlib's windowBits: 15 plus 16 asks for a gzip wrapper (RFC 1952). */
#define GZIP_WBITS (15 + 16)

static int gzip(int level, const void *in, size_t len, unsigned char **out, size_t *out_len) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (len > UINT32_MAX ||
        deflateInit2(&zs, level, Z_DEFLATED, GZIP_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = deflateBound(&zs, (uLong)len);
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) {
        deflateEnd(&zs);
        return -1;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

static int brotli(int quality, const void *in, size_t len, unsigned char **out, size_t *out_len) {
    size_t cap = BrotliEncoderMaxCompressedSize(len);
    if (cap == 0) return -1;
    unsigned char *buf = malloc(cap);
    if (!buf) return -1;
    size_t n = cap;
    if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, len, in, &n,
                               buf)) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

int bp_compress(bp_encoding_t e, int level, const void *in, size_t len, unsigned char **out,
                size_t *out_len) {
    if (e == BP_ENC_GZIP) return gzip(level < 1 ? 1 : level > 9 ? 9 : level, in, len, out, out_len);
    if (e == BP_ENC_BR)
        return brotli(level < 0 ? 0 : level > 11 ? 11 : level, in, len, out, out_len);
    return -1;
}

bool bp_compress_check(bp_encoding_t e, const void *data, size_t len, const void *raw,
                       size_t raw_len) {
    /* one byte more than expected: a longer decoding shows as a mismatch */
    unsigned char *buf = malloc(raw_len + 1);
    if (!buf) return false;
    size_t n = raw_len + 1;
    bool ok = false;
    if (e == BP_ENC_BR) {
        ok = BrotliDecoderDecompress(len, data, &n, buf) == BROTLI_DECODER_RESULT_SUCCESS;
    } else if (e == BP_ENC_GZIP && len <= UINT32_MAX && raw_len < UINT32_MAX) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (inflateInit2(&zs, GZIP_WBITS) == Z_OK) {
            zs.next_in = (Bytef *)(uintptr_t)data;
            zs.avail_in = (uInt)len;
            zs.next_out = buf;
            zs.avail_out = (uInt)n;
            /* the whole input must be one gzip member, nothing after it */
            ok = inflate(&zs, Z_FINISH) == Z_STREAM_END && zs.avail_in == 0;
            n = n - zs.avail_out;
            inflateEnd(&zs);
        }
    }
    ok = ok && n == raw_len && memcmp(buf, raw, raw_len) == 0;
    free(buf);
    return ok;
}
