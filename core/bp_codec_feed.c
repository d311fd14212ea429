/* Feed lines: the strict validator of what collectors receive from
 * hospitals, ambulances and the 115 centre (docs/protocol.md §1). */
#include "bp_codec_feed.h"
#include "bp_jsonin.h"
#include "bp_time.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- feed lines ---------------------------------------------------------- */

enum { F_TYPE, F_SOURCE, F_SEQ, F_AT, F_HOSPITAL, F_BEDS, F_ED, F_SERVICES, F_FACILITY };
static const char *const beds_keys[] = {"type", "source", "seq",      "at",      "hospital",
                                        "beds", "ed",     "services", "facility"};

enum {
    A_TYPE,
    A_SOURCE,
    A_SEQ,
    A_AT,
    A_ID,
    A_STATUS,
    A_LAT,
    A_LON,
    A_HEADING,
    A_SPEED,
    A_DEST,
    A_INCIDENT
};
static const char *const amb_keys[] = {"type",    "source", "seq",         "at",
                                       "id",      "status", "lat",         "lon",
                                       "heading", "speed",  "destination", "incident"};

enum {
    I_TYPE,
    I_SOURCE,
    I_SEQ,
    I_AT,
    I_ID,
    I_ACTION,
    I_PRIORITY,
    I_CATEGORY,
    I_LAT,
    I_LON,
    I_ADDRESS,
    I_RECEIVED,
    I_UNIT,
    I_DEST
};
static const char *const inc_keys[] = {"type",    "source",   "seq",      "at",         "id",
                                       "action",  "priority", "category", "lat",        "lon",
                                       "address", "received", "unit",     "destination"};
#define RECEIVED_MAX_AGE_MS (7 * 86400 * 1000LL) /* a call older than the incident retention */

const char *const bp_feed_bed_keys[5] = {"staffed", "occupied", "surge24", "ventilated", "ecmo"};
const char *const bp_feed_ed_keys[4] = {"status", "reason", "until", "waiting"};

/* One of the intensive-care pairs: {"total":N,"free":M}, both integers
 * 0..BP_BEDS_MAX, free <= total, total <= the entry's staffed if it has one. */
