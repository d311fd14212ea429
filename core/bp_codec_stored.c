/*
 * The stored format, read and written: entities in their Redis hashes and
 * changes in the event stream (docs/redis.md). This is the only C file that
 * knows the stored field names; its twin on the Redis side is io/apply.lua,
 * which writes what this file reads and reads what it writes: change one,
 * change the other.
 */
#include "bp_codec_stored.h"
#include "bp_jsonin.h"
#include "bp_jw.h"
#include "bp_plausible.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- stored state / stream data ------------------------------------------ */

/* A bed entry's fields, in the order of the BP_BF_* bits. */
static const char *const stored_bed_keys[] = {"staffed", "occupied", "surge24"};

/* An integer field of stored data, or dflt when missing or outside what an
 * int64 holds exactly (a double cast beyond it is undefined behaviour). */
static int64_t num_or(const cJSON *obj, const char *key, int64_t dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) ||
        !(v->valuedouble >= -9007199254740992.0 && v->valuedouble <= 9007199254740992.0))
        return dflt;
    return (int64_t)v->valuedouble;
}

static void str_to(const cJSON *obj, const char *key, char *out, size_t out_len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v)) snprintf(out, out_len, "%s", v->valuestring);
}

/* A service as stored: {"status":..,"reason":..,"until":ms}; false when
 * its status does not read. */
/* The intensive-care pairs of a stored bed entry ({"ventilated":{"total":
 * N,"free":M},"ecmo":{..}}), kept only when whole and in bounds. */
static bool stored_places(const cJSON *o, bp_places_t *out) {
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(o, "total");
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(o, "free");
    if (!cJSON_IsNumber(tv) || !cJSON_IsNumber(fv)) return false;
    double t = tv->valuedouble, f = fv->valuedouble;
    if (!(t >= 0 && t <= BP_BEDS_MAX && f >= 0 && f <= t)) return false;
    out->total = (int32_t)t;
    out->free = (int32_t)f;
    return true;
}

static void stored_icu_json(const cJSON *entry, int t, bp_change_t *out) {
    if (!bp_bed_type_has_detail(t)) return;
    if (stored_places(cJSON_GetObjectItemCaseSensitive(entry, "ventilated"),
                      &out->icu[t].ventilated))
        out->bed_fields[t] |= BP_BF_VENTILATED;
    if (stored_places(cJSON_GetObjectItemCaseSensitive(entry, "ecmo"), &out->icu[t].ecmo))
        out->bed_fields[t] |= BP_BF_ECMO;
}

static bool stored_svc(const cJSON *o, bp_svc_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "status");
    int s = cJSON_IsString(v) ? bp_svc_status_parse(v->valuestring, strlen(v->valuestring)) : -1;
    if (s < 0) return false;
    memset(out, 0, sizeof *out);
    out->status = (bp_svc_status_t)s;
    out->until_ms = num_or(o, "until", 0);
    str_to(o, "reason", out->reason, sizeof out->reason);
    return true;
}

/* A facility as stored: {"status":..,"reason":..,"power":..,...}; false
 * when its status does not read (a utility that does not read is left
 * out). */
static bool stored_fac(const cJSON *o, bp_facility_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "status");
    int s = cJSON_IsString(v) ? bp_fac_status_parse(v->valuestring, strlen(v->valuestring)) : -1;
    if (s < 0) return false;
    bp_facility_init(out);
    out->status = (bp_fac_status_t)s;
    str_to(o, "reason", out->reason, sizeof out->reason);
    for (int u = 0; u < BP_UTIL__COUNT; u++) {
        v = cJSON_GetObjectItemCaseSensitive(o, bp_utility_name((bp_utility_t)u));
        if (cJSON_IsString(v))
            out->util[u] = (int8_t)bp_utility_value_parse((bp_utility_t)u, v->valuestring,
                                                          strlen(v->valuestring));
    }
    return true;
}

/* A check as stored ({"rule":..,"bed_type":..,"was":..,"now":..,"at":ms,
 * "version":..,"reason":..}) or null (cleared): true when it reads. */
