/*
 * bp-loadgen: thousands of BedPulse dashboards from one process.
 *
 * Each simulated dashboard is one WebSocket connection to /ws speaking the
 * live feed (docs/protocol.md section 2): hello, welcome, snapshot, then
 * events. The tool checks that every client sees consecutive offsets (no
 * loss, no duplicates), measures each event's latency from its data.at (the
 * feed's send time) to its arrival, and can drop every connection at once
 * and reconnect them all with resume (--storm) to time the recovery.
 *
 * It is one thread on epoll with a hand-written RFC 6455 client, because a
 * client library per connection would cost more than the server under test:
 * at 10,000 clients and 100 events/s it reads a million events a second.
 * Per client it keeps a few hundred bytes: the frame header in progress, the
 * first HEAD_MAX bytes of the current message (enough for the type, epoch and
 * offset of a welcome or snapshot), and a streaming scanner that picks
 * "offset" and "at" out of events messages with memmem as bytes arrive.
 * Snapshots are never buffered; their bodies are skipped.
 *
 * For soak runs (bench/soak) the steady phase can churn and hold slow
 * readers: with --churn S every client leaves after a lifetime drawn from
 * an exponential distribution of mean S seconds (half with a close frame,
 * half by dropping the socket) and comes back 0.2-2 s later, two times in
 * three resuming where it was, else as a new page; a client the server
 * closes comes back the same way. With --slow P, P % of the clients read at
 * most --slow-rate bytes a second (each its own rate within 0.5-1.5 times
 * that; a quarter of it every 250 ms, the socket out of epoll in between,
 * with a small receive buffer), so the server has to bound what it holds
 * for them (they churn like the others). Loss and duplicates are still
 * checked across every resume.
 */
#include "bp_hist.h"
#include "bp_time.h"
#include "bp_ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE       (256 * 1024) /* one read buffer shared by all clients */
#define HEAD_MAX        256          /* first bytes of a message kept for its type/epoch/offset */
#define EPOCH_MAX       64
#define TAIL_MAX        16 /* scanner carry-over: longest key (9) - 1, rounded up */
#define BIND_MAX        256
#define EPOLL_BATCH     1024
#define SETTLE_EXTRA_S  30 /* after the ramp: how long to wait for the last snapshots */
#define STORM_TIMEOUT_S 30 /* give up on the storm after this long */
#define DRAIN_TIMEOUT_S 5  /* at the end: time for clients to reach the last offset seen */
#define DRAIN_MIN_NS    1000000000ull /* after a storm: watch resumed clients for at least 1 s */
#define ISO_LEN         24            /* "2026-11-23T18:10:30.123Z" */
#define SLOW_PERIOD_NS  250000000ull  /* a slow reader reads a quarter of its rate this often */
#define SLOW_RCVBUF     16384         /* its socket's receive buffer (no autotuning) */
#define TEND_NS         10000000ull   /* churn and slow readers are looked after this often */

/* -- types ----------------------------------------------------------------------------- */

typedef enum { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSED } cstate_t;

/* What the message being received is, from its first bytes. */
typedef enum { M_NONE, M_HEAD, M_WELCOME, M_SNAPSHOT, M_EVENTS, M_TICK, M_OTHER } mkind_t;

/* The events scanner: "offset":<digits> then "at":"<24 chars>", repeated. */
typedef enum { S_OFFSET_KEY, S_OFFSET_NUM, S_AT_KEY, S_AT_OPEN, S_AT_VAL } scan_t;

typedef enum { P_RAMP, P_STEADY, P_STORM, P_DRAIN, P__COUNT } phase_t;

typedef struct {
    int fd;
    uint8_t state;    /* cstate_t */
    uint8_t kind;     /* mkind_t of the data message in progress */
    uint8_t op;       /* opcode of the frame in progress */
    uint8_t sc;       /* scan_t */
    uint8_t hdr_len;  /* bytes of an incomplete frame header in hdr */
    uint8_t ctl_len;  /* control payload so far */
    uint8_t tail_len; /* scanner carry-over in tail */
    uint8_t at_len;
    uint8_t ndig;
    bool in_frame; /* a header was read; remaining payload bytes follow */
    bool frame_fin;
    bool msg_open;                                 /* a data message started and has not ended */
    bool hs_first, hs_status, hs_accept, hs_proto; /* handshake progress */
    bool has_last; /* last is meaningful (a snapshot or resume was taken) */
    bool ready;    /* snapshot finished or resume welcomed in this connection */
    bool was_open; /* the handshake succeeded at least once */
    bool slow;     /* reads at most G.slow_rate x (0.5 .. 1.5) bytes a second (--slow) */
    bool paused;   /* slow: out of epoll until next_ns */
    uint16_t head_len;
    uint64_t remaining; /* payload bytes left in the frame */
    uint64_t last;      /* last offset applied */
    uint64_t num;       /* offset digits scanned so far */
    uint64_t leave_ns;  /* churn: when it leaves (0: not drawn yet) */
    uint64_t rejoin_ns; /* churn: when a client that left comes back (0: it does not) */
    uint64_t next_ns;   /* slow: when it reads again */
    uint8_t hdr[BP_WS_HEADER_MAX];
    char tail[TAIL_MAX];
    char at[ISO_LEN];
    uint8_t ctl[BP_WS_CONTROL_MAX];
    char head[HEAD_MAX];
    char epoch[EPOCH_MAX + 1];
} client_t;

typedef struct {
    uint64_t events, lost, gaps, dups;
} counts_t;

typedef struct {
    /* options */
    char host[64], path[128];
    struct sockaddr_in dst;
    int clients;
    double ramp, duration;
    bool storm, json, quiet;
    struct in_addr bind[BIND_MAX];
    int n_bind;
    double churn;     /* mean lifetime of a connection in the steady phase, s (0: off) */
    double slow_pct;  /* share of slow readers, % */
    double slow_rate; /* their read rate, bytes/s */

    /* state */
    int ep;
    client_t *c;
    uint64_t seed;     /* masking keys (changes) */
    uint64_t key_seed; /* handshake keys (fixed per run) */
    uint32_t gen;      /* bumped per storm: a new handshake key per connection */
    phase_t phase;
    uint64_t t0_ns, phase_ns, steady_ns, steady_end_ns, storm_ns, drain_ns;
    int64_t now_us; /* CLOCK_REALTIME of the last read, in µs */
    int started, open, ready, gone_in_ramp;
    uint64_t max_seen;
    uint64_t drain_target;

    /* results */
    counts_t ph[P__COUNT];
    bp_hist_t *lat[P__COUNT];
    bp_hist_t *lat_iv; /* since the last progress line */
    uint64_t connected, connect_errors, closed_by_server, protocol_errors, write_errors;
    uint64_t handshake_errors, snapshots, skips, ticks, unknown_msgs, no_at, negative_lat;
    uint64_t resume_mismatch, snapshot_behind, events_before_snapshot, stalled;
    uint64_t close_codes[6]; /* 1000-1999 | 1006 EOF | 4001 | 4008 | 4029 | other */
    uint64_t leaves_clean, leaves_abrupt, rejoins, rejoins_fresh; /* churn */
    int slow_clients;
    int last_errno;
    double connect_s;

    /* storm */
    uint32_t *storm_ms;  /* per client: ms from storm start to done, UINT32_MAX if not */
    uint32_t *storm_tcp; /* ... to the TCP connection (where the time goes) */
    uint32_t *storm_101; /* ... to the 101 answer */
    int storm_done, storm_failed, storm_resumed, storm_snap;
    uint64_t storm_reasons[4]; /* new | epoch | too_old | other */
} lg_t;

