/* Bounded buffer and JSON writer. */
#include "bp_buf.h"
#include "bp_time.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bp_buf_init(bp_buf_t *b, size_t headroom, size_t max) {
    memset(b, 0, sizeof *b);
    b->headroom = headroom;
    b->max = max;
}

void bp_buf_free(bp_buf_t *b) {
    free(b->base);
    b->base = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void bp_buf_reset(bp_buf_t *b) {
    b->len = 0;
    b->failed = false;
}

char *bp_buf_steal(bp_buf_t *b) {
    char *p = b->base;
    b->base = NULL;
    b->len = b->cap = 0;
    return p;
}

static bool reserve(bp_buf_t *b, size_t more) {
    if (b->failed) return false;
    if (more > b->max - b->len || b->len + more > b->max) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + more;
    if (need <= b->cap && b->base) return true;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (ncap > b->max) ncap = b->max;
    char *p = realloc(b->base, b->headroom + ncap + 1);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->base = p;
    b->cap = ncap;
    return true;
}

void bp_buf_put(bp_buf_t *b, const void *data, size_t len) {
    if (!reserve(b, len)) return;
    if (len) memcpy(b->base + b->headroom + b->len, data, len);
    b->len += len;
    b->base[b->headroom + b->len] = '\0';
}

void bp_buf_puts(bp_buf_t *b, const char *s) {
    bp_buf_put(b, s, strlen(s));
}

void bp_buf_putc(bp_buf_t *b, char c) {
    bp_buf_put(b, &c, sizeof c);
}

void bp_buf_printf(bp_buf_t *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        bp_buf_put(b, small, (size_t)n);
        return;
    }
    /* reserve() always keeps one byte past cap for the NUL, so ask for n
     * only: asking for n + 1 would refuse output that ends exactly at max. */
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->base + b->headroom + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static size_t utf8_len(const unsigned char *p, size_t left) {
    size_t n;
    uint32_t cp;
    if (p[0] < 0x80) return 1;
    if ((p[0] & 0xE0) == 0xC0)
        n = 2, cp = p[0] & 0x1F;
    else if ((p[0] & 0xF0) == 0xE0)
        n = 3, cp = p[0] & 0x0F;
    else if ((p[0] & 0xF8) == 0xF0)
        n = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (left < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

void bp_json_str(bp_buf_t *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    bp_buf_putc(b, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\' && *p != '<' &&
               *p != '>' && *p != '&')
            p++;
        if (p > run) bp_buf_put(b, run, (size_t)(p - run));
        if (p >= end) break;
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t n = utf8_len(p, (size_t)(end - p));
            if (n == 0) {
                BP_BUF_LIT(b, "\\ufffd");
                p++;
            } else if (n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
                if (p[2] == 0xA8)
                    BP_BUF_LIT(b, "\\u2028");
                else
                    BP_BUF_LIT(b, "\\u2029");
                p += 3;
            } else {
                bp_buf_put(b, p, n);
                p += n;
            }
            continue;
        }
        switch (c) {
        case '"': BP_BUF_LIT(b, "\\\""); break;
        case '\\': BP_BUF_LIT(b, "\\\\"); break;
        case '\n': BP_BUF_LIT(b, "\\n"); break;
        case '\r': BP_BUF_LIT(b, "\\r"); break;
        case '\t': BP_BUF_LIT(b, "\\t"); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            bp_buf_put(b, e, sizeof e);
        }
        }
        p++;
    }
    bp_buf_putc(b, '"');
}

void bp_json_cstr(bp_buf_t *b, const char *s) {
    bp_json_str(b, s, strlen(s));
}

void bp_json_int(bp_buf_t *b, int64_t v) {
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    bp_buf_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

void bp_json_num(bp_buf_t *b, double v, int decimals) {
    if (!isfinite(v)) {
        BP_BUF_LIT(b, "null");
        return;
    }
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
    if (n <= 0 || (size_t)n >= sizeof tmp) {
        BP_BUF_LIT(b, "null");
        return;
    }
    if (memchr(tmp, '.', (size_t)n)) {
        while (n > 0 && tmp[n - 1] == '0')
            n--;
        if (n > 0 && tmp[n - 1] == '.') n--;
    }
    if (n == 2 && tmp[0] == '-' && tmp[1] == '0') {
        tmp[0] = '0';
        n = 1;
    }
    bp_buf_put(b, tmp, (size_t)n);
}

void bp_json_time(bp_buf_t *b, int64_t ms) {
    if (ms <= 0) {
        BP_BUF_LIT(b, "null");
        return;
    }
    char tmp[32];
    tmp[0] = '"';
    int n = bp_time_format(ms, tmp + 1);
    tmp[n + 1] = '"';
    bp_buf_put(b, tmp, (size_t)n + 2);
}

void bp_json_key(bp_buf_t *b, const char *key) {
    bp_buf_putc(b, '"');
    bp_buf_puts(b, key);
    BP_BUF_LIT(b, "\":");
}
