/*
 * The credential of an HTTP request or a WebSocket upgrade (see
 * core/bp_credential.h): its Authorization and Cookie headers read from lws
 * and resolved against the token table. REST (http.c) and the live feed
 * (hub.c) both read credentials here; they differ only in lax (below).
 */
#ifndef BP_SERVER_CREDENTIAL_H
#define BP_SERVER_CREDENTIAL_H

#include "bp_credential.h"
#include "bp_tokens.h"

#include <libwebsockets.h>
#include <stdbool.h>

/* Reads the credential wsi's request presents into c (a bearer token wins
 * over the bp_session cookie), resolved against t at now_ms (t NULL:
 * nobody is recognised). lax: an Authorization header without a bearer
 * token is ignored (the upgrade), else it is a bad credential (REST).
 * Header copies are wiped; no secret is kept. */
void bp_credential_read(struct lws *wsi, const bp_tokens_t *t, bool lax, int64_t now_ms,
                        bp_cred_t *c);

#endif