static lg_t G;
static uint8_t rbuf[RBUF_SIZE];
static volatile sig_atomic_t interrupted;

static const char *phase_name[P__COUNT] = {"ramp", "steady", "storm", "drain"};

/* -- small helpers --------------------------------------------------------------------- */

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t real_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t rnd(void) {
    /* xorshift64*: masking keys need not be secret here, only varied */
    G.seed ^= G.seed >> 12;
    G.seed ^= G.seed << 25;
    G.seed ^= G.seed >> 27;
    return G.seed * 0x2545F4914F6CDD1Dull;
}

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

/* Finds "key":"value" in buf; returns the value and its length, or NULL. */
static const char *json_str(const char *buf, size_t len, const char *key, size_t *vlen) {
    char pat[40];
    int n = snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *m = memmem(buf, len, pat, (size_t)n);
    if (!m) return NULL;
    const char *v = m + n, *end = buf + len;
    const char *q = memchr(v, '"', (size_t)(end - v));
    if (!q) return NULL;
    *vlen = (size_t)(q - v);
    return v;
}

/* Finds "key":<digits> in buf. Returns 0 and sets *out, or -1. */
static int json_u64(const char *buf, size_t len, const char *key, uint64_t *out) {
    char pat[40];
    int n = snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *m = memmem(buf, len, pat, (size_t)n);
    if (!m) return -1;
    const char *p = m + n, *end = buf + len;
    if (p >= end || *p < '0' || *p > '9') return -1;
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9')
        v = v * 10 + (uint64_t)(*p++ - '0');
    if (p == end) return -1; /* cut off by HEAD_MAX: the number may be longer */
    *out = v;
    return 0;
}

static bool str_is(const char *s, size_t n, const char *lit) {
    return s && strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Parses a "YYYY-MM-DDTHH:MM:SS.mmmZ" time into ms. The date and hour part
 * is cached: at a million events a second nearly all share it. Other
 * RFC 3339 forms go through bp_time_parse. Returns 0 or -1. */
static int parse_at(const char *s, size_t n, int64_t *ms) {
    static char key[13];
    static int64_t base = -1;
    if (n == ISO_LEN && s[13] == ':' && s[16] == ':' && s[19] == '.' && s[23] == 'Z') {
        if (base < 0 || memcmp(key, s, 13) != 0) {
            char buf[ISO_LEN];
            memcpy(buf, s, 13);
            memcpy(buf + 13, ":00:00.000Z", 11);
            if (bp_time_parse(buf, ISO_LEN, &base)) return -1;
            memcpy(key, s, 13);
        }
        int v[7] = {s[14], s[15], s[17], s[18], s[20], s[21], s[22]};
        for (int i = 0; i < 7; i++) {
            if (v[i] < '0' || v[i] > '9') return -1;
            v[i] -= '0';
        }
        *ms = base + (v[0] * 10 + v[1]) * 60000 + (v[2] * 10 + v[3]) * 1000 + v[4] * 100 +
              v[5] * 10 + v[6];
        return 0;
    }
    return bp_time_parse(s, n, ms);
}

/* -- per-event bookkeeping ----------------------------------------------------------------- */

static void on_offset(client_t *c, uint64_t off) {
    counts_t *k = &G.ph[G.phase];
    k->events++;
    if (off > G.max_seen) G.max_seen = off;
    if (!c->has_last) {
        /* the server sends events only after a snapshot or a resume welcome */
        G.events_before_snapshot++;
        c->has_last = true;
        c->last = off;
    } else if (off == c->last + 1) {
        c->last = off;
    } else if (off <= c->last) {
        k->dups++;
    } else {
        k->lost += off - c->last - 1;
        k->gaps++;
        c->last = off;
    }
}

/* The latency of one event. data.at has millisecond resolution and is the
 * driver's clock truncated to the ms, so each latency is an upper bound:
 * the true figure is 0-1 ms less. */
static void on_at(client_t *c) {
    int64_t at_ms;
    if (parse_at(c->at, c->at_len, &at_ms)) {
        G.no_at++;
        return;
    }
    int64_t lat = G.now_us - at_ms * 1000;
    if (lat < 0) {
        G.negative_lat++;
        lat = 0;
    }
    bp_hist_record(G.lat[G.phase], (uint64_t)lat);
    bp_hist_record(G.lat_iv, (uint64_t)lat);
}

/* Runs the events scanner over b[0..n). Returns the bytes consumed; the
 * rest (fewer than TAIL_MAX: a key that may be cut at the end) must be
 * presented again in front of the next bytes. Numbers and times are
 * accumulated in the client, so they may be cut anywhere. */
static size_t scan_run(client_t *c, const char *b, size_t n) {
    static const char k_off[] = "\"offset\":", k_at[] = "\"at\":";
    size_t i = 0;
    while (i < n) {
        switch (c->sc) {
        case S_OFFSET_KEY: {
            const char *m = memmem(b + i, n - i, k_off, sizeof k_off - 1);
            if (!m) {
                size_t keep = n - i < sizeof k_off - 2 ? n - i : sizeof k_off - 2;
                return n - keep;
            }
            i = (size_t)(m - b) + sizeof k_off - 1;
            c->sc = S_OFFSET_NUM;
            c->num = 0;
            c->ndig = 0;
            break;
        }
        case S_OFFSET_NUM:
            while (i < n && b[i] >= '0' && b[i] <= '9' && c->ndig < 20) {
                c->num = c->num * 10 + (uint64_t)(b[i++] - '0');
                c->ndig++;
            }
            if (i == n) return n;
            if (c->ndig == 0) {
                G.protocol_errors++;
                c->sc = S_OFFSET_KEY;
                break;
            }
            on_offset(c, c->num);
            c->sc = S_AT_KEY;
            break;
        case S_AT_KEY: {
            const char *m = memmem(b + i, n - i, k_at, sizeof k_at - 1);
            if (!m) {
                size_t keep = n - i < sizeof k_at - 2 ? n - i : sizeof k_at - 2;
                return n - keep;
            }
            i = (size_t)(m - b) + sizeof k_at - 1;
            c->sc = S_AT_OPEN;
            break;
        }
        case S_AT_OPEN:
            if (b[i] == '"') {
                i++;
                c->at_len = 0;
                c->sc = S_AT_VAL;
            } else {
                G.no_at++; /* "at":null */
                c->sc = S_OFFSET_KEY;
            }
            break;
        case S_AT_VAL:
            while (i < n && c->at_len < ISO_LEN && b[i] != '"')
                c->at[c->at_len++] = b[i++];
            if (i == n && c->at_len < ISO_LEN) return n;
            on_at(c);
            c->sc = S_OFFSET_KEY;
            break;
        }
    }
    return n;
}

/* Feeds n payload bytes of an events message to the scanner. */
static void scan(client_t *c, const char *p, size_t n) {
    if (c->tail_len) {
        char tmp[2 * TAIL_MAX];
        size_t k = n < TAIL_MAX ? n : TAIL_MAX;
        size_t old = c->tail_len;
        memcpy(tmp, c->tail, old);
        memcpy(tmp + old, p, k);
        size_t used = scan_run(c, tmp, old + k);
        if (k == n) {
            c->tail_len = (uint8_t)(old + k - used);
            memmove(c->tail, tmp + used, c->tail_len);
            return;
        }
        /* k = TAIL_MAX exceeds any carry-over, so used > old: go on in p */
        c->tail_len = 0;
        p += used - old;
        n -= used - old;
    }
    size_t used = scan_run(c, p, n);
    c->tail_len = (uint8_t)(n - used);
    memcpy(c->tail, p + used, c->tail_len);
}

/* -- connection lifecycle -----------------------------------------------------------------------
 */

static void client_key(int idx, char out[BP_WS_KEY_LEN + 1]) {
    uint8_t nonce[16];
    uint64_t a = G.key_seed ^ ((uint64_t)idx * 0x9E3779B97F4A7C15ull);
    uint64_t b = ((uint64_t)G.gen << 32) ^ (uint64_t)idx ^ 0xB5AD4ECEDA1CE2A9ull;
    memcpy(nonce, &a, 8);
    memcpy(nonce + 8, &b, 8);
    bp_ws_base64(nonce, sizeof nonce, out);
}

/* Closes our side and forgets the connection's parse state; offsets and
 * epoch stay for a later resume. */
static void client_reset(client_t *c) {
    if (c->fd >= 0) close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
    if (c->state == C_OPEN || c->state == C_HANDSHAKE) G.open--;
    c->state = C_CLOSED;
    c->kind = M_NONE;
    c->sc = S_OFFSET_KEY;
    c->hdr_len = c->ctl_len = c->tail_len = c->at_len = 0;
    c->in_frame = c->msg_open = false;
    c->hs_first = c->hs_status = c->hs_accept = c->hs_proto = false;
    c->head_len = 0;
    c->remaining = 0;
}

/* A client lost for good (in this phase): count it where it belongs. */
static void client_fail(client_t *c, int idx) {
    bool was_ready = c->ready;
    client_reset(c);
    if (G.phase == P_STORM && G.storm_ms[idx] == UINT32_MAX) G.storm_failed++;
    /* ready + gone_in_ramp counts the clients whose start is settled */
    if (G.phase == P_RAMP) G.gone_in_ramp++;
    if (was_ready) {
        c->ready = false;
        G.ready--;
    }
    /* churning: whatever ended it, it comes back */
    if (G.churn > 0 && G.phase == P_STEADY)
        c->rejoin_ns = mono_ns() + 1000000000ull + rnd() % 1000000000ull;
}

static uint32_t storm_elapsed_ms(void) {
    return (uint32_t)((mono_ns() - G.storm_ns) / 1000000u);
}

static void mark_ready(client_t *c, int idx) {
    if (c->ready) return;
    c->ready = true;
    G.ready++;
    if (G.phase == P_STORM && G.storm_ms[idx] == UINT32_MAX) {
        G.storm_ms[idx] = storm_elapsed_ms();
        G.storm_done++;
    }
}

static int send_bytes(client_t *c, const void *buf, size_t len) {
    ssize_t w = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w == (ssize_t)len) return 0;
    G.write_errors++;
    return -1;
}

