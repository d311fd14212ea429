/*
 * Notification subscriptions (issue 14, docs/protocol.md "Notifications"):
 * what a person asked to be told, where, in which language and when not.
 * Pure: the request body and the stored form are parsed here with every
 * rule (a 422 names the field), and the decision whether one event goes to
 * one subscription (event type, filters, quiet hours) is made here too.
 *
 * A subscription: a channel (a webhook: URL + secret, or an e-mail
 * address), the events wanted, filters (hospitals, districts, tiers, the
 * lowest pressure level), a language (vi | en) and optional quiet hours in
 * local time, which events at pressure level 4 and mass-casualty events
 * ignore.
 */
#ifndef BP_SUBS_H
#define BP_SUBS_H

#include "bp_auth.h"
#include "bp_buf.h"
#include "bp_error.h"
#include "bp_netaddr.h"
#include "bp_registry.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    BP_EV_ALERT_RAISED,
    BP_EV_ALERT_CLEARED,
    BP_EV_ALERT_ACKED,
    BP_EV_ED_STATUS,
    BP_EV_HOSPITAL_STALE,
    BP_EV_MCI_DECLARED,
    BP_EV_MCI_CLOSED,
    BP_EV__COUNT
} bp_event_type_t;

/* "alert.raised", ...; NULL out of range. parse: -1 unknown. */
const char *bp_event_type_name(bp_event_type_t t);
int bp_event_type_parse(const char *s, size_t len);

typedef enum { BP_CH_WEBHOOK, BP_CH_EMAIL } bp_channel_t;

#define BP_SUB_ID_MAX     24
#define BP_SUB_SECRET_MIN 16
#define BP_SUB_SECRET_MAX 128
#define BP_SUB_EMAIL_MAX  254
#define BP_SUB_LIST_MAX   256 /* entries in one filter list */
#define BP_SUB_BODY_MAX   16384

typedef struct {
    char id[BP_SUB_ID_MAX + 1];      /* "s-" + hex, made by the server */
    char owner[BP_TOKEN_ID_MAX + 1]; /* the token id of the person */
    int64_t created_ms;
    bp_channel_t channel;
    char url[BP_URL_MAX + 1];                 /* webhook */
    char secret[BP_SUB_SECRET_MAX + 1];       /* webhook: the HMAC key */
    char address[BP_SUB_EMAIL_MAX + 1];       /* e-mail */
    uint32_t events;                          /* bit per bp_event_type_t, at least one */
    bool by_hospital, by_district;            /* whether those filters are set */
    uint64_t hospitals[BP_REGISTRY_MAX / 64]; /* bit per registry index */
    uint64_t districts[BP_REGISTRY_MAX / 64];
    uint32_t tiers;           /* bit per bp_tier_t; 0: any */
    int min_level;            /* 1..4 */
    char lang[3];             /* "vi" | "en" */
    bool quiet;               /* quiet hours set */
    int quiet_from, quiet_to; /* minutes of the local day, from != to */
} bp_sub_t;

/* Parses a subscription of exactly len bytes. A request body (stored =
 * false) has "channel", "url" + "secret" (webhook) or "address" (email),
 * "events", and optionally "filters" {"hospitals","districts","tiers",
 * "min_level"}, "lang", "quiet_hours" {"from":"HH:MM","to":"HH:MM"} (or
 * null) and "owner" (a token id: the caller lets only admins use it).
 * The stored form (stored = true, from bp_sub_write) also has "id" and
 * "created"; hospitals or districts no longer in the registry are then
 * skipped (a filter that named only such entries matches nothing), where
 * a request body is refused. Returns 0, or -1 with every error found
 * (each naming its field and rule). */
int bp_sub_parse(const char *json, size_t len, const bp_registry_t *reg, bool stored, bp_sub_t *out,
                 bp_errors_t *errs);

/* The subscription as JSON. stored: every field, the secret included (the
 * form kept in Redis); otherwise the answer of the API: no secret, only
 * "secret_set":true. */
void bp_sub_write(bp_buf_t *b, const bp_sub_t *s, const bp_registry_t *reg, bool stored);

/* Whether minute-of-day m (local) is inside quiet hours from..to (which
 * may cross midnight: 22:00-06:30). */
bool bp_quiet_at(int from, int to, int minute);
/* The local minute of the day of a UTC time. */
int bp_local_minute(int64_t ms, int utc_offset_min);

/* What an event is about, for matching. */
typedef struct {
    bp_event_type_t type;
    int level;            /* 1..4: the pressure level it stands for */
    const int *hospitals; /* registry indexes it is about (may be none) */
    size_t n_hospitals;
} bp_event_match_t;

typedef enum {
    BP_SUB_DELIVER,
    BP_SUB_NOT_WANTED, /* another event type */
    BP_SUB_FILTERED,   /* level, hospital, district or tier filter */
    BP_SUB_QUIET,      /* inside quiet hours, and not level 4 or MCI */
} bp_sub_verdict_t;

/* Whether the event goes to this subscription at now_ms. An event about no
 * hospital (city-wide, an incident) passes only subscriptions without
 * hospital, district or tier filters. */
bp_sub_verdict_t bp_sub_match(const bp_sub_t *s, const bp_registry_t *reg,
                              const bp_event_match_t *ev, int64_t now_ms, int utc_offset_min);

#endif