static int parse_places(const cJSON *o, const char *path, int32_t staffed, bp_places_t *out,
                        bp_error_t *err) {
    static const char *const keys[] = {"total", "free"};
    unsigned present;
    if (bp_jsonin_object(o, path, err) || bp_jsonin_keys(o, path, keys, 2, &present, err))
        return -1;
    int64_t v[2];
    for (int i = 0; i < 2; i++) {
        char fp[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(fp, path, keys[i]);
        if (!(present & (1u << i)))
            return bp_error_set(err, "missing_field", fp, "%s is required with %s (total and free)",
                                fp, path);
        if (bp_jsonin_int(cJSON_GetObjectItemCaseSensitive(o, keys[i]), fp, 0, BP_BEDS_MAX, &v[i],
                          err))
            return -1;
    }
    char fp[BP_JSONIN_PATH_MAX];
    if (v[1] > v[0]) {
        bp_jsonin_join(fp, path, "free");
        return bp_error_set(err, "bad_value", fp, "%s (%lld) must not exceed %s.total (%lld)", fp,
                            (long long)v[1], path, (long long)v[0]);
    }
    if (staffed >= 0 && v[0] > staffed) {
        bp_jsonin_join(fp, path, "total");
        return bp_error_set(err, "bad_value", fp,
                            "%s (%lld) must not exceed the bed type's staffed (%d)", fp,
                            (long long)v[0], (int)staffed);
    }
    out->total = (int32_t)v[0];
    out->free = (int32_t)v[1];
    return 0;
}

int bp_codec_parse_icu_detail(const cJSON *entry, const char *path, int t, unsigned present,
                              int32_t staffed, bp_icu_detail_t *out, bp_error_t *err) {
    bp_places_t *dst[2] = {&out->ventilated, &out->ecmo};
    for (int i = 0; i < 2; i++) {
        unsigned bit = i ? BP_BF_ECMO : BP_BF_VENTILATED;
        if (!(present & bit)) continue;
        const char *name = bp_feed_bed_keys[3 + i];
        char fp[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(fp, path, name);
        if (!bp_bed_type_has_detail(t))
            return bp_error_set(err, "unknown_field", fp,
                                "%s: only icu_adult and icu_pediatric report %s places", fp, name);
        if (parse_places(cJSON_GetObjectItemCaseSensitive(entry, name), fp, staffed, dst[i], err))
            return -1;
    }
    return 0;
}

static int parse_beds(const cJSON *beds, bp_change_t *out, bp_error_t *err) {
    if (bp_jsonin_object(beds, "beds", err)) return -1;
    int seen = 0;
    for (const cJSON *it = beds->child; it; it = it->next) {
        char path[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(path, "beds", it->string);
        int t = bp_bed_type_parse(it->string, strlen(it->string));
        if (t < 0)
            return bp_error_set(err, "unknown_bed_type", path,
                                "unknown bed type \"%.40s\"; known: emergency, icu_adult, "
                                "icu_pediatric, icu_neonatal, medical_surgical, pediatrics, "
                                "obstetrics, burn, psychiatric, isolation, operating_room",
                                it->string);
        if (seen & (1 << t))
            return bp_error_set(err, "duplicate_field", path, "field %s appears more than once",
                                path);
        seen |= 1 << t;
        if (bp_jsonin_object(it, path, err)) return -1;
        unsigned present;
        if (bp_jsonin_keys(it, path, bp_feed_bed_keys, 5, &present, err)) return -1;
        if (!present)
            return bp_error_set(
                err, "missing_field", path,
                "%s must give at least one of staffed, occupied, surge24, ventilated, ecmo", path);
        int32_t *dst[3] = {&out->beds[t].staffed, &out->beds[t].occupied, &out->beds[t].surge24};
        for (int f = 0; f < 3; f++) {
            if (!(present & (1u << f))) continue;
            char fp[BP_JSONIN_PATH_MAX];
            bp_jsonin_join(fp, path, bp_feed_bed_keys[f]);
            int64_t v;
            if (bp_jsonin_int(cJSON_GetObjectItemCaseSensitive(it, bp_feed_bed_keys[f]), fp, 0,
                              BP_BEDS_MAX, &v, err))
                return -1;
            *dst[f] = (int32_t)v;
        }
        if (bp_codec_parse_icu_detail(it, path, t, present,
                                      present & BP_BF_STAFFED ? out->beds[t].staffed : -1,
                                      &out->icu[t], err))
            return -1;
        out->bed_fields[t] = (uint8_t)present;
    }
    return 0;
}

static int parse_ed(const cJSON *ed, int64_t at_ms, bp_ed_t *out, bp_error_t *err) {
    if (bp_jsonin_object(ed, "ed", err)) return -1;
    unsigned present;
    if (bp_jsonin_keys(ed, "ed", bp_feed_ed_keys, 4, &present, err)) return -1;
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
        bp_jsonin_text(v, "ed.reason", BP_REASON_MAX, out->reason, sizeof out->reason, err))
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(ed, "until")) && !cJSON_IsNull(v)) {
        if (bp_jsonin_time(v, "ed.until", &out->until_ms, err)) return -1;
        if (out->status == BP_ED_NORMAL)
            return bp_error_set(err, "bad_value", "ed.until",
                                "ed.until applies only to advisory, diversion or closed");
        if (out->until_ms <= at_ms)
            return bp_error_set(err, "bad_value", "ed.until", "ed.until must be later than at");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(ed, "waiting")) && !cJSON_IsNull(v)) {
        int64_t w;
        if (bp_jsonin_int(v, "ed.waiting", 0, BP_WAITING_MAX, &w, err)) return -1;
        out->waiting = (int32_t)w;
    }
    return 0;
}

