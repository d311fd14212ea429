/*
 * Feed connections. Each connection keeps a ring of reply slots, one per
 * line read, filled either at once (validation errors) or when Redis
 * answers; slots are flushed from the head only when done, which keeps the
 * replies in line order whatever order the work completes in. Replies from
 * Redis arrive in submit order (one connection), so the oldest awaiting slot
 * of a connection is always the one a reply belongs to.
 *
 * No gaps behind an `unavailable`: idempotency is by the highest seq applied
 * per source, so if line N were refused `unavailable` (Redis lost) and line
 * N+1, pipelined behind it, were applied once Redis was back, the resent N
 * would be acknowledged as a duplicate without ever being applied. So once
 * a line is answered `unavailable`, the connection takes nothing new: every
 * later line is answered `unavailable` too, until the sender resends that
 * line (the same source with a seq no higher) — which senders do anyway:
 * resend what was not acknowledged, in order. The resent line then goes to
 * Redis alone, and nothing after it until Redis has answered it: a Redis
 * that refuses writes (NOREPLICAS, OOM) can take them again between two
 * pipelined lines, and the second, applied, would make the first's resend
 * a false duplicate too.
 *
 * That alone would not do: a Redis that flips refusing -> accepting (or
 * back and forth: memory hovering at maxmemory) inside any pipelined
 * window, and a window resent on a new connection, which the collector
 * cannot tell from new lines, would let a later line overtake a refused
 * one. So each line also carries `prev`, the seq of its source's line sent
 * before it on this connection and not answered yet (core/bp_feedprev), and
 * the apply script refuses it (`behind`, answered `unavailable`) unless
 * that line was decided (docs/redis.md).
 *
 * TLS (collector.tls_cert): each connection has a bp_tls engine between
 * the socket and the line splitter. Ciphertext read from the socket goes
 * into OpenSSL; plaintext is pulled out only when the splitter has no
 * complete line left, as much as one plain read would bring, so the same
 * bounds hold (and reading from the socket waits for that too, which
 * bounds what OpenSSL holds). Replies are encrypted as one batch per flush.
 * A handshake must finish within TLS_HANDSHAKE_MS.
 *
 * This file is one connection's work; listening, accepting, the sweep and
 * the server's life are feed_listen.c, their shared state
 * feed_server_int.h.
 */
#include "feed_server.h"
#include "feed_server_int.h"
#include "bp_apply.h"
#include "bp_buf.h"
#include "bp_codec_api.h"
#include "bp_codec_feed.h"
#include "bp_feedline.h"
#include "bp_feedprev.h"
#include "bp_feedreply.h"
#include "bp_lines.h"
#include "bp_log.h"
#include "bp_time.h"
#include "bp_tls.h"
#include "bp_tokens.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void process(conn_t *c);
void bp_feed_conn_close(conn_t *c);

/* -- replies --------------------------------------------------------------- */

static slot_t *slot_at(conn_t *c, uint64_t i) {
    return &c->slots[i % c->cap];
}

static void slot_fill(bp_feed_server_t *fs, slot_t *sl, bp_buf_t *b) {
    bp_buf_putc(b, '\n');
    sl->len = b->len;
    sl->text = b->failed ? NULL : malloc(b->len);
    if (sl->text) {
        memcpy(sl->text, bp_buf_data(b), b->len);
    } else {
        static const char oom[] =
            "{\"ok\":false,\"seq\":null,\"error\":\"internal\",\"message\":\"out of memory\"}\n";
        sl->text = strdup(oom);
        sl->len = sl->text ? sizeof oom - 1 : 0;
    }
    sl->state = SLOT_DONE;
    fs->stats.lines++;
}

static void count_error(bp_feed_stats_t *st, const char *code) {
    size_t i = 0;
    while (i < st->n_errors && strcmp(st->errors[i].code, code) != 0)
        i++;
    if (i == st->n_errors) {
        if (i == BP_FEED_ERROR_CODES) {
            i = BP_FEED_ERROR_CODES - 1; /* full: the last row counts the rest */
            snprintf(st->errors[i].code, sizeof st->errors[i].code, "other");
        } else {
            snprintf(st->errors[i].code, sizeof st->errors[i].code, "%s", code);
            st->n_errors++;
        }
    }
    st->errors[i].n++;
}

static void reply_error(bp_feed_server_t *fs, slot_t *sl, int64_t seq, const char *code,
                        const char *field, const char *message) {
    count_error(&fs->stats, code);
    bp_buf_t *b = &fs->reply;
    bp_buf_reset(b);
    bp_feedline_reply_error(b, seq, code, field, message);
    slot_fill(fs, sl, b);
}

