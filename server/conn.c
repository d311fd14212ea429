/*
 * The HTTP side's lws glue (conn.h): reads a request (its line, query,
 * headers, body), hands it to the route table (routes.c) once it is whole,
 * and sends the answer from WRITEABLE callbacks: headers first, then the
 * body in chunks, compressed when it pays. One access-log line and one
 * histogram observation per request.
 */
#include "conn.h"
#include "bp_compress.h"
#include "bp_conneg.h"
#include "bp_httputil.h"
#include "bp_log.h"
#include "bp_route.h"
#include "bp_time.h"
#include "request.h"
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_CHUNK (32u * 1024)
/* After a 413 was sent, the rest of the body is read and thrown away (so
 * the client, still sending, reads our answer instead of a reset) for at
 * most this many bytes and LINGER_S seconds; then the connection closes. */
#define DRAIN_MAX (8u << 20)
#define LINGER_S  5
/* Answers from this size on are compressed when the client takes it
 * (brotli, else gzip): the list of all hospitals, 91 KiB, goes as 6 KiB for a
 * millisecond or two of CPU. Below it the headers cost more. */
#define COMPRESS_MIN   1024
#define BROTLI_QUALITY 5
#define GZIP_LEVEL     6

typedef struct {
    bp_req_t *req;
} hss_t;

