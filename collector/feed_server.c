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
 */
#include "feed_server.h"
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

#define READ_CHUNK        65536
#define MAX_UNSENT_BYTES  (1u << 20) /* pause reading while more replies than this wait */
#define APPLY_LANES       4          /* Redis connections; a feed connection keeps to one */
#define APPLY_MAX_PENDING 16384      /* changes waiting for Redis, per lane */
#define REPLY_MAX         2048
#define MAX_FAILED_HELLOS 3 /* then the connection is closed */
#define TLS_HANDSHAKE_MS  10000

typedef enum { SLOT_AWAITING = 1, SLOT_DONE } slot_state_t;

typedef struct {
    slot_state_t state;
    int64_t seq;
    uint64_t source;  /* hash of the line's source (for the block below) */
    uint64_t sent_ns; /* when it went to Redis (apply time histogram) */
    char *text;       /* reply line with its newline, malloc'd */
    size_t len;
} slot_t;

typedef struct conn {
    uv_tcp_t tcp;
    bp_feed_server_t *fs;
    struct conn *prev, *next;
    bp_lines_t lines;
    slot_t *slots;
    size_t cap;
    uint64_t head, tail;    /* absolute slot numbers; slot i lives at i % cap */
    uint64_t awaiting_from; /* oldest slot that may be awaiting Redis */
    size_t awaiting;
    size_t unsent; /* reply bytes handed to libuv, not yet written */
    int64_t last_active_ms;
    bool reading, drained, eof, closed, paused, dirty;
    struct conn *dirty_next; /* answered by Redis since the last flush */
    /* who speaks: the token given in hello (never a pointer kept across a
     * reload of the token table: see principal()) */
    bool authed;
    int failed_hellos;
    char token_id[BP_TOKEN_ID_MAX + 1];
    const bp_principal_t *who;
    uint64_t who_gen;
    size_t lane; /* its Redis connection (bp_apply lane): its lines apply in order */
    /* a line answered `unavailable`: nothing new until it is resent */
    bp_feed_block_t block;
    bool probing;         /* the resend is with Redis: no more lines until it answers */
    bp_feed_prev_t order; /* per source, the last line with Redis (prev, see the top) */
    char ip[48];
    char peer[64];
    bp_tls_t *tls;       /* NULL: plain TCP */
    bool tls_eof;        /* close_notify received: no more plaintext */
    bool tls_closing;    /* our close_notify is on its way */
    int64_t accepted_ms; /* for the handshake's time limit */
} conn_t;

struct bp_feed_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t sweep;
    uv_check_t flush; /* once per loop turn: write what Redis answered */
    conn_t *dirty;
    const bp_settings_t *s;
    const bp_registry_t *reg;
    bp_apply_t *apply;
    bp_tokens_t *tokens;
    conn_t *conns; /* open connections */
    size_t n_conns;
    size_t paused; /* connections waiting for room in the apply queue */
    size_t next_lane;
    int port;
    bool closing;
    int parts_open; /* listener, sweep timer, apply: closed on shutdown */
    size_t handles; /* connection handles not yet released */
    void (*on_closed)(void *);
    void *closed_data;
    bp_feed_stats_t stats;
    char read_buf[READ_CHUNK];
    bool read_buf_busy;
    char plain[READ_CHUNK]; /* decrypted bytes on their way to a line buffer */
    bp_tls_ctx_t *tls_ctx;  /* NULL: plain TCP */
    bp_buf_t reply;
};

static void process(conn_t *c);
static void conn_close(conn_t *c);

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

static void maybe_free(conn_t *c);

static void on_written(uv_write_t *req, int status) {
    write_t *w = (write_t *)req;
    conn_t *c = w->c;
    c->unsent -= w->len;
    free(w);
    if (status < 0) {
        conn_close(c);
        maybe_free(c);
        return;
    }
    if (!c->closed) process(c); /* reading may resume now */
    maybe_free(c);
}

static void send_bytes(conn_t *c, write_t *w) {
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);
    c->unsent += w->len;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) < 0) {
        c->unsent -= w->len;
        free(w);
        conn_close(c);
    }
}