/* Sends one masked frame with a payload of at most 256 bytes. */
static int send_frame(client_t *c, uint8_t op, const void *payload, size_t len) {
    uint8_t buf[BP_WS_HEADER_MAX + 256];
    uint64_t r = rnd();
    uint8_t mask[4];
    memcpy(mask, &r, 4);
    if (len > 256) len = 256;
    size_t h = bp_ws_header(buf, op, true, len, mask);
    memcpy(buf + h, payload, len);
    bp_ws_mask(buf + h, len, mask, 0);
    return send_bytes(c, buf, h + len);
}

static int send_hello(client_t *c) {
    char msg[256];
    int n;
    if (c->has_last && c->epoch[0])
        n = snprintf(msg, sizeof msg,
                     "{\"type\":\"hello\",\"resume\":{\"epoch\":\"%s\",\"offset\":%llu}}", c->epoch,
                     (unsigned long long)c->last);
    else
        n = snprintf(msg, sizeof msg, "{\"type\":\"hello\"}");
    return send_frame(c, BP_WS_TEXT, msg, (size_t)n);
}

static void start_client(int idx) {
    client_t *c = &G.c[idx];
    client_reset(c);
    c->state = C_IDLE;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (c->slow) {
        int rcv = SLOW_RCVBUF;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    }
    c->paused = false;
    if (G.n_bind) {
        /* pick the port at connect() time, per destination, not at bind() */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = G.bind[idx % G.n_bind]};
        if (bind(fd, (struct sockaddr *)&src, sizeof src)) {
            close(fd);
            goto fail;
        }
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)idx};
    if (epoll_ctl(G.ep, EPOLL_CTL_ADD, fd, &ev)) goto fail;
    if (connect(fd, (struct sockaddr *)&G.dst, sizeof G.dst) && errno != EINPROGRESS) goto fail;
    return;
fail:
    G.last_errno = errno;
    G.connect_errors++;
    client_fail(c, idx);
}

static void on_connected(client_t *c, int idx) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
        G.last_errno = err ? err : errno;
        G.connect_errors++;
        client_fail(c, idx);
        return;
    }
    char key[BP_WS_KEY_LEN + 1], req[512];
    client_key(idx, key);
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: bedpulse.v1\r\n\r\n",
                     G.path, G.host, key);
    if (send_bytes(c, req, (size_t)n)) {
        client_fail(c, idx);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)idx};
    epoll_ctl(G.ep, EPOLL_CTL_MOD, c->fd, &ev);
    if (G.phase == P_STORM) G.storm_tcp[idx] = storm_elapsed_ms();
    c->state = C_HANDSHAKE;
    c->hs_first = true;
    G.open++;
}

/* -- handshake ----------------------------------------------------------------------------------
 */

static void trim(const char **s, size_t *n) {
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
        (*n)--;
}

/* One response line (without its \n). Returns 1 at the blank line that ends
 * the headers, 0 for more, -1 when the upgrade failed. */
static int http_line(client_t *c, int idx) {
    const char *s = c->head;
    size_t n = c->head_len;
    if (n && s[n - 1] == '\r') n--;
    if (c->hs_first) {
        c->hs_first = false;
        c->hs_status = n >= 12 && memcmp(s, "HTTP/1.1 101", 12) == 0;
        if (!c->hs_status && G.handshake_errors < 10)
            fprintf(stderr, "bp-loadgen: client %d: handshake answered \"%.*s\"\n", idx,
                    (int)(n > 80 ? 80 : n), s);
        return c->hs_status ? 0 : -1;
    }
    if (n == 0) {
        if (!(c->hs_accept && c->hs_proto) && G.handshake_errors < 10)
            fprintf(stderr, "bp-loadgen: client %d: 101 without the %s\n", idx,
                    c->hs_accept ? "bedpulse.v1 protocol" : "right Sec-WebSocket-Accept");
        return c->hs_accept && c->hs_proto ? 1 : -1;
    }
    const char *colon = memchr(s, ':', n);
    if (!colon) return 0;
    size_t nlen = (size_t)(colon - s);
    const char *v = colon + 1;
    size_t vlen = n - nlen - 1;
    trim(&v, &vlen);
    if (nlen == 20 && strncasecmp(s, "sec-websocket-accept", 20) == 0) {
        char key[BP_WS_KEY_LEN + 1], want[BP_WS_ACCEPT_LEN + 1];
        client_key(idx, key);
        bp_ws_accept(key, BP_WS_KEY_LEN, want);
        c->hs_accept = vlen == BP_WS_ACCEPT_LEN && memcmp(v, want, vlen) == 0;
    } else if (nlen == 22 && strncasecmp(s, "sec-websocket-protocol", 22) == 0) {
        c->hs_proto = str_is(v, vlen, "bedpulse.v1");
    }
    return 0;
}