static bool stored_check(const cJSON *o, bp_check_t *out) {
    memset(out, 0, sizeof *out);
    out->bed_type = -1;
    if (cJSON_IsNull(o)) return true;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "rule");
    int r = cJSON_IsString(v) ? bp_check_rule_parse(v->valuestring, strlen(v->valuestring)) : -1;
    if (r < 0) return false;
    out->rule = (bp_check_rule_t)r;
    v = cJSON_GetObjectItemCaseSensitive(o, "bed_type");
    if (cJSON_IsString(v))
        out->bed_type = bp_bed_type_parse(v->valuestring, strlen(v->valuestring));
    out->was = (int32_t)num_or(o, "was", 0);
    out->now = (int32_t)num_or(o, "now", 0);
    out->at_ms = num_or(o, "at", 0);
    out->version = (uint64_t)num_or(o, "version", 0);
    str_to(o, "reason", out->reason, sizeof out->reason);
    return true;
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
    cJSON *root = bp_jsonin_parse(json, len, err);
    if (!root) return -1;
    if (bp_jsonin_object(root, "", err)) goto out;
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
            int32_t *dst[3] = {&out->beds[t].staffed, &out->beds[t].occupied,
                               &out->beds[t].surge24};
            for (int f = 0; f < 3; f++) {
                v = cJSON_GetObjectItemCaseSensitive(it, stored_bed_keys[f]);
                if (!cJSON_IsNumber(v)) continue;
                double d = v->valuedouble;
                if (!(d >= 0 && d <= BP_BEDS_MAX)) continue;
                *dst[f] = (int32_t)d;
                out->bed_fields[t] |= (uint8_t)(1u << f);
            }
            stored_icu_json(it, t, out);
        }
        const cJSON *ed = cJSON_GetObjectItemCaseSensitive(root, "ed");
        if (cJSON_IsObject(ed)) {
            v = cJSON_GetObjectItemCaseSensitive(ed, "status");
            int s =
                cJSON_IsString(v) ? bp_ed_status_parse(v->valuestring, strlen(v->valuestring)) : -1;
            if (s >= 0) {
                out->has_ed = true;
                out->ed.status = (bp_ed_status_t)s;
                out->ed.until_ms = num_or(ed, "until", 0);
                out->ed.waiting = (int32_t)num_or(ed, "waiting", -1);
                str_to(ed, "reason", out->ed.reason, sizeof out->ed.reason);
            }
        }
        const cJSON *svc = cJSON_GetObjectItemCaseSensitive(root, "services");
        for (const cJSON *it = cJSON_IsObject(svc) ? svc->child : NULL; it; it = it->next) {
            int k = bp_service_parse(it->string, strlen(it->string));
            if (k >= 0 && stored_svc(it, &out->svc[k])) out->svc_fields |= 1u << k;
        }
        const cJSON *fac = cJSON_GetObjectItemCaseSensitive(root, "facility");
        if (cJSON_IsObject(fac) && stored_fac(fac, &out->fac)) out->has_fac = true;
        const cJSON *chk = cJSON_GetObjectItemCaseSensitive(root, "check");
        if (chk && stored_check(chk, &out->check)) out->has_check = true;
    } else if (kind == BP_KIND_INCIDENT) {
        stored_incident(root, out);
    } else {
        bp_ambulance_state_t *a = &out->amb;
        v = cJSON_GetObjectItemCaseSensitive(root, "status");
        int s =
            cJSON_IsString(v) ? bp_amb_status_parse(v->valuestring, strlen(v->valuestring)) : -1;
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

/* "<bed type>.vt|vf|et|ef": one number of the intensive-care detail; a
 * pair is marked known once both its numbers were read. */
static void stored_icu_hash(const char *k, size_t kl, const char *v, size_t vl, bp_change_t *out,
                            uint8_t *halves) {
    if (kl < 4 || k[kl - 3] != '.') return;
    int t = bp_bed_type_parse(k, kl - 3);
    int64_t x;
    if (t < 0 || !bp_bed_type_has_detail(t) || !hash_int(v, vl, 0, BP_BEDS_MAX, &x)) return;
    bool ecmo = k[kl - 2] == 'e', total = k[kl - 1] == 't';
    if ((k[kl - 2] != 'v' && !ecmo) || (k[kl - 1] != 'f' && !total)) return;
    bp_places_t *p = ecmo ? &out->icu[t].ecmo : &out->icu[t].ventilated;
    *(total ? &p->total : &p->free) = (int32_t)x;
    halves[t] |= (uint8_t)(1u << ((ecmo ? 2 : 0) + (total ? 1 : 0)));
    if ((halves[t] & 3) == 3) out->bed_fields[t] |= BP_BF_VENTILATED;
    if ((halves[t] & 12) == 12) out->bed_fields[t] |= BP_BF_ECMO;
}

/* "pre" (io/apply.lua): {"v","at","src","beds":{<type>:{"s","o","oa"}}},
 * the last report with bed figures and the occupied figures it replaced. */
static bool stored_pre(const cJSON *o, bp_check_pre_t *out) {
    memset(out, 0, sizeof *out);
    out->version = (uint64_t)num_or(o, "v", 0);
    out->at_ms = num_or(o, "at", 0);
    str_to(o, "src", out->source, sizeof out->source);
    const cJSON *beds = cJSON_GetObjectItemCaseSensitive(o, "beds");
    for (const cJSON *it = cJSON_IsObject(beds) ? beds->child : NULL; it; it = it->next) {
        int t = bp_bed_type_parse(it->string, strlen(it->string));
        if (t < 0) continue;
        out->mask |= 1u << t;
        if (cJSON_GetObjectItemCaseSensitive(it, "s")) out->fields[t] |= BP_BF_STAFFED;
        if (cJSON_GetObjectItemCaseSensitive(it, "o")) out->fields[t] |= BP_BF_OCCUPIED;
        out->occupied[t] = (int32_t)num_or(it, "o", -1);
        out->occ_at_ms[t] = num_or(it, "oa", 0);
    }
    return out->version > 0 && out->mask;
}

int bp_codec_parse_hash(bp_kind_t kind, size_t n, const char *const *keys, const size_t *klens,
                        const char *const *vals, const size_t *vlens, bp_change_t *out,
                        bp_error_t *err) {
    bp_change_init(out, kind);
    if (kind == BP_KIND_INCIDENT) out->inc_action = BP_INC_CREATE;
    bool has_version = false;
    uint8_t halves[BP_BED__COUNT] = {0}; /* the intensive-care numbers read */
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
                cJSON *ed = bp_jsonin_parse(v, vl, err);
                const cJSON *st = ed ? cJSON_GetObjectItemCaseSensitive(ed, "status") : NULL;
                int s = cJSON_IsString(st)
                            ? bp_ed_status_parse(st->valuestring, strlen(st->valuestring))
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
            if (field_is(k, kl, "fac")) {
                cJSON *o = bp_jsonin_parse(v, vl, err);
                if (o && stored_fac(o, &out->fac)) out->has_fac = true;
                cJSON_Delete(o);
                continue;
            }
            if (field_is(k, kl, "chk")) {
                cJSON *o = bp_jsonin_parse(v, vl, err);
                if (o && stored_check(o, &out->check)) out->has_check = true;
                cJSON_Delete(o);
                continue;
            }
            if (field_is(k, kl, "ckv")) {
                if (hash_int(v, vl, 0, INT64_MAX, &x)) out->check_version = (uint64_t)x;
                continue;
            }
            if (field_is(k, kl, "pre")) {
                cJSON *o = bp_jsonin_parse(v, vl, err);
                out->has_pre = o && stored_pre(o, &out->pre);
                cJSON_Delete(o);
                continue;
            }
            /* "<bed type>.oa": when its occupied figure was reported */
            if (kl > 3 && memcmp(k + kl - 3, ".oa", 3) == 0) {
                int t = bp_bed_type_parse(k, kl - 3);
                if (t >= 0 && hash_int(v, vl, 0, INT64_MAX, &x)) out->occ_at_ms[t] = x;
                continue;
            }
            /* "svc.<service>": the service as JSON */
            if (kl > 4 && memcmp(k, "svc.", 4) == 0) {
                int sk = bp_service_parse(k + 4, kl - 4);
                cJSON *o = sk >= 0 ? bp_jsonin_parse(v, vl, err) : NULL;
                if (o && stored_svc(o, &out->svc[sk])) out->svc_fields |= 1u << sk;
                cJSON_Delete(o);
                continue;
            }
            stored_icu_hash(k, kl, v, vl, out, halves);
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
    if (!has_version)
        return bp_error_set(err, "missing_field", "v", "stored entity without a version");
    return 0;
}

/* -- writers ------------------------------------------------------------- */

static void write_beds_entry(bp_jw_t *w, const bp_beds_t *beds, const bp_icu_detail_t *icu,
                             unsigned fields) {
    const int32_t vals[3] = {beds->staffed, beds->occupied, beds->surge24};
    bp_jw_obj(w);
    for (int f = 0; f < 3; f++) {
        if (!(fields & (1u << f)) || vals[f] < 0) continue;
        bp_jw_key(w, stored_bed_keys[f]);
        bp_jw_int(w, vals[f]);
    }
    bp_codec_write_icu_detail(w, icu, fields);
    bp_jw_end(w);
}

void bp_codec_write_icu_detail(bp_jw_t *w, const bp_icu_detail_t *icu, unsigned fields) {
    const bp_places_t *p[2] = {&icu->ventilated, &icu->ecmo};
    for (int i = 0; i < 2; i++) {
        if (!(fields & (i ? BP_BF_ECMO : BP_BF_VENTILATED))) continue;
        if (i)
            BP_JW_KEY(w, "ecmo");
        else
            BP_JW_KEY(w, "ventilated");
        bp_jw_obj(w);
        BP_JW_KEY(w, "total");
        bp_jw_int(w, p[i]->total);
        BP_JW_KEY(w, "free");
        bp_jw_int(w, p[i]->free);
        bp_jw_end(w);
    }
}

static void write_ed(bp_jw_t *w, const bp_ed_t *ed) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, bp_ed_status_name(ed->status));
    if (ed->reason[0]) {
        BP_JW_KEY(w, "reason");
        bp_jw_cstr(w, ed->reason);
    }
    if (ed->until_ms > 0) {
        BP_JW_KEY(w, "until");
        bp_jw_int(w, ed->until_ms);
    }
    if (ed->waiting >= 0) {
        BP_JW_KEY(w, "waiting");
        bp_jw_int(w, ed->waiting);
    }
    bp_jw_end(w);
}

