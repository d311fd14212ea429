/*
 * Browser sessions (routes.c):
 *
 *   POST   /api/v1/session   {"token":..} -> session cookie
 *   GET    /api/v1/session   who am I
 *   DELETE /api/v1/session   sign out (the session id is denied)
 */
#include "bp_jw.h"
#include "bp_log.h"
#include "bp_rate.h"
#include "bp_time.h"
#include "handlers.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* Opens the object and writes who p is; the caller adds its members and
 * closes it. */
static void write_principal(bp_jw_t *w, const bp_app_t *app, const bp_principal_t *p) {
    const bp_registry_t *reg = &app->cfg.registry;
    bp_jw_obj(w);
    BP_JW_KEY(w, "token_id");
    bp_jw_cstr(w, p->id);
    BP_JW_KEY(w, "role");
    bp_jw_cstr(w, bp_role_name(p->role));
    BP_JW_KEY(w, "name");
    bp_jw_cstr(w, p->name);
    BP_JW_KEY(w, "hospitals");
    if (p->all_hospitals) {
        bp_jw_cstr(w, "*");
    } else {
        bp_jw_arr(w);
        for (size_t i = 0; i < reg->n_hospitals; i++)
            if (bp_principal_in_scope(p, (int)i)) bp_jw_cstr(w, reg->hospitals[i].id);
        bp_jw_end(w);
    }
    BP_JW_KEY(w, "fleet");
    bp_jw_bool(w, p->fleet);
    BP_JW_KEY(w, "token_expires");
    bp_jw_time(w, p->expires_ms);
}

void bp_api_session_post(bp_req_t *r) {
    bp_app_t *app = r->app;
    int64_t now = bp_time_now_ms(), retry;
    if (!bp_req_is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the token as application/json");
        return;
    }
    if (!bp_rate_check(app->rate_login, r->addr, now, &retry)) {
        r->retry_after_s = (int)((retry + 999) / 1000);
        bp_req_error(r, 429, "rate_limited",
                     "too many failed sign-ins from this address; wait and retry");
        return;
    }
    char token[BP_TOKEN_MAX + 1];
    bp_error_t err;
    if (bp_codec_parse_sign_in(bp_buf_data(&r->in), r->in.len, token, &err)) {
        bp_errors_t errs = {.n = 1};
        errs.e[0] = err;
        bp_req_invalid(r, err.message, &errs);
        return;
    }
    if (!bp_tokens_ready(app->tokens)) {
        explicit_bzero(token, sizeof token);
        r->retry_after_s = 1;
        bp_req_error(r, 503, "unavailable", "credentials cannot be checked yet; retry shortly");
        return;
    }
    const bp_principal_t *p = bp_tokens_find(app->tokens, token, strlen(token));
    explicit_bzero(token, sizeof token);
    const char *why = !p                                      ? "this token is not valid"
                      : p->revoked_ms                         ? "this token was revoked"
                      : p->expires_ms && p->expires_ms <= now ? "this token has expired"
                                                              : NULL;
    if (why) {
        bp_rate_take(app->rate_login, r->addr, now, &retry);
        app->sign_in_failures++;
        bp_info("http %s: sign-in refused: %s", r->addr, why);
        bp_req_error(r, 401, "unauthorized", why);
        return;
    }
    if (p->role == BP_ROLE_FEED) {
        bp_req_error(r, 403, "forbidden", "a feed token cannot sign in to the web views");
        return;
    }
    size_t klen;
    const unsigned char *key = bp_tokens_secret(app->tokens, &klen);
    unsigned char raw[16];
    char sid[33], cookie[BP_SESSION_MAX + 1];
    int64_t exp = now + (int64_t)app->cfg.settings.auth_session_hours * 3600 * 1000;
    if (p->expires_ms && p->expires_ms < exp) exp = p->expires_ms;
    if (!key || RAND_bytes(raw, (int)sizeof raw) != 1) {
        bp_req_error(r, 503, "unavailable", "sessions cannot be created now; retry shortly");
        return;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(sid + 2 * i, 3, "%02x", raw[i]);
    if (bp_session_sign(key, klen, p->id, now, exp, sid, cookie, sizeof cookie)) {
        bp_req_error(r, 500, "internal", "session cookie too long");
        return;
    }
    snprintf(r->set_cookie, sizeof r->set_cookie,
             "bp_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", cookie,
             (long long)((exp - now) / 1000), app->tls ? "; Secure" : "");
    explicit_bzero(cookie, sizeof cookie);
    app->sessions_created++;
    bp_info("http %s: session for token %s (%s) until %lld", r->addr, p->id, bp_role_name(p->role),
            (long long)exp);
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    write_principal(&w, app, p);
    BP_JW_KEY(&w, "session_expires");
    bp_jw_time(&w, exp);
    bp_jw_end(&w);
}

void bp_api_session_delete(bp_req_t *r) {
    bp_app_t *app = r->app;
    if (r->cred.token_id[0] && !r->cred.session_id[0]) {
        bp_req_error(r, 400, "no_session",
                     "a bearer token has no session to end; revoke it with bp-admin");
        return;
    }
    /* sign out; a session that already ended is simply forgotten */
    if (r->cred.session_id[0])
        bp_tokens_deny_session(app->tokens, r->cred.session_id, r->cred.session_exp);
    snprintf(r->set_cookie, sizeof r->set_cookie,
             "bp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             app->tls ? "; Secure" : "");
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "signed_out");
    bp_jw_bool(&w, true);
    bp_jw_end(&w);
}

void bp_api_session_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided) return;
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    if (!p) {
        int anon = bp_auth_anonymous_role(app->cfg.settings.auth_anonymous);
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "role");
        bp_jw_cstr_or_null(&w, anon < 0 ? NULL : bp_role_name((bp_role_t)anon));
        BP_JW_KEY(&w, "anonymous");
        bp_jw_bool(&w, true);
        bp_jw_end(&w);
        return;
    }
    write_principal(&w, app, p);
    BP_JW_KEY(&w, "session_expires");
    bp_jw_time(&w, r->cred.session_id[0] ? r->cred.session_exp : 0);
    bp_jw_end(&w);
}
