/*
 * One HTTP request on its way through the server (http.c: lws glue, who is
 * asking, reads; api.c: sessions, writes, import, audit).
 *
 * A request is decided either at once (reads from the in-memory state) or
 * later, when Redis has answered (writes, audit queries): then it is
 * `pending`, and if the client goes away meanwhile its wsi is cleared and
 * the answer is dropped when it comes. Every answer is sent from WRITEABLE
 * callbacks: headers first, then the body in chunks.
 */
#ifndef BP_REQUEST_H
#define BP_REQUEST_H

#include "app.h"
#include "bp_apply.h"
#include "bp_auth.h"
#include "bp_buf.h"
#include "bp_codec.h"
#include "http.h"

#define BP_REQ_PATH_MAX  512
#define BP_REQ_QUERY_MAX 1024
#define BP_REQ_ARGS_MAX  32

/* Bytes answered to many requests as they are (public.c): made once,
 * counted, released by the last request holding them. `data` has
 * BP_BLOB_PRE bytes of headroom (lws' LWS_PRE) before the `len` bytes. */
#define BP_BLOB_PRE 16
typedef struct bp_blob {
    unsigned refs;
    size_t len;
    unsigned char data[];
} bp_blob_t;
bp_blob_t *bp_blob_make(const void *p, size_t len); /* refs 1; NULL out of memory */
void bp_blob_unref(bp_blob_t *b);

typedef struct bp_req bp_req_t;
struct bp_req {
    bp_app_t *app;
    struct lws *wsi; /* NULL once the client is gone */
    bp_req_t *wait_next; /* in app's list of writes waiting for the live state */
    char method[8];
    uint64_t start_ns; /* monotonic, when the request line was read */
    size_t route;      /* bp_route_of(path): for metrics and the access log */
    char path[BP_REQ_PATH_MAX];
    char query[BP_REQ_QUERY_MAX]; /* decoded arguments, each NUL-ended (bp_http_arg) */
    size_t query_len;
    char addr[48];
    char content_type[96];
    char if_match[48];
    char if_none_match[96]; /* "" when absent or too long */
    bool has_if_match, has_origin, origin_ok;
    unsigned accept_enc; /* bp_conneg_accept_encoding of Accept-Encoding */
    /* credentials presented; principal resolved at dispatch */
    bool has_cred, cred_bad;
    char token_id[BP_TOKEN_ID_MAX + 1];
    char session_id[33]; /* a session cookie's id, "" for a bearer token */
    int64_t session_exp;
    /* the request body, bounded by server.max_body_bytes */
    bp_buf_t in;
    bool expect_body, too_big;
    size_t discarded;
    /* the answer */
    bp_http_resp_t resp;
    bool decided, pending, headers_sent, close_after;
    bool in_request; /* dispatch runs inside the HTTP callback (bp_req_done) */
    bool answered; /* sent whole from the HTTP callback (answer_now) */
    size_t sent;
    char set_cookie[BP_SESSION_MAX + 160];
    char etag[32];
    const char *cache_control; /* NULL: no-store */
    const char *content_encoding; /* the body (or blob) is compressed: "br" or "gzip"; NULL: none */
    bool vary_encoding;           /* Vary: Accept-Encoding (the answer has variants) */
    bp_blob_t *blob; /* the body, shared (one reference held); resp.body is then empty */
    int retry_after_s;
    bool www_authenticate;
    /* a write waiting for the live state to reach `want_version` of
     * hospital `hospital` (then answered by `finish_wait`) */
    int hospital;
    uint64_t want_version, result_offset;
    int result_status; /* bp_apply_status_t */
    int64_t wait_until_ms;
    bool mci_one;     /* GET of one MCI (mci.c) */
    char mci_id[32];  /* an MCI being declared: read back once stored */
    /* an MCI write's result, held until its WAIT answers (redis.min_replicas_ack) */
    long long mci_result;
    bool mci_answered, mci_wait_sent;
};

/* The principal of the request, NULL for anonymous (also after a 401 was
 * decided: check r->decided). */
const bp_principal_t *bp_req_principal(bp_req_t *r);

/* Decides the answer: a JSON error {"error":code,"message":text}. */
void bp_req_error(bp_req_t *r, int status, const char *code, const char *message);
/* Whether principal p (NULL: anonymous) may do a; if not, decides 401 or
 * 403 and returns false. */
bool bp_req_allow(bp_req_t *r, const bp_principal_t *p, bp_action_t a, int hospital);
/* The body is application/json (415 otherwise, decided by the caller). */
bool bp_req_is_json(const bp_req_t *r);
/* A time argument of the query (ISO 8601 with a zone, or milliseconds since
 * 1970) into *ms: 0 (absent leaves *ms as it is), or -1 with a 400 decided. */
int bp_req_time_arg(bp_req_t *r, const char *name, int64_t *ms);
/* Decides 422 {"error":"invalid","message":..,"errors":[{field,code,message}]}. */
void bp_req_invalid(bp_req_t *r, const char *message, const bp_errors_t *errs);
/* Marks the answer complete and asks lws to send it (also for answers that
 * arrive later; a request whose client went away is freed here). */
void bp_req_done(bp_req_t *r);

/* api.c: the routes that need more than the in-memory state. Each returns
 * true when it took the request (decided, or pending). */
bool bp_api_route(bp_req_t *r);
/* Writes waiting for the state: checked after every batch of events and
 * once a second (their time limit). */
void bp_api_on_state(bp_app_t *app);
/* Once a second: evaluate the alert rules, forget acknowledgements of
 * alerts that cleared, and read the acknowledgements other servers took. */
void bp_api_alerts_tick(bp_app_t *app);
struct bp_acks *bp_acks_create(void);
void bp_acks_destroy(struct bp_acks *a);

/* mci.c: /api/v1/mci... (true when it took the request). */
bool bp_mci_route(bp_req_t *r);
/* export.c: GET /api/v1/export/{have,fhir,geojson,csv}, /api/v1/history.csv
 * and /api/v1/sources (true when it took the request). */
bool bp_export_route(bp_req_t *r);
/* feed.c: POST /api/v1/feed (true when it took the request); its own
 * Redis link and loop hook, made and closed with the server; its counters
 * in /metrics. */
bool bp_feed_route(bp_req_t *r);
int bp_feed_start(bp_app_t *app);
void bp_feed_stop(bp_app_t *app);
void bp_feed_metrics(bp_app_t *app, bp_buf_t *o);

/* The apply callback (see bp_apply_create). */
void bp_api_on_applied(void *privdata, const bp_apply_result_t *result);

#endif
