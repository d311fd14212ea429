/*
 * Alert rules for the 115 console (issue 6): conditions evaluated on the
 * live state, each alert raised once when its condition starts and cleared
 * when it ends. Pure; a fixed-size table.
 *
 * Rules (thresholds from config/dispatch.json "alerts"):
 *   level4     a hospital at pressure level 4
 *   diversion  a hospital's ED on diversion or closed
 *   stale_feed a hospital whose report is stale (older than 2 intervals)
 *   icu_low    city-wide free adult ICU beds below N
 *   handover   a hospital whose handover median or longest wait is over N min
 *   unassigned an open incident without a unit for N min
 *   facility   a hospital whose facility is compromised, evacuating or
 *              closed (value: the bp_fac_status_t)
 *   full_soon  a hospital whose adult ICU or medical-surgical beds are
 *              expected full within N hours (the outlook, bp_outlook.h;
 *              given with bp_alerts_set_outlook)
 * Every server evaluates the same rules on the same state (the stream), so
 * they agree on which alerts are active; "since" is when this server first
 * saw the condition.
 */
#ifndef BP_ALERTS_H
#define BP_ALERTS_H

#include "bp_buf.h"
#include "bp_jw.h"
#include "bp_handover.h"
#include "bp_state.h"

typedef enum {
    BP_ALERT_LEVEL4,
    BP_ALERT_DIVERSION,
    BP_ALERT_STALE,
    BP_ALERT_ICU_LOW,
    BP_ALERT_HANDOVER,
    BP_ALERT_UNASSIGNED,
    BP_ALERT_FACILITY,
    BP_ALERT_FULL_SOON,
    BP_ALERT__COUNT
} bp_alert_rule_t;

const char *bp_alert_rule_name(bp_alert_rule_t r);

typedef struct bp_alert_cfg {
    bool level4, diversion, stale_feed, facility; /* rules on or off */
    int icu_adult_free_below;                     /* 0: off */
    int handover_over_min;                        /* 0: off */
    int incident_unassigned_min;                  /* 0: off */
    int full_within_h;                            /* 0: off; 1..24 */
} bp_alert_cfg_t;

void bp_alert_defaults(bp_alert_cfg_t *cfg);

#define BP_ALERTS_MAX   1024
#define BP_ALERT_ID_MAX (16 + BP_INCIDENT_MAX)

typedef struct {
    bp_alert_rule_t rule;
    char id[BP_ALERT_ID_MAX + 1];      /* "<rule>:<subject>" */
    char subject[BP_INCIDENT_MAX + 1]; /* hospital id, incident id, or "city" */
    int64_t since_ms;
    int64_t value; /* level, free beds, minutes waited */
} bp_alert_t;

typedef struct bp_alerts bp_alerts_t;

bp_alerts_t *bp_alerts_create(void);
void bp_alerts_destroy(bp_alerts_t *a);

/* Evaluates every rule at now_ms. Returns how many alerts were raised plus
 * cleared by this call (0: nothing changed). ho may be NULL (no handover
 * rule). */
size_t bp_alerts_update(bp_alerts_t *a, const bp_state_t *st, const bp_handover_t *ho,
                        const bp_alert_cfg_t *cfg, int64_t now_ms);

/* The outlook's verdict per hospital (registry order, n of them): in how
 * many hours its adult ICU or medical-surgical beds are expected full (the
 * soonest; 0 not within the outlook). Copied; kept until the next call.
 * NULL / 0: no outlook (the rule raises nothing). */
void bp_alerts_set_outlook(bp_alerts_t *a, const uint8_t *full_within_h, size_t n);

/* Active alerts, oldest first (then by id). */
size_t bp_alerts_count(const bp_alerts_t *a);
const bp_alert_t *bp_alerts_get(const bp_alerts_t *a, size_t i);
const bp_alert_t *bp_alerts_find(const bp_alerts_t *a, const char *id);
uint64_t bp_alerts_raised_total(const bp_alerts_t *a);

/* One alert as JSON: {"id","rule","subject","since","value","incident":bool,
 * "text":{"vi","en"}} (the text names the hospital or incident). */
void bp_alert_write(bp_buf_t *b, const bp_alert_t *al, const bp_state_t *st);
/* Its sentence in Vietnamese and English (names the hospital or incident). */
void bp_alert_text(const bp_alert_t *al, const bp_state_t *st, char *vi, size_t vi_len, char *en,
                   size_t en_len);
/* The member "text":{"vi":..,"en":..} of an alert or an alert record. */
void bp_alert_write_text(bp_jw_t *w, const char *vi, const char *en);
/* The same without the closing brace, for callers that add members. */
void bp_alert_write_open(bp_buf_t *b, const bp_alert_t *al, const bp_state_t *st);

#endif
