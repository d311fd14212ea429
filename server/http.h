/*
 * The REST API and probes (DESIGN §7, docs/api.md): reads of hospitals,
 * ambulances, summary and history from the in-memory state (no Redis round
 * trip per request); sessions, manager writes, CSV import and the audit
 * trail in api.c. Errors are {"error":code,"message":text}.
 *
 * Every /api request is checked: who asks (Bearer token or session cookie,
 * else anonymous as auth.anonymous says), what the role may do (401 without
 * valid credentials, 403 when the role may not), the body limit (413), the
 * rate per client address (429), and for requests that change data, an
 * Origin header from elsewhere (403).
 */
#ifndef BP_HTTP_H
#define BP_HTTP_H

#include "app.h"
#include "bp_buf.h"

typedef struct {
    int status;
    const char *content_type;
    bp_buf_t body; /* LWS_PRE headroom */
} bp_http_resp_t;

int bp_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);
size_t bp_http_session_size(void);

#endif
