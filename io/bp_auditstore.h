/*
 * Reading the audit trail (bp_auditstore.c): a page of <prefix>audit, the
 * stream every write appends to with its change (io/apply.lua, the MCI
 * and alert scripts, bp-admin), newest first. Results are typed: the
 * caller (server/audit.c) never walks a redisReply.
 */
#ifndef BP_AUDITSTORE_H
#define BP_AUDITSTORE_H

#include "bp_redis.h"

#include <stdbool.h>
#include <stddef.h>

/* One field of an entry; strings borrowed for the callback only. */
typedef struct {
    const char *name, *value;
    size_t value_len;
} bp_audit_field_t;

typedef struct {
    const char *id; /* "<ms>-<seq>" */
    const bp_audit_field_t *fields;
    size_t n_fields;
} bp_audit_entry_t;

/* The value of field name (its length in *len), NULL when absent. */
const char *bp_audit_field(const bp_audit_entry_t *e, const char *name, size_t *len);

/* ok false: the trail could not be read. Else the well-formed entries of
 * the page (n) and how many stream entries it held (scanned). */
typedef void (*bp_auditstore_cb)(void *data, bool ok, const bp_audit_entry_t *entries, size_t n,
                                 size_t scanned);
/* Reads at most count entries from end back to start (XREVRANGE bounds:
 * "+", "-", "<ms>", "(<id>"). 0: cb will be called once; -1: not sent. */
int bp_auditstore_page(bp_redis_t *redis, const char *prefix, const char *end, const char *start,
                       int count, bp_auditstore_cb cb, void *data);

#endif
