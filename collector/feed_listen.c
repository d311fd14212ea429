/*
 * The feed server's listener and life (feed_server_int.h): accepting a
 * connection (or refusing one past collector.max_connections with a reply
 * line), the sweep that closes idle connections and slow TLS handshakes,
 * create and close, and the figures. One connection's work is
 * feed_server.c.
 */
#include "bp_log.h"
#include "bp_time.h"
#include "feed_server_int.h"

#include <stdlib.h>
#include <string.h>

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
        uv_close((uv_handle_t *)&c->tcp, bp_feed_on_conn_closed);
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
    bp_feed_update_reading(c);
}

static void on_sweep(uv_timer_t *t) {
    bp_feed_server_t *fs = t->data;
    int64_t now = bp_time_now_ms();
    int64_t idle = (int64_t)fs->s->collector_idle_timeout_s * 1000;
    for (conn_t *c = fs->conns, *next; c; c = next) {
        next = c->next;
        if (!c->awaiting && now - c->last_active_ms > idle) {
            bp_info("feed %s: idle for %d s, closing", c->peer, fs->s->collector_idle_timeout_s);
            bp_feed_conn_close(c);
            bp_feed_maybe_free(c);
        } else if (c->tls && !bp_tls_done(c->tls) && now - c->accepted_ms > TLS_HANDSHAKE_MS) {
            bp_info("feed %s: no TLS handshake within %d s, closing", c->peer,
                    TLS_HANDSHAKE_MS / 1000);
            bp_feed_conn_close(c);
            bp_feed_maybe_free(c);
        }
    }
    bp_feed_resume_paused(fs);
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
    fs->apply = bp_apply_create(loop, s, reg, APPLY_LANES, APPLY_MAX_PENDING, bp_feed_on_applied);
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
    uv_check_start(&fs->flush, bp_feed_on_flush);
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
    bp_feed_check_closed(fs);
}

static void on_apply_closed(void *p) {
    bp_feed_server_t *fs = p;
    fs->parts_open--;
    bp_feed_check_closed(fs);
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
        if (c->closed) bp_feed_maybe_free(c); /* open ones: when their handle is released */
    }
    fs->dirty = NULL;
    while (fs->conns)
        bp_feed_conn_close(fs->conns);
    bp_apply_close(fs->apply, on_apply_closed, fs);
}
