/* FHIR R4 Location, MeasureReport and Bundle: writer and reader (bp_fhir.h). */
#include "bp_fhir.h"
#include "bp_interop.h"
#include "bp_jw.h"
#include "bp_time.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define GROUPS_MAX      64  /* per MeasureReport */
#define POPULATIONS_MAX 32  /* per group */
#define PBUF            160 /* a JSON path in a message: the prefix cut at 100 bytes */

/* -- writer ------------------------------------------------------------------ */

static void coding(bp_jw_t *w, const char *system, const char *code, const char *display) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "system");
    bp_jw_cstr(w, system);
    BP_JW_KEY(w, "code");
    bp_jw_cstr(w, code);
    if (display) {
        BP_JW_KEY(w, "display");
        bp_jw_cstr(w, display);
    }
    bp_jw_end(w);
}

static void hospital_identifier(bp_jw_t *w, const char *id) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "system");
    bp_jw_cstr(w, BP_FHIR_HOSPITAL);
    BP_JW_KEY(w, "value");
    bp_jw_cstr(w, id);
    bp_jw_end(w);
}

/* {["reference":..,]"identifier":{..},"display":..} */
static void hospital_reference(bp_jw_t *w, const bp_hospital_info_t *info, const char *ref) {
    bp_jw_obj(w);
    if (ref) {
        BP_JW_KEY(w, "reference");
        bp_jw_cstr(w, ref);
    }
    BP_JW_KEY(w, "identifier");
    hospital_identifier(w, info->id);
    BP_JW_KEY(w, "display");
    bp_jw_cstr(w, info->name.vi);
    bp_jw_end(w);
}

/* {"url":url,"valueCode"|"valueString"|"valueDateTime":v}: an extension or
 * a complex extension's part. */
static void ext(bp_jw_t *w, const char *url, const char *kind, const char *v) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "url");
    bp_jw_cstr(w, url);
    bp_jw_key(w, kind);
    bp_jw_cstr(w, v);
    bp_jw_end(w);
}

/* The facility as the hospital reported it (a complex extension: status,
 * reason, power, oxygen, water — the parts it named). Location.status and
 * operationalStatus say what a consumer without the extension needs. */
static void facility_extension(bp_jw_t *w, const bp_facility_t *f) {
    BP_JW_KEY(w, "extension");
    bp_jw_arr(w);
    bp_jw_obj(w);
    BP_JW_KEY(w, "url");
    bp_jw_cstr(w, BP_FHIR_EXT_FACILITY);
    BP_JW_KEY(w, "extension");
    bp_jw_arr(w);
    ext(w, "status", "valueCode", bp_fac_status_name(f->status));
    if (f->reason[0]) ext(w, "reason", "valueString", f->reason);
    for (int u = 0; u < BP_UTIL__COUNT; u++) {
        const char *v = bp_utility_value_name((bp_utility_t)u, f->util[u]);
        if (v) ext(w, bp_utility_name((bp_utility_t)u), "valueCode", v);
    }
    bp_jw_end(w);
    bp_jw_end(w);
    bp_jw_end(w);
}