/* Sends what OpenSSL has for the network (handshake, records, alerts). */
static void tls_send(conn_t *c) {
    size_t n = c->closed ? 0 : bp_tls_pending(c->tls);
    if (n == 0) return;
    write_t *w = malloc(sizeof *w + n);
    if (!w) {
        conn_close(c);
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
        if (!c->closed) conn_close(c); /* out of memory: drop the client */
        return;
    }
    if (c->tls) {
        int rc = bp_tls_write(c->tls, w->data, total);
        free(w);
        if (rc) {
            bp_info("feed %s: TLS: %s; closing", c->peer, bp_tls_why(c->tls));
            conn_close(c);
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

static void update_reading(conn_t *c);

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
    conn_close(c);
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
    update_reading(c);
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
            maybe_free(c);
        } else {
            conn_close(c);
            maybe_free(c);
        }
        return;
    }
    c->last_active_ms = bp_time_now_ms();
    if (c->tls) {
        /* all of it into OpenSSL now; process() pulls the plaintext */
        if (bp_tls_feed(c->tls, buf->base, (size_t)nread)) {
            bp_warn("feed %s: TLS: %s, closing", c->peer, bp_tls_why(c->tls));
            conn_close(c);
            maybe_free(c);
            return;
        }
        process(c);
        return;
    }
    if (bp_lines_push(&c->lines, buf->base, (size_t)nread)) {
        /* cannot happen while reading only when drained; be safe anyway */
        bp_warn("feed %s: line buffer overrun, closing", c->peer);
        conn_close(c);
        return;
    }
    process(c);
}

static void update_reading(conn_t *c) {
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
        if (!c->closed) conn_close(c);
    }
}

static void check_closed(bp_feed_server_t *fs) {
    if (!fs->closing || fs->parts_open || fs->handles) return;
    void (*cb)(void *) = fs->on_closed;
    void *data = fs->closed_data;
    bp_buf_free(&fs->reply);
    bp_tls_ctx_destroy(fs->tls_ctx); /* connections not yet freed hold a reference */
    free(fs);
    if (cb) cb(data);
}

