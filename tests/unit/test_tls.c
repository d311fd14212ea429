/*
 * io/bp_tls: a client and a server engine pumped into each other in
 * memory, no sockets. Certificates are made here with OpenSSL (a CA, and
 * leaves it signs for given names), written to a temporary directory.
 */
#include "bp_tls.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/bp-test-tls-XXXXXX";
static char ca_pem[256], other_ca_pem[256], leaf_pem[256], leaf_key[256], ip_pem[256], ip_key[256];

static EVP_PKEY *new_key(void) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/* A certificate for key, signed by issuer (NULL: self-signed CA). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *san) {
    static long serial = 1;
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c), -60);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400);
    X509_set_pubkey(c, key);
    X509_NAME *name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    if (!issuer) {
        add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(c, issuer, NID_subject_alt_name, san);
    }
    assert_true(X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return c;
}

static void write_pem(const char *path, X509 *cert, EVP_PKEY *key) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (cert) PEM_write_X509(f, cert);
    if (key) PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

static int setup(void **state) {
    (void)state;
    if (!mkdtemp(dir)) return -1;
    EVP_PKEY *cak = new_key(), *ok = new_key(), *lk = new_key();
    X509 *ca = make_cert(cak, "test CA", NULL, NULL, NULL);
    X509 *other = make_cert(ok, "other CA", NULL, NULL, NULL);
    X509 *leaf = make_cert(lk, "collector", ca, cak, "DNS:collector.example,DNS:localhost");
    X509 *ipleaf = make_cert(lk, "by address", ca, cak, "IP:127.0.0.1");
    snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", dir);
    snprintf(other_ca_pem, sizeof other_ca_pem, "%s/other.pem", dir);
    snprintf(leaf_pem, sizeof leaf_pem, "%s/leaf.pem", dir);
    snprintf(leaf_key, sizeof leaf_key, "%s/leaf.key", dir);
    snprintf(ip_pem, sizeof ip_pem, "%s/ip.pem", dir);
    snprintf(ip_key, sizeof ip_key, "%s/ip.key", dir);
    write_pem(ca_pem, ca, NULL);
    write_pem(other_ca_pem, other, NULL);
    write_pem(leaf_pem, leaf, NULL);
    write_pem(leaf_key, NULL, lk);
    write_pem(ip_pem, ipleaf, NULL);
    write_pem(ip_key, NULL, lk);
    X509_free(ca);
    X509_free(other);
    X509_free(leaf);
    X509_free(ipleaf);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(ok);
    EVP_PKEY_free(lk);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    const char *files[] = {ca_pem, other_ca_pem, leaf_pem, leaf_key, ip_pem, ip_key};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        unlink(files[i]);
    rmdir(dir);
    return 0;
}

/* Moves what from has for the network into to; returns the bytes moved. */
static size_t move(bp_tls_t *from, bp_tls_t *to) {
    char buf[4096];
    size_t total = 0, n;
    while ((n = bp_tls_take(from, buf, sizeof buf)) > 0) {
        assert_int_equal(bp_tls_feed(to, buf, n), 0);
        total += n;
    }
    return total;
}

/* Runs the handshake to its end: 1 done, or BP_TLS_ERROR from either side
 * (*failed names which: 'c' or 's'). */
static int handshake(bp_tls_t *c, bp_tls_t *s, char *failed) {
    char tmp[64];
    for (int round = 0; round < 20; round++) {
        int hc = bp_tls_handshake(c);
        if (hc == BP_TLS_ERROR) {
            *failed = 'c';
            move(c, s); /* its alert */
            return BP_TLS_ERROR;
        }
        move(c, s);
        long hs = bp_tls_read(s, tmp, sizeof tmp); /* the server handshakes by reading */
        if (hs == BP_TLS_ERROR) {
            *failed = 's';
            return BP_TLS_ERROR;
        }
        move(s, c);
        if (hc == 1 && bp_tls_done(s)) return 1;
    }
    return 0;
}

