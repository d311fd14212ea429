/* JSON readers (cJSON) and the writers of the stored format. */
#include "bp_codec.h"
#include "bp_mci.h"
#include "bp_recommend.h"
#include "bp_time.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATH 96

/* -- small helpers ------------------------------------------------------- */

static const char *type_name(const cJSON *v) {
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "invalid";
}

/* out = parent "." name, truncated to MAX_PATH - 1 bytes (paths are for
 * messages; a truncated path is still useful). */
static void join(char *out, const char *parent, const char *name) {
    size_t n = 0;
    for (const char *p = parent; p && *p && n < MAX_PATH - 1; p++) out[n++] = *p;
    if (n && n < MAX_PATH - 1) out[n++] = '.';
    for (const char *p = name; p && *p && n < MAX_PATH - 1; p++) out[n++] = *p;
    out[n] = '\0';
}

/* Parses the whole of (text, len) as one JSON value; trailing bytes other
 * than whitespace are an error. */
static cJSON *parse_all(const char *text, size_t len, bp_error_t *err) {
    if (len == 0) {
        bp_error_set(err, "bad_json", "", "empty input: expected one JSON object");
        return NULL;
    }
    /* A raw NUL byte is never valid JSON, and cJSON would end a string at
     * it without complaint ("bach-mai<NUL>x" would read as "bach-mai"). */
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        bp_error_set(err, "bad_json", "", "NUL byte at byte %ld", (long)(nul - text));
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long pos = at && at >= text && at <= text + len ? (long)(at - text) : -1;
        bp_error_set(err, "bad_json", "", "malformed JSON near byte %ld", pos);
        return NULL;
    }
    if (end) {
        while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
            end++;
        if (end < text + len) {
            cJSON_Delete(root);
            bp_error_set(err, "bad_json", "", "unexpected bytes after the JSON value at byte %ld",
                         (long)(end - text));
            return NULL;
        }
    }
    return root;
}

/* Checks an object's keys against a list; fails on unknown or repeated keys.
 * Returns a bitmask of which listed keys are present. */
static int check_keys(const cJSON *obj, const char *path, const char *const *names, size_t n,
                      unsigned *present, bp_error_t *err) {
    *present = 0;
    for (const cJSON *it = obj->child; it; it = it->next) {
        size_t i = 0;
        while (i < n && strcmp(names[i], it->string) != 0) i++;
        char p[MAX_PATH];
        join(p, path, it->string);
        if (i == n) {
            char shown[40];
            snprintf(shown, sizeof shown, "%s", it->string);
            return bp_error_set(err, "unknown_field", p, "unknown field \"%s\"%s%s", shown,
                                path && *path ? " in " : "", path ? path : "");
        }
        if (*present & (1u << i))
            return bp_error_set(err, "duplicate_field", p, "field %s appears more than once", p);
        *present |= 1u << i;
    }
    return 0;
}

static int want_object(const cJSON *v, const char *path, bp_error_t *err) {
    if (!cJSON_IsObject(v))
        return bp_error_set(err, "wrong_type", path, "%s must be an object, got %s",
                            *path ? path : "the message", type_name(v));
    return 0;
}

static int get_int(const cJSON *v, const char *path, int64_t lo, int64_t hi, int64_t *out,
                   bp_error_t *err) {
    if (!cJSON_IsNumber(v))
        return bp_error_set(err, "wrong_type", path, "%s must be an integer, got %s", path,
                            type_name(v));
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return bp_error_set(err, "wrong_type", path, "%s must be a whole number", path);
    if (d < (double)lo || d > (double)hi)
        return bp_error_set(err, "out_of_range", path, "%s must be from %lld to %lld, got %.0f",
                            path, (long long)lo, (long long)hi, d);
    *out = (int64_t)d;
    return 0;
}

static int get_num(const cJSON *v, const char *path, double lo, double hi, double *out,
                   bp_error_t *err) {
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return bp_error_set(err, "wrong_type", path, "%s must be a number, got %s", path,
                            type_name(v));
    if (v->valuedouble < lo || v->valuedouble > hi)
        return bp_error_set(err, "out_of_range", path, "%s must be from %g to %g, got %g", path,
                            lo, hi, v->valuedouble);
    *out = v->valuedouble;
    return 0;
}

/* A string field checked for UTF-8, control characters and length. */
static int get_text(const cJSON *v, const char *path, size_t max, char *out, size_t out_len,
                    bp_error_t *err) {
    if (!cJSON_IsString(v))
        return bp_error_set(err, "wrong_type", path, "%s must be a string, got %s", path,
                            type_name(v));
    size_t n = strlen(v->valuestring);
    if (n > max)
        return bp_error_set(err, "too_long", path, "%s must be at most %zu bytes, got %zu", path,
                            max, n);
    if (!bp_is_clean_text(v->valuestring, n, max))
        return bp_error_set(err, "bad_string", path,
                            "%s must be valid UTF-8 without control or bidi-override characters",
                            path);
    if (n >= out_len) n = out_len - 1;
    memcpy(out, v->valuestring, n);
    out[n] = '\0';
    return 0;
}

static int get_time(const cJSON *v, const char *path, int64_t *out, bp_error_t *err) {
    if (!cJSON_IsString(v) || bp_time_parse(v->valuestring, strlen(v->valuestring), out))
        return bp_error_set(err, "bad_time", path,
                            "%s must be an RFC 3339 time with a zone, e.g. "
                            "\"2026-11-22T08:00:00+07:00\"",
                            path);
    return 0;
}

/* One of a list of names (an enum's wire names): its value from parse. */
static int get_name(const cJSON *v, const char *path, int (*parse)(const char *, size_t),
                    const char *names, int *out, bp_error_t *err) {
    *out = cJSON_IsString(v) ? parse(v->valuestring, strlen(v->valuestring)) : -1;
    if (*out < 0) return bp_error_set(err, "bad_value", path, "%s must be one of %s", path, names);
    return 0;
}

/* -- feed lines ---------------------------------------------------------- */

enum { F_TYPE, F_SOURCE, F_SEQ, F_AT, F_HOSPITAL, F_BEDS, F_ED };
static const char *const beds_keys[] = {"type", "source", "seq", "at", "hospital", "beds", "ed"};

enum { A_TYPE, A_SOURCE, A_SEQ, A_AT, A_ID, A_STATUS, A_LAT, A_LON, A_HEADING, A_SPEED, A_DEST, A_INCIDENT };
static const char *const amb_keys[] = {"type", "source", "seq",   "at",          "id",      "status",
                                       "lat",  "lon",    "heading", "speed", "destination", "incident"};

enum { I_TYPE, I_SOURCE, I_SEQ, I_AT, I_ID, I_ACTION, I_PRIORITY, I_CATEGORY, I_LAT, I_LON,
       I_ADDRESS, I_RECEIVED, I_UNIT, I_DEST };
static const char *const inc_keys[] = {"type",     "source",   "seq",     "at",      "id",
                                       "action",   "priority", "category", "lat",    "lon",
                                       "address",  "received", "unit",    "destination"};
#define RECEIVED_MAX_AGE_MS (7 * 86400 * 1000LL) /* a call older than the incident retention */

static const char *const bed_field_keys[] = {"staffed", "occupied", "surge24"};
static const char *const ed_keys[] = {"status", "reason", "until", "waiting"};

static int parse_beds(const cJSON *beds, bp_change_t *out, bp_error_t *err) {
    if (want_object(beds, "beds", err)) return -1;
    int seen = 0;
    for (const cJSON *it = beds->child; it; it = it->next) {
        char path[MAX_PATH];
        join(path, "beds", it->string);
        int t = bp_bed_type_parse(it->string, strlen(it->string));
        if (t < 0)
            return bp_error_set(err, "unknown_bed_type", path,
                                "unknown bed type \"%.40s\"; known: emergency, icu_adult, "
                                "icu_pediatric, icu_neonatal, medical_surgical, pediatrics, "
                                "obstetrics, burn, psychiatric, isolation, operating_room",
                                it->string);
        if (seen & (1 << t))
            return bp_error_set(err, "duplicate_field", path, "field %s appears more than once", path);
        seen |= 1 << t;
        if (want_object(it, path, err)) return -1;
        unsigned present;
        if (check_keys(it, path, bed_field_keys, 3, &present, err)) return -1;
        if (!present)
            return bp_error_set(err, "missing_field", path,
                                "%s must give at least one of staffed, occupied, surge24", path);
        int32_t *dst[3] = {&out->beds[t].staffed, &out->beds[t].occupied, &out->beds[t].surge24};
        for (int f = 0; f < 3; f++) {
            if (!(present & (1u << f))) continue;
            char fp[MAX_PATH];
            join(fp, path, bed_field_keys[f]);
            int64_t v;
            if (get_int(cJSON_GetObjectItemCaseSensitive(it, bed_field_keys[f]), fp, 0, BP_BEDS_MAX,
                        &v, err))
                return -1;
            *dst[f] = (int32_t)v;
        }
        out->bed_fields[t] = (uint8_t)present;
    }
    return 0;
}

static int parse_ed(const cJSON *ed, int64_t at_ms, bp_ed_t *out, bp_error_t *err) {
    if (want_object(ed, "ed", err)) return -1;
    unsigned present;
    if (check_keys(ed, "ed", ed_keys, 4, &present, err)) return -1;
    if (!(present & 1))
        return bp_error_set(err, "missing_field", "ed.status",
                            "ed.status is required: normal, advisory, diversion or closed");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(ed, "status");
    int s = cJSON_IsString(st) ? bp_ed_status_parse(st->valuestring, strlen(st->valuestring)) : -1;
    if (s < 0)
        return bp_error_set(err, "bad_value", "ed.status",
                            "ed.status must be one of normal, advisory, diversion, closed");
    memset(out, 0, sizeof *out);
    out->status = (bp_ed_status_t)s;
    out->waiting = -1;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(ed, "reason")) && !cJSON_IsNull(v) &&
        get_text(v, "ed.reason", BP_REASON_MAX, out->reason, sizeof out->reason, err))
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(ed, "until")) && !cJSON_IsNull(v)) {
        if (get_time(v, "ed.until", &out->until_ms, err)) return -1;
        if (out->status == BP_ED_NORMAL)
            return bp_error_set(err, "bad_value", "ed.until",
                                "ed.until applies only to advisory, diversion or closed");
        if (out->until_ms <= at_ms)
            return bp_error_set(err, "bad_value", "ed.until", "ed.until must be later than at");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(ed, "waiting")) && !cJSON_IsNull(v)) {
        int64_t w;
        if (get_int(v, "ed.waiting", 0, BP_WAITING_MAX, &w, err)) return -1;
        out->waiting = (int32_t)w;
    }
    return 0;
}

/* "lat" and "lon" of a message, which come together: 1 read, 0 absent,
 * -1 error. Both must be degrees; with area_reg, also inside the
 * registry's area (bp_registry_area): plausible for this deployment. */
