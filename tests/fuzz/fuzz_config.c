/*
 * libFuzzer harness for the files and variables every program reads at
 * start (io/bp_config.c), through their pure parsers: the first byte picks
 * one, the rest is its text.
 *
 *   0  the settings file (bp_codec_parse_settings): every value it accepts
 *      is one bp_settings_set accepts whole, and reads back the same;
 *   1  BP_* environment variables (bp_settings_apply_env), NUL-separated:
 *      the same, matching each variable to its key by name;
 *   2  config/hospitals.json (bp_codec_parse_hospitals): every id is found
 *      again by its lookup, every reference and figure is within its
 *      bounds, and the registry written back as JSON reads back the same;
 *   3  config/fleet.json (bp_codec_parse_fleet) against the real districts:
 *      the same for stations and ambulances;
 *   4  config/dispatch.json (bp_codec_parse_dispatch): bands in order,
 *      every number within its rule, travel times finite and positive.
 *
 * Refusals carry a readable error; everything allocated is freed (leaks
 * are findings too).
 */
#include "bp_codec_config.h"
#include "bp_config.h"
#include "bp_recommend.h"
#include "bp_registry.h"
#include "bp_settings.h"
#include "fuzz_util.h"
#include "interop_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bp_registry_t *real; /* config/hospitals.json: the districts fleet files name */

static void load_real(void) {
    real = fuzz_registry();
}

/* -- settings --------------------------------------------------------------- */

/* a and b were set from the defaults by the same calls in the same order:
 * byte for byte the same (cheaper than comparing every key by name, which
 * libFuzzer's strcmp hooks make slow). */
static void same_settings(const bp_settings_t *a, const bp_settings_t *b) {
    if (memcmp(a, b, sizeof *a) != 0) abort();
}

/* Every value in s is one its rule accepts, whole. */
static void settings_valid(const bp_settings_t *s) {
    bp_settings_t t;
    bp_settings_defaults(&t);
    for (size_t i = 0; bp_settings_key(i); i++) {
        const char *k = bp_settings_key(i);
        char v[BP_SETTING_STR_MAX + 32];
        bp_error_t err;
        if (bp_settings_get(s, k, v, sizeof v)) abort();
        if (strcmp(v, "***") == 0) continue; /* a secret, shown masked */
        if (bp_settings_set(&t, k, v, &err)) abort();
    }
    bp_error_t err;
    memset(&err, 0xa5, sizeof err);
    if (bp_settings_check(s, &err)) fz_check_error(&err);
}

static void settings_file(const char *in, size_t n) {
    bp_settings_t s, t;
    bp_settings_defaults(&s);
    bp_error_t err;
    memset(&err, 0xa5, sizeof err);
    if (bp_codec_parse_settings(in, n, &s, &err)) {
        fz_check_error(&err);
        return;
    }
    settings_valid(&s);
    /* the same values, set one by one in file order from the text the
     * file holds (no truncation), give the same settings */
    cJSON *root = cJSON_ParseWithLength(in, n);
    if (!root) abort();
    bp_settings_defaults(&t);
    for (const cJSON *sec = root->child; sec; sec = sec->next) {
        if (!cJSON_IsObject(sec)) continue; /* "note" */
        for (const cJSON *k = sec->child; k; k = k->next) {
            char key[256], num[64];
            /* as the parser joins them: no dot after an empty section name */
            snprintf(key, sizeof key, "%s%s%s", sec->string, sec->string[0] ? "." : "", k->string);
            const char *v = k->valuestring;
            if (cJSON_IsNumber(k)) {
                snprintf(num, sizeof num, "%.17g", k->valuedouble);
                v = num;
            }
            if (!v || bp_settings_set(&t, key, v, &err)) abort();
        }
    }
    cJSON_Delete(root);
    same_settings(&s, &t);
}

