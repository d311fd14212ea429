/*
 * POST /api/v1/feed (docs/protocol.md §1b): the feed over HTTP(S), for
 * systems that cannot hold a TCP connection, with a feed token (Bearer).
 * The body is one of
 *
 *   application/x-ndjson   feed lines exactly as on the collector's port:
 *                          one reply line per line, in order, the same
 *                          validation, limits and (source, seq) idempotency
 *                          (the rules are core/bp_feedline's and the
 *                          replies io/bp_feedreply's, shared with the
 *                          collector);
 *   application/xml        an EDXL-HAVE 1.0 HospitalStatus;
 *   application/fhir+json  a FHIR MeasureReport or a Bundle of them.
 *
 * HTTP keeps nothing between requests, so each request is one feed
 * connection: after a line is answered `unavailable`, the later lines of
 * that request are too, until the request itself resends that line; the
 * next request starts clear, as a new connection to the collector does (a
 * sender resends every line not acknowledged, in order, before new ones).
 * Each line carries `prev`, the seq of its source's line sent before it in
 * this request and not answered yet (core/bp_feedprev), and the apply
 * script refuses it (`behind`, answered `unavailable`) unless that line was
 * decided: a later line never overtakes one Redis refused, in a resent
 * window as in a new one, so a resent line need not go to Redis alone as
 * it does on the collector's port (docs/redis.md).
 *
 * A document (HAVE, FHIR) is checked whole first: any error, or a hospital
 * the token may not write, refuses all of it. Its hospitals are then
 * applied in the order of their report times, each narrowed to what it
 * changes (bp_interop_refine: posting an export back changes nothing).
 * Formats without seq and source use source "<format>:<token id>:<hospital
 * id>" and seq = the report time in ms, so a document resent is a
 * duplicate and a correction needs a newer report time.
 *
 * Changes go through the apply script on this module's own Redis
 * connections (bp_apply lanes, as the collector's): a request keeps to one
 * lane, so its changes apply, and are answered, in order, and with
 * redis.min_replicas_ack its answers wait for their lane's WAIT as a TCP
 * feed's do. Lines wait for room there as a TCP feed does (bounded per
 * request by collector.max_inflight). The request is answered once every
 * line or hospital has its result.
 */
#include "bp_apply.h"
#include "bp_feedline.h"
#include "bp_feedprev.h"
#include "bp_feedreply.h"
#include "bp_fhir.h"
#include "bp_havexml.h"
#include "bp_interop.h"
#include "bp_jw.h"
#include "bp_log.h"
#include "bp_time.h"
#include "feed.h"
#include "handlers.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define APPLY_LANES       4    /* Redis connections; a request keeps to one */
#define APPLY_MAX_PENDING 4096 /* changes waiting for Redis, per lane */

typedef enum { FMT_NDJSON, FMT_HAVE, FMT_FHIR } fmt_t;

static const char *const fmt_names[] = {"ndjson", "have", "fhir"};

typedef enum { SLOT_AWAITING = 1, SLOT_DONE } slot_state_t;

/* One line of an NDJSON body, or one hospital of a document. */
typedef struct {
    slot_state_t state;
    int64_t seq;
    uint64_t source; /* hash, for the block */
    char *text;      /* NDJSON: the reply line with its newline */
    size_t len;
    /* documents: the result */
    bp_apply_status_t status;
    bool unchanged;
    uint64_t offset;
    char code[32];
    char message[200];
} slot_t;

typedef struct job {
    bp_req_t *r;
    struct bp_feed *feed;
    fmt_t fmt;
    char token_id[BP_TOKEN_ID_MAX + 1]; /* who speaks (a hello in the body may change it) */
    const bp_principal_t *who;          /* its principal, while the token table is who_gen */
    uint64_t who_gen;
    bp_feed_block_t block;
    bp_feed_prev_t order; /* per source, the last line with Redis (bp_feedprev.h) */
    size_t lane;          /* its Redis connection (bp_apply lane): its changes apply in order */
    /* NDJSON: lines read from r->in, replies in a ring of slots */
    size_t pos;
    bool eof;
    slot_t *slots;
    size_t cap;
    uint64_t head, tail, awaiting_from;
    size_t awaiting;
    /* documents: one slot per item, submitted in order */
    bp_import_t im;
    size_t next_item;
    struct job *next_dirty, *next_paused;
    bool dirty, paused;
} job_t;