/* Feeds response bytes. Returns 1 at the end of the headers with *used set
 * to the bytes up to it (the rest are WebSocket frames), 0 when more are
 * needed, -1 when the upgrade failed. */
static int http_feed(client_t *c, int idx, const uint8_t *p, size_t n, size_t *used) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') {
            if (c->head_len < HEAD_MAX) c->head[c->head_len++] = (char)p[i];
            continue; /* a longer header line is one we do not need */
        }
        int rc = http_line(c, idx);
        c->head_len = 0;
        if (rc != 0) {
            *used = i + 1;
            return rc;
        }
    }
    *used = n;
    return 0;
}

/* -- messages ------------------------------------------------------------------------------------
 */

static void classify(client_t *c, bool final) {
    size_t n;
    const char *t = json_str(c->head, c->head_len, "type", &n);
    if (!t) {
        if (final || c->head_len == HEAD_MAX) c->kind = M_OTHER;
        return;
    }
    if (str_is(t, n, "events"))
        c->kind = M_EVENTS;
    else if (str_is(t, n, "snapshot"))
        c->kind = M_SNAPSHOT;
    else if (str_is(t, n, "welcome"))
        c->kind = M_WELCOME;
    else if (str_is(t, n, "tick"))
        c->kind = M_TICK;
    else
        c->kind = M_OTHER;
}

static void head_append(client_t *c, const uint8_t *p, size_t n) {
    size_t room = (size_t)HEAD_MAX - c->head_len, take = room < n ? room : n;
    memcpy(c->head + c->head_len, p, take);
    c->head_len = (uint16_t)(c->head_len + take);
}

static void msg_data(client_t *c, const uint8_t *p, size_t n) {
    if (c->kind == M_EVENTS) {
        scan(c, (const char *)p, n);
        return;
    }
    if (c->kind != M_HEAD) {
        head_append(c, p, n); /* welcome, snapshot, ...: only the head matters */
        return;
    }
    size_t before = c->head_len;
    head_append(c, p, n);
    classify(c, false);
    if (c->kind == M_EVENTS) {
        /* the head was only for classifying: scan it, then the rest of p */
        size_t used = c->head_len - before;
        scan(c, c->head, c->head_len);
        scan(c, (const char *)p + used, n - used);
    }
}

static void on_welcome(client_t *c, int idx) {
    size_t n;
    const char *mode = json_str(c->head, c->head_len, "mode", &n);
    uint64_t off = 0;
    bool has_off = json_u64(c->head, c->head_len, "offset", &off) == 0;
    if (str_is(mode, n, "resume")) {
        if (!has_off || off != c->last) G.resume_mismatch++;
        if (G.phase == P_STORM && G.storm_ms[idx] == UINT32_MAX) G.storm_resumed++;
        mark_ready(c, idx);
    } else if (str_is(mode, n, "snapshot")) {
        size_t rn;
        const char *reason = json_str(c->head, c->head_len, "reason", &rn);
        if (str_is(reason, rn, "lagging")) G.skips++;
        if (G.phase == P_STORM && G.storm_ms[idx] == UINT32_MAX) {
            G.storm_snap++;
            G.storm_reasons[str_is(reason, rn, "new")       ? 0
                            : str_is(reason, rn, "epoch")   ? 1
                            : str_is(reason, rn, "too_old") ? 2
                                                            : 3]++;
        }
    } else {
        G.unknown_msgs++;
    }
}

static void on_snapshot(client_t *c, int idx) {
    size_t n;
    const char *e = json_str(c->head, c->head_len, "epoch", &n);
    uint64_t off;
    if (!e || n > EPOCH_MAX || json_u64(c->head, c->head_len, "offset", &off)) {
        G.protocol_errors++;
        return;
    }
    memcpy(c->epoch, e, n);
    c->epoch[n] = '\0';
    if (c->has_last && off < c->last) G.snapshot_behind++;
    c->last = off;
    c->has_last = true;
    if (off > G.max_seen) G.max_seen = off;
    G.snapshots++;
    mark_ready(c, idx);
}

static void msg_end(client_t *c, int idx) {
    if (c->kind == M_HEAD) {
        classify(c, true);
        if (c->kind == M_EVENTS) scan(c, c->head, c->head_len);
    }
    switch (c->kind) {
    case M_WELCOME: on_welcome(c, idx); break;
    case M_SNAPSHOT: on_snapshot(c, idx); break;
    case M_EVENTS:
        if (c->sc != S_OFFSET_KEY) G.protocol_errors++; /* an event cut short */
        c->sc = S_OFFSET_KEY;
        c->tail_len = 0;
        break;
    case M_TICK: G.ticks++; break;
    default: G.unknown_msgs++; break;
    }
    c->kind = M_NONE;
    c->msg_open = false;
    c->head_len = 0;
}

/* A complete control frame. Returns -1 when the connection is finished. */
static int on_control(client_t *c, int idx) {
    if (c->op == BP_WS_PING) {
        if (send_frame(c, BP_WS_PONG, c->ctl, c->ctl_len)) return -1;
        return 0;
    }
    if (c->op == BP_WS_CLOSE) {
        unsigned code = c->ctl_len >= 2 ? (unsigned)c->ctl[0] << 8 | c->ctl[1] : 1005;
        int slot = code == 4001 ? 2 : code == 4008 ? 3 : code == 4029 ? 4 : code < 2000 ? 0 : 5;
        G.close_codes[slot]++;
        if (G.close_codes[slot] == 1 && !G.quiet)
            fprintf(stderr, "bp-loadgen: client %d closed by the server with %u %.*s\n", idx, code,
                    c->ctl_len > 2 ? (int)c->ctl_len - 2 : 0, (const char *)c->ctl + 2);
        send_frame(c, BP_WS_CLOSE, c->ctl, c->ctl_len >= 2 ? 2 : 0);
        G.closed_by_server++;
        return -1;
    }
    return 0; /* pong */
}

/* Frame layer over n received bytes. Returns -1 when the client was closed. */
static int ws_feed(client_t *c, int idx, const uint8_t *p, size_t n) {
    while (n > 0 || (c->in_frame && c->remaining == 0)) {
        if (!c->in_frame) {
            bp_ws_frame_t f;
            int hl;
            size_t used;
            if (c->hdr_len == 0 && n >= BP_WS_HEADER_MAX) {
                hl = bp_ws_parse_header(p, n, &f);
                used = (size_t)hl;
            } else {
                size_t room = (size_t)BP_WS_HEADER_MAX - c->hdr_len, k = room < n ? room : n;
                memcpy(c->hdr + c->hdr_len, p, k);
                hl = bp_ws_parse_header(c->hdr, c->hdr_len + k, &f);
                if (hl == 0) {
                    c->hdr_len = (uint8_t)(c->hdr_len + k);
                    return 0; /* all of p was header bytes */
                }
                used = (size_t)hl - c->hdr_len;
                c->hdr_len = 0;
            }
            if (hl < 0 || f.masked) goto bad;
            p += used;
            n -= used;
            c->op = f.opcode;
            c->frame_fin = f.fin;
            c->remaining = f.len;
            c->in_frame = true;
            if (f.opcode == BP_WS_CONT) {
                if (!c->msg_open) goto bad;
            } else if (f.opcode == BP_WS_TEXT) {
                if (c->msg_open) goto bad;
                c->msg_open = true;
                c->kind = M_HEAD;
                c->head_len = 0;
            } else if (f.opcode == BP_WS_BINARY) {
                goto bad; /* the live feed is text only */
            } else {
                c->ctl_len = 0;
            }
            continue;
        }
        size_t k = c->remaining < n ? (size_t)c->remaining : n;
        if (c->op & 0x8) {
            memcpy(c->ctl + c->ctl_len, p, k);
            c->ctl_len = (uint8_t)(c->ctl_len + k);
        } else if (k) {
            msg_data(c, p, k);
        }
        p += k;
        n -= k;
        c->remaining -= k;
        if (c->remaining == 0) {
            c->in_frame = false;
            if (c->op & 0x8) {
                if (on_control(c, idx)) {
                    client_fail(c, idx);
                    return -1;
                }
            } else if (c->frame_fin) {
                msg_end(c, idx);
            }
        }
    }
    return 0;
bad:
    G.protocol_errors++;
    client_fail(c, idx);
    return -1;
}

