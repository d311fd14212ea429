/* Sentinel lists, rounds and replies (see bp_sentinel.h). */
#include "bp_sentinel.h"

#include <stdio.h>
#include <string.h>

static bool host_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '_';
}

static bool host_ok(const char *h, size_t len) {
    if (len == 0 || len > BP_SENTINEL_HOST_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if (!host_char((unsigned char)h[i])) return false;
    return true;
}

/* A decimal port 1..65535, no sign, no leading zeros beyond "0" itself. */
static int port_parse(const char *p, size_t len) {
    if (len == 0 || len > 5 || (p[0] == '0')) return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v >= 1 && v <= 65535 ? v : -1;
}

int bp_sentinel_addr_parse(const char *host, size_t host_len, const char *port, size_t port_len,
                           bp_sentinel_addr_t *out) {
    int p = port_parse(port, port_len);
    if (p < 0 || !host_ok(host, host_len)) return -1;
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->port = p;
    return 0;
}

/* One entry "host:port" or "[v6]:port" of length len into a. */
static int entry_parse(const char *e, size_t len, bp_sentinel_addr_t *a) {
    const char *host = e, *colon;
    size_t hlen;
    if (len && e[0] == '[') {
        const char *close = memchr(e, ']', len);
        if (!close || close + 1 >= e + len || close[1] != ':') return -1;
        host = e + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
        if (!memchr(host, ':', hlen)) return -1; /* brackets only around IPv6 */
    } else {
        colon = NULL;
        for (size_t i = len; i-- > 0;)
            if (e[i] == ':') {
                colon = e + i;
                break;
            }
        if (!colon) return -1;
        hlen = (size_t)(colon - e);
        if (memchr(e, ':', hlen)) return -1; /* an IPv6 address needs brackets */
    }
    return bp_sentinel_addr_parse(host, hlen, colon + 1, (size_t)(e + len - colon - 1), a);
}

int bp_sentinel_list_parse(bp_sentinel_list_t *l, const char *text, bp_error_t *err) {
    bp_sentinel_list_t out;
    memset(&out, 0, sizeof out);
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        size_t len = (size_t)(e - b);
        if (out.n == BP_SENTINEL_MAX)
            return bp_error_set(err, "bad_setting", "redis.sentinels",
                                "redis.sentinels lists more than %d sentinels", BP_SENTINEL_MAX);
        bp_sentinel_addr_t *a = &out.addr[out.n];
        if (len == 0 || entry_parse(b, len, a))
            return bp_error_set(err, "bad_setting", "redis.sentinels",
                                "redis.sentinels entry %zu (\"%.*s\") must be host:port (a host "
                                "name or IP address, [v6]:port for IPv6, a port from 1 to 65535)",
                                out.n + 1, (int)(len > 60 ? 60 : len), b);
        for (size_t i = 0; i < out.n; i++)
            if (out.addr[i].port == a->port && strcmp(out.addr[i].host, a->host) == 0)
                return bp_error_set(err, "bad_setting", "redis.sentinels",
                                    "redis.sentinels lists %.*s twice", (int)(len > 60 ? 60 : len),
                                    b);
        out.order[out.n] = (unsigned char)out.n;
        out.n++;
        if (!comma) break;
        p = comma + 1;
    }
    *l = out;
    return 0;
}

int bp_sentinel_next(bp_sentinel_list_t *l) {
    if (l->tried >= l->n) return -1;
    return l->order[l->tried++];
}

void bp_sentinel_restart(bp_sentinel_list_t *l) {
    l->tried = 0;
}

void bp_sentinel_answered(bp_sentinel_list_t *l, int i) {
    size_t at = l->n;
    for (size_t k = 0; k < l->n; k++)
        if (l->order[k] == i) at = k;
    if (at == l->n) return;
    memmove(l->order + 1, l->order, at);
    l->order[0] = (unsigned char)i;
    l->tried = 0;
}

/* The next space-separated word of [*p, end): its start and length. */
static bool word(const char **p, const char *end, const char **w, size_t *wlen) {
    const char *s = *p;
    while (s < end && *s == ' ')
        s++;
    const char *e = s;
    while (e < end && *e != ' ')
        e++;
    *w = s;
    *wlen = (size_t)(e - s);
    *p = e;
    return *wlen > 0;
}

int bp_sentinel_switch_parse(const char *msg, size_t len, const char *name,
                             bp_sentinel_addr_t *to) {
    const char *p = msg, *end = msg + len, *w[5];
    size_t wl[5];
    for (int i = 0; i < 5; i++)
        if (!word(&p, end, &w[i], &wl[i])) return -1;
    const char *rest;
    size_t rl;
    if (word(&p, end, &rest, &rl)) return -1; /* more than five words */
    if (wl[0] != strlen(name) || memcmp(w[0], name, wl[0]) != 0) return -1;
    return bp_sentinel_addr_parse(w[3], wl[3], w[4], wl[4], to);
}

bool bp_sentinel_role_is_master(const char *role, size_t len) {
    return role && len == 6 && memcmp(role, "master", 6) == 0;
}

static bool starts(const char *s, size_t len, const char *word_) {
    size_t n = strlen(word_);
    return len >= n && strncmp(s, word_, n) == 0 && (len == n || s[n] == ' ');
}

bool bp_sentinel_error_wants_master(const char *err, size_t len) {
    return err && (starts(err, len, "READONLY") || starts(err, len, "LOADING") ||
                   starts(err, len, "MASTERDOWN"));
}

bool bp_sentinel_name_ok(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > BP_SENTINEL_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

void bp_sentinel_addr_format(const bp_sentinel_addr_t *a, char *out, size_t len) {
    if (strchr(a->host, ':'))
        snprintf(out, len, "[%s]:%d", a->host, a->port);
    else
        snprintf(out, len, "%s:%d", a->host, a->port);
}