static void write_svc(bp_jw_t *w, const bp_svc_t *sv) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, bp_svc_status_name(sv->status));
    if (sv->reason[0]) {
        BP_JW_KEY(w, "reason");
        bp_jw_cstr(w, sv->reason);
    }
    if (sv->until_ms > 0) {
        BP_JW_KEY(w, "until");
        bp_jw_int(w, sv->until_ms);
    }
    bp_jw_end(w);
}

static void write_fac(bp_jw_t *w, const bp_facility_t *f) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, bp_fac_status_name(f->status));
    if (f->reason[0]) {
        BP_JW_KEY(w, "reason");
        bp_jw_cstr(w, f->reason);
    }
    for (int u = 0; u < BP_UTIL__COUNT; u++) {
        const char *v = bp_utility_value_name((bp_utility_t)u, f->util[u]);
        if (!v) continue;
        bp_jw_key(w, bp_utility_name((bp_utility_t)u));
        bp_jw_cstr(w, v);
    }
    bp_jw_end(w);
}

static void write_amb_fields(bp_jw_t *w, const bp_change_t *c) {
    const bp_ambulance_state_t *a = &c->amb;
    unsigned f = c->amb_fields;
    if (f & BP_AF_STATUS) {
        BP_JW_KEY(w, "status");
        bp_jw_cstr(w, bp_amb_status_name(a->status));
    }
    if (f & BP_AF_POSITION) {
        BP_JW_KEY(w, "lat");
        bp_jw_num(w, a->lat, 6);
        BP_JW_KEY(w, "lon");
        bp_jw_num(w, a->lon, 6);
    }
    if (f & BP_AF_HEADING) {
        BP_JW_KEY(w, "heading");
        bp_jw_num(w, a->heading, 1);
    }
    if (f & BP_AF_SPEED) {
        BP_JW_KEY(w, "speed");
        bp_jw_num(w, a->speed, 1);
    }
    if (f & BP_AF_DESTINATION) {
        BP_JW_KEY(w, "destination");
        bp_jw_cstr(w, a->destination);
    }
    if (f & BP_AF_INCIDENT) {
        BP_JW_KEY(w, "incident");
        bp_jw_cstr(w, a->incident);
    }
}

