/*
 * Applies validated changes to Redis through the one Lua script
 * (io/apply.lua, embedded): idempotency per (source, seq), merge, version,
 * global offset, XADD to the stream and epoch, atomically; for incidents
 * also the rules that need the stored state (exists, unknown, the bound on
 * open incidents) and the set of open ones.
 *
 * Lanes: the apply holds one or more Redis connections ("lanes"); a submit
 * names its lane. Results arrive through the callback given at creation,
 * once per accepted submit, in submit order within a lane (one connection
 * answers in order; different lanes overlap). A sender whose changes must
 * apply in order (one feed connection) keeps to one lane.
 *
 * Acknowledged means replicated (redis.min_replicas_ack = n > 0): after
 * the changes sent in one loop turn, the lane sends `WAIT n timeout`, and
 * every result of those changes is held until that WAIT answers. One WAIT
 * covers everything sent before it on its connection, so a busy lane pays
 * one replica round trip per batch, not per change. If fewer than n
 * replicas confirm in redis.replica_ack_timeout_ms (or the connection is
 * lost first), OK and DUP results become UNAVAILABLE: the change is on the
 * master, maybe not on a replica, and the sender resends it (its resend is
 * a DUP, acknowledged only once a WAIT confirms it in turn).
 */
#ifndef BP_APPLY_H
#define BP_APPLY_H

#include "bp_buf.h"
#include "bp_keys.h"
#include "bp_model.h"
#include "bp_redis.h"
#include "bp_registry.h"
#include "bp_settings.h"

typedef enum {
    BP_APPLY_OK,
    BP_APPLY_DUP,          /* this source's seq was already applied */
    BP_APPLY_CONFLICT,     /* expected version did not match */
    BP_APPLY_OUT_OF_ORDER, /* older than the stored report */
    BP_APPLY_REFUSED,      /* an incident rule: see code, field, message */
    BP_APPLY_UNAVAILABLE,  /* Redis lost before it answered, or replicas did not confirm:
                              retry with the same seq (message: which) */
    BP_APPLY_FAILED        /* Redis answered with an error */
} bp_apply_status_t;

typedef struct {
    bp_apply_status_t status;
    uint64_t offset;    /* OK: where the change landed; DUP: the source's last */
    uint64_t version;   /* OK: new version; CONFLICT: current version */
    const char *epoch;  /* OK / DUP */
    const char *stored; /* CONFLICT: the current stored JSON (valid in the callback) */
    size_t stored_len;
    int64_t stored_at;   /* OUT_OF_ORDER: the stored report's time, ms */
    const char *code;    /* REFUSED: exists | unknown_incident | too_many_incidents;
                            UNAVAILABLE: "behind" or NULL */
    const char *field;   /* REFUSED: the field at fault */
    const char *message; /* FAILED: Redis' error text; REFUSED: why, in words;
                            UNAVAILABLE: NULL (Redis lost) or why (replicas,
                            or code "behind": prev was not decided) */
} bp_apply_result_t;

typedef void (*bp_apply_cb)(void *privdata, const bp_apply_result_t *res);

/* The script's keys and arguments for one change (see io/apply.lua), built
 * once here for the collector and the benchmark driver alike. Strings point
 * into the struct: valid until the next build or free. */
#define BP_APPLY_MAX_ARGS (11 + 16 + BP_BED__COUNT * 10 + 1 + (BP_SVC__COUNT + 1) * 2 + 16)
typedef struct {
    int argc;
    const char *argv[BP_APPLY_MAX_ARGS];
    size_t len[BP_APPLY_MAX_ARGS];
    char arena[4096]; /* numbers and the entity key */
    size_t used;
    bp_buf_t json; /* the ED, or the ambulance or incident fields fragment */
} bp_apply_args_t;

/* Who makes a change, for the audit trail. */
typedef struct {
    const char *id;   /* token id, or the feed's source when anonymous */
    const char *role; /* role name, "anonymous" without a token */
    const char *addr; /* the sender's address */
} bp_actor_t;

extern const char bp_apply_lua[];
extern const size_t bp_apply_lua_len;
/* The read side (io/snapshot.lua): a server's snapshot, read only. */
extern const char bp_snapshot_lua[];
extern const size_t bp_snapshot_lua_len;

