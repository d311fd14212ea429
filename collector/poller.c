/*
 * Pollers: libcurl multi on the libuv loop (poller.h).
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION: a
 * uv_poll_t per socket, kept with curl_multi_assign) and when to call it
 * back (CURLMOPT_TIMERFUNCTION: one uv_timer_t); we call
 * curl_multi_socket_action from those handles and read finished transfers
 * with curl_multi_info_read. Each source has its own uv_timer_t for its
 * schedule. Redis answers are continued once per loop turn (uv_check), not
 * from inside hiredis' callbacks.
 */
#include "poller.h"
#include "bp_jw.h"
#include "bp_apply.h"
#include "bp_codec_feed.h"
#include "bp_feedline.h"
#include "bp_fhir.h"
#include "bp_havexml.h"
#include "bp_import.h"
#include "bp_log.h"
#include "bp_time.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define APPLY_MAX_PENDING 4096  /* changes waiting for Redis; one lane: documents are few */
#define LINES_MAX         10000 /* feed lines in one polled document */
#define START_SPREAD_MS   5000  /* first polls spread over this */

typedef enum {
    PR_OK,
    PR_NOT_MODIFIED,
    PR_HTTP_ERROR,
    PR_NETWORK_ERROR,
    PR_GARBAGE,
    PR_UNAVAILABLE,
    PR__COUNT
} result_t;
static const char *const result_names[PR__COUNT] = {
    "ok", "not_modified", "http_error", "network_error", "garbage", "unavailable"};

typedef struct src {
    bp_poller_t *p;
    const bp_source_t *cfg;
    char shown[256]; /* URL without credentials */
    char host[128];
    uv_timer_t timer;
    CURL *easy;
    struct curl_slist *hdrs;
    bp_buf_t body;
    bool too_big;
    bp_validators_t kept;     /* of the last document applied */
    bp_validators_t incoming; /* of the response in flight */
    long http_status;
    int failures;
    int64_t last_poll_ms, last_success_ms, last_error_ms, next_ms;
    char error[256];
    uint64_t results[PR__COUNT];
    uint64_t applied, duplicates, refused, unavailable;
    /* the document being applied */
    bp_import_t im;
    size_t next, awaiting;
    bool busy, apply_failed, dirty;
    struct src *next_dirty;
} src_t;

typedef struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    bp_poller_t *p;
    struct sock *prev, *next; /* watched now */
} sock_t;

struct bp_poller {
    uv_loop_t *loop;
    const bp_settings_t *s;
    const bp_registry_t *reg;
    CURLM *multi;
    uv_timer_t curl_timer;
    uv_check_t check;
    bp_apply_t *apply;
    src_t *src;
    size_t n;
    src_t *dirty;
    sock_t *socks;
    bool closing;
    size_t open; /* handles and the apply not yet released */
    void (*on_closed)(void *);
    void *closed_data;
    char whoami[96];
    char status_key[BP_KEY_MAX];
};

static void schedule(src_t *s, int64_t delay_ms);
static void check_done(bp_poller_t *p);
static void check_closed(bp_poller_t *p);

/* -- status ------------------------------------------------------------------- */

