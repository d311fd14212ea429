/* Apply results as feed reply lines (bp_feedreply.h). */
#include "bp_feedreply.h"
#include "bp_feedline.h"
#include "bp_time.h"

#include <stdio.h>
#include <string.h>

/* "storage (Redis) refused the change (<Redis's reason>); resend ...": the
 * reason is Redis's error without the script location it appends
 * ("NOREPLICAS Not enough good replicas to write", "OOM command not allowed
 * when used memory > 'maxmemory'"), so whoever reads the sender's log sees
 * why. */
static void refused_message(char *out, size_t size, const char *redis_error) {
    const char *e = redis_error && *redis_error ? redis_error : "an error";
    size_t n = strcspn(e, "\r\n");
    const char *at = strstr(e, " script: ");
    if (at && (size_t)(at - e) < n) n = (size_t)(at - e);
    while (n && (e[n - 1] == '.' || e[n - 1] == ' '))
        n--;
    if (n > 120) n = 120;
    snprintf(out, size,
             "storage (Redis) refused the change (%.*s); resend this line later with the same seq",
             (int)n, e);
}

bp_feed_outcome_t bp_feedreply_write(bp_buf_t *b, int64_t seq, const bp_apply_result_t *res,
                                     const char **code) {
    char msg[256];
    *code = NULL;
    switch (res->status) {
    case BP_APPLY_OK: bp_feedline_reply_ok(b, seq, res->offset, false); return BP_FEED_ACCEPTED;
    case BP_APPLY_DUP: bp_feedline_reply_ok(b, seq, res->offset, true); return BP_FEED_DUPLICATE;
    case BP_APPLY_OUT_OF_ORDER: {
        char when[32];
        bp_time_format(res->stored_at, when);
        snprintf(msg, sizeof msg, "at is older than the last accepted report (%s); not applied",
                 when);
        *code = "out_of_order";
        bp_feedline_reply_error(b, seq, *code, "at", msg);
        return BP_FEED_REFUSED;
    }
    case BP_APPLY_CONFLICT:
        *code = "conflict";
        bp_feedline_reply_error(b, seq, *code, "", "version conflict; not applied");
        return BP_FEED_CONFLICT;
    case BP_APPLY_REFUSED:
        *code = res->code;
        bp_feedline_reply_error(b, seq, res->code, res->field, res->message);
        return BP_FEED_REFUSED;
    case BP_APPLY_UNAVAILABLE:
        *code = "unavailable";
        if (res->code) {
            /* the script's own reason (a line before it was not decided) */
            bp_feedline_reply_error(b, seq, *code, "", res->message);
        } else if (res->message) {
            /* applied on the master, not confirmed by enough replicas */
            snprintf(msg, sizeof msg, "storage (Redis): %s; resend this line with the same seq",
                     res->message);
            bp_feedline_reply_error(b, seq, *code, "", msg);
        } else {
            bp_feedline_reply_error(b, seq, *code, "",
                                    "storage (Redis) was lost before it confirmed this line; "
                                    "resend it with the same seq");
        }
        return BP_FEED_UNAVAILABLE;
    case BP_APPLY_FAILED:
    default:
        *code = "unavailable";
        refused_message(msg, sizeof msg, res->status == BP_APPLY_FAILED ? res->message : NULL);
        bp_feedline_reply_error(b, seq, *code, "", msg);
        return BP_FEED_UNAVAILABLE;
    }
}