/* A slow reader has read its share: out of epoll until its next turn. */
static void slow_pause(client_t *c) {
    struct epoll_event ev = {.events = 0, .data.u64 = 0};
    epoll_ctl(G.ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->paused = true;
    c->next_ns = mono_ns() + SLOW_PERIOD_NS;
}

static void on_readable(client_t *c, int idx) {
    bool slow = c->slow && c->state == C_OPEN;
    size_t want = sizeof rbuf;
    if (slow) {
        /* rates spread over 0.5-1.5 x --slow-rate, so that slow readers do
         * not all fall behind, and get dropped, in step */
        double rate = G.slow_rate * (0.5 + (double)(idx * 37 % 101) / 100.0);
        want = (size_t)(rate * (double)SLOW_PERIOD_NS / 1e9);
        if (want < 1) want = 1;
        if (want > sizeof rbuf) want = sizeof rbuf;
    }
    ssize_t n = read(c->fd, rbuf, want);
    G.now_us = real_us(); /* the receive time of every event in these bytes */
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        G.close_codes[1]++;
        G.closed_by_server++;
        client_fail(c, idx);
        return;
    }
    const uint8_t *p = rbuf;
    size_t len = (size_t)n;
    if (c->state == C_HANDSHAKE) {
        size_t used;
        int rc = http_feed(c, idx, p, len, &used);
        if (rc < 0) {
            G.handshake_errors++;
            client_fail(c, idx);
            return;
        }
        if (rc == 0) return;
        c->head_len = 0;
        c->state = C_OPEN;
        if (G.phase == P_STORM) G.storm_101[idx] = storm_elapsed_ms();
        if (!c->was_open) {
            c->was_open = true;
            if (G.phase == P_RAMP) G.connected++;
        }
        if (send_hello(c)) {
            client_fail(c, idx);
            return;
        }
        p += used;
        len -= used;
        if (!len) return;
    }
    if (ws_feed(c, idx, p, len) == 0 && slow && c->fd >= 0) slow_pause(c);
}

/* -- phases
 * ---------------------------------------------------------------------------------------- */

static void begin_phase(phase_t p, uint64_t now) {
    G.phase = p;
    G.phase_ns = now;
    if (!G.quiet)
        fprintf(stderr, "bp-loadgen: %.1fs %s\n", (double)(now - G.t0_ns) / 1e9, phase_name[p]);
}

static void begin_storm(uint64_t now) {
    begin_phase(P_STORM, now);
    G.storm_ns = now;
    G.gen++;
    for (int i = 0; i < G.clients; i++) {
        client_reset(&G.c[i]);
        G.c[i].ready = false;
        G.storm_ms[i] = G.storm_tcp[i] = G.storm_101[i] = UINT32_MAX;
    }
    G.ready = 0;
    for (int i = 0; i < G.clients; i++)
        start_client(i);
}

static void begin_drain(uint64_t now) {
    begin_phase(P_DRAIN, now);
    G.drain_ns = now;
    G.drain_target = G.max_seen;
}

/* Connected clients still short of the drain target, or still waiting for
 * their welcome or snapshot (the closed ones are counted where they failed). */
static uint64_t behind(void) {
    uint64_t n = 0;
    for (int i = 0; i < G.clients; i++) {
        const client_t *c = &G.c[i];
        if (c->slow) continue; /* they lag by design; the server skips them ahead */
        if (c->state != C_CLOSED && c->state != C_IDLE && (!c->ready || c->last < G.drain_target))
            n++;
    }
    return n;
}

/* A connection's lifetime: exponential with mean G.churn seconds. */
static uint64_t lifetime_ns(void) {
    double u = (double)(rnd() >> 11) / 9007199254740992.0; /* [0, 1) */
    return (uint64_t)(-log(1.0 - u) * G.churn * 1e9);
}

/* A client leaves: half with a close frame, half by dropping the socket
 * (a closed laptop); it comes back 0.2-2 s later, resuming two times in
 * three, else as a new page (no resume: a snapshot). */
static void client_leave(client_t *c, uint64_t now) {
    if (rnd() & 1) {
        static const uint8_t bye[2] = {1000 >> 8, 1000 & 0xff};
        send_frame(c, BP_WS_CLOSE, bye, sizeof bye);
        G.leaves_clean++;
    } else {
        G.leaves_abrupt++;
    }
    bool was_ready = c->ready;
    client_reset(c);
    if (was_ready) {
        c->ready = false;
        G.ready--;
    }
    c->leave_ns = 0;
    if (rnd() % 3 == 0) {
        c->has_last = false;
        c->epoch[0] = '\0';
    }
    c->rejoin_ns = now + 200000000ull + rnd() % 1800000000ull;
}

/* Slow readers get their next turn; in the steady phase with --churn,
 * clients leave when their time is up and come back when theirs is. */
static void tend(uint64_t now) {
    static uint64_t last;
    if ((!G.churn && !G.slow_clients) || now - last < TEND_NS) return;
    last = now;
    bool churning = G.churn > 0 && G.phase == P_STEADY;
    for (int i = 0; i < G.clients; i++) {
        client_t *c = &G.c[i];
        if (c->paused && c->fd >= 0 && now >= c->next_ns) {
            struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
            epoll_ctl(G.ep, EPOLL_CTL_MOD, c->fd, &ev);
            c->paused = false;
        }
        if (!churning) continue;
        if (c->state == C_OPEN && c->ready) {
            if (!c->leave_ns)
                c->leave_ns = now + lifetime_ns();
            else if (now >= c->leave_ns)
                client_leave(c, now);
        } else if (c->state == C_CLOSED && c->rejoin_ns && now >= c->rejoin_ns) {
            c->rejoin_ns = 0;
            c->leave_ns = 0;
            G.rejoins++;
            if (!c->has_last) G.rejoins_fresh++;
            start_client(i);
        }
    }
}

/* Moves the run along; returns false when it is over. */
static bool advance(uint64_t now) {
    static uint64_t ramp_done_ns, last_check;
    switch (G.phase) {
    case P_RAMP: {
        double due = (double)(now - G.t0_ns) / 1e9 * G.ramp + 1;
        while (G.started < G.clients && G.started < due)
            start_client(G.started++);
        if (G.started < G.clients) return true;
        if (!ramp_done_ns) ramp_done_ns = now;
        bool settled = G.ready + G.gone_in_ramp >= G.clients;
        if (settled || now - ramp_done_ns > SETTLE_EXTRA_S * 1000000000ull) {
            if (!settled && !G.quiet)
                fprintf(stderr, "bp-loadgen: only %d of %d clients ready; going on\n", G.ready,
                        G.clients);
            G.connect_s = (double)(now - G.t0_ns) / 1e9;
            begin_phase(P_STEADY, now);
            G.steady_ns = now;
        }
        return true;
    }
    case P_STEADY:
        if (now - G.steady_ns < (uint64_t)(G.duration * 1e9)) return true;
        G.steady_end_ns = now;
        if (G.storm)
            begin_storm(now);
        else
            begin_drain(now);
        return true;
    case P_STORM:
        if (G.storm_done + G.storm_failed >= G.clients ||
            now - G.storm_ns > STORM_TIMEOUT_S * 1000000000ull)
            begin_drain(now);
        return true;
    case P_DRAIN:
        if (now - last_check < 50000000u) return true;
        last_check = now;
        if (now - G.drain_ns > DRAIN_TIMEOUT_S * 1000000000ull) {
            G.stalled = behind();
            return false;
        }
        if (G.storm && now - G.drain_ns < DRAIN_MIN_NS) return true;
        return behind() > 0;
    default: return false;
    }
}