/* The source's status as JSON, into Redis for the servers' /api/v1/sources. */
static void publish(src_t *s) {
    bp_poller_t *p = s->p;
    bp_buf_t b;
    bp_buf_init(&b, 0, 8192);
    bp_jw_t w;
    bp_jw_init(&w, &b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "id");
    bp_jw_cstr(&w, s->cfg->id);
    BP_JW_KEY(&w, "url");
    bp_jw_cstr(&w, s->shown);
    BP_JW_KEY(&w, "format");
    bp_jw_cstr(&w, bp_format_name(s->cfg->format));
    BP_JW_KEY(&w, "interval_s");
    bp_jw_int(&w, s->cfg->interval_s);
    BP_JW_KEY(&w, "state");
    bp_jw_cstr(&w, !s->last_poll_ms ? "pending" : s->failures ? "error" : "ok");
    BP_JW_KEY(&w, "failures");
    bp_jw_int(&w, s->failures);
    BP_JW_KEY(&w, "last_poll");
    bp_jw_time(&w, s->last_poll_ms);
    BP_JW_KEY(&w, "last_success");
    bp_jw_time(&w, s->last_success_ms);
    BP_JW_KEY(&w, "last_error");
    bp_jw_time(&w, s->last_error_ms);
    BP_JW_KEY(&w, "error");
    bp_jw_cstr_or_null(&w, s->failures ? s->error : NULL);
    BP_JW_KEY(&w, "http_status");
    bp_jw_int_or_null(&w, s->http_status > 0, s->http_status);
    BP_JW_KEY(&w, "next_poll");
    bp_jw_time(&w, s->next_ms);
    BP_JW_KEY(&w, "polls");
    bp_jw_obj(&w);
    for (int r = 0; r < PR__COUNT; r++) {
        bp_jw_key(&w, result_names[r]);
        bp_jw_int(&w, (int64_t)s->results[r]);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "changes");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "applied");
    bp_jw_int(&w, (int64_t)s->applied);
    BP_JW_KEY(&w, "duplicate");
    bp_jw_int(&w, (int64_t)s->duplicates);
    BP_JW_KEY(&w, "refused");
    bp_jw_int(&w, (int64_t)s->refused);
    BP_JW_KEY(&w, "unavailable");
    bp_jw_int(&w, (int64_t)s->unavailable);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "collector");
    bp_jw_cstr(&w, p->whoami);
    BP_JW_KEY(&w, "updated");
    bp_jw_time(&w, bp_time_now_ms());
    bp_jw_end(&w);
    if (!b.failed) {
        const char *argv[] = {"HSET", p->status_key, s->cfg->id, bp_buf_data(&b)};
        size_t lens[] = {4, strlen(p->status_key), strlen(s->cfg->id), b.len};
        bp_redis_command_argv(bp_apply_redis(p->apply), NULL, NULL, 4, argv, lens);
    }
    bp_buf_free(&b);
}

static uint32_t rnd(void) {
    uint32_t x;
    if (getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x) x = (uint32_t)bp_time_mono_ns();
    return x;
}

/* A poll ended well (a document applied, or not modified). */
static void succeed(src_t *s, result_t r) {
    s->results[r]++;
    s->failures = 0;
    s->last_success_ms = bp_time_now_ms();
    schedule(s, bp_sources_delay_ms(s->cfg->interval_s, 0, 0));
    publish(s);
}

