/*
 * bp-driver: pushes bed changes into the ingest path and measures what comes
 * back. Two targets:
 *
 *  - the collector (default): feed-protocol `beds` lines over K TCP
 *    connections, one reply line per line, in order (docs/protocol.md §1);
 *  - Redis itself (--direct-redis HOST:PORT): the collector's own request,
 *    EVALSHA of io/apply.lua with the keys and arguments io/bp_apply.c
 *    sends, built with the same core writers (patch, registry baseline), so
 *    the two figures are the collector's rate and the rate of the Redis work
 *    underneath it (DESIGN §9: ingest >= 50% of Redis's own rate).
 *    With --wait N, as the collector does with redis.min_replicas_ack = N:
 *    after each write of pipelined EVALSHAs, `WAIT N timeout`, and a change
 *    counts (and leaves the in-flight window) only when its WAIT confirmed
 *    it; not confirmed counts as unavailable.
 *
 * Two pacings: --rate R sends evenly spaced changes (a timerfd tick of
 * 1/R, at most 1 ms, sends whatever fell due) with at most N lines in flight
 * per connection; --max keeps N lines in flight on every connection
 * (pipelined) for the whole run.
 *
 * Changes go round-robin over the registry's hospitals (config/hospitals.json
 * through bp_config_load), each setting one bed type's `occupied`. Every
 * connection owns a disjoint share of the hospitals: a hospital updated from
 * two connections could see its `at` go backwards between them and be
 * answered out_of_order (for the same reason, run one driver at a time
 * against a deployment). `at` is stamped (RFC 3339 UTC, milliseconds) just
 * before the line is written, so a live-feed client can measure receive
 * time minus `at`. Sources are `bench-<pid>-<conn>`; seqs start at the current
 * time in ms x 1000 so that reruns never collide with an older run's seqs.
 *
 * The rate counts changes accepted ("ok", not duplicates) whose reply
 * arrived inside the run; replies still due when it ends are waited for
 * (DRAIN_MS) and counted in the totals. Ack latency is from the write of a
 * line to the read of its reply.
 *
 * One thread, one epoll loop; sockets and hiredis contexts are non-blocking.
 */
#include "bp_buf.h"
#include "bp_error.h"
#include "bp_config.h"
#include "bp_apply.h"
#include "bp_keys.h"
#include "bp_model.h"
#include "bp_time.h"

#include <hiredis/hiredis.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define MAX_CONNS              256   /* the collector's default connection limit */
#define MAX_INFLIGHT           16384 /* per connection */
#define DEFAULT_INFLIGHT_PACED 64
#define DEFAULT_INFLIGHT_MAX   256
#define MAX_RATE               10000000.0
#define FEED_LINE_MAX          512 /* one feed line we write, newline included */
#define READ_CHUNK             65536
#define IN_CAP                 (2 * READ_CHUNK) /* reply lines are < 2 KiB */
#define DRAIN_MS               10000            /* wait this long for the last replies */
#define CONNECT_TIMEOUT_MS     3000
#define TIMER_TAG              UINT32_MAX

/* -- latency histogram ------------------------------------------------------
 * Log-linear buckets over microseconds: exact below 128, then 64 buckets per
 * power of two (under 1.6 % error), like HdrHistogram with 2 digits. */

#define H_SUB_BITS 7
#define H_SUB      (1u << H_SUB_BITS)
#define H_BUCKETS  (H_SUB + 57 * (H_SUB / 2))

typedef struct {
    uint64_t counts[H_BUCKETS];
    uint64_t n, max;
} hist_t;

static size_t hist_index(uint64_t v) {
    if (v < H_SUB) return (size_t)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - (H_SUB_BITS - 1); /* v >> shift is in [64, 127] */
    uint64_t m = v >> shift;
    return H_SUB + (size_t)(shift - 1) * (H_SUB / 2) + (size_t)(m - H_SUB / 2);
}

/* The middle of bucket i. */
static uint64_t hist_value(size_t i) {
    if (i < H_SUB) return i;
    size_t j = i - H_SUB;
    int shift = (int)(j / (H_SUB / 2)) + 1;
    uint64_t m = j % (H_SUB / 2) + H_SUB / 2;
    return (m << shift) + ((1ull << shift) >> 1);
}

static void hist_add(hist_t *h, uint64_t v) {
    h->counts[hist_index(v)]++;
    h->n++;
    if (v > h->max) h->max = v;
}

static uint64_t hist_pct(const hist_t *h, double p) {
    if (!h->n) return 0;
    uint64_t want = (uint64_t)ceil(p / 100.0 * (double)h->n), seen = 0;
    if (want == 0) want = 1;
    for (size_t i = 0; i < H_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want) return hist_value(i) < h->max ? hist_value(i) : h->max;
    }
    return h->max;
}

/* -- state ------------------------------------------------------------------ */

typedef struct {
    int64_t seq;
    uint64_t sent_ns;
    bool wait;      /* a WAIT (--wait), not a change */
    uint8_t status; /* a change's reply, held for its WAIT: ST_* */
} flight_t;

