/*
 * bp-ceiling: the fastest live feed this machine can serve, as a yardstick
 * for bp-server.
 *
 * A bare epoll WebSocket server with nothing behind it: no Redis, no state,
 * no libwebsockets. It speaks just enough of the live feed (docs/protocol.md
 * section 2) for bp-loadgen to measure it exactly as it measures bp-server:
 * upgrade on /ws with bedpulse.v1, on hello a welcome and a fixed ~100 KB
 * snapshot (fragmented like bp-server's), then events it makes itself at
 * --rate per second. Each event is framed once, stamped with the current
 * time, and the same bytes are written to every socket, so what is measured
 * is the kernel's cost of copying the same frames into N loopback sockets
 * plus the loop around it: the ceiling any fan-out server on this machine
 * works under.
 *
 * Slow readers: a socket that returns EAGAIN keeps its place (last offset
 * written plus a byte position in the next frame) in a shared ring of the
 * last --queue frames; once the ring has moved past that place the client
 * is dropped. Nothing is buffered per client.
 */
#include "bp_time.h"
#include "bp_ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
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
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define IN_MAX      2048  /* request headers, then client frames (a hello is small) */
#define FRAME_MAX   512   /* one pre-framed event */
#define SNAP_FRAG   16384 /* snapshot fragment size, as bp-server's SNAP_CHUNK */
#define IOV_BATCH   64    /* frames per writev */
#define EPOLL_BATCH 1024
#define EPOCH       "ceil"
#define STATS_NS    10000000000ull

typedef enum { K_HTTP, K_HELLO, K_PRELIVE, K_LIVE } kstate_t;
typedef enum { R_NEW, R_EPOCH, R_TOO_OLD, R_AHEAD, R_RESUME } start_t;

typedef struct {
    int fd;
    uint8_t state; /* kstate_t */
    uint8_t start; /* start_t: what the welcome says */
    bool blocked;  /* the last write hit a full socket: wait for EPOLLOUT */
    bool listed;   /* in the live list */
    uint16_t in_len;
    uint32_t live_idx;
    uint64_t offset; /* the welcome's offset: snapshot or resume point */
    uint64_t tail;   /* last event offset written in full */
    size_t pos;      /* bytes written of the welcome+snapshot stream, or of frame tail+1 */
    int64_t snap_ms; /* the snapshot's "now", fixed so that a rebuilt head is identical */
    char in[IN_MAX];
} conn_t;

typedef struct {
    uint16_t len;
    uint8_t data[FRAME_MAX];
} frame_t;

static struct {
    /* options */
    char host[64];
    int port;
    double rate;
    size_t snap_bytes, queue;
    bool quiet;

    int ep, lfd, tfd;
    conn_t **conns; /* by fd */
    size_t max_fd;
    conn_t **live;
    size_t n_live, n_conns;
    frame_t *ring; /* queue frames; offset o lives in ring[o % queue] */
    uint64_t head; /* last event offset made */
    uint64_t t0_ns;
    uint8_t *snap_body; /* the snapshot's continuation frames, shared by all */
    size_t snap_body_len;

    struct {
        uint64_t accepted, upgrades, bad_requests, snapshots, resumes, dropped_slow, closed;
        uint64_t deliveries, bytes, writes, eagain;
    } st, last_st;
    uint64_t last_stats_ns;
} S;

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* -- frames ------------------------------------------------------------------------------ */