static void fail(src_t *s, result_t r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(src_t *s, result_t r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    s->results[r]++;
    s->failures++;
    s->last_error_ms = bp_time_now_ms();
    int64_t delay = bp_sources_delay_ms(s->cfg->interval_s, s->failures, rnd());
    bp_warn("poll %s (%s): %s: %s; next try in %lld s", s->cfg->id, s->shown, result_names[r],
            s->error, (long long)(delay / 1000));
    schedule(s, delay);
    publish(s);
}

/* -- applying a document ---------------------------------------------------------- */

static int lookup(const void *ctx, const bp_registry_t *reg, const char *id, size_t len) {
    return bp_source_hospital(ctx, reg, id, len);
}

/* May this source report registry hospital h? */
static bool in_scope(const bp_source_t *cfg, int h) {
    if (cfg->all_hospitals) return true;
    for (size_t k = 0; k < cfg->n_map; k++)
        if (cfg->map[k].hospital == h) return true;
    return false;
}

/* BedPulse feed lines (NDJSON), each checked as on the feed port. */
static void parse_lines(src_t *s, const char *body, size_t len, int64_t now) {
    bp_poller_t *p = s->p;
    size_t pos = 0, n = 0;
    const char *line;
    size_t ll;
    while (bp_feedline_next(body, len, &pos, &line, &ll)) {
        char path[32];
        snprintf(path, sizeof path, "line %zu", ++n);
        bp_change_t ch;
        bp_error_t err;
        if (bp_codec_parse_feed(line, ll, p->reg, now,
                                (int64_t)p->s->collector_max_future_skew_s * 1000, &ch, &err)) {
            bp_import_error(&s->im, err.code, path, "%s: %s", path, err.message);
        } else if (ch.kind != BP_KIND_HOSPITAL) {
            bp_import_error(&s->im, "forbidden", path, "%s: a poller takes hospital lines only",
                            path);
        } else {
            int h = bp_registry_hospital(p->reg, ch.id, strlen(ch.id));
            if (!in_scope(s->cfg, h)) {
                bp_import_error(&s->im, "forbidden", path,
                                "%s: source %s may not report hospital %s", path, s->cfg->id,
                                ch.id);
            } else {
                bp_import_item_t *it = bp_import_add(&s->im, path);
                if (it) {
                    it->hospital = h;
                    it->change = ch;
                    /* the source id speaks; its lines' own seq keep their order */
                    snprintf(it->change.source, sizeof it->change.source, "%s", s->cfg->id);
                }
            }
        }
        if (s->im.errs.n == BP_ERRORS_MAX) break;
    }
    if (n == 0) bp_import_error(&s->im, "empty", "", "no lines");
}

static void finish_apply(src_t *s) {
    s->busy = false;
    bp_import_free(&s->im);
    if (s->p->closing) return;
    if (s->apply_failed) {
        /* keep the old validators: this document must be fetched again */
        fail(s, PR_UNAVAILABLE, "storage (Redis) did not confirm every change; polling again");
        return;
    }
    s->kept = s->incoming;
    succeed(s, PR_OK);
}

static void submit_more(src_t *s) {
    bp_poller_t *p = s->p;
    bp_actor_t actor = {s->cfg->id, "poller", s->host};
    while (s->next < s->im.n && !p->closing) {
        if (bp_apply_up(p->apply, 0) && bp_apply_room(p->apply, 0) == 0)
            return; /* on_applied goes on */
        bp_import_item_t *it = &s->im.items[s->next];
        if (bp_apply_submit(p->apply, 0, &it->change, -1, -1, &actor, s) != 0) {
            s->unavailable += s->im.n - s->next;
            s->apply_failed = true;
            s->next = s->im.n;
            break;
        }
        s->next++;
        s->awaiting++;
    }
    if (p->closing) s->next = s->im.n;
    if (s->next == s->im.n && s->awaiting == 0) finish_apply(s);
}

static void apply_document(src_t *s) {
    bp_poller_t *p = s->p;
    int64_t now = bp_time_now_ms(), skew = (int64_t)p->s->collector_max_future_skew_s * 1000;
    const char *body = s->body.len ? bp_buf_data(&s->body) : "";
    bool lines = s->cfg->format == BP_FORMAT_BEDPULSE;
    bp_import_init(&s->im, lines ? LINES_MAX : (p->reg->n_hospitals ? p->reg->n_hospitals : 1));
    s->im.lookup = lookup;
    s->im.lookup_ctx = s->cfg;
    switch (s->cfg->format) {
    case BP_FORMAT_HAVE:
        bp_havexml_parse(body, s->body.len, p->reg, NULL, now, skew, &s->im);
        break;
    case BP_FORMAT_FHIR: bp_fhir_parse(body, s->body.len, p->reg, now, skew, &s->im); break;
    default: parse_lines(s, body, s->body.len, now); break;
    }
    if (!s->im.errs.n && s->im.n == 0)
        bp_import_error(&s->im, "empty", "", "the document reports no hospital");
    if (s->im.errs.n) {
        bp_error_t e = s->im.errs.e[0];
        size_t n = s->im.errs.n;
        bp_import_free(&s->im);
        char more[48] = "";
        if (n > 1) snprintf(more, sizeof more, " (and %zu more errors)", n - 1);
        fail(s, PR_GARBAGE, "not a valid %s document, nothing applied: %.32s: %.160s%s",
             bp_format_name(s->cfg->format), e.code, e.message, more);
        return;
    }
    if (!lines) {
        /* HAVE and FHIR have no seq: one idempotency source per hospital,
         * the report time as seq; applied oldest first */
        bp_import_sort(&s->im);
        for (size_t k = 0; k < s->im.n; k++) {
            bp_import_item_t *it = &s->im.items[k];
            bp_import_source(it->change.source, s->cfg->id, p->reg->hospitals[it->hospital].id);
            it->change.seq = it->change.at_ms;
        }
    }
    s->busy = true;
    s->next = s->awaiting = 0;
    s->apply_failed = false;
    submit_more(s);
}

static void on_applied(void *privdata, const bp_apply_result_t *res) {
    src_t *s = privdata;
    s->awaiting--;
    switch (res->status) {
    case BP_APPLY_OK: s->applied++; break;
    case BP_APPLY_DUP: s->duplicates++; break;
    case BP_APPLY_UNAVAILABLE:
    case BP_APPLY_FAILED:
        s->unavailable++;
        s->apply_failed = true;
        break;
    default: s->refused++; break; /* out of order: an older report than the stored one */
    }
    if (s->p->closing) {
        if (s->awaiting == 0) finish_apply(s);
        return;
    }
    if (!s->dirty) {
        s->dirty = true;
        s->next_dirty = s->p->dirty;
        s->p->dirty = s;
    }
}

static void on_check(uv_check_t *h) {
    bp_poller_t *p = h->data;
    src_t *s = p->dirty;
    p->dirty = NULL;
    while (s) {
        src_t *next = s->next_dirty;
        s->dirty = false;
        submit_more(s);
        s = next;
    }
    /* a source waiting for room, with nothing of its own in flight */
    for (size_t i = 0; i < p->n; i++)
        if (p->src[i].busy && !p->src[i].awaiting) submit_more(&p->src[i]);
}

/* -- fetching ------------------------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
    src_t *s = ud;
    size_t len = size * n;
    bp_buf_put(&s->body, data, len);
    if (s->body.failed) {
        s->too_big = true;
        return 0; /* aborts the transfer */
    }
    return len;
}

