/*
 * The notification events (issue 14, docs/protocol.md "Notifications"),
 * made when what they tell happens: the type, the pressure level it
 * stands for (what subscription filters and quiet hours look at), the
 * hospitals it is about, its sentence in Vietnamese and English (with the
 * registry's names, so a delivery needs nothing but the event) and its
 * details as a JSON object. Pure.
 *
 *   alert.raised / alert.cleared  an alert record changed (bp_alert_groups):
 *                                 raised or joined, a member left or the
 *                                 whole alert cleared
 *   alert.acked                   someone acknowledged an alert
 *   ed.status                     a hospital's effective ED status changed
 *   hospital.stale                a hospital's report became stale
 *   mci.declared / mci.closed     a mass-casualty incident began or ended
 */
#ifndef BP_EVENTS_H
#define BP_EVENTS_H

#include "bp_alert_groups.h"
#include "bp_notify_rules.h"
#include "bp_subs.h"

typedef struct {
    bp_event_type_t type;
    int level;
    int64_t at_ms;
    bp_buf_t hospitals; /* "id,id" */
    char vi[BP_EVENT_TEXT_MAX + 1], en[BP_EVENT_TEXT_MAX + 1];
    bp_buf_t data; /* a JSON object */
} bp_event_out_t;

void bp_event_out_init(bp_event_out_t *e);
void bp_event_out_free(bp_event_out_t *e);

/* The event of an alert change: raised or joined -> alert.raised, left
 * or cleared -> alert.cleared. Its level: 4 for level 4 and a closed ED,
 * at least 3 for the other rules (2 for a stale feed), raised to the
 * highest pressure level of the hospitals it names. */
void bp_event_of_alert(bp_event_out_t *e, const bp_achange_t *ch, const bp_alerts_t *conds,
                       const bp_state_t *st, int64_t now_ms);
/* alert.acked: record r acknowledged by (id, name). */
void bp_event_of_ack(bp_event_out_t *e, const bp_arec_t *r, const bp_alerts_t *conds,
                     const bp_state_t *st, const char *by_id, const char *by_name, int64_t now_ms);
/* ed.status: hospital h's effective ED status went from prev to cur. The
 * hospital's own reason text goes in data (subscribers are signed-in
 * staff), never in the sentence. */
void bp_event_of_ed(bp_event_out_t *e, const bp_state_t *st, size_t h, bp_ed_status_t prev,
                    bp_ed_status_t cur, int64_t now_ms);
/* hospital.stale: hospital h's last report became stale. */
void bp_event_of_stale(bp_event_out_t *e, const bp_state_t *st, size_t h, int64_t now_ms);

typedef struct {
    char id[32];
    double lat, lon, radius_km;
    char address[201];
    int expected[3]; /* immediate, delayed, minor */
    char by[32];
} bp_mci_brief_t;

/* mci.declared / mci.closed: the hospitals within its radius are the
 * ones it is about (each was asked what it can take); level 4. */
void bp_event_of_mci(bp_event_out_t *e, const bp_registry_t *reg, const bp_mci_brief_t *m,
                     bool closed, int64_t now_ms);

#endif
