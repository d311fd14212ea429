/*
 * The rules of notification delivery (issue 14), pure: what a webhook
 * POST carries and how it is signed, what an e-mail looks like (plain
 * text and HTML, in the person's language), how long to wait before the
 * next attempt and when to give up, and which answers are worth a retry.
 * The server (server/notify.c) does the I/O.
 *
 * An event as it is kept in the notification stream: a type, the pressure
 * level it stands for (1-4), when it happened, the hospitals it is about,
 * its sentence in Vietnamese and English (made when it happened, from the
 * registry's names), and a JSON object with its details.
 */
#ifndef BP_NOTIFY_RULES_H
#define BP_NOTIFY_RULES_H

#include "bp_buf.h"
#include "bp_subs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_EVENT_ID_MAX   40    /* "<ms>-<seq>" of the notification stream */
#define BP_EVENT_TEXT_MAX 600   /* bytes per language */
#define BP_EVENT_DATA_MAX 65536 /* the details, JSON */

/* Borrowed strings (from a stream entry or the caller's buffers). */
typedef struct {
    const char *id;
    bp_event_type_t type;
    int level;
    int64_t at_ms;
    const char *hospitals; /* "id,id,..." or "" */
    const char *text_vi, *text_en;
    const char *data; /* a JSON object */
    size_t data_len;
} bp_event_t;

/* The body of a webhook POST, the same bytes on every attempt:
 * {"id","type","at","level","hospitals":[..],"lang","text","subscription",
 *  "data":{..}}. text in the subscription's language. */
void bp_webhook_body(bp_buf_t *b, const bp_event_t *ev, const char *sub_id, const char *lang);

/* X-BedPulse-Signature: "sha256=" + hex HMAC-SHA256 of the body bytes with
 * the subscription's secret as the key. out: BP_SIGNATURE_LEN + 1 bytes. */
#define BP_SIGNATURE_LEN (sizeof "sha256=" - 1 + 64)
void bp_webhook_sign(const char *secret, size_t secret_len, const void *body, size_t body_len,
                     char out[BP_SIGNATURE_LEN + 1]);

/* A whole e-mail (RFC 5322, CRLF line ends): From, To, Subject (RFC 2047
 * UTF-8), Date (local time with its offset), Message-ID (from the event
 * and subscription ids: a resend is the same message), and a
 * multipart/alternative body, text/plain and text/html, both UTF-8 in
 * base64. Words in `lang` ("vi" or "en"). */
void bp_email_message(bp_buf_t *b, const bp_event_t *ev, const char *from, const char *to,
                      const char *sub_id, const char *lang, int utc_offset_min);

/* RFC 5322 date of a UTC time at a fixed offset: "Sun, 22 Nov 2026
 * 15:00:00 +0700". out: at least 40 bytes. */
void bp_rfc5322_date(int64_t ms, int utc_offset_min, char *out, size_t len);

/* -- retries --------------------------------------------------------------------------- */

typedef struct {
    int64_t base_ms;    /* the first wait (notify.retry_base_ms, 5 s) */
    int64_t cap_ms;     /* no wait longer (10 min) */
    int64_t max_age_ms; /* no attempt later than this after the first (1 h) */
    int max_attempts;   /* at most this many attempts (30) */
} bp_retry_cfg_t;

void bp_retry_defaults(bp_retry_cfg_t *c);

/* After `attempts` failed attempts (1 or more), the first at first_ms, now
 * at now_ms: when to try again (exponential: base, 2 base, 4 base ... up
 * to cap, each between half and all of it by `rnd`, never later than
 * first + max_age), or -1 to give up (max_age or max_attempts reached). */
int64_t bp_retry_next(const bp_retry_cfg_t *c, int attempts, int64_t first_ms, int64_t now_ms,
                      uint32_t rnd);

typedef enum {
    BP_OUTCOME_OK,        /* delivered */
    BP_OUTCOME_RETRY,     /* try again later */
    BP_OUTCOME_PERMANENT, /* never going to work: dead letter now */
} bp_outcome_t;

/* An HTTP answer: 2xx delivered; 408, 425, 429 and 5xx again later; any
 * other (3xx: redirects are not followed; 4xx: the receiver refuses it)
 * will not work. status 0 (no answer: connect failure, timeout) again. */
bp_outcome_t bp_http_outcome(long status);
/* An SMTP reply code: 2xx delivered, 4xx again later, 5xx not; 0 (no
 * answer) again. */
bp_outcome_t bp_smtp_outcome(long code);

#endif