/* Each header line of the response: its validators (bp_sources_header). */
static size_t on_header(char *data, size_t size, size_t n, void *ud) {
    src_t *s = ud;
    bp_sources_header(&s->incoming, data, size * n);
    return size * n;
}

static void start_poll(src_t *s) {
    bp_poller_t *p = s->p;
    if (s->easy || s->busy || p->closing) return;
    s->last_poll_ms = bp_time_now_ms();
    s->http_status = 0;
    s->too_big = false;
    memset(&s->incoming, 0, sizeof s->incoming);
    bp_buf_reset(&s->body);
    CURL *e = curl_easy_init();
    if (!e) {
        fail(s, PR_NETWORK_ERROR, "out of memory");
        return;
    }
    static const char *const accept[BP_FORMAT__COUNT] = {
        "Accept: application/xml, text/xml;q=0.9",
        "Accept: application/fhir+json, application/json;q=0.9",
        "Accept: application/x-ndjson, application/json;q=0.9"};
    struct curl_slist *h = curl_slist_append(NULL, accept[s->cfg->format]);
    for (size_t k = 0; h && k < s->cfg->n_headers; k++)
        h = curl_slist_append(h, s->cfg->headers[k]);
    char v[300];
    if (h && s->kept.etag[0]) {
        snprintf(v, sizeof v, "If-None-Match: %s", s->kept.etag);
        h = curl_slist_append(h, v);
    }
    if (h && s->kept.last_modified[0]) {
        snprintf(v, sizeof v, "If-Modified-Since: %s", s->kept.last_modified);
        h = curl_slist_append(h, v);
    }
    long timeout = (long)s->cfg->timeout_s * 1000;
    if (!h || curl_easy_setopt(e, CURLOPT_URL, s->cfg->url) ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) ||
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L) || curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout) ||
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L) ||
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)p->s->collector_max_poll_bytes) ||
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, "bedpulse-collector") ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h) ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, s) ||
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) ||
        curl_easy_setopt(e, CURLOPT_HEADERDATA, s) || curl_easy_setopt(e, CURLOPT_PRIVATE, s) ||
        curl_multi_add_handle(p->multi, e)) {
        curl_slist_free_all(h);
        curl_easy_cleanup(e);
        fail(s, PR_NETWORK_ERROR, "cannot start the transfer");
        return;
    }
    s->easy = e;
    s->hdrs = h;
}

static void on_fetched(src_t *s, CURLcode rc, long code) {
    s->http_status = code;
    if (s->p->closing) return;
    if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        fail(s, PR_GARBAGE,
             "the response is larger than %d bytes (collector.max_poll_bytes); "
             "nothing applied",
             s->p->s->collector_max_poll_bytes);
    else if (rc != CURLE_OK)
        fail(s, PR_NETWORK_ERROR, "%s", curl_easy_strerror(rc));
    else if (code == 304)
        succeed(s, PR_NOT_MODIFIED);
    else if (code != 200)
        fail(s, PR_HTTP_ERROR, "HTTP status %ld", code);
    else
        apply_document(s);
}

static void check_done(bp_poller_t *p) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(p->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result;
        src_t *s = NULL;
        long code = 0;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        curl_multi_remove_handle(p->multi, e);
        curl_easy_cleanup(e);
        s->easy = NULL;
        curl_slist_free_all(s->hdrs);
        s->hdrs = NULL;
        on_fetched(s, rc, code);
    }
}

/* -- libcurl on libuv ---------------------------------------------------------------- */

static void on_sock_closed(uv_handle_t *h) {
    sock_t *k = h->data;
    bp_poller_t *p = k->p;
    free(k);
    p->open--;
    check_closed(p);
}

static void sock_close(bp_poller_t *p, sock_t *k) {
    if (k->prev)
        k->prev->next = k->next;
    else
        p->socks = k->next;
    if (k->next) k->next->prev = k->prev;
    uv_poll_stop(&k->poll);
    uv_close((uv_handle_t *)&k->poll, on_sock_closed);
}