/* How long a closed incident's hash is kept (then Redis expires it). */
#define BP_INCIDENT_CLOSED_TTL_S (7 * 86400)

void bp_apply_args_init(bp_apply_args_t *a);
void bp_apply_args_free(bp_apply_args_t *a);
/* sha: EVALSHA with it, or NULL for EVAL with the script text. prev: as
 * for bp_apply_submit (-1: none; ignored for a change without seq). base: the
 * registry entry of the hospital (for baselines), NULL otherwise.
 * s: stream.maxlen and stream.max_open_incidents. expect_version < 0: no
 * version check. audit_minid: the oldest audit entry to keep (ms), or 0 for
 * a change that is not audited (ambulance position reports). 0, or -1 when
 * something does not fit. */
int bp_apply_args_build(bp_apply_args_t *a, const bp_keys_t *keys, const char *sha,
                        const bp_change_t *c, const bp_hospital_info_t *base,
                        const char *epoch_candidate, const bp_settings_t *s, int64_t expect_version,
                        int64_t now_ms, const bp_actor_t *actor, int64_t audit_minid, int64_t prev);

/* Whether a change goes to the audit trail: every hospital and incident
 * change, and an ambulance change unless it only moves the ambulance
 * (position, heading, speed: telemetry, kept in the event stream only). */
bool bp_apply_audited(const bp_change_t *c);

typedef struct bp_apply bp_apply_t;

/* Borrowed: settings and registry must outlive the apply. lanes: Redis
 * connections (1 to BP_APPLY_MAX_LANES); max_pending bounds the changes
 * waiting for Redis per lane (sent, or answered and held for their WAIT).
 * NULL on no memory or bad arguments. */
#define BP_APPLY_MAX_LANES 16
bp_apply_t *bp_apply_create(uv_loop_t *loop, const bp_settings_t *s, const bp_registry_t *reg,
                            size_t lanes, size_t max_pending, bp_apply_cb cb);
/* Every pending callback fires (UNAVAILABLE for what Redis did not
 * confirm) before on_closed. */
void bp_apply_close(bp_apply_t *a, void (*on_closed)(void *), void *data);

size_t bp_apply_lanes(const bp_apply_t *a);

/* Submits a change on behalf of actor, on lane (taken modulo the number of
 * lanes). expect_version < 0: no version check. prev: the seq of the line
 * of the same source sent before this one on the same connection and not
 * answered yet (bp_feed_prev_sent), -1 for none: the script answers
 * UNAVAILABLE (code "behind") unless that line was decided, so a line
 * never overtakes one Redis refused.
 *  0: queued, the callback will fire once;
 * -1: Redis unavailable now (no callback);
 * -2: too many changes waiting for Redis: pause the sender (no callback). */
int bp_apply_submit(bp_apply_t *a, size_t lane, const bp_change_t *c, int64_t expect_version,
                    int64_t prev, const bp_actor_t *actor, void *privdata);

/* Stores a plausibility check a server derived (io/check_store.lua) in
 * hospital id's hash, only while it is still at version and once: cb(data,
 * 1) stored, (data, 2) a check was already stored at version (another
 * server's), (data, 0) the hospital moved on, (data, -1) Redis did not
 * answer.
 * 0 sent; -1 Redis unavailable (no callback). */
typedef void (*bp_apply_check_cb)(void *data, int stored);
int bp_apply_store_check(bp_apply_t *a, const char *id, uint64_t version, const bp_check_t *k,
                         bp_apply_check_cb cb, void *data);

bool bp_apply_up(const bp_apply_t *a, size_t lane);
/* How many more submits fit on lane before -2. */
size_t bp_apply_room(const bp_apply_t *a, size_t lane);
/* Lane 0's link, for the few other commands that go to the same Redis. */
bp_redis_t *bp_apply_redis(bp_apply_t *a);

typedef struct {
    uint64_t waits;          /* WAITs sent */
    uint64_t waited;         /* changes whose result waited for a WAIT */
    uint64_t not_replicated; /* results turned UNAVAILABLE: replicas did not confirm */
    uint64_t reconnects;     /* lane connections lost */
} bp_apply_stats_t;
void bp_apply_stats(const bp_apply_t *a, bp_apply_stats_t *out);

#endif