static int get_position(const cJSON *root, bool has_lat, bool has_lon,
                        const bp_registry_t *area_reg, double *lat, double *lon, bp_error_t *err) {
    if (has_lat != has_lon)
        return bp_error_set(err, "missing_field", has_lat ? "lon" : "lat",
                            "lat and lon must be given together");
    if (!has_lat) return 0;
    if (get_num(cJSON_GetObjectItemCaseSensitive(root, "lat"), "lat", -90, 90, lat, err) ||
        get_num(cJSON_GetObjectItemCaseSensitive(root, "lon"), "lon", -180, 180, lon, err))
        return -1;
    if (!area_reg) return 1;
    bp_area_t a;
    bp_registry_area(area_reg, &a);
    bool lat_in = *lat >= a.lat_min && *lat <= a.lat_max;
    if (!lat_in || *lon < a.lon_min || *lon > a.lon_max)
        return bp_error_set(err, "out_of_range", lat_in ? "lon" : "lat",
                            "%s %g is outside the service area (lat %.2f to %.2f, lon %.2f to "
                            "%.2f: around the registry's hospitals and stations)",
                            lat_in ? "lon" : "lat", lat_in ? *lon : *lat, a.lat_min, a.lat_max,
                            a.lon_min, a.lon_max);
    return 1;
}

/* A reference to a registry entry: a hospital id, or (unit) an ambulance
 * call sign; null or "" clears it (out becomes ""). */
static int get_ref(const cJSON *v, const char *path, const bp_registry_t *reg, bool unit, char *out,
                   size_t out_len, bp_error_t *err) {
    out[0] = '\0';
    if (cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring[0] == '\0')) return 0;
    const char *what = unit ? "an ambulance call sign" : "a hospital id";
    if (!cJSON_IsString(v))
        return bp_error_set(err, "wrong_type", path, "%s must be %s or null, got %s", path, what,
                            type_name(v));
    size_t n = strlen(v->valuestring);
    int i = !reg ? -1 : unit ? bp_registry_unit(reg, v->valuestring, n)
                             : bp_registry_hospital(reg, v->valuestring, n);
    if (i < 0)
        return bp_error_set(err, unit ? "unknown_ambulance" : "unknown_hospital", path,
                            "%s: unknown %s \"%.48s\"", path, unit ? "ambulance" : "hospital",
                            v->valuestring);
    snprintf(out, out_len, "%s", v->valuestring);
    return 0;
}

static int parse_ambulance(const cJSON *root, unsigned present, const bp_registry_t *reg,
                           bp_change_t *out, bp_error_t *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (!v) return bp_error_set(err, "missing_field", "id", "id is required: the ambulance call sign");
    if (!cJSON_IsString(v) || !bp_is_callsign(v->valuestring, strlen(v->valuestring)))
        return bp_error_set(err, "bad_value", "id",
                            "id must be a call sign of 1 to 32 characters [A-Za-z0-9-]");
    if (reg && bp_registry_unit(reg, v->valuestring, strlen(v->valuestring)) < 0)
        return bp_error_set(err, "unknown_ambulance", "id", "unknown ambulance \"%s\"",
                            v->valuestring);
    snprintf(out->id, sizeof out->id, "%s", v->valuestring);

    bp_ambulance_state_t *a = &out->amb;
    if (present & (1u << A_STATUS)) {
        int st;
        if (get_name(cJSON_GetObjectItemCaseSensitive(root, "status"), "status",
                     bp_amb_status_parse,
                     "available_station, available_radio, dispatched, on_scene, transporting, "
                     "at_hospital, out_of_service",
                     &st, err))
            return -1;
        a->status = (bp_amb_status_t)st;
        out->amb_fields |= BP_AF_STATUS;
    }
    int pos = get_position(root, present & (1u << A_LAT), present & (1u << A_LON), NULL, &a->lat,
                           &a->lon, err);
    if (pos < 0) return -1;
    if (pos) {
        a->has_position = true;
        out->amb_fields |= BP_AF_POSITION;
    }
    if (present & (1u << A_HEADING)) {
        if (get_num(cJSON_GetObjectItemCaseSensitive(root, "heading"), "heading", 0, 360,
                    &a->heading, err))
            return -1;
        out->amb_fields |= BP_AF_HEADING;
    }
    if (present & (1u << A_SPEED)) {
        if (get_num(cJSON_GetObjectItemCaseSensitive(root, "speed"), "speed", 0, 300, &a->speed, err))
            return -1;
        out->amb_fields |= BP_AF_SPEED;
    }
    if (present & (1u << A_DEST)) {
        if (get_ref(cJSON_GetObjectItemCaseSensitive(root, "destination"), "destination", reg,
                    false, a->destination, sizeof a->destination, err))
            return -1;
        out->amb_fields |= BP_AF_DESTINATION;
    }
    if (present & (1u << A_INCIDENT)) {
        v = cJSON_GetObjectItemCaseSensitive(root, "incident");
        if (!cJSON_IsNull(v) &&
            get_text(v, "incident", BP_INCIDENT_MAX, a->incident, sizeof a->incident, err))
            return -1;
        out->amb_fields |= BP_AF_INCIDENT;
    }
    return 0;
}

/* An incident line from the CAD gateway: create needs priority, category
 * and the position; update changes what it carries (at least one field);
 * close may carry the final destination and unit, nothing else. */
static int parse_incident(const cJSON *root, unsigned present, const bp_registry_t *reg,
                          bp_change_t *out, bp_error_t *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (!v)
        return bp_error_set(err, "missing_field", "id", "id is required: the CAD's incident number");
    if (!cJSON_IsString(v) || !bp_is_incident_id(v->valuestring, strlen(v->valuestring)))
        return bp_error_set(err, "bad_value", "id", "id must be 1 to 64 characters [A-Za-z0-9-]");
    snprintf(out->id, sizeof out->id, "%s", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(root, "action");
    if (!v)
        return bp_error_set(err, "missing_field", "action",
                            "action is required: create, update or close");
    int act;
    if (get_name(v, "action", bp_inc_action_parse, "create, update, close", &act, err)) return -1;
    out->inc_action = (bp_inc_action_t)act;
    const unsigned fields = (1u << I_PRIORITY) | (1u << I_CATEGORY) | (1u << I_LAT) |
                            (1u << I_LON) | (1u << I_ADDRESS) | (1u << I_RECEIVED) |
                            (1u << I_UNIT) | (1u << I_DEST);
    if (act == BP_INC_CREATE) {
        static const int required[] = {I_PRIORITY, I_CATEGORY, I_LAT, I_LON};
        for (size_t k = 0; k < sizeof required / sizeof *required; k++)
            if (!(present & (1u << required[k])))
                return bp_error_set(err, "missing_field", inc_keys[required[k]],
                                    "%s is required to create an incident (priority, category, "
                                    "lat and lon)",
                                    inc_keys[required[k]]);
    } else if (act == BP_INC_CLOSE) {
        for (int k = I_PRIORITY; k <= I_RECEIVED; k++)
            if (present & (1u << k))
                return bp_error_set(err, "bad_value", inc_keys[k],
                                    "%s cannot come with a close (it takes destination and unit "
                                    "only); send an update first",
                                    inc_keys[k]);
    } else if (!(present & fields)) {
        return bp_error_set(err, "missing_field", "action",
                            "action update must change at least one of priority, category, "
                            "lat/lon, address, received, unit, destination");
    }
    bp_incident_state_t *n = &out->inc;
    int64_t x;
    if (present & (1u << I_PRIORITY)) {
        if (get_int(cJSON_GetObjectItemCaseSensitive(root, "priority"), "priority", 1, 3, &x, err))
            return -1;
        n->priority = (int)x;
        out->inc_fields |= BP_IF_PRIORITY;
    }
    if (present & (1u << I_CATEGORY)) {
        int cat;
        if (get_name(cJSON_GetObjectItemCaseSensitive(root, "category"), "category",
                     bp_category_parse,
                     "trauma, stroke, cardiac, obstetric, pediatric, burn, respiratory, "
                     "psychiatric, other",
                     &cat, err))
            return -1;
        n->category = (bp_category_t)cat;
        out->inc_fields |= BP_IF_CATEGORY;
    }
    int pos = get_position(root, present & (1u << I_LAT), present & (1u << I_LON), reg, &n->lat,
                           &n->lon, err);
    if (pos < 0) return -1;
    if (pos) out->inc_fields |= BP_IF_POSITION;
    if (present & (1u << I_ADDRESS)) {
        v = cJSON_GetObjectItemCaseSensitive(root, "address");
        if (!cJSON_IsNull(v) &&
            get_text(v, "address", BP_ADDRESS_MAX, n->address, sizeof n->address, err))
            return -1;
        out->inc_fields |= BP_IF_ADDRESS;
    }
    if (present & (1u << I_RECEIVED)) {
        if (get_time(cJSON_GetObjectItemCaseSensitive(root, "received"), "received",
                     &n->received_ms, err))
            return -1;
        if (n->received_ms > out->at_ms)
            return bp_error_set(err, "out_of_range", "received",
                                "received (when the call came in) must not be later than at");
        if (out->at_ms - n->received_ms > RECEIVED_MAX_AGE_MS)
            return bp_error_set(err, "out_of_range", "received",
                                "received must be within 7 days before at");
        out->inc_fields |= BP_IF_RECEIVED;
    }
    if (present & (1u << I_UNIT)) {
        if (get_ref(cJSON_GetObjectItemCaseSensitive(root, "unit"), "unit", reg, true, n->unit,
                    sizeof n->unit, err))
            return -1;
        out->inc_fields |= BP_IF_UNIT;
    }
    if (present & (1u << I_DEST)) {
        if (get_ref(cJSON_GetObjectItemCaseSensitive(root, "destination"), "destination", reg,
                    false, n->destination, sizeof n->destination, err))
            return -1;
        out->inc_fields |= BP_IF_DESTINATION;
    }
    return 0;
}

/* cJSON turns "\u0000" into an early NUL, which would silently shorten a
 * string ("bach-mai\u0000x" -> "bach-mai"). Refuse such lines outright. */
static int has_escaped_nul(const char *s, size_t len) {
    for (size_t i = 0; i + 6 <= len; i++) {
        if (s[i] == '\\') {
            if (s[i + 1] == 'u' && s[i + 2] == '0' && s[i + 3] == '0' && s[i + 4] == '0' &&
                s[i + 5] == '0')
                return 1;
            i++; /* skip the escaped character, so "\\u0000" is not a NUL */
        }
    }
    return 0;
}

int bp_codec_parse_feed(const char *line, size_t len, const bp_registry_t *reg, int64_t now_ms,
                        int64_t max_skew_ms, bp_change_t *out, bp_error_t *err) {
    int rc = -1;
    cJSON *root = NULL;
    bp_change_init(out, BP_KIND_HOSPITAL);
    if (!(root = parse_all(line, len, err))) goto out;
    if (want_object(root, "", err)) goto out;

    /* seq first, so that every later error can be answered with it */
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
    int64_t seqv = -1;
    if (!seq) {
        bp_error_set(err, "missing_field", "seq",
                     "seq is required: the sender's own increasing message number");
        goto out;
    }
    if (get_int(seq, "seq", 0, 9007199254740991LL, &seqv, err)) goto out;
    out->seq = seqv;
    /* checked on the raw text: cJSON has already cut such strings short */
    if (has_escaped_nul(line, len)) {
        bp_error_set(err, "bad_string", "", "strings must not contain \\u0000");
        goto out;
    }

    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!type) {
        bp_error_set(err, "missing_field", "type",
                     "type is required: \"beds\", \"ambulance\" or \"incident\"");
        goto out;
    }
    bp_msg_type_t mt;
    if (cJSON_IsString(type) && strcmp(type->valuestring, "beds") == 0) {
        mt = BP_MSG_BEDS;
    } else if (cJSON_IsString(type) && strcmp(type->valuestring, "ambulance") == 0) {
        mt = BP_MSG_AMBULANCE;
    } else if (cJSON_IsString(type) && strcmp(type->valuestring, "incident") == 0) {
        mt = BP_MSG_INCIDENT;
    } else {
        bp_error_set(err, "unknown_type", "type",
                     "type must be \"beds\", \"ambulance\" or \"incident\"");
        goto out;
    }
    static const struct {
        const char *const *keys;
        size_t n;
    } key_sets[] = {
        [BP_MSG_BEDS] = {beds_keys, sizeof beds_keys / sizeof *beds_keys},
        [BP_MSG_AMBULANCE] = {amb_keys, sizeof amb_keys / sizeof *amb_keys},
        [BP_MSG_INCIDENT] = {inc_keys, sizeof inc_keys / sizeof *inc_keys},
    };
    unsigned present;
    if (check_keys(root, "", key_sets[mt].keys, key_sets[mt].n, &present, err)) goto out;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "source");
    if (!v) {
        bp_error_set(err, "missing_field", "source", "source is required: the feed's name");
        goto out;
    }
    if (!cJSON_IsString(v) || !bp_is_source(v->valuestring, strlen(v->valuestring))) {
        bp_error_set(err, "bad_value", "source",
                     "source must be 1 to 64 characters of [A-Za-z0-9._:-]");
        goto out;
    }
    snprintf(out->source, sizeof out->source, "%s", v->valuestring);

    v = cJSON_GetObjectItemCaseSensitive(root, "at");
    if (!v) {
        bp_error_set(err, "missing_field", "at", "at is required: when the figures were true");
        goto out;
    }
    if (get_time(v, "at", &out->at_ms, err)) goto out;
    if (out->at_ms > now_ms + max_skew_ms) {
        bp_error_set(err, "out_of_range", "at",
                     "at is %lld s in the future; the sender's clock is wrong (allowed skew %lld s)",
                     (long long)((out->at_ms - now_ms) / 1000), (long long)(max_skew_ms / 1000));
        goto out;
    }

    if (mt == BP_MSG_AMBULANCE) {
        out->kind = BP_KIND_AMBULANCE;
        if (parse_ambulance(root, present, reg, out, err)) goto out;
        rc = 0;
        goto out;
    }
    if (mt == BP_MSG_INCIDENT) {
        out->kind = BP_KIND_INCIDENT;
        if (parse_incident(root, present, reg, out, err)) goto out;
        rc = 0;
        goto out;
    }

    out->kind = BP_KIND_HOSPITAL;
    v = cJSON_GetObjectItemCaseSensitive(root, "hospital");
    if (!v) {
        bp_error_set(err, "missing_field", "hospital", "hospital is required: a hospital id");
        goto out;
    }
    if (!cJSON_IsString(v) || !bp_is_slug(v->valuestring, strlen(v->valuestring))) {
        bp_error_set(err, "bad_value", "hospital",
                     "hospital must be an id of 1 to 48 characters [a-z0-9-]");
        goto out;
    }
    if (reg && bp_registry_hospital(reg, v->valuestring, strlen(v->valuestring)) < 0) {
        bp_error_set(err, "unknown_hospital", "hospital", "unknown hospital \"%s\"",
                     v->valuestring);
        goto out;
    }
    snprintf(out->id, sizeof out->id, "%s", v->valuestring);
    if ((present & (1u << F_BEDS)) &&
        parse_beds(cJSON_GetObjectItemCaseSensitive(root, "beds"), out, err))
        goto out;
    if (present & (1u << F_ED)) {
        if (parse_ed(cJSON_GetObjectItemCaseSensitive(root, "ed"), out->at_ms, &out->ed, err))
            goto out;
        out->has_ed = true;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* -- stored state / stream data ------------------------------------------ */

/* An integer field of stored data, or dflt when missing or outside what an
 * int64 holds exactly (a double cast beyond it is undefined behaviour). */
static int64_t num_or(const cJSON *obj, const char *key, int64_t dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= -9007199254740992.0 &&
                                v->valuedouble <= 9007199254740992.0))
        return dflt;
    return (int64_t)v->valuedouble;
}

