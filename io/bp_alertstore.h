/*
 * Alert records, acknowledgements and mutes in Redis (bp_alertstore.c), for
 * server/alerting.c: the scripts (io/alerts_read.lua and
 * io/alerts_apply.lua for the once-a-second sync; io/alert_ack.lua and
 * io/alert_mute.lua for what dispatchers do), and typed calls for the
 * acknowledgement and the mute, so that no route handler walks a
 * redisReply. Each write is audited in the same script, and with
 * redis.min_replicas_ack its answer waits for a WAIT sent right behind it
 * (acknowledged means replicated, as for feed lines and MCI writes).
 */
#ifndef BP_ALERTSTORE_H
#define BP_ALERTSTORE_H

#include "bp_auth.h"
#include "bp_events.h"
#include "bp_redis.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The scripts, embedded at build time (io/CMakeLists.txt). */
extern const char bp_alerts_read_lua[];
extern const size_t bp_alerts_read_lua_len;
extern const char bp_alerts_apply_lua[];
extern const size_t bp_alerts_apply_lua_len;
extern const char bp_alert_ack_lua[];
extern const size_t bp_alert_ack_lua_len;
extern const char bp_alert_mute_lua[];
extern const size_t bp_alert_mute_lua_len;

/* Who does it, for the audit row: the trail trimmed to retain_from_ms. */
typedef struct {
    const char *actor, *role, *addr;
    int64_t now_ms, retain_from_ms;
} bp_alert_actor_t;

/* ok false: storage did not answer. Else record: the alert as stored (len
 * bytes, borrowed for the callback), NULL when there is none. */
typedef void (*bp_alertstore_record_cb)(void *data, bool ok, const char *record, size_t len);
/* Reads alert id from hash alerts_key. 0: cb will be called once; -1: not sent. */
int bp_alertstore_record(bp_redis_t *redis, const char *alerts_key, const char *id,
                         bp_alertstore_record_cb cb, void *data);

/* How a write ended. answered false: storage did not answer, or refused
 * it (error: Redis's reason, "OOM ...", "NOREPLICAS ...", or NULL).
 * replicated: with wait.min_replicas > 0, that many replicas confirmed
 * everything up to it (a WAIT sent right behind it); always true without. */
typedef struct {
    bool answered;
    bool replicated;
    const char *error;
} bp_alertstore_done_t;

/* Acknowledged means replicated (redis.min_replicas_ack,
 * redis.replica_ack_timeout_ms): min_replicas 0 sends no WAIT. */
typedef struct {
    int min_replicas;
    int timeout_ms;
} bp_alertstore_wait_t;

/* result (when answered): 0 no such alert, 1 acknowledged now, 2
 * acknowledged before; by and at_ms: the acknowledgement as stored. */
typedef void (*bp_alertstore_ack_cb)(void *data, const bp_alertstore_done_t *done, int result,
                                     const char *by, int64_t at_ms);
/* Acknowledges alert id (of hash alerts_key, into hash acks_key) once, with
 * its audit row (audit_key) and its event ev (events_key). 0: cb will be
 * called once; -1: not sent. */
int bp_alertstore_ack(bp_redis_t *redis, const char *alerts_key, const char *acks_key,
                      const char *audit_key, const char *events_key, const char *id,
                      const bp_alert_actor_t *who, const bp_event_out_t *ev,
                      const bp_alertstore_wait_t *wait, bp_alertstore_ack_cb cb, void *data);

/* done (when answered): false when there was no mute to end. */
typedef void (*bp_alertstore_mute_cb)(void *data, const bp_alertstore_done_t *d, bool done);
/* Mutes rule until until_ms (minutes > 0), or ends its mute (minutes 0),
 * in hash mutes_key, with its audit row (audit_key). 0: cb will be called
 * once; -1: not sent. */
int bp_alertstore_mute(bp_redis_t *redis, const char *mutes_key, const char *audit_key,
                       const char *rule, int minutes, int64_t until_ms, const bp_alert_actor_t *who,
                       const bp_alertstore_wait_t *wait, bp_alertstore_mute_cb cb, void *data);

#endif