static void test_roundtrip(void **state) {
    (void)state;
    char why[300];
    bp_tls_ctx_t *sctx = bp_tls_server_ctx(leaf_pem, leaf_key, why, sizeof why);
    assert_non_null(sctx);
    bp_tls_ctx_t *cctx = bp_tls_client_ctx(ca_pem, why, sizeof why);
    assert_non_null(cctx);
    bp_tls_t *c = bp_tls_create(cctx, "collector.example"), *s = bp_tls_create(sctx, NULL);
    assert_false(bp_tls_done(c));
    /* no plaintext before the handshake */
    assert_int_equal(bp_tls_write(c, "x", 1), BP_TLS_ERROR);
    char failed = 0;
    assert_int_equal(handshake(c, s, &failed), 1);

    /* lines both ways, a big batch split into records */
    static char big[200000], got[200000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    assert_int_equal(bp_tls_write(c, big, sizeof big), 0);
    assert_true(bp_tls_pending(c) > sizeof big);
    move(c, s);
    size_t have = 0;
    long n;
    while ((n = bp_tls_read(s, got + have, 16384)) > 0)
        have += (size_t)n;
    assert_int_equal(n, BP_TLS_WANT);
    assert_int_equal(have, sizeof big);
    assert_memory_equal(big, got, sizeof big);
    assert_int_equal(bp_tls_write(s, "{\"ok\":true}\n", 12), 0);
    move(s, c);
    assert_int_equal(bp_tls_read(c, got, sizeof got), 12);
    assert_memory_equal(got, "{\"ok\":true}\n", 12);

    /* bytes in pieces of one: the same plaintext */
    assert_int_equal(bp_tls_write(c, "hello\n", 6), 0);
    char wire[512];
    size_t w = bp_tls_take(c, wire, sizeof wire);
    assert_true(w > 6);
    for (size_t i = 0; i < w; i++) {
        assert_int_equal(bp_tls_feed(s, wire + i, 1), 0);
        n = bp_tls_read(s, got, sizeof got);
        if (i + 1 < w) assert_int_equal(n, BP_TLS_WANT);
    }
    assert_int_equal(n, 6);

    /* a clean end */
    assert_int_equal(bp_tls_close_notify(c), 0);
    move(c, s);
    assert_int_equal(bp_tls_read(s, got, sizeof got), BP_TLS_CLOSED);
    bp_tls_destroy(c);
    bp_tls_destroy(s);
    bp_tls_ctx_destroy(cctx);
    bp_tls_ctx_destroy(sctx);
}

/* A certificate by address; one for another name; one from another CA. */
static void test_verification(void **state) {
    (void)state;
    char why[300], failed;
    bp_tls_ctx_t *sctx = bp_tls_server_ctx(ip_pem, ip_key, why, sizeof why);
    bp_tls_ctx_t *cctx = bp_tls_client_ctx(ca_pem, why, sizeof why);
    assert_non_null(sctx);
    bp_tls_t *c = bp_tls_create(cctx, "127.0.0.1"), *s = bp_tls_create(sctx, NULL);
    assert_int_equal(handshake(c, s, &failed), 1);
    bp_tls_destroy(c);
    bp_tls_destroy(s);

    c = bp_tls_create(cctx, "10.0.0.1");
    s = bp_tls_create(sctx, NULL);
    assert_int_equal(handshake(c, s, &failed), BP_TLS_ERROR);
    assert_int_equal(failed, 'c');
    assert_string_equal(bp_tls_why(c), "certificate verify failed: IP address mismatch");
    /* the server hears about it as an alert */
    char tmp[16];
    assert_int_equal(bp_tls_read(s, tmp, sizeof tmp), BP_TLS_ERROR);
    assert_non_null(strstr(bp_tls_why(s), "alert"));
    bp_tls_destroy(c);
    bp_tls_destroy(s);
    bp_tls_ctx_destroy(sctx);

    sctx = bp_tls_server_ctx(leaf_pem, leaf_key, why, sizeof why);
    c = bp_tls_create(cctx, "feeds.example.org");
    s = bp_tls_create(sctx, NULL);
    assert_int_equal(handshake(c, s, &failed), BP_TLS_ERROR);
    assert_string_equal(bp_tls_why(c), "certificate verify failed: hostname mismatch");
    bp_tls_destroy(c);
    bp_tls_destroy(s);
    bp_tls_ctx_destroy(cctx);

    cctx = bp_tls_client_ctx(other_ca_pem, why, sizeof why);
    c = bp_tls_create(cctx, "collector.example");
    s = bp_tls_create(sctx, NULL);
    assert_int_equal(handshake(c, s, &failed), BP_TLS_ERROR);
    assert_string_equal(bp_tls_why(c),
                        "certificate verify failed: unable to get local issuer certificate");
    bp_tls_destroy(c);
    bp_tls_destroy(s);
    bp_tls_ctx_destroy(cctx);
    bp_tls_ctx_destroy(sctx);
}

/* Plain text where a ClientHello belongs: an error, no plaintext. */
static void test_not_tls(void **state) {
    (void)state;
    char why[300], got[64];
    bp_tls_ctx_t *sctx = bp_tls_server_ctx(leaf_pem, leaf_key, why, sizeof why);
    bp_tls_t *s = bp_tls_create(sctx, NULL);
    const char line[] = "{\"type\":\"hello\",\"token\":\"bp_x\"}\n";
    assert_int_equal(bp_tls_feed(s, line, sizeof line - 1), 0);
    assert_int_equal(bp_tls_read(s, got, sizeof got), BP_TLS_ERROR);
    assert_string_equal(bp_tls_why(s), "wrong version number");
    assert_false(bp_tls_done(s));
    bp_tls_destroy(s);
    /* an HTTP request, as a health checker pointed at the wrong port would send */
    s = bp_tls_create(sctx, NULL);
    assert_int_equal(bp_tls_feed(s, "GET / HTTP/1.1\r\n\r\n", 18), 0);
    assert_int_equal(bp_tls_read(s, got, sizeof got), BP_TLS_ERROR);
    assert_non_null(strstr(bp_tls_why(s), "http request"));
    bp_tls_destroy(s);
    bp_tls_ctx_destroy(sctx);
}

/* Files that are missing or wrong are named in the reason. */
static void test_bad_files(void **state) {
    (void)state;
    char why[300];
    assert_null(bp_tls_server_ctx("/nonexistent/cert.pem", leaf_key, why, sizeof why));
    assert_string_equal(
        why, "cannot read the certificate /nonexistent/cert.pem: No such file or directory");
    assert_null(bp_tls_server_ctx(leaf_pem, ca_pem, why, sizeof why));
    assert_non_null(strstr(why, "is not a usable PEM private key"));
    assert_null(bp_tls_server_ctx(leaf_key, leaf_key, why, sizeof why));
    assert_non_null(strstr(why, "is not a usable PEM certificate"));
    assert_null(bp_tls_client_ctx(leaf_key, why, sizeof why));
    assert_non_null(strstr(why, "holds no usable PEM CA certificate"));
    assert_null(bp_tls_client_ctx("/nonexistent/ca.pem", why, sizeof why));
    assert_non_null(strstr(why, "cannot read the CA file"));
    bp_tls_ctx_destroy(NULL);
    bp_tls_destroy(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_verification),
        cmocka_unit_test(test_not_tls),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