static void str_to(const cJSON *obj, const char *key, char *out, size_t out_len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v)) snprintf(out, out_len, "%s", v->valuestring);
}

/* The incident fields of stored data (written by bp_codec_write_inc_fields);
 * a value that does not read is left out, like any other stored field. */
static void stored_incident(const cJSON *root, bp_change_t *out) {
    bp_incident_state_t *n = &out->inc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "action");
    int act = cJSON_IsString(v) ? bp_inc_action_parse(v->valuestring, strlen(v->valuestring)) : -1;
    out->inc_action = act < 0 ? BP_INC_UPDATE : (bp_inc_action_t)act;
    int64_t x = num_or(root, "priority", 0);
    if (x >= 1 && x <= 3) {
        n->priority = (int)x;
        out->inc_fields |= BP_IF_PRIORITY;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "category");
    int cat = cJSON_IsString(v) ? bp_category_parse(v->valuestring, strlen(v->valuestring)) : -1;
    if (cat >= 0) {
        n->category = (bp_category_t)cat;
        out->inc_fields |= BP_IF_CATEGORY;
    }
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(root, "lat");
    const cJSON *lon = cJSON_GetObjectItemCaseSensitive(root, "lon");
    if (cJSON_IsNumber(lat) && cJSON_IsNumber(lon)) {
        n->lat = lat->valuedouble;
        n->lon = lon->valuedouble;
        out->inc_fields |= BP_IF_POSITION;
    }
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(root, "address"))) {
        snprintf(n->address, sizeof n->address, "%s", v->valuestring);
        out->inc_fields |= BP_IF_ADDRESS;
    }
    if ((x = num_or(root, "received", -1)) >= 0) {
        n->received_ms = x;
        out->inc_fields |= BP_IF_RECEIVED;
    }
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(root, "unit"))) {
        snprintf(n->unit, sizeof n->unit, "%s", v->valuestring);
        out->inc_fields |= BP_IF_UNIT;
    }
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(root, "destination"))) {
        snprintf(n->destination, sizeof n->destination, "%s", v->valuestring);
        out->inc_fields |= BP_IF_DESTINATION;
    }
}

