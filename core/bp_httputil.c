/* Request-header parsers (see bp_httputil.h). */
#include "bp_httputil.h"

#include <ctype.h>
#include <string.h>

static size_t skip_space(const char *s, size_t i, size_t len) {
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

int bp_http_bearer(const char *hdr, size_t len, const char **tok, size_t *tok_len) {
    size_t i = skip_space(hdr, 0, len);
    static const char scheme[] = "bearer";
    if (len - i < sizeof scheme) return -1;
    for (size_t k = 0; k < sizeof scheme - 1; k++)
        if (tolower((unsigned char)hdr[i + k]) != scheme[k]) return -1;
    i += sizeof scheme - 1;
    if (hdr[i] != ' ' && hdr[i] != '\t') return -1;
    i = skip_space(hdr, i, len);
    size_t end = len;
    while (end > i && (hdr[end - 1] == ' ' || hdr[end - 1] == '\t'))
        end--;
    if (end == i) return -1;
    for (size_t k = i; k < end; k++)
        if (hdr[k] == ' ' || hdr[k] == '\t' || hdr[k] == ',') return -1;
    *tok = hdr + i;
    *tok_len = end - i;
    return 0;
}

int bp_http_cookie(const char *hdr, size_t len, const char *name, const char **val,
                   size_t *val_len) {
    size_t nl = strlen(name);
    size_t i = 0;
    while (i < len) {
        i = skip_space(hdr, i, len);
        size_t start = i;
        while (i < len && hdr[i] != ';')
            i++;
        size_t end = i;
        if (i < len) i++; /* the ';' */
        /* one "name=value" pair in [start, end) */
        const char *eq = memchr(hdr + start, '=', end - start);
        if (!eq) continue;
        size_t k = (size_t)(eq - hdr);
        size_t ne = k;
        while (ne > start && (hdr[ne - 1] == ' ' || hdr[ne - 1] == '\t'))
            ne--;
        if (ne - start != nl || memcmp(hdr + start, name, nl) != 0) continue;
        size_t vs = skip_space(hdr, k + 1, end), ve = end;
        while (ve > vs && (hdr[ve - 1] == ' ' || hdr[ve - 1] == '\t'))
            ve--;
        if (ve - vs >= 2 && hdr[vs] == '"' && hdr[ve - 1] == '"') {
            vs++;
            ve--;
        }
        *val = hdr + vs;
        *val_len = ve - vs;
        return 0;
    }
    return -1;
}

int bp_http_if_match(const char *hdr, size_t len, int64_t *version) {
    size_t i = skip_space(hdr, 0, len), end = len;
    while (end > i && (hdr[end - 1] == ' ' || hdr[end - 1] == '\t'))
        end--;
    if (end - i >= 2 && hdr[i] == 'W' && hdr[i + 1] == '/') i += 2;
    if (end - i >= 2 && hdr[i] == '"' && hdr[end - 1] == '"') {
        i++;
        end--;
    }
    if (i == end || end - i > 15) return -1;
    int64_t v = 0;
    for (size_t k = i; k < end; k++) {
        if (hdr[k] < '0' || hdr[k] > '9') return -1;
        v = v * 10 + (hdr[k] - '0');
    }
    *version = v;
    return 0;
}

int bp_http_arg(const char *args, size_t args_len, const char *name, char *out, size_t out_len) {
    if (!args || !out_len) return -1;
    size_t nl = strlen(name);
    for (size_t i = 0; i < args_len;) {
        const char *p = args + i;
        const char *nul = memchr(p, '\0', args_len - i);
        size_t n = nul ? (size_t)(nul - p) : args_len - i;
        if (n >= nl && memcmp(p, name, nl) == 0 && (n == nl || p[nl] == '=')) {
            size_t v = n == nl ? 0 : n - nl - 1;
            if (v + 1 > out_len) return -2;
            memcpy(out, p + n - v, v);
            out[v] = '\0';
            return (int)v;
        }
        i += n + 1;
    }
    return -1;
}

static bool origin_is(const char *origin, size_t olen, const char *scheme, const char *host) {
    size_t sl = strlen(scheme), hl = strlen(host);
    if (olen != sl + hl || strncmp(origin, scheme, sl) != 0) return false;
    /* host names compare without case */
    for (size_t i = 0; i < hl; i++)
        if (tolower((unsigned char)origin[sl + i]) != tolower((unsigned char)host[i])) return false;
    return true;
}

bool bp_http_origin_ok(const char *origin, const char *host, const char *allowed) {
    size_t olen = strlen(origin);
    if (!olen) return false;
    if (host && host[0] &&
        (origin_is(origin, olen, "http://", host) || origin_is(origin, olen, "https://", host)))
        return true;
    for (const char *p = allowed; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if (e > p && (size_t)(e - p) == olen && strncmp(p, origin, olen) == 0) return true;
        p = e;
    }
    return false;
}