/* Makes event off into its ring slot, stamped now. */
static void make_event(uint64_t off) {
    char at[32], payload[FRAME_MAX - BP_WS_HEADER_MAX];
    bp_time_format(bp_time_now_ms(), at);
    int n = snprintf(payload, sizeof payload,
                     "{\"type\":\"events\",\"epoch\":\"" EPOCH "\",\"events\":[{\"offset\":%llu,"
                     "\"kind\":\"hospital\",\"id\":\"bach-mai\",\"data\":{\"version\":%llu,"
                     "\"at\":\"%s\",\"updated\":\"%s\",\"source\":\"ceiling\",\"beds\":{"
                     "\"icu_adult\":{\"staffed\":60,\"occupied\":63,\"surge24\":8,\"available\":0,"
                     "\"overflow\":3}}}}]}",
                     (unsigned long long)off, (unsigned long long)off, at, at);
    frame_t *f = &S.ring[off % S.queue];
    size_t h = bp_ws_header(f->data, BP_WS_TEXT, true, (uint64_t)n, NULL);
    memcpy(f->data + h, payload, (size_t)n);
    f->len = (uint16_t)(h + (size_t)n);
}

/* The snapshot after its first fragment: padding in SNAP_FRAG continuation
 * frames, the last one closing the JSON. */
static int make_snapshot_body(void) {
    size_t pad = S.snap_bytes, tail = 2; /* "} */
    size_t total = pad + tail, frames = (total + SNAP_FRAG - 1) / SNAP_FRAG;
    S.snap_body = malloc(total + frames * BP_WS_HEADER_MAX);
    if (!S.snap_body) return -1;
    size_t o = 0, done = 0;
    while (done < total) {
        size_t len = total - done < SNAP_FRAG ? total - done : SNAP_FRAG;
        bool fin = done + len == total;
        o += bp_ws_header(S.snap_body + o, BP_WS_CONT, fin, len, NULL);
        for (size_t i = 0; i < len; i++) {
            size_t k = done + i;
            S.snap_body[o + i] =
                k < pad ? (uint8_t) "0123456789abcdef"[k & 15] : (k == pad ? '"' : '}');
        }
        o += len;
        done += len;
    }
    S.snap_body_len = o;
    return 0;
}

/* The per-client start of the stream: the welcome frame, and for a snapshot
 * its first fragment (type, epoch, offset, now). Returns its length. */
static size_t build_prefix(const conn_t *c, uint8_t *out) {
    static const char *reasons[] = {"new", "epoch", "too_old", "ahead"};
    char msg[256];
    int n;
    if (c->start == R_RESUME)
        n = snprintf(
            msg, sizeof msg,
            "{\"type\":\"welcome\",\"mode\":\"resume\",\"via\":\"window\",\"epoch\":\"" EPOCH
            "\",\"offset\":%llu}",
            (unsigned long long)c->offset);
    else
        n = snprintf(
            msg, sizeof msg,
            "{\"type\":\"welcome\",\"mode\":\"snapshot\",\"reason\":\"%s\",\"epoch\":\"" EPOCH
            "\",\"offset\":%llu}",
            reasons[c->start], (unsigned long long)c->offset);
    size_t o = bp_ws_header(out, BP_WS_TEXT, true, (uint64_t)n, NULL);
    memcpy(out + o, msg, (size_t)n);
    o += (size_t)n;
    if (c->start == R_RESUME) return o;
    char now[32];
    bp_time_format(c->snap_ms, now);
    n = snprintf(msg, sizeof msg,
                 "{\"type\":\"snapshot\",\"epoch\":\"" EPOCH "\",\"offset\":%llu,\"now\":\"%s\","
                 "\"meta\":{},\"hospitals\":[],\"ambulances\":[],\"padding\":\"",
                 (unsigned long long)c->offset, now);
    o += bp_ws_header(out + o, BP_WS_TEXT, false, (uint64_t)n, NULL);
    memcpy(out + o, msg, (size_t)n);
    o += (size_t)n;
    return o;
}

/* -- connections ------------------------------------------------------------------------- */

static void live_remove(conn_t *c) {
    if (!c->listed) return;
    conn_t *last = S.live[--S.n_live];
    S.live[c->live_idx] = last;
    last->live_idx = c->live_idx;
    c->listed = false;
}

static void conn_close(conn_t *c) {
    live_remove(c);
    S.conns[c->fd] = NULL;
    close(c->fd);
    free(c);
    S.n_conns--;
    S.st.closed++;
}