static uint64_t lost_total(void) {
    uint64_t n = 0;
    for (int p = 0; p < P__COUNT; p++)
        n += G.ph[p].lost;
    return n;
}

static uint64_t dups_total(void) {
    uint64_t n = 0;
    for (int p = 0; p < P__COUNT; p++)
        n += G.ph[p].dups;
    return n;
}

static void progress(uint64_t now) {
    static uint64_t last_ns, last_events;
    if (G.quiet || now - last_ns < 1000000000u) return;
    uint64_t ev = 0;
    for (int p = 0; p < P__COUNT; p++)
        ev += G.ph[p].events;
    double dt = last_ns ? (double)(now - last_ns) / 1e9 : 1;
    const bp_hist_t *h = G.lat_iv;
    fprintf(stderr,
            "bp-loadgen: %5.1fs %-6s started=%d open=%d ready=%d events/s=%.0f lost=%llu "
            "dup=%llu closed=%llu errors=%llu p50=%.1fms p99=%.1fms max=%.1fms\n",
            (double)(now - G.t0_ns) / 1e9, phase_name[G.phase], G.started, G.open, G.ready,
            (double)(ev - last_events) / dt, (unsigned long long)lost_total(),
            (unsigned long long)dups_total(), (unsigned long long)G.closed_by_server,
            (unsigned long long)(G.connect_errors + G.protocol_errors + G.handshake_errors),
            (double)bp_hist_percentile(h, 50) / 1000.0, (double)bp_hist_percentile(h, 99) / 1000.0,
            (double)bp_hist_max(h) / 1000.0);
    bp_hist_reset(G.lat_iv);
    last_ns = now;
    last_events = ev;
}

/* -- report
 * ---------------------------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ms until pct% of all clients were done in the storm, or -1 if never. */
static long storm_pct(const uint32_t *sorted, int done, double pct) {
    double r = pct / 100.0 * G.clients;
    int rank = (int)r;
    if (rank < r) rank++;
    if (rank < 1) rank = 1;
    return rank <= done ? (long)sorted[rank - 1] : -1;
}

static void print_num(FILE *o, long v) {
    if (v < 0)
        fputs("null", o);
    else
        fprintf(o, "%ld", v);
}

/* The times of the clients that got there, sorted; NULL when out of memory. */
static uint32_t *sort_done(const uint32_t *ms, int *n) {
    uint32_t *s = malloc((size_t)G.clients * sizeof *s);
    *n = 0;
    for (int i = 0; s && i < G.clients; i++)
        if (ms[i] != UINT32_MAX) s[(*n)++] = ms[i];
    if (s) qsort(s, (size_t)*n, sizeof *s, cmp_u32);
    return s;
}

static void json_steps(FILE *o, const char *name, const uint32_t *s, int n) {
    fprintf(o, ",\"%s\":{\"p50\":", name);
    print_num(o, s ? storm_pct(s, n, 50) : -1);
    fputs(",\"p99\":", o);
    print_num(o, s ? storm_pct(s, n, 99) : -1);
    fputs(",\"p100\":", o);
    print_num(o, s ? storm_pct(s, n, 100) : -1);
    fputc('}', o);
}

static void json_hist(FILE *o, const bp_hist_t *h) {
    fprintf(o, "{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu,\"count\":%llu}",
            (unsigned long long)bp_hist_percentile(h, 50),
            (unsigned long long)bp_hist_percentile(h, 99),
            (unsigned long long)bp_hist_percentile(h, 99.9), (unsigned long long)bp_hist_max(h),
            (unsigned long long)bp_hist_count(h));
}

static void text_hist(FILE *o, const char *label, const bp_hist_t *h) {
    fprintf(o, "  %-22s p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms  (%llu events)\n",
            label, (double)bp_hist_percentile(h, 50) / 1000,
            (double)bp_hist_percentile(h, 99) / 1000, (double)bp_hist_percentile(h, 99.9) / 1000,
            (double)bp_hist_max(h) / 1000, (unsigned long long)bp_hist_count(h));
}

