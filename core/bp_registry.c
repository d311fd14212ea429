/* Registry lookups: sorted index arrays searched with bsearch. */
#include "bp_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const spec_names[BP_SPEC__COUNT] = {
    "cardiology",      "cardiac_surgery",      "stroke",        "neurosurgery",
    "trauma",          "orthopedics",          "burns",         "obstetrics",
    "neonatology",     "pediatrics",           "oncology",      "infectious_disease",
    "respiratory",     "psychiatry",           "nephrology",    "toxicology",
    "general_surgery", "internal_medicine",    "ophthalmology", "ent",
    "geriatrics",      "traditional_medicine",
};

const char *bp_specialty_name(bp_specialty_t s) {
    return (unsigned)s < BP_SPEC__COUNT ? spec_names[s] : NULL;
}

int bp_specialty_parse(const char *s, size_t len) {
    for (int i = 0; i < BP_SPEC__COUNT; i++)
        if (strlen(spec_names[i]) == len && memcmp(spec_names[i], s, len) == 0) return i;
    return -1;
}

void bp_registry_free(bp_registry_t *r) {
    if (!r) return;
    free(r->districts);
    free(r->hospitals);
    free(r->stations);
    free(r->units);
    free(r->hospital_order);
    free(r->unit_order);
    free(r->district_order);
    free(r->station_order);
    memset(r, 0, sizeof *r);
}

/* Sorting context: qsort has no user pointer, so ids are reached through a
 * static table pointer set just before each sort (single-threaded start-up). */
static const char *sort_base;
static size_t sort_stride;

static const char *id_at(int i) {
    return sort_base + (size_t)i * sort_stride;
}

static int cmp_idx(const void *a, const void *b) {
    return strcmp(id_at(*(const int *)a), id_at(*(const int *)b));
}

static int build(int **order, const void *base, size_t stride, size_t n, char *dup,
                 size_t dup_len) {
    free(*order);
    *order = malloc((n ? n : 1) * sizeof **order);
    if (!*order) return -1;
    for (size_t i = 0; i < n; i++)
        (*order)[i] = (int)i;
    sort_base = base;
    sort_stride = stride;
    qsort(*order, n, sizeof **order, cmp_idx);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(id_at((*order)[i - 1]), id_at((*order)[i])) == 0) {
            snprintf(dup, dup_len, "%s", id_at((*order)[i]));
            return -1;
        }
    }
    return 0;
}

int bp_registry_index(bp_registry_t *r, char *dup, size_t dup_len) {
    /* Every registry struct starts with its id, so &arr[0] is &arr[0].id. */
    if (build(&r->hospital_order, r->hospitals, sizeof *r->hospitals, r->n_hospitals, dup,
              dup_len) ||
        build(&r->unit_order, r->units, sizeof *r->units, r->n_units, dup, dup_len) ||
        build(&r->district_order, r->districts, sizeof *r->districts, r->n_districts, dup,
              dup_len) ||
        build(&r->station_order, r->stations, sizeof *r->stations, r->n_stations, dup, dup_len))
        return -1;
    return 0;
}

static int find(const int *order, const void *base, size_t stride, size_t n, size_t max,
                const char *id, size_t len) {
    /* An id never holds a NUL; without this check "bach-mai\0x" would
     * match "bach-mai", because the comparison stops at the stored NUL. */
    if (!order || len == 0 || len > max || memchr(id, '\0', len)) return -1;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *cand = (const char *)base + (size_t)order[mid] * stride;
        int c = strncmp(cand, id, len);
        if (c == 0 && cand[len] != '\0') c = 1;
        if (c == 0) return order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int bp_registry_hospital(const bp_registry_t *r, const char *id, size_t len) {
    return find(r->hospital_order, r->hospitals, sizeof *r->hospitals, r->n_hospitals, BP_ID_MAX,
                id, len);
}
int bp_registry_unit(const bp_registry_t *r, const char *id, size_t len) {
    return find(r->unit_order, r->units, sizeof *r->units, r->n_units, BP_CALLSIGN_MAX, id, len);
}
int bp_registry_district(const bp_registry_t *r, const char *id, size_t len) {
    return find(r->district_order, r->districts, sizeof *r->districts, r->n_districts, BP_ID_MAX,
                id, len);
}
int bp_registry_station(const bp_registry_t *r, const char *id, size_t len) {
    return find(r->station_order, r->stations, sizeof *r->stations, r->n_stations, BP_ID_MAX, id,
                len);
}

int bp_registry_hospital_external(const bp_registry_t *r, const char *id, size_t len) {
    int i = bp_registry_hospital(r, id, len);
    if (i >= 0 || len == 0 || len > BP_HAVE_ID_MAX || memchr(id, '\0', len)) return i;
    for (size_t k = 0; k < r->n_hospitals; k++) {
        const char *h = r->hospitals[k].have_id;
        if (h[0] && strlen(h) == len && memcmp(h, id, len) == 0) return (int)k;
    }
    return -1;
}

bool bp_registry_is_have_id(const char *s, size_t len) {
    if (!s || len == 0 || len > BP_HAVE_ID_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("._:/-", c)) ||
            c == '\0')
            return false;
    }
    return true;
}

void bp_registry_base_state(const bp_hospital_info_t *h, bp_hospital_state_t *out) {
    bp_hospital_state_init(out);
    out->beds_mask = h->beds_mask;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!(h->beds_mask & (1u << t))) continue;
        out->beds[t].staffed = h->staffed[t];
        out->beds[t].surge24 = h->surge24[t];
    }
}

int64_t bp_registry_staffed_total(const bp_registry_t *r) {
    int64_t sum = 0;
    for (size_t i = 0; i < r->n_hospitals; i++)
        for (int t = 0; t < BP_BED__COUNT; t++)
            if (r->hospitals[i].beds_mask & (1u << t)) sum += r->hospitals[i].staffed[t];
    return sum;
}

static void widen(bp_area_t *a, bool *any, double lat, double lon) {
    if (!*any) *a = (bp_area_t){lat, lat, lon, lon};
    *any = true;
    if (lat < a->lat_min) a->lat_min = lat;
    if (lat > a->lat_max) a->lat_max = lat;
    if (lon < a->lon_min) a->lon_min = lon;
    if (lon > a->lon_max) a->lon_max = lon;
}

void bp_registry_area(const bp_registry_t *r, bp_area_t *out) {
    bool any = false;
    for (size_t i = 0; i < r->n_hospitals; i++)
        widen(out, &any, r->hospitals[i].lat, r->hospitals[i].lon);
    for (size_t i = 0; i < r->n_stations; i++)
        widen(out, &any, r->stations[i].lat, r->stations[i].lon);
    if (!any) {
        *out = (bp_area_t){-90, 90, -180, 180};
        return;
    }
    out->lat_min -= BP_AREA_MARGIN_DEG;
    out->lat_max += BP_AREA_MARGIN_DEG;
    out->lon_min -= BP_AREA_MARGIN_DEG;
    out->lon_max += BP_AREA_MARGIN_DEG;
}
