/*
 * The HTTP side of the server on lws (conn.c): the protocol callback that
 * reads each request, has the route table (routes.h) decide it, and sends
 * the answer. Every /api request is checked there and in the table: who
 * asks (Bearer token or session cookie, else anonymous as auth.anonymous
 * says), what the role may do (401 without valid credentials, 403 when the
 * role may not), the body limit (413), the rate per client address (429),
 * and for requests that change data, an Origin header from elsewhere (403).
 * Errors are {"error":code,"message":text} (DESIGN §7, docs/api.md).
 */
#ifndef BP_CONN_H
#define BP_CONN_H

#include <libwebsockets.h>
#include <stddef.h>

int bp_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);
size_t bp_conn_session_size(void);

#endif