enum { ST_PENDING, ST_OK, ST_DUP, ST_ERROR };

typedef struct {
    int idx;
    int fd;
    redisContext *rc; /* direct mode: owns fd */
    char source[BP_SOURCE_MAX + 1];
    int64_t next_seq;
    size_t *hosp; /* this connection's share of the registry's hospitals */
    size_t n_hosp, next_h;
    flight_t *fl; /* in flight, oldest first (ring of fl_cap) */
    size_t fl_head, fl_count;
    size_t changes;  /* changes in flight (fl_count without the WAITs) */
    size_t replied;  /* flights at the head whose reply came (held for a WAIT) */
    size_t unwaited; /* changes written since the last WAIT */
    char *out;       /* feed mode: bytes not yet written */
    size_t out_len, out_off;
    char *in; /* feed mode: bytes of incomplete reply lines */
    size_t in_len;
    bool want_out, dead;
} conn_t;

typedef struct {
    /* options */
    const char *host;
    int port;
    bool direct, max, json, progress;
    char redis_host[256];
    int redis_port;
    double rate, duration;
    int conns;
    size_t inflight, fl_cap;
    int wait_n, wait_ms; /* --wait N (0: no WAIT), --wait-timeout MS */
    /* configuration */
    bp_config_t cfg;
    bp_keys_t keys;
    uint8_t (*types)[BP_BED__COUNT];
    uint8_t *n_types, *next_type;
    char sha[41];
    char epoch_candidate[33];
    bp_apply_args_t args; /* direct mode: the collector's own argument builder */
    /* run */
    conn_t *c;
    int ep, tfd;
    size_t rr; /* paced: next connection to try */
    uint64_t start_ns, end_ns, stop_ns;
    uint64_t due, sent, ok, ok_window, dup, errors, unavailable, lost, mismatched;
    uint64_t last_progress_ns, progress_ok;
    hist_t hist;
    uint32_t rng;
    int64_t cached_ms;
    char cached_at[32];
    char first_error[320];
} app_t;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    (void)sig;
    interrupted = interrupted + 1; /* a second signal skips the wait for the last replies */
}

static uint32_t rnd(app_t *a) {
    /* xorshift32: plenty for picking bed counts */
    uint32_t x = a->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return a->rng = x;
}

static void note_error(app_t *a, const char *what, const char *text, size_t len) {
    if (a->first_error[0]) return;
    if (len > 240) len = 240;
    snprintf(a->first_error, sizeof a->first_error, "%s: %.*s", what, (int)len, text);
}

/* -- what to send --------------------------------------------------------------- */

/* Picks the next change of connection c: hospital, bed type, occupied. */
static void next_change(app_t *a, conn_t *c, size_t *h, int *type, int32_t *occupied) {
    *h = c->hosp[c->next_h++ % c->n_hosp];
    uint8_t k = a->next_type[*h]++ % a->n_types[*h];
    *type = a->types[*h][k];
    const bp_hospital_info_t *info = &a->cfg.registry.hospitals[*h];
    int32_t staffed = info->staffed[*type] > 0 ? info->staffed[*type] : 20;
    *occupied = (int32_t)(rnd(a) % (uint32_t)(staffed + staffed / 5 + 1)); /* up to 120 % */
}

static const char *at_now(app_t *a, int64_t *ms) {
    *ms = bp_time_now_ms();
    if (*ms != a->cached_ms) {
        a->cached_ms = *ms;
        bp_time_format(*ms, a->cached_at);
    }
    return a->cached_at;
}

static void flight_push(app_t *a, conn_t *c, int64_t seq) {
    flight_t *f = &c->fl[(c->fl_head + c->fl_count) % a->fl_cap];
    f->seq = seq;
    f->sent_ns = bp_time_mono_ns();
    f->wait = false;
    f->status = ST_PENDING;
    c->fl_count++;
    c->changes++;
    c->unwaited++;
    a->sent++;
}

/* --wait: a WAIT behind the changes written since the last one. */
static void wait_push(app_t *a, conn_t *c) {
    if (!a->wait_n || !c->unwaited || c->dead) return;
    if (redisAppendCommand(c->rc, "WAIT %d %d", a->wait_n, a->wait_ms) != REDIS_OK) abort();
    flight_t *f = &c->fl[(c->fl_head + c->fl_count) % a->fl_cap];
    f->seq = -1;
    f->sent_ns = bp_time_mono_ns();
    f->wait = true;
    c->fl_count++;
    c->unwaited = 0;
}

/* Appends one feed line to c's output. */
static void feed_send(app_t *a, conn_t *c) {
    size_t h;
    int t;
    int32_t occ;
    next_change(a, c, &h, &t, &occ);
    int64_t seq = c->next_seq++, ms;
    const char *at = at_now(a, &ms);
    int n = snprintf(c->out + c->out_len, FEED_LINE_MAX,
                     "{\"type\":\"beds\",\"source\":\"%s\",\"seq\":%" PRId64 ",\"at\":\"%s\","
                     "\"hospital\":\"%s\",\"beds\":{\"%s\":{\"occupied\":%" PRId32 "}}}\n",
                     c->source, seq, at, a->cfg.registry.hospitals[h].id,
                     bp_bed_type_name((bp_bed_type_t)t), occ);
    if (n <= 0 || n >= FEED_LINE_MAX) abort(); /* ids are bounded well below FEED_LINE_MAX */
    c->out_len += (size_t)n;
    flight_push(a, c, seq);
}