static void write_location(bp_jw_t *w, const bp_state_t *st, size_t i, int64_t now_ms) {
    const bp_registry_t *r = bp_state_registry(st);
    const bp_hospital_info_t *info = &r->hospitals[i];
    const bp_hospital_state_t *h = bp_state_hospital(st, i);
    bp_jw_obj(w);
    BP_JW_KEY(w, "resourceType");
    bp_jw_cstr(w, "Location");
    BP_JW_KEY(w, "id");
    bp_jw_cstr(w, info->id);
    BP_JW_KEY(w, "identifier");
    bp_jw_arr(w);
    hospital_identifier(w, info->id);
    bp_jw_end(w);
    if (h->fac_reported) facility_extension(w, &h->fac);
    /* R4: suspended = "temporarily closed" */
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, h->fac_reported && h->fac.status == BP_FAC_CLOSED ? "suspended" : "active");
    const char *display, *op = bp_interop_fhir_opstatus(h, now_ms, &display);
    if (op) {
        BP_JW_KEY(w, "operationalStatus");
        coding(w, BP_FHIR_OPSTATUS, op, display);
    }
    BP_JW_KEY(w, "name");
    bp_jw_cstr(w, info->name.vi);
    BP_JW_KEY(w, "alias");
    bp_jw_arr(w);
    bp_jw_cstr(w, info->name.en);
    bp_jw_end(w);
    BP_JW_KEY(w, "type");
    bp_jw_arr(w);
    bp_jw_obj(w);
    BP_JW_KEY(w, "coding");
    bp_jw_arr(w);
    coding(w, BP_FHIR_ROLECODE, "HOSP", "Hospital");
    bp_jw_end(w);
    bp_jw_end(w);
    bp_jw_end(w);
    if (info->phone[0]) {
        BP_JW_KEY(w, "telecom");
        bp_jw_arr(w);
        bp_jw_obj(w);
        BP_JW_KEY(w, "system");
        bp_jw_cstr(w, "phone");
        BP_JW_KEY(w, "value");
        bp_jw_cstr(w, info->phone);
        bp_jw_end(w);
        bp_jw_end(w);
    }
    BP_JW_KEY(w, "address");
    bp_jw_obj(w);
    BP_JW_KEY(w, "district");
    bp_jw_cstr(w, r->districts[info->district].name.vi);
    bp_jw_end(w);
    BP_JW_KEY(w, "position");
    bp_jw_obj(w);
    BP_JW_KEY(w, "longitude");
    bp_jw_num(w, info->lon, 6);
    BP_JW_KEY(w, "latitude");
    bp_jw_num(w, info->lat, 6);
    bp_jw_end(w);
    bp_jw_end(w);
}

void bp_fhir_write_location(bp_buf_t *b, const bp_state_t *st, size_t i, int64_t now_ms) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_location(&w, st, i, now_ms);
}

static void population(bp_jw_t *w, const char *system, const char *code, bool initial,
                       int64_t count) {
    if (count < 0) return; /* unknown: not reported (absent = not known) */
    bp_jw_obj(w);
    BP_JW_KEY(w, "code");
    bp_jw_obj(w);
    BP_JW_KEY(w, "coding");
    bp_jw_arr(w);
    coding(w, system, code, NULL);
    if (initial) coding(w, BP_FHIR_POPULATION, "initial-population", NULL);
    bp_jw_end(w);
    bp_jw_end(w);
    BP_JW_KEY(w, "count");
    bp_jw_int(w, count);
    bp_jw_end(w);
}

/* {"code":{"coding":[...]},"population":[ -- the caller writes the codings
 * and the populations between, then closes both with group_end. */
static void group_codes(bp_jw_t *w) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "code");
    bp_jw_obj(w);
    BP_JW_KEY(w, "coding");
    bp_jw_arr(w);
}

static void group_populations(bp_jw_t *w) {
    bp_jw_end(w);
    bp_jw_end(w);
    BP_JW_KEY(w, "population");
    bp_jw_arr(w);
}

static void group_end(bp_jw_t *w) {
    bp_jw_end(w);
    bp_jw_end(w);
}

