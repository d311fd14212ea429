/*
 * Who may do what (DESIGN §8), and the forms secrets take. Pure: the token
 * table itself lives in Redis and is cached by io/bp_tokens.
 *
 * Roles: public (aggregates only, when anonymous access is enabled), wall,
 * manager (writes for its own hospitals), dispatcher (everything, ambulances
 * included), admin (everything, audit included), feed (a data source: the
 * hospitals and/or the fleet it may report). Tokens are "bp_" + 43
 * base64url characters (32 random bytes); only their SHA-256 is stored.
 * Browser sessions are signed cookies: "v1|<token id>|<issued>|<expires>|
 * <session id>.<hex HMAC-SHA256>", checked without a Redis round trip.
 */
#ifndef BP_AUTH_H
#define BP_AUTH_H

#include "bp_registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    BP_ROLE_PUBLIC,
    BP_ROLE_WALL,
    BP_ROLE_MANAGER,
    BP_ROLE_DISPATCHER,
    BP_ROLE_ADMIN,
    BP_ROLE_FEED,
    BP_ROLE__COUNT
} bp_role_t;

/* What the live feed shows a role: everything; hospitals and ambulance
 * status without positions (wall); hospitals only. */
typedef enum { BP_AUD_FULL, BP_AUD_WALL, BP_AUD_HOSPITALS, BP_AUD__COUNT } bp_audience_t;

typedef enum {
    BP_ACT_READ_SUMMARY,
    BP_ACT_READ_HOSPITALS, /* list, one hospital, history */
    BP_ACT_READ_AMBULANCES,
    BP_ACT_LIVE,           /* the /ws feed */
    BP_ACT_WRITE_HOSPITAL, /* PATCH, import: needs the hospital in scope */
    BP_ACT_READ_AUDIT,
    BP_ACT_FEED_HOSPITAL, /* a feed line for a hospital: in scope */
    BP_ACT_FEED_FLEET,    /* a feed line for an ambulance */
    BP_ACT_READ_SOURCES,  /* the collectors' pollers and their status */
} bp_action_t;

#define BP_TOKEN_ID_MAX   24
#define BP_TOKEN_LEN      46 /* "bp_" + 43 */
#define BP_SESSION_MAX    160
#define BP_TOKEN_NAME_MAX 80

typedef struct {
    char id[BP_TOKEN_ID_MAX + 1]; /* public id, safe to log and show */
    bp_role_t role;
    char name[BP_TOKEN_NAME_MAX + 1];
    bool all_hospitals;
    uint64_t scope[BP_REGISTRY_MAX / 64]; /* bit per registry hospital */
    bool fleet;
    int64_t expires_ms; /* 0: never */
    int64_t revoked_ms; /* 0: valid */
} bp_principal_t;

const char *bp_role_name(bp_role_t r);
int bp_role_parse(const char *s, size_t len); /* -1 unknown */
bp_audience_t bp_role_audience(bp_role_t r);
/* The role of anonymous requests from the auth.anonymous setting: -1 for
 * "none" (nobody without a token), else public, wall or dispatcher. */
int bp_auth_anonymous_role(const char *setting);

/* Whether principal p (NULL: anonymous, who acts as anon_role, or nobody
 * when anon_role < 0) may do a, on registry hospital index `hospital` where
 * that matters. Revoked or expired principals may do nothing. */
bool bp_auth_allows(const bp_principal_t *p, int anon_role, bp_action_t a, int hospital,
                    int64_t now_ms);

void bp_principal_scope_add(bp_principal_t *p, int hospital);
bool bp_principal_in_scope(const bp_principal_t *p, int hospital);

/* A token is "bp_" + base64url (no padding) of 32 random bytes; bp-admin
 * makes them (libcrypto's randomness, lws' base64). */
bool bp_token_well_formed(const char *s, size_t len);
/* The stored form of a token: hex SHA-256 (65 bytes with the NUL). */
void bp_token_hash(const char *token, size_t len, char out[65]);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void bp_hex(const unsigned char *in, size_t n, char *out);

/* Session cookies. sign: 0, or -1 if out is too small. verify: 0 with the
 * token id, session id and expiry filled, or -1 (bad form, bad signature,
 * or expired at now_ms). Signatures compare in constant time. */
int bp_session_sign(const unsigned char *key, size_t key_len, const char *token_id,
                    int64_t issued_ms, int64_t expires_ms, const char *session_id, char *out,
                    size_t out_len);
int bp_session_verify(const unsigned char *key, size_t key_len, const char *cookie, size_t len,
                      int64_t now_ms, char token_id[BP_TOKEN_ID_MAX + 1], char session_id[33],
                      int64_t *expires_ms);

#endif
