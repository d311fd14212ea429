/* Config files: the registry (hospitals.json, fleet.json), the settings
 * file and the dispatch table (dispatch.json). Strict: unknown keys and
 * broken cross references are errors naming the field. */
#include "bp_codec_config.h"
#include "bp_jsonin.h"
#include "bp_outlook.h"
#include "bp_recommend.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        char path[BP_JSONIN_PATH_MAX];
        snprintf(path, sizeof path, "speed_bands[%d]", i);
        unsigned present;
        if (bp_jsonin_object(b, path, err) || bp_jsonin_keys(b, path, keys, 2, &present, err))
            return -1;
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(b, "from");
        int from = cJSON_IsString(f) ? hhmm(f->valuestring) : -1;
        int prev = i ? out->bands[i - 1].from_min : -1;
        if (from < 0 || (i == 0 && from != 0) || from <= prev)
            return bp_error_set(err, "bad_value", path,
                                "%s.from must be a time \"HH:MM\", the first \"00:00\", each later "
                                "than the one before",
                                path);
        char kp[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(kp, path, "kmh");
        if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(b, "kmh"), kp, 1, 150,
                          &out->bands[i].kmh, err))
            return -1;
        out->bands[i].from_min = from;
        out->n_bands = i + 1;
    }
    return 0;
}

static int services_list(const cJSON *v, const char *p, uint32_t *out, bp_error_t *err) {
    *out = 0;
    if (!cJSON_IsArray(v))
        return bp_error_set(err, "wrong_type", p, "%s must be an array of service names", p);
    for (const cJSON *s = v->child; s; s = s->next) {
        int x = cJSON_IsString(s) ? bp_service_parse(s->valuestring, strlen(s->valuestring)) : -1;
        if (x < 0)
            return bp_error_set(err, "bad_value", p,
                                "%s: unknown service \"%.40s\"; known: " BP_SERVICE_NAMES, p,
                                cJSON_IsString(s) ? s->valuestring : "?");
        if (*out & (1u << x))
            return bp_error_set(err, "duplicate_field", p, "%s lists \"%s\" twice", p,
                                s->valuestring);
        *out |= 1u << x;
    }
    return 0;
}

/* A category's ICU places (bp_place_t names), each at most once. */
static int places_list(const cJSON *v, const char *p, uint32_t *out, bp_error_t *err) {
    *out = 0;
    if (!cJSON_IsArray(v)) return bp_error_set(err, "wrong_type", p, "%s must be a list", p);
    for (const cJSON *s = v->child; s; s = s->next) {
        int x = cJSON_IsString(s) ? bp_place_parse(s->valuestring, strlen(s->valuestring)) : -1;
        if (x < 0)
            return bp_error_set(err, "bad_value", p,
                                "%s: unknown ICU place \"%.40s\"; known: ventilator, ecmo", p,
                                cJSON_IsString(s) ? s->valuestring : "?");
        if (*out & (1u << x))
            return bp_error_set(err, "duplicate_field", p, "%s lists \"%s\" twice", p,
                                s->valuestring);
        *out |= 1u << x;
    }
    return 0;
}