int bp_codec_parse_services(const cJSON *services, int64_t after_ms, const char *after_name,
                            const bp_hospital_info_t *info, bp_change_t *out, bp_error_t *err) {
    static const char *const keys[] = {"status", "reason", "until"};
    if (bp_jsonin_object(services, "services", err)) return -1;
    if (!services->child)
        return bp_error_set(err, "missing_field", "services",
                            "services must name at least one service: " BP_SERVICE_NAMES);
    for (const cJSON *it = services->child; it; it = it->next) {
        char path[BP_JSONIN_PATH_MAX], fp[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(path, "services", it->string);
        int k = bp_service_parse(it->string, strlen(it->string));
        if (k < 0)
            return bp_error_set(err, "unknown_service", path,
                                "unknown service \"%.40s\"; known: " BP_SERVICE_NAMES, it->string);
        if (out->svc_fields & (1u << k))
            return bp_error_set(err, "duplicate_field", path, "field %s appears more than once",
                                path);
        if (info && !(info->services & (1u << k)))
            return bp_error_set(err, "unknown_service", path,
                                "%s: %s has no %s in the registry (config/hospitals.json "
                                "\"services\")",
                                path, info->id, it->string);
        unsigned present;
        if (bp_jsonin_object(it, path, err) || bp_jsonin_keys(it, path, keys, 3, &present, err))
            return -1;
        bp_jsonin_join(fp, path, "status");
        if (!(present & 1))
            return bp_error_set(err, "missing_field", fp,
                                "%s is required: available, limited or unavailable", fp);
        int st;
        if (bp_jsonin_name(cJSON_GetObjectItemCaseSensitive(it, "status"), fp, bp_svc_status_parse,
                           "available, limited, unavailable", &st, err))
            return -1;
        bp_svc_t *sv = &out->svc[k];
        memset(sv, 0, sizeof *sv);
        sv->status = (bp_svc_status_t)st;
        const cJSON *v;
        bp_jsonin_join(fp, path, "reason");
        if ((v = cJSON_GetObjectItemCaseSensitive(it, "reason")) && !cJSON_IsNull(v) &&
            bp_jsonin_text(v, fp, BP_REASON_MAX, sv->reason, sizeof sv->reason, err))
            return -1;
        bp_jsonin_join(fp, path, "until");
        if ((v = cJSON_GetObjectItemCaseSensitive(it, "until")) && !cJSON_IsNull(v)) {
            if (bp_jsonin_time(v, fp, &sv->until_ms, err)) return -1;
            if (sv->status == BP_SVS_AVAILABLE)
                return bp_error_set(err, "bad_value", fp,
                                    "%s applies only to limited or unavailable", fp);
            if (sv->until_ms <= after_ms)
                return bp_error_set(err, "bad_value", fp, "%s must be later than %s", fp,
                                    after_name);
        }
        out->svc_fields |= 1u << k;
    }
    return 0;
}

int bp_codec_parse_facility(const cJSON *fac, bp_facility_t *out, bp_error_t *err) {
    static const char *const keys[] = {"status", "reason", "power", "oxygen", "water"};
    unsigned present;
    if (bp_jsonin_object(fac, "facility", err) ||
        bp_jsonin_keys(fac, "facility", keys, 5, &present, err))
        return -1;
    if (!(present & 1))
        return bp_error_set(err, "missing_field", "facility.status",
                            "facility.status is required: normal, compromised, evacuating or "
                            "closed");
    bp_facility_init(out);
    int st;
    if (bp_jsonin_name(cJSON_GetObjectItemCaseSensitive(fac, "status"), "facility.status",
                       bp_fac_status_parse, "normal, compromised, evacuating, closed", &st, err))
        return -1;
    out->status = (bp_fac_status_t)st;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(fac, "reason")) && !cJSON_IsNull(v) &&
        bp_jsonin_text(v, "facility.reason", BP_REASON_MAX, out->reason, sizeof out->reason, err))
        return -1;
    static const char *const allowed[BP_UTIL__COUNT] = {"mains, generator, out", "normal, low, out",
                                                        "normal, out"};
    for (int u = 0; u < BP_UTIL__COUNT; u++) {
        v = cJSON_GetObjectItemCaseSensitive(fac, bp_utility_name((bp_utility_t)u));
        if (!v || cJSON_IsNull(v)) continue;
        char path[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(path, "facility", bp_utility_name((bp_utility_t)u));
        int x = cJSON_IsString(v) ? bp_utility_value_parse((bp_utility_t)u, v->valuestring,
                                                           strlen(v->valuestring))
                                  : -1;
        if (x < 0)
            return bp_error_set(err, "bad_value", path, "%s must be one of %s", path, allowed[u]);
        out->util[u] = (int8_t)x;
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
    if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(root, "lat"), "lat", -90, 90, lat, err) ||
        bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(root, "lon"), "lon", -180, 180, lon, err))
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
                            bp_jsonin_type_name(v));
    size_t n = strlen(v->valuestring);
    int i = !reg   ? -1
            : unit ? bp_registry_unit(reg, v->valuestring, n)
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
    if (!v)
        return bp_error_set(err, "missing_field", "id", "id is required: the ambulance call sign");
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
        if (bp_jsonin_name(
                cJSON_GetObjectItemCaseSensitive(root, "status"), "status", bp_amb_status_parse,
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
        if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(root, "heading"), "heading", 0, 360,
                          &a->heading, err))
            return -1;
        out->amb_fields |= BP_AF_HEADING;
    }
    if (present & (1u << A_SPEED)) {
        if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(root, "speed"), "speed", 0, 300,
                          &a->speed, err))
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
            bp_jsonin_text(v, "incident", BP_INCIDENT_MAX, a->incident, sizeof a->incident, err))
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
        return bp_error_set(err, "missing_field", "id",
                            "id is required: the CAD's incident number");
    if (!cJSON_IsString(v) || !bp_is_incident_id(v->valuestring, strlen(v->valuestring)))
        return bp_error_set(err, "bad_value", "id", "id must be 1 to 64 characters [A-Za-z0-9-]");
    snprintf(out->id, sizeof out->id, "%s", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(root, "action");
    if (!v)
        return bp_error_set(err, "missing_field", "action",
                            "action is required: create, update or close");
    int act;
    if (bp_jsonin_name(v, "action", bp_inc_action_parse, "create, update, close", &act, err))
        return -1;
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
        if (bp_jsonin_int(cJSON_GetObjectItemCaseSensitive(root, "priority"), "priority", 1, 3, &x,
                          err))
            return -1;
        n->priority = (int)x;
        out->inc_fields |= BP_IF_PRIORITY;
    }
    if (present & (1u << I_CATEGORY)) {
        int cat;
        if (bp_jsonin_name(cJSON_GetObjectItemCaseSensitive(root, "category"), "category",
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
            bp_jsonin_text(v, "address", BP_ADDRESS_MAX, n->address, sizeof n->address, err))
            return -1;
        out->inc_fields |= BP_IF_ADDRESS;
    }
    if (present & (1u << I_RECEIVED)) {
        if (bp_jsonin_time(cJSON_GetObjectItemCaseSensitive(root, "received"), "received",
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

int bp_codec_parse_feed(const char *line, size_t len, const bp_registry_t *reg, int64_t now_ms,
                        int64_t max_skew_ms, bp_change_t *out, bp_error_t *err) {
    int rc = -1;
    cJSON *root = NULL;
    bp_change_init(out, BP_KIND_HOSPITAL);
    if (!(root = bp_jsonin_parse(line, len, err))) goto out;
    if (bp_jsonin_object(root, "", err)) goto out;

    /* seq first, so that every later error can be answered with it */
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
    int64_t seqv = -1;
    if (!seq) {
        bp_error_set(err, "missing_field", "seq",
                     "seq is required: the sender's own increasing message number");
        goto out;
    }
    if (bp_jsonin_int(seq, "seq", 0, 9007199254740991LL, &seqv, err)) goto out;
    out->seq = seqv;
    /* checked on the raw text: cJSON has already cut such strings short */
    if (bp_jsonin_escaped_nul(line, len)) {
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
    if (bp_jsonin_keys(root, "", key_sets[mt].keys, key_sets[mt].n, &present, err)) goto out;
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
    if (bp_jsonin_time(v, "at", &out->at_ms, err)) goto out;
    if (out->at_ms > now_ms + max_skew_ms) {
        bp_error_set(
            err, "out_of_range", "at",
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
    if ((present & (1u << F_SERVICES)) &&
        bp_codec_parse_services(
            cJSON_GetObjectItemCaseSensitive(root, "services"), out->at_ms, "at",
            reg ? &reg->hospitals[bp_registry_hospital(reg, out->id, strlen(out->id))] : NULL, out,
            err))
        goto out;
    if (present & (1u << F_FACILITY)) {
        if (bp_codec_parse_facility(cJSON_GetObjectItemCaseSensitive(root, "facility"), &out->fac,
                                    err))
            goto out;
        out->has_fac = true;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}
