/*
 * Alerts as people see them (issue 14, docs/dispatch.md "Alerts"): the
 * conditions of bp_alerts.h (one per rule and subject) gathered into
 * alert records. Conditions of one rule that start together are one
 * grouped alert ("21 hospitals at pressure level 4") with the list
 * inside; a condition that starts alone is an alert of its own, with the
 * id "<rule>:<subject>". Pure: the records live in Redis (shared by every
 * server and kept across restarts, so nothing raised and acknowledged is
 * raised again), and this module only plans the next set from the last
 * one and the conditions of now.
 *
 * The plan, given the current records and the active conditions:
 *  - a member whose condition ended leaves its record; a record with no
 *    member left is cleared (its acknowledgement goes with it);
 *  - conditions not in any record are new. Per rule: they join the newest
 *    alert of that rule raised less than join_ms ago and not acknowledged
 *    (a burst that spans several evaluations is still one alert; a single
 *    alert that takes others becomes a group and keeps its id); else one
 *    new condition is a single alert and several are a new group
 *    "<rule>:group.<ms>" (a '.' never appears in a subject; a single
    alert whose "<rule>:<subject>" is still the id of the group it grew
    into gets an id of this form too).
 * Every step is reported as a change (raised, joined, left, cleared) with
 * the members it is about, for the notifications.
 *
 * Severity decides the alarm (docs/dispatch.md): critical (diversion,
 * city ICU, incident without a unit), warning (level 4, handover), notice
 * (a stale feed).
 */
#ifndef BP_ALERT_GROUPS_H
#define BP_ALERT_GROUPS_H

#include "bp_alerts.h"
#include "bp_error.h"
#include "bp_jw.h"

typedef struct {
    char subject[BP_INCIDENT_MAX + 1];
    int64_t since_ms;
} bp_amember_t;

typedef struct {
    char id[BP_ALERT_ID_MAX + 1];
    bp_alert_rule_t rule;
    int64_t since_ms;
    bool group;
    bp_amember_t *m; /* owned */
    size_t n, cap;
} bp_arec_t;

typedef struct {
    bp_arec_t *r; /* owned, ordered by since then id after a plan */
    size_t n, cap;
} bp_arecs_t;

void bp_arecs_init(bp_arecs_t *s);
void bp_arecs_free(bp_arecs_t *s);
void bp_arecs_clear(bp_arecs_t *s);
/* dst (initialized) becomes a copy of src. 0, or -1 out of memory. */
int bp_arecs_copy(bp_arecs_t *dst, const bp_arecs_t *src);
const bp_arec_t *bp_arecs_find(const bp_arecs_t *s, const char *id);
/* The record holding rule:subject, or NULL. */
const bp_arec_t *bp_arecs_holding(const bp_arecs_t *s, bp_alert_rule_t rule, const char *subject);
void bp_arecs_sort(bp_arecs_t *s);

/* The stored form, a hash field <id> -> {"rule","since","group","m":[[subject,since],..]}.
 * add_stored: 0, or -1 when malformed (nothing added). */
int bp_arecs_add_stored(bp_arecs_t *s, const char *id, const char *json, size_t len);
void bp_arec_write_stored(bp_buf_t *b, const bp_arec_t *r);

typedef enum { BP_ACH_RAISED, BP_ACH_JOINED, BP_ACH_LEFT, BP_ACH_CLEARED } bp_achange_kind_t;

typedef struct {
    bp_achange_kind_t kind;
    bp_arec_t delta; /* id, rule, since, group of the alert; members: the ones this is about */
    size_t total;    /* members of the alert after the change (0 when cleared) */
} bp_achange_t;

typedef struct {
    bp_achange_t *c;
    size_t n, cap;
} bp_achanges_t;

void bp_achanges_free(bp_achanges_t *c);

/* Plans the next records (next: initialized, filled) and the changes
 * (initialized, filled) from cur and the active conditions at now_ms.
 * acked(id, ctx) says whether an alert is acknowledged (may be NULL: none
 * is). 0, or -1 out of memory. */
int bp_agroups_plan(const bp_arecs_t *cur, const bp_alerts_t *conds,
                    bool (*acked)(const char *id, void *ctx), void *ctx, int64_t join_ms,
                    int64_t now_ms, bp_arecs_t *next, bp_achanges_t *changes);

typedef enum { BP_SEV_NOTICE, BP_SEV_WARNING, BP_SEV_CRITICAL } bp_severity_t;
bp_severity_t bp_alert_severity(bp_alert_rule_t r);
const char *bp_severity_name(bp_severity_t s);

/* The value of one member now (its condition's), 0 when it has none. */
int64_t bp_arec_member_value(const bp_arec_t *r, size_t i, const bp_alerts_t *conds);

/* The sentence of a record in both languages: a single member's own
 * sentence (bp_alert_text), or the count for a group ("21 hospitals at
 * pressure level 4"); with names, the first three members' names follow
 * ("...: Bach Mai, Viet Duc, Thanh Nhan and 18 more"). */
void bp_arec_text(const bp_arec_t *r, const bp_alerts_t *conds, const bp_state_t *st, bool names,
                  char *vi, size_t vi_len, char *en, size_t en_len);

/* A record as clients see it, written by w and left open (callers add
 * "ack" and "muted", then bp_jw_end): {"id","rule","subject" (the member, or "group"),
 * "since","value" (the highest member's),"count","group","incident",
 * "severity","members":[{"subject","value","since"}],"text":{"vi","en"}}. */
void bp_arec_write_open(bp_jw_t *w, const bp_arec_t *r, const bp_alerts_t *conds,
                        const bp_state_t *st);

/* The body of POST /api/v1/alerts/mutes: {"rule":"<rule>","minutes":1..720}
 * (a dispatcher silences one rule's alarm on every console for a while).
 * 0, or -1 with every error named. */
#define BP_MUTE_MAX_MIN 720
int bp_alert_mute_parse(const char *json, size_t len, bp_alert_rule_t *rule, int *minutes,
                        bp_errors_t *errs);

#endif
