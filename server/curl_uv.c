/* libcurl's multi interface on a libuv loop (see curl_uv.h). */
#include "curl_uv.h"

#include <stdbool.h>
#include <stdlib.h>

typedef struct xfer {
    CURL *easy;
    bp_curl_done_cb done;
    void *data;
    struct xfer *prev, *next;
} xfer_t;

typedef struct sock sock_t;

struct bp_curl {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    xfer_t *xfers;
    sock_t *socks;
    size_t running;
    size_t handles; /* open uv handles: the timer and one poll per socket */
    bool closing;
    void (*on_closed)(void *);
    void *closed_data;
};

struct sock {
    uv_poll_t poll; /* first: the handle's address is the sock's */
    curl_socket_t fd;
    bp_curl_t *c;
    sock_t *prev, *next;
};

static void release(bp_curl_t *c) {
    if (--c->handles) return;
    void (*cb)(void *) = c->on_closed;
    void *data = c->closed_data;
    free(c);
    if (cb) cb(data);
}

static void on_handle_closed(uv_handle_t *h) {
    bp_curl_t *c = h->data;
    if ((void *)h != (void *)&c->timer) free(h); /* a sock_t: the poll is its first member */
    release(c);
}

static void close_sock(bp_curl_t *c, sock_t *k) {
    if (k->prev)
        k->prev->next = k->next;
    else
        c->socks = k->next;
    if (k->next) k->next->prev = k->prev;
    uv_poll_stop(&k->poll);
    k->poll.data = c;
    uv_close((uv_handle_t *)&k->poll, on_handle_closed);
}

static void unlink_xfer(bp_curl_t *c, xfer_t *x) {
    if (x->prev)
        x->prev->next = x->next;
    else
        c->xfers = x->next;
    if (x->next) x->next->prev = x->prev;
    c->running--;
}

/* Hands finished transfers back to their owners. */
static void check_done(bp_curl_t *c) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        xfer_t *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(c->multi, easy);
        if (!x) continue;
        unlink_xfer(c, x);
        x->done(easy, rc, x->data);
        free(x);
    }
}

static void on_poll(uv_poll_t *h, int status, int events) {
    sock_t *k = h->data;
    bp_curl_t *c = k->c;
    int flags = 0, running;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(c->multi, k->fd, flags, &running);
    check_done(c);
}

/* curl says what to watch on a socket (or that it is done with it). */
static int on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp) {
    bp_curl_t *c = userp;
    sock_t *k = socketp;
    (void)easy;
    if (action == CURL_POLL_REMOVE) {
        if (k) {
            if (c->multi) curl_multi_assign(c->multi, fd, NULL);
            close_sock(c, k);
        }
        return 0;
    }
    if (!c->multi) return 0; /* closing */
    if (!k) {
        k = calloc(1, sizeof *k);
        if (!k || uv_poll_init_socket(c->loop, &k->poll, fd)) {
            free(k);
            return -1;
        }
        k->fd = fd;
        k->c = c;
        k->poll.data = k;
        k->next = c->socks;
        if (c->socks) c->socks->prev = k;
        c->socks = k;
        c->handles++;
        curl_multi_assign(c->multi, fd, k);
    }
    int ev = (action & CURL_POLL_IN ? UV_READABLE : 0) | (action & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&k->poll, ev, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t) {
    bp_curl_t *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
    bp_curl_t *c = userp;
    (void)multi;
    if (c->closing) return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

bp_curl_t *bp_curl_create(uv_loop_t *loop) {
    bp_curl_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->loop = loop;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        return NULL;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->handles = 1;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

int bp_curl_add(bp_curl_t *c, CURL *easy, bp_curl_done_cb done, void *data) {
    if (c->closing) return -1;
    xfer_t *x = calloc(1, sizeof *x);
    if (!x) return -1;
    x->easy = easy;
    x->done = done;
    x->data = data;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
    if (curl_multi_add_handle(c->multi, easy) != CURLM_OK) {
        free(x);
        return -1;
    }
    x->next = c->xfers;
    if (c->xfers) c->xfers->prev = x;
    c->xfers = x;
    c->running++;
    return 0;
}

size_t bp_curl_running(const bp_curl_t *c) {
    return c ? c->running : 0;
}

void bp_curl_close(bp_curl_t *c, void (*on_closed)(void *), void *data) {
    if (!c) {
        if (on_closed) on_closed(data);
        return;
    }
    c->closing = true;
    c->on_closed = on_closed;
    c->closed_data = data;
    while (c->xfers) {
        xfer_t *x = c->xfers;
        curl_multi_remove_handle(c->multi, x->easy); /* its sockets: CURL_POLL_REMOVE */
        unlink_xfer(c, x);
        x->done(x->easy, CURLE_ABORTED_BY_CALLBACK, x->data);
        free(x);
    }
    CURLM *m = c->multi;
    c->multi = NULL;
    curl_multi_cleanup(m);
    while (c->socks)
        close_sock(c, c->socks); /* any curl did not give back */
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}