static void write_report(bp_jw_t *w, const bp_state_t *st, size_t i) {
    const bp_registry_t *r = bp_state_registry(st);
    const bp_hospital_info_t *info = &r->hospitals[i];
    const bp_hospital_state_t *h = bp_state_hospital(st, i);
    char when[32], ref[BP_ID_MAX + 16];
    bp_time_format(h->at_ms, when);
    bp_jw_obj(w);
    BP_JW_KEY(w, "resourceType");
    bp_jw_cstr(w, "MeasureReport");
    BP_JW_KEY(w, "id");
    snprintf(ref, sizeof ref, "beds-%s", info->id);
    bp_jw_cstr(w, ref);
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, "complete");
    BP_JW_KEY(w, "type");
    bp_jw_cstr(w, "summary");
    BP_JW_KEY(w, "measure");
    bp_jw_cstr(w, BP_FHIR_MEASURE);
    BP_JW_KEY(w, "subject");
    snprintf(ref, sizeof ref, "Location/%s", info->id);
    hospital_reference(w, info, ref);
    BP_JW_KEY(w, "date");
    bp_jw_cstr(w, when);
    BP_JW_KEY(w, "reporter");
    hospital_reference(w, info, NULL);
    BP_JW_KEY(w, "period");
    bp_jw_obj(w);
    BP_JW_KEY(w, "start");
    bp_jw_cstr(w, when);
    BP_JW_KEY(w, "end");
    bp_jw_cstr(w, when);
    bp_jw_end(w);
    BP_JW_KEY(w, "group");
    bp_jw_arr(w);
    /* SANER's totals, for consumers that know only SANER */
    group_codes(w);
    coding(w, BP_SANER_GROUPS, "Beds", "Beds");
    group_populations(w);
    for (int s = 0; s < BP_SANER__COUNT; s++)
        population(w, BP_SANER_VALUES, bp_interop_saner_code((bp_saner_t)s), true,
                   bp_interop_saner_value(h, (bp_saner_t)s));
    group_end(w);
    /* SANER's ventilators: the ICU places able to ventilate invasively */
    int64_t vent[2] = {0, 0};
    bool any = false;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (bp_interop_icu_value(h, t, BP_ICU_VENT_TOTAL) < 0) continue;
        vent[0] += bp_interop_icu_value(h, t, BP_ICU_VENT_TOTAL);
        vent[1] += bp_interop_icu_value(h, t, BP_ICU_VENT_FREE);
        any = true;
    }
    if (any) {
        group_codes(w);
        coding(w, BP_SANER_GROUPS, "Ventilators", "Ventilators");
        group_populations(w);
        population(w, BP_SANER_VALUES, "numVent", true, vent[0]);
        population(w, BP_SANER_VALUES, "numVentUse", true, vent[0] - vent[1]);
        population(w, BP_SANER_VALUES, "numVentAvail", true, vent[1]);
        group_end(w);
    }
    /* every bed type, with what BedPulse knows of it */
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!(h->beds_mask & (1u << t))) continue;
        const bp_bed_interop_t *m = bp_interop_bed((bp_bed_type_t)t);
        const char *name = bp_bed_type_name((bp_bed_type_t)t);
        group_codes(w);
        coding(w, BP_FHIR_BEDTYPES, name, name);
        if (m->role_code) coding(w, BP_FHIR_ROLECODE, m->role_code, m->role_display);
        group_populations(w);
        for (int c = 0; c < BP_COUNT__COUNT; c++)
            population(w, BP_FHIR_COUNTS, bp_interop_count_name((bp_count_t)c), false,
                       bp_interop_count_value(&h->beds[t], (bp_count_t)c));
        for (int k = 0; k < BP_ICU__COUNT; k++)
            population(w, BP_FHIR_ICU, bp_interop_icu_name((bp_icu_count_t)k), false,
                       bp_interop_icu_value(h, t, (bp_icu_count_t)k));
        group_end(w);
    }
    bp_jw_end(w);
    bp_jw_end(w);
}

void bp_fhir_write_report(bp_buf_t *b, const bp_state_t *st, size_t i) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_report(&w, st, i);
}

/* One HealthcareService per service the hospital has (registry), at its
 * Location: the status in effect in an extension (available | limited |
 * unavailable); an unavailable one also as notAvailable (its reason, its
 * expiry as during.end), a limited one's reason as availabilityExceptions. */
static void write_services(bp_jw_t *w, const bp_state_t *st, size_t i, int64_t now_ms) {
    const bp_hospital_info_t *info = &bp_state_registry(st)->hospitals[i];
    const bp_hospital_state_t *h = bp_state_hospital(st, i);
    for (int k = 0; k < BP_SVC__COUNT; k++) {
        if (!(info->services >> k & 1)) continue;
        const char *name = bp_service_name((bp_service_t)k);
        const bp_svc_t *sv = &h->svc[k];
        bp_svc_status_t s = h->svc_mask >> k & 1 ? bp_svc_effective(sv, now_ms) : BP_SVS_AVAILABLE;
        char id[BP_ID_MAX + 32], ref[BP_ID_MAX + 16];
        snprintf(id, sizeof id, "%s-%s", info->id, name);
        for (char *c = id; *c; c++)
            if (*c == '_') *c = '-'; /* FHIR ids: [A-Za-z0-9.-] */
        snprintf(ref, sizeof ref, "Location/%s", info->id);
        bp_jw_obj(w);
        BP_JW_KEY(w, "resource");
        bp_jw_obj(w);
        BP_JW_KEY(w, "resourceType");
        bp_jw_cstr(w, "HealthcareService");
        BP_JW_KEY(w, "id");
        bp_jw_cstr(w, id);
        BP_JW_KEY(w, "extension");
        bp_jw_arr(w);
        ext(w, BP_FHIR_EXT_SERVICE, "valueCode", bp_svc_status_name(s));
        bp_jw_end(w);
        BP_JW_KEY(w, "active");
        bp_jw_bool(w, true);
        BP_JW_KEY(w, "type");
        bp_jw_arr(w);
        bp_jw_obj(w);
        BP_JW_KEY(w, "coding");
        bp_jw_arr(w);
        coding(w, BP_FHIR_SERVICES, name, NULL);
        bp_jw_end(w);
        bp_jw_end(w);
        bp_jw_end(w);
        BP_JW_KEY(w, "location");
        bp_jw_arr(w);
        hospital_reference(w, info, ref);
        bp_jw_end(w);
        BP_JW_KEY(w, "name");
        bp_jw_cstr(w, name);
        if (s == BP_SVS_UNAVAILABLE) {
            BP_JW_KEY(w, "notAvailable");
            bp_jw_arr(w);
            bp_jw_obj(w);
            BP_JW_KEY(w, "description");
            bp_jw_cstr(w, sv->reason[0] ? sv->reason : "unavailable");
            if (sv->until_ms > 0) {
                BP_JW_KEY(w, "during");
                bp_jw_obj(w);
                BP_JW_KEY(w, "end");
                bp_jw_time(w, sv->until_ms);
                bp_jw_end(w);
            }
            bp_jw_end(w);
            bp_jw_end(w);
        } else if (s == BP_SVS_LIMITED && sv->reason[0]) {
            BP_JW_KEY(w, "availabilityExceptions");
            bp_jw_cstr(w, sv->reason);
        }
        bp_jw_end(w);
        bp_jw_end(w);
    }
}

