/*
 * One HTTP request on its way through the server, and the small API the
 * route handlers use (req.c: answers, arguments; http.c: who is asking).
 * The route table (routes.c) decides which handler gets a request; the
 * lws glue (conn.c) reads it and sends its answer. Nothing here calls back
 * into the table or into a handler.
 *
 * A request is decided either at once (reads from the in-memory state) or
 * later, when Redis has answered (writes, audit queries): then it is
 * `pending`, and if the client goes away meanwhile its wsi is cleared and
 * the answer is dropped when it comes. What an asynchronous handler needs
 * when its answer comes rides in `ctx`, typed by resource. Every answer is
 * sent from WRITEABLE callbacks: headers first, then the body in chunks.
 */
#ifndef BP_REQUEST_H
#define BP_REQUEST_H

#include "app.h"
#include "bp_apply.h"
#include "bp_auth.h"
#include "bp_buf.h"
#include "bp_codec.h"
#include "bp_credential.h"

typedef struct {
    int status;
    const char *content_type;
    bp_buf_t body; /* LWS_PRE headroom */
} bp_http_resp_t;

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

/* What a route declares besides its method and path (routes.c), as the
 * request holds it in route_flags. */
enum {
    BP_RT_OPEN = 1u << 0,     /* before the rate limit and the Origin check (probes, public) */
    BP_RT_LOADED = 1u << 1,   /* needs the loaded state: 503 before the action is checked */
    BP_RT_IF_MATCH = 1u << 2, /* a write: If-Match: <version> required (428 without) */
};

/* An audit query (audit.c), kept until Redis answers. */
typedef struct {
    char hospital[BP_ID_MAX + 1], actor[BP_TOKEN_ID_MAX + 8];
    int limit;
} bp_audit_q_t;

typedef struct bp_req bp_req_t;
struct bp_req {
    bp_app_t *app;
    struct lws *wsi;     /* NULL once the client is gone */
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
    /* credentials presented (resolved when read); checked again by
     * bp_req_principal at dispatch */
    bp_cred_t cred;
    /* the request body, bounded by server.max_body_bytes */
    bp_buf_t in;
    bool expect_body, too_big;
    size_t discarded;
    /* the answer */
    bp_http_resp_t resp;
    bool decided, pending, headers_sent, close_after;
    bool in_request; /* dispatch runs inside the HTTP callback (bp_req_done) */
    bool answered;   /* sent whole from the HTTP callback (answer_now) */
    size_t sent;
    char set_cookie[BP_SESSION_MAX + 160];
    char etag[32];
    const char *cache_control;    /* NULL: no-store */
    const char *content_encoding; /* the body (or blob) is compressed: "br" or "gzip"; NULL: none */
    bool vary_encoding;           /* Vary: Accept-Encoding (the answer has variants) */
    bp_blob_t *blob; /* the body, shared (one reference held); resp.body is then empty */
    int retry_after_s;
    bool www_authenticate;
    /* set by the dispatcher (routes.c): the route's flags (BP_RT_*), and
     * the principal when the route declares its action */
    unsigned route_flags;
    const bp_principal_t *principal;
    /* what an asynchronous handler keeps until its answer comes */
    union {
        /* a write waiting for the live state to reach `want_version` of
         * hospital `hospital` (then answered by finish_write, writes.c) */
        struct {
            int hospital;
            uint64_t want_version, result_offset;
            int result_status; /* bp_apply_status_t */
            int64_t wait_until_ms;
        } write;
        /* an MCI read or write (mci.c) */
        struct {
            bool one;    /* GET of one MCI */
            char id[32]; /* an MCI being declared: read back once stored */
        } mci;
        bp_audit_q_t audit;
    } ctx;
};

/* http.c: who is asking. Reads the credentials of a new request. */
void bp_req_read_credentials(bp_req_t *r, struct lws *wsi);
/* The principal of the request, NULL for anonymous (also after a 401 was
 * decided: check r->decided). */
const bp_principal_t *bp_req_principal(bp_req_t *r);
/* Whether principal p (NULL: anonymous) may do a; if not, decides 401 or
 * 403 and returns false. */
bool bp_req_allow(bp_req_t *r, const bp_principal_t *p, bp_action_t a, int hospital);

/* req.c: answers and arguments. */

/* A new request of app on wsi (NULL out of memory); freed by bp_req_free. */
bp_req_t *bp_req_create(bp_app_t *app, struct lws *wsi);
void bp_req_free(bp_req_t *r); /* NULL: no-op */
/* Decides the answer: a JSON error {"error":code,"message":text}. */
void bp_req_error(bp_req_t *r, int status, const char *code, const char *message);
/* The body is application/json (415 otherwise, decided by the caller). */
bool bp_req_is_json(const bp_req_t *r);
/* The value of a query argument, or NULL when absent or too long (then a
 * 400 is decided). */
const char *bp_req_arg(bp_req_t *r, const char *name, char *out, size_t len);
/* A time argument of the query (ISO 8601 with a zone, or milliseconds since
 * 1970) into *ms: 0 (absent leaves *ms as it is), or -1 with a 400 decided. */
int bp_req_time_arg(bp_req_t *r, const char *name, int64_t *ms);
/* Data answers need a loaded snapshot (baselines alone are not figures):
 * false, with a 503 decided, before it. */
bool bp_req_state_loaded(bp_req_t *r);
/* Decides 422 {"error":"invalid","message":..,"errors":[{field,code,message}]}. */
void bp_req_invalid(bp_req_t *r, const char *message, const bp_errors_t *errs);
/* Marks the answer complete and asks lws to send it (also for answers that
 * arrive later; a request whose client went away is freed here). */
void bp_req_done(bp_req_t *r);
/* The body to send: a shared blob's bytes, or the request's own. */
size_t bp_req_body_len(const bp_req_t *r);

#endif