static void on_poll(uv_poll_t *h, int status, int events) {
    sock_t *k = h->data;
    bp_poller_t *p = k->p; /* k may be gone after socket_action */
    int flags = 0, running;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(p->multi, k->fd, flags, &running);
    check_done(p);
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp) {
    bp_poller_t *p = userp;
    sock_t *k = socketp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            sock_close(p, k);
            curl_multi_assign(p->multi, fd, NULL);
        }
        return 0;
    }
    if (!k) {
        k = calloc(1, sizeof *k);
        if (!k) return -1;
        if (uv_poll_init_socket(p->loop, &k->poll, fd) != 0) {
            free(k);
            return -1;
        }
        k->fd = fd;
        k->p = p;
        k->poll.data = k;
        k->next = p->socks;
        if (p->socks) p->socks->prev = k;
        p->socks = k;
        p->open++;
        curl_multi_assign(p->multi, fd, k);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(&k->poll, events, on_poll);
    return 0;
}

static void on_curl_timeout(uv_timer_t *t) {
    bp_poller_t *p = t->data;
    int running;
    curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(p);
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp) {
    bp_poller_t *p = userp;
    (void)m;
    if (timeout_ms < 0)
        uv_timer_stop(&p->curl_timer);
    else
        uv_timer_start(&p->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* -- schedule -------------------------------------------------------------------------- */

static void on_due(uv_timer_t *t) {
    start_poll(t->data);
}

static void schedule(src_t *s, int64_t delay_ms) {
    if (s->p->closing) return;
    s->next_ms = bp_time_now_ms() + delay_ms;
    uv_timer_start(&s->timer, on_due, (uint64_t)delay_ms, 0);
}

/* -- lifecycle ----------------------------------------------------------------------- */

bp_poller_t *bp_poller_create(uv_loop_t *loop, const bp_settings_t *s, const bp_registry_t *reg,
                              const bp_sources_t *sources) {
    static bool curl_ready;
    if (!curl_ready && sources->n > 0) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
            bp_error("poller: libcurl cannot start");
            return NULL;
        }
        curl_ready = true;
    }
    bp_poller_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->loop = loop;
    p->s = s;
    p->reg = reg;
    p->n = sources->n;
    if (p->n == 0) return p; /* nothing to poll: no libcurl, no Redis link */
    p->src = calloc(p->n ? p->n : 1, sizeof *p->src);
    p->multi = curl_multi_init();
    p->apply =
        p->src && p->multi ? bp_apply_create(loop, s, reg, 1, APPLY_MAX_PENDING, on_applied) : NULL;
    if (!p->apply) {
        bp_error("poller: out of memory");
        if (p->multi) curl_multi_cleanup(p->multi);
        free(p->src);
        free(p);
        return NULL;
    }
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    snprintf(p->whoami, sizeof p->whoami, "%s:%d", host, (int)getpid());
    snprintf(p->status_key, sizeof p->status_key, "%.64spoll:status", s->redis_prefix);
    curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
    curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
    uv_timer_init(loop, &p->curl_timer);
    p->curl_timer.data = p;
    uv_check_init(loop, &p->check);
    p->check.data = p;
    uv_check_start(&p->check, on_check);
    p->open = 3; /* curl timer, check, apply */
    for (size_t i = 0; i < p->n; i++) {
        src_t *x = &p->src[i];
        x->p = p;
        x->cfg = &sources->s[i];
        bp_sources_url_shown(x->cfg->url, x->shown, sizeof x->shown);
        const char *h = strstr(x->shown, "://");
        snprintf(x->host, sizeof x->host, "%.*s", h ? (int)strcspn(h + 3, "/") : 1,
                 h ? h + 3 : "?");
        bp_buf_init(&x->body, 0, (size_t)s->collector_max_poll_bytes);
        uv_timer_init(loop, &x->timer);
        x->timer.data = x;
        p->open++;
        /* spread the first polls: a restart must not hit every source at once */
        schedule(x, 100 + (int64_t)(i * START_SPREAD_MS / (p->n ? p->n : 1)));
        bp_info("poll %s: %s every %d s (%s)", x->cfg->id, x->shown, x->cfg->interval_s,
                bp_format_name(x->cfg->format));
    }
    return p;
}

