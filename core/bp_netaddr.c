/* Webhook URLs, address classes and e-mail addresses (see bp_netaddr.h). */
#include "bp_netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const class_names[] = {"public",      "loopback",  "private", "link-local",
                                          "unspecified", "multicast", "reserved"};

const char *bp_addr_class_name(bp_addr_class_t c) {
    return (unsigned)c < sizeof class_names / sizeof *class_names ? class_names[c] : "?";
}

/* a/bits as the first `bits` bits of x (IPv4, host order) */
static bool in4(uint32_t x, uint32_t net, int bits) {
    uint32_t mask = bits ? ~0u << (32 - bits) : 0;
    return (x & mask) == (net & mask);
}

bp_addr_class_t bp_addr_classify4(const uint8_t a[4]) {
    uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    if (x == 0xffffffffu) return BP_ADDR_MULTICAST; /* limited broadcast */
    if (in4(x, 0x00000000u, 8)) return BP_ADDR_UNSPECIFIED;
    if (in4(x, 0x7f000000u, 8)) return BP_ADDR_LOOPBACK;
    if (in4(x, 0x0a000000u, 8) || in4(x, 0xac100000u, 12) || in4(x, 0xc0a80000u, 16) ||
        in4(x, 0x64400000u, 10))
        return BP_ADDR_PRIVATE;
    if (in4(x, 0xa9fe0000u, 16)) return BP_ADDR_LINK_LOCAL;
    if (in4(x, 0xe0000000u, 4)) return BP_ADDR_MULTICAST;
    if (in4(x, 0xc0000000u, 24) || in4(x, 0xc0000200u, 24) || in4(x, 0xc0586300u, 24) ||
        in4(x, 0xc6120000u, 15) || in4(x, 0xc6336400u, 24) || in4(x, 0xcb007100u, 24) ||
        in4(x, 0xf0000000u, 4))
        return BP_ADDR_RESERVED;
    return BP_ADDR_PUBLIC;
}

static bool zeros(const uint8_t *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i]) return false;
    return true;
}

bp_addr_class_t bp_addr_classify6(const uint8_t a[16]) {
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (zeros(a, 16)) return BP_ADDR_UNSPECIFIED;
    if (zeros(a, 15) && a[15] == 1) return BP_ADDR_LOOPBACK;
    /* IPv4 inside: mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 */
    if (zeros(a, 10) && a[10] == 0xff && a[11] == 0xff) return bp_addr_classify4(a + 12);
    if (zeros(a, 12)) return bp_addr_classify4(a + 12);
    if (memcmp(a, nat64, 12) == 0) return bp_addr_classify4(a + 12);
    if (a[0] == 0x20 && a[1] == 0x02) return bp_addr_classify4(a + 2); /* 6to4 */
    if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0x00 &&
        a[5] == 0x01)
        return BP_ADDR_PRIVATE; /* 64:ff9b:1::/48, local-use NAT64 */
    if (a[0] == 0xff) return BP_ADDR_MULTICAST;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return BP_ADDR_LINK_LOCAL;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return BP_ADDR_PRIVATE; /* old site-local */
    if ((a[0] & 0xfe) == 0xfc) return BP_ADDR_PRIVATE;                 /* unique local */
    if (a[0] == 0x01 && a[1] == 0x00 && zeros(a + 2, 6)) return BP_ADDR_RESERVED; /* discard */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return BP_ADDR_RESERVED; /* documentation */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02)
        return BP_ADDR_RESERVED; /* 2001::/23: Teredo, benchmarking, ORCHID... */
    if ((a[0] & 0xe0) != 0x20) return BP_ADDR_RESERVED; /* outside global unicast 2000::/3 */
    return BP_ADDR_PUBLIC;
}

int bp_addr_classify_text(const char *s) {
    uint8_t a[16];
    if (inet_pton(AF_INET, s, a) == 1) return (int)bp_addr_classify4(a);
    if (inet_pton(AF_INET6, s, a) == 1) return (int)bp_addr_classify6(a);
    return -1;
}

bool bp_addr_allowed(bp_addr_class_t c, bool allow_private) {
    if (c == BP_ADDR_PUBLIC) return true;
    if (c == BP_ADDR_UNSPECIFIED || c == BP_ADDR_MULTICAST) return false;
    return allow_private;
}

/* -- URLs ---------------------------------------------------------------------------- */

