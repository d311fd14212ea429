/*
 * libFuzzer harness for the pure Sentinel part (core/bp_sentinel.c): the
 * redis.sentinels list and the rounds over it, and what sentinels and
 * masters answer (the two strings of get-master-addr-by-name, +switch-master
 * messages, ROLE, error replies), each reached with arbitrary bytes. The
 * first byte picks the part, the rest is its input, split at the first '\n'
 * where a function takes two strings. A reply's strings are copied to
 * buffers of their exact size with no NUL after them, as hiredis hands them
 * with their length, so a read past the length is an ASan report.
 *
 * Checks, beyond "no crash": every answer agrees with a plain model of the
 * rule stated in bp_sentinel.h (written here from the rule, not from the
 * code); an accepted address is the input's bytes whole, and written as
 * host:port it reads back the same through the list parser; a well-formed
 * +switch-master message about our master is never refused; a refused list
 * names its setting and leaves the list as it was; a round asks every
 * sentinel exactly once, and the one that answered is asked first next.
 */
#include "bp_sentinel.h"
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the model: the rules of bp_sentinel.h ---- */

static bool m_host_ok(const char *h, size_t n) {
    if (n < 1 || n > BP_SENTINEL_HOST_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_", h[i]) ||
            !h[i])
            return false;
    return true;
}

/* 1..65535 in decimal, digits only, no leading zero. */
static int m_port(const char *p, size_t n) {
    if (n < 1 || n > 5 || p[0] == '0') return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v <= 65535 ? (int)v : -1;
}

static bool m_addr(const char *h, size_t hn, const char *p, size_t pn, bp_sentinel_addr_t *out) {
    int port = m_port(p, pn);
    if (port < 0 || !m_host_ok(h, hn)) return false;
    memcpy(out->host, h, hn);
    out->host[hn] = '\0';
    out->port = port;
    return true;
}

/* One list entry: "[v6]:port" (a ':' inside the brackets) or "host:port"
 * (no ':' in the host). */
static bool m_entry(const char *e, size_t n, bp_sentinel_addr_t *a) {
    if (n && e[0] == '[') {
        const char *close = memchr(e, ']', n);
        if (!close) return false;
        size_t hn = (size_t)(close - e - 1), rest = n - hn - 2;
        if (rest < 1 || close[1] != ':' || !memchr(e + 1, ':', hn)) return false;
        return m_addr(e + 1, hn, close + 2, rest - 1, a);
    }
    size_t colon = n;
    while (colon > 0 && e[colon - 1] != ':')
        colon--;
    if (colon == 0) return false;
    colon--;
    if (memchr(e, ':', colon)) return false;
    return m_addr(e, colon, e + colon + 1, n - colon - 1, a);
}

/* The list: entries split at ',', spaces and tabs around them dropped,
 * 1..BP_SENTINEL_MAX of them, none twice. -1 when refused, else the count. */
static int m_list(const char *text, bp_sentinel_addr_t out[BP_SENTINEL_MAX]) {
    int n = 0;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t b = 0, e = len;
        while (b < e && (p[b] == ' ' || p[b] == '\t'))
            b++;
        while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        if (n == BP_SENTINEL_MAX || !m_entry(p + b, e - b, &out[n])) return -1;
        for (int i = 0; i < n; i++)
            if (out[i].port == out[n].port && strcmp(out[i].host, out[n].host) == 0) return -1;
        n++;
        if (!p[len]) return n;
        p += len + 1;
    }
}

/* The words of msg, split at spaces only (a tab is part of a word). */
static int m_words(const char *msg, size_t n, const char *w[6], size_t wl[6]) {
    int k = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && msg[i] == ' ')
            i++;
        if (i == n) break;
        size_t s = i;
        while (i < n && msg[i] != ' ')
            i++;
        if (k == 6) return 7;
        w[k] = msg + s;
        wl[k] = i - s;
        k++;
    }
    return k;
}

/* ---- helpers ---- */

/* n bytes in a buffer of exactly n bytes (ASan sees a read past them). */
static char *exact(const char *s, size_t n) {
    char *b = malloc(n ? n : 1);
    if (!b) abort();
    memcpy(b, s, n);
    return b;
}

/* s up to n bytes as a C string (it ends at its first NUL, if any), in a
 * buffer of at least 16 bytes. */
static char *cstr(const char *s, size_t n) {
    char *b = malloc(n + 1 < 16 ? 16 : n + 1);
    if (!b) abort();
    memcpy(b, s, n);
    b[n] = '\0';
    return b;
}

static bool same_addr(const bp_sentinel_addr_t *a, const bp_sentinel_addr_t *b) {
    return a->port == b->port && strcmp(a->host, b->host) == 0;
}