typedef struct {
    uv_write_t req;
    conn_t *c;
    size_t len;
    char data[];
} write_t;

void bp_feed_maybe_free(conn_t *c);

static void on_written(uv_write_t *req, int status) {
    write_t *w = (write_t *)req;
    conn_t *c = w->c;
    c->unsent -= w->len;
    free(w);
    if (status < 0) {
        bp_feed_conn_close(c);
        bp_feed_maybe_free(c);
        return;
    }
    if (!c->closed) process(c); /* reading may resume now */
    bp_feed_maybe_free(c);
}

static void send_bytes(conn_t *c, write_t *w) {
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);
    c->unsent += w->len;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) < 0) {
        c->unsent -= w->len;
        free(w);
        bp_feed_conn_close(c);
    }
}

/* Sends what OpenSSL has for the network (handshake, records, alerts). */
static void tls_send(conn_t *c) {
    size_t n = c->closed ? 0 : bp_tls_pending(c->tls);
    if (n == 0) return;
    write_t *w = malloc(sizeof *w + n);
    if (!w) {
        bp_feed_conn_close(c);
        return;
    }
    w->c = c;
    w->len = bp_tls_take(c->tls, w->data, n);
    send_bytes(c, w);
}

/* Writes every done slot at the head, as one buffer (over TLS: encrypted
 * as one batch). */
static void flush(conn_t *c) {
    size_t total = 0;
    uint64_t i = c->head;
    while (i < c->tail && slot_at(c, i)->state == SLOT_DONE)
        total += slot_at(c, i++)->len;
    if (i == c->head) {
        if (c->tls) tls_send(c);
        return;
    }
    write_t *w = c->closed ? NULL : malloc(sizeof *w + total);
    size_t off = 0;
    for (; c->head < i; c->head++) {
        slot_t *sl = slot_at(c, c->head);
        if (w) memcpy(w->data + off, sl->text, sl->len);
        off += sl->len;
        free(sl->text);
        memset(sl, 0, sizeof *sl);
    }
    if (!w) {
        if (!c->closed) bp_feed_conn_close(c); /* out of memory: drop the client */
        return;
    }
    if (c->tls) {
        int rc = bp_tls_write(c->tls, w->data, total);
        free(w);
        if (rc) {
            bp_info("feed %s: TLS: %s; closing", c->peer, bp_tls_why(c->tls));
            bp_feed_conn_close(c);
            return;
        }
        tls_send(c);
        return;
    }
    w->c = c;
    w->len = total;
    send_bytes(c, w);
}

/* -- who is speaking ------------------------------------------------------------ */

/* The principal of an authenticated connection, re-read when the token
 * table was replaced; NULL if its token disappeared. */
static const bp_principal_t *principal(conn_t *c) {
    uint64_t gen = bp_tokens_generation(c->fs->tokens);
    if (c->who_gen != gen) {
        c->who = bp_tokens_by_id(c->fs->tokens, c->token_id);
        c->who_gen = gen;
    }
    return c->who;
}

/* {"type":"hello","token":"bp_..."}: authenticates the connection. */
static void handle_hello(conn_t *c, slot_t *sl, const bp_hello_t *hello) {
    bp_feed_server_t *fs = c->fs;
    int64_t now = bp_time_now_ms();
    if (!bp_tokens_ready(fs->tokens)) {
        reply_error(fs, sl, -1, "unavailable", "",
                    "tokens cannot be checked now (storage is down); "
                    "say hello again later");
        return;
    }
    const bp_principal_t *p =
        hello->has_token ? bp_tokens_find(fs->tokens, hello->token, strlen(hello->token)) : NULL;
    bp_error_t err;
    if (bp_feedline_hello_check(p, hello->has_token, now, &err)) {
        if (strcmp(err.code, "unauthorized") == 0) {
            fs->stats.invalid++;
            c->authed = false;
            if (++c->failed_hellos >= MAX_FAILED_HELLOS) c->eof = true; /* answer, then close */
        }
        reply_error(fs, sl, -1, err.code, err.field, err.message);
        return;
    }
    c->authed = true;
    c->failed_hellos = 0;
    snprintf(c->token_id, sizeof c->token_id, "%s", p->id);
    c->who = p;
    c->who_gen = bp_tokens_generation(fs->tokens);
    bp_buf_t *b = &fs->reply;
    bp_buf_reset(b);
    bp_feedline_reply_hello(b, p);
    slot_fill(fs, sl, b);
    bp_info("feed %s: authenticated as %s (%s)", c->peer, p->id, p->name);
}