void bp_fhir_write_bundle(bp_buf_t *b, const bp_state_t *st, int only, int64_t now_ms) {
    const bp_registry_t *r = bp_state_registry(st);
    char now[32];
    bp_time_format(now_ms, now);
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "resourceType");
    bp_jw_cstr(&w, "Bundle");
    BP_JW_KEY(&w, "id");
    bp_jw_cstr(&w, "bedpulse-beds");
    BP_JW_KEY(&w, "type");
    bp_jw_cstr(&w, "collection");
    BP_JW_KEY(&w, "timestamp");
    bp_jw_cstr(&w, now);
    BP_JW_KEY(&w, "entry");
    bp_jw_arr(&w);
    for (size_t i = 0; i < r->n_hospitals; i++) {
        if (only >= 0 && (size_t)only != i) continue;
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "resource");
        write_location(&w, st, i, now_ms);
        bp_jw_end(&w);
        write_services(&w, st, i, now_ms);
        if (!bp_state_hospital(st, i)->at_ms) continue;
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "resource");
        write_report(&w, st, i);
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    bp_jw_end(&w);
}

/* -- reader ------------------------------------------------------------------ */

typedef struct {
    const bp_registry_t *reg;
    int64_t now_ms, skew_ms;
    bp_import_t *im;
    bool noted_saner, noted_other;
} reader_t;

static const cJSON *member(const cJSON *o, const char *name) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
}