static void on_conn_closed(uv_handle_t *h) {
    conn_t *c = h->data;
    bp_feed_server_t *fs = c->fs;
    c->tcp.data = NULL; /* marks the handle released */
    fs->handles--;
    maybe_free(c);
    check_closed(fs);
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

static void conn_close(conn_t *c) {
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
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* Frees a connection once its handle is released and no Redis reply or
 * write still refers to it. */
static void maybe_free(conn_t *c) {
    if (!c->closed || c->tcp.data || c->awaiting || c->unsent || c->dirty) return;
    for (uint64_t i = c->head; i < c->tail; i++)
        free(slot_at(c, i)->text);
    bp_lines_free(&c->lines);
    bp_tls_destroy(c->tls);
    bp_feed_prev_free(&c->order);
    free(c->slots);
    free(c);
}

static void resume_paused(bp_feed_server_t *fs) {
    if (!fs->paused) return;
    for (conn_t *c = fs->conns, *next; c; c = next) {
        next = c->next;
        if (!c->paused || bp_apply_room(fs->apply, c->lane) < APPLY_MAX_PENDING / 2) continue;
        c->paused = false;
        fs->paused--;
        process(c);
    }
}

static void on_applied(void *privdata, const bp_apply_result_t *res) {
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
        maybe_free(c);
        return;
    }
    if (!c->dirty) {
        c->dirty = true;
        c->dirty_next = fs->dirty;
        fs->dirty = c;
    }
}

static void on_flush(uv_check_t *h) {
    bp_feed_server_t *fs = h->data;
    conn_t *c = fs->dirty;
    fs->dirty = NULL;
    while (c) {
        conn_t *next = c->dirty_next;
        c->dirty = false;
        c->dirty_next = NULL;
        if (!c->closed) process(c);
        maybe_free(c);
        c = next;
    }
    resume_paused(fs);
}

typedef struct {
    uv_tcp_t tcp;
    uv_write_t req;
} reject_t;

static void on_reject_closed(uv_handle_t *h) {
    free(h->data);
}

static void on_reject_written(uv_write_t *req, int status) {
    (void)status;
    reject_t *r = req->data;
    uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
}

static void reject(bp_feed_server_t *fs) {
    static char msg[256];
    reject_t *r = malloc(sizeof *r);
    if (!r) return;
    uv_tcp_init(fs->loop, &r->tcp);
    r->tcp.data = r;
    r->req.data = r;
    if (uv_accept((uv_stream_t *)&fs->listener, (uv_stream_t *)&r->tcp) != 0) {
        uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
        return;
    }
    fs->stats.rejected++;
    if (fs->tls_ctx) {
        /* a plain line would be noise to a TLS client, and a handshake per
         * refused connection is what the limit is there to avoid */
        uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
        return;
    }
    int n = snprintf(msg, sizeof msg,
                     "{\"ok\":false,\"seq\":null,\"error\":\"too_many_connections\",\"message\":"
                     "\"the collector serves at most %d connections; retry later\"}\n",
                     fs->s->collector_max_connections);
    uv_buf_t buf = uv_buf_init(msg, (unsigned)n);
    if (uv_write(&r->req, (uv_stream_t *)&r->tcp, &buf, 1, on_reject_written) < 0)
        uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
}

static void on_connection(uv_stream_t *server, int status) {
    bp_feed_server_t *fs = server->data;
    if (status < 0 || fs->closing) return;
    if (fs->n_conns >= (size_t)fs->s->collector_max_connections) {
        reject(fs);
        return;
    }
    conn_t *c = calloc(1, sizeof *c);
    if (!c) return;
    c->fs = fs;
    c->cap = (size_t)fs->s->collector_max_inflight;
    c->slots = calloc(c->cap, sizeof *c->slots);
    if (!c->slots ||
        bp_lines_init(&c->lines, (size_t)fs->s->collector_max_line_bytes, READ_CHUNK)) {
        free(c->slots);
        bp_lines_free(&c->lines);
        free(c);
        return;
    }
    if (fs->tls_ctx && !(c->tls = bp_tls_create(fs->tls_ctx, NULL))) {
        free(c->slots);
        bp_lines_free(&c->lines);
        free(c);
        return;
    }
    uv_tcp_init(fs->loop, &c->tcp);
    c->tcp.data = c;
    fs->handles++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        c->closed = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage sa;
    int salen = sizeof sa;
    snprintf(c->peer, sizeof c->peer, "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &salen) == 0) {
        char ip[48] = "?";
        int port = 0;
        if (sa.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&sa, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
        } else if (sa.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&sa, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
        }
        snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
        snprintf(c->ip, sizeof c->ip, "%s", ip);
    }
    c->last_active_ms = c->accepted_ms = bp_time_now_ms();
    c->drained = true;
    c->lane = fs->next_lane++ % APPLY_LANES;
    c->next = fs->conns;
    if (fs->conns) fs->conns->prev = c;
    fs->conns = c;
    fs->n_conns++;
    fs->stats.connections++;
    fs->stats.open = fs->n_conns;
    bp_debug("feed %s: connected", c->peer);
    update_reading(c);
}

static void on_sweep(uv_timer_t *t) {
    bp_feed_server_t *fs = t->data;
    int64_t now = bp_time_now_ms();
    int64_t idle = (int64_t)fs->s->collector_idle_timeout_s * 1000;
    for (conn_t *c = fs->conns, *next; c; c = next) {
        next = c->next;
        if (!c->awaiting && now - c->last_active_ms > idle) {
            bp_info("feed %s: idle for %d s, closing", c->peer, fs->s->collector_idle_timeout_s);
            conn_close(c);
            maybe_free(c);
        } else if (c->tls && !bp_tls_done(c->tls) && now - c->accepted_ms > TLS_HANDSHAKE_MS) {
            bp_info("feed %s: no TLS handshake within %d s, closing", c->peer,
                    TLS_HANDSHAKE_MS / 1000);
            conn_close(c);
            maybe_free(c);
        }
    }
    resume_paused(fs);
}

bp_feed_server_t *bp_feed_server_create(uv_loop_t *loop, const bp_settings_t *s,
                                        const bp_registry_t *reg) {
    bp_feed_server_t *fs = calloc(1, sizeof *fs);
    if (!fs) return NULL;
    fs->loop = loop;
    fs->s = s;
    fs->reg = reg;
    bp_buf_init(&fs->reply, 0, REPLY_MAX);
    if (s->collector_tls_cert[0]) {
        char why[300];
        fs->tls_ctx =
            bp_tls_server_ctx(s->collector_tls_cert, s->collector_tls_key, why, sizeof why);
        if (!fs->tls_ctx) {
            bp_error("collector: TLS: %s (collector.tls_cert, collector.tls_key)", why);
            bp_buf_free(&fs->reply);
            free(fs);
            return NULL;
        }
    }
    fs->apply = bp_apply_create(loop, s, reg, APPLY_LANES, APPLY_MAX_PENDING, on_applied);
    fs->tokens = fs->apply ? bp_tokens_create(loop, s, reg) : NULL;
    if (!fs->tokens) {
        bp_apply_close(fs->apply, NULL, NULL);
        bp_tls_ctx_destroy(fs->tls_ctx);
        bp_buf_free(&fs->reply);
        free(fs);
        return NULL;
    }
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(s->collector_host, s->collector_port, (struct sockaddr_in *)&addr);
    if (rc) rc = uv_ip6_addr(s->collector_host, s->collector_port, (struct sockaddr_in6 *)&addr);
    uv_tcp_init(loop, &fs->listener);
    fs->listener.data = fs;
    if (rc == 0) rc = uv_tcp_bind(&fs->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&fs->listener, 511, on_connection);
    if (rc) {
        bp_error("collector: cannot listen on %s:%d: %s", s->collector_host, s->collector_port,
                 uv_strerror(rc));
        /* caller closes the loop; release what we made */
        uv_close((uv_handle_t *)&fs->listener, NULL);
        bp_apply_close(fs->apply, NULL, NULL);
        bp_tokens_close(fs->tokens, NULL, NULL);
        bp_buf_free(&fs->reply);
        bp_tls_ctx_destroy(fs->tls_ctx);
        free(fs);
        return NULL;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&fs->listener, (struct sockaddr *)&bound, &blen);
    fs->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    uv_timer_init(loop, &fs->sweep);
    fs->sweep.data = fs;
    uv_timer_start(&fs->sweep, on_sweep, 1000, 1000);
    uv_check_init(loop, &fs->flush);
    fs->flush.data = fs;
    uv_check_start(&fs->flush, on_flush);
    return fs;
}

int bp_feed_server_port(const bp_feed_server_t *fs) {
    return fs->port;
}

bool bp_feed_server_tls(const bp_feed_server_t *fs) {
    return fs->tls_ctx != NULL;
}

void bp_feed_server_stats(const bp_feed_server_t *fs, bp_feed_stats_t *out) {
    *out = fs->stats;
    out->open = fs->n_conns;
    out->in_flight = 0;
    for (const conn_t *c = fs->conns; c; c = c->next)
        out->in_flight += c->awaiting;
}

bool bp_feed_server_ready(const bp_feed_server_t *fs) {
    if (fs->closing) return false;
    for (size_t i = 0; i < bp_apply_lanes(fs->apply); i++)
        if (!bp_apply_up(fs->apply, i)) return false;
    return true;
}

void bp_feed_server_redis_stats(bp_feed_server_t *fs, bp_redis_stats_t *lane0,
                                bp_apply_stats_t *apply) {
    bp_redis_stats(bp_apply_redis(fs->apply), lane0);
    bp_apply_stats(fs->apply, apply);
}

static void on_part_closed(uv_handle_t *h) {
    bp_feed_server_t *fs = h->data;
    fs->parts_open--;
    check_closed(fs);
}

static void on_apply_closed(void *p) {
    bp_feed_server_t *fs = p;
    fs->parts_open--;
    check_closed(fs);
}

void bp_feed_server_close(bp_feed_server_t *fs, void (*on_closed)(void *), void *data) {
    fs->closing = true;
    fs->on_closed = on_closed;
    fs->closed_data = data;
    fs->parts_open = 5;
    bp_tokens_close(fs->tokens, on_apply_closed, fs);
    uv_close((uv_handle_t *)&fs->listener, on_part_closed);
    uv_check_stop(&fs->flush);
    uv_close((uv_handle_t *)&fs->flush, on_part_closed);
    uv_timer_stop(&fs->sweep);
    uv_close((uv_handle_t *)&fs->sweep, on_part_closed);
    /* answered by Redis this loop turn, not flushed yet: with the flush
     * handle gone nothing would clear their mark, and a marked connection
     * is never freed */
    for (conn_t *c = fs->dirty, *next; c; c = next) {
        next = c->dirty_next;
        c->dirty = false;
        c->dirty_next = NULL;
        if (c->closed) maybe_free(c); /* open ones: when their handle is released */
    }
    fs->dirty = NULL;
    while (fs->conns)
        conn_close(fs->conns);
    bp_apply_close(fs->apply, on_apply_closed, fs);
}