static ssize_t do_writev(conn_t *c, const struct iovec *iov, int n) {
    ssize_t w = writev(c->fd, iov, n);
    S.st.writes++;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        S.st.eagain++;
        c->blocked = true;
        return 0;
    }
    if (w > 0) S.st.bytes += (uint64_t)w;
    return w;
}

/* Writes what the client is owed until it is caught up or its socket is
 * full. Returns -1 when the client was closed. */
static int flush(conn_t *c) {
    while (!c->blocked) {
        struct iovec iov[IOV_BATCH];
        if (c->state == K_PRELIVE) {
            uint8_t pre[2 * (BP_WS_HEADER_MAX + 256)];
            size_t plen = build_prefix(c, pre);
            size_t total = plen + (c->start == R_RESUME ? 0 : S.snap_body_len);
            int n = 0;
            if (c->pos < plen) {
                iov[n++] = (struct iovec){pre + c->pos, plen - c->pos};
                if (total > plen) iov[n++] = (struct iovec){S.snap_body, S.snap_body_len};
            } else {
                iov[n++] = (struct iovec){S.snap_body + (c->pos - plen), total - c->pos};
            }
            ssize_t w = do_writev(c, iov, n);
            if (w < 0) goto drop;
            c->pos += (size_t)w;
            if (c->pos < total) continue; /* next try says EAGAIN (or writes more) */
            c->state = K_LIVE;
            c->tail = c->offset;
            c->pos = 0;
            c->listed = true;
            c->live_idx = (uint32_t)S.n_live;
            S.live[S.n_live++] = c;
            continue;
        }
        if (c->state != K_LIVE || c->tail >= S.head) return 0;
        if (S.head - c->tail > S.queue) { /* frame tail+1 was overwritten */
            S.st.dropped_slow++;
            goto drop;
        }
        int n = 0;
        for (uint64_t o = c->tail + 1; o <= S.head && n < IOV_BATCH; o++, n++) {
            const frame_t *f = &S.ring[o % S.queue];
            size_t skip = n == 0 ? c->pos : 0;
            iov[n] = (struct iovec){(void *)(f->data + skip), f->len - skip};
        }
        ssize_t w = do_writev(c, iov, n);
        if (w < 0) goto drop;
        size_t left = (size_t)w;
        for (int i = 0; i < n && left; i++) {
            if (left >= iov[i].iov_len) {
                left -= iov[i].iov_len;
                c->tail++;
                c->pos = 0;
                S.st.deliveries++;
            } else {
                c->pos += left;
                left = 0;
            }
        }
    }
    return 0;
drop:
    conn_close(c);
    return -1;
}