int bp_codec_parse_stored(bp_kind_t kind, const char *json, size_t len, bp_change_t *out,
                          bp_error_t *err) {
    int rc = -1;
    bp_change_init(out, kind);
    cJSON *root = parse_all(json, len, err);
    if (!root) return -1;
    if (want_object(root, "", err)) goto out;
    int64_t version = num_or(root, "version", -1);
    if (version < 0) {
        bp_error_set(err, "missing_field", "version", "stored entity without a version");
        goto out;
    }
    out->version = (uint64_t)version;
    out->at_ms = num_or(root, "at", 0);
    out->updated_ms = num_or(root, "updated", 0);
    str_to(root, "source", out->source, sizeof out->source);
    const cJSON *v;
    if (kind == BP_KIND_HOSPITAL) {
        const cJSON *beds = cJSON_GetObjectItemCaseSensitive(root, "beds");
        for (const cJSON *it = cJSON_IsObject(beds) ? beds->child : NULL; it; it = it->next) {
            int t = bp_bed_type_parse(it->string, strlen(it->string));
            if (t < 0 || !cJSON_IsObject(it)) continue;
            int32_t *dst[3] = {&out->beds[t].staffed, &out->beds[t].occupied, &out->beds[t].surge24};
            for (int f = 0; f < 3; f++) {
                v = cJSON_GetObjectItemCaseSensitive(it, bed_field_keys[f]);
                if (!cJSON_IsNumber(v)) continue;
                double d = v->valuedouble;
                if (!(d >= 0 && d <= BP_BEDS_MAX)) continue;
                *dst[f] = (int32_t)d;
                out->bed_fields[t] |= (uint8_t)(1u << f);
            }
            /* a bed type with no numbers still marks the type as known */
            if (!out->bed_fields[t]) out->bed_fields[t] = 0;
        }
        const cJSON *ed = cJSON_GetObjectItemCaseSensitive(root, "ed");
        if (cJSON_IsObject(ed)) {
            v = cJSON_GetObjectItemCaseSensitive(ed, "status");
            int s = cJSON_IsString(v) ? bp_ed_status_parse(v->valuestring, strlen(v->valuestring)) : -1;
            if (s >= 0) {
                out->has_ed = true;
                out->ed.status = (bp_ed_status_t)s;
                out->ed.until_ms = num_or(ed, "until", 0);
                out->ed.waiting = (int32_t)num_or(ed, "waiting", -1);
                str_to(ed, "reason", out->ed.reason, sizeof out->ed.reason);
            }
        }
    } else if (kind == BP_KIND_INCIDENT) {
        stored_incident(root, out);
    } else {
        bp_ambulance_state_t *a = &out->amb;
        v = cJSON_GetObjectItemCaseSensitive(root, "status");
        int s = cJSON_IsString(v) ? bp_amb_status_parse(v->valuestring, strlen(v->valuestring)) : -1;
        if (s >= 0) {
            a->status = (bp_amb_status_t)s;
            out->amb_fields |= BP_AF_STATUS;
        }
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(root, "lat");
        const cJSON *lon = cJSON_GetObjectItemCaseSensitive(root, "lon");
        if (cJSON_IsNumber(lat) && cJSON_IsNumber(lon)) {
            a->lat = lat->valuedouble;
            a->lon = lon->valuedouble;
            a->has_position = true;
            out->amb_fields |= BP_AF_POSITION;
        }
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(root, "heading"))) {
            a->heading = v->valuedouble;
            out->amb_fields |= BP_AF_HEADING;
        }
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(root, "speed"))) {
            a->speed = v->valuedouble;
            out->amb_fields |= BP_AF_SPEED;
        }
        if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(root, "destination"))) {
            snprintf(a->destination, sizeof a->destination, "%s", v->valuestring);
            out->amb_fields |= BP_AF_DESTINATION;
        }
        if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(root, "incident"))) {
            snprintf(a->incident, sizeof a->incident, "%s", v->valuestring);
            out->amb_fields |= BP_AF_INCIDENT;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* -- stored entity hashes ------------------------------------------------- */

static bool field_is(const char *k, size_t kl, const char *name) {
    return strlen(name) == kl && memcmp(k, name, kl) == 0;
}

/* A whole number of a hash value, or false. */
static bool hash_int(const char *v, size_t vl, int64_t lo, int64_t hi, int64_t *out) {
    char tmp[32];
    if (vl == 0 || vl >= sizeof tmp) return false;
    memcpy(tmp, v, vl);
    tmp[vl] = '\0';
    char *end;
    long long x = strtoll(tmp, &end, 10);
    if (*end || x < lo || x > hi) return false;
    *out = x;
    return true;
}

static bool hash_num(const char *v, size_t vl, double *out) {
    char tmp[48];
    if (vl == 0 || vl >= sizeof tmp) return false;
    memcpy(tmp, v, vl);
    tmp[vl] = '\0';
    char *end;
    double x = strtod(tmp, &end);
    if (*end || !isfinite(x)) return false;
    *out = x;
    return true;
}

static void hash_text(const char *v, size_t vl, char *out, size_t out_len) {
    if (vl >= out_len) vl = out_len - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

/* One field of an incident's hash. The hash holds the whole incident, so it
 * reads as a create (or a close, if that was its last action). */
static void hash_incident(const char *k, size_t kl, const char *v, size_t vl, bp_change_t *out) {
    bp_incident_state_t *n = &out->inc;
    int64_t x;
    if (field_is(k, kl, "act")) {
        out->inc_action = bp_inc_action_parse(v, vl) == BP_INC_CLOSE ? BP_INC_CLOSE : BP_INC_CREATE;
    } else if (field_is(k, kl, "op")) {
        if (hash_int(v, vl, 0, INT64_MAX, &x)) n->opened_ms = x;
    } else if (field_is(k, kl, "priority")) {
        if (hash_int(v, vl, 1, 3, &x)) {
            n->priority = (int)x;
            out->inc_fields |= BP_IF_PRIORITY;
        }
    } else if (field_is(k, kl, "category")) {
        int cat = bp_category_parse(v, vl);
        if (cat >= 0) {
            n->category = (bp_category_t)cat;
            out->inc_fields |= BP_IF_CATEGORY;
        }
    } else if (field_is(k, kl, "lat")) {
        if (hash_num(v, vl, &n->lat)) out->inc_fields |= BP_IF_POSITION;
    } else if (field_is(k, kl, "lon")) {
        if (hash_num(v, vl, &n->lon)) out->inc_fields |= BP_IF_POSITION;
    } else if (field_is(k, kl, "address")) {
        hash_text(v, vl, n->address, sizeof n->address);
        out->inc_fields |= BP_IF_ADDRESS;
    } else if (field_is(k, kl, "received")) {
        if (hash_int(v, vl, 0, INT64_MAX, &x)) {
            n->received_ms = x;
            out->inc_fields |= BP_IF_RECEIVED;
        }
    } else if (field_is(k, kl, "unit")) {
        hash_text(v, vl, n->unit, sizeof n->unit);
        out->inc_fields |= BP_IF_UNIT;
    } else if (field_is(k, kl, "dest")) {
        hash_text(v, vl, n->destination, sizeof n->destination);
        out->inc_fields |= BP_IF_DESTINATION;
    }
}

int bp_codec_parse_hash(bp_kind_t kind, size_t n, const char *const *keys, const size_t *klens,
                        const char *const *vals, const size_t *vlens, bp_change_t *out,
                        bp_error_t *err) {
    bp_change_init(out, kind);
    if (kind == BP_KIND_INCIDENT) out->inc_action = BP_INC_CREATE;
    bool has_version = false;
    for (size_t i = 0; i < n; i++) {
        const char *k = keys[i], *v = vals[i];
        size_t kl = klens[i], vl = vlens[i];
        int64_t x;
        if (field_is(k, kl, "v")) {
            if (!hash_int(v, vl, 0, INT64_MAX, &x))
                return bp_error_set(err, "bad_value", "v", "stored version is not a number");
            out->version = (uint64_t)x;
            has_version = true;
        } else if (field_is(k, kl, "at")) {
            if (hash_int(v, vl, 0, INT64_MAX, &x)) out->at_ms = x;
        } else if (field_is(k, kl, "up")) {
            if (hash_int(v, vl, 0, INT64_MAX, &x)) out->updated_ms = x;
        } else if (field_is(k, kl, "src")) {
            hash_text(v, vl, out->source, sizeof out->source);
        } else if (kind == BP_KIND_HOSPITAL) {
            if (field_is(k, kl, "ed")) {
                cJSON *ed = parse_all(v, vl, err);
                const cJSON *st = ed ? cJSON_GetObjectItemCaseSensitive(ed, "status") : NULL;
                int s = cJSON_IsString(st) ? bp_ed_status_parse(st->valuestring,
                                                                strlen(st->valuestring))
                                           : -1;
                if (s >= 0) {
                    out->has_ed = true;
                    out->ed.status = (bp_ed_status_t)s;
                    out->ed.until_ms = num_or(ed, "until", 0);
                    out->ed.waiting = (int32_t)num_or(ed, "waiting", -1);
                    str_to(ed, "reason", out->ed.reason, sizeof out->ed.reason);
                }
                cJSON_Delete(ed);
                continue;
            }
            /* "<bed type>.s|o|g" */
            if (kl < 3 || k[kl - 2] != '.') continue;
            int t = bp_bed_type_parse(k, kl - 2);
            int f = k[kl - 1] == 's' ? 0 : k[kl - 1] == 'o' ? 1 : k[kl - 1] == 'g' ? 2 : -1;
            if (t < 0 || f < 0 || !hash_int(v, vl, 0, BP_BEDS_MAX, &x)) continue;
            int32_t *dst[3] = {&out->beds[t].staffed, &out->beds[t].occupied,
                               &out->beds[t].surge24};
            *dst[f] = (int32_t)x;
            out->bed_fields[t] |= (uint8_t)(1u << f);
        } else if (kind == BP_KIND_INCIDENT) {
            hash_incident(k, kl, v, vl, out);
        } else {
            bp_ambulance_state_t *a = &out->amb;
            if (field_is(k, kl, "status")) {
                int s = bp_amb_status_parse(v, vl);
                if (s >= 0) {
                    a->status = (bp_amb_status_t)s;
                    out->amb_fields |= BP_AF_STATUS;
                }
            } else if (field_is(k, kl, "lat")) {
                if (hash_num(v, vl, &a->lat)) out->amb_fields |= BP_AF_POSITION;
            } else if (field_is(k, kl, "lon")) {
                if (hash_num(v, vl, &a->lon)) out->amb_fields |= BP_AF_POSITION;
            } else if (field_is(k, kl, "heading")) {
                if (hash_num(v, vl, &a->heading)) out->amb_fields |= BP_AF_HEADING;
            } else if (field_is(k, kl, "speed")) {
                if (hash_num(v, vl, &a->speed)) out->amb_fields |= BP_AF_SPEED;
            } else if (field_is(k, kl, "dest")) {
                hash_text(v, vl, a->destination, sizeof a->destination);
                out->amb_fields |= BP_AF_DESTINATION;
            } else if (field_is(k, kl, "inc")) {
                hash_text(v, vl, a->incident, sizeof a->incident);
                out->amb_fields |= BP_AF_INCIDENT;
            }
        }
    }
    if (out->amb_fields & BP_AF_POSITION) out->amb.has_position = true;
    if (!has_version) return bp_error_set(err, "missing_field", "v", "stored entity without a version");
    return 0;
}

/* -- manager updates (PATCH) ---------------------------------------------- */

static void add_err(bp_errors_t *errs, const bp_error_t *e) {
    if (errs->n < BP_ERRORS_MAX) errs->e[errs->n++] = *e;
}

int bp_codec_parse_patch(const char *json, size_t len, int64_t now_ms, bp_change_t *out,
                         bp_errors_t *errs) {
    static const char *const keys[] = {"beds", "ed", "confirm"};
    bp_error_t err;
    errs->n = 0;
    bp_change_init(out, BP_KIND_HOSPITAL);
    out->at_ms = now_ms;
    if (has_escaped_nul(json, len)) {
        bp_error_set(&err, "bad_string", "", "strings must not contain \\u0000");
        add_err(errs, &err);
        return -1;
    }
    cJSON *root = parse_all(json, len, &err);
    if (!root) {
        add_err(errs, &err);
        return -1;
    }
    unsigned present = 0;
    if (want_object(root, "", &err)) {
        add_err(errs, &err);
        cJSON_Delete(root);
        return -1;
    }
    /* unknown and repeated fields are named, one error each, and the rest
     * is still checked: a person fixes the whole form at once */
    for (const cJSON *it = root->child; it; it = it->next) {
        unsigned i = 0;
        while (i < 3 && strcmp(keys[i], it->string) != 0) i++;
        char shown[40];
        snprintf(shown, sizeof shown, "%s", it->string);
        if (i == 3) {
            bp_error_set(&err, "unknown_field", shown,
                         "unknown field \"%s\" (a change has beds, ed and confirm)", shown);
            add_err(errs, &err);
        } else if (present & (1u << i)) {
            bp_error_set(&err, "duplicate_field", shown, "field %s appears more than once", shown);
            add_err(errs, &err);
        }
        present |= i < 3 ? 1u << i : 0;
    }
    if (!present && !errs->n) {
        bp_error_set(&err, "missing_field", "", "give beds, ed, or \"confirm\":true");
        add_err(errs, &err);
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "confirm");
    if (v && !cJSON_IsTrue(v)) {
        bp_error_set(&err, "bad_value", "confirm", "confirm can only be true");
        add_err(errs, &err);
    }
    /* every bed type on its own, every field on its own: all errors named */
    const cJSON *beds = cJSON_GetObjectItemCaseSensitive(root, "beds");
    if (beds && want_object(beds, "beds", &err)) {
        add_err(errs, &err);
    } else if (beds) {
        for (const cJSON *it = beds->child; it; it = it->next) {
            char path[MAX_PATH];
            join(path, "beds", it->string);
            int t = bp_bed_type_parse(it->string, strlen(it->string));
            if (t < 0) {
                bp_error_set(&err, "unknown_bed_type", path, "unknown bed type \"%.40s\"",
                             it->string);
                add_err(errs, &err);
                continue;
            }
            if (out->bed_fields[t]) {
                bp_error_set(&err, "duplicate_field", path, "%s appears more than once", path);
                add_err(errs, &err);
                continue;
            }
            unsigned fp = 0;
            if (want_object(it, path, &err) || check_keys(it, path, bed_field_keys, 3, &fp, &err)) {
                add_err(errs, &err);
                continue;
            }
            if (!fp) {
                bp_error_set(&err, "missing_field", path,
                             "%s must give at least one of staffed, occupied, surge24", path);
                add_err(errs, &err);
            }
            int32_t *dst[3] = {&out->beds[t].staffed, &out->beds[t].occupied, &out->beds[t].surge24};
            uint8_t ok = 0;
            for (int f = 0; f < 3; f++) {
                if (!(fp & (1u << f))) continue;
                char fpath[MAX_PATH];
                join(fpath, path, bed_field_keys[f]);
                int64_t x;
                if (get_int(cJSON_GetObjectItemCaseSensitive(it, bed_field_keys[f]), fpath, 0,
                            BP_BEDS_MAX, &x, &err)) {
                    add_err(errs, &err);
                    continue;
                }
                *dst[f] = (int32_t)x;
                ok |= (uint8_t)(1u << f);
            }
            out->bed_fields[t] = ok;
        }
    }
    const cJSON *ed = cJSON_GetObjectItemCaseSensitive(root, "ed");
    if (ed) {
        size_t before = errs->n;
        if (want_object(ed, "ed", &err)) {
            add_err(errs, &err);
        } else {
            unsigned ep;
            if (check_keys(ed, "ed", ed_keys, 4, &ep, &err)) add_err(errs, &err);
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(ed, "status");
            int sv = cJSON_IsString(st) ? bp_ed_status_parse(st->valuestring, strlen(st->valuestring)) : -1;
            if (sv < 0) {
                bp_error_set(&err, st ? "bad_value" : "missing_field", "ed.status",
                             "ed.status must be one of normal, advisory, diversion, closed");
                add_err(errs, &err);
            }
            memset(&out->ed, 0, sizeof out->ed);
            out->ed.status = sv < 0 ? BP_ED_NORMAL : (bp_ed_status_t)sv;
            out->ed.waiting = -1;
            const cJSON *x;
            if ((x = cJSON_GetObjectItemCaseSensitive(ed, "reason")) && !cJSON_IsNull(x) &&
                get_text(x, "ed.reason", BP_REASON_MAX, out->ed.reason, sizeof out->ed.reason, &err))
                add_err(errs, &err);
            else if (sv > BP_ED_NORMAL && !out->ed.reason[0]) {
                /* a person turning ambulances away says why (feeds may not know) */
                bp_error_set(&err, "missing_field", "ed.reason",
                             "ed.reason is required when the ED is on advisory, diversion or "
                             "closed: say why, e.g. \"CT down\"");
                add_err(errs, &err);
            }
            if ((x = cJSON_GetObjectItemCaseSensitive(ed, "until")) && !cJSON_IsNull(x)) {
                if (get_time(x, "ed.until", &out->ed.until_ms, &err)) add_err(errs, &err);
                else if (sv == BP_ED_NORMAL) {
                    bp_error_set(&err, "bad_value", "ed.until",
                                 "ed.until applies only to advisory, diversion or closed");
                    add_err(errs, &err);
                } else if (out->ed.until_ms <= now_ms) {
                    bp_error_set(&err, "bad_value", "ed.until", "ed.until must be in the future");
                    add_err(errs, &err);
                }
            }
            if ((x = cJSON_GetObjectItemCaseSensitive(ed, "waiting")) && !cJSON_IsNull(x)) {
                int64_t w;
                if (get_int(x, "ed.waiting", 0, BP_WAITING_MAX, &w, &err)) add_err(errs, &err);
                else out->ed.waiting = (int32_t)w;
            }
        }
        out->has_ed = errs->n == before;
    }
    cJSON_Delete(root);
    return errs->n ? -1 : 0;
}

/* -- WebSocket hello ----------------------------------------------------- */

int bp_codec_parse_hello(const char *json, size_t len, bp_hello_t *out, bp_error_t *err) {
    static const char *const keys[] = {"type", "resume", "token", "compress"};
    static const char *const rkeys[] = {"epoch", "offset"};
    int rc = -1;
    memset(out, 0, sizeof *out);
    cJSON *root = parse_all(json, len, err);
    if (!root) return -1;
    unsigned present;
    if (want_object(root, "", err) || check_keys(root, "", keys, 4, &present, err)) goto out;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(t) || strcmp(t->valuestring, "hello") != 0) {
        bp_error_set(err, "unknown_type", "type", "the first message must be {\"type\":\"hello\"}");
        goto out;
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "resume");
    if (r && !cJSON_IsNull(r)) {
        unsigned rp;
        if (want_object(r, "resume", err) || check_keys(r, "resume", rkeys, 2, &rp, err)) goto out;
        if (rp != 3) {
            bp_error_set(err, "missing_field", "resume", "resume needs epoch and offset");
            goto out;
        }
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "epoch");
        size_t el = cJSON_IsString(e) ? strlen(e->valuestring) : 0;
        bool ok = el > 0 && el <= BP_EPOCH_MAX;
        for (size_t i = 0; ok && i < el; i++) {
            char c = e->valuestring[i];
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        }
        if (!ok) {
            bp_error_set(err, "bad_value", "resume.epoch", "resume.epoch must be 1 to 64 letters or digits");
            goto out;
        }
        memcpy(out->epoch, e->valuestring, el + 1);
        int64_t off;
        if (get_int(cJSON_GetObjectItemCaseSensitive(r, "offset"), "resume.offset", 0,
                    9007199254740991LL, &off, err))
            goto out;
        out->offset = (uint64_t)off;
        out->has_resume = true;
    }
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "token");
    if (tok && !cJSON_IsNull(tok)) {
        if (!cJSON_IsString(tok) || strlen(tok->valuestring) > BP_TOKEN_MAX) {
            bp_error_set(err, "bad_value", "token", "token must be a string of at most %d bytes",
                         BP_TOKEN_MAX);
            goto out;
        }
        snprintf(out->token, sizeof out->token, "%s", tok->valuestring);
        out->has_token = true;
    }
    const cJSON *cz = cJSON_GetObjectItemCaseSensitive(root, "compress");
    if (cz && !cJSON_IsNull(cz)) {
        if (!cJSON_IsString(cz) || strcmp(cz->valuestring, "gzip") != 0) {
            bp_error_set(err, "bad_value", "compress", "compress must be \"gzip\" (or absent)");
            goto out;
        }
        out->gzip = true;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* -- dispatch table (config/dispatch.json) ---------------------------------- */

/* "HH:MM" -> minutes after midnight, or -1. */
static int hhmm(const char *s) {
    if (strlen(s) != 5 || s[2] != ':') return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9')) return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

static int parse_bands(const cJSON *a, bp_dispatch_cfg_t *out, bp_error_t *err) {
    static const char *const keys[] = {"from", "kmh"};
    int n = cJSON_GetArraySize(a);
    if (!cJSON_IsArray(a) || n < 1 || n > BP_SPEED_BANDS_MAX)
        return bp_error_set(err, "bad_value", "speed_bands",
                            "speed_bands must be a list of 1 to %d {\"from\":\"HH:MM\",\"kmh\":n}",
                            BP_SPEED_BANDS_MAX);
    out->n_bands = 0;
    int i = 0;
    for (const cJSON *b = a->child; b; b = b->next, i++) {
        char path[MAX_PATH];
        snprintf(path, sizeof path, "speed_bands[%d]", i);
        unsigned present;
        if (want_object(b, path, err) || check_keys(b, path, keys, 2, &present, err)) return -1;
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(b, "from");
        int from = cJSON_IsString(f) ? hhmm(f->valuestring) : -1;
        int prev = i ? out->bands[i - 1].from_min : -1;
        if (from < 0 || (i == 0 && from != 0) || from <= prev)
            return bp_error_set(err, "bad_value", path,
                                "%s.from must be a time \"HH:MM\", the first \"00:00\", each later "
                                "than the one before", path);
        char kp[MAX_PATH];
        join(kp, path, "kmh");
        if (get_num(cJSON_GetObjectItemCaseSensitive(b, "kmh"), kp, 1, 150, &out->bands[i].kmh, err))
            return -1;
        out->bands[i].from_min = from;
        out->n_bands = i + 1;
    }
    return 0;
}

static int parse_need(const cJSON *c, const char *path, bp_need_t *need, bp_error_t *err) {
    static const char *const keys[] = {"beds", "specialties"};
    unsigned present;
    if (want_object(c, path, err) || check_keys(c, path, keys, 2, &present, err)) return -1;
    char p[MAX_PATH];
    join(p, path, "beds");
    const cJSON *beds = cJSON_GetObjectItemCaseSensitive(c, "beds");
    int nb = cJSON_GetArraySize(beds);
    if (!cJSON_IsArray(beds) || nb < 1 || nb > BP_NEED_BEDS_MAX)
        return bp_error_set(err, "bad_value", p, "%s must list 1 to %d bed types", p, BP_NEED_BEDS_MAX);
    need->n_beds = 0;
    for (const cJSON *b = beds->child; b; b = b->next) {
        int t = cJSON_IsString(b) ? bp_bed_type_parse(b->valuestring, strlen(b->valuestring)) : -1;
        if (t < 0) return bp_error_set(err, "bad_value", p, "%s: unknown bed type", p);
        need->beds[need->n_beds++] = t;
    }
    join(p, path, "specialties");
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(c, "specialties");
    if (!cJSON_IsArray(sp)) return bp_error_set(err, "wrong_type", p, "%s must be a list", p);
    need->specialties = 0;
    for (const cJSON *s = sp->child; s; s = s->next) {
        int x = cJSON_IsString(s) ? bp_specialty_parse(s->valuestring, strlen(s->valuestring)) : -1;
        if (x < 0) return bp_error_set(err, "bad_value", p, "%s: unknown specialty", p);
        need->specialties |= 1u << x;
    }
    return 0;
}

static int parse_alert_cfg(const cJSON *a, bp_alert_cfg_t *out, bp_error_t *err) {
    static const char *const keys[] = {"level4", "diversion", "stale_feed", "icu_adult_free_below",
                                       "handover_over_min", "incident_unassigned_min"};
    unsigned present;
    if (want_object(a, "alerts", err) || check_keys(a, "alerts", keys, 6, &present, err)) return -1;
    bool *flags[] = {&out->level4, &out->diversion, &out->stale_feed};
    for (int k = 0; k < 3; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[k]);
        if (!x) continue;
        char p[MAX_PATH];
        join(p, "alerts", keys[k]);
        if (!cJSON_IsBool(x)) return bp_error_set(err, "wrong_type", p, "%s must be true or false", p);
        *flags[k] = cJSON_IsTrue(x);
    }
    int *nums[] = {&out->icu_adult_free_below, &out->handover_over_min, &out->incident_unassigned_min};
    for (int k = 0; k < 3; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[3 + k]);
        if (!x) continue;
        char p[MAX_PATH];
        join(p, "alerts", keys[3 + k]);
        int64_t v;
        if (get_int(x, p, 0, 100000, &v, err)) return -1;
        *nums[k] = (int)v;
    }
    return 0;
}

