/* Notification subscriptions: parsing, writing, matching (see bp_subs.h). */
#include "bp_subs.h"
#include "bp_jsonin.h"
#include "bp_jw.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_names[BP_EV__COUNT] = {
    "alert.raised",   "alert.cleared", "alert.acked", "ed.status",
    "hospital.stale", "mci.declared",  "mci.closed",
};

const char *bp_event_type_name(bp_event_type_t t) {
    return (unsigned)t < BP_EV__COUNT ? event_names[t] : NULL;
}

int bp_event_type_parse(const char *s, size_t len) {
    for (int i = 0; i < BP_EV__COUNT; i++)
        if (strlen(event_names[i]) == len && memcmp(event_names[i], s, len) == 0) return i;
    return -1;
}

/* -- parsing ------------------------------------------------------------------------ */

static void add(bp_errors_t *errs, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(bp_errors_t *errs, const char *code, const char *field, const char *fmt, ...) {
    if (errs->n >= BP_ERRORS_MAX) return;
    bp_error_t *e = &errs->e[errs->n++];
    snprintf(e->code, sizeof e->code, "%s", code);
    snprintf(e->field, sizeof e->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

/* Unknown and repeated keys of an object are errors. */
static void check_keys(const cJSON *obj, const char *path, const char *const *names, size_t n,
                       bp_errors_t *errs) {
    unsigned seen = 0;
    for (const cJSON *it = obj->child; it; it = it->next) {
        size_t i = 0;
        while (i < n && strcmp(names[i], it->string) != 0)
            i++;
        char f[BP_ERR_FIELD_MAX];
        snprintf(f, sizeof f, "%s%s%.40s", path, *path ? "." : "", it->string);
        if (i == n)
            add(errs, "unknown_field", f, "unknown field \"%.40s\"%s%s", it->string,
                *path ? " in " : "", path);
        else if (seen & (1u << i))
            add(errs, "duplicate_field", f, "field %s appears more than once", f);
        else
            seen |= 1u << i;
    }
}

static const cJSON *item(const cJSON *obj, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A string of 1..max bytes without control characters into out; false
 * (error added) otherwise. */
static bool get_string(const cJSON *v, const char *field, size_t max, char *out, size_t out_len,
                       bp_errors_t *errs) {
    if (!cJSON_IsString(v)) {
        add(errs, "wrong_type", field, "%s must be a string, got %s", field,
            bp_jsonin_type_name(v));
        return false;
    }
    size_t n = strlen(v->valuestring);
    if (n == 0 || n > max || n >= out_len) {
        add(errs, "out_of_range", field, "%s must be 1 to %zu bytes, got %zu", field, max, n);
        return false;
    }
    memcpy(out, v->valuestring, n + 1);
    return true;
}

static bool token_id_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > BP_TOKEN_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* "HH:MM" -> minutes, -1 if malformed. */
static int hhmm(const char *s) {
    if (strlen(s) != 5 || s[2] != ':') return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9')) return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

/* A list of names checked by `lookup` (registry index or enum value, -1
 * unknown) into a bitset. */
static void name_list(const cJSON *v, const char *field, const char *what, bool stored,
                      int (*lookup)(const void *ctx, const char *s, size_t n), const void *ctx,
                      uint64_t *bits, size_t nbits, bp_errors_t *errs) {
    if (!cJSON_IsArray(v)) {
        add(errs, "wrong_type", field, "%s must be an array of %s, got %s", field, what,
            bp_jsonin_type_name(v));
        return;
    }
    int n = cJSON_GetArraySize(v);
    if (n > BP_SUB_LIST_MAX) {
        add(errs, "out_of_range", field, "%s may list at most %d entries, got %d", field,
            BP_SUB_LIST_MAX, n);
        return;
    }
    int i = 0;
    for (const cJSON *it = v->child; it; it = it->next, i++) {
        char f[BP_ERR_FIELD_MAX];
        snprintf(f, sizeof f, "%s[%d]", field, i);
        if (!cJSON_IsString(it)) {
            add(errs, "wrong_type", f, "%s must be a string (one of %s), got %s", f, what,
                bp_jsonin_type_name(it));
            continue;
        }
        int k = lookup(ctx, it->valuestring, strlen(it->valuestring));
        if (k < 0 || (size_t)k >= nbits) {
            if (!stored)
                add(errs, "unknown_value", f, "%s: \"%.48s\" is not one of %s", f, it->valuestring,
                    what);
            continue;
        }
        bits[k / 64] |= 1ull << (k % 64);
    }
}

static int look_hospital(const void *ctx, const char *s, size_t n) {
    return bp_is_slug(s, n) ? bp_registry_hospital(ctx, s, n) : -1;
}

static int look_district(const void *ctx, const char *s, size_t n) {
    return bp_is_slug(s, n) ? bp_registry_district(ctx, s, n) : -1;
}

static int look_tier(const void *ctx, const char *s, size_t n) {
    (void)ctx;
    return bp_tier_parse(s, n);
}

static int look_event(const void *ctx, const char *s, size_t n) {
    (void)ctx;
    return bp_event_type_parse(s, n);
}

static void parse_filters(const cJSON *f, const bp_registry_t *reg, bool stored, bp_sub_t *out,
                          bp_errors_t *errs) {
    static const char *const keys[] = {"hospitals", "districts", "tiers", "min_level"};
    if (cJSON_IsNull(f)) return;
    if (!cJSON_IsObject(f)) {
        add(errs, "wrong_type", "filters", "filters must be an object, got %s",
            bp_jsonin_type_name(f));
        return;
    }
    check_keys(f, "filters", keys, 4, errs);
    const cJSON *v;
    if ((v = item(f, "hospitals")) && !cJSON_IsNull(v)) {
        name_list(v, "filters.hospitals", "the registry's hospital ids", stored, look_hospital, reg,
                  out->hospitals, reg->n_hospitals, errs);
        out->by_hospital = cJSON_GetArraySize(v) > 0;
    }
    if ((v = item(f, "districts")) && !cJSON_IsNull(v)) {
        name_list(v, "filters.districts", "the registry's district ids", stored, look_district, reg,
                  out->districts, reg->n_districts, errs);
        out->by_district = cJSON_GetArraySize(v) > 0;
    }
    if ((v = item(f, "tiers")) && !cJSON_IsNull(v)) {
        uint64_t t = 0;
        name_list(v, "filters.tiers", "central, city, district, private", false, look_tier, NULL,
                  &t, BP_TIER__COUNT, errs);
        out->tiers = (uint32_t)t;
    }
    if ((v = item(f, "min_level")) && !cJSON_IsNull(v)) {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
            v->valuedouble > 4)
            add(errs, "out_of_range", "filters.min_level",
                "filters.min_level must be a whole number from 1 to 4 (the lowest pressure level)");
        else
            out->min_level = (int)v->valuedouble;
    }
}

static void parse_quiet(const cJSON *q, bp_sub_t *out, bp_errors_t *errs) {
    static const char *const keys[] = {"from", "to"};
    if (cJSON_IsNull(q)) return;
    if (!cJSON_IsObject(q)) {
        add(errs, "wrong_type", "quiet_hours",
            "quiet_hours must be an object {\"from\":\"HH:MM\",\"to\":\"HH:MM\"} or null, got %s",
            bp_jsonin_type_name(q));
        return;
    }
    check_keys(q, "quiet_hours", keys, 2, errs);
    int t[2] = {-1, -1};
    for (int i = 0; i < 2; i++) {
        char f[24];
        snprintf(f, sizeof f, "quiet_hours.%s", keys[i]);
        const cJSON *v = item(q, keys[i]);
        if (!v)
            add(errs, "missing_field", f, "%s is required (local time, HH:MM)", f);
        else if (!cJSON_IsString(v) || (t[i] = hhmm(v->valuestring)) < 0)
            add(errs, "bad_value", f, "%s must be a local time HH:MM from 00:00 to 23:59", f);
    }
    if (t[0] >= 0 && t[1] >= 0 && t[0] == t[1])
        add(errs, "bad_value", "quiet_hours.to",
            "quiet_hours.to must differ from quiet_hours.from (omit quiet_hours for none)");
    if (t[0] >= 0 && t[1] >= 0 && t[0] != t[1]) {
        out->quiet = true;
        out->quiet_from = t[0];
        out->quiet_to = t[1];
    }
}

int bp_sub_parse(const char *json, size_t len, const bp_registry_t *reg, bool stored, bp_sub_t *out,
                 bp_errors_t *errs) {
    static const char *const keys[] = {"channel", "url",     "secret", "address",
                                       "events",  "filters", "lang",   "quiet_hours",
                                       "owner",   "id",      "created"};
    memset(out, 0, sizeof *out);
    errs->n = 0;
    out->min_level = 1;
    snprintf(out->lang, sizeof out->lang, "vi");
    if (len == 0 || len > BP_SUB_BODY_MAX || memchr(json, '\0', len)) {
        add(errs, "bad_json", "", "send one JSON object of at most %d bytes", BP_SUB_BODY_MAX);
        return -1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (root && end) {
        while (end < json + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
            end++;
        if (end < json + len) {
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (!root) {
        add(errs, "bad_json", "", "the body is not one well-formed JSON object");
        return -1;
    }
    if (!cJSON_IsObject(root)) {
        add(errs, "wrong_type", "", "the body must be a JSON object, got %s",
            bp_jsonin_type_name(root));
        cJSON_Delete(root);
        return -1;
    }
    check_keys(root, "", keys, stored ? 11 : 9, errs);
    const cJSON *v;
    /* channel and its target */
    v = item(root, "channel");
    if (!v) {
        add(errs, "missing_field", "channel", "channel is required: \"webhook\" or \"email\"");
    } else if (!cJSON_IsString(v) ||
               (strcmp(v->valuestring, "webhook") && strcmp(v->valuestring, "email"))) {
        add(errs, "bad_value", "channel", "channel must be \"webhook\" or \"email\"");
    } else {
        out->channel = strcmp(v->valuestring, "email") == 0 ? BP_CH_EMAIL : BP_CH_WEBHOOK;
        bool hook = out->channel == BP_CH_WEBHOOK;
        const char *need[2] = {hook ? "url" : "address", hook ? "secret" : NULL};
        const char *other[2] = {hook ? "address" : "url", hook ? NULL : "secret"};
        for (int i = 0; i < 2; i++) {
            if (need[i] && !item(root, need[i]))
                add(errs, "missing_field", need[i], "%s is required for a%s %s subscription",
                    need[i], hook ? "" : "n", hook ? "webhook" : "email");
            if (other[i] && item(root, other[i]))
                add(errs, "unknown_field", other[i], "%s does not belong to a%s %s subscription",
                    other[i], hook ? "" : "n", hook ? "webhook" : "email");
        }
        if (hook && (v = item(root, "url")) &&
            get_string(v, "url", BP_URL_MAX, out->url, sizeof out->url, errs)) {
            bp_url_t u;
            bp_error_t e;
            if (bp_url_parse(out->url, strlen(out->url), &u, "url", &e))
                add(errs, e.code, e.field, "%s", e.message);
        }
        if (hook && (v = item(root, "secret")) &&
            get_string(v, "secret", BP_SUB_SECRET_MAX, out->secret, sizeof out->secret, errs)) {
            size_t n = strlen(out->secret);
            bool printable = true;
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)out->secret[i] < 0x21 || (unsigned char)out->secret[i] > 0x7e)
                    printable = false;
            if (n < BP_SUB_SECRET_MIN || !printable)
                add(errs, "weak_secret", "secret",
                    "secret must be %d to %d printable ASCII characters without spaces (the "
                    "key of the X-BedPulse-Signature HMAC)",
                    BP_SUB_SECRET_MIN, BP_SUB_SECRET_MAX);
        }
        if (!hook && (v = item(root, "address")) &&
            get_string(v, "address", BP_SUB_EMAIL_MAX, out->address, sizeof out->address, errs)) {
            bp_error_t e;
            if (bp_email_check(out->address, strlen(out->address), "address", &e))
                add(errs, e.code, e.field, "%s", e.message);
        }
    }
    /* what to hear about */
    v = item(root, "events");
    if (!v) {
        add(errs, "missing_field", "events", "events is required: a list of event types");
    } else {
        uint64_t bits = 0;
        size_t before = errs->n;
        name_list(v, "events",
                  "alert.raised, alert.cleared, alert.acked, ed.status, "
                  "hospital.stale, mci.declared, mci.closed",
                  false, look_event, NULL, &bits, BP_EV__COUNT, errs);
        out->events = (uint32_t)bits;
        if (errs->n == before && !bits)
            add(errs, "out_of_range", "events", "events must name at least one event type");
    }
    if ((v = item(root, "filters"))) parse_filters(v, reg, stored, out, errs);
    if ((v = item(root, "lang"))) {
        if (!cJSON_IsString(v) || (strcmp(v->valuestring, "vi") && strcmp(v->valuestring, "en")))
            add(errs, "bad_value", "lang", "lang must be \"vi\" or \"en\"");
        else
            snprintf(out->lang, sizeof out->lang, "%s", v->valuestring);
    }
    if ((v = item(root, "quiet_hours"))) parse_quiet(v, out, errs);
    if ((v = item(root, "owner")) &&
        (!get_string(v, "owner", BP_TOKEN_ID_MAX, out->owner, sizeof out->owner, errs) ||
         !token_id_ok(out->owner)))
        add(errs, "bad_value", "owner", "owner must be a token id (t-...)");
    if (stored) {
        if (!(v = item(root, "id")) || !cJSON_IsString(v) ||
            strlen(v->valuestring) > BP_SUB_ID_MAX || !token_id_ok(v->valuestring))
            add(errs, "bad_value", "id", "id must be a subscription id");
        else
            snprintf(out->id, sizeof out->id, "%s", v->valuestring);
        if ((v = item(root, "created")) && cJSON_IsNumber(v) && v->valuedouble >= 0 &&
            v->valuedouble < 9e15)
            out->created_ms = (int64_t)v->valuedouble;
        if (!out->owner[0])
            add(errs, "missing_field", "owner", "a stored subscription has an owner");
    }
    cJSON_Delete(root);
    if (errs->n) {
        explicit_bzero(out->secret, sizeof out->secret);
        return -1;
    }
    return 0;
}

/* -- writing ------------------------------------------------------------------------ */

static void write_bits(bp_jw_t *w, const uint64_t *bits, size_t n,
                       const char *(*name)(const void *ctx, size_t i), const void *ctx) {
    bp_jw_arr(w);
    for (size_t i = 0; i < n; i++)
        if (bits[i / 64] >> (i % 64) & 1) bp_jw_cstr(w, name(ctx, i));
    bp_jw_end(w);
}

static const char *hospital_name(const void *ctx, size_t i) {
    return ((const bp_registry_t *)ctx)->hospitals[i].id;
}

static const char *district_name(const void *ctx, size_t i) {
    return ((const bp_registry_t *)ctx)->districts[i].id;
}

static const char *tier_name(const void *ctx, size_t i) {
    (void)ctx;
    return bp_tier_name((bp_tier_t)i);
}

static const char *event_name(const void *ctx, size_t i) {
    (void)ctx;
    return event_names[i];
}

/* "HH:MM" of minutes after midnight. */
static void write_hhmm(bp_jw_t *w, int min) {
    char t[24];
    snprintf(t, sizeof t, "%02d:%02d", min / 60, min % 60);
    bp_jw_cstr(w, t);
}

void bp_sub_write(bp_buf_t *b, const bp_sub_t *s, const bp_registry_t *reg, bool stored) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "id");
    bp_jw_cstr(&w, s->id);
    BP_JW_KEY(&w, "owner");
    bp_jw_cstr(&w, s->owner);
    BP_JW_KEY(&w, "created");
    if (stored)
        bp_jw_int(&w, s->created_ms);
    else
        bp_jw_time(&w, s->created_ms);
    BP_JW_KEY(&w, "channel");
    if (s->channel == BP_CH_WEBHOOK) {
        bp_jw_cstr(&w, "webhook");
        BP_JW_KEY(&w, "url");
        bp_jw_cstr(&w, s->url);
        if (stored) {
            BP_JW_KEY(&w, "secret");
            bp_jw_cstr(&w, s->secret);
        } else {
            BP_JW_KEY(&w, "secret_set");
            bp_jw_bool(&w, true);
        }
    } else {
        bp_jw_cstr(&w, "email");
        BP_JW_KEY(&w, "address");
        bp_jw_cstr(&w, s->address);
    }
    uint64_t ev = s->events, tiers = s->tiers;
    BP_JW_KEY(&w, "events");
    write_bits(&w, &ev, BP_EV__COUNT, event_name, NULL);
    BP_JW_KEY(&w, "filters");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "hospitals");
    write_bits(&w, s->hospitals, s->by_hospital ? reg->n_hospitals : 0, hospital_name, reg);
    BP_JW_KEY(&w, "districts");
    write_bits(&w, s->districts, s->by_district ? reg->n_districts : 0, district_name, reg);
    BP_JW_KEY(&w, "tiers");
    write_bits(&w, &tiers, BP_TIER__COUNT, tier_name, NULL);
    BP_JW_KEY(&w, "min_level");
    bp_jw_int(&w, s->min_level);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "lang");
    bp_jw_cstr(&w, s->lang);
    BP_JW_KEY(&w, "quiet_hours");
    if (s->quiet) {
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "from");
        write_hhmm(&w, s->quiet_from);
        BP_JW_KEY(&w, "to");
        write_hhmm(&w, s->quiet_to);
        bp_jw_end(&w);
    } else {
        bp_jw_null(&w);
    }
    bp_jw_end(&w);
}

/* -- matching ------------------------------------------------------------------------ */

bool bp_quiet_at(int from, int to, int minute) {
    if (from == to) return false;
    if (from < to) return minute >= from && minute < to;
    return minute >= from || minute < to; /* across midnight */
}

int bp_local_minute(int64_t ms, int utc_offset_min) {
    int64_t m = ms / 60000 + utc_offset_min;
    if (ms < 0 && ms % 60000) m--;
    return (int)(((m % 1440) + 1440) % 1440);
}

static bool bit(const uint64_t *bits, size_t i) {
    return bits[i / 64] >> (i % 64) & 1;
}

bp_sub_verdict_t bp_sub_match(const bp_sub_t *s, const bp_registry_t *reg,
                              const bp_event_match_t *ev, int64_t now_ms, int utc_offset_min) {
    if ((unsigned)ev->type >= BP_EV__COUNT || !(s->events >> ev->type & 1))
        return BP_SUB_NOT_WANTED;
    if (ev->level < s->min_level) return BP_SUB_FILTERED;
    if (s->by_hospital || s->by_district || s->tiers) {
        bool any = false;
        for (size_t i = 0; i < ev->n_hospitals && !any; i++) {
            int h = ev->hospitals[i];
            if (h < 0 || (size_t)h >= reg->n_hospitals) continue;
            const bp_hospital_info_t *hi = &reg->hospitals[h];
            any = (!s->by_hospital || bit(s->hospitals, (size_t)h)) &&
                  (!s->by_district ||
                   (hi->district >= 0 && bit(s->districts, (size_t)hi->district))) &&
                  (!s->tiers || (s->tiers >> hi->tier & 1));
        }
        if (!any) return BP_SUB_FILTERED;
    }
    bool urgent = ev->level >= 4 || ev->type == BP_EV_MCI_DECLARED || ev->type == BP_EV_MCI_CLOSED;
    if (s->quiet && !urgent &&
        bp_quiet_at(s->quiet_from, s->quiet_to, bp_local_minute(now_ms, utc_offset_min)))
        return BP_SUB_QUIET;
    return BP_SUB_DELIVER;
}