static void write_inc_fields(bp_jw_t *w, const bp_change_t *c) {
    const bp_incident_state_t *n = &c->inc;
    unsigned f = c->inc_fields;
    BP_JW_KEY(w, "action");
    bp_jw_cstr(w, bp_inc_action_name(c->inc_action));
    if (f & BP_IF_PRIORITY) {
        BP_JW_KEY(w, "priority");
        bp_jw_int(w, n->priority);
    }
    if (f & BP_IF_CATEGORY) {
        BP_JW_KEY(w, "category");
        bp_jw_cstr(w, bp_category_name(n->category));
    }
    if (f & BP_IF_POSITION) {
        BP_JW_KEY(w, "lat");
        bp_jw_num(w, n->lat, 6);
        BP_JW_KEY(w, "lon");
        bp_jw_num(w, n->lon, 6);
    }
    if (f & BP_IF_ADDRESS) {
        BP_JW_KEY(w, "address");
        bp_jw_cstr(w, n->address);
    }
    if (f & BP_IF_RECEIVED) {
        BP_JW_KEY(w, "received");
        bp_jw_int(w, n->received_ms);
    }
    if (f & BP_IF_UNIT) {
        BP_JW_KEY(w, "unit");
        bp_jw_cstr(w, n->unit);
    }
    if (f & BP_IF_DESTINATION) {
        BP_JW_KEY(w, "destination");
        bp_jw_cstr(w, n->destination);
    }
}