struct bp_feed {
    bp_app_t *app;
    bp_apply_t *apply;
    uv_check_t check; /* once per loop turn: continue the jobs Redis answered */
    job_t *dirty, *paused;
    job_t *
        starting; /* the job bp_api_feed_post is starting: dispatch answers it if it ends at once */
    size_t next_lane;
    bool closing;
    bp_buf_t reply; /* one reply line being written */
    int parts;      /* closing: the check handle and the Redis link still open */
    uint64_t lines, accepted, duplicates, invalid, unavailable;
    uint64_t docs[3][2]; /* by format: applied (some change or none), refused */
};

static void pump(job_t *j);

/* Its lane has no room for another change (a lane that is down takes the
 * submit and answers it unavailable at once). */
static bool lane_full(const job_t *j) {
    return bp_apply_up(j->feed->apply, j->lane) && bp_apply_room(j->feed->apply, j->lane) == 0;
}

/* -- NDJSON -------------------------------------------------------------------- */

static slot_t *slot_at(job_t *j, uint64_t i) {
    return &j->slots[i % j->cap];
}

static void slot_reply(slot_t *sl, bp_buf_t *b) {
    bp_buf_putc(b, '\n');
    sl->text = b->failed ? NULL : malloc(b->len);
    if (sl->text) memcpy(sl->text, bp_buf_data(b), b->len);
    sl->len = sl->text ? b->len : 0;
    sl->state = SLOT_DONE;
}

static void line_error(job_t *j, slot_t *sl, int64_t seq, const char *code, const char *field,
                       const char *message) {
    bp_buf_t *b = &j->feed->reply;
    bp_buf_reset(b);
    bp_feedline_reply_error(b, seq, code, field, message);
    if (strcmp(code, "unavailable") == 0)
        j->feed->unavailable++;
    else
        j->feed->invalid++;
    slot_reply(sl, b);
}

/* The principal of the token speaking, looked up again only when the
 * token table was replaced (never a pointer kept across a reload). */
static const bp_principal_t *principal(job_t *j) {
    bp_tokens_t *t = j->r->app->tokens;
    uint64_t gen = bp_tokens_generation(t);
    if (!j->who || j->who_gen != gen) {
        j->who = j->token_id[0] ? bp_tokens_by_id(t, j->token_id) : NULL;
        j->who_gen = gen;
    }
    return j->who;
}

static void handle_line(job_t *j, const char *line, size_t len) {
    bp_app_t *app = j->r->app;
    slot_t *sl = slot_at(j, j->tail++);
    memset(sl, 0, sizeof *sl);
    j->feed->lines++;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len) {
        line_error(j, sl, -1, "bad_json", "", "empty line: expected one JSON object per line");
        return;
    }
    if ((size_t)len > (size_t)app->cfg.settings.collector_max_line_bytes) {
        char msg[128];
        snprintf(msg, sizeof msg, "line longer than %d bytes; it was skipped",
                 app->cfg.settings.collector_max_line_bytes);
        line_error(j, sl, -1, "line_too_long", "", msg);
        return;
    }
    int64_t now = bp_time_now_ms();
    bp_error_t err;
    bp_hello_t hello;
    if (bp_feedline_is_hello(line, len) && bp_codec_parse_hello(line, len, &hello, &err) == 0) {
        /* a hello switches who speaks for the rest of this body */
        const bp_principal_t *p =
            hello.has_token ? bp_tokens_find(app->tokens, hello.token, strlen(hello.token)) : NULL;
        explicit_bzero(hello.token, sizeof hello.token);
        if (bp_feedline_hello_check(p, hello.has_token, now, &err)) {
            line_error(j, sl, -1, err.code, err.field, err.message);
            return;
        }
        snprintf(j->token_id, sizeof j->token_id, "%s", p->id);
        j->who = NULL; /* looked up afresh */
        bp_buf_t *b = &j->feed->reply;
        bp_buf_reset(b);
        bp_feedline_reply_hello(b, p);
        slot_reply(sl, b);
        return;
    }
    bp_change_t ch;
    if (bp_codec_parse_feed(line, len, &app->cfg.registry, now,
                            (int64_t)app->cfg.settings.collector_max_future_skew_s * 1000, &ch,
                            &err)) {
        line_error(j, sl, ch.seq, err.code, err.field, err.message);
        return;
    }
    const bp_principal_t *p = principal(j);
    if (bp_feedline_authorize(p, &ch, &app->cfg.registry, now, &err)) {
        line_error(j, sl, ch.seq, err.code, err.field, err.message);
        return;
    }
    uint64_t src = bp_feed_source_hash(ch.source);
    if (!bp_feed_block_admit(&j->block, src, ch.seq)) {
        char msg[200];
        bp_feed_block_message(&j->block, msg, sizeof msg);
        line_error(j, sl, ch.seq, "unavailable", "", msg);
        return;
    }
    bp_actor_t actor = {p->id, bp_role_name(p->role), j->r->addr};
    int64_t prev = ch.seq >= 0 ? bp_feed_prev_before(&j->order, src, ch.seq) : -1;
    int rc = prev == -2 ? -2 : bp_apply_submit(j->feed->apply, j->lane, &ch, -1, prev, &actor, j);
    if (rc == 0) {
        if (ch.seq >= 0) bp_feed_prev_sent(&j->order, src, ch.seq);
        sl->state = SLOT_AWAITING;
        sl->seq = ch.seq;
        sl->source = src;
        j->awaiting++;
        return;
    }
    bp_feed_block_set(&j->block, src, ch.seq);
    line_error(j, sl, ch.seq, "unavailable", "",
               rc == -2
                   ? "the server is overloaded; resend this line later"
                   : "storage (Redis) is unavailable; resend this line later with the same seq");
}

