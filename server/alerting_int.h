/*
 * Inside the alerts (server/alerting.c, server/alerting_routes.c): the
 * alerting state and what the routes call. Not for other files.
 *
 * One way down: alerting_routes.c (GET /api/v1/alerts, acknowledgements,
 * mutes) -> alerting.c (the once-a-second read, plan and apply against
 * Redis, the acks and mutes as last read, the live-feed list).
 */
#ifndef BP_ALERTING_INT_H
#define BP_ALERTING_INT_H

#include "alerting.h"
#include "bp_alert_groups.h"
#include "bp_buf.h"
#include "bp_keys.h"

#include <stdbool.h>
#include <stdint.h>

#define N_KEYS 11

enum {
    K_ALERTS,
    K_VER,
    K_CLOCK,
    K_ACKS,
    K_MUTES,
    K_RAISED,
    K_OBS,
    K_MCIS,
    K_SEEN,
    K_INIT,
    K_EVENTS
};

typedef struct {
    char id[BP_ALERT_ID_MAX + 1];
    char by[BP_TOKEN_ID_MAX + 1];
    int64_t at_ms;
} ack_t;

typedef struct {
    char by[BP_TOKEN_ID_MAX + 1];
    int64_t until_ms, at_ms;
} mute_t;

struct bp_alerting {
    bp_app_t *app;
    char keys[N_KEYS][BP_KEY_MAX + 32];
    char prefix[BP_KEY_MAX];
    bp_arecs_t recs; /* as last read or applied */
    uint64_t ver, raised;
    bool loaded, reading, applying;
    ack_t *acks;
    size_t n_acks, cap_acks;
    mute_t mutes[BP_ALERT__COUNT];
    char (*obs)[16]; /* per hospital, the stored "<ed>|<stale>", "" unknown */
    bool obs_init;
    bp_arecs_t next; /* the plan in flight */
    bool next_changes_alerts;
    bp_buf_t full, other, last;
    int64_t pushed_ms;
    bool ids_changed; /* push at once */
    int64_t kicked_ms;
    uint64_t events, conflicts;
};

/* alerting.c */
/* Writes the members "alerts":[...],"mutes":[...],"raised_total":N; the
 * unassigned-incident alerts only when `incidents` (who may see them). */
void bp_alerting_write(bp_jw_t *w, bp_app_t *app, bool incidents);
/* Writes "by":<token id>,"name":<its name>. */
void bp_alerting_who(bp_jw_t *w, const bp_app_t *app, const char *by);
/* Records an acknowledgement as stored. */
void bp_alerting_ack_put(struct bp_alerting *a, const char *id, const char *by, int64_t at);
/* Sends the list to the live feed if it changed (now: without waiting for
 * the push interval). */
void bp_alerting_push(bp_app_t *app, bool now);

#endif
