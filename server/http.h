/*
 * The REST API and probes (DESIGN §7): GET /api/v1/hospitals,
 * /api/v1/hospitals/{id}, /api/v1/ambulances, /api/v1/summary, /healthz,
 * /readyz, /metrics. Bodies are built from the in-memory state: no Redis
 * round trip per request. Errors are {"error":code,"message":text}.
 *
 * bp_http_route() is the whole decision (status, content type, body) and
 * does no I/O; bp_http_callback() is the lws glue that sends it.
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

/* method: "GET", "HEAD", ... ; path without the query string; query: the
 * arguments ("a=1&b=2", may be NULL). */
void bp_http_route(bp_app_t *app, const char *method, const char *path, const char *query,
                   bp_http_resp_t *resp);

int bp_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);
size_t bp_http_session_size(void);

#endif
