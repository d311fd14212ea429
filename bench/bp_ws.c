/* RFC 6455 pieces for the benchmark tools (see bp_ws.h). */
#include "bp_ws.h"

#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* -- SHA-1 (FIPS 180-4), only ever run on a 60-byte handshake string ------------ */

static uint32_t rol(uint32_t x, int n) {
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void bp_ws_sha1(const void *data, size_t len, uint8_t out[20]) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const uint8_t *p = data;
    size_t left = len;
    while (left >= 64) {
        sha1_block(h, p);
        p += 64;
        left -= 64;
    }
    uint8_t last[128];
    memset(last, 0, sizeof last);
    memcpy(last, p, left);
    last[left] = 0x80;
    size_t blocks = left + 9 <= 64 ? 1 : 2;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        last[blocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (size_t i = 0; i < blocks; i++)
        sha1_block(h, last + 64 * i);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

size_t bp_ws_base64(const uint8_t *in, size_t len, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

int bp_ws_accept(const char *key, size_t key_len, char out[BP_WS_ACCEPT_LEN + 1]) {
    char buf[128];
    if (key_len > sizeof buf - (sizeof WS_GUID - 1)) return -1;
    memcpy(buf, key, key_len);
    memcpy(buf + key_len, WS_GUID, sizeof WS_GUID - 1);
    uint8_t digest[20];
    bp_ws_sha1(buf, key_len + sizeof WS_GUID - 1, digest);
    bp_ws_base64(digest, sizeof digest, out);
    return 0;
}

/* -- frames ------------------------------------------------------------------------ */

size_t bp_ws_header(uint8_t *out, uint8_t opcode, bool fin, uint64_t len, const uint8_t *mask) {
    size_t n = 0;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[n++] = (uint8_t)(m | len);
    } else if (len <= 0xFFFF) {
        out[n++] = m | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t)(len >> (8 * i));
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

void bp_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t pos) {
    for (size_t i = 0; i < len; i++)
        data[i] ^= mask[(pos + i) & 3];
}

int bp_ws_parse_header(const uint8_t *p, size_t n, bp_ws_frame_t *f) {
    if (n < 2) return 0;
    if (p[0] & 0x70) return -1; /* RSV1-3: no extension was negotiated */
    uint8_t op = p[0] & 0x0F;
    if (op != BP_WS_CONT && op != BP_WS_TEXT && op != BP_WS_BINARY && op != BP_WS_CLOSE &&
        op != BP_WS_PING && op != BP_WS_PONG)
        return -1;
    f->fin = (p[0] & 0x80) != 0;
    f->opcode = op;
    f->masked = (p[1] & 0x80) != 0;
    uint64_t len = p[1] & 0x7F;
    size_t need = 2;
    if (len == 126)
        need += 2;
    else if (len == 127)
        need += 8;
    if (f->masked) need += 4;
    if (n < need) return 0;
    size_t i = 2;
    if (len == 126) {
        len = (uint64_t)p[2] << 8 | p[3];
        i = 4;
    } else if (len == 127) {
        len = 0;
        for (int k = 0; k < 8; k++)
            len = len << 8 | p[2 + k];
        i = 10;
        if (len >> 63) return -1;
    }
    if (op & 0x8) {
        if (!f->fin || len > BP_WS_CONTROL_MAX) return -1;
    }
    if (f->masked)
        memcpy(f->mask, p + i, 4);
    else
        memset(f->mask, 0, 4);
    f->len = len;
    return (int)need;
}
