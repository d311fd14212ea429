/*
 * Redis key names, all under one configurable prefix (default "bp:").
 * See docs/redis.md for what each key holds.
 */
#ifndef BP_KEYS_H
#define BP_KEYS_H

#include "bp_model.h"

#include <stddef.h>

#define BP_KEY_MAX 128

typedef struct {
    char epoch[BP_KEY_MAX];     /* string: random id of the stream's lifetime */
    char offset[BP_KEY_MAX];    /* string: global change counter */
    char stream[BP_KEY_MAX];    /* stream: events, ID <offset>-0 */
    char sources[BP_KEY_MAX];   /* hash: source -> "<seq> <offset>" */
    char decided[BP_KEY_MAX];   /* hash: source -> highest seq decided, not applied */
    char audit[BP_KEY_MAX];     /* stream: who changed what, before and after */
    char hospital[BP_KEY_MAX];  /* prefix of hospital hashes: + id */
    char ambulance[BP_KEY_MAX]; /* prefix of ambulance hashes: + call sign */
    char incident[BP_KEY_MAX];  /* prefix of incident hashes: + incident id */
    char incidents[BP_KEY_MAX]; /* sorted set: open incident ids, score = opened (ms) */
} bp_keys_t;

/* prefix must be shorter than BP_KEY_MAX - 16 (settings enforce 32). */
void bp_keys_init(bp_keys_t *k, const char *prefix);

/* The hash of one entity: "<prefix>h:<id>", "<prefix>a:<call sign>" or
 * "<prefix>inc:<incident id>". */
void bp_keys_entity(const bp_keys_t *k, bp_kind_t kind, const char *id, char *out, size_t len);

#endif