static int report(void) {
    double steady_s =
        G.steady_end_ns > G.steady_ns ? (double)(G.steady_end_ns - G.steady_ns) / 1e9 : 0;
    uint64_t steady_events = G.ph[P_STEADY].events;
    double dps = steady_s > 0 ? (double)steady_events / steady_s : 0;
    uint64_t lost = lost_total(), dups = dups_total();
    uint64_t ev_total = 0;
    for (int p = 0; p < P__COUNT; p++)
        ev_total += G.ph[p].events;

    uint32_t *sorted = NULL, *tcp = NULL, *up = NULL;
    int done = 0, n_tcp = 0, n_up = 0;
    if (G.storm && G.storm_ns) {
        sorted = sort_done(G.storm_ms, &done);
        tcp = sort_done(G.storm_tcp, &n_tcp);
        up = sort_done(G.storm_101, &n_up);
    }
    long s50 = sorted ? storm_pct(sorted, done, 50) : -1;
    long s99 = sorted ? storm_pct(sorted, done, 99) : -1;
    long s100 = sorted ? storm_pct(sorted, done, 100) : -1;

    /* churn and slow readers: the server may drop a slow reader (which may
     * still be answering a ping into the closed socket), and a client coming
     * back may find its port busy; what must hold is the data */
    bool soak = G.churn > 0 || G.slow_clients > 0;
    bool ok = lost == 0 && dups == 0 && G.connected == (uint64_t)G.clients &&
              (soak || (G.connect_errors == 0 && G.closed_by_server == 0 && G.write_errors == 0)) &&
              G.protocol_errors == 0 && G.handshake_errors == 0 && G.events_before_snapshot == 0 &&
              G.resume_mismatch == 0 && G.stalled == 0 && (!G.storm || done == G.clients);

    if (G.json) {
        FILE *o = stdout;
        fprintf(
            o,
            "{\"clients\":%d,\"connected\":%llu,\"connect_errors\":%llu,\"closed_by_server\":%llu,"
            "\"snapshots\":%llu,\"skips\":%llu,\"events\":%llu,\"duration_s\":%.3f,"
            "\"deliveries_per_s\":%.0f,\"lost\":%llu,\"duplicates\":%llu,\"lat_us\":",
            G.clients, (unsigned long long)G.connected, (unsigned long long)G.connect_errors,
            (unsigned long long)G.closed_by_server, (unsigned long long)G.snapshots,
            (unsigned long long)G.skips, (unsigned long long)steady_events, steady_s, dps,
            (unsigned long long)lost, (unsigned long long)dups);
        json_hist(o, G.lat[P_STEADY]);
        fprintf(o, ",\"connect_s\":%.3f,\"storm\":", G.connect_s);
        if (sorted) {
            fprintf(o,
                    "{\"clients\":%d,\"done\":%d,\"resumed\":%d,\"snapshots\":%d,\"failed\":%d,"
                    "\"not_done\":%d,"
                    "\"snapshot_reasons\":{\"new\":%llu,\"epoch\":%llu,\"too_old\":%llu,"
                    "\"other\":%llu},\"ms_p50\":",
                    G.clients, done, G.storm_resumed, G.storm_snap, G.storm_failed,
                    G.clients - done, (unsigned long long)G.storm_reasons[0],
                    (unsigned long long)G.storm_reasons[1], (unsigned long long)G.storm_reasons[2],
                    (unsigned long long)G.storm_reasons[3]);
            print_num(o, s50);
            fputs(",\"ms_p99\":", o);
            print_num(o, s99);
            fputs(",\"ms_p100\":", o);
            print_num(o, s100);
            json_steps(o, "tcp_ms", tcp, n_tcp);
            json_steps(o, "upgrade_ms", up, n_up);
            fprintf(o, ",\"lost\":%llu,\"duplicates\":%llu,\"lat_us\":",
                    (unsigned long long)G.ph[P_STORM].lost, (unsigned long long)G.ph[P_STORM].dups);
            json_hist(o, G.lat[P_STORM]);
            fputc('}', o);
        } else {
            fputs("null", o);
        }
        fprintf(o,
                ",\"churn\":{\"mean_s\":%.1f,\"leaves_clean\":%llu,\"leaves_abrupt\":%llu,"
                "\"rejoins\":%llu,\"rejoins_fresh\":%llu},\"slow_clients\":%d",
                G.churn, (unsigned long long)G.leaves_clean, (unsigned long long)G.leaves_abrupt,
                (unsigned long long)G.rejoins, (unsigned long long)G.rejoins_fresh, G.slow_clients);
        fprintf(o, ",\"events_total\":%llu,\"lat_ramp_us\":", (unsigned long long)ev_total);
        json_hist(o, G.lat[P_RAMP]);
        fprintf(o,
                ",\"stalled\":%llu,\"protocol_errors\":%llu,\"handshake_errors\":%llu,"
                "\"write_errors\":%llu,\"ticks\":%llu,\"resume_mismatch\":%llu,"
                "\"events_before_snapshot\":%llu,\"snapshot_behind\":%llu,\"no_at\":%llu,"
                "\"negative_lat\":%llu,"
                "\"close_codes\":{\"1xxx\":%llu,\"eof\":%llu,\"4001\":%llu,\"4008\":%llu,"
                "\"4029\":%llu,\"other\":%llu},\"ok\":%s}\n",
                (unsigned long long)G.stalled, (unsigned long long)G.protocol_errors,
                (unsigned long long)G.handshake_errors, (unsigned long long)G.write_errors,
                (unsigned long long)G.ticks, (unsigned long long)G.resume_mismatch,
                (unsigned long long)G.events_before_snapshot, (unsigned long long)G.snapshot_behind,
                (unsigned long long)G.no_at, (unsigned long long)G.negative_lat,
                (unsigned long long)G.close_codes[0], (unsigned long long)G.close_codes[1],
                (unsigned long long)G.close_codes[2], (unsigned long long)G.close_codes[3],
                (unsigned long long)G.close_codes[4], (unsigned long long)G.close_codes[5],
                ok ? "true" : "false");
    } else {
        FILE *o = stdout;
        fprintf(o, "bp-loadgen ws://%s%s, %d clients\n", G.host, G.path, G.clients);
        fprintf(o, "  connected              %llu (errors %llu%s%s), all ready after %.2f s\n",
                (unsigned long long)G.connected, (unsigned long long)G.connect_errors,
                G.last_errno ? ", last: " : "", G.last_errno ? strerror(G.last_errno) : "",
                G.connect_s);
        fprintf(o, "  steady                 %.1f s, %llu events, %.0f deliveries/s\n", steady_s,
                (unsigned long long)steady_events, dps);
        text_hist(o, "latency (steady)", G.lat[P_STEADY]);
        text_hist(o, "latency (ramp)", G.lat[P_RAMP]);
        fprintf(o, "  lost %llu  duplicates %llu  gaps %llu  stalled %llu\n",
                (unsigned long long)lost, (unsigned long long)dups,
                (unsigned long long)(G.ph[0].gaps + G.ph[1].gaps + G.ph[2].gaps + G.ph[3].gaps),
                (unsigned long long)G.stalled);
        fprintf(o, "  snapshots %llu  skip-to-latest %llu  ticks %llu\n",
                (unsigned long long)G.snapshots, (unsigned long long)G.skips,
                (unsigned long long)G.ticks);
        fprintf(o,
                "  closed by server %llu (1xxx %llu, eof %llu, 4001 %llu, 4008 %llu, 4029 %llu, "
                "other %llu)\n",
                (unsigned long long)G.closed_by_server, (unsigned long long)G.close_codes[0],
                (unsigned long long)G.close_codes[1], (unsigned long long)G.close_codes[2],
                (unsigned long long)G.close_codes[3], (unsigned long long)G.close_codes[4],
                (unsigned long long)G.close_codes[5]);
        fprintf(o, "  errors: protocol %llu  handshake %llu  write %llu  resume mismatch %llu\n",
                (unsigned long long)G.protocol_errors, (unsigned long long)G.handshake_errors,
                (unsigned long long)G.write_errors, (unsigned long long)G.resume_mismatch);
        fprintf(o,
                "  odd: events before a snapshot %llu  snapshot behind %llu  no \"at\" %llu  "
                "negative latency %llu\n",
                (unsigned long long)G.events_before_snapshot, (unsigned long long)G.snapshot_behind,
                (unsigned long long)G.no_at, (unsigned long long)G.negative_lat);
        if (soak)
            fprintf(o,
                    "  churn: mean life %.0f s, left %llu (%llu with a close frame, %llu dropped), "
                    "came back %llu (%llu as new pages); %d slow readers at %.0f B/s\n",
                    G.churn, (unsigned long long)(G.leaves_clean + G.leaves_abrupt),
                    (unsigned long long)G.leaves_clean, (unsigned long long)G.leaves_abrupt,
                    (unsigned long long)G.rejoins, (unsigned long long)G.rejoins_fresh,
                    G.slow_clients, G.slow_rate);
        if (sorted) {
            fprintf(o,
                    "  storm: %d reconnects, %d done (%d resumed, %d snapshots), %d not done "
                    "(%d of them closed or refused)\n",
                    G.clients, done, G.storm_resumed, G.storm_snap, G.clients - done,
                    G.storm_failed);
            fprintf(o, "         done after: 50%% %ld ms, 99%% %ld ms, 100%% %ld ms (-1: never)\n",
                    s50, s99, s100);
            fprintf(o, "         TCP up:     50%% %ld ms, 99%% %ld ms, 100%% %ld ms\n",
                    tcp ? storm_pct(tcp, n_tcp, 50) : -1, tcp ? storm_pct(tcp, n_tcp, 99) : -1,
                    tcp ? storm_pct(tcp, n_tcp, 100) : -1);
            fprintf(o, "         101 in:     50%% %ld ms, 99%% %ld ms, 100%% %ld ms\n",
                    up ? storm_pct(up, n_up, 50) : -1, up ? storm_pct(up, n_up, 99) : -1,
                    up ? storm_pct(up, n_up, 100) : -1);
            text_hist(o, "latency (storm)", G.lat[P_STORM]);
        }
        fprintf(o, "  result: %s\n", ok ? "OK" : "FAILED");
    }
    free(sorted);
    free(tcp);
    free(up);
    return ok ? 0 : 1;
}