/* -- lines ------------------------------------------------------------------ */

/* Remembers the first line answered `unavailable` since the connection was
 * last clear (see the top of the file). */
static void block_after(conn_t *c, uint64_t source, int64_t seq) {
    bp_feed_block_set(&c->block, source, seq);
}

static void handle_line(conn_t *c, const char *line, size_t len) {
    bp_feed_server_t *fs = c->fs;
    fs->stats.lines_in++;
    slot_t *sl = slot_at(c, c->tail++);
    memset(sl, 0, sizeof *sl);
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len) {
        fs->stats.invalid++;
        reply_error(fs, sl, -1, "bad_json", "", "empty line: expected one JSON object per line");
        return;
    }
    bp_change_t ch;
    bp_error_t err;
    bp_error_clear(&err);
    int64_t now = bp_time_now_ms();
    /* a hello has no seq: recognise it before the feed rules apply */
    bp_hello_t hello;
    if (bp_feedline_is_hello(line, len) && bp_codec_parse_hello(line, len, &hello, &err) == 0) {
        handle_hello(c, sl, &hello);
        return;
    }
    if (bp_codec_parse_feed(line, len, fs->reg, now,
                            (int64_t)fs->s->collector_max_future_skew_s * 1000, &ch, &err)) {
        fs->stats.invalid++;
        reply_error(fs, sl, ch.seq, err.code, err.field, err.message);
        return;
    }
    /* may this connection report this entity? */
    bp_actor_t actor = {ch.source, "anonymous", c->ip};
    if (c->authed) {
        const bp_principal_t *p = principal(c);
        if (bp_feedline_authorize(p, &ch, fs->reg, now, &err)) {
            fs->stats.invalid++;
            reply_error(fs, sl, ch.seq, err.code, err.field, err.message);
            return;
        }
        actor.id = p->id;
        actor.role = bp_role_name(p->role);
    } else if (!fs->s->collector_anonymous) {
        fs->stats.invalid++;
        reply_error(fs, sl, ch.seq, "unauthorized", "",
                    "send {\"type\":\"hello\",\"token\":\"bp_...\"} first: this collector "
                    "takes feeds with a token only");
        return;
    }
    uint64_t src = bp_feed_source_hash(ch.source);
    bool was_blocked = c->block.blocked;
    if (!bp_feed_block_admit(&c->block, src, ch.seq)) {
        char msg[200];
        fs->stats.unavailable++;
        bp_feed_block_message(&c->block, msg, sizeof msg);
        reply_error(fs, sl, ch.seq, "unavailable", "", msg);
        return;
    }
    if (was_blocked) c->probing = true; /* the resend: alone (see the top) */
    int64_t prev = ch.seq >= 0 ? bp_feed_prev_before(&c->order, src, ch.seq) : -1;
    int rc = prev == -2 ? -2 : bp_apply_submit(fs->apply, c->lane, &ch, -1, prev, &actor, c);
    if (rc == 0) {
        if (ch.seq >= 0) bp_feed_prev_sent(&c->order, src, ch.seq);
        sl->state = SLOT_AWAITING;
        sl->seq = ch.seq;
        sl->source = src;
        sl->sent_ns = bp_time_mono_ns();
        c->awaiting++;
        return;
    }
    c->probing = false;
    block_after(c, src, ch.seq);
    fs->stats.unavailable++;
    reply_error(fs, sl, ch.seq, "unavailable", "",
                rc == -2
                    ? "the collector is overloaded; resend this line later"
                    : "storage (Redis) is unavailable; resend this line later with the same seq");
}

void bp_feed_update_reading(conn_t *c);

/* Moves plaintext out of OpenSSL into the line buffer, at most one read's
 * worth (the line buffer has room for that once it holds no complete
 * line). 1: bytes came, 0: none for now (or the peer's close_notify),
 * -1: the connection failed and is closed. Runs the handshake too. */
static int tls_pull(conn_t *c) {
    long n = bp_tls_read(c->tls, c->fs->plain, sizeof c->fs->plain);
    if (n > 0) {
        if (bp_lines_push(&c->lines, c->fs->plain, (size_t)n) == 0) return 1;
        bp_warn("feed %s: line buffer overrun, closing", c->peer);
    } else if (n == BP_TLS_WANT) {
        return 0;
    } else if (n == BP_TLS_CLOSED) {
        c->tls_eof = true; /* like EOF: answer what came, then close */
        c->eof = true;
        return 0;
    } else if (bp_tls_done(c->tls)) {
        bp_info("feed %s: TLS: %s; closing", c->peer, bp_tls_why(c->tls));
    } else {
        bp_info("feed %s: TLS handshake failed: %s%s; closing", c->peer, bp_tls_why(c->tls),
                strstr(bp_tls_why(c->tls), "wrong version") ||
                        strstr(bp_tls_why(c->tls), "http request")
                    ? " (a client without TLS?)"
                    : "");
    }
    tls_send(c); /* an alert, if OpenSSL made one */
    bp_feed_conn_close(c);
    return -1;
}

