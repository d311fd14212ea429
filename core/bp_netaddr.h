/*
 * Where a webhook may point (docs/security.md "Outgoing notifications"):
 * the URL rules and the classification of IP addresses into public and
 * the ranges a subscription must not reach (loopback, private networks,
 * link-local, carrier-grade NAT, multicast, documentation and other
 * special-purpose blocks). Pure: the text of a URL or an address in, a
 * verdict out. The server applies it twice: to the URL text when a
 * subscription is made, and to every address the host name resolves to
 * when a delivery is made (a name may point somewhere else by then).
 */
#ifndef BP_NETADDR_H
#define BP_NETADDR_H

#include "bp_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_URL_MAX      1024 /* bytes of a webhook URL */
#define BP_URL_HOST_MAX 253

typedef struct {
    bool https;
    char host[BP_URL_HOST_MAX + 1]; /* lower case; an IPv6 literal without brackets */
    bool host_is_ip;                /* a literal IPv4 (dotted quad) or IPv6 address */
    int port;                       /* given, or 80 / 443 */
    char path[BP_URL_MAX + 1];      /* path and query, "/" at least */
} bp_url_t;

/* Parses a webhook URL of exactly len bytes: http or https, a host name
 * (letters, digits and hyphens in dot-separated labels, a last label that
 * is not a number) or an IP literal, an optional port 1-65535, no user
 * name or password, no fragment, printable ASCII only, at most BP_URL_MAX
 * bytes. Hosts that only look like names but that resolvers read as
 * addresses ("2130706433", "0x7f.1") are refused. 0, or -1 with err
 * naming `field`. */
int bp_url_parse(const char *s, size_t len, bp_url_t *out, const char *field, bp_error_t *err);

typedef enum {
    BP_ADDR_PUBLIC,
    BP_ADDR_LOOPBACK,    /* 127/8, ::1 */
    BP_ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 */
    BP_ADDR_LINK_LOCAL,  /* 169.254/16 (cloud metadata lives here), fe80::/10 */
    BP_ADDR_UNSPECIFIED, /* 0/8, :: */
    BP_ADDR_MULTICAST,   /* 224/4, ff00::/8, 255.255.255.255 */
    BP_ADDR_RESERVED,    /* documentation, benchmarking, 240/4, 192.0.0/24, 100::/64, ... */
} bp_addr_class_t;

const char *bp_addr_class_name(bp_addr_class_t c);

/* An IPv4 address (network order bytes) or an IPv6 one. IPv4-mapped,
 * IPv4-compatible and NAT64 (64:ff9b::/96) IPv6 addresses are judged by
 * the IPv4 address inside. */
bp_addr_class_t bp_addr_classify4(const uint8_t a[4]);
bp_addr_class_t bp_addr_classify6(const uint8_t a[16]);

/* The class of an address in text (dotted quad or IPv6), or -1 when the
 * text is not an address. */
int bp_addr_classify_text(const char *s);

/* Whether a delivery may go to an address of class c: only public ones,
 * unless private targets are allowed (notify.allow_private_targets, for
 * tests and closed networks); unspecified and multicast never. */
bool bp_addr_allowed(bp_addr_class_t c, bool allow_private);

/* The e-mail rule of a subscription: local@domain, at most 254 bytes,
 * printable ASCII without spaces or the characters that could break a
 * mail header ("<>()[]\,;:"), a local part of 1-64 bytes and a domain of
 * dot-separated labels. 0, or -1 with err naming `field`. */
int bp_email_check(const char *s, size_t len, const char *field, bp_error_t *err);

#endif