static int parse_need(const cJSON *c, const char *path, bp_need_t *need, bp_error_t *err) {
    static const char *const keys[] = {"beds", "specialties", "services", "needs"};
    unsigned present;
    if (bp_jsonin_object(c, path, err) || bp_jsonin_keys(c, path, keys, 4, &present, err))
        return -1;
    char p[BP_JSONIN_PATH_MAX];
    bp_jsonin_join(p, path, "beds");
    const cJSON *beds = cJSON_GetObjectItemCaseSensitive(c, "beds");
    int nb = cJSON_GetArraySize(beds);
    if (!cJSON_IsArray(beds) || nb < 1 || nb > BP_NEED_BEDS_MAX)
        return bp_error_set(err, "bad_value", p, "%s must list 1 to %d bed types", p,
                            BP_NEED_BEDS_MAX);
    need->n_beds = 0;
    for (const cJSON *b = beds->child; b; b = b->next) {
        int t = cJSON_IsString(b) ? bp_bed_type_parse(b->valuestring, strlen(b->valuestring)) : -1;
        if (t < 0) return bp_error_set(err, "bad_value", p, "%s: unknown bed type", p);
        need->beds[need->n_beds++] = t;
    }
    bp_jsonin_join(p, path, "specialties");
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(c, "specialties");
    if (!cJSON_IsArray(sp)) return bp_error_set(err, "wrong_type", p, "%s must be a list", p);
    need->specialties = 0;
    for (const cJSON *s = sp->child; s; s = s->next) {
        int x = cJSON_IsString(s) ? bp_specialty_parse(s->valuestring, strlen(s->valuestring)) : -1;
        if (x < 0) return bp_error_set(err, "bad_value", p, "%s: unknown specialty", p);
        need->specialties |= 1u << x;
    }
    /* the services it needs: one reported unavailable diverts (bp_recommend.h) */
    bp_jsonin_join(p, path, "services");
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(c, "services");
    need->services = 0;
    if (sv && services_list(sv, p, &need->services, err)) return -1;
    /* the ICU places it needs: none free costs no_icu_place (bp_recommend.h) */
    bp_jsonin_join(p, path, "needs");
    const cJSON *nd = cJSON_GetObjectItemCaseSensitive(c, "needs");
    need->places = 0;
    return nd ? places_list(nd, p, &need->places, err) : 0;
}

static int parse_alert_cfg(const cJSON *a, bp_alert_cfg_t *out, bp_error_t *err) {
    static const char *const keys[] = {"level4",
                                       "diversion",
                                       "stale_feed",
                                       "icu_adult_free_below",
                                       "handover_over_min",
                                       "incident_unassigned_min",
                                       "facility",
                                       "full_within_h"};
    unsigned present;
    if (bp_jsonin_object(a, "alerts", err) || bp_jsonin_keys(a, "alerts", keys, 8, &present, err))
        return -1;
    bool *flags[] = {&out->level4, &out->diversion, &out->stale_feed, &out->facility};
    static const int flag_keys[] = {0, 1, 2, 6}; /* "facility" came after the numbers */
    for (int k = 0; k < 4; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[flag_keys[k]]);
        if (!x) continue;
        char p[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(p, "alerts", keys[flag_keys[k]]);
        if (!cJSON_IsBool(x))
            return bp_error_set(err, "wrong_type", p, "%s must be true or false", p);
        *flags[k] = cJSON_IsTrue(x);
    }
    int *nums[] = {&out->icu_adult_free_below, &out->handover_over_min,
                   &out->incident_unassigned_min, &out->full_within_h};
    static const int num_keys[] = {3, 4, 5, 7};
    for (int k = 0; k < 4; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[num_keys[k]]);
        if (!x) continue;
        char p[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(p, "alerts", keys[num_keys[k]]);
        int64_t v; /* full_within_h: within the outlook's 24 hours */
        if (bp_jsonin_int(x, p, 0, num_keys[k] == 7 ? BP_OUTLOOK_HORIZON : 100000, &v, err))
            return -1;
        *nums[k] = (int)v;
    }
    return 0;
}

/* One plausibility rule: {"enabled":bool, <its numbers>} with only its keys. */
static int plaus_rule(const cJSON *o, const char *rule, const char *const *keys, size_t n,
                      bool *enabled, bp_error_t *err) {
    char q[BP_JSONIN_PATH_MAX], p[BP_JSONIN_PATH_MAX];
    unsigned present;
    bp_jsonin_join(q, "plausibility", rule);
    if (bp_jsonin_object(o, q, err) || bp_jsonin_keys(o, q, keys, n, &present, err)) return -1;
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "enabled");
    if (!x) return 0;
    bp_jsonin_join(p, q, "enabled");
    if (!cJSON_IsBool(x)) return bp_error_set(err, "wrong_type", p, "%s must be true or false", p);
    *enabled = cJSON_IsTrue(x);
    return 0;
}