int bp_codec_parse_dispatch(const char *json, size_t len, bp_dispatch_cfg_t *out, bp_error_t *err) {
    static const char *const keys[] = {"note",          "detour_factor",  "utc_offset_min",
                                       "speed_bands",   "diversion_extra_min", "penalties_min",
                                       "sister_bonus_min", "categories", "alerts"};
    static const char *const pkeys[] = {"no_capacity", "no_specialty", "central_by_priority",
                                        "late", "stale"};
    int rc = -1;
    cJSON *root = parse_all(json, len, err);
    if (!root) return -1;
    unsigned present;
    if (want_object(root, "", err) || check_keys(root, "", keys, 9, &present, err)) goto out;
    const cJSON *v;
    int64_t i64;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "alerts")) && parse_alert_cfg(v, &out->alerts, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "detour_factor")) &&
        get_num(v, "detour_factor", 1, 5, &out->detour_factor, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "utc_offset_min"))) {
        if (get_int(v, "utc_offset_min", -720, 840, &i64, err)) goto out;
        out->utc_offset_min = (int)i64;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "speed_bands")) && parse_bands(v, out, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "diversion_extra_min")) &&
        get_num(v, "diversion_extra_min", 0, 240, &out->diversion_extra_min, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "sister_bonus_min")) &&
        get_num(v, "sister_bonus_min", 0, 120, &out->sister_bonus_min, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "penalties_min"))) {
        if (want_object(v, "penalties_min", err) ||
            check_keys(v, "penalties_min", pkeys, 5, &present, err))
            goto out;
        double *dst[] = {&out->no_capacity_penalty_min, &out->no_specialty_penalty_min, NULL,
                         &out->late_penalty_min, &out->stale_penalty_min};
        for (int k = 0; k < 5; k++) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, pkeys[k]);
            char p[MAX_PATH];
            join(p, "penalties_min", pkeys[k]);
            if (!x) continue;
            if (dst[k]) {
                if (get_num(x, p, 0, 240, dst[k], err)) goto out;
                continue;
            }
            if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 3) {
                bp_error_set(err, "bad_value", p, "%s must list 3 numbers (priority 1, 2, 3)", p);
                goto out;
            }
            int j = 0;
            for (const cJSON *e = x->child; e; e = e->next, j++)
                if (get_num(e, p, 0, 240, &out->central_penalty_min[j], err)) goto out;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "categories"))) {
        if (want_object(v, "categories", err)) goto out;
        for (const cJSON *c = v->child; c; c = c->next) {
            char p[MAX_PATH];
            join(p, "categories", c->string);
            int cat = bp_category_parse(c->string, strlen(c->string));
            if (cat < 0) {
                bp_error_set(err, "unknown_field", p,
                             "%s: unknown category (trauma, stroke, cardiac, obstetric, pediatric, "
                             "burn, respiratory, psychiatric, other)", p);
                goto out;
            }
            if (parse_need(c, p, &out->needs[cat], err)) goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* -- mass-casualty request bodies (bp_mci.h) -------------------------------- */

static void triage_counts(const cJSON *obj, const char *path, bool all, int counts[BP_TRIAGE__COUNT],
                          bp_errors_t *errs) {
    static const char *const keys[] = {"immediate", "delayed", "minor"};
    bp_error_t err;
    if (want_object(obj, path, &err)) {
        add_err(errs, &err);
        return;
    }
    unsigned present;
    if (check_keys(obj, path, keys, 3, &present, &err)) add_err(errs, &err);
    for (int t = 0; t < BP_TRIAGE__COUNT; t++) {
        char p[MAX_PATH];
        join(p, path, keys[t]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, keys[t]);
        int64_t n = 0;
        if (!v) {
            if (all) {
                bp_error_set(&err, "missing_field", p, "%s is required (0 if none)", p);
                add_err(errs, &err);
            }
        } else if (get_int(v, p, 0, BP_MCI_COUNT_MAX, &n, &err)) {
            add_err(errs, &err);
        }
        counts[t] = (int)n;
    }
}

static cJSON *mci_root(const char *json, size_t len, bp_errors_t *errs) {
    bp_error_t err;
    errs->n = 0;
    cJSON *root = parse_all(json, len, &err);
    if (!root) add_err(errs, &err);
    else if (want_object(root, "", &err)) {
        add_err(errs, &err);
        cJSON_Delete(root);
        root = NULL;
    }
    return root;
}

int bp_mci_parse_declare(const char *json, size_t len, bp_mci_declare_t *out, bp_errors_t *errs) {
    static const char *const keys[] = {"lat", "lon", "radius_km", "address", "expected"};
    memset(out, 0, sizeof *out);
    out->radius_km = 10;
    cJSON *root = mci_root(json, len, errs);
    if (!root) return -1;
    bp_error_t err;
    unsigned present;
    if (check_keys(root, "", keys, 5, &present, &err)) add_err(errs, &err);
    if (get_num(cJSON_GetObjectItemCaseSensitive(root, "lat"), "lat", -90, 90, &out->lat, &err))
        add_err(errs, &err);
    if (get_num(cJSON_GetObjectItemCaseSensitive(root, "lon"), "lon", -180, 180, &out->lon, &err))
        add_err(errs, &err);
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "radius_km")) &&
        get_num(v, "radius_km", 1, 50, &out->radius_km, &err))
        add_err(errs, &err);
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "address")) &&
        get_text(v, "address", 200, out->address, sizeof out->address, &err))
        add_err(errs, &err);
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "expected"))) triage_counts(v, "expected", false, out->expected, errs);
    cJSON_Delete(root);
    return errs->n ? -1 : 0;
}

