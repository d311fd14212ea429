/*
 * TLS for the feed's byte streams (collector.tls_cert / collector.tls_key on
 * the collector, collector.tls_ca on its clients), without I/O: OpenSSL
 * works on two memory BIOs, and the caller moves bytes between them and
 * its libuv stream, like hiredis' reader is fed bytes and gives replies.
 *
 *   network -> bp_tls_feed() -> [OpenSSL] -> bp_tls_read()  -> plaintext
 *   plaintext -> bp_tls_write() -> [OpenSSL] -> bp_tls_take() -> network
 *
 * Every byte from the network goes to OpenSSL and only OpenSSL parses it.
 * After any call that may make output (feed + read, handshake, write,
 * close_notify) the caller sends what bp_tls_pending() reports.
 *
 * Bounds: the input BIO holds what the caller fed and OpenSSL has not yet
 * turned into plaintext; a caller that feeds only after bp_tls_read()
 * answered BP_TLS_WANT keeps it below one read plus one TLS record. The
 * output BIO holds what the caller wrote and has not taken; take it at once.
 * TLS 1.2 at least, no renegotiation, no compression.
 */
#ifndef BP_TLS_H
#define BP_TLS_H

#include <stdbool.h>
#include <stddef.h>

#define BP_TLS_WHY_MAX 200

/* Results of bp_tls_read() and bp_tls_handshake() besides byte counts. */
#define BP_TLS_WANT   0  /* nothing now: feed more bytes from the network */
#define BP_TLS_ERROR  -1 /* fatal: bp_tls_why() says why; close the connection */
#define BP_TLS_CLOSED -2 /* the peer sent close_notify: no more plaintext */

typedef struct bp_tls_ctx bp_tls_ctx_t;
typedef struct bp_tls bp_tls_t;

/* A server context from PEM files (certificate chain, private key). NULL
 * on failure, with the reason in why (naming the file). */
bp_tls_ctx_t *bp_tls_server_ctx(const char *cert_file, const char *key_file, char *why,
                                size_t why_len);
/* A client context that trusts only the CAs in ca_file (PEM) and refuses
 * any peer whose certificate does not verify. NULL on failure (why). */
bp_tls_ctx_t *bp_tls_client_ctx(const char *ca_file, char *why, size_t why_len);
/* NULL: no-op. Connections made from it must be destroyed first. */
void bp_tls_ctx_destroy(bp_tls_ctx_t *ctx);

/* One connection. peer_name: for a client context, the name (DNS name or
 * IP address) the server's certificate must be valid for, also sent as SNI;
 * NULL for a server context. NULL on failure (out of memory). */
bp_tls_t *bp_tls_create(bp_tls_ctx_t *ctx, const char *peer_name);
/* NULL: no-op. */
void bp_tls_destroy(bp_tls_t *t);

/* Bytes received from the network; copied. 0, or BP_TLS_ERROR. */
int bp_tls_feed(bp_tls_t *t, const void *data, size_t len);

/* Runs the handshake as far as the bytes fed so far allow: 1 done,
 * BP_TLS_WANT (feed more), BP_TLS_ERROR. A server need not call it:
 * bp_tls_read() runs the handshake too. */
int bp_tls_handshake(bp_tls_t *t);
bool bp_tls_done(const bp_tls_t *t); /* the handshake has completed */

/* Decrypted bytes into buf (at most cap): the count (> 0), BP_TLS_WANT,
 * BP_TLS_CLOSED or BP_TLS_ERROR. */
long bp_tls_read(bp_tls_t *t, void *buf, size_t cap);

/* Encrypts all of data (only once the handshake is done): 0 or
 * BP_TLS_ERROR. The records wait in the output BIO. */
int bp_tls_write(bp_tls_t *t, const void *data, size_t len);

/* Queues close_notify (a clean end of the stream). 0 or BP_TLS_ERROR. */
int bp_tls_close_notify(bp_tls_t *t);

/* Bytes to send to the network now, and taking them (up to cap; returns
 * the count). */
size_t bp_tls_pending(const bp_tls_t *t);
size_t bp_tls_take(bp_tls_t *t, void *buf, size_t cap);

/* Why the last call failed, e.g. "certificate verify failed: self-signed
 * certificate" or "wrong version number"; "" when nothing failed. */
const char *bp_tls_why(const bp_tls_t *t);

#endif