static bool header_has(const char *req, const char *name, const char *token) {
    size_t nl = strlen(name);
    for (const char *l = strstr(req, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        const char *s = l + 2;
        if (strncasecmp(s, name, nl) != 0 || s[nl] != ':') continue;
        const char *e = strstr(s, "\r\n");
        size_t tl = strlen(token);
        for (const char *v = s + nl + 1; v + tl <= e; v++)
            if (strncasecmp(v, token, tl) == 0) return true;
    }
    return false;
}

static const char *header_value(const char *req, const char *name, size_t *len) {
    size_t nl = strlen(name);
    for (const char *l = strstr(req, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        const char *s = l + 2;
        if (strncasecmp(s, name, nl) != 0 || s[nl] != ':') continue;
        const char *v = s + nl + 1, *e = strstr(s, "\r\n");
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *len = (size_t)(e - v);
        return v;
    }
    return NULL;
}

/* Answers the upgrade request in c->in[0..end). Returns 0 or -1 (closed). */
static int on_request(conn_t *c, size_t end) {
    char req[IN_MAX + 1];
    memcpy(req, c->in, end);
    req[end] = '\0';
    size_t klen = 0;
    const char *key = header_value(req, "sec-websocket-key", &klen);
    char accept[BP_WS_ACCEPT_LEN + 1];
    if (strncmp(req, "GET /ws ", 8) != 0 || !key || bp_ws_accept(key, klen, accept) ||
        !header_has(req, "upgrade", "websocket") ||
        !header_has(req, "sec-websocket-protocol", "bedpulse.v1")) {
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n"
                                  "connection: close\r\n\r\n";
        ssize_t w = write(c->fd, bad, sizeof bad - 1);
        (void)w;
        S.st.bad_requests++;
        conn_close(c);
        return -1;
    }
    char resp[256];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                     "Sec-WebSocket-Protocol: bedpulse.v1\r\n\r\n",
                     accept);
    if (write(c->fd, resp, (size_t)n) != n) {
        conn_close(c);
        return -1;
    }
    S.st.upgrades++;
    c->state = K_HELLO;
    memmove(c->in, c->in + end, c->in_len - end);
    c->in_len = (uint16_t)(c->in_len - end);
    return 0;
}

/* Starts the client's stream. Returns -1 when c was closed. */
static int on_hello(conn_t *c, const char *msg, size_t len) {
    c->start = R_NEW;
    c->offset = S.head;
    const char *r = memmem(msg, len, "\"resume\"", 8);
    if (r) {
        const char *rest = r;
        size_t rl = len - (size_t)(r - msg);
        const char *e = memmem(rest, rl, "\"epoch\":\"", 9);
        const char *o = memmem(rest, rl, "\"offset\":", 9);
        uint64_t off = 0;
        if (o) off = strtoull(o + 9, NULL, 10);
        if (!e || strncmp(e + 9, EPOCH "\"", sizeof EPOCH) != 0)
            c->start = R_EPOCH;
        else if (!o || off > S.head)
            c->start = R_AHEAD;
        else if (S.head - off >= S.queue)
            c->start = R_TOO_OLD;
        else {
            c->start = R_RESUME;
            c->offset = off;
        }
    }
    if (c->start == R_RESUME)
        S.st.resumes++;
    else
        S.st.snapshots++;
    c->snap_ms = bp_time_now_ms();
    c->state = K_PRELIVE;
    c->pos = 0;
    return flush(c);
}

/* Client frames in c->in (masked, small). Returns -1 when c was closed. */
static int on_frames(conn_t *c) {
    size_t o = 0;
    for (;;) {
        bp_ws_frame_t f;
        int hl = bp_ws_parse_header((uint8_t *)c->in + o, c->in_len - o, &f);
        if (hl < 0 || (hl > 0 && !f.masked) || (hl > 0 && f.len > IN_MAX - BP_WS_HEADER_MAX)) {
            conn_close(c);
            return -1;
        }
        if (hl == 0 || c->in_len - o - (size_t)hl < f.len) break;
        uint8_t *p = (uint8_t *)c->in + o + hl;
        bp_ws_mask(p, (size_t)f.len, f.mask, 0);
        o += (size_t)hl + (size_t)f.len;
        if (f.opcode == BP_WS_CLOSE) {
            conn_close(c);
            return -1;
        }
        if (f.opcode == BP_WS_PING) {
            uint8_t pong[BP_WS_HEADER_MAX + BP_WS_CONTROL_MAX];
            size_t h = bp_ws_header(pong, BP_WS_PONG, true, f.len, NULL);
            memcpy(pong + h, p, (size_t)f.len);
            ssize_t w = write(c->fd, pong, h + (size_t)f.len); /* best effort */
            (void)w;
        } else if (f.opcode == BP_WS_TEXT && f.fin && c->state == K_HELLO) {
            if (on_hello(c, (const char *)p, (size_t)f.len)) return -1;
        }
    }
    memmove(c->in, c->in + o, c->in_len - o);
    c->in_len = (uint16_t)(c->in_len - o);
    return 0;
}

static void on_readable(conn_t *c) {
    int fd = c->fd;
    for (;;) {
        if (c->in_len == IN_MAX) { /* a request or message larger than we take */
            conn_close(c);
            return;
        }
        ssize_t n = read(fd, c->in + c->in_len, IN_MAX - c->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            conn_close(c);
            return;
        }
        c->in_len = (uint16_t)(c->in_len + (size_t)n);
        if (c->state == K_HTTP) {
            const char *e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
            if (!e) continue;
            if (on_request(c, (size_t)(e - c->in) + 4)) return;
        }
        if (c->in_len && on_frames(c)) return;
        if (S.conns[fd] != c) return;
    }
}

static void on_accept(void) {
    for (;;) {
        int fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && !S.quiet)
                perror("bp-ceiling: accept");
            return;
        }
        conn_t *c = (size_t)fd < S.max_fd ? calloc(1, sizeof *c) : NULL;
        if (!c) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->state = K_HTTP;
        S.conns[fd] = c;
        S.n_conns++;
        S.st.accepted++;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.fd = fd};
        if (epoll_ctl(S.ep, EPOLL_CTL_ADD, fd, &ev)) conn_close(c);
    }
}

