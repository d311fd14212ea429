/*
 * Redis key names, all under one configurable prefix (default "bp:").
 * See docs/redis.md for what each key holds.
 */
#ifndef BP_KEYS_H
#define BP_KEYS_H

#define BP_KEY_MAX 96

typedef struct {
    char epoch[BP_KEY_MAX];      /* string: random id of the stream's lifetime */
    char offset[BP_KEY_MAX];     /* string: global change counter */
    char stream[BP_KEY_MAX];     /* stream: events, ID <offset>-0 */
    char hospitals[BP_KEY_MAX];  /* hash: hospital id -> stored JSON */
    char ambulances[BP_KEY_MAX]; /* hash: call sign -> stored JSON */
    char sources[BP_KEY_MAX];    /* hash: source -> "<seq> <offset>" */
} bp_keys_t;

/* prefix must be shorter than BP_KEY_MAX - 16 (settings enforce 32). */
void bp_keys_init(bp_keys_t *k, const char *prefix);

#endif
