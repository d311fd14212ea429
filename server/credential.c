/* The credential of an HTTP request or a WebSocket upgrade (see credential.h). */
#include "credential.h"

#include <string.h>

/* A session cookie is at most BP_SESSION_MAX; the rest of a Cookie header
 * (other cookies of the site) gets 1 KiB. A longer header counts as absent. */
#define HEADER_MAX (BP_SESSION_MAX + 1024)

void bp_credential_read(struct lws *wsi, const bp_tokens_t *t, bool lax, int64_t now_ms,
                        bp_cred_t *c) {
    char authz[HEADER_MAX], cookie[HEADER_MAX];
    int an = lws_hdr_copy(wsi, authz, sizeof authz, WSI_TOKEN_HTTP_AUTHORIZATION);
    int cn = lws_hdr_copy(wsi, cookie, sizeof cookie, WSI_TOKEN_HTTP_COOKIE);
    const char *v = NULL;
    size_t vl = 0;
    bp_secret_t kind = bp_cred_presented(authz, an > 0 ? (size_t)an : 0, cookie,
                                         cn > 0 ? (size_t)cn : 0, lax, &v, &vl);
    bp_tokens_resolve(t, kind, v, vl, now_ms, c);
    explicit_bzero(authz, sizeof authz);
    explicit_bzero(cookie, sizeof cookie);
}
