/*
 * Mass-casualty incidents in Redis (bp_mcistore.c), for server/mci.c:
 * <prefix>mcis (set of open ids), <prefix>mci:<id> (hash),
 * <prefix>mci:<id>:ans (hash: hospital -> "i,d,m,by,ms"),
 * <prefix>mci:<id>:pat (list: "triage,hospital,unit,by,ms"). Reads are one
 * EVAL of io/mci_read.lua (read-only); every write is one EVAL of
 * io/mci_write.lua, which checks the MCI is open and appends the audit row
 * in the same call (and, with redis.min_replicas_ack, a WAIT behind it).
 * Results are typed: no caller walks a redisReply.
 */
#ifndef BP_MCISTORE_H
#define BP_MCISTORE_H

#include "bp_redis.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The scripts, embedded at build time (io/CMakeLists.txt). */
extern const char bp_mci_read_lua[];
extern const size_t bp_mci_read_lua_len;
extern const char bp_mci_write_lua[];
extern const size_t bp_mci_write_lua_len;

/* A hospital's answer: its id and "i,d,m,by,ms". */
typedef struct {
    const char *hospital, *value;
} bp_mci_answer_row_t;

/* One MCI as stored. Every string is borrowed for the callback only; a
 * field absent from the hash reads "" (numbers: 0). */
typedef struct {
    const char *id;
    double lat, lon, radius_km;
    int expected[3]; /* immediate, delayed, minor */
    const char *address, *status, *by;
    int64_t at_ms;
    const bp_mci_answer_row_t *answers;
    size_t n_answers;
    const char *const *patients; /* "triage,hospital,unit,by,ms"; NULL: not a string */
    size_t n_patients;
} bp_mci_row_t;

/* The answer of hospital (NULL when it has not answered). */
const char *bp_mci_row_answer(const bp_mci_row_t *m, const char *hospital);

/* ok false: storage did not answer; else rows (n of them, 0 when none). */
typedef void (*bp_mcistore_read_cb)(void *data, bool ok, const bp_mci_row_t *rows, size_t n);
/* Reads the open MCIs (id NULL) or one. 0: cb will be called once; -1: not
 * sent (cb is not called). */
int bp_mcistore_read(bp_redis_t *redis, const char *prefix, const char *id, bp_mcistore_read_cb cb,
                     void *data);

/* One write: action declare|answer|patient|close on MCI id, by actor
 * (role, address), with its audit row (audit_after: JSON), the audit stream
 * trimmed to retain_from_ms; tail: the action's own arguments (see
 * io/mci_write.lua). */
typedef struct {
    const char *action, *id, *actor, *role, *addr, *audit_after;
    int64_t now_ms, retain_from_ms;
    const char *const *tail;
    size_t n_tail;
} bp_mci_write_t;

/* answered false: storage did not answer; else result, the script's
 * (1 done; 0 no such open MCI; -1 too many patients; -2 too many open MCIs;
 * -3 the id is taken), and replicated: min_replicas_ack replicas confirmed
 * it (always true when min_replicas_ack is 0). */
typedef void (*bp_mcistore_write_cb)(void *data, bool answered, long long result, bool replicated);
/* 0: cb will be called once; -1: not sent (cb is not called). */
int bp_mcistore_write(bp_redis_t *redis, const char *prefix, const bp_mci_write_t *w,
                      int min_replicas_ack, int replica_ack_timeout_ms, bp_mcistore_write_cb cb,
                      void *data);

#endif
