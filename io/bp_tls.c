/*
 * OpenSSL on memory BIOs (see bp_tls.h). The read BIO returns "retry" when
 * empty, so OpenSSL asks for more bytes (SSL_ERROR_WANT_READ) instead of
 * seeing an end of stream; the write BIO only grows, so a write never
 * waits. OpenSSL's error queue is cleared before each call and read right
 * after a failure, so a reason is never one left over from another
 * connection.
 */
#include "bp_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITE_CHUNK (1 << 20) /* SSL_write takes an int: larger writes go in pieces */

struct bp_tls_ctx {
    SSL_CTX *ssl;
    bool client;
};

struct bp_tls {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    char why[BP_TLS_WHY_MAX];
};

/* The reason of the last OpenSSL error, "" if none; clears the queue. */
static void last_reason(char *out, size_t len) {
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    const char *r = last ? ERR_reason_error_string(last) : NULL;
    if (last && !r) {
        ERR_error_string_n(last, out, len);
        return;
    }
    snprintf(out, len, "%s", r ? r : "");
}

static bp_tls_ctx_t *ctx_new(bool client, char *why, size_t why_len) {
    bp_tls_ctx_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    ERR_clear_error();
    c->client = client;
    c->ssl = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
    if (!c->ssl) {
        char r[128];
        last_reason(r, sizeof r);
        snprintf(why, why_len, "cannot make a TLS context: %s", r);
        free(c);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* idle connections give their record buffers back */
    SSL_CTX_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
    return c;
}

/* access() first: OpenSSL's own message for a missing file names no file */
static int readable(const char *what, const char *file, char *why, size_t why_len) {
    if (access(file, R_OK) == 0) return 0;
    snprintf(why, why_len, "cannot read the %s %s: %s", what, file, strerror(errno));
    return -1;
}

bp_tls_ctx_t *bp_tls_server_ctx(const char *cert_file, const char *key_file, char *why,
                                size_t why_len) {
    if (readable("certificate", cert_file, why, why_len) ||
        readable("private key", key_file, why, why_len))
        return NULL;
    bp_tls_ctx_t *c = ctx_new(false, why, why_len);
    if (!c) return NULL;
    char r[128];
    /* feed connections live long: resumption tickets would only be noise */
    SSL_CTX_set_num_tickets(c->ssl, 0);
    if (SSL_CTX_use_certificate_chain_file(c->ssl, cert_file) != 1) {
        last_reason(r, sizeof r);
        snprintf(why, why_len, "%s is not a usable PEM certificate: %s", cert_file, r);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(c->ssl, key_file, SSL_FILETYPE_PEM) != 1) {
        last_reason(r, sizeof r);
        snprintf(why, why_len, "%s is not a usable PEM private key: %s", key_file, r);
        goto fail;
    }
    if (SSL_CTX_check_private_key(c->ssl) != 1) {
        last_reason(r, sizeof r);
        snprintf(why, why_len, "the key %s does not belong to the certificate %s: %s", key_file,
                 cert_file, r);
        goto fail;
    }
    return c;
fail:
    bp_tls_ctx_destroy(c);
    return NULL;
}

bp_tls_ctx_t *bp_tls_client_ctx(const char *ca_file, char *why, size_t why_len) {
    if (readable("CA file", ca_file, why, why_len)) return NULL;
    bp_tls_ctx_t *c = ctx_new(true, why, why_len);
    if (!c) return NULL;
    if (SSL_CTX_load_verify_locations(c->ssl, ca_file, NULL) != 1) {
        char r[128];
        last_reason(r, sizeof r);
        snprintf(why, why_len, "%s holds no usable PEM CA certificate: %s", ca_file, r);
        bp_tls_ctx_destroy(c);
        return NULL;
    }
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    return c;
}

void bp_tls_ctx_destroy(bp_tls_ctx_t *ctx) {
    if (!ctx) return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

bp_tls_t *bp_tls_create(bp_tls_ctx_t *ctx, const char *peer_name) {
    bp_tls_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    ERR_clear_error();
    t->ssl = SSL_new(ctx->ssl);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        SSL_free(t->ssl);
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        ERR_clear_error();
        free(t);
        return NULL;
    }
    BIO_set_mem_eof_return(t->rbio, -1); /* empty: "retry", not end of stream */
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    if (!ctx->client) {
        SSL_set_accept_state(t->ssl);
        return t;
    }
    SSL_set_connect_state(t->ssl);
    if (peer_name && *peer_name) {
        unsigned char ip[16];
        if (inet_pton(AF_INET, peer_name, ip) == 1 || inet_pton(AF_INET6, peer_name, ip) == 1) {
            if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), peer_name) != 1) goto fail;
        } else {
            SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            if (SSL_set_tlsext_host_name(t->ssl, peer_name) != 1 ||
                SSL_set1_host(t->ssl, peer_name) != 1)
                goto fail;
        }
    }
    return t;