/* Moves the replies that are done, from the oldest, into the answer. */
static void flush_lines(job_t *j) {
    bp_buf_t *o = &j->r->resp.body;
    while (j->head < j->tail && slot_at(j, j->head)->state == SLOT_DONE) {
        slot_t *sl = slot_at(j, j->head++);
        if (sl->text)
            bp_buf_put(o, sl->text, sl->len);
        else
            bp_buf_puts(o, "{\"ok\":false,\"seq\":null,\"error\":\"internal\",\"message\":"
                           "\"out of memory\"}\n");
        free(sl->text);
        memset(sl, 0, sizeof *sl);
    }
}

/* -- documents ---------------------------------------------------------------- */

/* Submits the next hospitals of a document while there is room. */
static void submit_items(job_t *j) {
    struct bp_feed *f = j->feed;
    bp_app_t *app = j->r->app;
    const bp_principal_t *p = principal(j);
    while (j->next_item < j->im.n && j->r->wsi && !f->closing) {
        if (lane_full(j)) break;
        size_t k = j->next_item++;
        bp_import_item_t *it = &j->im.items[k];
        slot_t *sl = &j->slots[k];
        char prefix[BP_SOURCE_MAX];
        snprintf(prefix, sizeof prefix, "%s:%s", fmt_names[j->fmt], j->token_id);
        bp_import_source(it->change.source, prefix, app->cfg.registry.hospitals[it->hospital].id);
        it->change.seq = it->change.at_ms;
        if (bp_interop_refine(&it->change, bp_state_hospital(app->state, (size_t)it->hospital),
                              it->at_least, bp_time_now_ms())) {
            sl->state = SLOT_DONE;
            sl->unchanged = true;
            continue;
        }
        bp_actor_t actor = {p ? p->id : j->token_id, p ? bp_role_name(p->role) : "feed",
                            j->r->addr};
        int rc = bp_apply_submit(f->apply, j->lane, &it->change, -1, -1, &actor, j);
        if (rc == 0) {
            sl->state = SLOT_AWAITING;
            j->awaiting++;
            continue;
        }
        sl->state = SLOT_DONE;
        sl->status = BP_APPLY_UNAVAILABLE;
        snprintf(sl->code, sizeof sl->code, "unavailable");
        snprintf(sl->message, sizeof sl->message,
                 "storage (Redis) is unavailable; send the "
                 "document again later");
    }
    /* the client left, or the server stops: take nothing new */
    if (!j->r->wsi || f->closing)
        for (; j->next_item < j->im.n; j->next_item++) {
            slot_t *sl = &j->slots[j->next_item];
            sl->state = SLOT_DONE;
            sl->status = BP_APPLY_UNAVAILABLE;
            snprintf(sl->code, sizeof sl->code, "unavailable");
            snprintf(sl->message, sizeof sl->message, "not applied: the server is stopping");
        }
}

