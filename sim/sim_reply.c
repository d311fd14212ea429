/* Collector reply scanner (see sim_reply.h). */
#include "sim_reply.h"

#include <string.h>

typedef struct {
    const char *p, *end;
} scan_t;

static void skip_ws(scan_t *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static bool eat(scan_t *s, char c) {
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* Reads a string into out (NUL-terminated, truncated to cap - 1 bytes). */
static bool read_string(scan_t *s, char *out, size_t cap) {
    size_t n = 0;
    if (!eat(s, '"')) return false;
    while (s->p < s->end && *s->p != '"') {
        char c = *s->p++;
        if (c == '\\') {
            if (s->p >= s->end) return false;
            char e = *s->p++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '"':
            case '\\':
            case '/': c = e; break;
            default: /* keep \uXXXX and the rest as written */
                if (n + 1 < cap) out[n++] = '\\';
                c = e;
            }
        }
        if (n + 1 < cap) out[n++] = c;
    }
    if (cap) out[n] = '\0';
    return eat(s, '"');
}

static bool read_int(scan_t *s, int64_t *out) {
    skip_ws(s);
    bool neg = s->p < s->end && *s->p == '-';
    if (neg) s->p++;
    if (s->p >= s->end || *s->p < '0' || *s->p > '9') return false;
    int64_t v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (v > (INT64_MAX - 9) / 10) return false;
        v = v * 10 + (*s->p++ - '0');
    }
    *out = neg ? -v : v;
    return true;
}

static bool read_word(scan_t *s, const char *w) {
    size_t n = strlen(w);
    skip_ws(s);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0) return false;
    s->p += n;
    return true;
}

/* Skips any scalar value (what a newer collector might add). */
static bool skip_value(scan_t *s) {
    char tmp[8];
    int64_t v;
    skip_ws(s);
    if (s->p >= s->end) return false;
    if (*s->p == '"') return read_string(s, tmp, sizeof tmp);
    if (read_word(s, "true") || read_word(s, "false") || read_word(s, "null")) return true;
    if (!read_int(s, &v)) return false;
    if (s->p < s->end && *s->p == '.') { /* a fraction */
        s->p++;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    return true;
}

int bp_sim_reply_parse(const char *line, size_t len, bp_sim_reply_t *out) {
    memset(out, 0, sizeof *out);
    out->offset = -1;
    scan_t s = {line, line + len};
    bool have_ok = false;
    if (!eat(&s, '{')) return -1;
    if (eat(&s, '}')) return -1;
    do {
        char key[32];
        if (!read_string(&s, key, sizeof key) || !eat(&s, ':')) return -1;
        if (strcmp(key, "ok") == 0) {
            if (read_word(&s, "true"))
                out->ok = true;
            else if (!read_word(&s, "false"))
                return -1;
            have_ok = true;
        } else if (strcmp(key, "duplicate") == 0) {
            if (read_word(&s, "true"))
                out->duplicate = true;
            else if (!read_word(&s, "false"))
                return -1;
        } else if (strcmp(key, "seq") == 0) {
            if (read_word(&s, "null"))
                out->has_seq = false;
            else if (read_int(&s, &out->seq))
                out->has_seq = true;
            else
                return -1;
        } else if (strcmp(key, "offset") == 0) {
            if (!read_int(&s, &out->offset)) return -1;
        } else if (strcmp(key, "error") == 0) {
            if (!read_string(&s, out->error, sizeof out->error)) return -1;
        } else if (strcmp(key, "field") == 0) {
            if (!read_string(&s, out->field, sizeof out->field)) return -1;
        } else if (strcmp(key, "message") == 0) {
            if (!read_string(&s, out->message, sizeof out->message)) return -1;
        } else if (!skip_value(&s)) {
            return -1;
        }
    } while (eat(&s, ','));
    if (!eat(&s, '}')) return -1;
    skip_ws(&s);
    if (s.p != s.end || !have_ok) return -1;
    if (!out->ok && !out->error[0]) return -1;
    return 0;
}
