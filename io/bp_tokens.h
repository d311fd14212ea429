/*
 * The token table, cached: every server and collector keeps all tokens
 * (a few hundred at most) in memory, keyed by their SHA-256, so checking a
 * request costs no Redis round trip. The table is reloaded whenever the
 * generation counter <prefix>auth:gen changes (checked every second), so a
 * revoked token stops working within about a second everywhere.
 *
 * Redis (written by bp-admin, see docs/security.md):
 *   <prefix>tokens           set of token ids
 *   <prefix>tok:<id>         hash: h (hex SHA-256 of the secret), role, name,
 *                            hospitals ("*" or "id,id,..."), fleet (0/1),
 *                            created, expires, revoked (ms; 0 = none)
 *   <prefix>auth:gen         counter, INCR on every change
 *   <prefix>auth:secret      64 hex chars: the session-signing key (SET NX)
 *   <prefix>auth:deny        sorted set: session id -> expiry (logged out)
 */
#ifndef BP_TOKENS_H
#define BP_TOKENS_H

#include "bp_auth.h"
#include "bp_credential.h"
#include "bp_settings.h"

#include <stdbool.h>
#include <uv.h>

typedef struct bp_tokens bp_tokens_t;

/* Borrowed: settings and registry outlive the cache. */
bp_tokens_t *bp_tokens_create(uv_loop_t *loop, const bp_settings_t *s, const bp_registry_t *reg);
void bp_tokens_close(bp_tokens_t *t, void (*on_closed)(void *), void *data);

/* Loaded at least once (until then nobody is recognised). */
bool bp_tokens_ready(const bp_tokens_t *t);

/* Changes whenever the table is replaced: a principal pointer obtained at
 * generation g stays valid while bp_tokens_generation() == g. */
uint64_t bp_tokens_generation(const bp_tokens_t *t);

/* The principal of a presented secret token, or NULL (malformed, unknown).
 * Revoked and expired principals are returned: bp_auth_allows refuses them. */
const bp_principal_t *bp_tokens_find(const bp_tokens_t *t, const char *token, size_t len);
const bp_principal_t *bp_tokens_by_id(const bp_tokens_t *t, const char *id);

/* The session-signing key, NULL until loaded. */
const unsigned char *bp_tokens_secret(const bp_tokens_t *t, size_t *len);
/* Whether a session id was logged out. */
bool bp_tokens_session_denied(const bp_tokens_t *t, const char *session_id);

/* Adds a logged-out session to the denylist in Redis (and locally at once). */
void bp_tokens_deny_session(bp_tokens_t *t, const char *session_id, int64_t expires_ms);

/* The credential check's lookups (see bp_credential.h). resolve: what the
 * secret presented (kind, secret[0..len)) is at now_ms, into c; with t
 * NULL (nobody is recognised) every secret is BP_CRED_INVALID. check: the
 * verdict on c at now_ms; *p is its principal when BP_CRED_VALID, else
 * NULL (valid while bp_tokens_generation() stays the same). */
void bp_tokens_resolve(const bp_tokens_t *t, bp_secret_t kind, const char *secret, size_t len,
                       int64_t now_ms, bp_cred_t *c);
bp_cred_verdict_t bp_tokens_check(const bp_tokens_t *t, const bp_cred_t *c, int64_t now_ms,
                                  const bp_principal_t **p);

#endif