static const char *string_at(const cJSON *o, const char *name) {
    const cJSON *v = member(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The hospital a subject names, or -1 (with an error recorded). */
static int subject_hospital(reader_t *rd, const cJSON *subject, const char *path) {
    char p[PBUF];
    snprintf(p, sizeof p, "%.100s.subject", path);
    if (!cJSON_IsObject(subject)) {
        bp_import_error(rd->im, "missing_field", p,
                        "%s is required: Reference(Location) with the hospital's identifier", p);
        return -1;
    }
    const char *id = string_at(member(subject, "identifier"), "value");
    const char *ref = string_at(subject, "reference");
    if (!id && ref && strncmp(ref, "Location/", 9) == 0) id = ref + 9;
    if (!id) {
        bp_import_error(rd->im, "missing_field", p,
                        "%s needs identifier.value or reference \"Location/<id>\"", p);
        return -1;
    }
    int h = bp_import_hospital(rd->im, rd->reg, id, strlen(id));
    if (h < 0)
        bp_import_error(rd->im, "unknown_hospital", p,
                        "%s: no hospital with id or have_id \"%.64s\"", p, id);
    return h;
}

/* A group's bed type: its BedPulse type, -2 for SANER's Beds group (to be
 * skipped), -1 on error (recorded). */
static int group_type(reader_t *rd, const cJSON *group, const char *path) {
    char p[PBUF];
    snprintf(p, sizeof p, "%.100s.code", path);
    const cJSON *codings = member(member(group, "code"), "coding");
    if (!cJSON_IsArray(codings)) {
        bp_import_error(rd->im, "missing_field", p, "%s.coding is required: the bed type", p);
        return -1;
    }
    bool saner = false;
    for (const cJSON *c = codings->child; c; c = c->next) {
        const char *system = string_at(c, "system"), *code = string_at(c, "code");
        int t = bp_interop_fhir_bed_parse(system, code);
        if (t >= 0) return t;
        if (system && strcmp(system, BP_SANER_GROUPS) == 0) saner = true;
    }
    if (saner) return -2;
    bp_import_error(rd->im, "unknown_bed_type", p,
                    "%s: no bed type BedPulse knows (codes of " BP_FHIR_BEDTYPES
                    ", or v3-RoleCode ICU PEDICU PEDNICU ER HU PEDU PHU)",
                    p);
    return -1;
}

/* Reads a group's populations into counts[] and the intensive-care
 * figures into icu[] (-1 absent). 0, or -1. */
static int group_counts(reader_t *rd, const cJSON *group, const char *path,
                        int64_t counts[BP_COUNT__COUNT], int64_t icu[BP_ICU__COUNT]) {
    for (int c = 0; c < BP_COUNT__COUNT; c++)
        counts[c] = -1;
    for (int c = 0; c < BP_ICU__COUNT; c++)
        icu[c] = -1;
    const cJSON *pops = member(group, "population");
    if (!pops) return 0;
    char p[PBUF];
    if (!cJSON_IsArray(pops) || cJSON_GetArraySize(pops) > POPULATIONS_MAX) {
        snprintf(p, sizeof p, "%.100s.population", path);
        bp_import_error(rd->im, "bad_value", p, "%s must be an array of at most %d populations", p,
                        POPULATIONS_MAX);
        return -1;
    }
    int k = 0;
    for (const cJSON *pop = pops->child; pop; pop = pop->next, k++) {
        snprintf(p, sizeof p, "%.100s.population[%d]", path, k);
        int which = -1;
        const cJSON *codings = member(member(pop, "code"), "coding");
        for (const cJSON *c = cJSON_IsArray(codings) ? codings->child : NULL; c && which < 0;
             c = c->next) {
            const char *system = string_at(c, "system");
            if (system && strcmp(system, BP_FHIR_COUNTS) == 0)
                which = bp_interop_count_parse(string_at(c, "code"));
            int ik = system && strcmp(system, BP_FHIR_ICU) == 0
                         ? bp_interop_icu_parse(string_at(c, "code"))
                         : -1;
            if (ik >= 0) which = BP_COUNT__COUNT + ik;
        }
        if (which < 0) {
            bp_import_error(rd->im, "unknown_field", p,
                            "%s.code: not a BedPulse count (" BP_FHIR_COUNTS
                            ": staffed, occupied, available, overflow, surge24; " BP_FHIR_ICU
                            ": ventilated-total, ventilated-free, ecmo-total, ecmo-free)",
                            p);
            return -1;
        }
        int64_t *dst = which < BP_COUNT__COUNT ? &counts[which] : &icu[which - BP_COUNT__COUNT];
        if (*dst >= 0) {
            bp_import_error(rd->im, "duplicate_field", p, "%s: %s appears twice in this group", p,
                            which < BP_COUNT__COUNT
                                ? bp_interop_count_name((bp_count_t)which)
                                : bp_interop_icu_name((bp_icu_count_t)(which - BP_COUNT__COUNT)));
            return -1;
        }
        const cJSON *n = member(pop, "count");
        if (!n) continue; /* data absent: unknown, left as it is */
        double d = cJSON_IsNumber(n) ? n->valuedouble : -1;
        if (!cJSON_IsNumber(n) || !isfinite(d) || d != floor(d) || d < 0 || d > BP_BEDS_MAX) {
            bp_import_error(rd->im, "out_of_range", p, "%s.count must be an integer from 0 to %d",
                            p, BP_BEDS_MAX);
            return -1;
        }
        *dst = (int64_t)d;
    }
    return 0;
}

/* The bed fields of one type from its counts; the derived ones (available,
 * overflow) must agree with the rest, or stand in for occupied. */
static int counts_to_beds(reader_t *rd, const int64_t c[BP_COUNT__COUNT], const char *path,
                          bp_beds_t *b, uint8_t *fields, bool *at_least) {
    int64_t s = c[BP_COUNT_STAFFED], o = c[BP_COUNT_OCCUPIED], a = c[BP_COUNT_AVAILABLE],
            v = c[BP_COUNT_OVERFLOW];
    *at_least = false;
    if (o < 0 && s >= 0 && v > 0) o = s + v;
    if (o < 0 && s >= 0 && a >= 0) {
        if (a > s) {
            bp_import_error(rd->im, "out_of_range", path, "%s: available %lld exceeds staffed %lld",
                            path, (long long)a, (long long)s);
            return -1;
        }
        o = s - a;
        *at_least = a == 0 && v < 0;
    }
    if (s >= 0 && o >= 0) {
        int64_t want_a = s > o ? s - o : 0, want_v = o > s ? o - s : 0;
        if ((a >= 0 && a != want_a) || (v >= 0 && v != want_v)) {
            bp_import_error(rd->im, "bad_value", path,
                            "%s: available and overflow must agree with staffed %lld and "
                            "occupied %lld (available %lld, overflow %lld)",
                            path, (long long)s, (long long)o, (long long)want_a, (long long)want_v);
            return -1;
        }
    } else if (a >= 0 || v >= 0) {
        bp_import_error(rd->im, "missing_field", path,
                        "%s: available or overflow needs staffed (BedPulse keeps staffed and "
                        "occupied, and derives the rest)",
                        path);
        return -1;
    }
    *fields = 0;
    if (s >= 0) b->staffed = (int32_t)s, *fields |= BP_BF_STAFFED;
    if (o >= 0) {
        if (o > BP_BEDS_MAX) {
            bp_import_error(rd->im, "out_of_range", path, "%s: occupied must be at most %d", path,
                            BP_BEDS_MAX);
            return -1;
        }
        b->occupied = (int32_t)o, *fields |= BP_BF_OCCUPIED;
    }
    if (c[BP_COUNT_SURGE24] >= 0)
        b->surge24 = (int32_t)c[BP_COUNT_SURGE24], *fields |= BP_BF_SURGE24;
    return 0;
}

static void read_report(reader_t *rd, const cJSON *mr, const char *path) {
    size_t errs = rd->im->errs.n;
    char p[PBUF];
    const char *status = string_at(mr, "status");
    if (!status || strcmp(status, "complete") != 0) {
        snprintf(p, sizeof p, "%.100s.status", path);
        bp_import_error(rd->im, "bad_value", p,
                        "%s must be \"complete\": pending or erroneous reports are not applied", p);
        return;
    }
    int h = subject_hospital(rd, member(mr, "subject"), path);
    const char *date = string_at(mr, "date");
    int64_t at = 0;
    snprintf(p, sizeof p, "%.100s.date", path);
    if (!date || bp_time_parse(date, strlen(date), &at)) {
        bp_import_error(rd->im, "bad_time", p,
                        "%s is required: when the figures were true, with a time zone", p);
    } else if (at > rd->now_ms + rd->skew_ms) {
        bp_import_error(rd->im, "out_of_range", p, "%s is more than %lld s in the future", p,
                        (long long)(rd->skew_ms / 1000));
    }
    if (rd->im->errs.n > errs) return;
    bp_import_item_t *it = bp_import_add(rd->im, path);
    if (!it) return;
    it->hospital = h;
    bp_change_t *c = &it->change;
    snprintf(c->id, sizeof c->id, "%s", rd->reg->hospitals[h].id);
    c->at_ms = at;
    const cJSON *groups = member(mr, "group");
    if (!groups) return;
    snprintf(p, sizeof p, "%.100s.group", path);
    if (!cJSON_IsArray(groups) || cJSON_GetArraySize(groups) > GROUPS_MAX) {
        bp_import_error(rd->im, "bad_value", p, "%s must be an array of at most %d groups", p,
                        GROUPS_MAX);
        return;
    }
    int g = 0;
    for (const cJSON *gr = groups->child; gr; gr = gr->next, g++) {
        snprintf(p, sizeof p, "%.100s.group[%d]", path, g);
        int t = group_type(rd, gr, p);
        if (t == -2) {
            if (!rd->noted_saner)
                bp_import_note(rd->im, "SANER groups (Beds, Ventilators) were skipped: their "
                                       "totals are derived from the bed-type groups");
            rd->noted_saner = true;
            continue;
        }
        if (t < 0) return;
        if (c->bed_fields[t]) {
            bp_import_error(rd->im, "duplicate_field", p, "%s: bed type %s appears twice", p,
                            bp_bed_type_name((bp_bed_type_t)t));
            return;
        }
        int64_t counts[BP_COUNT__COUNT], icu[BP_ICU__COUNT];
        bool at_least;
        if (group_counts(rd, gr, p, counts, icu) ||
            counts_to_beds(rd, counts, p, &c->beds[t], &c->bed_fields[t], &at_least))
            return;
        bp_error_t e;
        if (bp_interop_icu_to_change(icu, t, p, c, &e)) {
            bp_import_error(rd->im, e.code, e.field, "%s", e.message);
            return;
        }
        if (at_least) it->at_least |= 1u << t;
    }
}

static void read_resource(reader_t *rd, const cJSON *res, const char *path) {
    const char *type = string_at(res, "resourceType");
    char p[PBUF];
    snprintf(p, sizeof p, "%.100s%sresourceType", path, *path ? "." : "");
    if (!type) {
        bp_import_error(rd->im, "missing_field", p, "%s is required", p);
    } else if (strcmp(type, "MeasureReport") == 0) {
        read_report(rd, res, path);
    } else if (!rd->noted_other) {
        rd->noted_other = true;
        bp_import_note(rd->im,
                       "resources other than MeasureReport (%.32s at %.64s, ...) were "
                       "skipped: only MeasureReports carry figures",
                       type, path);
    }
}

int bp_fhir_parse(const char *json, size_t len, const bp_registry_t *reg, int64_t now_ms,
                  int64_t max_skew_ms, bp_import_t *im) {
    reader_t rd = {reg, now_ms, max_skew_ms, im, false, false};
    if (len == 0 || memchr(json, '\0', len)) {
        bp_import_error(im, "bad_json", "", "the body must be one JSON object (no NUL bytes)");
        return -1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        bp_import_error(im, "bad_json", "", "malformed JSON near byte %ld",
                        at && at >= json && at <= json + len ? (long)(at - json) : -1L);
        return -1;
    }
    while (end && end < json + len && strchr(" \t\r\n", *end))
        end++;
    const char *type = string_at(root, "resourceType");
    if (end && end < json + len) {
        bp_import_error(im, "bad_json", "", "unexpected bytes after the JSON value at byte %ld",
                        (long)(end - json));
    } else if (!type) {
        bp_import_error(im, "missing_field", "resourceType",
                        "resourceType is required: a MeasureReport or a Bundle of them");
    } else if (strcmp(type, "Bundle") == 0) {
        const cJSON *entries = member(root, "entry");
        const char *btype = string_at(root, "type");
        if (!btype || (strcmp(btype, "collection") && strcmp(btype, "batch") &&
                       strcmp(btype, "transaction") && strcmp(btype, "searchset"))) {
            bp_import_error(im, "bad_value", "type",
                            "Bundle.type must be collection, batch, transaction or searchset");
        } else if (entries && !cJSON_IsArray(entries)) {
            bp_import_error(im, "wrong_type", "entry", "Bundle.entry must be an array");
        } else {
            int i = 0;
            for (const cJSON *e = entries ? entries->child : NULL; e; e = e->next, i++) {
                char p[48];
                snprintf(p, sizeof p, "entry[%d].resource", i);
                const cJSON *res = member(e, "resource");
                if (!res)
                    bp_import_error(im, "missing_field", p, "%s is required", p);
                else
                    read_resource(&rd, res, p);
                if (im->errs.n == BP_ERRORS_MAX) break;
            }
        }
    } else if (strcmp(type, "MeasureReport") == 0) {
        read_report(&rd, root, "MeasureReport");
    } else {
        bp_import_error(im, "bad_value", "resourceType",
                        "resourceType must be MeasureReport or Bundle, got %.40s", type);
    }
    cJSON_Delete(root);
    /* two reports of one hospital in one document cannot both be right */
    for (size_t i = 0; i < im->n && !im->errs.n; i++)
        for (size_t j = 0; j < i; j++)
            if (im->items[i].hospital == im->items[j].hospital) {
                bp_import_error(im, "duplicate_field", im->items[i].path,
                                "%s: hospital %s is already reported at %s", im->items[i].path,
                                reg->hospitals[im->items[i].hospital].id, im->items[j].path);
                break;
            }
    if (im->errs.n) im->n = 0; /* refused whole: nothing to apply */
    return im->errs.n ? -1 : 0;
}