fail:
    SSL_free(t->ssl); /* and the BIOs it holds */
    ERR_clear_error();
    free(t);
    return NULL;
}

void bp_tls_destroy(bp_tls_t *t) {
    if (!t) return;
    SSL_free(t->ssl);
    free(t);
}

/* Records why an SSL call that returned ret failed; returns the result
 * for the caller: BP_TLS_WANT, BP_TLS_CLOSED or BP_TLS_ERROR. */
static int outcome(bp_tls_t *t, int ret) {
    int e = SSL_get_error(t->ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return BP_TLS_WANT;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return BP_TLS_CLOSED;
    }
    char r[128];
    last_reason(r, sizeof r);
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK)
        snprintf(t->why, sizeof t->why, "%s: %s", r[0] ? r : "certificate verify failed",
                 X509_verify_cert_error_string(v));
    else
        snprintf(t->why, sizeof t->why, "%s", r[0] ? r : "protocol error");
    return BP_TLS_ERROR;
}

int bp_tls_feed(bp_tls_t *t, const void *data, size_t len) {
    while (len > 0) {
        int n = (int)(len > WRITE_CHUNK ? WRITE_CHUNK : len);
        if (BIO_write(t->rbio, data, n) != n) {
            snprintf(t->why, sizeof t->why, "out of memory");
            return BP_TLS_ERROR;
        }
        data = (const char *)data + n;
        len -= (size_t)n;
    }
    return 0;
}

int bp_tls_handshake(bp_tls_t *t) {
    if (SSL_is_init_finished(t->ssl)) return 1;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) return 1;
    int o = outcome(t, r);
    if (o == BP_TLS_CLOSED) {
        snprintf(t->why, sizeof t->why, "the peer closed during the handshake");
        return BP_TLS_ERROR;
    }
    return o;
}

bool bp_tls_done(const bp_tls_t *t) {
    return SSL_is_init_finished(t->ssl);
}

long bp_tls_read(bp_tls_t *t, void *buf, size_t cap) {
    ERR_clear_error();
    int n = SSL_read(t->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (n > 0) return n;
    return outcome(t, n);
}

int bp_tls_write(bp_tls_t *t, const void *data, size_t len) {
    if (!SSL_is_init_finished(t->ssl)) {
        snprintf(t->why, sizeof t->why, "write before the handshake completed");
        return BP_TLS_ERROR;
    }
    while (len > 0) {
        int n = (int)(len > WRITE_CHUNK ? WRITE_CHUNK : len);
        ERR_clear_error();
        int w = SSL_write(t->ssl, data, n);
        if (w <= 0) {
            int o = outcome(t, w);
            if (o != BP_TLS_ERROR) /* a memory BIO never blocks a write */
                snprintf(t->why, sizeof t->why, "the connection is closed");
            return BP_TLS_ERROR;
        }
        data = (const char *)data + w;
        len -= (size_t)w;
    }
    return 0;
}

int bp_tls_close_notify(bp_tls_t *t) {
    if (!SSL_is_init_finished(t->ssl)) return 0; /* nothing to close cleanly */
    ERR_clear_error();
    int r = SSL_shutdown(t->ssl);
    if (r >= 0) return 0; /* 0: sent, the peer's not yet seen: we do not wait for it */
    return outcome(t, r) == BP_TLS_ERROR ? BP_TLS_ERROR : 0;
}

size_t bp_tls_pending(const bp_tls_t *t) {
    return BIO_ctrl_pending(t->wbio);
}

size_t bp_tls_take(bp_tls_t *t, void *buf, size_t cap) {
    int n = BIO_read(t->wbio, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    return n > 0 ? (size_t)n : 0;
}

const char *bp_tls_why(const bp_tls_t *t) {
    return t->why;
}
