/*
 * libFuzzer harness for the request-header parsers of core/bp_httputil.c
 * and the session cookie of core/bp_auth.c, each reached with arbitrary
 * bytes: the first byte picks the parser, the rest is its input (split at
 * '\n' where a parser takes several strings). Besides "no crash", each
 * result is checked against the rule in the header comment: outputs point
 * inside the input, values read back the same when written again, a
 * well-formed input is never refused, and the Origin check agrees with a
 * plain model of it.
 */
#include "bp_auth.h"
#include "bp_httputil.h"
#include "fuzz_util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const unsigned char key[32] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9};
static const int64_t now_ms = 1795309200000LL;

static bool any_of(const char *s, size_t n, const char *set) {
    for (size_t i = 0; i < n; i++)
        if (s[i] && strchr(set, s[i])) return true;
    return false;
}

/* The next part of the input up to '\n' (or the end). */
static const char *part(const char **in, size_t *n, size_t *len) {
    const char *p = *in, *nl = memchr(p, '\n', *n);
    *len = nl ? (size_t)(nl - p) : *n;
    *in += *len + (nl ? 1 : 0);
    *n -= *len + (nl ? 1 : 0);
    return p;
}

static char *cstr(const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (!c) abort();
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static void bearer(const char *in, size_t n) {
    const char *t;
    size_t tl;
    if (bp_http_bearer(in, n, &t, &tl) == 0) {
        if (t < in || t + tl > in + n || !tl || any_of(t, tl, " \t,")) abort();
        /* before: blanks, the scheme, blanks; after: blanks */
        const char *p = in;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t')) abort();
        for (p += 6; p < t; p++)
            if (*p != ' ' && *p != '\t') abort();
        for (p = t + tl; p < in + n; p++)
            if (*p != ' ' && *p != '\t') abort();
    }
    /* any token without blanks or commas comes back whole */
    if (n && n < 512 && !any_of(in, n, " \t,")) {
        char h[600];
        memcpy(h, "bEaReR\t ", 8);
        memcpy(h + 8, in, n);
        memcpy(h + 8 + n, "  ", 2);
        size_t hl = n + 10;
        if (bp_http_bearer(h, hl, &t, &tl) != 0 || tl != n || memcmp(t, in, n) != 0) abort();
    }
}

static void cookie(const char *in, size_t n) {
    size_t nl, hl;
    const char *name = part(&in, &n, &nl);
    const char *hdr = part(&in, &n, &hl);
    char *cname = cstr(name, nl);
    const char *v;
    size_t vl;
    if (bp_http_cookie(hdr, hl, cname, &v, &vl) == 0) {
        if (v < hdr || v + vl > hdr + hl || memchr(v, ';', vl)) abort();
    }
    /* a well-formed pair among others is found, its value whole */
    if (nl && nl < 512 && !memchr(name, '\0', nl) && !any_of(name, nl, "=; \t") &&
        strcmp(cname, "a") != 0 && hl < 512 && !memchr(hdr, ';', hl) && !memchr(hdr, '\0', hl) &&
        (!hl || (hdr[0] != ' ' && hdr[0] != '\t' && hdr[0] != '"' && hdr[hl - 1] != ' ' &&
                 hdr[hl - 1] != '\t'))) {
        char h[1200];
        int n2 = snprintf(h, sizeof h, "a=1; %s=%.*s; b=2", cname, (int)hl, hdr);
        if (bp_http_cookie(h, (size_t)n2, cname, &v, &vl) != 0 || vl != hl ||
            memcmp(v, hdr, hl) != 0)
            abort();
    }
    /* the server's path: the session cookie, which cannot be forged */
    if (bp_http_cookie(hdr, hl, "bp_session", &v, &vl) == 0) {
        char tid[BP_TOKEN_ID_MAX + 1], sid[33];
        int64_t exp;
        if (bp_session_verify(key, sizeof key, v, vl, now_ms, tid, sid, &exp) == 0) abort();
    }
    free(cname);
}

static void if_match(const char *in, size_t n) {
    int64_t v = -1;
    if (bp_http_if_match(in, n, &v) == 0) {
        if (v < 0 || v >= 1000000000000000LL) abort();
        char h[3][40];
        int hl[3] = {snprintf(h[0], sizeof h[0], "%" PRId64, v),
                     snprintf(h[1], sizeof h[1], "\"%" PRId64 "\"", v),
                     snprintf(h[2], sizeof h[2], " W/\"%" PRId64 "\"\t", v)};
        for (int i = 0; i < 3; i++) {
            int64_t back = -1;
            if (bp_http_if_match(h[i], (size_t)hl[i], &back) != 0 || back != v) abort();
        }
    }
    /* 1 to 15 digits are a version */
    bool digits = n >= 1 && n <= 15;
    for (size_t i = 0; digits && i < n; i++)
        digits = in[i] >= '0' && in[i] <= '9';
    if (digits) {
        char *s = cstr(in, n);
        if (bp_http_if_match(in, n, &v) != 0 || v != strtoll(s, NULL, 10)) abort();
        free(s);
    }
}

static void arg(const char *in, size_t n) {
    if (n < 1) return;
    size_t out_len = (unsigned char)in[0] % 80;
    in++, n--;
    size_t nl, al;
    const char *name = part(&in, &n, &nl);
    const char *args = in;
    al = n;
    if (memchr(name, '\0', nl)) return; /* names are C strings in the server */
    char *cname = cstr(name, nl);
    char out[80];
    memset(out, 0xa5, sizeof out);
    int q = bp_http_arg(args, al, cname, out, out_len);
    /* the model: the first fragment "name" or "name=..." */
    const char *val = NULL;
    size_t vl = 0;
    for (size_t i = 0; i < al;) {
        const char *f = args + i, *z = memchr(f, '\0', al - i);
        size_t fl = z ? (size_t)(z - f) : al - i;
        if (fl >= nl && memcmp(f, cname, nl) == 0 && (fl == nl || f[nl] == '=')) {
            val = fl == nl ? f + fl : f + nl + 1;
            vl = fl == nl ? 0 : fl - nl - 1;
            break;
        }
        i += fl + 1;
    }
    if (!out_len || !val) {
        if (q != -1) abort();
    } else if (vl + 1 > out_len) {
        if (q != -2) abort();
    } else {
        if (q != (int)vl || out[q] != '\0' || memcmp(out, val, vl) != 0) abort();
    }
    free(cname);
}

/* The rule of bp_http_origin_ok, written plainly. */
static bool origin_model(const char *origin, const char *host, const char *allowed) {
    size_t ol = strlen(origin), hl = strlen(host);
    if (!ol) return false;
    static const char *const schemes[] = {"http://", "https://"};
    for (int s = 0; hl && s < 2; s++) {
        size_t sl = strlen(schemes[s]);
        if (ol == sl + hl && strncmp(origin, schemes[s], sl) == 0 &&
            strncasecmp(origin + sl, host, hl) == 0)
            return true;
    }
    for (const char *p = allowed; *p;) {
        size_t tl = strcspn(p, ", ");
        if (tl && tl == ol && memcmp(p, origin, ol) == 0) return true;
        p += tl;
        if (*p) p++;
    }
    return false;
}

static void origin(const char *in, size_t n) {
    size_t l1, l2, l3;
    const char *a = part(&in, &n, &l1);
    const char *b = part(&in, &n, &l2);
    const char *c = part(&in, &n, &l3);
    char *o = cstr(a, l1), *h = cstr(b, l2), *al = cstr(c, l3);
    if (bp_http_origin_ok(o, h, al) != origin_model(o, h, al)) abort();
    if (bp_http_origin_ok(o, NULL, NULL) != origin_model(o, "", "")) abort();
    /* listed, or the server's own, is always allowed */
    if (*o && !strpbrk(o, ", ") && !bp_http_origin_ok(o, "", o)) abort();
    if (*h) {
        char own[600];
        snprintf(own, sizeof own, "https://%.500s", h);
        if (strlen(h) <= 500 && !bp_http_origin_ok(own, h, "")) abort();
    }
    free(o);
    free(h);
    free(al);
}

/* Session cookies: the input is a payload the server might have signed. */
static void session(const char *in, size_t n) {
    char cookie[BP_SESSION_MAX + 80];
    if (n > BP_SESSION_MAX) n = BP_SESSION_MAX;
    memcpy(cookie, in, n);
    unsigned char mac[SHA256_DIGEST_LENGTH];
    if (!HMAC(EVP_sha256(), key, (int)sizeof key, (const unsigned char *)in, n, mac, NULL)) abort();
    cookie[n] = '.';
    bp_hex(mac, sizeof mac, cookie + n + 1);
    size_t cl = n + 1 + 2 * SHA256_DIGEST_LENGTH;
    char tid[BP_TOKEN_ID_MAX + 1], sid[33];
    int64_t exp;
    if (bp_session_verify(key, sizeof key, cookie, cl, now_ms, tid, sid, &exp) == 0) {
        if (cl > BP_SESSION_MAX || exp <= now_ms || !tid[0] || !sid[0] ||
            !fz_terminated(tid, sizeof tid) || !fz_terminated(sid, sizeof sid))
            abort();
        for (const char *p = tid; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-') abort();
        for (const char *p = sid; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-') abort();
        /* signed again by the server, it reads back the same */
        char again[BP_SESSION_MAX + 1], t2[BP_TOKEN_ID_MAX + 1], s2[33];
        int64_t e2;
        if (bp_session_sign(key, sizeof key, tid, now_ms, exp, sid, again, sizeof again) == 0) {
            if (bp_session_verify(key, sizeof key, again, strlen(again), now_ms, t2, s2, &e2) !=
                    0 ||
                strcmp(t2, tid) != 0 || strcmp(s2, sid) != 0 || e2 != exp)
                abort();
        }
        /* any other signature, or another key, is refused */
        char last = cookie[cl - 1];
        cookie[cl - 1] = last == '0' ? '1' : '0';
        if (bp_session_verify(key, sizeof key, cookie, cl, now_ms, tid, sid, &exp) == 0) abort();
        cookie[cl - 1] = last;
        unsigned char other[sizeof key];
        memcpy(other, key, sizeof key);
        other[0] ^= 1;
        if (bp_session_verify(other, sizeof other, cookie, cl, now_ms, tid, sid, &exp) == 0)
            abort();
        /* and it ends at its expiry */
        if (bp_session_verify(key, sizeof key, cookie, cl, exp, tid, sid, &e2) == 0) abort();
    }
    /* unsigned bytes never pass */
    if (bp_session_verify(key, sizeof key, in, n, now_ms, tid, sid, &exp) == 0) abort();
    /* tokens: the form, and what bp-admin makes ("bp_" + base64url of 32
     * random bytes, no padding) */
    if (bp_token_well_formed(in, n) && (n != BP_TOKEN_LEN || memcmp(in, "bp_", 3) != 0)) abort();
    if (n >= 32) {
        char tok[BP_TOKEN_LEN + 1], hash[65];
        unsigned char b64[48];
        EVP_EncodeBlock(b64, (const unsigned char *)in, 32);
        memcpy(tok, "bp_", 3);
        for (int i = 0; i < 43; i++)
            tok[3 + i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
        tok[3 + 43] = 0;
        if (strlen(tok) != BP_TOKEN_LEN || !bp_token_well_formed(tok, BP_TOKEN_LEN)) abort();
        bp_token_hash(tok, BP_TOKEN_LEN, hash);
        if (strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64) abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 1) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0: bearer(in, n); break;
    case 1: cookie(in, n); break;
    case 2: if_match(in, n); break;
    case 3: arg(in, n); break;
    case 4: origin(in, n); break;
    default: session(in, n); break;
    }
    return 0;
}
