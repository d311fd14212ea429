/*
 * Redis Sentinel, the pure part: the list of sentinels from the settings,
 * which one to ask next, and what their answers (and a master's) mean.
 * No I/O here: io/bp_redis.c does the asking, on the loop, and hands the
 * strings of each reply to these functions.
 *
 * The rules follow the Sentinel client guidelines (redis.io, "Sentinel
 * client spec"): ask the sentinels in turn for the master's address; the
 * first that answers wins and is asked first next time; confirm with ROLE
 * that the address is a master; ask again after any disconnect, a READONLY
 * or LOADING error, or a +switch-master message.
 */
#ifndef BP_SENTINEL_H
#define BP_SENTINEL_H

#include "bp_error.h"

#include <stdbool.h>
#include <stddef.h>

#define BP_SENTINEL_MAX      16  /* sentinels in redis.sentinels */
#define BP_SENTINEL_HOST_MAX 253 /* a DNS name or an IP address */
#define BP_SENTINEL_NAME_MAX 64  /* a master's name */

typedef struct {
    char host[BP_SENTINEL_HOST_MAX + 1];
    int port;
} bp_sentinel_addr_t;

typedef struct {
    size_t n;
    bp_sentinel_addr_t addr[BP_SENTINEL_MAX];
    unsigned char order[BP_SENTINEL_MAX]; /* indexes into addr: who to ask first */
    size_t tried;                         /* asked in the current round */
} bp_sentinel_list_t;

/* Parses "host:port,host:port" (an IPv6 address in brackets: "[::1]:26379";
 * spaces around entries are allowed). 0, or -1 with err naming the entry and
 * the rule: 1 to BP_SENTINEL_MAX entries, each a host name or IP address
 * and a port from 1 to 65535, no entry twice. */
int bp_sentinel_list_parse(bp_sentinel_list_t *l, const char *text, bp_error_t *err);

/* The sentinel to ask next in this round (an index into l->addr), or -1
 * when every one was asked since the round began: the round is over, wait
 * (back off) and call bp_sentinel_restart(). */
int bp_sentinel_next(bp_sentinel_list_t *l);

/* Starts a new round from the first of the order. */
void bp_sentinel_restart(bp_sentinel_list_t *l);

/* Sentinel i answered with an address: it is asked first from now on (the
 * others keep their order) and the round is over. */
void bp_sentinel_answered(bp_sentinel_list_t *l, int i);

/* The answer to SENTINEL get-master-addr-by-name: its two strings (host,
 * port). 0 and out filled when they make an address, else -1. */
int bp_sentinel_addr_parse(const char *host, size_t host_len, const char *port, size_t port_len,
                           bp_sentinel_addr_t *out);

/* A +switch-master message: "<name> <old ip> <old port> <new ip> <new port>".
 * 0 and the new address when it is about the master called name; -1 when
 * it is about another master or malformed. */
int bp_sentinel_switch_parse(const char *msg, size_t len, const char *name, bp_sentinel_addr_t *to);

/* The first element of a ROLE reply: true only for "master". */
bool bp_sentinel_role_is_master(const char *role, size_t len);

/* An error reply that means the server is not (or not yet) a usable master:
 * READONLY (a replica), LOADING (loading its data set), MASTERDOWN (a
 * replica without its master). The link must find the master again. */
bool bp_sentinel_error_wants_master(const char *err, size_t len);

/* A valid master name for redis.master_name: 1 to BP_SENTINEL_NAME_MAX of
 * [A-Za-z0-9._-] (sentinel names have no spaces: they are words in
 * +switch-master messages). */
bool bp_sentinel_name_ok(const char *name);

/* "host:port", with brackets around an IPv6 address. */
void bp_sentinel_addr_format(const bp_sentinel_addr_t *a, char *out, size_t len);

#endif