static const char *request_method(struct lws *wsi, enum lws_token_indexes *tok) {
    static const struct {
        enum lws_token_indexes t;
        const char *m;
    } methods[] = {
        {WSI_TOKEN_GET_URI, "GET"},         {WSI_TOKEN_POST_URI, "POST"},
        {WSI_TOKEN_PUT_URI, "PUT"},         {WSI_TOKEN_PATCH_URI, "PATCH"},
        {WSI_TOKEN_DELETE_URI, "DELETE"},   {WSI_TOKEN_HEAD_URI, "HEAD"},
        {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
    };
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        if (lws_hdr_total_length(wsi, methods[i].t) > 0) {
            *tok = methods[i].t;
            return methods[i].m;
        }
    }
    return NULL;
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end) {
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* Compresses the body in place when it is large and the client takes a
 * coding; left as it is when compressing fails or does not pay. */
static void compress_body(bp_req_t *r) {
    bp_buf_t *b = &r->resp.body;
    /* a shared blob (the public document) comes in its coding already */
    if (r->blob || r->content_encoding) return;
    bp_encoding_t e =
        bp_conneg_pick(r->accept_enc, BP_ENC_BIT(BP_ENC_GZIP) | BP_ENC_BIT(BP_ENC_BR));
    if (b->len < COMPRESS_MIN || b->failed || e == BP_ENC_IDENTITY) return;
    unsigned char *out;
    size_t n;
    if (bp_compress(e, e == BP_ENC_BR ? BROTLI_QUALITY : GZIP_LEVEL, bp_buf_data(b), b->len, &out,
                    &n))
        return;
    if (n < b->len) {
        bp_buf_reset(b);
        bp_buf_put(b, out, n);
        r->content_encoding = bp_conneg_name(e);
    }
    free(out);
}

static int send_headers(struct lws *wsi, bp_req_t *r) {
    bp_app_t *app = r->app;
    unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    size_t len = bp_req_body_len(r);
    if (lws_add_http_common_headers(wsi, (unsigned)r->resp.status, r->resp.content_type, len, &p,
                                    end) ||
        add_header(wsi, "cache-control:", r->cache_control ? r->cache_control : "no-store", &p,
                   end))
        return -1;
    char off[32];
    snprintf(off, sizeof off, "%llu", (unsigned long long)bp_reader_offset(app->reader));
    const char *epoch = bp_reader_epoch(app->reader);
    if (add_header(wsi, "x-bedpulse-offset:", off, &p, end) ||
        (epoch[0] && add_header(wsi, "x-bedpulse-epoch:", epoch, &p, end)))
        return -1;
    if (r->etag[0] && add_header(wsi, "etag:", r->etag, &p, end)) return -1;
    if (r->content_encoding && add_header(wsi, "content-encoding:", r->content_encoding, &p, end))
        return -1;
    /* the answer has variants: compressed here (compress_body) or made
     * in several codings ahead (the public document) */
    if ((r->content_encoding || r->vary_encoding) &&
        add_header(wsi, "vary:", "Accept-Encoding", &p, end))
        return -1;
    if (r->set_cookie[0] && add_header(wsi, "set-cookie:", r->set_cookie, &p, end)) return -1;
    if (r->www_authenticate &&
        add_header(wsi, "www-authenticate:", "Bearer realm=\"bedpulse\"", &p, end))
        return -1;
    if (r->retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r->retry_after_s);
        if (add_header(wsi, "retry-after:", ra, &p, end)) return -1;
    }
    if (r->close_after && add_header(wsi, "connection:", "close", &p, end)) return -1;
    explicit_bzero(r->set_cookie, sizeof r->set_cookie);
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

/* One line per request (never a token or cookie: the role stands for who
 * asked), and its time in the histogram by route and status. */
static void account(bp_req_t *r) {
    bp_app_t *app = r->app;
    uint64_t ns = bp_time_mono_ns() - r->start_ns;
    bp_reqstats_observe(&app->http_stats, r->route, r->resp.status, (double)ns / 1e9);
    if (!app->cfg.settings.log_access || !bp_log_enabled(BP_LOG_INFO)) return;
    const bp_principal_t *p =
        r->cred.token_id[0] ? bp_tokens_by_id(app->tokens, r->cred.token_id) : NULL;
    bp_log_field_t f[] = {
        {"method", r->method, 0},
        {"route", bp_route_name(r->route), 0},
        {"status", NULL, r->resp.status},
        {"ms", NULL, (int64_t)(ns / 1000000u)},
        {"role",
         p                               ? bp_role_name(p->role)
         : r->cred.state != BP_CRED_NONE ? "invalid"
                                         : "anonymous",
         0},
        {"addr", r->addr, 0},
        {"bytes", NULL, (int64_t)bp_req_body_len(r)},
    };
    bp_log_fields(BP_LOG_INFO, f, sizeof f / sizeof *f, "http");
}

/* Ends the transaction; -1 when lws should close the connection. */
static int finish(struct lws *wsi, hss_t *s) {
    bp_req_t *r = s->req;
    account(r);
    bool close = r->close_after;
    s->req = NULL;
    bp_req_free(r);
    if (close) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int on_writeable(struct lws *wsi, hss_t *s) {
    bp_req_t *r = s->req;
    if (!r || !r->decided || r->pending || r->answered) return 0;
    bool head = strcmp(r->method, "HEAD") == 0;
    if (!r->headers_sent) {
        compress_body(r);
        if (send_headers(wsi, r)) return -1;
        r->headers_sent = true;
        if (head || bp_req_body_len(r) == 0) return finish(wsi, s);
        /* the body follows in the same callback: what the socket does not
         * take at once lws keeps, in order, and sends before anything else */
    }
    if (r->blob) {
        /* shared bytes with headroom: one write, no copy (lws keeps what the
         * socket does not take yet and sends it before the next answer) */
        unsigned char *p = r->blob->data + BP_BLOB_PRE;
        if (lws_write(wsi, p, r->blob->len, LWS_WRITE_HTTP_FINAL) != (int)r->blob->len) return -1;
        r->sent = r->blob->len;
        return finish(wsi, s);
    }
    unsigned char buf[LWS_PRE + HTTP_CHUNK];
    size_t left = r->resp.body.len - r->sent;
    size_t n = left < HTTP_CHUNK ? left : HTTP_CHUNK;
    memcpy(buf + LWS_PRE, bp_buf_data(&r->resp.body) + r->sent, n);
    bool last = r->sent + n == r->resp.body.len;
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    r->sent += n;
    if (last) return finish(wsi, s);
    lws_callback_on_writable(wsi);
    return 0;
}

/* Sends a small decided answer at once, from the HTTP callback, instead of
 * from WRITEABLE (which lws holds back while a body is coming in). Used for
 * a body over the limit: the client gets its 413 while it is still sending,
 * the rest of the body is drained (bounded) and the connection then closed. */
static int answer_now(struct lws *wsi, bp_req_t *r) {
    unsigned char buf[LWS_PRE + 1024];
    size_t n = r->resp.body.len;
    if (n > sizeof buf - LWS_PRE || send_headers(wsi, r)) return -1;
    r->headers_sent = true;
    memcpy(buf + LWS_PRE, bp_buf_data(&r->resp.body), n);
    if (n && lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) != (int)n) return -1;
    r->sent = n;
    r->answered = true;
    account(r);
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, LINGER_S);
    return 0;
}