/* Appends the collector's EVALSHA for one change to c's hiredis buffer:
 * built by bp_apply_args_build(), exactly as bp_apply_submit() does. */
static int direct_send(app_t *a, conn_t *c) {
    size_t h;
    int t;
    int32_t occ;
    next_change(a, c, &h, &t, &occ);
    bp_change_t ch;
    bp_change_init(&ch, BP_KIND_HOSPITAL);
    int64_t ms;
    at_now(a, &ms);
    ch.seq = c->next_seq++;
    ch.at_ms = ms;
    snprintf(ch.source, sizeof ch.source, "%s", c->source);
    snprintf(ch.id, sizeof ch.id, "%s", a->cfg.registry.hospitals[h].id);
    ch.bed_fields[t] = BP_BF_OCCUPIED;
    ch.beds[t].occupied = occ;
    int64_t now = bp_time_now_ms();
    bp_actor_t actor = {ch.source, "anonymous", "127.0.0.1"};
    if (bp_apply_args_build(&a->args, &a->keys, a->sha, &ch, &a->cfg.registry.hospitals[h],
                            a->epoch_candidate, &a->cfg.settings, -1, now, &actor,
                            now - (int64_t)a->cfg.settings.audit_retention_days * 86400 * 1000, -1))
        return -1;
    if (redisAppendCommandArgv(c->rc, a->args.argc, a->args.argv, a->args.len) != REDIS_OK)
        return -1;
    flight_push(a, c, ch.seq);
    return 0;
}

/* -- I/O ------------------------------------------------------------------------- */

static void conn_dead(app_t *a, conn_t *c, const char *why) {
    if (c->dead) return;
    c->dead = true;
    if (c->changes) {
        a->lost += c->changes;
        char msg[160];
        int n = snprintf(msg, sizeof msg, "connection %d: %s with %zu lines unanswered", c->idx,
                         why, c->changes);
        note_error(a, "lost", msg, n > 0 ? (size_t)n : 0);
    }
    c->fl_count = c->changes = c->replied = 0;
    epoll_ctl(a->ep, EPOLL_CTL_DEL, c->fd, NULL);
    fprintf(stderr, "bp-driver: connection %d: %s\n", c->idx, why);
}

static void set_want_out(app_t *a, conn_t *c, bool want) {
    if (c->want_out == want || c->dead) return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0),
                             .data.u32 = (uint32_t)c->idx};
    epoll_ctl(a->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want;
}

/* Writes what c has buffered; waits for EPOLLOUT when the socket is full. */
static void conn_flush(app_t *a, conn_t *c) {
    if (c->dead) return;
    if (a->direct) {
        int done = 0;
        if (redisBufferWrite(c->rc, &done) != REDIS_OK) {
            conn_dead(a, c, c->rc->errstr[0] ? c->rc->errstr : "write failed");
            return;
        }
        set_want_out(a, c, !done);
        return;
    }
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        conn_dead(a, c, n < 0 ? strerror(errno) : "write failed");
        return;
    }
    if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
    set_want_out(a, c, c->out_len > 0);
}

static bool sending(const app_t *a) {
    return !a->stop_ns;
}

static void send_one(app_t *a, conn_t *c) {
    if (a->direct) {
        if (direct_send(a, c)) conn_dead(a, c, "cannot build the command (out of memory)");
    } else {
        feed_send(a, c);
    }
}

/* --max: fills every connection up to N in flight. */
static void top_up(app_t *a, conn_t *c) {
    if (c->dead || !sending(a)) return;
    while (c->changes < a->inflight && !c->dead)
        send_one(a, c);
    wait_push(a, c);
    conn_flush(a, c);
}

/* --rate: sends everything due by now, spread round-robin over connections
 * with room; what finds no room stays due ("behind"). */
static void pace(app_t *a, uint64_t now) {
    if (!sending(a)) return;
    /* change k is due at start + k / rate, k = 0 .. rate x duration - 1 */
    uint64_t due = (uint64_t)((double)(now - a->start_ns) * a->rate / 1e9) + 1;
    uint64_t total = (uint64_t)(a->duration * a->rate);
    if (due > total) due = total;
    if (due > a->due) a->due = due;
    bool dirty[MAX_CONNS] = {false};
    while (a->sent < a->due) {
        conn_t *c = NULL;
        for (int k = 0; k < a->conns; k++) {
            conn_t *x = &a->c[(a->rr + (size_t)k) % (size_t)a->conns];
            if (!x->dead && x->changes < a->inflight) {
                c = x;
                break;
            }
        }
        if (!c) break;
        a->rr = (size_t)(c->idx + 1) % (size_t)a->conns;
        send_one(a, c);
        dirty[c->idx] = true;
    }
    for (int k = 0; k < a->conns; k++) {
        if (!dirty[k]) continue;
        wait_push(a, &a->c[k]);
        conn_flush(a, &a->c[k]);
    }
}

