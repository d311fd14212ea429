/* Content negotiation: Accept-Encoding and If-None-Match (see bp_conneg.h). */
#include "bp_conneg.h"

#include <string.h>
#include <strings.h>

static bool ows(char c) {
    return c == ' ' || c == '\t';
}

/* Whether a q parameter value is zero ("0", "0.", "0.000"). */
static bool q_zero(const char *v, size_t n) {
    if (n == 0 || v[0] != '0') return false;
    if (n == 1) return true;
    if (v[1] != '.') return false;
    for (size_t i = 2; i < n; i++)
        if (v[i] != '0') return false;
    return n <= 5;
}

/* One list element "coding *( OWS ; OWS param )": its coding and whether
 * q=0 excludes it. */
static void element(const char *s, size_t n, const char **coding, size_t *clen, bool *excluded) {
    size_t i = 0;
    while (i < n && ows(s[i]))
        i++;
    size_t start = i;
    while (i < n && s[i] != ';' && !ows(s[i]))
        i++;
    *coding = s + start;
    *clen = i - start;
    *excluded = false;
    while (i < n) {
        while (i < n && (ows(s[i]) || s[i] == ';'))
            i++;
        size_t ps = i;
        while (i < n && s[i] != ';')
            i++;
        size_t pe = i;
        while (pe > ps && ows(s[pe - 1]))
            pe--;
        /* "q" OWS "=" OWS value */
        size_t k = ps;
        if (k < pe && (s[k] == 'q' || s[k] == 'Q')) {
            k++;
            while (k < pe && ows(s[k]))
                k++;
            if (k < pe && s[k] == '=') {
                k++;
                while (k < pe && ows(s[k]))
                    k++;
                *excluded = q_zero(s + k, pe - k);
            }
        }
    }
}

static bool is(const char *s, size_t n, const char *word) {
    return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

unsigned bp_conneg_accept_encoding(const char *hdr, size_t len) {
    unsigned yes = 0, no = 0;
    bool star = false, star_excluded = false;
    size_t i = 0;
    while (hdr && i < len) {
        size_t start = i;
        while (i < len && hdr[i] != ',')
            i++;
        const char *c;
        size_t cn;
        bool excluded;
        element(hdr + start, i - start, &c, &cn, &excluded);
        unsigned bit = 0;
        if (is(c, cn, "gzip") || is(c, cn, "x-gzip"))
            bit = BP_ENC_BIT(BP_ENC_GZIP);
        else if (is(c, cn, "br"))
            bit = BP_ENC_BIT(BP_ENC_BR);
        else if (is(c, cn, "*")) {
            star = true;
            star_excluded = excluded;
        }
        if (bit) {
            if (excluded)
                no |= bit;
            else
                yes |= bit;
        }
        i++; /* the comma */
    }
    unsigned all = BP_ENC_BIT(BP_ENC_GZIP) | BP_ENC_BIT(BP_ENC_BR);
    if (star && !star_excluded) yes |= all & ~no; /* "*" stands for those not named */
    return (yes & ~no & all) | BP_ENC_BIT(BP_ENC_IDENTITY);
}

bp_encoding_t bp_conneg_pick(unsigned accepted, unsigned have) {
    unsigned ok = accepted & have;
    if (ok & BP_ENC_BIT(BP_ENC_BR)) return BP_ENC_BR;
    if (ok & BP_ENC_BIT(BP_ENC_GZIP)) return BP_ENC_GZIP;
    return BP_ENC_IDENTITY;
}

const char *bp_conneg_name(bp_encoding_t e) {
    return e == BP_ENC_BR ? "br" : e == BP_ENC_GZIP ? "gzip" : NULL;
}

const char *bp_conneg_tag_suffix(bp_encoding_t e) {
    return e == BP_ENC_BR ? "-br" : e == BP_ENC_GZIP ? "-gz" : "";
}

/* Whether an opaque tag's inside (between the quotes) is one of ours. */
static bool ours(const char *t, size_t n, const char *base) {
    size_t bl = strlen(base);
    if (bl == 0 || n < bl || memcmp(t, base, bl) != 0) return false;
    if (n == bl) return true;
    for (int e = BP_ENC_GZIP; e < BP_ENC__COUNT; e++) {
        const char *sfx = bp_conneg_tag_suffix((bp_encoding_t)e);
        if (n - bl == strlen(sfx) && memcmp(t + bl, sfx, n - bl) == 0) return true;
    }
    return false;
}

bool bp_conneg_none_match(const char *hdr, size_t len, const char *base) {
    size_t i = 0;
    while (hdr && i < len) {
        while (i < len && (ows(hdr[i]) || hdr[i] == ','))
            i++;
        if (i >= len) break;
        if (hdr[i] == '*') return true;
        if (i + 1 < len && hdr[i] == 'W' && hdr[i + 1] == '/') i += 2;
        if (i < len && hdr[i] == '"') {
            size_t start = ++i;
            while (i < len && hdr[i] != '"')
                i++;
            if (i >= len) return false; /* unterminated: ignore the rest */
            if (ours(hdr + start, i - start, base)) return true;
            i++;
        }
        /* skip to the next element */
        while (i < len && hdr[i] != ',')
            i++;
    }
    return false;
}