static void write_notes(bp_buf_t *b, const bp_import_t *im) {
    bp_buf_puts(b, ",\"notes\":[");
    for (size_t i = 0; i < im->n_notes; i++) {
        if (i) bp_buf_putc(b, ',');
        bp_json_cstr(b, im->notes[i]);
    }
    if (im->notes_dropped)
        bp_buf_printf(b, "%s\"... and %zu more\"", im->n_notes ? "," : "", im->notes_dropped);
    bp_buf_putc(b, ']');
}

/* The answer to a document: every hospital's result, in document order. */
static void document_answer(job_t *j) {
    bp_req_t *r = j->r;
    bp_app_t *app = r->app;
    bp_buf_t *b = &r->resp.body;
    bool unavailable = false, refused = false;
    /* items were sorted by time; answer in that order, naming each element */
    bp_buf_reset(b);
    bp_buf_puts(b, "{\"format\":");
    bp_json_cstr(b, fmt_names[j->fmt]);
    bp_buf_puts(b, ",\"results\":[");
    for (size_t k = 0; k < j->im.n; k++) {
        const bp_import_item_t *it = &j->im.items[k];
        const slot_t *sl = &j->slots[k];
        if (k) bp_buf_putc(b, ',');
        bp_buf_puts(b, "{\"element\":");
        bp_json_cstr(b, it->path);
        bp_buf_puts(b, ",\"hospital\":");
        bp_json_cstr(b, app->cfg.registry.hospitals[it->hospital].id);
        bp_buf_puts(b, ",\"source\":");
        bp_json_cstr(b, it->change.source);
        bp_buf_puts(b, ",\"seq\":");
        bp_json_int(b, it->change.seq);
        if (sl->unchanged) {
            bp_buf_puts(b, ",\"ok\":true,\"unchanged\":true}");
        } else if (sl->status == BP_APPLY_OK || sl->status == BP_APPLY_DUP) {
            bp_buf_printf(b, ",\"ok\":true,\"offset\":%llu%s}", (unsigned long long)sl->offset,
                          sl->status == BP_APPLY_DUP ? ",\"duplicate\":true" : "");
        } else {
            unavailable |= strcmp(sl->code, "unavailable") == 0;
            refused = true;
            bp_buf_puts(b, ",\"ok\":false,\"error\":");
            bp_json_cstr(b, sl->code);
            bp_buf_puts(b, ",\"message\":");
            bp_json_cstr(b, sl->message);
            bp_buf_putc(b, '}');
        }
    }
    bp_buf_putc(b, ']');
    write_notes(b, &j->im);
    bp_buf_putc(b, '}');
    r->resp.content_type = "application/json; charset=utf-8";
    r->resp.status = unavailable ? 503 : refused ? 409 : 200;
    if (unavailable) r->retry_after_s = 2;
    j->feed->docs[j->fmt][0]++;
}

/* -- jobs ------------------------------------------------------------------------ */

static void job_free(job_t *j) {
    if (j->slots && j->fmt == FMT_NDJSON)
        for (uint64_t i = j->head; i < j->tail; i++)
            free(slot_at(j, i)->text);
    free(j->slots);
    bp_feed_prev_free(&j->order);
    bp_import_free(&j->im);
    free(j);
}

static void unpause(struct bp_feed *f, job_t *j) {
    for (job_t **pp = &f->paused; *pp; pp = &(*pp)->next_paused)
        if (*pp == j) {
            *pp = j->next_paused;
            break;
        }
    j->paused = false;
}

/* Ends a job whose every line has its answer. */
static void finish(job_t *j) {
    bp_req_t *r = j->r;
    if (j->paused) unpause(j->feed, j);
    if (j->fmt == FMT_NDJSON) {
        r->resp.status = 200;
        r->resp.content_type = "application/x-ndjson; charset=utf-8";
    } else {
        document_answer(j);
    }
    bool at_once = j->feed->starting == j;
    job_free(j);
    if (at_once) { /* still inside bp_api_feed_post: the dispatcher sends it */
        r->pending = false;
        r->decided = true;
        return;
    }
    bp_req_done(r);
}