/* The oldest line in flight on c got its reply: latency and seq check. */
static flight_t *flight_pop(app_t *a, conn_t *c, uint64_t now) {
    if (!c->fl_count) return NULL;
    flight_t *f = &c->fl[c->fl_head];
    c->fl_head = (c->fl_head + 1) % a->fl_cap;
    c->fl_count--;
    if (!f->wait) {
        c->changes--;
        hist_add(&a->hist, (now - f->sent_ns) / 1000);
    }
    return f;
}

static void count_ok(app_t *a, uint64_t now) {
    a->ok++;
    if (now <= (a->stop_ns ? a->stop_ns : a->end_ns)) a->ok_window++;
}

static void feed_reply(app_t *a, conn_t *c, const char *line, size_t len, uint64_t now) {
    flight_t *f = flight_pop(a, c, now);
    if (!f) {
        a->errors++;
        note_error(a, "reply with no line waiting for it", line, len);
        return;
    }
    const char *s = strstr(line, "\"seq\":");
    int64_t seq = s ? strtoll(s + 6, NULL, 10) : -1;
    if (strncmp(line, "{\"ok\":true", 10) == 0) {
        if (seq != f->seq) {
            a->mismatched++;
            note_error(a, "reply for another seq", line, len);
        }
        if (strstr(line, "\"duplicate\":true"))
            a->dup++;
        else
            count_ok(a, now);
        return;
    }
    if (strstr(line, "\"error\":\"unavailable\""))
        a->unavailable++;
    else
        a->errors++;
    note_error(a, "error reply", line, len);
}

static void feed_readable(app_t *a, conn_t *c) {
    for (;;) {
        if (c->in_len == IN_CAP) {
            a->errors++;
            note_error(a, "reply line too long", c->in, 120);
            conn_dead(a, c, "reply line too long");
            return;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            conn_dead(a, c, n == 0 ? "closed by the collector" : strerror(errno));
            return;
        }
        c->in_len += (size_t)n;
        uint64_t now = bp_time_mono_ns();
        size_t off = 0;
        for (;;) {
            char *nl = memchr(c->in + off, '\n', c->in_len - off);
            if (!nl) break;
            *nl = '\0';
            feed_reply(a, c, c->in + off, (size_t)(nl - (c->in + off)), now);
            off = (size_t)(nl - c->in) + 1;
        }
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
        if ((size_t)n < READ_CHUNK) break;
    }
    if (a->max) top_up(a, c);
}

/* What the apply script answered, as a status (errors noted). */
static uint8_t classify(app_t *a, const redisReply *r) {
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
        r->element[0]->type == REDIS_REPLY_STRING) {
        const char *what = r->element[0]->str;
        if (strcmp(what, "ok") == 0) return ST_OK;
        if (strcmp(what, "dup") == 0) return ST_DUP;
        note_error(a, "apply script answered", what, strlen(what));
        return ST_ERROR;
    }
    if (r->type == REDIS_REPLY_ERROR)
        note_error(a, "redis error", r->str, r->len);
    else
        note_error(a, "redis", "unexpected reply to EVALSHA", 27);
    return ST_ERROR;
}

static void count(app_t *a, uint8_t st, uint64_t now) {
    if (st == ST_OK)
        count_ok(a, now);
    else if (st == ST_DUP)
        a->dup++;
    else
        a->errors++;
}

static void direct_reply(app_t *a, conn_t *c, redisReply *r, uint64_t now) {
    if (!a->wait_n) {
        flight_t *f = flight_pop(a, c, now);
        if (!f) {
            a->errors++;
            note_error(a, "redis", "a reply with no command waiting for it", 38);
            return;
        }
        count(a, classify(a, r), now);
        return;
    }
    /* --wait: a change's reply is held until its WAIT answers */
    if (c->replied >= c->fl_count) {
        a->errors++;
        note_error(a, "redis", "a reply with no command waiting for it", 38);
        return;
    }
    flight_t *f = &c->fl[(c->fl_head + c->replied) % a->fl_cap];
    if (!f->wait) {
        f->status = classify(a, r);
        c->replied++;
        return;
    }
    bool confirmed = r->type == REDIS_REPLY_INTEGER && r->integer >= a->wait_n;
    if (r->type == REDIS_REPLY_ERROR) note_error(a, "WAIT", r->str, r->len);
    size_t n = c->replied + 1;
    c->replied = 0;
    while (n--) {
        flight_t *g = flight_pop(a, c, now);
        if (g->wait) continue;
        if (confirmed || g->status == ST_ERROR)
            count(a, g->status, now);
        else
            a->unavailable++;
    }
}