int bp_mci_parse_answer(const char *json, size_t len, int counts[BP_TRIAGE__COUNT], bp_errors_t *errs) {
    cJSON *root = mci_root(json, len, errs);
    if (!root) return -1;
    triage_counts(root, "", true, counts, errs);
    cJSON_Delete(root);
    return errs->n ? -1 : 0;
}

int bp_mci_parse_patient(const char *json, size_t len, bp_mci_patient_t *out, bp_errors_t *errs) {
    static const char *const keys[] = {"triage", "destination", "unit"};
    memset(out, 0, sizeof *out);
    cJSON *root = mci_root(json, len, errs);
    if (!root) return -1;
    bp_error_t err;
    unsigned present;
    if (check_keys(root, "", keys, 3, &present, &err)) add_err(errs, &err);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "triage");
    int tv = cJSON_IsString(t) ? bp_triage_parse(t->valuestring, strlen(t->valuestring)) : -1;
    if (tv < 0) {
        bp_error_set(&err, t ? "bad_value" : "missing_field", "triage",
                     "triage must be one of immediate, delayed, minor");
        add_err(errs, &err);
    } else {
        out->triage = (bp_triage_t)tv;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "destination");
    if (!cJSON_IsString(d) || !bp_is_slug(d->valuestring, strlen(d->valuestring))) {
        bp_error_set(&err, d ? "bad_value" : "missing_field", "destination",
                     "destination must be a hospital id");
        add_err(errs, &err);
    } else {
        snprintf(out->destination, sizeof out->destination, "%s", d->valuestring);
    }
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "unit");
    if (u && !cJSON_IsNull(u)) {
        if (!cJSON_IsString(u) || !bp_is_callsign(u->valuestring, strlen(u->valuestring))) {
            bp_error_set(&err, "bad_value", "unit", "unit must be an ambulance call sign");
            add_err(errs, &err);
        } else {
            snprintf(out->unit, sizeof out->unit, "%s", u->valuestring);
        }
    }
    cJSON_Delete(root);
    return errs->n ? -1 : 0;
}

/* -- sign-in body --------------------------------------------------------- */

int bp_codec_parse_sign_in(const char *json, size_t len, char token[BP_TOKEN_MAX + 1],
                           bp_error_t *err) {
    static const char *const keys[] = {"token"};
    int rc = -1;
    token[0] = '\0';
    cJSON *root = parse_all(json, len, err);
    if (!root) return -1;
    unsigned present;
    if (want_object(root, "", err) || check_keys(root, "", keys, 1, &present, err)) goto out;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "token");
    if (!t) {
        bp_error_set(err, "missing_field", "token", "token is required");
        goto out;
    }
    if (!cJSON_IsString(t) || !t->valuestring[0] || strlen(t->valuestring) > BP_TOKEN_MAX) {
        bp_error_set(err, "bad_value", "token", "token must be a non-empty string of at most %d bytes",
                     BP_TOKEN_MAX);
        goto out;
    }
    snprintf(token, BP_TOKEN_MAX + 1, "%s", t->valuestring);
    rc = 0;
out:
    if (root) {
        /* the secret does not linger in freed memory */
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "token"))) {
            char *v = cJSON_GetObjectItemCaseSensitive(root, "token")->valuestring;
            explicit_bzero(v, strlen(v));
        }
        cJSON_Delete(root);
    }
    return rc;
}

/* -- registry files ------------------------------------------------------ */

static int read_name(const cJSON *v, const char *path, bp_name_t *out, bp_error_t *err) {
    static const char *const keys[] = {"vi", "en"};
    unsigned present;
    if (want_object(v, path, err) || check_keys(v, path, keys, 2, &present, err)) return -1;
    if (present != 3) {
        char p[MAX_PATH];
        join(p, path, present & 1 ? "en" : "vi");
        return bp_error_set(err, "missing_field", p, "%s is required", p);
    }
    char p[MAX_PATH];
    join(p, path, "vi");
    if (get_text(cJSON_GetObjectItemCaseSensitive(v, "vi"), p, BP_NAME_MAX, out->vi, sizeof out->vi,
                 err))
        return -1;
    join(p, path, "en");
    return get_text(cJSON_GetObjectItemCaseSensitive(v, "en"), p, BP_NAME_MAX, out->en,
                    sizeof out->en, err);
}

static int read_slug(const cJSON *v, const char *path, char *out, bp_error_t *err) {
    if (!cJSON_IsString(v) || !bp_is_slug(v->valuestring, strlen(v->valuestring)))
        return bp_error_set(err, "bad_value", path, "%s must be an id of 1 to 48 characters [a-z0-9-]",
                            path);
    snprintf(out, BP_ID_MAX + 1, "%s", v->valuestring);
    return 0;
}