void bp_poller_metrics(const bp_poller_t *p, bp_buf_t *o) {
    if (!p || p->n == 0) return;
    bp_buf_puts(o, "# HELP bedpulse_poll_total Polls of each source, by result.\n"
                   "# TYPE bedpulse_poll_total counter\n");
    for (size_t i = 0; i < p->n; i++)
        for (int r = 0; r < PR__COUNT; r++)
            bp_buf_printf(o, "bedpulse_poll_total{source=\"%s\",result=\"%s\"} %llu\n",
                          p->src[i].cfg->id, result_names[r],
                          (unsigned long long)p->src[i].results[r]);
    bp_buf_puts(o, "# HELP bedpulse_poll_changes_total Changes from polled documents, by "
                   "outcome.\n"
                   "# TYPE bedpulse_poll_changes_total counter\n");
    for (size_t i = 0; i < p->n; i++) {
        const src_t *s = &p->src[i];
        const uint64_t v[4] = {s->applied, s->duplicates, s->refused, s->unavailable};
        static const char *const names[4] = {"applied", "duplicate", "refused", "unavailable"};
        for (int k = 0; k < 4; k++)
            bp_buf_printf(o, "bedpulse_poll_changes_total{source=\"%s\",outcome=\"%s\"} %llu\n",
                          s->cfg->id, names[k], (unsigned long long)v[k]);
    }
    static const struct {
        const char *name, *help;
    } times[2] = {{"bedpulse_poll_last_success_timestamp_seconds",
                   "When the source was last polled successfully (0: never)."},
                  {"bedpulse_poll_last_error_timestamp_seconds",
                   "When a poll of the source last failed (0: never)."}};
    for (int k = 0; k < 2; k++) {
        bp_buf_printf(o, "# HELP %s %s\n# TYPE %s gauge\n", times[k].name, times[k].help,
                      times[k].name);
        for (size_t i = 0; i < p->n; i++)
            bp_buf_printf(o, "%s{source=\"%s\"} %.3f\n", times[k].name, p->src[i].cfg->id,
                          (double)(k ? p->src[i].last_error_ms : p->src[i].last_success_ms) /
                              1000.0);
    }
    bp_buf_puts(o, "# HELP bedpulse_poll_failures Polls of the source failed in a row now.\n"
                   "# TYPE bedpulse_poll_failures gauge\n");
    for (size_t i = 0; i < p->n; i++)
        bp_buf_printf(o, "bedpulse_poll_failures{source=\"%s\"} %d\n", p->src[i].cfg->id,
                      p->src[i].failures);
}

static void check_closed(bp_poller_t *p) {
    if (p->open) return;
    void (*cb)(void *) = p->on_closed;
    void *data = p->closed_data;
    for (size_t i = 0; i < p->n; i++)
        bp_buf_free(&p->src[i].body);
    free(p->src);
    free(p);
    if (cb) cb(data);
}

static void on_part_closed(uv_handle_t *h) {
    bp_poller_t *p = h->data;
    p->open--;
    check_closed(p);
}

static void on_src_closed(uv_handle_t *h) {
    src_t *s = h->data;
    s->p->open--;
    check_closed(s->p);
}

static void on_apply_closed(void *data) {
    bp_poller_t *p = data;
    p->open--;
    check_closed(p);
}

void bp_poller_close(bp_poller_t *p, void (*on_closed)(void *), void *data) {
    if (!p) {
        if (on_closed) on_closed(data);
        return;
    }
    p->closing = true;
    p->on_closed = on_closed;
    p->closed_data = data;
    if (!p->apply) { /* it never polled */
        check_closed(p);
        return;
    }
    p->open++; /* held until everything below is started */
    for (size_t i = 0; i < p->n; i++) {
        src_t *s = &p->src[i];
        if (s->easy) {
            curl_multi_remove_handle(p->multi, s->easy); /* closes its sockets (REMOVE) */
            curl_easy_cleanup(s->easy);
            s->easy = NULL;
            curl_slist_free_all(s->hdrs);
            s->hdrs = NULL;
        }
        uv_timer_stop(&s->timer);
        uv_close((uv_handle_t *)&s->timer, on_src_closed);
    }
    curl_multi_cleanup(p->multi);
    p->multi = NULL;
    while (p->socks)
        sock_close(p, p->socks); /* any libcurl did not give back */
    uv_timer_stop(&p->curl_timer);
    uv_close((uv_handle_t *)&p->curl_timer, on_part_closed);
    uv_check_stop(&p->check);
    uv_close((uv_handle_t *)&p->check, on_part_closed);
    /* documents half applied get their answers (unavailable) as the link closes */
    bp_apply_close(p->apply, on_apply_closed, p);
    p->open--;
    check_closed(p);
}