static void direct_readable(app_t *a, conn_t *c) {
    if (redisBufferRead(c->rc) != REDIS_OK) {
        conn_dead(a, c, c->rc->errstr[0] ? c->rc->errstr : "read failed");
        return;
    }
    uint64_t now = bp_time_mono_ns();
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(c->rc->reader, &reply) != REDIS_OK) {
            conn_dead(a, c, "unreadable reply from Redis");
            return;
        }
        if (!reply) break;
        direct_reply(a, c, reply, now);
        freeReplyObject(reply);
    }
    if (a->max) top_up(a, c);
}

/* -- setup ------------------------------------------------------------------------ */

static int tcp_connect(const char *host, int port) {
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, ps, &hints, &res) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *p = res; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, p->ai_addr, p->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* A non-blocking hiredis context, connected. NULL with a message on failure. */
static redisContext *redis_connect_nb(const char *host, int port) {
    redisContext *rc = redisConnectNonBlock(host, port);
    if (!rc || rc->err) {
        fprintf(stderr, "bp-driver: cannot connect to Redis %s:%d: %s\n", host, port,
                rc ? rc->errstr : "out of memory");
        if (rc) redisFree(rc);
        return NULL;
    }
    struct pollfd p = {.fd = rc->fd, .events = POLLOUT};
    int err = 0;
    socklen_t el = sizeof err;
    if (poll(&p, 1, CONNECT_TIMEOUT_MS) != 1 ||
        getsockopt(rc->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
        fprintf(stderr, "bp-driver: cannot connect to Redis %s:%d: %s\n", host, port,
                err ? strerror(err) : "timeout");
        redisFree(rc);
        return NULL;
    }
    int one = 1;
    setsockopt(rc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return rc;
}

/* SCRIPT LOAD of the embedded io/apply.lua (the collector's copy), on a
 * short-lived blocking connection. Also authenticates like the collector
 * when a password is configured. */
static int load_script(app_t *a) {
    struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, 0};
    redisContext *rc = redisConnectWithTimeout(a->redis_host, a->redis_port, tv);
    int rv = -1;
    redisReply *r = NULL;
    if (!rc || rc->err) {
        fprintf(stderr, "bp-driver: cannot connect to Redis %s:%d: %s\n", a->redis_host,
                a->redis_port, rc ? rc->errstr : "out of memory");
        goto out;
    }
    r = redisCommand(rc, "SCRIPT LOAD %b", bp_apply_lua, bp_apply_lua_len);
    if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
        fprintf(stderr, "bp-driver: SCRIPT LOAD failed: %s\n",
                r && r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
        goto out;
    }
    memcpy(a->sha, r->str, 40);
    a->sha[40] = '\0';
    rv = 0;
out:
    if (r) freeReplyObject(r);
    if (rc) redisFree(rc);
    return rv;
}

static void random_hex(char *out, size_t nbytes) {
    unsigned char raw[16];
    if (nbytes > sizeof raw) nbytes = sizeof raw;
    if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes) {
        uint64_t x = bp_time_mono_ns() ^ ((uint64_t)getpid() << 32);
        for (size_t i = 0; i < nbytes; i++)
            raw[i] = (unsigned char)(x >> (8 * (i % 8)));
    }
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
}

/* Bed types to rotate through per hospital (the ones it has), and, for
 * --direct-redis, the registry baseline the collector passes as ARGV[6]. */
static int prepare_registry(app_t *a) {
    const bp_registry_t *reg = &a->cfg.registry;
    size_t n = reg->n_hospitals;
    a->types = calloc(n, sizeof *a->types);
    a->n_types = calloc(n, 1);
    a->next_type = calloc(n, 1);
    if (!a->types || !a->n_types || !a->next_type) return -1;
    for (size_t i = 0; i < n; i++) {
        const bp_hospital_info_t *h = &reg->hospitals[i];
        for (int t = 0; t < BP_BED__COUNT; t++)
            if (h->beds_mask & (1u << t)) a->types[i][a->n_types[i]++] = (uint8_t)t;
        if (!a->n_types[i]) a->types[i][a->n_types[i]++] = BP_BED_MEDICAL_SURGICAL;
        a->next_type[i] = (uint8_t)(i % a->n_types[i]);
    }
    return 0;
}

static int open_conns(app_t *a) {
    const bp_registry_t *reg = &a->cfg.registry;
    a->c = calloc((size_t)a->conns, sizeof *a->c);
    if (!a->c) return -1;
    int64_t seq0 = bp_time_now_ms() * 1000;
    for (int k = 0; k < a->conns; k++) {
        conn_t *c = &a->c[k];
        c->idx = k;
        c->fd = -1;
        snprintf(c->source, sizeof c->source, "bench-%d-%d", (int)getpid(), k);
        c->next_seq = seq0;
        c->n_hosp = (reg->n_hospitals - (size_t)k + (size_t)a->conns - 1) / (size_t)a->conns;
        c->hosp = calloc(c->n_hosp, sizeof *c->hosp);
        c->fl = calloc(a->fl_cap, sizeof *c->fl);
        if (!c->hosp || !c->fl) return -1;
        for (size_t j = 0; j < c->n_hosp; j++)
            c->hosp[j] = (size_t)k + j * (size_t)a->conns;
        c->next_h = 0;
        if (a->direct) {
            c->rc = redis_connect_nb(a->redis_host, a->redis_port);
            if (!c->rc) return -1;
            c->fd = c->rc->fd;
        } else {
            c->out = malloc(a->inflight * FEED_LINE_MAX);
            c->in = malloc(IN_CAP);
            if (!c->out || !c->in) return -1;
            c->fd = tcp_connect(a->host, a->port);
            if (c->fd < 0) {
                fprintf(stderr, "bp-driver: cannot connect to the collector at %s:%d: %s\n",
                        a->host, a->port, strerror(errno));
                return -1;
            }
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)k};
        if (epoll_ctl(a->ep, EPOLL_CTL_ADD, c->fd, &ev)) return -1;
    }
    return 0;
}