static const cJSON *need(const cJSON *obj, const char *path, const char *key, bp_error_t *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        char p[MAX_PATH];
        join(p, path, key);
        bp_error_set(err, "missing_field", p, "%s is required", p);
    }
    return v;
}

/* The required keys, then the optional ones. */
static const char *const hosp_keys[] = {"id",         "name",  "tier",  "district",
                                        "lat",        "lon",   "specialties", "sister",
                                        "phone",      "report_interval_s", "beds", "have_id"};
#define N_HOSP_KEYS     (sizeof hosp_keys / sizeof *hosp_keys)
#define N_HOSP_REQUIRED 11

static int read_hospital(const cJSON *h, const char *path, bp_registry_t *reg,
                         bp_hospital_info_t *out, char *sister, bp_error_t *err) {
    unsigned present;
    char p[MAX_PATH];
    if (want_object(h, path, err) || check_keys(h, path, hosp_keys, N_HOSP_KEYS, &present, err))
        return -1;
    for (size_t i = 0; i < N_HOSP_REQUIRED; i++)
        if (!need(h, path, hosp_keys[i], err)) return -1;
    memset(out, 0, sizeof *out);
    join(p, path, "id");
    if (read_slug(cJSON_GetObjectItemCaseSensitive(h, "id"), p, out->id, err)) return -1;
    join(p, path, "name");
    if (read_name(cJSON_GetObjectItemCaseSensitive(h, "name"), p, &out->name, err)) return -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, "tier");
    int tier = cJSON_IsString(v) ? bp_tier_parse(v->valuestring, strlen(v->valuestring)) : -1;
    join(p, path, "tier");
    if (tier < 0)
        return bp_error_set(err, "bad_value", p, "%s must be central, city, district or private", p);
    out->tier = (bp_tier_t)tier;
    v = cJSON_GetObjectItemCaseSensitive(h, "district");
    join(p, path, "district");
    out->district = cJSON_IsString(v) ? bp_registry_district(reg, v->valuestring,
                                                             strlen(v->valuestring))
                                      : -1;
    if (out->district < 0)
        return bp_error_set(err, "unknown_district", p, "%s must be a key of \"districts\"", p);
    join(p, path, "lat");
    if (get_num(cJSON_GetObjectItemCaseSensitive(h, "lat"), p, -90, 90, &out->lat, err)) return -1;
    join(p, path, "lon");
    if (get_num(cJSON_GetObjectItemCaseSensitive(h, "lon"), p, -180, 180, &out->lon, err)) return -1;
    v = cJSON_GetObjectItemCaseSensitive(h, "specialties");
    join(p, path, "specialties");
    if (!cJSON_IsArray(v))
        return bp_error_set(err, "wrong_type", p, "%s must be an array of specialty names", p);
    for (const cJSON *s = v->child; s; s = s->next) {
        int sp = cJSON_IsString(s) ? bp_specialty_parse(s->valuestring, strlen(s->valuestring)) : -1;
        if (sp < 0)
            return bp_error_set(err, "bad_value", p, "%s: unknown specialty \"%.40s\"", p,
                                cJSON_IsString(s) ? s->valuestring : "?");
        if (out->specialties & (1u << sp))
            return bp_error_set(err, "duplicate_field", p, "%s lists \"%s\" twice", p,
                                s->valuestring);
        out->specialties |= 1u << sp;
    }
    v = cJSON_GetObjectItemCaseSensitive(h, "sister");
    join(p, path, "sister");
    sister[0] = '\0';
    if (!cJSON_IsNull(v) && read_slug(v, p, sister, err)) return -1;
    join(p, path, "phone");
    if (get_text(cJSON_GetObjectItemCaseSensitive(h, "phone"), p, BP_PHONE_MAX, out->phone,
                 sizeof out->phone, err))
        return -1;
    int64_t iv;
    join(p, path, "report_interval_s");
    if (get_int(cJSON_GetObjectItemCaseSensitive(h, "report_interval_s"), p, BP_INTERVAL_MIN_S,
                BP_INTERVAL_MAX_S, &iv, err))
        return -1;
    out->report_interval_s = (int32_t)iv;
    /* the id partner systems use in EDXL-HAVE (xnl:ID), when not ours */
    v = cJSON_GetObjectItemCaseSensitive(h, "have_id");
    join(p, path, "have_id");
    if (v && (!cJSON_IsString(v) || !bp_registry_is_have_id(v->valuestring, strlen(v->valuestring))))
        return bp_error_set(err, "bad_value", p,
                            "%s must be 1 to %d characters of [A-Za-z0-9._:/-] (the hospital's "
                            "EDXL-HAVE xnl:ID)",
                            p, BP_HAVE_ID_MAX);
    if (v) snprintf(out->have_id, sizeof out->have_id, "%s", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(h, "beds");
    join(p, path, "beds");
    if (want_object(v, p, err)) return -1;
    static const char *const bkeys[] = {"staffed", "surge24"};
    for (const cJSON *b = v->child; b; b = b->next) {
        char bp[MAX_PATH];
        join(bp, p, b->string);
        int t = bp_bed_type_parse(b->string, strlen(b->string));
        if (t < 0) return bp_error_set(err, "unknown_bed_type", bp, "unknown bed type in %s", bp);
        if (out->beds_mask & (1u << t))
            return bp_error_set(err, "duplicate_field", bp, "%s appears more than once", bp);
        unsigned bpres;
        if (want_object(b, bp, err) || check_keys(b, bp, bkeys, 2, &bpres, err)) return -1;
        if (bpres != 3) return bp_error_set(err, "missing_field", bp, "%s needs staffed and surge24", bp);
        char fp[MAX_PATH];
        join(fp, bp, "staffed");
        if (get_int(cJSON_GetObjectItemCaseSensitive(b, "staffed"), fp, 0, BP_BEDS_MAX, &iv, err))
            return -1;
        out->staffed[t] = (int32_t)iv;
        join(fp, bp, "surge24");
        if (get_int(cJSON_GetObjectItemCaseSensitive(b, "surge24"), fp, 0, BP_BEDS_MAX, &iv, err))
            return -1;
        out->surge24[t] = (int32_t)iv;
        out->beds_mask |= 1u << t;
    }
    out->sister = -1;
    return 0;
}

static int check_top(const cJSON *root, const char *const *keys, size_t n, bp_error_t *err) {
    unsigned present;
    if (want_object(root, "", err) || check_keys(root, "", keys, n, &present, err)) return -1;
    return 0;
}

int bp_codec_parse_hospitals(const char *json, size_t len, bp_registry_t *reg, bp_error_t *err) {
    static const char *const top[] = {"note", "districts", "hospitals"};
    int rc = -1;
    char (*sisters)[BP_ID_MAX + 1] = NULL;
    cJSON *root = parse_all(json, len, err);
    if (!root || check_top(root, top, 3, err)) goto out;
    const cJSON *d = need(root, "", "districts", err);
    const cJSON *hs = d ? need(root, "", "hospitals", err) : NULL;
    if (!hs) goto out;
    if (want_object(d, "districts", err)) goto out;
    if (!cJSON_IsArray(hs)) {
        bp_error_set(err, "wrong_type", "hospitals", "hospitals must be an array");
        goto out;
    }
    size_t nd = (size_t)cJSON_GetArraySize(d), nh = (size_t)cJSON_GetArraySize(hs);
    if (nd > BP_REGISTRY_MAX || nh > BP_REGISTRY_MAX || nh == 0) {
        bp_error_set(err, "out_of_range", "hospitals", "need 1 to %d hospitals and districts",
                     BP_REGISTRY_MAX);
        goto out;
    }
    free(reg->districts);
    free(reg->hospitals);
    reg->districts = calloc(nd ? nd : 1, sizeof *reg->districts);
    reg->hospitals = calloc(nh, sizeof *reg->hospitals);
    sisters = calloc(nh, sizeof *sisters);
    reg->n_districts = reg->n_hospitals = 0;
    if (!reg->districts || !reg->hospitals || !sisters) {
        bp_error_set(err, "no_memory", "", "out of memory reading the registry");
        goto out;
    }
    for (const cJSON *it = d->child; it; it = it->next) {
        bp_district_t *dd = &reg->districts[reg->n_districts];
        char p[MAX_PATH];
        join(p, "districts", it->string);
        if (!bp_is_slug(it->string, strlen(it->string))) {
            bp_error_set(err, "bad_value", p, "district key %s must be a slug [a-z0-9-]", p);
            goto out;
        }
        snprintf(dd->id, sizeof dd->id, "%s", it->string);
        if (read_name(it, p, &dd->name, err)) goto out;
        reg->n_districts++;
    }
    char dup[BP_ID_MAX + 1];
    if (bp_registry_index(reg, dup, sizeof dup)) {
        bp_error_set(err, "duplicate_id", "districts", "duplicate district \"%s\"", dup);
        goto out;
    }
    size_t i = 0;
    for (const cJSON *it = hs->child; it; it = it->next, i++) {
        char p[MAX_PATH];
        snprintf(p, sizeof p, "hospitals[%zu]", i);
        if (read_hospital(it, p, reg, &reg->hospitals[i], sisters[i], err)) goto out;
        reg->n_hospitals = i + 1;
    }
    if (bp_registry_index(reg, dup, sizeof dup)) {
        bp_error_set(err, "duplicate_id", "hospitals", "duplicate hospital id \"%s\"", dup);
        goto out;
    }
    for (i = 0; i < reg->n_hospitals; i++) {
        if (!sisters[i][0]) continue;
        int s = bp_registry_hospital(reg, sisters[i], strlen(sisters[i]));
        if (s < 0 || (size_t)s == i) {
            char p[MAX_PATH];
            snprintf(p, sizeof p, "hospitals[%zu].sister", i);
            bp_error_set(err, "unknown_hospital", p, "%s: \"%s\" is not another hospital's id", p,
                         sisters[i]);
            goto out;
        }
        reg->hospitals[i].sister = s;
    }
    /* a have_id names one hospital: not another's have_id, nor another's id */
    for (i = 0; i < reg->n_hospitals; i++) {
        const char *hid = reg->hospitals[i].have_id;
        if (!hid[0]) continue;
        int other = bp_registry_hospital(reg, hid, strlen(hid));
        size_t j = 0;
        while (j < i && strcmp(reg->hospitals[j].have_id, hid) != 0) j++;
        if ((other >= 0 && (size_t)other != i) || j < i) {
            char p[MAX_PATH];
            snprintf(p, sizeof p, "hospitals[%zu].have_id", i);
            bp_error_set(err, "duplicate_id", p, "%s: \"%s\" already names another hospital", p,
                         hid);
            goto out;
        }
    }
    rc = 0;
out:
    free(sisters);
    cJSON_Delete(root);
    return rc;
}