/* Takes lines (or hospitals) while there is room, then answers when done. */
static void pump(job_t *j) {
    struct bp_feed *f = j->feed;
    if (j->fmt == FMT_NDJSON) {
        bp_buf_t *in = &j->r->in;
        const char *body = in->len ? bp_buf_data(in) : "";
        while (!j->eof && j->tail - j->head < j->cap) {
            if (!j->r->wsi || f->closing) {
                j->eof = true; /* the client left: take nothing new */
                break;
            }
            if (lane_full(j)) break;
            const char *line;
            size_t len;
            if (!bp_feedline_next(body, in->len, &j->pos, &line, &len)) {
                j->eof = true;
                break;
            }
            handle_line(j, line, len);
        }
        flush_lines(j);
        if (j->eof && j->head == j->tail) {
            finish(j);
            return;
        }
    } else {
        submit_items(j);
        if (j->next_item == j->im.n && j->awaiting == 0) {
            finish(j);
            return;
        }
    }
    /* waiting for room in the apply queue, with nothing of its own in flight
     * to wake it: it goes on when another answer frees room */
    if (!j->awaiting && !j->paused) {
        j->paused = true;
        j->next_paused = f->paused;
        f->paused = j;
    }
}

static void on_applied(void *privdata, const bp_apply_result_t *res) {
    job_t *j = privdata;
    struct bp_feed *f = j->feed;
    j->awaiting--;
    if (j->fmt == FMT_NDJSON) {
        uint64_t i = j->awaiting_from;
        while (i < j->tail && slot_at(j, i)->state != SLOT_AWAITING)
            i++;
        j->awaiting_from = i + 1;
        slot_t *sl = slot_at(j, i);
        if (sl->seq >= 0) bp_feed_prev_answered(&j->order, sl->source);
        bp_buf_t *b = &f->reply;
        bp_buf_reset(b);
        const char *code;
        switch (bp_feedreply_write(b, sl->seq, res, &code)) {
        case BP_FEED_ACCEPTED: f->accepted++; break;
        case BP_FEED_DUPLICATE: f->duplicates++; break;
        case BP_FEED_REFUSED:
        case BP_FEED_CONFLICT: f->invalid++; break;
        case BP_FEED_UNAVAILABLE:
            bp_feed_block_set(&j->block, sl->source, sl->seq);
            f->unavailable++;
            break;
        }
        slot_reply(sl, b);
    } else {
        size_t k = j->awaiting_from;
        while (k < j->next_item && j->slots[k].state != SLOT_AWAITING)
            k++;
        j->awaiting_from = k + 1;
        slot_t *sl = &j->slots[k];
        sl->state = SLOT_DONE;
        sl->status = res->status;
        sl->offset = res->offset;
        bp_buf_reset(&f->reply);
        const char *code;
        bp_feedreply_write(&f->reply, 0, res, &code); /* for its code */
        if (code) {
            snprintf(sl->code, sizeof sl->code, "%s", code);
            snprintf(sl->message, sizeof sl->message, "%s",
                     res->status == BP_APPLY_OUT_OF_ORDER
                         ? "LastUpdateTime is older than the last accepted report; not applied"
                     : res->message
                         ? res->message
                         : "storage (Redis) did not confirm it; send the document again");
        }
    }
    /* continue at the end of this loop turn, with every answer Redis sent */
    if (f->closing) {
        pump(j);
        return;
    }
    if (!j->dirty) {
        j->dirty = true;
        j->next_dirty = f->dirty;
        f->dirty = j;
    }
}

static void on_check(uv_check_t *h) {
    struct bp_feed *f = h->data;
    job_t *j = f->dirty;
    f->dirty = NULL;
    while (j) {
        job_t *next = j->next_dirty;
        j->dirty = false;
        pump(j);
        j = next;
    }
    /* room freed: jobs waiting for it on their lane go on */
    job_t *p = f->paused;
    f->paused = NULL;
    while (p) {
        job_t *next = p->next_paused;
        p->paused = false;
        if (lane_full(p)) {
            p->paused = true;
            p->next_paused = f->paused;
            f->paused = p;
        } else {
            pump(p);
        }
        p = next;
    }
}

/* -- the request ------------------------------------------------------------------ */

