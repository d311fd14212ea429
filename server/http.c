/*
 * Who is asking (request.h): the credentials a request presents (Bearer
 * token or session cookie) and the principal they resolve to, and whether
 * that principal may do an action. The lws glue is in conn.c, the route
 * table in routes.c.
 */
#include "bp_httputil.h"
#include "bp_time.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

/* -- who is asking ------------------------------------------------------------------ */

/* Reads the credentials of the request: Authorization: Bearer wins over the
 * bp_session cookie. A presented credential that does not check out is an
 * error (401), never a silent fall back to anonymous. */
void bp_req_read_credentials(bp_req_t *r, struct lws *wsi) {
    bp_tokens_t *t = r->app->tokens;
    char hdr[BP_SESSION_MAX + 1024];
    const char *v;
    size_t vl;
    int n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 0) {
        r->has_cred = true;
        if (bp_http_bearer(hdr, (size_t)n, &v, &vl)) {
            r->cred_bad = true;
        } else if (bp_tokens_ready(t)) {
            const bp_principal_t *p = bp_tokens_find(t, v, vl);
            if (p) snprintf(r->token_id, sizeof r->token_id, "%s", p->id);
            else r->cred_bad = true;
        }
        explicit_bzero(hdr, sizeof hdr);
        return;
    }
    n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_COOKIE);
    if (n > 0 && bp_http_cookie(hdr, (size_t)n, "bp_session", &v, &vl) == 0) {
        r->has_cred = true;
        if (bp_tokens_ready(t)) {
            const bp_principal_t *p =
                bp_tokens_session(t, v, vl, bp_time_now_ms(), r->session_id, &r->session_exp);
            if (p) snprintf(r->token_id, sizeof r->token_id, "%s", p->id);
            else r->cred_bad = true;
        }
    }
    explicit_bzero(hdr, sizeof hdr);
}

const bp_principal_t *bp_req_principal(bp_req_t *r) {
    if (r->decided) return NULL;
    if (!r->has_cred) return NULL;
    if (!bp_tokens_ready(r->app->tokens)) {
        bp_req_error(r, 503, "unavailable", "credentials cannot be checked yet; retry shortly");
        r->retry_after_s = 1;
        return NULL;
    }
    const bp_principal_t *p = r->token_id[0] ? bp_tokens_by_id(r->app->tokens, r->token_id) : NULL;
    int64_t now = bp_time_now_ms();
    const char *why = NULL;
    if (r->cred_bad || !p)
        why = r->session_id[0] || !r->token_id[0]
                  ? (r->session_id[0] ? "the session has ended; sign in again"
                                      : "the token or session is not valid; sign in again")
                  : "the token is not valid";
    else if (p->revoked_ms) why = "the token was revoked";
    else if (p->expires_ms && p->expires_ms <= now) why = "the token has expired";
    else if (r->session_id[0] && bp_tokens_session_denied(r->app->tokens, r->session_id))
        why = "the session has ended; sign in again";
    if (why) {
        bp_req_error(r, 401, "unauthorized", why);
        r->www_authenticate = true;
        if (r->session_id[0] || !r->token_id[0]) {
            /* clear a cookie that no longer works */
            snprintf(r->set_cookie, sizeof r->set_cookie,
                     "bp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                     r->app->tls ? "; Secure" : "");
        }
        return NULL;
    }
    return p;
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