int bp_codec_parse_fleet(const char *json, size_t len, bp_registry_t *reg, bp_error_t *err) {
    static const char *const top[] = {"note", "stations", "ambulances"};
    static const char *const skeys[] = {"id", "name", "district", "lat", "lon"};
    static const char *const ukeys[] = {"id", "station"};
    int rc = -1;
    cJSON *root = parse_all(json, len, err);
    if (!root || check_top(root, top, 3, err)) goto out;
    const cJSON *ss = need(root, "", "stations", err);
    const cJSON *us = ss ? need(root, "", "ambulances", err) : NULL;
    if (!us) goto out;
    if (!cJSON_IsArray(ss) || !cJSON_IsArray(us)) {
        bp_error_set(err, "wrong_type", cJSON_IsArray(ss) ? "ambulances" : "stations",
                     "stations and ambulances must be arrays");
        goto out;
    }
    size_t ns = (size_t)cJSON_GetArraySize(ss), nu = (size_t)cJSON_GetArraySize(us);
    if (ns > BP_REGISTRY_MAX || nu > BP_REGISTRY_MAX) {
        bp_error_set(err, "out_of_range", "ambulances", "at most %d stations and ambulances",
                     BP_REGISTRY_MAX);
        goto out;
    }
    free(reg->stations);
    free(reg->units);
    reg->stations = calloc(ns ? ns : 1, sizeof *reg->stations);
    reg->units = calloc(nu ? nu : 1, sizeof *reg->units);
    reg->n_stations = reg->n_units = 0;
    if (!reg->stations || !reg->units) {
        bp_error_set(err, "no_memory", "", "out of memory reading the fleet");
        goto out;
    }
    size_t i = 0;
    for (const cJSON *it = ss->child; it; it = it->next, i++) {
        char p[MAX_PATH], f[MAX_PATH];
        unsigned present;
        snprintf(p, sizeof p, "stations[%zu]", i);
        if (want_object(it, p, err) || check_keys(it, p, skeys, 5, &present, err)) goto out;
        for (int k = 0; k < 5; k++)
            if (!need(it, p, skeys[k], err)) goto out;
        bp_station_t *s = &reg->stations[i];
        join(f, p, "id");
        if (read_slug(cJSON_GetObjectItemCaseSensitive(it, "id"), f, s->id, err)) goto out;
        join(f, p, "name");
        if (read_name(cJSON_GetObjectItemCaseSensitive(it, "name"), f, &s->name, err)) goto out;
        const cJSON *dv = cJSON_GetObjectItemCaseSensitive(it, "district");
        s->district = cJSON_IsString(dv) ? bp_registry_district(reg, dv->valuestring,
                                                                strlen(dv->valuestring))
                                         : -1;
        join(f, p, "district");
        if (s->district < 0) {
            bp_error_set(err, "unknown_district", f, "%s must be a known district", f);
            goto out;
        }
        join(f, p, "lat");
        if (get_num(cJSON_GetObjectItemCaseSensitive(it, "lat"), f, -90, 90, &s->lat, err)) goto out;
        join(f, p, "lon");
        if (get_num(cJSON_GetObjectItemCaseSensitive(it, "lon"), f, -180, 180, &s->lon, err))
            goto out;
        reg->n_stations = i + 1;
    }
    char dup[BP_ID_MAX + 1];
    if (bp_registry_index(reg, dup, sizeof dup)) {
        bp_error_set(err, "duplicate_id", "stations", "duplicate station id \"%s\"", dup);
        goto out;
    }
    i = 0;
    for (const cJSON *it = us->child; it; it = it->next, i++) {
        char p[MAX_PATH], f[MAX_PATH];
        unsigned present;
        snprintf(p, sizeof p, "ambulances[%zu]", i);
        if (want_object(it, p, err) || check_keys(it, p, ukeys, 2, &present, err)) goto out;
        if (!need(it, p, "id", err) || !need(it, p, "station", err)) goto out;
        bp_unit_t *u = &reg->units[i];
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(it, "id");
        join(f, p, "id");
        if (!cJSON_IsString(idv) || !bp_is_callsign(idv->valuestring, strlen(idv->valuestring))) {
            bp_error_set(err, "bad_value", f, "%s must be a call sign [A-Za-z0-9-]{1,32}", f);
            goto out;
        }
        snprintf(u->id, sizeof u->id, "%s", idv->valuestring);
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(it, "station");
        u->station = cJSON_IsString(sv) ? bp_registry_station(reg, sv->valuestring,
                                                              strlen(sv->valuestring))
                                        : -1;
        join(f, p, "station");
        if (u->station < 0) {
            bp_error_set(err, "unknown_station", f, "%s must be a station id", f);
            goto out;
        }
        reg->n_units = i + 1;
    }
    if (bp_registry_index(reg, dup, sizeof dup)) {
        bp_error_set(err, "duplicate_id", "ambulances", "duplicate ambulance id \"%s\"", dup);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* -- settings file ------------------------------------------------------- */

int bp_codec_parse_settings(const char *json, size_t len, bp_settings_t *s, bp_error_t *err) {
    int rc = -1;
    cJSON *root = parse_all(json, len, err);
    if (!root || want_object(root, "", err)) goto out;
    for (const cJSON *sec = root->child; sec; sec = sec->next) {
        if (strcmp(sec->string, "note") == 0 && cJSON_IsString(sec)) continue;
        if (!cJSON_IsObject(sec)) {
            bp_error_set(err, "wrong_type", sec->string, "settings section %.40s must be an object",
                         sec->string);
            goto out;
        }
        for (const cJSON *k = sec->child; k; k = k->next) {
            char key[MAX_PATH], val[BP_SETTING_STR_MAX];
            join(key, sec->string, k->string);
            if (cJSON_IsString(k)) {
                snprintf(val, sizeof val, "%s", k->valuestring);
            } else if (cJSON_IsNumber(k) && isfinite(k->valuedouble)) {
                snprintf(val, sizeof val, "%.17g", k->valuedouble);
            } else {
                bp_error_set(err, "wrong_type", key, "setting %s must be a string or a number", key);
                goto out;
            }
            if (bp_settings_set(s, key, val, err)) goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* -- writers ------------------------------------------------------------- */

static void write_beds_entry(bp_buf_t *b, const bp_beds_t *beds, unsigned fields) {
    bp_buf_putc(b, '{');
    const int32_t vals[3] = {beds->staffed, beds->occupied, beds->surge24};
    int first = 1;
    for (int f = 0; f < 3; f++) {
        if (!(fields & (1u << f)) || vals[f] < 0) continue;
        if (!first) bp_buf_putc(b, ',');
        bp_json_key(b, bed_field_keys[f]);
        bp_json_int(b, vals[f]);
        first = 0;
    }
    bp_buf_putc(b, '}');
}

void bp_codec_write_ed(bp_buf_t *b, const bp_ed_t *ed) {
    bp_buf_putc(b, '{');
    bp_json_key(b, "status");
    bp_json_cstr(b, bp_ed_status_name(ed->status));
    if (ed->reason[0]) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "reason");
        bp_json_cstr(b, ed->reason);
    }
    if (ed->until_ms > 0) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "until");
        bp_json_int(b, ed->until_ms);
    }
    if (ed->waiting >= 0) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "waiting");
        bp_json_int(b, ed->waiting);
    }
    bp_buf_putc(b, '}');
}

void bp_codec_write_patch(bp_buf_t *b, const bp_change_t *c) {
    bp_buf_putc(b, '{');
    bp_json_key(b, "at");
    bp_json_int(b, c->at_ms);
    if (c->kind == BP_KIND_HOSPITAL) {
        int first = 1;
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!c->bed_fields[t]) continue;
            bp_buf_puts(b, first ? ",\"beds\":{" : ",");
            bp_json_key(b, bp_bed_type_name((bp_bed_type_t)t));
            write_beds_entry(b, &c->beds[t], c->bed_fields[t]);
            first = 0;
        }
        if (!first) bp_buf_putc(b, '}');
        if (c->has_ed) {
            bp_buf_putc(b, ',');
            bp_json_key(b, "ed");
            bp_codec_write_ed(b, &c->ed);
        }
    } else if (c->kind == BP_KIND_INCIDENT) {
        bp_buf_putc(b, ',');
        bp_codec_write_inc_fields(b, c);
    } else if (c->amb_fields) {
        bp_buf_putc(b, ',');
        bp_codec_write_amb_fields(b, c);
    }
    bp_buf_putc(b, '}');
}

void bp_codec_write_amb_fields(bp_buf_t *b, const bp_change_t *c) {
    const bp_ambulance_state_t *a = &c->amb;
    unsigned f = c->amb_fields;
    const char *sep = "";
#define FIELD(name)                                                                                \
    do {                                                                                           \
        bp_buf_puts(b, sep);                                                                       \
        bp_json_key(b, name);                                                                      \
        sep = ",";                                                                                 \
    } while (0)
    if (f & BP_AF_STATUS) {
        FIELD("status");
        bp_json_cstr(b, bp_amb_status_name(a->status));
    }
    if (f & BP_AF_POSITION) {
        FIELD("lat");
        bp_json_num(b, a->lat, 6);
        FIELD("lon");
        bp_json_num(b, a->lon, 6);
    }
    if (f & BP_AF_HEADING) {
        FIELD("heading");
        bp_json_num(b, a->heading, 1);
    }
    if (f & BP_AF_SPEED) {
        FIELD("speed");
        bp_json_num(b, a->speed, 1);
    }
    if (f & BP_AF_DESTINATION) {
        FIELD("destination");
        bp_json_cstr(b, a->destination);
    }
    if (f & BP_AF_INCIDENT) {
        FIELD("incident");
        bp_json_cstr(b, a->incident);
    }
#undef FIELD
}

void bp_codec_write_inc_fields(bp_buf_t *b, const bp_change_t *c) {
    const bp_incident_state_t *n = &c->inc;
    unsigned f = c->inc_fields;
    bp_json_key(b, "action");
    bp_json_cstr(b, bp_inc_action_name(c->inc_action));
    if (f & BP_IF_PRIORITY) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "priority");
        bp_json_int(b, n->priority);
    }
    if (f & BP_IF_CATEGORY) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "category");
        bp_json_cstr(b, bp_category_name(n->category));
    }
    if (f & BP_IF_POSITION) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "lat");
        bp_json_num(b, n->lat, 6);
        bp_buf_putc(b, ',');
        bp_json_key(b, "lon");
        bp_json_num(b, n->lon, 6);
    }
    if (f & BP_IF_ADDRESS) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "address");
        bp_json_cstr(b, n->address);
    }
    if (f & BP_IF_RECEIVED) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "received");
        bp_json_int(b, n->received_ms);
    }
    if (f & BP_IF_UNIT) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "unit");
        bp_json_cstr(b, n->unit);
    }
    if (f & BP_IF_DESTINATION) {
        bp_buf_putc(b, ',');
        bp_json_key(b, "destination");
        bp_json_cstr(b, n->destination);
    }
}