static void settings_env(const char *in, size_t n) {
    /* the input: variables separated by NUL bytes */
    char *copy = malloc(n + 1);
    char *envp[65];
    size_t ne = 0;
    if (!copy) abort();
    memcpy(copy, in, n);
    copy[n] = '\0';
    for (char *p = copy; p <= copy + n && ne < 64; p += strlen(p) + 1)
        envp[ne++] = p;
    envp[ne] = NULL;
    static const char *const ignore[] = {"BP_SETTINGS", "BP_LOG_LEVEL", NULL};
    bp_settings_t s, t;
    bp_settings_defaults(&s);
    bp_error_t err;
    memset(&err, 0xa5, sizeof err);
    if (bp_settings_apply_env(&s, envp, ignore, &err)) {
        fz_check_error(&err);
        free(copy);
        return;
    }
    settings_valid(&s);
    /* each BP_* variable set its key, found by name */
    bp_settings_defaults(&t);
    for (size_t i = 0; i < ne; i++) {
        const char *e = envp[i], *eq = strchr(e, '=');
        if (strncmp(e, "BP_", 3) != 0 || !eq) continue;
        if ((eq - e == 11 && strncmp(e, "BP_SETTINGS", 11) == 0) ||
            (eq - e == 12 && strncmp(e, "BP_LOG_LEVEL", 12) == 0))
            continue;
        const char *key = NULL;
        for (size_t k = 0; !key && bp_settings_key(k); k++) {
            char name[128] = "BP_";
            size_t j = 3;
            for (const char *c = bp_settings_key(k); *c && j < sizeof name - 1; c++)
                name[j++] = *c == '.' ? '_' : (*c >= 'a' && *c <= 'z' ? (char)(*c - 32) : *c);
            name[j] = '\0';
            if ((size_t)(eq - e) == j && strncmp(e, name, j) == 0) key = bp_settings_key(k);
        }
        if (!key || bp_settings_set(&t, key, eq + 1, &err)) abort();
    }
    same_settings(&s, &t);
    free(copy);
}

/* -- registry --------------------------------------------------------------- */

static bool name_ok(const bp_name_t *nm) {
    return fz_terminated(nm->vi, sizeof nm->vi) && fz_terminated(nm->en, sizeof nm->en) &&
           bp_is_clean_text(nm->vi, strlen(nm->vi), BP_NAME_MAX) &&
           bp_is_clean_text(nm->en, strlen(nm->en), BP_NAME_MAX);
}

static bool slug_ok(const char *id) {
    return fz_terminated(id, BP_ID_MAX + 1) && bp_is_slug(id, strlen(id));
}

static void add_name(cJSON *o, const char *key, const bp_name_t *nm) {
    cJSON *n = cJSON_AddObjectToObject(o, key);
    cJSON_AddStringToObject(n, "vi", nm->vi);
    cJSON_AddStringToObject(n, "en", nm->en);
}

static void add_districts(cJSON *root, const bp_registry_t *r) {
    cJSON *d = cJSON_AddObjectToObject(root, "districts");
    for (size_t i = 0; i < r->n_districts; i++)
        add_name(d, r->districts[i].id, &r->districts[i].name);
}

static char *write_hospitals(const bp_registry_t *r) {
    cJSON *root = cJSON_CreateObject();
    add_districts(root, r);
    cJSON *hs = cJSON_AddArrayToObject(root, "hospitals");
    for (size_t i = 0; i < r->n_hospitals; i++) {
        const bp_hospital_info_t *h = &r->hospitals[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(hs, o);
        cJSON_AddStringToObject(o, "id", h->id);
        add_name(o, "name", &h->name);
        cJSON_AddStringToObject(o, "tier", bp_tier_name(h->tier));
        cJSON_AddStringToObject(o, "district", r->districts[h->district].id);
        cJSON_AddNumberToObject(o, "lat", h->lat);
        cJSON_AddNumberToObject(o, "lon", h->lon);
        cJSON *sp = cJSON_AddArrayToObject(o, "specialties");
        for (int s = 0; s < BP_SPEC__COUNT; s++)
            if (h->specialties & 1u << s)
                cJSON_AddItemToArray(sp, cJSON_CreateString(bp_specialty_name((bp_specialty_t)s)));
        if (h->sister < 0)
            cJSON_AddNullToObject(o, "sister");
        else
            cJSON_AddStringToObject(o, "sister", r->hospitals[h->sister].id);
        cJSON_AddStringToObject(o, "phone", h->phone);
        cJSON_AddNumberToObject(o, "report_interval_s", h->report_interval_s);
        cJSON *beds = cJSON_AddObjectToObject(o, "beds");
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!(h->beds_mask & 1u << t)) continue;
            cJSON *b = cJSON_AddObjectToObject(beds, bp_bed_type_name((bp_bed_type_t)t));
            cJSON_AddNumberToObject(b, "staffed", h->staffed[t]);
            cJSON_AddNumberToObject(b, "surge24", h->surge24[t]);
        }
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s) abort();
    return s;
}