static void check_addr(const bp_sentinel_addr_t *a) {
    if (!fz_terminated(a->host, sizeof a->host) || !m_host_ok(a->host, strlen(a->host)) ||
        a->port < 1 || a->port > 65535)
        abort();
}

/* Written as host:port ([v6]:port) it reads back the same as a list of one,
 * and as a +switch-master message about our master it names it. */
static void check_round_trip(const bp_sentinel_addr_t *a) {
    char text[BP_SENTINEL_HOST_MAX + 16], small[12];
    bp_sentinel_addr_format(a, text, sizeof text);
    bp_sentinel_list_t l;
    bp_error_t err;
    if (bp_sentinel_list_parse(&l, text, &err) != 0 || l.n != 1 || !same_addr(&l.addr[0], a))
        abort();
    /* a short buffer gets a prefix, ended */
    bp_sentinel_addr_format(a, small, sizeof small);
    if (!fz_terminated(small, sizeof small) || strncmp(small, text, strlen(small)) != 0) abort();

    char msg[2 * BP_SENTINEL_HOST_MAX + 64];
    int n = snprintf(msg, sizeof msg, "bedpulse 10.0.0.1 6379 %s %d", a->host, a->port);
    bp_sentinel_addr_t to;
    char *m = exact(msg, (size_t)n);
    if (bp_sentinel_switch_parse(m, (size_t)n, "bedpulse", &to) != 0 || !same_addr(&to, a)) abort();
    if (bp_sentinel_switch_parse(m, (size_t)n, "bedpulse2", &to) == 0) abort();
    free(m);
}

/* ---- the parts ---- */

static void list(const char *in, size_t n) {
    char *text = cstr(in, n);
    bp_sentinel_list_t l, before;
    memset(&l, 0xa5, sizeof l);
    before = l;
    bp_error_t err;
    memset(&err, 0, sizeof err);
    int rc = bp_sentinel_list_parse(&l, text, &err);
    bp_sentinel_list_t l2;
    if (bp_sentinel_list_parse(&l2, text, NULL) != rc) abort(); /* as io/ calls it */
    bp_sentinel_addr_t want[BP_SENTINEL_MAX];
    int mn = m_list(text, want);
    if ((rc == 0) != (mn > 0)) abort();
    if (rc != 0) {
        fz_check_error(&err);
        if (strcmp(err.code, "bad_setting") != 0 || strcmp(err.field, "redis.sentinels") != 0 ||
            memcmp(&l, &before, sizeof l) != 0)
            abort();
        free(text);
        return;
    }
    if (l.n != (size_t)mn || l.tried != 0) abort();
    for (size_t i = 0; i < l.n; i++) {
        check_addr(&l.addr[i]);
        if (!same_addr(&l.addr[i], &want[i]) || l.order[i] != i) abort();
    }
    /* written back as a list, it reads back the same */
    char back[BP_SENTINEL_MAX * (BP_SENTINEL_HOST_MAX + 16)];
    size_t at = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (i) at += (size_t)snprintf(back + at, sizeof back - at, " , ");
        bp_sentinel_addr_format(&l.addr[i], back + at, sizeof back - at);
        at += strlen(back + at);
    }
    bp_sentinel_list_t again;
    if (bp_sentinel_list_parse(&again, back, &err) != 0 || again.n != l.n) abort();
    for (size_t i = 0; i < l.n; i++)
        if (!same_addr(&again.addr[i], &l.addr[i])) abort();

    /* rounds, played by the input's own bytes against a model of the order */
    unsigned char order[BP_SENTINEL_MAX];
    size_t tried = 0;
    unsigned seen = 0; /* asked in this round */
    int last = 0;
    for (size_t i = 0; i < l.n; i++)
        order[i] = (unsigned char)i;
    for (size_t k = 0; k < n; k++) {
        unsigned char b = (unsigned char)in[k];
        switch (b % 4) {
        case 0: {
            int got = bp_sentinel_next(&l);
            int expect = tried < l.n ? order[tried] : -1;
            if (got != expect) abort();
            if (got >= 0) {
                if (seen & 1u << got) abort(); /* asked twice in a round */
                seen |= 1u << got;
                tried++;
                last = got;
            } else if (seen != (1u << l.n) - 1) {
                abort(); /* the round ended before everyone was asked */
            }
            break;
        }
        case 1:
            bp_sentinel_restart(&l);
            tried = 0;
            seen = 0;
            break;
        default: {
            int who =
                b % 4 == 3 ? last : (int)(b / 4 % (l.n + 2)) - 1; /* -1 and n: not in the list */
            bp_sentinel_answered(&l, who);
            if (who >= 0 && (size_t)who < l.n) {
                size_t pos = 0;
                while (order[pos] != who)
                    pos++;
                memmove(order + 1, order, pos);
                order[0] = (unsigned char)who;
                tried = 0;
                seen = 0;
                if (bp_sentinel_next(&l) != who) abort(); /* asked first next */
                bp_sentinel_restart(&l);
            }
            break;
        }
        }
        if (memcmp(l.order, order, l.n) != 0 || l.tried != tried) abort();
        unsigned perm = 0;
        for (size_t i = 0; i < l.n; i++)
            perm |= 1u << l.order[i];
        if (perm != (1u << l.n) - 1) abort();
    }
    free(text);
}

