/* One credential check, the pure part (see bp_credential.h). */
#include "bp_credential.h"
#include "bp_httputil.h"

bp_secret_t bp_cred_presented(const char *authorization, size_t authorization_len,
                              const char *cookie, size_t cookie_len, bool lax, const char **secret,
                              size_t *secret_len) {
    if (authorization_len > 0) {
        if (bp_http_bearer(authorization, authorization_len, secret, secret_len) == 0)
            return BP_SECRET_BEARER;
        if (!lax) return BP_SECRET_MALFORMED;
    }
    if (cookie_len > 0 && bp_http_cookie(cookie, cookie_len, "bp_session", secret, secret_len) == 0)
        return BP_SECRET_SESSION;
    return BP_SECRET_NONE;
}

bp_cred_verdict_t bp_cred_principal(const bp_principal_t *p, int64_t now_ms) {
    if (!p) return BP_CRED_GONE;
    if (p->revoked_ms) return BP_CRED_REVOKED;
    if (p->expires_ms && p->expires_ms <= now_ms) return BP_CRED_EXPIRED;
    return BP_CRED_VALID;
}

bp_cred_verdict_t bp_cred_verdict(const bp_cred_t *c, const bp_principal_t *p, bool session_denied,
                                  int64_t now_ms) {
    switch ((bp_cred_state_t)c->state) {
    case BP_CRED_NONE: return BP_CRED_ANONYMOUS;
    case BP_CRED_UNREADY: return BP_CRED_LOADING;
    case BP_CRED_INVALID: return BP_CRED_NOT_VALID;
    case BP_CRED_SIGNED_OUT: return BP_CRED_ENDED;
    case BP_CRED_OK: break;
    }
    bp_cred_verdict_t v = bp_cred_principal(p, now_ms);
    if (v != BP_CRED_VALID) return v;
    if (c->session_id[0] && (c->session_exp <= now_ms || session_denied))
        return BP_CRED_SESSION_ENDED;
    return BP_CRED_VALID;
}
