/* Batched accept on our own socket, adoption into lws (see listener.h). */
#include "listener.h"
#include "bp_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH    64 /* connections adopted per loop turn */
#define EMFILE_PAUSE_MS 100

struct bp_listener {
    uv_poll_t poll;
    uv_timer_t pause;
    int fd;
    int port;
    struct lws_vhost *vh;
    int open_handles;
    uint64_t emfile;
};

static void on_readable(uv_poll_t *p, int status, int events);

static void on_resume(uv_timer_t *t) {
    bp_listener_t *l = t->data;
    uv_poll_start(&l->poll, UV_READABLE, on_readable);
}

static void on_readable(uv_poll_t *p, int status, int events) {
    bp_listener_t *l = p->data;
    (void)events;
    if (status < 0) return;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                /* out of descriptors: back off briefly instead of spinning on
                 * a readable socket we cannot accept from */
                if (l->emfile++ % 1000 == 0)
                    bp_warn("accept: out of file descriptors (%s); pausing", strerror(errno));
                uv_poll_stop(&l->poll);
                uv_timer_start(&l->pause, on_resume, EMFILE_PAUSE_MS, 0);
            }
            return; /* EAGAIN: all taken; anything else: try again next turn */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* on failure lws closes the descriptor itself */
        lws_adopt_socket_vhost(l->vh, fd);
    }
}

bp_listener_t *bp_listener_create(uv_loop_t *loop, const char *host, int port, int backlog,
                                  struct lws_vhost *vh) {
    struct sockaddr_storage sa;
    socklen_t salen;
    memset(&sa, 0, sizeof sa);
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&sa) == 0) {
        salen = sizeof(struct sockaddr_in);
    } else if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa) == 0) {
        salen = sizeof(struct sockaddr_in6);
    } else {
        bp_error("server.host \"%s\" is not an IPv4 or IPv6 address", host);
        return NULL;
    }
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        bp_error("socket: %s", strerror(errno));
        return NULL;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, salen) || listen(fd, backlog)) {
        bp_error("cannot listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return NULL;
    }
    bp_listener_t *l = calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return NULL;
    }
    l->fd = fd;
    l->vh = vh;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    uv_poll_init(loop, &l->poll, fd);
    uv_timer_init(loop, &l->pause);
    l->poll.data = l->pause.data = l;
    l->open_handles = 2;
    uv_poll_start(&l->poll, UV_READABLE, on_readable);
    return l;
}

int bp_listener_port(const bp_listener_t *l) {
    return l->port;
}

static void on_closed(uv_handle_t *h) {
    bp_listener_t *l = h->data;
    if (--l->open_handles == 0) {
        close(l->fd);
        free(l);
    }
}

void bp_listener_close(bp_listener_t *l) {
    if (!l) return;
    uv_poll_stop(&l->poll);
    uv_timer_stop(&l->pause);
    uv_close((uv_handle_t *)&l->poll, on_closed);
    uv_close((uv_handle_t *)&l->pause, on_closed);
}