/* A new request: what it is, who sends it, whether a body follows. */
static int on_request(struct lws *wsi, hss_t *s, bp_app_t *app) {
    bp_req_t *r = bp_req_create(app, wsi);
    if (!r) return -1;
    s->req = r;
    app->http_requests++;
    lws_get_peer_simple(wsi, r->addr, sizeof r->addr);

    enum lws_token_indexes tok = WSI_TOKEN_GET_URI;
    const char *method = request_method(wsi, &tok);
    int n = method ? lws_hdr_copy(wsi, r->path, sizeof r->path, tok) : -1;
    if (method) snprintf(r->method, sizeof r->method, "%s", method);
    r->route = bp_route_of(n > 0 ? r->path : "");
    bp_buf_init(&r->in, 0, (size_t)bp_routes_body_limit(app, n > 0 ? r->path : ""));
    if (n <= 0) {
        snprintf(r->method, sizeof r->method, "GET");
        r->close_after = true;
        bp_req_error(r, n == -1 && method ? 414 : 400, "bad_request",
                     "request line missing or longer than 511 bytes");
        bp_req_done(r);
        return 0;
    }
    /* lws hands each query argument over as its own fragment, already
     * percent-decoded (so a decoded '&' or '=' stays inside its argument):
     * keep them as they are, one after another, each ended by a NUL, and
     * never decode them again (bp_http_arg). */
    size_t qlen = 0;
    for (int i = 0;; i++) {
        char empty[1];
        int fl = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (fl <= 0 && lws_hdr_copy_fragment(wsi, empty, 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            break; /* no fragment i */
        if (i >= BP_REQ_ARGS_MAX || qlen + (size_t)fl + 1 > sizeof r->query) {
            bp_req_error(r, 414, "uri_too_long",
                         "the query has too many arguments or is longer than 1023 bytes");
            bp_req_done(r);
            return 0;
        }
        int f = lws_hdr_copy_fragment(wsi, r->query + qlen, (int)(sizeof r->query - qlen),
                                      WSI_TOKEN_HTTP_URI_ARGS, i);
        if (f < 0) break;
        qlen += (size_t)f + 1;
    }
    r->query_len = qlen;
    bp_req_read_credentials(r, wsi);
    if (lws_hdr_copy(wsi, r->content_type, sizeof r->content_type, WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
        r->content_type[0] = '\0';
    char ae[256];
    int an = lws_hdr_copy(wsi, ae, sizeof ae, WSI_TOKEN_HTTP_ACCEPT_ENCODING);
    r->accept_enc = bp_conneg_accept_encoding(ae, an > 0 ? (size_t)an : 0);
    int im = lws_hdr_copy(wsi, r->if_match, sizeof r->if_match, WSI_TOKEN_HTTP_IF_MATCH);
    r->has_if_match = im != 0;
    if (im < 0) snprintf(r->if_match, sizeof r->if_match, "?");
    if (lws_hdr_copy(wsi, r->if_none_match, sizeof r->if_none_match, WSI_TOKEN_HTTP_IF_NONE_MATCH) <
        0)
        r->if_none_match[0] = '\0';
    char origin[256], host[256];
    int on = lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
    r->has_origin = on != 0;
    r->origin_ok = on > 0 && lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) > 0 &&
                   bp_http_origin_ok(origin, host, app->cfg.settings.server_allowed_origins);

    char cl[24];
    long long declared = 0;
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        char *e;
        declared = strtoll(cl, &e, 10);
        if (*e || declared < 0) declared = 0;
    }
    long long max = bp_routes_body_limit(app, r->path);
    if (declared > max) {
        /* Answered now, before the body: 413 and Connection: close. */
        bp_info("http %s: %s %s: body of %lld bytes refused (limit %lld)", r->addr, r->method,
                r->path, declared, max);
        r->too_big = true;
        r->close_after = true;
        bp_routes_dispatch(r);
        return answer_now(wsi, r);
    }
    if (declared > 0) {
        r->expect_body = true; /* dispatched at HTTP_BODY_COMPLETION */
        return 0;
    }
    r->in_request = true;
    bp_routes_dispatch(r);
    r->in_request = false;
    /* answered at once (reads of the in-memory state, static files): sent
     * from here, as lws_return_http_status does; a pending one is sent from
     * WRITEABLE when its answer comes */
    if (r->decided && !r->pending) return on_writeable(wsi, s);
    return 0;
}

int bp_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len) {
    hss_t *s = user;
    bp_app_t *app = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* A WebSocket upgrade lands here when it did not ask for a
         * subprotocol we serve: lws binds it to the first protocol. The live
         * feed is /ws with bedpulse.v1 only, so refuse it instead of keeping
         * an upgraded connection that nothing will ever serve. */
        return 1;
    case LWS_CALLBACK_HTTP:
        if (s->req) {
            /* a previous request still open on this connection */
            s->req->wsi = NULL;
            if (!s->req->pending) bp_req_free(s->req);
            s->req = NULL;
        }
        return on_request(wsi, s, app);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!s) return 0;
        return on_writeable(wsi, s);
    case LWS_CALLBACK_HTTP_BODY: {
        bp_req_t *r = s ? s->req : NULL;
        if (!r) return 0;
        if (r->too_big || r->in.len + len > r->in.max) {
            /* a body longer than it said (or answered already): drop it */
            r->too_big = true;
            r->discarded += len;
            return r->discarded > DRAIN_MAX ? -1 : 0;
        }
        bp_buf_put(&r->in, in, len);
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        /* lws holds writeable callbacks back while it reads a request body,
         * and its default handler would end the transaction here, leaving
         * the client waiting for an answer: decide it now. */
        if (s && s->req) {
            if (s->req->answered) return -1; /* a 413 sent early: close now */
            if (s->req->expect_body) {
                s->req->expect_body = false;
                bp_routes_dispatch(s->req);
            } else if (s->req->decided && !s->req->pending) {
                lws_callback_on_writable(wsi);
            }
            return 0;
        }
        break;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (s && s->req) {
            bp_req_t *r = s->req;
            s->req = NULL;
            r->wsi = NULL;
            if (!r->pending) bp_req_free(r); /* a pending one is freed when its answer comes */
        }
        break;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

size_t bp_conn_session_size(void) {
    return sizeof(hss_t);
}