/* An integer of a plausibility rule, within [lo, hi], into *out. */
static int plaus_int(const cJSON *o, const char *rule, const char *key, int lo, int hi, int *out,
                     bp_error_t *err) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!x) return 0;
    char p[BP_JSONIN_PATH_MAX], q[BP_JSONIN_PATH_MAX];
    bp_jsonin_join(q, "plausibility", rule);
    bp_jsonin_join(p, q, key);
    int64_t v;
    if (bp_jsonin_int(x, p, lo, hi, &v, err)) return -1;
    *out = (int)v;
    return 0;
}

/* "plausibility": {"drop":{..},"over_staffed":{..},"all_zero":{..}} */
static int parse_plaus_cfg(const cJSON *a, bp_plaus_cfg_t *out, bp_error_t *err) {
    static const char *const rules[] = {"drop", "over_staffed", "all_zero"};
    static const char *const drop_keys[] = {"enabled", "pct", "within_min", "min_beds"};
    static const char *const over_keys[] = {"enabled", "factor"};
    static const char *const zero_keys[] = {"enabled"};
    unsigned present;
    if (bp_jsonin_object(a, "plausibility", err) ||
        bp_jsonin_keys(a, "plausibility", rules, 3, &present, err))
        return -1;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(a, "drop");
    if (d && (plaus_rule(d, "drop", drop_keys, 4, &out->drop, err) ||
              plaus_int(d, "drop", "pct", 1, 100, &out->drop_pct, err) ||
              plaus_int(d, "drop", "within_min", 1, 1440, &out->drop_within_min, err) ||
              plaus_int(d, "drop", "min_beds", 1, BP_BEDS_MAX, &out->drop_min_beds, err)))
        return -1;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(a, "over_staffed");
    if (o) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "factor");
        if (plaus_rule(o, "over_staffed", over_keys, 2, &out->over_staffed, err) ||
            (f &&
             bp_jsonin_num(f, "plausibility.over_staffed.factor", 1, 100, &out->over_factor, err)))
            return -1;
    }
    const cJSON *z = cJSON_GetObjectItemCaseSensitive(a, "all_zero");
    return z ? plaus_rule(z, "all_zero", zero_keys, 1, &out->all_zero, err) : 0;
}