/* Makes the events that fell due and writes them to every live client. */
static void on_timer(void) {
    uint64_t exp;
    ssize_t r = read(S.tfd, &exp, sizeof exp);
    (void)r;
    uint64_t due = (uint64_t)((double)(mono_ns() - S.t0_ns) / 1e9 * S.rate);
    if (due <= S.head) return;
    if (due - S.head > S.queue) S.head = due - S.queue; /* a stall: skip, clients get dropped */
    while (S.head < due)
        make_event(++S.head);
    for (size_t i = S.n_live; i-- > 0;) {
        conn_t *c = S.live[i];
        if (!c->blocked) flush(c); /* may remove c: the swapped-in entry was already done */
    }
}

static void stats(uint64_t now, bool final) {
    if (S.quiet || (!final && now - S.last_stats_ns < STATS_NS)) return;
    double dt = (double)(now - S.last_stats_ns) / 1e9;
    fprintf(stderr,
            "bp-ceiling: conns=%zu live=%zu offset=%llu deliveries/s=%.0f MB/s=%.1f writes/s=%.0f "
            "eagain/s=%.0f snapshots=%llu resumes=%llu dropped_slow=%llu\n",
            S.n_conns, S.n_live, (unsigned long long)S.head,
            (double)(S.st.deliveries - S.last_st.deliveries) / dt,
            (double)(S.st.bytes - S.last_st.bytes) / dt / 1e6,
            (double)(S.st.writes - S.last_st.writes) / dt,
            (double)(S.st.eagain - S.last_st.eagain) / dt, (unsigned long long)S.st.snapshots,
            (unsigned long long)S.st.resumes, (unsigned long long)S.st.dropped_slow);
    S.last_st = S.st;
    S.last_stats_ns = now;
}

/* -- start-up ------------------------------------------------------------------------------- */

static void usage(FILE *o) {
    fputs("usage: bp-ceiling --port P [--host A] [--rate R] [--snapshot-bytes B] [--queue Q]"
          " [--quiet]\n"
          "  --rate R            events per second, each written to every client (default 100)\n"
          "  --snapshot-bytes B  snapshot padding (default 100000)\n"
          "  --queue Q           events a client may fall behind before it is dropped (1024)\n"
          "Stats go to stderr every 10 s; SIGINT or SIGTERM stops it.\n",
          o);
}

