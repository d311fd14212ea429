/* Roles, permissions, token and session forms (see bp_auth.h). */
#include "bp_auth.h"

#include "bp_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[BP_ROLE__COUNT] = {"public",     "wall",  "manager",
                                                       "dispatcher", "admin", "feed"};

const char *bp_role_name(bp_role_t r) {
    return (unsigned)r < BP_ROLE__COUNT ? role_names[r] : NULL;
}

int bp_role_parse(const char *s, size_t len) {
    for (int i = 0; i < BP_ROLE__COUNT; i++)
        if (strlen(role_names[i]) == len && memcmp(role_names[i], s, len) == 0) return i;
    return -1;
}

int bp_auth_anonymous_role(const char *setting) {
    if (!setting || strcmp(setting, "none") == 0) return -1;
    int r = bp_role_parse(setting, strlen(setting));
    return r == BP_ROLE_PUBLIC || r == BP_ROLE_WALL || r == BP_ROLE_DISPATCHER ? r : -1;
}

bp_audience_t bp_role_audience(bp_role_t r) {
    switch (r) {
    case BP_ROLE_DISPATCHER:
    case BP_ROLE_ADMIN: return BP_AUD_FULL;
    case BP_ROLE_WALL: return BP_AUD_WALL;
    default: return BP_AUD_HOSPITALS;
    }
}

void bp_principal_scope_add(bp_principal_t *p, int hospital) {
    if (hospital >= 0 && hospital < BP_REGISTRY_MAX)
        p->scope[hospital / 64] |= (uint64_t)1 << (hospital % 64);
}

bool bp_principal_in_scope(const bp_principal_t *p, int hospital) {
    if (p->all_hospitals) return true;
    if (hospital < 0 || hospital >= BP_REGISTRY_MAX) return false;
    return p->scope[hospital / 64] >> (hospital % 64) & 1;
}

/* The permission table: one row per role, one column per action. */
static bool role_allows(bp_role_t r, bp_action_t a) {
    switch (a) {
    case BP_ACT_READ_SUMMARY: return r != BP_ROLE_FEED;
    case BP_ACT_READ_HOSPITALS:
    case BP_ACT_LIVE:
        return r == BP_ROLE_WALL || r == BP_ROLE_MANAGER || r == BP_ROLE_DISPATCHER ||
               r == BP_ROLE_ADMIN;
    case BP_ACT_READ_AMBULANCES: return r == BP_ROLE_DISPATCHER || r == BP_ROLE_ADMIN;
    case BP_ACT_WRITE_HOSPITAL: return r == BP_ROLE_MANAGER || r == BP_ROLE_ADMIN;
    case BP_ACT_READ_AUDIT:
    case BP_ACT_READ_SOURCES: return r == BP_ROLE_ADMIN;
    case BP_ACT_FEED_HOSPITAL:
    case BP_ACT_FEED_FLEET: return r == BP_ROLE_FEED || r == BP_ROLE_ADMIN;
    }
    return false;
}

bool bp_auth_allows(const bp_principal_t *p, int anon_role, bp_action_t a, int hospital,
                    int64_t now_ms) {
    if (!p) {
        /* anonymous: never writes, never feeds, never the audit */
        if (anon_role < 0 || a == BP_ACT_WRITE_HOSPITAL || a == BP_ACT_READ_AUDIT ||
            a == BP_ACT_READ_SOURCES || a == BP_ACT_FEED_HOSPITAL || a == BP_ACT_FEED_FLEET)
            return false;
        return role_allows((bp_role_t)anon_role, a);
    }
    if (p->revoked_ms || (p->expires_ms && now_ms >= p->expires_ms)) return false;
    if (!role_allows(p->role, a)) return false;
    if (a == BP_ACT_WRITE_HOSPITAL || a == BP_ACT_FEED_HOSPITAL)
        return p->role == BP_ROLE_ADMIN || bp_principal_in_scope(p, hospital);
    if (a == BP_ACT_FEED_FLEET) return p->role == BP_ROLE_ADMIN || p->fleet;
    return true;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void bp_hex(const unsigned char *in, size_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

bool bp_token_well_formed(const char *s, size_t len) {
    if (len != BP_TOKEN_LEN || memcmp(s, "bp_", 3) != 0) return false;
    for (size_t i = 3; i < len; i++)
        if (!strchr(b64url, s[i]) || !s[i]) return false;
    return true;
}

void bp_token_hash(const char *token, size_t len, char out[65]) {
    unsigned char h[BP_SHA256_LEN];
    bp_sha256(token, len, h);
    bp_hex(h, sizeof h, out);
}

int bp_session_sign(const unsigned char *key, size_t key_len, const char *token_id,
                    int64_t issued_ms, int64_t expires_ms, const char *session_id, char *out,
                    size_t out_len) {
    int n = snprintf(out, out_len, "v1|%s|%lld|%lld|%s", token_id, (long long)issued_ms,
                     (long long)expires_ms, session_id);
    if (n < 0 || (size_t)n + 1 + 2 * BP_SHA256_LEN + 1 > out_len) return -1;
    unsigned char mac[BP_SHA256_LEN];
    if (bp_hmac_sha256(key, key_len, out, (size_t)n, mac) != 0) return -1;
    out[n] = '.';
    bp_hex(mac, sizeof mac, out + n + 1);
    return 0;
}

static bool id_chars(const char *s, size_t n, size_t max) {
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

int bp_session_verify(const unsigned char *key, size_t key_len, const char *cookie, size_t len,
                      int64_t now_ms, char token_id[BP_TOKEN_ID_MAX + 1], char session_id[33],
                      int64_t *expires_ms) {
    if (len > BP_SESSION_MAX || len < 2 * BP_SHA256_LEN + 2) return -1;
    const char *dot = memchr(cookie, '.', len);
    if (!dot || (size_t)(cookie + len - dot - 1) != 2 * BP_SHA256_LEN) return -1;
    size_t plen = (size_t)(dot - cookie);
    unsigned char mac[BP_SHA256_LEN];
    char hex[2 * BP_SHA256_LEN + 1];
    if (bp_hmac_sha256(key, key_len, cookie, plen, mac) != 0) return -1;
    bp_hex(mac, sizeof mac, hex);
    if (!bp_ct_equal(hex, dot + 1, 2 * BP_SHA256_LEN)) return -1;
    /* v1|<token id>|<issued>|<expires>|<session id> */
    char payload[BP_SESSION_MAX + 1];
    memcpy(payload, cookie, plen);
    payload[plen] = '\0';
    char *f[5], *save = NULL, *p = payload;
    for (int i = 0; i < 5; i++) {
        f[i] = strtok_r(i ? NULL : p, "|", &save);
        if (!f[i]) return -1;
    }
    if (strtok_r(NULL, "|", &save) || strcmp(f[0], "v1") != 0) return -1;
    if (!id_chars(f[1], strlen(f[1]), BP_TOKEN_ID_MAX) || !id_chars(f[4], strlen(f[4]), 32))
        return -1;
    char *end;
    long long exp = strtoll(f[3], &end, 10);
    if (*end || exp <= now_ms) return -1;
    snprintf(token_id, BP_TOKEN_ID_MAX + 1, "%s", f[1]);
    snprintf(session_id, 33, "%s", f[4]);
    *expires_ms = exp;
    return 0;
}