static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_alpha(char c) {
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* A host name: labels of [a-z0-9-] (1-63, no hyphen at either end), the
 * last one starting with a letter (no top-level domain is a number, and
 * resolvers read "127.1" or "0x7f000001" as addresses). */
static bool host_name_ok(const char *h) {
    size_t n = strlen(h);
    if (n == 0 || n > BP_URL_HOST_MAX) return false;
    const char *label = h;
    for (;;) {
        const char *dot = strchr(label, '.');
        size_t l = dot ? (size_t)(dot - label) : strlen(label);
        if (l == 0 || l > 63 || label[0] == '-' || label[l - 1] == '-') return false;
        for (size_t i = 0; i < l; i++)
            if (!is_alpha(label[i]) && !is_digit(label[i]) && label[i] != '-') return false;
        if (!dot) return is_alpha(label[0]);
        label = dot + 1;
    }
}

int bp_url_parse(const char *s, size_t len, bp_url_t *out, const char *field, bp_error_t *err) {
    memset(out, 0, sizeof *out);
    if (len == 0 || len > BP_URL_MAX)
        return bp_error_set(err, "bad_url", field, "%s must be an http(s) URL of 1 to %d bytes",
                            field, BP_URL_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return bp_error_set(
                err, "bad_url", field,
                "%s must be printable ASCII without spaces (percent-encode the rest)", field);
    size_t p;
    if (len > 7 && strncasecmp(s, "http://", 7) == 0) {
        p = 7;
    } else if (len > 8 && strncasecmp(s, "https://", 8) == 0) {
        p = 8;
        out->https = true;
    } else {
        return bp_error_set(err, "bad_url", field, "%s must start with https:// or http://", field);
    }
    if (memchr(s, '#', len))
        return bp_error_set(err, "bad_url", field, "%s must not have a #fragment", field);
    size_t a_end = p;
    while (a_end < len && s[a_end] != '/' && s[a_end] != '?')
        a_end++;
    if (memchr(s + p, '@', a_end - p))
        return bp_error_set(err, "bad_url", field, "%s must not carry a user name or password",
                            field);
    size_t h_end;
    if (p < a_end && s[p] == '[') {
        const char *close = memchr(s + p, ']', a_end - p);
        if (!close || (size_t)(close - s) - p - 1 > 45)
            return bp_error_set(err, "bad_url", field, "%s has a malformed [IPv6] host", field);
        size_t hl = (size_t)(close - s) - p - 1;
        memcpy(out->host, s + p + 1, hl);
        out->host[hl] = '\0';
        for (size_t i = 0; i < hl; i++)
            out->host[i] = lower(out->host[i]);
        uint8_t a6[16];
        if (inet_pton(AF_INET6, out->host, a6) != 1)
            return bp_error_set(err, "bad_url", field, "%s has a malformed [IPv6] host", field);
        out->host_is_ip = true;
        h_end = (size_t)(close - s) + 1;
        if (h_end < a_end && s[h_end] != ':')
            return bp_error_set(err, "bad_url", field, "%s has bytes after the [IPv6] host", field);
    } else {
        h_end = p;
        while (h_end < a_end && s[h_end] != ':')
            h_end++;
        size_t hl = h_end - p;
        if (hl == 0 || hl > BP_URL_HOST_MAX)
            return bp_error_set(err, "bad_url", field, "%s must name a host", field);
        for (size_t i = 0; i < hl; i++)
            out->host[i] = lower(s[p + i]);
        out->host[hl] = '\0';
        uint8_t a4[4];
        if (inet_pton(AF_INET, out->host, a4) == 1) {
            out->host_is_ip = true;
        } else if (!host_name_ok(out->host)) {
            return bp_error_set(err, "bad_url", field,
                                "%s must name a host (letters, digits and hyphens, a top-level "
                                "domain that starts with a letter) or an IP address",
                                field);
        }
    }
    out->port = out->https ? 443 : 80;
    if (h_end < a_end) { /* ":port" */
        size_t q = h_end + 1;
        long port = 0;
        if (q == a_end || a_end - q > 5)
            return bp_error_set(err, "bad_url", field, "%s has a bad port (1 to 65535)", field);
        for (; q < a_end; q++) {
            if (!is_digit(s[q]))
                return bp_error_set(err, "bad_url", field, "%s has a bad port (1 to 65535)", field);
            port = port * 10 + (s[q] - '0');
        }
        if (port < 1 || port > 65535)
            return bp_error_set(err, "bad_url", field, "%s has a bad port (1 to 65535)", field);
        out->port = (int)port;
    }
    if (a_end == len) {
        snprintf(out->path, sizeof out->path, "/");
    } else {
        snprintf(out->path, sizeof out->path, "%s%.*s", s[a_end] == '?' ? "/" : "",
                 (int)(len - a_end), s + a_end);
    }
    return 0;
}

/* -- e-mail addresses ----------------------------------------------------------------- */

int bp_email_check(const char *s, size_t len, const char *field, bp_error_t *err) {
    static const char forbidden[] = "<>()[]\\,;:\"";
    const char *at = len ? memchr(s, '@', len) : NULL;
    if (len == 0 || len > 254 || !at)
        return bp_error_set(err, "bad_email", field,
                            "%s must be an e-mail address (name@example.org), at most 254 bytes",
                            field);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || memchr(forbidden, c, sizeof forbidden - 1))
            return bp_error_set(err, "bad_email", field,
                                "%s must be printable ASCII without spaces or any of <>()[]\\,;:\"",
                                field);
    }
    size_t local = (size_t)(at - s);
    const char *dom = at + 1;
    size_t dl = len - local - 1;
    if (local == 0 || local > 64 || memchr(dom, '@', dl))
        return bp_error_set(err, "bad_email", field,
                            "%s must have one @ after a name of 1 to 64 characters", field);
    char host[BP_URL_HOST_MAX + 1];
    if (dl == 0 || dl > BP_URL_HOST_MAX || !memchr(dom, '.', dl))
        return bp_error_set(err, "bad_email", field, "%s must end in a domain such as example.org",
                            field);
    for (size_t i = 0; i < dl; i++)
        host[i] = lower(dom[i]);
    host[dl] = '\0';
    if (!host_name_ok(host))
        return bp_error_set(err, "bad_email", field, "%s must end in a domain such as example.org",
                            field);
    return 0;
}