void bp_codec_write_ed(bp_buf_t *b, const bp_ed_t *ed) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_ed(&w, ed);
}

void bp_codec_write_svc(bp_buf_t *b, const bp_svc_t *sv) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_svc(&w, sv);
}

/* A check as stored, without its version (the apply script adds it), or
 * null when cleared. */
static void write_check(bp_jw_t *w, const bp_check_t *k) {
    if (k->rule == BP_CHECK_NONE) {
        bp_jw_null(w);
        return;
    }
    bp_jw_obj(w);
    bp_plausible_write_common(w, k); /* the members the API shares */
    BP_JW_KEY(w, "at");
    bp_jw_int(w, k->at_ms);
    BP_JW_KEY(w, "version");
    bp_jw_int(w, (int64_t)k->version);
    bp_jw_end(w);
}

void bp_codec_write_check(bp_buf_t *b, const bp_check_t *k) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_check(&w, k);
}

void bp_codec_write_fac(bp_buf_t *b, const bp_facility_t *f) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_fac(&w, f);
}

void bp_codec_write_patch(bp_buf_t *b, const bp_change_t *c) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "at");
    bp_jw_int(&w, c->at_ms);
    if (c->kind == BP_KIND_HOSPITAL) {
        if (bp_change_bed_types(c)) {
            BP_JW_KEY(&w, "beds");
            bp_jw_obj(&w);
            for (int t = 0; t < BP_BED__COUNT; t++) {
                if (!c->bed_fields[t]) continue;
                bp_jw_key(&w, bp_bed_type_name((bp_bed_type_t)t));
                write_beds_entry(&w, &c->beds[t], &c->icu[t], c->bed_fields[t]);
            }
            bp_jw_end(&w);
        }
        if (c->has_ed) {
            BP_JW_KEY(&w, "ed");
            write_ed(&w, &c->ed);
        }
        if (c->svc_fields) {
            BP_JW_KEY(&w, "services");
            bp_jw_obj(&w);
            for (int k = 0; k < BP_SVC__COUNT; k++) {
                if (!(c->svc_fields & (1u << k))) continue;
                bp_jw_key(&w, bp_service_name((bp_service_t)k));
                write_svc(&w, &c->svc[k]);
            }
            bp_jw_end(&w);
        }
        if (c->has_fac) {
            BP_JW_KEY(&w, "facility");
            write_fac(&w, &c->fac);
        }
        if (c->has_check) {
            BP_JW_KEY(&w, "check");
            write_check(&w, &c->check);
        }
    } else if (c->kind == BP_KIND_INCIDENT) {
        write_inc_fields(&w, c);
    } else {
        write_amb_fields(&w, c);
    }
    bp_jw_end(&w);
}

