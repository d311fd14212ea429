/*
 * One credential check, the pure part (docs/design.md, 15): which secret
 * a request presents, and the verdict on what it presented. REST
 * (server/http.c), the WebSocket upgrade and hello (server/hub.c,
 * server/hub_auth.c) and the feed hello (collector/feed_server.c,
 * server/feed.c) all come through here; io/bp_tokens resolves a secret against the token table
 * (bp_tokens_resolve) and asks for the verdict (bp_tokens_check). Each
 * caller only turns the verdict into its own answer: a 401 or 503 body, a
 * WebSocket close code, a feed line's error.
 *
 * A credential is checked twice: once when it is presented (its form, the
 * token's hash in the table, a session cookie's signature and expiry), and
 * each time it is used (the token still in the table, not revoked, not
 * expired, the session not ended or signed out). No secret is kept between
 * the two: only the token's public id and the session's id.
 */
#ifndef BP_CREDENTIAL_H
#define BP_CREDENTIAL_H

#include "bp_auth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The secret a request presents. */
typedef enum {
    BP_SECRET_NONE,      /* nothing: anonymous */
    BP_SECRET_BEARER,    /* a token (Authorization: Bearer, or a hello's "token") */
    BP_SECRET_SESSION,   /* the bp_session cookie */
    BP_SECRET_MALFORMED, /* an Authorization header that holds no bearer token */
} bp_secret_t;

/* Which secret a request presents, from its Authorization and Cookie
 * headers (len 0: absent): a present Authorization header wins over the
 * cookie. With lax, an Authorization header that holds no bearer token
 * counts as absent (the WebSocket upgrade has always read it so), else it
 * is BP_SECRET_MALFORMED (REST: 401). *secret, *secret_len point into the
 * header that holds it. */
bp_secret_t bp_cred_presented(const char *authorization, size_t authorization_len,
                              const char *cookie, size_t cookie_len, bool lax, const char **secret,
                              size_t *secret_len);

/* What a presented secret was found to be when it was presented. */
typedef enum {
    BP_CRED_NONE,       /* nothing presented */
    BP_CRED_OK,         /* a known token, or a session cookie of one */
    BP_CRED_UNREADY,    /* presented before the token table was loaded */
    BP_CRED_INVALID,    /* malformed, unknown, or a cookie that does not verify */
    BP_CRED_SIGNED_OUT, /* a genuine session cookie, signed out or of a token gone */
} bp_cred_state_t;

/* A resolved credential: no secret, only ids (safe to keep and log). */
typedef struct {
    uint8_t state;                      /* bp_cred_state_t */
    char token_id[BP_TOKEN_ID_MAX + 1]; /* set when BP_CRED_OK */
    char session_id[33]; /* a session cookie's id when it verified (OK, SIGNED_OUT), else "" */
    int64_t session_exp; /* its expiry (ms) */
} bp_cred_t;

/* The verdict on a credential when it is used. */
typedef enum {
    BP_CRED_ANONYMOUS,     /* nothing presented */
    BP_CRED_VALID,         /* its principal may act (what it may do is bp_auth_allows's) */
    BP_CRED_LOADING,       /* the token table was not loaded: retry shortly */
    BP_CRED_NOT_VALID,     /* BP_CRED_INVALID when presented */
    BP_CRED_ENDED,         /* BP_CRED_SIGNED_OUT when presented */
    BP_CRED_GONE,          /* its token left the table since */
    BP_CRED_REVOKED,       /* its token was revoked */
    BP_CRED_EXPIRED,       /* its token expired */
    BP_CRED_SESSION_ENDED, /* its session expired or was signed out since */
} bp_cred_verdict_t;

/* The verdict on a token's principal p (NULL: not in the table) at now_ms:
 * BP_CRED_VALID, GONE, REVOKED or EXPIRED. */
bp_cred_verdict_t bp_cred_principal(const bp_principal_t *p, int64_t now_ms);

/* The verdict on credential c at now_ms, given p, the principal of its
 * token id looked up now (NULL: none), and whether its session is on the
 * sign-out list. */
bp_cred_verdict_t bp_cred_verdict(const bp_cred_t *c, const bp_principal_t *p, bool session_denied,
                                  int64_t now_ms);

#endif
