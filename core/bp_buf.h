/*
 * A growable byte buffer with a hard cap, and a JSON writer on top of it.
 *
 * Writers never fail midway for the caller: when a write would pass the cap
 * (or malloc fails) the buffer sets a sticky `failed` flag and ignores all
 * further writes, so a sequence of writes needs one check at the end.
 * `headroom` bytes are kept free before the data (lws needs LWS_PRE bytes in
 * front of anything it sends), so data() is base + headroom.
 */
#ifndef BP_BUF_H
#define BP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *base;      /* owned; NULL until the first write */
    size_t headroom; /* bytes reserved before the data */
    size_t len;      /* bytes of data */
    size_t cap;      /* allocated bytes after the headroom */
    size_t max;      /* cap on len */
    bool failed;
} bp_buf_t;

void bp_buf_init(bp_buf_t *b, size_t headroom, size_t max);
void bp_buf_free(bp_buf_t *b);
void bp_buf_reset(bp_buf_t *b); /* len = 0, failed = false; keeps the memory */
/* Hands the allocation to the caller (free() it); the buffer is empty after. */
char *bp_buf_steal(bp_buf_t *b);

static inline char *bp_buf_data(const bp_buf_t *b) {
    return b->base ? b->base + b->headroom : NULL;
}

void bp_buf_put(bp_buf_t *b, const void *data, size_t len);
void bp_buf_puts(bp_buf_t *b, const char *s);
void bp_buf_putc(bp_buf_t *b, char c);
/* A string literal, its length taken at compile time (no byte count typed
 * by hand). */
#define BP_BUF_LIT(b, lit) bp_buf_put((b), "" lit "", sizeof(lit) - 1)
void bp_buf_printf(bp_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON pieces. Strings are escaped per RFC 8259 (control characters as
 * \u00XX, plus '<', '>', '&' and U+2028/2029 escaped so the text is safe to
 * embed anywhere); invalid UTF-8 bytes become U+FFFD. */
void bp_json_str(bp_buf_t *b, const char *s, size_t len);
void bp_json_cstr(bp_buf_t *b, const char *s);
void bp_json_int(bp_buf_t *b, int64_t v);
void bp_json_num(bp_buf_t *b, double v, int decimals); /* fixed decimals, trailing zeros trimmed */
void bp_json_time(bp_buf_t *b, int64_t ms);            /* ISO string, or null for 0 */
/* `"key":` */
void bp_json_key(bp_buf_t *b, const char *key);

#endif