static void close_conns(app_t *a) {
    if (!a->c) return;
    for (int k = 0; k < a->conns; k++) {
        conn_t *c = &a->c[k];
        if (c->rc)
            redisFree(c->rc);
        else if (c->fd >= 0)
            close(c->fd);
        free(c->hosp);
        free(c->fl);
        free(c->out);
        free(c->in);
    }
    free(a->c);
    a->c = NULL;
}

/* -- the run ------------------------------------------------------------------------- */

static size_t in_flight(const app_t *a) {
    size_t n = 0;
    for (int k = 0; k < a->conns; k++)
        n += a->c[k].fl_count;
    return n;
}

static bool all_dead(const app_t *a) {
    for (int k = 0; k < a->conns; k++)
        if (!a->c[k].dead) return false;
    return true;
}

static void progress(app_t *a, uint64_t now) {
    if (!a->progress || now - a->last_progress_ns < 1000000000ull) return;
    double dt = (double)(now - a->last_progress_ns) / 1e9;
    fprintf(stderr, "bp-driver: t=%.0fs %.0f ok/s, %zu in flight, p99 so far %" PRIu64 " us\n",
            (double)(now - a->start_ns) / 1e9, (double)(a->ok - a->progress_ok) / dt, in_flight(a),
            hist_pct(&a->hist, 99));
    a->last_progress_ns = now;
    a->progress_ok = a->ok;
}

static int run(app_t *a) {
    a->start_ns = bp_time_mono_ns();
    a->end_ns = a->start_ns + (uint64_t)(a->duration * 1e9);
    a->last_progress_ns = a->start_ns;
    if (a->max) {
        for (int k = 0; k < a->conns; k++)
            top_up(a, &a->c[k]);
    } else {
        double period_ns = 1e9 / a->rate;
        if (period_ns < 1e6) period_ns = 1e6; /* batch per 1 ms tick */
        struct itimerspec its = {0};
        its.it_interval.tv_sec = (time_t)(period_ns / 1e9);
        its.it_interval.tv_nsec = (long)fmod(period_ns, 1e9);
        its.it_value = its.it_interval;
        if (timerfd_settime(a->tfd, 0, &its, NULL)) return -1;
        pace(a, a->start_ns);
    }
    struct epoll_event evs[64];
    uint64_t drain_until = 0;
    for (;;) {
        uint64_t now = bp_time_mono_ns();
        progress(a, now);
        if (!a->stop_ns && (now >= a->end_ns || interrupted)) {
            a->stop_ns = now < a->end_ns ? now : a->end_ns;
            drain_until = now + (uint64_t)DRAIN_MS * 1000000ull;
            struct itimerspec off = {0};
            timerfd_settime(a->tfd, 0, &off, NULL);
        }
        if (all_dead(a)) break;
        if (a->stop_ns && in_flight(a) == 0) break;
        if (a->stop_ns && (now >= drain_until || interrupted > 1)) {
            for (int k = 0; k < a->conns; k++)
                conn_dead(a, &a->c[k], "no reply before the drain timeout");
            break;
        }
        uint64_t until = a->stop_ns ? drain_until : a->end_ns;
        int timeout = until > now ? (int)((until - now + 999999) / 1000000) : 0;
        if (a->progress && timeout > 1000) timeout = 1000;
        int n = epoll_wait(a->ep, evs, 64, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("bp-driver: epoll_wait");
            return -1;
        }
        for (int i = 0; i < n; i++) {
            uint32_t tag = evs[i].data.u32;
            if (tag == TIMER_TAG) {
                uint64_t ticks;
                if (read(a->tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN) return -1;
                pace(a, bp_time_mono_ns());
                continue;
            }
            conn_t *c = &a->c[tag];
            if (c->dead) continue;
            if (evs[i].events & EPOLLOUT) conn_flush(a, c);
            if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                if (a->direct)
                    direct_readable(a, c);
                else
                    feed_readable(a, c);
            }
        }
    }
    return 0;
}

/* -- report ----------------------------------------------------------------------------- */

