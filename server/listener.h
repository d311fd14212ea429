/*
 * The server's listening socket, owned by us rather than by lws: accepted
 * connections are handed to lws with lws_adopt_socket_vhost().
 *
 * Why: lws 4.1 accepts everything queued in one loop turn and gives each new
 * connection a handshake timer in a single sorted list, so a storm of k
 * reconnects costs O(k^2) before any handshake is served. Accepting at most
 * ACCEPT_BATCH per turn lets lws serve handshakes (and drop their timers) in
 * between. It also gives us the bind address and backlog as configured (lws
 * with IPv6 binds every address when given an IPv4 literal, and listens
 * with SOMAXCONN).
 */
#ifndef BP_LISTENER_H
#define BP_LISTENER_H

#include <libwebsockets.h>
#include <uv.h>

typedef struct bp_listener bp_listener_t;

/* Binds host:port (an IPv4 or IPv6 literal; port 0 = any free port) with the
 * given backlog (the kernel caps it at net.core.somaxconn) and starts
 * accepting into vh. NULL on failure (logged). */
bp_listener_t *bp_listener_create(uv_loop_t *loop, const char *host, int port, int backlog,
                                  struct lws_vhost *vh);

int bp_listener_port(const bp_listener_t *l);

/* Stops accepting; frees when libuv has released the handles. */
void bp_listener_close(bp_listener_t *l);

#endif