void bp_codec_write_amb_fields(bp_buf_t *b, const bp_change_t *c) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_amb_fields(&w, c);
}

void bp_codec_write_inc_fields(bp_buf_t *b, const bp_change_t *c) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_inc_fields(&w, c);
}

/* -- hash fields for the apply script --------------------------------------- */

static void pair(bp_stored_pairs_t *p, const char *name, const char *value) {
    p->name[p->n] = name;
    p->value[p->n] = value;
    p->value_len[p->n] = strlen(value);
    p->in_text[p->n] = value == p->text[p->n];
    p->n++;
}

/* An integer as text, in the slot of the next pair. */
static const char *pair_int(bp_stored_pairs_t *p, long long v) {
    snprintf(p->text[p->n], sizeof p->text[p->n], "%lld", v);
    return p->text[p->n];
}

/* A decimal with fixed places, trailing zeros trimmed (as in the stream:
 * bp_json_num), in the slot of the next pair; "" if it does not fit. */
static const char *pair_num(bp_stored_pairs_t *p, double v, int places) {
    char *out = p->text[p->n];
    bp_buf_t b;
    bp_buf_init(&b, 0, sizeof p->text[p->n] - 1);
    bp_json_num(&b, v, places);
    snprintf(out, sizeof p->text[p->n], "%.*s", (int)b.len, b.failed ? "" : bp_buf_data(&b));
    bp_buf_free(&b);
    return out;
}

void bp_codec_stored_pairs(const bp_change_t *c, bp_stored_pairs_t *out) {
    out->n = 0;
    if (c->kind == BP_KIND_INCIDENT) {
        const bp_incident_state_t *n = &c->inc;
        unsigned f = c->inc_fields;
        pair(out, "act", bp_inc_action_name(c->inc_action));
        if (c->inc_action == BP_INC_CREATE) pair(out, "op", pair_int(out, c->at_ms));
        if (f & BP_IF_PRIORITY) pair(out, "priority", pair_int(out, n->priority));
        if (f & BP_IF_CATEGORY) pair(out, "category", bp_category_name(n->category));
        if (f & BP_IF_POSITION) {
            pair(out, "lat", pair_num(out, n->lat, 6));
            pair(out, "lon", pair_num(out, n->lon, 6));
        }
        if (f & BP_IF_ADDRESS) pair(out, "address", n->address);
        if (f & BP_IF_RECEIVED) pair(out, "received", pair_int(out, n->received_ms));
        if (f & BP_IF_UNIT) pair(out, "unit", n->unit);
        if (f & BP_IF_DESTINATION) pair(out, "dest", n->destination);
    } else if (c->kind == BP_KIND_AMBULANCE) {
        const bp_ambulance_state_t *m = &c->amb;
        unsigned f = c->amb_fields;
        if (f & BP_AF_STATUS) pair(out, "status", bp_amb_status_name(m->status));
        if (f & BP_AF_POSITION) {
            pair(out, "lat", pair_num(out, m->lat, 6));
            pair(out, "lon", pair_num(out, m->lon, 6));
        }
        if (f & BP_AF_HEADING) pair(out, "heading", pair_num(out, m->heading, 1));
        if (f & BP_AF_SPEED) pair(out, "speed", pair_num(out, m->speed, 1));
        if (f & BP_AF_DESTINATION) pair(out, "dest", m->destination);
        if (f & BP_AF_INCIDENT) pair(out, "inc", m->incident);
    }
}