static bool type_is(const char *ct, const char *want) {
    size_t n = strlen(want);
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void start_document(job_t *j) {
    bp_req_t *r = j->r;
    bp_app_t *app = r->app;
    struct bp_feed *f = j->feed;
    const bp_registry_t *reg = &app->cfg.registry;
    int64_t now = bp_time_now_ms(),
            skew = (int64_t)app->cfg.settings.collector_max_future_skew_s * 1000;
    bp_import_init(&j->im, reg->n_hospitals ? reg->n_hospitals : 1);
    const char *body = r->in.len ? bp_buf_data(&r->in) : "";
    if (j->fmt == FMT_HAVE)
        bp_havexml_parse(body, r->in.len, reg, app->state, now, skew, &j->im);
    else
        bp_fhir_parse(body, r->in.len, reg, now, skew, &j->im);
    /* every hospital must be one the token may write */
    const bp_principal_t *p = principal(j);
    bool forbidden = false;
    for (size_t k = 0; k < j->im.n && !j->im.errs.n; k++)
        if (!bp_auth_allows(p, -1, BP_ACT_FEED_HOSPITAL, j->im.items[k].hospital, now))
            forbidden = true;
    if (forbidden)
        for (size_t k = 0; k < j->im.n; k++)
            if (!bp_auth_allows(p, -1, BP_ACT_FEED_HOSPITAL, j->im.items[k].hospital, now))
                bp_import_error(&j->im, "forbidden", j->im.items[k].path,
                                "%.80s: this token may not report hospital %s", j->im.items[k].path,
                                reg->hospitals[j->im.items[k].hospital].id);
    if (j->im.errs.n || j->im.n == 0) {
        if (!j->im.errs.n) bp_import_error(&j->im, "empty", "", "the document reports no hospital");
        bp_buf_t *b = &r->resp.body;
        r->resp.status = forbidden ? 403 : 422;
        bp_buf_puts(b, "{\"error\":");
        bp_json_cstr(b, forbidden ? "forbidden" : "invalid");
        bp_buf_puts(b, ",\"message\":");
        bp_json_cstr(b, j->im.errs.n == 1 ? j->im.errs.e[0].message
                                          : "the document has errors; nothing was changed");
        bp_jw_t w;
        bp_jw_init_inside(&w, b, false);
        bp_jw_errors(&w, &j->im.errs);
        write_notes(b, &j->im);
        bp_buf_putc(b, '}');
        f->docs[j->fmt][1]++;
        job_free(j);
        return;
    }
    bp_import_sort(&j->im);
    j->slots = calloc(j->im.n, sizeof *j->slots);
    if (!j->slots) {
        bp_req_error(r, 500, "internal", "out of memory");
        job_free(j);
        return;
    }
    r->pending = true;
    f->starting = j;
    pump(j);
    f->starting = NULL;
}

void bp_api_feed_post(bp_req_t *r) {
    bp_app_t *app = r->app;
    struct bp_feed *f = app->feed;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided) return;
    int64_t now = bp_time_now_ms();
    bp_error_t err;
    if (!p) {
        bp_req_error(r, 401, "unauthorized",
                     "send a feed token: Authorization: Bearer <token from bp-admin>");
        r->www_authenticate = true;
        return;
    }
    if (bp_feedline_hello_check(p, true, now, &err)) {
        bp_req_error(r, strcmp(err.code, "forbidden") == 0 ? 403 : 401, err.code, err.message);
        return;
    }
    fmt_t fmt;
    const char *ct = r->content_type;
    if (type_is(ct, "application/x-ndjson") || type_is(ct, "application/ndjson") ||
        type_is(ct, "application/jsonl") || type_is(ct, "application/json"))
        fmt = FMT_NDJSON;
    else if (type_is(ct, "application/xml") || type_is(ct, "text/xml"))
        fmt = FMT_HAVE;
    else if (type_is(ct, "application/fhir+json"))
        fmt = FMT_FHIR;
    else {
        bp_req_error(r, 415, "unsupported_media_type",
                     "send application/x-ndjson (feed lines), application/xml (EDXL-HAVE 1.0) or "
                     "application/fhir+json (MeasureReport or Bundle)");
        return;
    }
    if (!f || f->closing) {
        bp_req_error(r, 503, "unavailable", "the server is stopping");
        return;
    }
    job_t *j = calloc(1, sizeof *j);
    if (!j) {
        bp_req_error(r, 500, "internal", "out of memory");
        return;
    }
    j->r = r;
    j->feed = f;
    j->fmt = fmt;
    j->lane = f->next_lane++ % APPLY_LANES;
    snprintf(j->token_id, sizeof j->token_id, "%s", p->id);
    if (fmt != FMT_NDJSON) {
        /* documents are narrowed against the live state: it must be loaded */
        if (bp_reader_offset(app->reader) == 0 && !bp_reader_ready(app->reader)) {
            free(j);
            r->retry_after_s = 1;
            bp_req_error(r, 503, "not_ready", "the server has not loaded the current state yet");
            return;
        }
        start_document(j);
        return;
    }
    j->cap = (size_t)app->cfg.settings.collector_max_inflight;
    j->slots = calloc(j->cap, sizeof *j->slots);
    if (!j->slots) {
        free(j);
        bp_req_error(r, 500, "internal", "out of memory");
        return;
    }
    r->pending = true;
    f->starting = j;
    pump(j);
    f->starting = NULL;
}