/* Takes lines while there is room for their replies, then flushes. */
static void process(conn_t *c) {
    bp_feed_server_t *fs = c->fs;
    while (!c->closed && c->tail - c->head < c->cap) {
        if (c->probing && c->awaiting) break; /* until Redis answered the resend */
        if (bp_apply_up(fs->apply, c->lane) && bp_apply_room(fs->apply, c->lane) == 0) {
            if (!c->paused) {
                c->paused = true;
                fs->paused++;
            }
            break;
        }
        const char *line;
        size_t len;
        bp_lines_result_t r = bp_lines_next(&c->lines, &line, &len);
        if (r == BP_LINES_NONE && c->tls && !c->tls_eof) {
            int more = tls_pull(c);
            if (more < 0) return;
            if (more > 0) continue;
        }
        if (r == BP_LINES_NONE) {
            c->drained = true;
            if (c->eof && bp_lines_pending(&c->lines) > 0) {
                /* the peer closed after an unterminated last line: answer it too */
                if (bp_lines_push(&c->lines, "\n", 1) == 0) continue;
            }
            break;
        }
        c->drained = false;
        if (r == BP_LINES_TOO_LONG) {
            slot_t *sl = slot_at(c, c->tail++);
            memset(sl, 0, sizeof *sl);
            char msg[128];
            snprintf(msg, sizeof msg, "line longer than %d bytes; it was skipped",
                     fs->s->collector_max_line_bytes);
            fs->stats.invalid++;
            reply_error(fs, sl, -1, "line_too_long", "", msg);
            continue;
        }
        handle_line(c, line, len);
    }
    flush(c);
    bp_feed_update_reading(c);
}

/* -- connections -------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    conn_t *c = h->data;
    (void)suggested;
    /* one shared read buffer: each read is pushed into the line buffer at once */
    if (c->fs->read_buf_busy) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    c->fs->read_buf_busy = true;
    *buf = uv_buf_init(c->fs->read_buf, READ_CHUNK);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    conn_t *c = s->data;
    if (buf->base == c->fs->read_buf) c->fs->read_buf_busy = false;
    if (nread == 0) return;
    if (nread < 0) {
        if (nread == UV_EOF) {
            c->eof = true;
            process(c);
            bp_feed_maybe_free(c);
        } else {
            bp_feed_conn_close(c);
            bp_feed_maybe_free(c);
        }
        return;
    }
    c->last_active_ms = bp_time_now_ms();
    if (c->tls) {
        /* all of it into OpenSSL now; process() pulls the plaintext */
        if (bp_tls_feed(c->tls, buf->base, (size_t)nread)) {
            bp_warn("feed %s: TLS: %s, closing", c->peer, bp_tls_why(c->tls));
            bp_feed_conn_close(c);
            bp_feed_maybe_free(c);
            return;
        }
        process(c);
        return;
    }
    if (bp_lines_push(&c->lines, buf->base, (size_t)nread)) {
        /* cannot happen while reading only when drained; be safe anyway */
        bp_warn("feed %s: line buffer overrun, closing", c->peer);
        bp_feed_conn_close(c);
        return;
    }
    process(c);
}

void bp_feed_update_reading(conn_t *c) {
    bool want = !c->closed && !c->eof && !c->paused && c->drained && c->tail - c->head < c->cap &&
                c->unsent < MAX_UNSENT_BYTES;
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = true;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    /* a peer that sent EOF and has all its answers is done (over TLS: once
     * our close_notify went out) */
    if (c->eof && !c->closed && c->head == c->tail && c->unsent == 0 && c->drained) {
        if (c->tls && !c->tls_closing) {
            c->tls_closing = true;
            bp_tls_close_notify(c->tls);
            tls_send(c);
            if (c->unsent) return; /* on_written comes back here */
        }
        if (!c->closed) bp_feed_conn_close(c);
    }
}

