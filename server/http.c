/*
 * Who is asking (request.h): the credentials a request presents (Bearer
 * token or session cookie) and the principal they resolve to, and whether
 * that principal may do an action. The lws glue is in conn.c, the route
 * table in routes.c.
 */
#include "bp_httputil.h"
#include "bp_time.h"
#include "credential.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

/* -- who is asking ------------------------------------------------------------------ */

/* Reads the credentials of the request: Authorization: Bearer wins over the
 * bp_session cookie. A presented credential that does not check out is an
 * error (401), never a silent fall back to anonymous. */
void bp_req_read_credentials(bp_req_t *r, struct lws *wsi) {
    bp_credential_read(wsi, r->app->tokens, false, bp_time_now_ms(), &r->cred);
}

/* The 401 message for a credential that does not check out. */
static const char *why_unauthorized(bp_cred_verdict_t v, bool session) {
    switch (v) {
    case BP_CRED_NOT_VALID: return "the token or session is not valid; sign in again";
    case BP_CRED_GONE:
        return session ? "the session has ended; sign in again" : "the token is not valid";
    case BP_CRED_REVOKED: return "the token was revoked";
    case BP_CRED_EXPIRED: return "the token has expired";
    default: return "the session has ended; sign in again"; /* ENDED, SESSION_ENDED */
    }
}

const bp_principal_t *bp_req_principal(bp_req_t *r) {
    if (r->decided) return NULL;
    const bp_principal_t *p;
    bp_cred_verdict_t v = bp_tokens_check(r->app->tokens, &r->cred, bp_time_now_ms(), &p);
    if (v == BP_CRED_ANONYMOUS || v == BP_CRED_VALID) return p;
    if (v == BP_CRED_LOADING) {
        bp_req_error(r, 503, "unavailable", "credentials cannot be checked yet; retry shortly");
        r->retry_after_s = 1;
        return NULL;
    }
    bp_req_error(r, 401, "unauthorized", why_unauthorized(v, r->cred.session_id[0] != 0));
    r->www_authenticate = true;
    if (r->cred.session_id[0] || !r->cred.token_id[0]) {
        /* clear a cookie that no longer works */
        snprintf(r->set_cookie, sizeof r->set_cookie,
                 "bp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                 r->app->tls ? "; Secure" : "");
    }
    return NULL;
}

bool bp_req_allow(bp_req_t *r, const bp_principal_t *p, bp_action_t a, int hospital) {
    if (r->decided) return false;
    int anon = bp_auth_anonymous_role(r->app->cfg.settings.auth_anonymous);
    if (bp_auth_allows(p, anon, a, hospital, bp_time_now_ms())) return true;
    if (!p) {
        bp_req_error(r, 401, "unauthorized",
                     "sign in first: send Authorization: Bearer <token> or a session cookie");
        r->www_authenticate = true;
    } else if (a == BP_ACT_WRITE_HOSPITAL) {
        bp_req_error(r, 403, "forbidden",
                     hospital >= 0 && p->role == BP_ROLE_MANAGER
                         ? "this token may not change this hospital's figures"
                         : "this role may not change hospital figures");
    } else {
        char msg[160];
        snprintf(msg, sizeof msg, "a %s token may not read this", bp_role_name(p->role));
        bp_req_error(r, 403, "forbidden", msg);
    }
    return false;
}