int bp_codec_parse_dispatch(const char *json, size_t len, bp_dispatch_cfg_t *out, bp_error_t *err) {
    static const char *const keys[] = {
        "note",          "detour_factor",    "utc_offset_min", "speed_bands", "diversion_extra_min",
        "penalties_min", "sister_bonus_min", "categories",     "alerts",      "plausibility"};
    static const char *const pkeys[] = {"no_capacity", "no_specialty", "central_by_priority",
                                        "late",        "stale",        "limited_service",
                                        "no_icu_place"};
    int rc = -1;
    cJSON *root = bp_jsonin_parse(json, len, err);
    if (!root) return -1;
    unsigned present;
    if (bp_jsonin_object(root, "", err) || bp_jsonin_keys(root, "", keys, 10, &present, err))
        goto out;
    const cJSON *v;
    int64_t i64;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "alerts")) &&
        parse_alert_cfg(v, &out->alerts, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "plausibility")) &&
        parse_plaus_cfg(v, &out->plausibility, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "detour_factor")) &&
        bp_jsonin_num(v, "detour_factor", 1, 5, &out->detour_factor, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "utc_offset_min"))) {
        if (bp_jsonin_int(v, "utc_offset_min", -720, 840, &i64, err)) goto out;
        out->utc_offset_min = (int)i64;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "speed_bands")) && parse_bands(v, out, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "diversion_extra_min")) &&
        bp_jsonin_num(v, "diversion_extra_min", 0, 240, &out->diversion_extra_min, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "sister_bonus_min")) &&
        bp_jsonin_num(v, "sister_bonus_min", 0, 120, &out->sister_bonus_min, err))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "penalties_min"))) {
        if (bp_jsonin_object(v, "penalties_min", err) ||
            bp_jsonin_keys(v, "penalties_min", pkeys, 7, &present, err))
            goto out;
        double *dst[] = {&out->no_capacity_penalty_min,
                         &out->no_specialty_penalty_min,
                         NULL,
                         &out->late_penalty_min,
                         &out->stale_penalty_min,
                         &out->limited_service_penalty_min,
                         &out->no_icu_place_penalty_min};
        for (int k = 0; k < 7; k++) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, pkeys[k]);
            char p[BP_JSONIN_PATH_MAX];
            bp_jsonin_join(p, "penalties_min", pkeys[k]);
            if (!x) continue;
            if (dst[k]) {
                if (bp_jsonin_num(x, p, 0, 240, dst[k], err)) goto out;
                continue;
            }
            if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 3) {
                bp_error_set(err, "bad_value", p, "%s must list 3 numbers (priority 1, 2, 3)", p);
                goto out;
            }
            int j = 0;
            for (const cJSON *e = x->child; e; e = e->next, j++)
                if (bp_jsonin_num(e, p, 0, 240, &out->central_penalty_min[j], err)) goto out;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "categories"))) {
        if (bp_jsonin_object(v, "categories", err)) goto out;
        for (const cJSON *c = v->child; c; c = c->next) {
            char p[BP_JSONIN_PATH_MAX];
            bp_jsonin_join(p, "categories", c->string);
            int cat = bp_category_parse(c->string, strlen(c->string));
            if (cat < 0) {
                bp_error_set(err, "unknown_field", p,
                             "%s: unknown category (trauma, stroke, cardiac, obstetric, pediatric, "
                             "burn, respiratory, psychiatric, other)",
                             p);
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

/* -- registry files ------------------------------------------------------ */

static int read_name(const cJSON *v, const char *path, bp_name_t *out, bp_error_t *err) {
    static const char *const keys[] = {"vi", "en"};
    unsigned present;
    if (bp_jsonin_object(v, path, err) || bp_jsonin_keys(v, path, keys, 2, &present, err))
        return -1;
    if (present != 3) {
        char p[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(p, path, present & 1 ? "en" : "vi");
        return bp_error_set(err, "missing_field", p, "%s is required", p);
    }
    char p[BP_JSONIN_PATH_MAX];
    bp_jsonin_join(p, path, "vi");
    if (bp_jsonin_text(cJSON_GetObjectItemCaseSensitive(v, "vi"), p, BP_NAME_MAX, out->vi,
                       sizeof out->vi, err))
        return -1;
    bp_jsonin_join(p, path, "en");
    return bp_jsonin_text(cJSON_GetObjectItemCaseSensitive(v, "en"), p, BP_NAME_MAX, out->en,
                          sizeof out->en, err);
}

static int read_slug(const cJSON *v, const char *path, char *out, bp_error_t *err) {
    if (!cJSON_IsString(v) || !bp_is_slug(v->valuestring, strlen(v->valuestring)))
        return bp_error_set(err, "bad_value", path,
                            "%s must be an id of 1 to 48 characters [a-z0-9-]", path);
    snprintf(out, BP_ID_MAX + 1, "%s", v->valuestring);
    return 0;
}

static const cJSON *need(const cJSON *obj, const char *path, const char *key, bp_error_t *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        char p[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(p, path, key);
        bp_error_set(err, "missing_field", p, "%s is required", p);
    }
    return v;
}

/* The required keys, then the optional ones. */
static const char *const hosp_keys[] = {
    "id",   "name",        "tier",    "district", "lat",
    "lon",  "specialties", "sister",  "phone",    "report_interval_s",
    "beds", "have_id",     "services"};
#define N_HOSP_KEYS     (sizeof hosp_keys / sizeof *hosp_keys)
#define N_HOSP_REQUIRED 11

static int read_hospital(const cJSON *h, const char *path, bp_registry_t *reg,
                         bp_hospital_info_t *out, char *sister, bp_error_t *err) {
    unsigned present;
    char p[BP_JSONIN_PATH_MAX];
    if (bp_jsonin_object(h, path, err) ||
        bp_jsonin_keys(h, path, hosp_keys, N_HOSP_KEYS, &present, err))
        return -1;
    for (size_t i = 0; i < N_HOSP_REQUIRED; i++)
        if (!need(h, path, hosp_keys[i], err)) return -1;
    memset(out, 0, sizeof *out);
    bp_jsonin_join(p, path, "id");
    if (read_slug(cJSON_GetObjectItemCaseSensitive(h, "id"), p, out->id, err)) return -1;
    bp_jsonin_join(p, path, "name");
    if (read_name(cJSON_GetObjectItemCaseSensitive(h, "name"), p, &out->name, err)) return -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, "tier");
    int tier = cJSON_IsString(v) ? bp_tier_parse(v->valuestring, strlen(v->valuestring)) : -1;
    bp_jsonin_join(p, path, "tier");
    if (tier < 0)
        return bp_error_set(err, "bad_value", p, "%s must be central, city, district or private",
                            p);
    out->tier = (bp_tier_t)tier;
    v = cJSON_GetObjectItemCaseSensitive(h, "district");
    bp_jsonin_join(p, path, "district");
    out->district =
        cJSON_IsString(v) ? bp_registry_district(reg, v->valuestring, strlen(v->valuestring)) : -1;
    if (out->district < 0)
        return bp_error_set(err, "unknown_district", p, "%s must be a key of \"districts\"", p);
    bp_jsonin_join(p, path, "lat");
    if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(h, "lat"), p, -90, 90, &out->lat, err))
        return -1;
    bp_jsonin_join(p, path, "lon");
    if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(h, "lon"), p, -180, 180, &out->lon, err))
        return -1;
    v = cJSON_GetObjectItemCaseSensitive(h, "specialties");
    bp_jsonin_join(p, path, "specialties");
    if (!cJSON_IsArray(v))
        return bp_error_set(err, "wrong_type", p, "%s must be an array of specialty names", p);
    for (const cJSON *s = v->child; s; s = s->next) {
        int sp =
            cJSON_IsString(s) ? bp_specialty_parse(s->valuestring, strlen(s->valuestring)) : -1;
        if (sp < 0)
            return bp_error_set(err, "bad_value", p, "%s: unknown specialty \"%.40s\"", p,
                                cJSON_IsString(s) ? s->valuestring : "?");
        if (out->specialties & (1u << sp))
            return bp_error_set(err, "duplicate_field", p, "%s lists \"%s\" twice", p,
                                s->valuestring);
        out->specialties |= 1u << sp;
    }
    v = cJSON_GetObjectItemCaseSensitive(h, "sister");
    bp_jsonin_join(p, path, "sister");
    sister[0] = '\0';
    if (!cJSON_IsNull(v) && read_slug(v, p, sister, err)) return -1;
    bp_jsonin_join(p, path, "phone");
    if (bp_jsonin_text(cJSON_GetObjectItemCaseSensitive(h, "phone"), p, BP_PHONE_MAX, out->phone,
                       sizeof out->phone, err))
        return -1;
    int64_t iv;
    bp_jsonin_join(p, path, "report_interval_s");
    if (bp_jsonin_int(cJSON_GetObjectItemCaseSensitive(h, "report_interval_s"), p,
                      BP_INTERVAL_MIN_S, BP_INTERVAL_MAX_S, &iv, err))
        return -1;
    out->report_interval_s = (int32_t)iv;
    /* the id partner systems use in EDXL-HAVE (xnl:ID), when not ours */
    v = cJSON_GetObjectItemCaseSensitive(h, "have_id");
    bp_jsonin_join(p, path, "have_id");
    if (v &&
        (!cJSON_IsString(v) || !bp_registry_is_have_id(v->valuestring, strlen(v->valuestring))))
        return bp_error_set(err, "bad_value", p,
                            "%s must be 1 to %d characters of [A-Za-z0-9._:/-] (the hospital's "
                            "EDXL-HAVE xnl:ID)",
                            p, BP_HAVE_ID_MAX);
    if (v) snprintf(out->have_id, sizeof out->have_id, "%s", v->valuestring);
    /* the services it has (CT, cath lab, ...): only these can be reported */
    v = cJSON_GetObjectItemCaseSensitive(h, "services");
    bp_jsonin_join(p, path, "services");
    if (v && services_list(v, p, &out->services, err)) return -1;
    v = cJSON_GetObjectItemCaseSensitive(h, "beds");
    bp_jsonin_join(p, path, "beds");
    if (bp_jsonin_object(v, p, err)) return -1;
    static const char *const bkeys[] = {"staffed", "surge24"};
    for (const cJSON *b = v->child; b; b = b->next) {
        char bp[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(bp, p, b->string);
        int t = bp_bed_type_parse(b->string, strlen(b->string));
        if (t < 0) return bp_error_set(err, "unknown_bed_type", bp, "unknown bed type in %s", bp);
        if (out->beds_mask & (1u << t))
            return bp_error_set(err, "duplicate_field", bp, "%s appears more than once", bp);
        unsigned bpres;
        if (bp_jsonin_object(b, bp, err) || bp_jsonin_keys(b, bp, bkeys, 2, &bpres, err)) return -1;
        if (bpres != 3)
            return bp_error_set(err, "missing_field", bp, "%s needs staffed and surge24", bp);
        char fp[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(fp, bp, "staffed");
        if (bp_jsonin_int(cJSON_GetObjectItemCaseSensitive(b, "staffed"), fp, 0, BP_BEDS_MAX, &iv,
                          err))
            return -1;
        out->staffed[t] = (int32_t)iv;
        bp_jsonin_join(fp, bp, "surge24");
        if (bp_jsonin_int(cJSON_GetObjectItemCaseSensitive(b, "surge24"), fp, 0, BP_BEDS_MAX, &iv,
                          err))
            return -1;
        out->surge24[t] = (int32_t)iv;
        out->beds_mask |= 1u << t;
    }
    out->sister = -1;
    return 0;
}

static int check_top(const cJSON *root, const char *const *keys, size_t n, bp_error_t *err) {
    unsigned present;
    if (bp_jsonin_object(root, "", err) || bp_jsonin_keys(root, "", keys, n, &present, err))
        return -1;
    return 0;
}

int bp_codec_parse_hospitals(const char *json, size_t len, bp_registry_t *reg, bp_error_t *err) {
    static const char *const top[] = {"note", "districts", "hospitals"};
    int rc = -1;
    char(*sisters)[BP_ID_MAX + 1] = NULL;
    cJSON *root = bp_jsonin_parse(json, len, err);
    if (!root || check_top(root, top, 3, err)) goto out;
    const cJSON *d = need(root, "", "districts", err);
    const cJSON *hs = d ? need(root, "", "hospitals", err) : NULL;
    if (!hs) goto out;
    if (bp_jsonin_object(d, "districts", err)) goto out;
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
        char p[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(p, "districts", it->string);
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
        char p[BP_JSONIN_PATH_MAX];
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
            char p[BP_JSONIN_PATH_MAX];
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
        while (j < i && strcmp(reg->hospitals[j].have_id, hid) != 0)
            j++;
        if ((other >= 0 && (size_t)other != i) || j < i) {
            char p[BP_JSONIN_PATH_MAX];
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
    cJSON *root = bp_jsonin_parse(json, len, err);
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
        char p[BP_JSONIN_PATH_MAX], f[BP_JSONIN_PATH_MAX];
        unsigned present;
        snprintf(p, sizeof p, "stations[%zu]", i);
        if (bp_jsonin_object(it, p, err) || bp_jsonin_keys(it, p, skeys, 5, &present, err))
            goto out;
        for (int k = 0; k < 5; k++)
            if (!need(it, p, skeys[k], err)) goto out;
        bp_station_t *s = &reg->stations[i];
        bp_jsonin_join(f, p, "id");
        if (read_slug(cJSON_GetObjectItemCaseSensitive(it, "id"), f, s->id, err)) goto out;
        bp_jsonin_join(f, p, "name");
        if (read_name(cJSON_GetObjectItemCaseSensitive(it, "name"), f, &s->name, err)) goto out;
        const cJSON *dv = cJSON_GetObjectItemCaseSensitive(it, "district");
        s->district = cJSON_IsString(dv)
                          ? bp_registry_district(reg, dv->valuestring, strlen(dv->valuestring))
                          : -1;
        bp_jsonin_join(f, p, "district");
        if (s->district < 0) {
            bp_error_set(err, "unknown_district", f, "%s must be a known district", f);
            goto out;
        }
        bp_jsonin_join(f, p, "lat");
        if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(it, "lat"), f, -90, 90, &s->lat, err))
            goto out;
        bp_jsonin_join(f, p, "lon");
        if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(it, "lon"), f, -180, 180, &s->lon, err))
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
        char p[BP_JSONIN_PATH_MAX], f[BP_JSONIN_PATH_MAX];
        unsigned present;
        snprintf(p, sizeof p, "ambulances[%zu]", i);
        if (bp_jsonin_object(it, p, err) || bp_jsonin_keys(it, p, ukeys, 2, &present, err))
            goto out;
        if (!need(it, p, "id", err) || !need(it, p, "station", err)) goto out;
        bp_unit_t *u = &reg->units[i];
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(it, "id");
        bp_jsonin_join(f, p, "id");
        if (!cJSON_IsString(idv) || !bp_is_callsign(idv->valuestring, strlen(idv->valuestring))) {
            bp_error_set(err, "bad_value", f, "%s must be a call sign [A-Za-z0-9-]{1,32}", f);
            goto out;
        }
        snprintf(u->id, sizeof u->id, "%s", idv->valuestring);
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(it, "station");
        u->station = cJSON_IsString(sv)
                         ? bp_registry_station(reg, sv->valuestring, strlen(sv->valuestring))
                         : -1;
        bp_jsonin_join(f, p, "station");
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
    cJSON *root = bp_jsonin_parse(json, len, err);
    if (!root || bp_jsonin_object(root, "", err)) goto out;
    for (const cJSON *sec = root->child; sec; sec = sec->next) {
        if (strcmp(sec->string, "note") == 0 && cJSON_IsString(sec)) continue;
        if (!cJSON_IsObject(sec)) {
            bp_error_set(err, "wrong_type", sec->string, "settings section %.40s must be an object",
                         sec->string);
            goto out;
        }
        for (const cJSON *k = sec->child; k; k = k->next) {
            char key[BP_JSONIN_PATH_MAX], num[32];
            bp_jsonin_join(key, sec->string, k->string);
            /* a string goes to its rule whole: a copy cut to the setting's
             * size would pass an over-long value silently shortened */
            const char *val = k->valuestring;
            if (cJSON_IsNumber(k) && isfinite(k->valuedouble)) {
                snprintf(num, sizeof num, "%.17g", k->valuedouble);
                val = num;
            } else if (!cJSON_IsString(k)) {
                bp_error_set(err, "wrong_type", key, "setting %s must be a string or a number",
                             key);
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