void bp_feed_check_closed(bp_feed_server_t *fs) {
    if (!fs->closing || fs->parts_open || fs->handles) return;
    void (*cb)(void *) = fs->on_closed;
    void *data = fs->closed_data;
    bp_buf_free(&fs->reply);
    bp_tls_ctx_destroy(fs->tls_ctx); /* connections not yet freed hold a reference */
    free(fs);
    if (cb) cb(data);
}

void bp_feed_on_conn_closed(uv_handle_t *h) {
    conn_t *c = h->data;
    bp_feed_server_t *fs = c->fs;
    c->tcp.data = NULL; /* marks the handle released */
    fs->handles--;
    bp_feed_maybe_free(c);
    bp_feed_check_closed(fs);
}

static void unlink_conn(conn_t *c) {
    bp_feed_server_t *fs = c->fs;
    if (c->prev)
        c->prev->next = c->next;
    else if (fs->conns == c)
        fs->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

void bp_feed_conn_close(conn_t *c) {
    if (c->closed) return;
    bp_feed_server_t *fs = c->fs;
    c->closed = true;
    if (c->paused) {
        c->paused = false;
        fs->paused--;
    }
    unlink_conn(c);
    fs->n_conns--;
    fs->stats.open = fs->n_conns;
    bp_debug("feed %s: closed", c->peer);
    uv_close((uv_handle_t *)&c->tcp, bp_feed_on_conn_closed);
}

/* Frees a connection once its handle is released and no Redis reply or
 * write still refers to it. */
void bp_feed_maybe_free(conn_t *c) {
    if (!c->closed || c->tcp.data || c->awaiting || c->unsent || c->dirty) return;
    for (uint64_t i = c->head; i < c->tail; i++)
        free(slot_at(c, i)->text);
    bp_lines_free(&c->lines);
    bp_tls_destroy(c->tls);
    bp_feed_prev_free(&c->order);
    free(c->slots);
    free(c);
}

void bp_feed_resume_paused(bp_feed_server_t *fs) {
    if (!fs->paused) return;
    for (conn_t *c = fs->conns, *next; c; c = next) {
        next = c->next;
        if (!c->paused || bp_apply_room(fs->apply, c->lane) < APPLY_MAX_PENDING / 2) continue;
        c->paused = false;
        fs->paused--;
        process(c);
    }
}

void bp_feed_on_applied(void *privdata, const bp_apply_result_t *res) {
    conn_t *c = privdata;
    bp_feed_server_t *fs = c->fs;
    uint64_t i = c->awaiting_from;
    while (i < c->tail && slot_at(c, i)->state != SLOT_AWAITING)
        i++;
    if (i == c->tail) {
        bp_error("feed %s: a reply from Redis with no line waiting for it", c->peer);
        return;
    }
    c->awaiting_from = i + 1;
    c->awaiting--;
    slot_t *sl = slot_at(c, i);
    if (sl->seq >= 0) bp_feed_prev_answered(&c->order, sl->source);
    bp_hist_observe(&fs->stats.apply_time, (double)(bp_time_mono_ns() - sl->sent_ns) / 1e9);
    bp_buf_t *b = &fs->reply;
    bp_buf_reset(b);
    const char *code;
    switch (bp_feedreply_write(b, sl->seq, res, &code)) {
    case BP_FEED_ACCEPTED: fs->stats.accepted++; break;
    case BP_FEED_DUPLICATE: fs->stats.duplicates++; break;
    case BP_FEED_REFUSED: fs->stats.invalid++; break;
    case BP_FEED_CONFLICT: break;
    case BP_FEED_UNAVAILABLE:
        block_after(c, sl->source, sl->seq);
        fs->stats.unavailable++;
        break;
    }
    if (code) count_error(&fs->stats, code);
    slot_fill(fs, sl, b);
    if (!c->awaiting) c->probing = false; /* the resend (and all before it) answered */
    /* Redis answers in bursts (a read brings many replies): write them all
     * with one write per connection at the end of this loop turn instead of
     * one write per reply line. */
    if (fs->closing) { /* the flush handle is gone: finish here */
        if (!c->closed) process(c);
        bp_feed_maybe_free(c);
        return;
    }
    if (!c->dirty) {
        c->dirty = true;
        c->dirty_next = fs->dirty;
        fs->dirty = c;
    }
}

void bp_feed_on_flush(uv_check_t *h) {
    bp_feed_server_t *fs = h->data;
    conn_t *c = fs->dirty;
    fs->dirty = NULL;
    while (c) {
        conn_t *next = c->dirty_next;
        c->dirty = false;
        c->dirty_next = NULL;
        if (!c->closed) process(c);
        bp_feed_maybe_free(c);
        c = next;
    }
    bp_feed_resume_paused(fs);
}