static int parse_args(int argc, char **argv) {
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},  {"host", required_argument, NULL, 'H'},
        {"rate", required_argument, NULL, 'r'},  {"snapshot-bytes", required_argument, NULL, 'b'},
        {"queue", required_argument, NULL, 'q'}, {"quiet", no_argument, NULL, 'Q'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    snprintf(S.host, sizeof S.host, "127.0.0.1");
    S.port = -1;
    S.rate = 100;
    S.snap_bytes = 100000;
    S.queue = 1024;
    int o;
    while ((o = getopt_long(argc, argv, "p:H:r:b:q:Qh", opts, NULL)) != -1) {
        switch (o) {
        case 'p': S.port = atoi(optarg); break;
        case 'H': snprintf(S.host, sizeof S.host, "%s", optarg); break;
        case 'r': S.rate = atof(optarg); break;
        case 'b': S.snap_bytes = (size_t)atol(optarg); break;
        case 'q': S.queue = (size_t)atol(optarg); break;
        case 'Q': S.quiet = true; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (S.port < 0 || S.port > 65535 || S.rate <= 0 || S.queue < 2 || optind != argc) return -1;
    return 0;
}

static int listen_on(void) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)S.port)};
    if (inet_pton(AF_INET, S.host, &a.sin_addr) != 1) return -1;
    S.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (S.lfd < 0 || bind(S.lfd, (struct sockaddr *)&a, sizeof a) || listen(S.lfd, SOMAXCONN))
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = S.lfd};
    return epoll_ctl(S.ep, EPOLL_CTL_ADD, S.lfd, &ev);
}

static int start_timer(void) {
    S.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    double interval = 1.0 / S.rate;
    if (interval < 0.001) interval = 0.001; /* several events per tick above 1000/s */
    long ns = (long)(interval * 1e9);
    struct itimerspec its = {.it_interval = {ns / 1000000000L, ns % 1000000000L},
                             .it_value = {ns / 1000000000L, ns % 1000000000L}};
    if (S.tfd < 0 || timerfd_settime(S.tfd, 0, &its, NULL)) return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = S.tfd};
    return epoll_ctl(S.ep, EPOLL_CTL_ADD, S.tfd, &ev);
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    S.max_fd = rl.rlim_cur > 1048576 ? 1048576 : (size_t)rl.rlim_cur;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    S.conns = calloc(S.max_fd, sizeof *S.conns);
    S.live = calloc(S.max_fd, sizeof *S.live);
    S.ring = calloc(S.queue, sizeof *S.ring);
    S.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!S.conns || !S.live || !S.ring || S.ep < 0 || make_snapshot_body()) {
        fprintf(stderr, "bp-ceiling: out of memory\n");
        return 1;
    }
    if (listen_on()) {
        fprintf(stderr, "bp-ceiling: cannot listen on %s:%d: %s\n", S.host, S.port,
                strerror(errno));
        return 1;
    }
    S.t0_ns = S.last_stats_ns = mono_ns();
    if (start_timer()) {
        perror("bp-ceiling: timerfd");
        return 1;
    }
    if (!S.quiet)
        fprintf(stderr,
                "bp-ceiling: ws://%s:%d/ws, %.0f events/s, snapshot %zu bytes, queue %zu,"
                " fd limit %zu\n",
                S.host, S.port, S.rate, S.snap_body_len, S.queue, S.max_fd);

    static struct epoll_event evs[EPOLL_BATCH];
    while (!stopping) {
        int n = epoll_wait(S.ep, evs, EPOLL_BATCH, 1000);
        if (n < 0 && errno != EINTR) {
            perror("bp-ceiling: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == S.lfd) {
                on_accept();
                continue;
            }
            if (fd == S.tfd) {
                on_timer();
                continue;
            }
            conn_t *c = S.conns[fd];
            if (!c) continue;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                on_readable(c);
                if (S.conns[fd] != c) continue;
            }
            if (evs[i].events & EPOLLOUT && c->blocked) {
                c->blocked = false;
                flush(c);
            }
        }
        stats(mono_ns(), false);
    }
    stats(mono_ns(), true);
    for (size_t fd = 0; fd < S.max_fd; fd++)
        if (S.conns[fd]) conn_close(S.conns[fd]);
    free(S.conns);
    free(S.live);
    free(S.ring);
    free(S.snap_body);
    close(S.ep);
    close(S.lfd);
    close(S.tfd);
    return 0;
}