/* -- lifecycle and metrics -------------------------------------------------------- */

int bp_feed_start(bp_app_t *app) {
    struct bp_feed *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->app = app;
    bp_buf_init(&f->reply, 0, 4096);
    f->apply = bp_apply_create(&app->loop, &app->cfg.settings, &app->cfg.registry, APPLY_LANES,
                               APPLY_MAX_PENDING, on_applied);
    if (!f->apply) {
        bp_buf_free(&f->reply);
        free(f);
        return -1;
    }
    uv_check_init(&app->loop, &f->check);
    f->check.data = f;
    uv_check_start(&f->check, on_check);
    app->feed = f;
    return 0;
}

/* The module is freed once both its loop hook and its Redis link are. */
static void release(struct bp_feed *f) {
    if (--f->parts) return;
    bp_buf_free(&f->reply);
    free(f);
}

static void on_check_closed(uv_handle_t *h) {
    release(h->data);
}

static void on_apply_closed(void *data) {
    release(data);
}

void bp_feed_stop(bp_app_t *app) {
    struct bp_feed *f = app->feed;
    if (!f) return;
    f->closing = true;
    uv_check_stop(&f->check);
    /* answered this loop turn but not continued yet: go on now (nothing new
     * is taken while closing; each answers what it has) */
    while (f->dirty) {
        job_t *j = f->dirty;
        f->dirty = j->next_dirty;
        j->dirty = false;
        pump(j);
    }
    while (f->paused) {
        job_t *j = f->paused;
        f->paused = j->next_paused;
        j->paused = false;
        pump(j);
    }
    /* what is still with Redis gets its callback (NULL reply: unavailable)
     * while the link closes, and finishes then */
    f->parts = 2;
    uv_close((uv_handle_t *)&f->check, on_check_closed);
    bp_apply_close(f->apply, on_apply_closed, f);
    app->feed = NULL;
}

void bp_feed_metrics(bp_app_t *app, bp_buf_t *o) {
    struct bp_feed *f = app->feed;
    if (!f) return;
    bp_apply_stats_t as;
    bp_apply_stats(f->apply, &as);
    bp_buf_printf(o,
                  "# HELP bedpulse_http_feed_lines_total Lines posted to /api/v1/feed, by "
                  "outcome.\n"
                  "# TYPE bedpulse_http_feed_lines_total counter\n"
                  "bedpulse_http_feed_lines_total{outcome=\"applied\"} %llu\n"
                  "bedpulse_http_feed_lines_total{outcome=\"duplicate\"} %llu\n"
                  "bedpulse_http_feed_lines_total{outcome=\"invalid\"} %llu\n"
                  "bedpulse_http_feed_lines_total{outcome=\"unavailable\"} %llu\n"
                  "# HELP bedpulse_http_feed_not_replicated_total Changes posted to "
                  "/api/v1/feed answered unavailable because replicas did not confirm them in "
                  "time (redis.min_replicas_ack).\n"
                  "# TYPE bedpulse_http_feed_not_replicated_total counter\n"
                  "bedpulse_http_feed_not_replicated_total %llu\n"
                  "# HELP bedpulse_http_feed_documents_total EDXL-HAVE and FHIR documents posted "
                  "to /api/v1/feed, by format and outcome.\n"
                  "# TYPE bedpulse_http_feed_documents_total counter\n",
                  (unsigned long long)f->accepted, (unsigned long long)f->duplicates,
                  (unsigned long long)f->invalid, (unsigned long long)f->unavailable,
                  (unsigned long long)as.not_replicated);
    for (int k = FMT_HAVE; k <= FMT_FHIR; k++)
        bp_buf_printf(o,
                      "bedpulse_http_feed_documents_total{format=\"%s\",outcome=\"accepted\"} "
                      "%llu\n"
                      "bedpulse_http_feed_documents_total{format=\"%s\",outcome=\"refused\"} "
                      "%llu\n",
                      fmt_names[k], (unsigned long long)f->docs[k][0], fmt_names[k],
                      (unsigned long long)f->docs[k][1]);
}
