/* RFC 6455 pieces for the benchmark tools (see bp_ws.h). */
#include "bp_ws.h"

#include <libwebsockets.h>
#include <openssl/sha.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

size_t bp_ws_base64(const uint8_t *in, size_t len, char *out) {
    /* out holds 4 * ceil(len / 3) + 1 bytes, as the header says; lws 4.1
     * wants one byte more than that (it refuses an exact fit after writing
     * every character but the NUL), so it encodes into room of its own */
    char buf[BP_WS_B64_MAX + 2];
    size_t want = 4 * ((len + 2) / 3);
    if (want > BP_WS_B64_MAX) return 0;
    int n = lws_b64_encode_string((const char *)in, (int)len, buf, (int)sizeof buf);
    if (n < 0 || (size_t)n != want) {
        out[0] = '\0';
        return 0;
    }
    memcpy(out, buf, want + 1);
    return want;
}

int bp_ws_accept(const char *key, size_t key_len, char out[BP_WS_ACCEPT_LEN + 1]) {
    char buf[128];
    if (key_len > sizeof buf - (sizeof WS_GUID - 1)) return -1;
    memcpy(buf, key, key_len);
    memcpy(buf + key_len, WS_GUID, sizeof WS_GUID - 1);
    uint8_t digest[20];
    SHA1((const unsigned char *)buf, key_len + sizeof WS_GUID - 1, digest);
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
