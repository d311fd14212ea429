/*
 * The request API the route handlers use (request.h): deciding answers and
 * errors, reading query arguments, and handing a decided answer to the lws
 * glue (conn.c). Calls neither the route table nor a handler.
 */
#include "request.h"
#include "bp_httputil.h"
#include "bp_jw.h"
#include "bp_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX (64u << 20)

bp_req_t *bp_req_create(bp_app_t *app, struct lws *wsi) {
    bp_req_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->app = app;
    r->wsi = wsi;
    r->start_ns = bp_time_mono_ns();
    bp_buf_init(&r->resp.body, LWS_PRE, RESP_MAX);
    r->resp.status = 200;
    r->resp.content_type = "application/json; charset=utf-8";
    return r;
}

void bp_req_error(bp_req_t *r, int status, const char *code, const char *message) {
    bp_http_resp_t *o = &r->resp;
    o->status = status;
    o->content_type = "application/json; charset=utf-8";
    bp_buf_reset(&o->body);
    bp_jw_error_doc(&o->body, code, message);
    r->decided = true;
}

_Static_assert(BP_BLOB_PRE >= LWS_PRE, "a blob's headroom must hold lws' LWS_PRE");

bp_blob_t *bp_blob_make(const void *p, size_t len) {
    bp_blob_t *b = malloc(sizeof *b + BP_BLOB_PRE + len);
    if (!b) return NULL;
    b->refs = 1;
    b->len = len;
    memcpy(b->data + BP_BLOB_PRE, p, len);
    return b;
}

void bp_blob_unref(bp_blob_t *b) {
    if (b && --b->refs == 0) free(b);
}

size_t bp_req_body_len(const bp_req_t *r) {
    return r->blob ? r->blob->len : r->resp.body.len;
}

void bp_req_free(bp_req_t *r) {
    if (!r) return;
    bp_blob_unref(r->blob);
    bp_buf_free(&r->in);
    bp_buf_free(&r->resp.body);
    explicit_bzero(r->set_cookie, sizeof r->set_cookie);
    free(r);
}

void bp_req_done(bp_req_t *r) {
    r->decided = true;
    r->pending = false;
    if (!r->wsi) {
        bp_req_free(r);
        return;
    }
    if (r->resp.body.failed) bp_req_error(r, 500, "internal", "response too large");
    bp_app_t *app = r->app;
    if (r->resp.status >= 400) app->http_errors++;
    if (r->resp.status == 401) app->http_unauthorized++;
    if (r->resp.status == 403) app->http_forbidden++;
    if (r->resp.status == 429) app->http_limited++;
    /* decided while the HTTP callback still runs (conn.c's on_request): it
     * sends the answer itself, without a round through WRITEABLE (two poll
     * changes fewer) */
    if (r->in_request) return;
    /* a body still coming in holds WRITEABLE back until it is read */
    lws_callback_on_writable(r->wsi);
}

bool bp_req_is_json(const bp_req_t *r) {
    return strncmp(r->content_type, "application/json", 16) == 0 &&
           (r->content_type[16] == '\0' || r->content_type[16] == ';');
}

const char *bp_req_arg(bp_req_t *r, const char *name, char *out, size_t len) {
    int n = bp_http_arg(r->query, r->query_len, name, out, len);
    if (n == -2 && !r->decided) {
        char msg[128];
        snprintf(msg, sizeof msg, "query argument %s is too long", name);
        bp_req_error(r, 400, "bad_request", msg);
    }
    return n >= 0 ? out : NULL;
}

/* A time argument: ISO 8601 with a zone, or milliseconds since the epoch. */
int bp_req_time_arg(bp_req_t *r, const char *name, int64_t *ms) {
    char v[48];
    int n = bp_http_arg(r->query, r->query_len, name, v, sizeof v);
    if (n == -1) return 0;
    char *e;
    long long x = n > 0 ? strtoll(v, &e, 10) : 0;
    if (n > 0 && !*e && x >= 0) {
        *ms = x;
        return 0;
    }
    if (n > 0 && bp_time_parse(v, (size_t)n, ms) == 0) return 0;
    char msg[160];
    snprintf(msg, sizeof msg,
             "%s must be a time with a zone (2026-11-23T08:00:00+07:00) or "
             "milliseconds since 1970",
             name);
    bp_req_error(r, 400, "bad_request", msg);
    return -1;
}

bool bp_req_state_loaded(bp_req_t *r) {
    if (bp_reader_offset(r->app->reader) == 0 && !bp_reader_ready(r->app->reader)) {
        bp_req_error(r, 503, "not_ready", "the server has not loaded the current state yet");
        return false;
    }
    return true;
}

void bp_req_invalid(bp_req_t *r, const char *message, const bp_errors_t *errs) {
    bp_buf_t *b = &r->resp.body;
    r->resp.status = 422;
    bp_buf_reset(b);
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "error");
    bp_jw_cstr(&w, "invalid");
    BP_JW_KEY(&w, "message");
    bp_jw_cstr(&w, message);
    bp_jw_errors(&w, errs);
    bp_jw_end(&w);
    r->decided = true;
}