/* get-master-addr-by-name: host '\n' port */
static void addr(const char *in, size_t n) {
    const char *nl = memchr(in, '\n', n);
    size_t hn = nl ? (size_t)(nl - in) : n, pn = nl ? n - hn - 1 : 0;
    char *h = exact(in, hn), *p = exact(nl ? nl + 1 : in, pn);
    bp_sentinel_addr_t a, want;
    memset(&a, 0x5a, sizeof a);
    int rc = bp_sentinel_addr_parse(h, hn, p, pn, &a);
    if ((rc == 0) != m_addr(h, hn, p, pn, &want)) abort();
    if (rc == 0) {
        check_addr(&a);
        if (!same_addr(&a, &want) || strlen(a.host) != hn || memcmp(a.host, h, hn) != 0) abort();
        check_round_trip(&a);
    }
    free(h);
    free(p);
}

/* +switch-master: our master's name '\n' the message */
static void switch_master(const char *in, size_t n) {
    const char *nl = memchr(in, '\n', n);
    size_t nn = nl ? (size_t)(nl - in) : 0;
    char *name = cstr(in, nn > 80 ? 80 : nn);
    if (!name[0]) strcpy(name, nn ? "x" : "bedpulse");
    const char *msg = nl ? nl + 1 : in;
    size_t mn = nl ? n - nn - 1 : n;
    char *m = exact(msg, mn);
    bp_sentinel_addr_t to, want;
    int rc = bp_sentinel_switch_parse(m, mn, name, &to);
    const char *w[6];
    size_t wl[6];
    bool model = m_words(m, mn, w, wl) == 5 && wl[0] == strlen(name) &&
                 memcmp(w[0], name, wl[0]) == 0 && m_addr(w[3], wl[3], w[4], wl[4], &want);
    if ((rc == 0) != model) abort();
    if (rc == 0) {
        check_addr(&to);
        if (!same_addr(&to, &want)) abort();
    }
    free(m);
    free(name);
}

/* ROLE's first element, and error replies */
static void replies(const char *in, size_t n) {
    char *s = exact(in, n);
    if (bp_sentinel_role_is_master(s, n) != (n == 6 && memcmp(s, "master", 6) == 0)) abort();
    size_t first = 0;
    while (first < n && s[first] != ' ')
        first++;
    bool want = (first == 8 && memcmp(s, "READONLY", 8) == 0) ||
                (first == 7 && memcmp(s, "LOADING", 7) == 0) ||
                (first == 10 && memcmp(s, "MASTERDOWN", 10) == 0);
    if (bp_sentinel_error_wants_master(s, n) != want) abort();
    free(s);
}

/* redis.master_name */
static void master_name(const char *in, size_t n) {
    char *s = cstr(in, n > 100 ? 100 : n);
    size_t len = strlen(s);
    bool want = len >= 1 && len <= BP_SENTINEL_NAME_MAX;
    for (size_t i = 0; want && i < len; i++)
        want = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]);
    if (bp_sentinel_name_ok(s) != want) abort();
    if (want) {
        /* a master so named follows its own +switch-master, not another's */
        char msg[BP_SENTINEL_NAME_MAX + 64], other[BP_SENTINEL_NAME_MAX + 2];
        int mn = snprintf(msg, sizeof msg, "%s 10.0.0.1 6379 10.0.0.2 6380", s);
        snprintf(other, sizeof other, "%sx", s);
        char *m = exact(msg, (size_t)mn);
        bp_sentinel_addr_t to;
        if (bp_sentinel_switch_parse(m, (size_t)mn, s, &to) != 0 || to.port != 6380 ||
            strcmp(to.host, "10.0.0.2") != 0)
            abort();
        if (bp_sentinel_switch_parse(m, (size_t)mn, other, &to) == 0) abort();
        free(m);
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 1 || size > 8192) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0: list(in, n); break;
    case 1: addr(in, n); break;
    case 2: switch_master(in, n); break;
    case 3: replies(in, n); break;
    default: master_name(in, n); break;
    }
    return 0;
}
