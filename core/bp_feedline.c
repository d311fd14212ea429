/* The feed protocol's shared rules (bp_feedline.h). */
#include "bp_feedline.h"
#include "bp_credential.h"
#include "bp_jw.h"

#include <stdio.h>
#include <string.h>

int bp_feedline_hello_check(const bp_principal_t *p, bool has_token, int64_t now_ms,
                            bp_error_t *err) {
    const char *why = NULL;
    if (!has_token) {
        why = "hello needs \"token\": a feed token from bp-admin";
    } else {
        switch (bp_cred_principal(p, now_ms)) {
        case BP_CRED_GONE: why = "unknown token"; break;
        case BP_CRED_REVOKED: why = "this token was revoked"; break;
        case BP_CRED_EXPIRED: why = "this token has expired"; break;
        default: break;
        }
    }
    if (why) return bp_error_set(err, "unauthorized", "token", "%s", why);
    if (p->role != BP_ROLE_FEED && p->role != BP_ROLE_ADMIN)
        return bp_error_set(err, "forbidden", "token",
                            "a %s token may not feed data (feed or admin tokens only)",
                            bp_role_name(p->role));
    return 0;
}

int bp_feedline_authorize(const bp_principal_t *p, const bp_change_t *c, const bp_registry_t *reg,
                          int64_t now_ms, bp_error_t *err) {
    /* ambulances and incidents are the 115 fleet's: fleet rights */
    bool fleet = c->kind != BP_KIND_HOSPITAL;
    int h = fleet ? 0 : bp_registry_hospital(reg, c->id, strlen(c->id));
    if (p && bp_auth_allows(p, -1, fleet ? BP_ACT_FEED_FLEET : BP_ACT_FEED_HOSPITAL, h, now_ms))
        return 0;
    if (bp_cred_principal(p, now_ms) != BP_CRED_VALID)
        return bp_error_set(err, "unauthorized", "",
                            "this connection's token was revoked or has expired");
    static const char *const what[] = {"hospital", "the 115 fleet: ambulance",
                                       "the 115 fleet: incident"};
    return bp_error_set(err, "forbidden", fleet ? "id" : "hospital",
                        "this token may not report %s %s", what[c->kind], c->id);
}

uint64_t bp_feed_source_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

bool bp_feed_block_admit(bp_feed_block_t *b, uint64_t source, int64_t seq) {
    if (!b->blocked) return true;
    if (source == b->source && seq <= b->seq) {
        b->blocked = false; /* the resend has begun */
        return true;
    }
    return false;
}

void bp_feed_block_set(bp_feed_block_t *b, uint64_t source, int64_t seq) {
    if (b->blocked) return;
    b->blocked = true;
    b->source = source;
    b->seq = seq;
}

void bp_feed_block_message(const bp_feed_block_t *b, char *out, size_t len) {
    snprintf(out, len,
             "an earlier line on this connection (seq %lld) was not applied; resend every line "
             "not acknowledged, in order, starting with that one",
             (long long)b->seq);
}

/* {"ok":<ok>,"seq":<seq or null>: the head of every reply. */
static void reply_head(bp_jw_t *w, bp_buf_t *b, bool ok, int64_t seq) {
    bp_jw_init(w, b);
    bp_jw_obj(w);
    BP_JW_KEY(w, "ok");
    bp_jw_bool(w, ok);
    BP_JW_KEY(w, "seq");
    bp_jw_int_or_null(w, seq >= 0, seq);
}

void bp_feedline_reply_ok(bp_buf_t *b, int64_t seq, uint64_t offset, bool duplicate) {
    bp_jw_t w;
    reply_head(&w, b, true, seq);
    BP_JW_KEY(&w, "offset");
    bp_jw_int(&w, (int64_t)offset);
    if (duplicate) {
        BP_JW_KEY(&w, "duplicate");
        bp_jw_bool(&w, true);
    }
    bp_jw_end(&w);
}

void bp_feedline_reply_error(bp_buf_t *b, int64_t seq, const char *code, const char *field,
                             const char *message) {
    bp_jw_t w;
    reply_head(&w, b, false, seq);
    BP_JW_KEY(&w, "error");
    bp_jw_cstr(&w, code);
    if (field && *field) {
        BP_JW_KEY(&w, "field");
        bp_jw_cstr(&w, field);
    }
    BP_JW_KEY(&w, "message");
    bp_jw_cstr(&w, message);
    bp_jw_end(&w);
}

void bp_feedline_reply_hello(bp_buf_t *b, const bp_principal_t *p) {
    bp_jw_t w;
    reply_head(&w, b, true, -1);
    BP_JW_KEY(&w, "hello");
    bp_jw_bool(&w, true);
    BP_JW_KEY(&w, "token");
    bp_jw_cstr(&w, p->id);
    BP_JW_KEY(&w, "role");
    bp_jw_cstr(&w, bp_role_name(p->role));
    BP_JW_KEY(&w, "all_hospitals");
    bp_jw_bool(&w, p->all_hospitals || p->role == BP_ROLE_ADMIN);
    BP_JW_KEY(&w, "fleet");
    bp_jw_bool(&w, p->fleet || p->role == BP_ROLE_ADMIN);
    bp_jw_end(&w);
}

bool bp_feedline_next(const char *body, size_t len, size_t *pos, const char **line,
                      size_t *line_len) {
    if (*pos >= len) return false;
    const char *start = body + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n && start[n - 1] == '\r') n--;
    *line = start;
    *line_len = n;
    return true;
}

bool bp_feedline_is_hello(const char *line, size_t len) {
    return memmem(line, len, "\"hello\"", 7) != NULL;
}