static void report(app_t *a) {
    double dur = (double)((a->stop_ns ? a->stop_ns : bp_time_mono_ns()) - a->start_ns) / 1e9;
    double rate = dur > 0 ? (double)a->ok_window / dur : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    const char *mode = a->direct ? "direct" : a->max ? "max" : "paced";
    uint64_t behind = a->due > a->sent ? a->due - a->sent : 0;
    uint64_t p50 = hist_pct(&a->hist, 50), p90 = hist_pct(&a->hist, 90),
             p99 = hist_pct(&a->hist, 99), p999 = hist_pct(&a->hist, 99.9);
    FILE *human = a->json ? stderr : stdout;
    fprintf(human,
            "bp-driver %s%s -> %s: %d conns x %zu in flight%s, %.2f s\n"
            "  sent %" PRIu64 ", ok %" PRIu64 ", duplicate %" PRIu64 ", errors %" PRIu64
            ", unavailable %" PRIu64 ", lost %" PRIu64 ", seq mismatches %" PRIu64 "\n"
            "  accepted %.0f changes/s\n"
            "  ack latency us: p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64 "  p99.9 %" PRIu64
            "  max %" PRIu64 "\n"
            "  driver CPU %.2f s (%.0f%% of one core)\n",
            mode, a->direct ? (a->max ? " (max)" : " (paced)") : "",
            a->direct ? "redis" : "collector", a->conns, a->inflight,
            a->wait_n ? ", WAIT after each write" : "", dur, a->sent, a->ok, a->dup, a->errors,
            a->unavailable, a->lost, a->mismatched, rate, p50, p90, p99, p999, a->hist.max, cpu,
            dur > 0 ? 100 * cpu / dur : 0);
    if (!a->max && a->rate > 0)
        fprintf(human, "  target %.0f/s; %" PRIu64 " changes fell due but found no room (behind)\n",
                a->rate, behind);
    if (a->first_error[0]) fprintf(human, "  first problem: %s\n", a->first_error);
    if (a->json) {
        printf("{\"mode\":\"%s\",\"sent\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"dup\":%" PRIu64
               ",\"errors\":%" PRIu64 ",\"unavailable\":%" PRIu64 ",\"duration_s\":%.3f,"
               "\"rate\":%.1f,\"ack_us\":{\"p50\":%" PRIu64 ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64
               ",\"p999\":%" PRIu64 ",\"max\":%" PRIu64 "},\"pacing\":\"%s\",\"target_rate\":",
               mode, a->sent, a->ok, a->dup, a->errors, a->unavailable, dur, rate, p50, p90, p99,
               p999, a->hist.max, a->max ? "max" : "paced");
        if (a->max)
            printf("null");
        else
            printf("%.1f", a->rate);
        printf(",\"behind\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"seq_mismatches\":%" PRIu64
               ",\"conns\":%d,\"inflight\":%zu,\"wait\":%d,\"driver_cpu_s\":%.3f}\n",
               behind, a->lost, a->mismatched, a->conns, a->inflight, a->wait_n, cpu);
    }
    fflush(stdout);
}

/* -- options ------------------------------------------------------------------------------ */

static void usage(void) {
    fprintf(
        stderr,
        "usage: bp-driver (--rate R | --max) [--duration S] [--conns K] [--inflight N] [--json]\n"
        "                 [--host H] [--port P | --direct-redis HOST:PORT [--wait N]] "
        "[--progress]\n"
        "                 [--settings FILE]\n"
        "Pushes `beds` changes (one bed type's occupied each, round-robin over the registry's\n"
        "hospitals) into the collector, or with --direct-redis into Redis with the collector's\n"
        "own EVALSHA of io/apply.lua, and reports accepted changes/s and ack latency.\n"
        "  --rate R        evenly spaced, R changes/s in total (timerfd, <= 1 ms ticks)\n"
        "  --max           as fast as possible: N lines in flight on each connection\n"
        "  --duration S    seconds to send (default 10); the last replies are awaited\n"
        "  --conns K       connections (default 1; at most one per hospital)\n"
        "  --inflight N    lines in flight per connection (default %d paced, %d max)\n"
        "  --host/--port   the collector (default collector.host/collector.port settings)\n"
        "  --direct-redis  drive Redis at HOST:PORT directly (keys under redis.prefix)\n"
        "  --wait N        with --direct-redis: WAIT N after each write of changes, as the\n"
        "                  collector does with redis.min_replicas_ack N (--wait-timeout MS, 1000)\n"
        "  --json          one JSON line on stdout (the summary goes to stderr)\n"
        "  --progress      a line per second on stderr\n"
        "Registry and prefix come from the settings (config/settings.json from the\n"
        "working directory, --settings FILE, BP_* variables), as for every program.\n"
        "Exit status: 0 all accepted; 1 error, unavailable, lost or mismatched replies;\n"
        "2 bad arguments; 3 configuration or connection failure.\n",
        DEFAULT_INFLIGHT_PACED, DEFAULT_INFLIGHT_MAX);
}

