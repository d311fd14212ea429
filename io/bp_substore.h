/*
 * Notification subscriptions and dead letters in Redis (bp_substore.c), for
 * the subscription routes (server/subscriptions.c): making one within the
 * bounds, ending one, and a page of the dead letters, each audited where it
 * changes something, in one script (io/sub_create.lua, io/sub_delete.lua,
 * io/dead_letters.lua). Results are typed: no caller walks a redisReply.
 */
#ifndef BP_SUBSTORE_H
#define BP_SUBSTORE_H

#include "bp_redis.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const char bp_sub_create_lua[];
extern const size_t bp_sub_create_lua_len;
extern const char bp_sub_delete_lua[];
extern const size_t bp_sub_delete_lua_len;
extern const char bp_dead_letters_lua[];
extern const size_t bp_dead_letters_lua_len;
/* The delivery side's scripts (server/notifier.c): fan-out of events into
 * jobs, claiming due jobs, finishing one (io/notify_enqueue.lua,
 * io/notify_claim.lua, io/notify_finish.lua). */
extern const char bp_notify_enqueue_lua[], bp_notify_claim_lua[], bp_notify_finish_lua[];

/* The keys: the subscriptions hash, the count per person, the version, the
 * audit stream. */
typedef struct {
    const char *subs, *count, *ver, *audit;
} bp_substore_keys_t;

/* Who does it, for the audit row: the trail trimmed to retain_from_ms. */
typedef struct {
    const char *actor, *role, *addr;
    int64_t now_ms, retain_from_ms;
} bp_substore_actor_t;

/* ok false: storage did not answer; else the script's result. */
typedef void (*bp_substore_result_cb)(void *data, bool ok, long long result);

/* Makes subscription id of owner: stored (the JSON kept, secrets too),
 * shown (the JSON audited), within max_per_person and max_total. Result: 1
 * made; -1 the person has the most; -2 the deployment has the most; -3 the
 * id is taken. 0: cb will be called once; -1: not sent. */
int bp_substore_create(bp_redis_t *redis, const bp_substore_keys_t *k, const char *id,
                       const char *owner, const char *stored, size_t stored_len, const char *shown,
                       size_t shown_len, int max_per_person, int max_total,
                       const bp_substore_actor_t *who, bp_substore_result_cb cb, void *data);

/* Ends subscription id, if it is who->actor's or admin. Result: 1 done; 0
 * no such subscription of theirs. 0: cb will be called once; -1: not sent. */
int bp_substore_delete(bp_redis_t *redis, const bp_substore_keys_t *k, const char *id, bool admin,
                       const bp_substore_actor_t *who, bp_substore_result_cb cb, void *data);

/* A dead letter: a JSON object (borrowed for the callback only). */
typedef struct {
    const char *json;
    size_t len;
} bp_dead_letter_t;
/* ok false: storage did not answer; else how many are kept, and the first
 * n of them (those that are JSON objects). */
typedef void (*bp_substore_dead_cb)(void *data, bool ok, long long total,
                                    const bp_dead_letter_t *items, size_t n);
/* The first limit dead letters of list dead_key. 0: cb will be called
 * once; -1: not sent. */
int bp_substore_dead_letters(bp_redis_t *redis, const char *dead_key, long limit,
                             bp_substore_dead_cb cb, void *data);

#endif