static char *write_fleet(const bp_registry_t *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON *ss = cJSON_AddArrayToObject(root, "stations");
    for (size_t i = 0; i < r->n_stations; i++) {
        const bp_station_t *s = &r->stations[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(ss, o);
        cJSON_AddStringToObject(o, "id", s->id);
        add_name(o, "name", &s->name);
        cJSON_AddStringToObject(o, "district", r->districts[s->district].id);
        cJSON_AddNumberToObject(o, "lat", s->lat);
        cJSON_AddNumberToObject(o, "lon", s->lon);
    }
    cJSON *us = cJSON_AddArrayToObject(root, "ambulances");
    for (size_t i = 0; i < r->n_units; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(us, o);
        cJSON_AddStringToObject(o, "id", r->units[i].id);
        cJSON_AddStringToObject(o, "station", r->stations[r->units[i].station].id);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s) abort();
    return s;
}

/* cJSON writes -0 as 0: positions compare as numbers */
static double z(double x) {
    return x == 0 ? 0 : x;
}

static void hospitals_valid(const bp_registry_t *r) {
    if (!r->n_hospitals || r->n_hospitals > BP_REGISTRY_MAX || r->n_districts > BP_REGISTRY_MAX)
        abort();
    for (size_t i = 0; i < r->n_districts; i++) {
        const bp_district_t *d = &r->districts[i];
        if (!slug_ok(d->id) || !name_ok(&d->name) ||
            bp_registry_district(r, d->id, strlen(d->id)) != (int)i)
            abort();
    }
    for (size_t i = 0; i < r->n_hospitals; i++) {
        const bp_hospital_info_t *h = &r->hospitals[i];
        if (!slug_ok(h->id) || !name_ok(&h->name) ||
            bp_registry_hospital(r, h->id, strlen(h->id)) != (int)i)
            abort();
        if ((unsigned)h->tier >= BP_TIER__COUNT || h->district < 0 ||
            (size_t)h->district >= r->n_districts || !(h->lat >= -90 && h->lat <= 90) ||
            !(h->lon >= -180 && h->lon <= 180) || h->specialties >> BP_SPEC__COUNT ||
            (h->sister != -1 &&
             (h->sister < 0 || (size_t)h->sister >= r->n_hospitals || (size_t)h->sister == i)) ||
            !fz_terminated(h->phone, sizeof h->phone) ||
            !bp_is_clean_text(h->phone, strlen(h->phone), BP_PHONE_MAX) ||
            h->report_interval_s < BP_INTERVAL_MIN_S || h->report_interval_s > BP_INTERVAL_MAX_S ||
            h->beds_mask >> BP_BED__COUNT)
            abort();
        for (int t = 0; t < BP_BED__COUNT; t++) {
            bool has = h->beds_mask & 1u << t;
            if (has ? h->staffed[t] < 0 || h->staffed[t] > BP_BEDS_MAX || h->surge24[t] < 0 ||
                          h->surge24[t] > BP_BEDS_MAX
                    : h->staffed[t] || h->surge24[t])
                abort();
        }
    }
    bp_area_t a;
    bp_registry_area(r, &a);
    if (!(a.lat_min <= a.lat_max && a.lon_min <= a.lon_max)) abort();
    if (bp_registry_staffed_total(r) < 0) abort();
}

static void hospitals(const char *in, size_t n) {
    bp_registry_t r, back;
    memset(&r, 0, sizeof r);
    memset(&back, 0, sizeof back);
    bp_error_t err;
    memset(&err, 0xa5, sizeof err);
    if (bp_codec_parse_hospitals(in, n, &r, &err)) {
        fz_check_error(&err);
        bp_registry_free(&r);
        return;
    }
    hospitals_valid(&r);
    char *s = write_hospitals(&r);
    if (bp_codec_parse_hospitals(s, strlen(s), &back, &err)) abort();
    if (back.n_districts != r.n_districts || back.n_hospitals != r.n_hospitals ||
        memcmp(back.districts, r.districts, r.n_districts * sizeof *r.districts) != 0)
        abort();
    for (size_t i = 0; i < r.n_hospitals; i++) {
        bp_hospital_info_t x = r.hospitals[i], y = back.hospitals[i];
        x.lat = z(x.lat), x.lon = z(x.lon), y.lat = z(y.lat), y.lon = z(y.lon);
        if (memcmp(&x, &y, sizeof x) != 0) abort();
    }
    cJSON_free(s);
    bp_registry_free(&back);
    bp_registry_free(&r);
}

/* A registry with the real districts only, as a fleet file finds it. */
static void with_districts(bp_registry_t *r) {
    memset(r, 0, sizeof *r);
    r->districts = malloc(real->n_districts * sizeof *r->districts);
    if (!r->districts) abort();
    memcpy(r->districts, real->districts, real->n_districts * sizeof *r->districts);
    r->n_districts = real->n_districts;
    char dup[BP_ID_MAX + 1];
    if (bp_registry_index(r, dup, sizeof dup)) abort();
}

static void fleet(const char *in, size_t n) {
    load_real();
    bp_registry_t r, back;
    with_districts(&r);
    bp_error_t err;
    memset(&err, 0xa5, sizeof err);
    if (bp_codec_parse_fleet(in, n, &r, &err)) {
        fz_check_error(&err);
        bp_registry_free(&r);
        return;
    }
    if (r.n_stations > BP_REGISTRY_MAX || r.n_units > BP_REGISTRY_MAX) abort();
    for (size_t i = 0; i < r.n_stations; i++) {
        const bp_station_t *s = &r.stations[i];
        if (!slug_ok(s->id) || !name_ok(&s->name) ||
            bp_registry_station(&r, s->id, strlen(s->id)) != (int)i || s->district < 0 ||
            (size_t)s->district >= r.n_districts || !(s->lat >= -90 && s->lat <= 90) ||
            !(s->lon >= -180 && s->lon <= 180))
            abort();
    }
    for (size_t i = 0; i < r.n_units; i++) {
        const bp_unit_t *u = &r.units[i];
        if (!fz_terminated(u->id, sizeof u->id) || !bp_is_callsign(u->id, strlen(u->id)) ||
            bp_registry_unit(&r, u->id, strlen(u->id)) != (int)i || u->station < 0 ||
            (size_t)u->station >= r.n_stations)
            abort();
    }
    char *s = write_fleet(&r);
    with_districts(&back);
    if (bp_codec_parse_fleet(s, strlen(s), &back, &err)) abort();
    if (back.n_stations != r.n_stations || back.n_units != r.n_units ||
        memcmp(back.units, r.units, r.n_units * sizeof *r.units) != 0)
        abort();
    for (size_t i = 0; i < r.n_stations; i++) {
        bp_station_t x = r.stations[i], y = back.stations[i];
        x.lat = z(x.lat), x.lon = z(x.lon), y.lat = z(y.lat), y.lon = z(y.lon);
        if (memcmp(&x, &y, sizeof x) != 0) abort();
    }
    cJSON_free(s);
    bp_registry_free(&back);
    bp_registry_free(&r);
}

/* -- dispatch table --------------------------------------------------------- */

static void dispatch(const char *in, size_t n) {
    bp_dispatch_cfg_t c;
    bp_dispatch_defaults(&c);
    bp_error_t err;
    memset(&err, 0xa5, sizeof err);
    if (bp_codec_parse_dispatch(in, n, &c, &err)) {
        fz_check_error(&err);
        return;
    }
    if (!(c.detour_factor >= 1 && c.detour_factor <= 5) || c.n_bands < 1 ||
        c.n_bands > BP_SPEED_BANDS_MAX || c.bands[0].from_min != 0 || c.utc_offset_min < -720 ||
        c.utc_offset_min > 840 || !(c.diversion_extra_min >= 0 && c.diversion_extra_min <= 240) ||
        !(c.sister_bonus_min >= 0 && c.sister_bonus_min <= 120))
        abort();
    for (int i = 0; i < c.n_bands; i++)
        if ((i && c.bands[i].from_min <= c.bands[i - 1].from_min) || c.bands[i].from_min >= 1440 ||
            !(c.bands[i].kmh >= 1 && c.bands[i].kmh <= 150))
            abort();
    const double pen[] = {c.no_capacity_penalty_min, c.no_specialty_penalty_min,
                          c.central_penalty_min[0],  c.central_penalty_min[1],
                          c.central_penalty_min[2],  c.late_penalty_min,
                          c.stale_penalty_min};
    for (size_t i = 0; i < sizeof pen / sizeof *pen; i++)
        if (!(pen[i] >= 0 && pen[i] <= 240)) abort();
    for (int k = 0; k < BP_CAT__COUNT; k++) {
        const bp_need_t *nd = &c.needs[k];
        if (nd->n_beds < 1 || nd->n_beds > BP_NEED_BEDS_MAX || nd->specialties >> BP_SPEC__COUNT)
            abort();
        for (int i = 0; i < nd->n_beds; i++)
            if (nd->beds[i] < 0 || nd->beds[i] >= BP_BED__COUNT) abort();
    }
    const bp_alert_cfg_t *a = &c.alerts;
    if (a->icu_adult_free_below < 0 || a->icu_adult_free_below > 100000 ||
        a->handover_over_min < 0 || a->handover_over_min > 100000 ||
        a->incident_unassigned_min < 0 || a->incident_unassigned_min > 100000)
        abort();
    /* every minute of the day has a speed: 10 km take finite, positive time */
    for (int64_t t = 0; t < 86400000; t += 1234567) {
        double m = bp_travel_min(&c, 10, 1795309200000LL + t);
        if (!isfinite(m) || m <= 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 1) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0: settings_file(in, n); break;
    case 1: settings_env(in, n); break;
    case 2: hospitals(in, n); break;
    case 3: fleet(in, n); break;
    default: dispatch(in, n); break;
    }
    return 0;
}