static int parse_num(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

static int parse_args(app_t *a, int argc, char **argv) {
    double inflight = 0, conns = 1, port = -1;
    a->duration = 10;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage();
            exit(0);
        } else if (strcmp(o, "--max") == 0) {
            a->max = true;
            continue;
        } else if (strcmp(o, "--json") == 0) {
            a->json = true;
            continue;
        } else if (strcmp(o, "--progress") == 0) {
            a->progress = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "bp-driver: %s needs a value\n", o);
            return -1;
        }
        i++;
        if (strcmp(o, "--settings") == 0 || strcmp(o, "-c") == 0) {
            /* read by bp_config_load */
        } else if (strcmp(o, "--host") == 0) {
            a->host = v;
        } else if (strcmp(o, "--port") == 0) {
            bad = parse_num(v, 1, 65535, &port);
        } else if (strcmp(o, "--rate") == 0) {
            bad = parse_num(v, 0.001, MAX_RATE, &a->rate);
        } else if (strcmp(o, "--duration") == 0) {
            bad = parse_num(v, 0.001, 1e7, &a->duration);
        } else if (strcmp(o, "--conns") == 0) {
            bad = parse_num(v, 1, MAX_CONNS, &conns);
        } else if (strcmp(o, "--inflight") == 0) {
            bad = parse_num(v, 1, MAX_INFLIGHT, &inflight);
        } else if (strcmp(o, "--wait") == 0) {
            double w;
            bad = parse_num(v, 1, 16, &w);
            a->wait_n = (int)w;
        } else if (strcmp(o, "--wait-timeout") == 0) {
            double w;
            bad = parse_num(v, 1, 60000, &w);
            a->wait_ms = (int)w;
        } else if (strcmp(o, "--direct-redis") == 0) {
            const char *colon = strrchr(v, ':');
            double rp;
            if (!colon || colon == v || (size_t)(colon - v) >= sizeof a->redis_host ||
                parse_num(colon + 1, 1, 65535, &rp)) {
                bad = 1;
            } else {
                memcpy(a->redis_host, v, (size_t)(colon - v));
                a->redis_host[colon - v] = '\0';
                a->redis_port = (int)rp;
                a->direct = true;
            }
        } else {
            fprintf(stderr, "bp-driver: unknown argument \"%s\"\n", o);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "bp-driver: bad value \"%s\" for %s\n", v, o);
            return -1;
        }
    }
    if (a->max == (a->rate > 0)) {
        fprintf(stderr, "bp-driver: give exactly one of --rate R and --max\n");
        return -1;
    }
    if (a->wait_n && !a->direct) {
        fprintf(stderr, "bp-driver: --wait needs --direct-redis (the collector waits by itself: "
                        "BP_REDIS_MIN_REPLICAS_ACK)\n");
        return -1;
    }
    if (!a->wait_ms) a->wait_ms = 1000;
    a->conns = (int)conns;
    a->inflight = inflight > 0 ? (size_t)inflight
                  : a->max     ? DEFAULT_INFLIGHT_MAX
                               : DEFAULT_INFLIGHT_PACED;
    /* room for a WAIT behind every change at worst */
    a->fl_cap = a->wait_n ? 2 * a->inflight + 2 : a->inflight;
    a->port = (int)port;
    return 0;
}

int main(int argc, char **argv) {
    static app_t app;
    app_t *a = &app;
    int rv = 3;
    a->ep = a->tfd = -1;
    if (parse_args(a, argc, argv)) {
        usage();
        return 2;
    }
    if (bp_program_start("driver", &a->cfg, argc, argv)) return 3;
    if (!a->host) a->host = a->cfg.settings.collector_host;
    if (a->port < 0) a->port = a->cfg.settings.collector_port;
    if (a->cfg.registry.n_hospitals == 0 || (size_t)a->conns > a->cfg.registry.n_hospitals) {
        fprintf(stderr, "bp-driver: --conns must be at most the number of hospitals (%zu)\n",
                a->cfg.registry.n_hospitals);
        rv = 2;
        goto out;
    }
    bp_keys_init(&a->keys, a->cfg.settings.redis_prefix);
    bp_apply_args_init(&a->args);
    random_hex(a->epoch_candidate, 16);
    a->rng = (uint32_t)(bp_time_now_ms() ^ getpid()) | 1u;
    if (prepare_registry(a)) {
        fprintf(stderr, "bp-driver: out of memory\n");
        goto out;
    }
    if (a->direct && load_script(a)) goto out;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    a->ep = epoll_create1(EPOLL_CLOEXEC);
    a->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event tev = {.events = EPOLLIN, .data.u32 = TIMER_TAG};
    if (a->ep < 0 || a->tfd < 0 || epoll_ctl(a->ep, EPOLL_CTL_ADD, a->tfd, &tev)) {
        perror("bp-driver: epoll/timerfd");
        goto out;
    }
    if (open_conns(a)) goto out;
    if (run(a)) goto out;
    report(a);
    rv = a->errors || a->unavailable || a->lost || a->mismatched ? 1 : 0;
out:
    close_conns(a);
    if (a->tfd >= 0) close(a->tfd);
    if (a->ep >= 0) close(a->ep);
    free(a->types);
    free(a->n_types);
    free(a->next_type);
    bp_apply_args_free(&a->args);
    bp_config_free(&a->cfg);
    return rv;
}