/* -- options
 * ---------------------------------------------------------------------------------------- */

static void usage(FILE *o) {
    fputs("usage: bp-loadgen --url ws://HOST:PORT/ws --clients N [--ramp R] [--duration S]\n"
          "                  [--storm] [--json] [--quiet] [--bind-ips A,B,C-D]\n"
          "  --ramp R        new connections per second (default 2000)\n"
          "  --duration S    steady phase, once every client has its snapshot (default 10)\n"
          "  --storm         then drop every connection at once and reconnect all with resume;\n"
          "                  report how long until all are resumed or re-snapshotted\n"
          "  --bind-ips      source addresses, round robin (127.0.0.0/8 gives more ports and\n"
          "                  passes per-address limits); A-B is an inclusive range\n"
          "  --churn S       in the steady phase, clients leave after a random lifetime of\n"
          "                  mean S seconds and come back (resuming, or as new pages)\n"
          "  --slow P        P %% of the clients read slowly (--slow-rate bytes/s, default 4096)\n"
          "  --json          one JSON line on stdout instead of the summary\n"
          "  --quiet         no progress lines on stderr\n"
          "exit status: 0 when every client connected, stayed connected and saw every offset\n"
          "once (no loss, no duplicates, no stall); 1 otherwise; 2 on bad usage.\n",
          o);
}

static int parse_url(const char *url) {
    if (strncmp(url, "ws://", 5) != 0) return -1;
    const char *h = url + 5, *slash = strchr(h, '/');
    const char *hp_end = slash ? slash : h + strlen(h);
    if ((size_t)(hp_end - h) >= sizeof G.host) return -1;
    memcpy(G.host, h, (size_t)(hp_end - h));
    G.host[hp_end - h] = '\0';
    snprintf(G.path, sizeof G.path, "%s", slash ? slash : "/ws");
    char name[64], port[16] = "80";
    snprintf(name, sizeof name, "%s", G.host);
    char *colon = strrchr(name, ':');
    if (colon) {
        snprintf(port, sizeof port, "%s", colon + 1);
        *colon = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(name, port, &hints, &res) || !res) return -1;
    memcpy(&G.dst, res->ai_addr, sizeof G.dst);
    freeaddrinfo(res);
    return 0;
}

static int parse_bind(const char *list) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(t, '-');
        if (dash) *dash = '\0';
        struct in_addr a, b;
        if (inet_pton(AF_INET, t, &a) != 1) return -1;
        b = a;
        if (dash && inet_pton(AF_INET, dash + 1, &b) != 1) return -1;
        for (uint32_t x = ntohl(a.s_addr); x <= ntohl(b.s_addr); x++) {
            if (G.n_bind == BIND_MAX) return -1;
            G.bind[G.n_bind++].s_addr = htonl(x);
        }
    }
    return G.n_bind ? 0 : -1;
}

static int parse_args(int argc, char **argv) {
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
                                         {"clients", required_argument, NULL, 'c'},
                                         {"ramp", required_argument, NULL, 'r'},
                                         {"duration", required_argument, NULL, 'd'},
                                         {"storm", no_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"bind-ips", required_argument, NULL, 'b'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"churn", required_argument, NULL, 'C'},
                                         {"slow", required_argument, NULL, 'S'},
                                         {"slow-rate", required_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *url = NULL;
    G.clients = 0;
    G.ramp = 2000;
    G.duration = 10;
    G.slow_rate = 4096;
    int o;
    while ((o = getopt_long(argc, argv, "u:c:r:d:sjb:qh", opts, NULL)) != -1) {
        switch (o) {
        case 'u': url = optarg; break;
        case 'c': G.clients = atoi(optarg); break;
        case 'r': G.ramp = atof(optarg); break;
        case 'd': G.duration = atof(optarg); break;
        case 's': G.storm = true; break;
        case 'j': G.json = true; break;
        case 'q': G.quiet = true; break;
        case 'C': G.churn = atof(optarg); break;
        case 'S': G.slow_pct = atof(optarg); break;
        case 'R': G.slow_rate = atof(optarg); break;
        case 'b':
            if (parse_bind(optarg)) {
                fprintf(stderr, "bp-loadgen: bad --bind-ips %s\n", optarg);
                return -1;
            }
            break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (!url || G.clients <= 0 || G.ramp <= 0 || G.duration < 0 || G.churn < 0 || G.slow_pct < 0 ||
        G.slow_pct > 100 || G.slow_rate < 4 || optind != argc)
        return -1;
    if (parse_url(url)) {
        fprintf(stderr, "bp-loadgen: cannot use --url %s (ws://IPv4-or-name:port/path)\n", url);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)G.clients + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)G.clients + 64 ? rl.rlim_max : (rlim_t)G.clients + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)G.clients + 16)
            fprintf(stderr, "bp-loadgen: warning: only %llu file descriptors for %d clients\n",
                    (unsigned long long)rl.rlim_cur, G.clients);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    G.seed = (uint64_t)real_us() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
    G.key_seed = rnd();
    G.c = calloc((size_t)G.clients, sizeof *G.c);
    G.storm_ms = calloc((size_t)G.clients, sizeof *G.storm_ms);
    G.storm_tcp = calloc((size_t)G.clients, sizeof *G.storm_tcp);
    G.storm_101 = calloc((size_t)G.clients, sizeof *G.storm_101);
    for (int p = 0; p < P__COUNT; p++)
        G.lat[p] = bp_hist_create();
    G.lat_iv = bp_hist_create();
    G.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!G.c || !G.storm_ms || !G.storm_tcp || !G.storm_101 || !G.lat[P__COUNT - 1] || !G.lat_iv ||
        G.ep < 0) {
        fprintf(stderr, "bp-loadgen: out of memory\n");
        return 2;
    }
    for (int i = 0; i < G.clients; i++) {
        G.c[i].fd = -1;
        G.c[i].state = C_IDLE;
        /* spread evenly: client i is slow when i % 100 falls in the first P */
        G.c[i].slow = (double)(i % 100) < G.slow_pct;
        G.slow_clients += G.c[i].slow;
        G.storm_ms[i] = G.storm_tcp[i] = G.storm_101[i] = UINT32_MAX;
    }

    static struct epoll_event evs[EPOLL_BATCH];
    G.t0_ns = mono_ns();
    begin_phase(P_RAMP, G.t0_ns);
    for (;;) {
        uint64_t now = mono_ns();
        if (interrupted || !advance(now)) break;
        tend(now);
        progress(now);
        int timeout = G.phase == P_RAMP ? 1 : 10;
        int n = epoll_wait(G.ep, evs, EPOLL_BATCH, timeout);
        if (n < 0 && errno != EINTR) {
            perror("bp-loadgen: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            int idx = (int)evs[i].data.u64;
            client_t *c = &G.c[idx];
            if (c->fd < 0) continue;
            if (c->state == C_CONNECTING)
                on_connected(c, idx);
            else
                on_readable(c, idx);
        }
    }
    if (G.phase == P_STEADY) G.steady_end_ns = mono_ns();
    if (interrupted && !G.quiet) fprintf(stderr, "bp-loadgen: interrupted\n");
    int rc = report();
    for (int i = 0; i < G.clients; i++)
        client_reset(&G.c[i]);
    for (int p = 0; p < P__COUNT; p++)
        bp_hist_destroy(G.lat[p]);
    bp_hist_destroy(G.lat_iv);
    free(G.c);
    free(G.storm_ms);
    free(G.storm_tcp);
    free(G.storm_101);
    close(G.ep);
    return interrupted ? 1 : rc;
}
