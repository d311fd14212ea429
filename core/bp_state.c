/* In-memory state and the JSON clients read. */
#include "bp_state.h"
#include "bp_codec_stored.h"
#include "bp_jw.h"
#include "bp_plausible.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bp_state {
    const bp_registry_t *reg;
    bp_pressure_cfg_t pressure;
    bp_hospital_state_t *hospitals;   /* one per registry hospital */
    bp_ambulance_state_t *ambulances; /* one per fleet unit */
    /* open incidents, sorted by (opened, id); grown on demand up to the bound */
    bp_incident_state_t *incidents;
    size_t n_incidents, cap_incidents, max_incidents;
    uint64_t incidents_dropped;
    const bp_plaus_cfg_t *plaus; /* NULL: no plausibility rules */
};

const bp_view_t bp_view_all = {BP_AF_ALL, true};

bp_state_t *bp_state_create(const bp_registry_t *reg, const bp_pressure_cfg_t *pressure,
                            size_t max_incidents) {
    bp_state_t *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->reg = reg;
    st->max_incidents = max_incidents;
    st->pressure = pressure ? *pressure : bp_pressure_default;
    st->hospitals = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *st->hospitals);
    st->ambulances = calloc(reg->n_units ? reg->n_units : 1, sizeof *st->ambulances);
    if (!st->hospitals || !st->ambulances) {
        bp_state_destroy(st);
        return NULL;
    }
    bp_state_reset(st);
    return st;
}

void bp_state_destroy(bp_state_t *st) {
    if (!st) return;
    free(st->hospitals);
    free(st->ambulances);
    free(st->incidents);
    free(st);
}

void bp_state_reset(bp_state_t *st) {
    for (size_t i = 0; i < st->reg->n_hospitals; i++)
        bp_registry_base_state(&st->reg->hospitals[i], &st->hospitals[i]);
    for (size_t i = 0; i < st->reg->n_units; i++)
        bp_ambulance_state_init(&st->ambulances[i]);
    st->n_incidents = 0;
}

/* -- incidents ------------------------------------------------------------ */

int bp_state_incident_find(const bp_state_t *st, const char *id) {
    for (size_t i = 0; i < st->n_incidents; i++)
        if (strcmp(st->incidents[i].id, id) == 0) return (int)i;
    return -1;
}

static void incident_remove(bp_state_t *st, size_t i) {
    memmove(&st->incidents[i], &st->incidents[i + 1],
            (st->n_incidents - i - 1) * sizeof *st->incidents);
    st->n_incidents--;
}

/* Whether a sorts before b: opened first, then id. */
static bool incident_before(const bp_incident_state_t *a, const bp_incident_state_t *b) {
    return a->opened_ms != b->opened_ms ? a->opened_ms < b->opened_ms : strcmp(a->id, b->id) < 0;
}

/* Puts a new incident in its place; -1 when the table is full. */
static int incident_insert(bp_state_t *st, const bp_incident_state_t *inc) {
    if (st->n_incidents == st->cap_incidents) {
        size_t cap = st->cap_incidents ? st->cap_incidents * 2 : 16;
        if (cap > st->max_incidents) cap = st->max_incidents;
        bp_incident_state_t *n =
            cap > st->cap_incidents ? realloc(st->incidents, cap * sizeof *n) : NULL;
        if (!n) return -1;
        st->incidents = n;
        st->cap_incidents = cap;
    }
    size_t i = st->n_incidents; /* new ones are mostly the newest: search from the end */
    while (i > 0 && incident_before(inc, &st->incidents[i - 1]))
        i--;
    memmove(&st->incidents[i + 1], &st->incidents[i],
            (st->n_incidents - i) * sizeof *st->incidents);
    st->incidents[i] = *inc;
    st->n_incidents++;
    return (int)i;
}

static int apply_incident(bp_state_t *st, const bp_change_t *c) {
    int i = bp_state_incident_find(st, c->id);
    if (c->inc_action == BP_INC_CREATE) {
        bp_incident_state_t inc;
        bp_incident_state_init(&inc, c->id);
        if (i >= 0) {
            inc.version = st->incidents[i].version;
            incident_remove(st, (size_t)i);
        }
        bp_incident_apply(&inc, c);
        i = incident_insert(st, &inc);
        if (i < 0) st->incidents_dropped++;
        return i;
    }
    if (i < 0) return -1;
    if (c->inc_action == BP_INC_CLOSE)
        incident_remove(st, (size_t)i);
    else
        bp_incident_apply(&st->incidents[i], c);
    return i;
}

size_t bp_state_incident_count(const bp_state_t *st) {
    return st->n_incidents;
}

const bp_incident_state_t *bp_state_incident(const bp_state_t *st, size_t i) {
    return i < st->n_incidents ? &st->incidents[i] : NULL;
}

uint64_t bp_state_incidents_dropped(const bp_state_t *st) {
    return st->incidents_dropped;
}

int bp_state_apply(bp_state_t *st, const bp_change_t *c) {
    size_t len = strlen(c->id);
    if (c->kind == BP_KIND_INCIDENT) return apply_incident(st, c);
    if (c->kind == BP_KIND_HOSPITAL) {
        int i = bp_registry_hospital(st->reg, c->id, len);
        if (i >= 0) bp_hospital_apply(&st->hospitals[i], c);
        return i;
    }
    int i = bp_registry_unit(st->reg, c->id, len);
    if (i >= 0) bp_ambulance_apply(&st->ambulances[i], c);
    return i;
}

void bp_state_set_plausibility(bp_state_t *st, const bp_plaus_cfg_t *cfg) {
    st->plaus = cfg;
}

bool bp_state_mark(const bp_state_t *st, bp_change_t *c) {
    int i = c->kind == BP_KIND_HOSPITAL && st->plaus && !c->has_check
                ? bp_registry_hospital(st->reg, c->id, strlen(c->id))
                : -1;
    if (i < 0) return false;
    c->check_derived = bp_plausible_mark(&st->hospitals[i], &st->reg->hospitals[i], st->plaus, c);
    if (c->check_derived && c->check.rule != BP_CHECK_NONE) c->check.version = c->version;
    return c->check_derived;
}

bool bp_state_rederive(bp_state_t *st, const bp_change_t *stored) {
    int i = stored->kind == BP_KIND_HOSPITAL && st->plaus && stored->has_pre &&
                    stored->pre.version > stored->check_version
                ? bp_registry_hospital(st->reg, stored->id, strlen(stored->id))
                : -1;
    if (i < 0) return false;
    bp_hospital_state_t *h = &st->hospitals[i];
    const bp_check_pre_t *pre = &stored->pre;
    /* the hospital as it was before that report, and the report's occupied
     * figures (what it set is what the hash holds, unless a later change
     * set them again: then its own derivation judged those) */
    bp_hospital_state_t before = *h;
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "%s", stored->id);
    snprintf(c.source, sizeof c.source, "%s", pre->source);
    c.at_ms = pre->at_ms;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!(pre->mask & (1u << t))) continue;
        c.bed_fields[t] = pre->fields[t] ? pre->fields[t] : BP_BF_SURGE24;
        c.beds[t] = h->beds[t];
        if (!(pre->fields[t] & BP_BF_OCCUPIED)) continue;
        before.beds[t].occupied = pre->occupied[t];
        before.occ_at_ms[t] = pre->occ_at_ms[t];
    }
    if (!bp_plausible_mark(&before, &st->reg->hospitals[i], st->plaus, &c)) return false;
    if (c.check.rule != BP_CHECK_NONE) c.check.version = pre->version;
    if (c.check.rule == BP_CHECK_NONE && h->check.rule == BP_CHECK_NONE) return false;
    h->check = c.check;
    h->check_unsaved = true;
    return true;
}

void bp_state_check_saved(bp_state_t *st, size_t i, uint64_t version) {
    if (i < st->reg->n_hospitals && st->hospitals[i].version == version)
        st->hospitals[i].check_unsaved = false;
}

const bp_registry_t *bp_state_registry(const bp_state_t *st) {
    return st->reg;
}
const bp_hospital_state_t *bp_state_hospital(const bp_state_t *st, size_t i) {
    return i < st->reg->n_hospitals ? &st->hospitals[i] : NULL;
}

bool bp_state_set_offload(bp_state_t *st, size_t i, bool delayed) {
    if (i >= st->reg->n_hospitals || st->hospitals[i].offload_delayed == delayed) return false;
    st->hospitals[i].offload_delayed = delayed;
    return true;
}
const bp_ambulance_state_t *bp_state_ambulance(const bp_state_t *st, size_t i) {
    return i < st->reg->n_units ? &st->ambulances[i] : NULL;
}
const bp_pressure_cfg_t *bp_state_pressure(const bp_state_t *st) {
    return &st->pressure;
}

/* -- writers ------------------------------------------------------------- */

/* Occupancy as shown: rounded down to 0.1, so a figure on screen never
 * reaches a threshold the pressure level has not reached (94.96 % is level
 * 2 and must not read 95.0). */
double bp_state_pct_shown(double pct) {
    return floor(pct * 10.0 + 1e-9) / 10.0;
}

void bp_state_write_name(bp_jw_t *w, const bp_name_t *n) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "vi");
    bp_jw_cstr(w, n->vi);
    BP_JW_KEY(w, "en");
    bp_jw_cstr(w, n->en);
    bp_jw_end(w);
}

/* A count, null when unknown (negative). */
static void write_count(bp_jw_t *w, int64_t v) {
    bp_jw_int_or_null(w, v >= 0, v);
}

/* {"staffed":..,"occupied":..,"surge24":..,"available":..,"overflow":..},
 * unknown numbers as null, then the intensive-care detail known (icu_known:
 * BP_BF_VENTILATED | BP_BF_ECMO). */
static void write_beds(bp_jw_t *w, const bp_beds_t *x, const bp_icu_detail_t *icu,
                       unsigned icu_known) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "staffed");
    write_count(w, x->staffed);
    BP_JW_KEY(w, "occupied");
    write_count(w, x->occupied);
    BP_JW_KEY(w, "surge24");
    write_count(w, x->surge24);
    BP_JW_KEY(w, "available");
    write_count(w, bp_beds_available(x));
    BP_JW_KEY(w, "overflow");
    write_count(w, bp_beds_overflow(x));
    bp_codec_write_icu_detail(w, icu, icu_known);
    bp_jw_end(w);
}

static void write_ed(bp_jw_t *w, const bp_ed_t *ed, int64_t now_ms, int with_effective) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, bp_ed_status_name(ed->status));
    BP_JW_KEY(w, "reason");
    bp_jw_cstr(w, ed->reason);
    BP_JW_KEY(w, "until");
    bp_jw_time(w, ed->until_ms);
    BP_JW_KEY(w, "waiting");
    write_count(w, ed->waiting);
    if (with_effective) {
        BP_JW_KEY(w, "effective");
        bp_jw_cstr(w, bp_ed_status_name(bp_ed_effective(ed, now_ms)));
    }
    bp_jw_end(w);
}

/* {"status":..,"reason":..,"until":..(,"effective":..)} */
static void write_svc(bp_jw_t *w, const bp_svc_t *sv, int64_t now_ms, int with_effective) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, bp_svc_status_name(sv->status));
    BP_JW_KEY(w, "reason");
    bp_jw_cstr(w, sv->reason);
    BP_JW_KEY(w, "until");
    bp_jw_time(w, sv->until_ms);
    if (with_effective) {
        BP_JW_KEY(w, "effective");
        bp_jw_cstr(w, bp_svc_status_name(bp_svc_effective(sv, now_ms)));
    }
    bp_jw_end(w);
}

/* "services":{..}: those in mask, from svc (never reported: available). */
static void write_services(bp_jw_t *w, uint32_t mask, const bp_svc_t *svc, int64_t now_ms,
                           int with_effective) {
    BP_JW_KEY(w, "services");
    bp_jw_obj(w);
    for (int k = 0; k < BP_SVC__COUNT; k++) {
        if (!(mask & (1u << k))) continue;
        bp_jw_key(w, bp_service_name((bp_service_t)k));
        write_svc(w, &svc[k], now_ms, with_effective);
    }
    bp_jw_end(w);
}

/* "facility":{"status","reason","power","oxygen","water"}, utilities not
 * reported null. */
static void write_facility(bp_jw_t *w, const bp_facility_t *f) {
    BP_JW_KEY(w, "facility");
    bp_jw_obj(w);
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, bp_fac_status_name(f->status));
    BP_JW_KEY(w, "reason");
    bp_jw_cstr(w, f->reason);
    for (int u = 0; u < BP_UTIL__COUNT; u++) {
        bp_jw_key(w, bp_utility_name((bp_utility_t)u));
        bp_jw_cstr_or_null(w, bp_utility_value_name((bp_utility_t)u, f->util[u]));
    }
    bp_jw_end(w);
}

static void write_stamp(bp_jw_t *w, uint64_t version, int64_t at, int64_t updated,
                        const char *source) {
    BP_JW_KEY(w, "version");
    bp_jw_int(w, (int64_t)version);
    BP_JW_KEY(w, "at");
    bp_jw_time(w, at);
    BP_JW_KEY(w, "updated");
    bp_jw_time(w, updated);
    BP_JW_KEY(w, "source");
    bp_jw_cstr(w, source);
}

static void write_hospital(bp_jw_t *w, const bp_state_t *st, size_t i, int64_t now_ms) {
    const bp_hospital_info_t *info = &st->reg->hospitals[i];
    const bp_hospital_state_t *h = &st->hospitals[i];
    bp_jw_obj(w);
    BP_JW_KEY(w, "id");
    bp_jw_cstr(w, info->id);
    BP_JW_KEY(w, "name");
    bp_state_write_name(w, &info->name);
    BP_JW_KEY(w, "tier");
    bp_jw_cstr(w, bp_tier_name(info->tier));
    BP_JW_KEY(w, "district");
    bp_jw_cstr(w, st->reg->districts[info->district].id);
    BP_JW_KEY(w, "lat");
    bp_jw_num(w, info->lat, 6);
    BP_JW_KEY(w, "lon");
    bp_jw_num(w, info->lon, 6);
    BP_JW_KEY(w, "specialties");
    bp_jw_arr(w);
    for (int s = 0; s < BP_SPEC__COUNT; s++)
        if (info->specialties & (1u << s)) bp_jw_cstr(w, bp_specialty_name((bp_specialty_t)s));
    bp_jw_end(w);
    BP_JW_KEY(w, "sister");
    bp_jw_cstr_or_null(w, info->sister >= 0 ? st->reg->hospitals[info->sister].id : NULL);
    BP_JW_KEY(w, "phone");
    bp_jw_cstr(w, info->phone);
    BP_JW_KEY(w, "report_interval_s");
    bp_jw_int(w, info->report_interval_s);
    write_stamp(w, h->version, h->at_ms, h->updated_ms, h->source);
    BP_JW_KEY(w, "beds");
    bp_jw_obj(w);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!(h->beds_mask & (1u << t))) continue;
        bp_jw_key(w, bp_bed_type_name((bp_bed_type_t)t));
        write_beds(w, &h->beds[t], &h->icu[t], h->icu_known[t]);
    }
    bp_jw_end(w);
    BP_JW_KEY(w, "ed");
    write_ed(w, &h->ed, now_ms, 1);
    write_services(w, info->services | h->svc_mask, h->svc, now_ms, 1);
    write_facility(w, &h->fac);
    bp_plausible_write(w, &h->check);
    bp_totals_t tot;
    bp_hospital_totals(h, &tot);
    double pct = bp_occupancy_pct(&tot);
    BP_JW_KEY(w, "occupancy_pct");
    bp_jw_num_or_null(w, pct >= 0, bp_state_pct_shown(pct), 1);
    BP_JW_KEY(w, "offload");
    bp_jw_cstr(w, h->offload_delayed ? "delayed" : "normal");
    BP_JW_KEY(w, "level");
    bp_jw_int(w, bp_pressure_level(h, &st->pressure, now_ms));
    BP_JW_KEY(w, "freshness");
    bp_jw_cstr(w, bp_freshness_name(bp_freshness(h->at_ms, info->report_interval_s, now_ms)));
    bp_jw_end(w);
}

void bp_state_write_hospital(bp_buf_t *b, const bp_state_t *st, size_t i, int64_t now_ms) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_hospital(&w, st, i, now_ms);
}

static void write_amb_fields(bp_jw_t *w, const bp_ambulance_state_t *a, unsigned fields) {
    if (fields & BP_AF_STATUS) {
        BP_JW_KEY(w, "status");
        bp_jw_cstr(w, bp_amb_status_name(a->status));
        BP_JW_KEY(w, "fms");
        bp_jw_int(w, bp_amb_status_fms(a->status));
    }
    if (fields & BP_AF_POSITION) {
        BP_JW_KEY(w, "lat");
        bp_jw_num_or_null(w, a->has_position, a->lat, 6);
        BP_JW_KEY(w, "lon");
        bp_jw_num_or_null(w, a->has_position, a->lon, 6);
    }
    if (fields & BP_AF_HEADING) {
        BP_JW_KEY(w, "heading");
        bp_jw_num_or_null(w, a->heading >= 0, a->heading, 1);
    }
    if (fields & BP_AF_SPEED) {
        BP_JW_KEY(w, "speed");
        bp_jw_num_or_null(w, a->speed >= 0, a->speed, 1);
    }
    if (fields & BP_AF_DESTINATION) {
        BP_JW_KEY(w, "destination");
        bp_jw_cstr_or_null(w, a->destination);
    }
    if (fields & BP_AF_INCIDENT) {
        BP_JW_KEY(w, "incident");
        bp_jw_cstr_or_null(w, a->incident);
    }
}

/* An incident's fields (BP_IF_*); cleared ones null. */
static void write_inc_fields(bp_jw_t *w, const bp_incident_state_t *n, unsigned fields) {
    if (fields & BP_IF_PRIORITY) {
        BP_JW_KEY(w, "priority");
        bp_jw_int(w, n->priority);
    }
    if (fields & BP_IF_CATEGORY) {
        BP_JW_KEY(w, "category");
        bp_jw_cstr(w, bp_category_name(n->category));
    }
    if (fields & BP_IF_POSITION) {
        BP_JW_KEY(w, "lat");
        bp_jw_num(w, n->lat, 6);
        BP_JW_KEY(w, "lon");
        bp_jw_num(w, n->lon, 6);
    }
    if (fields & BP_IF_ADDRESS) {
        BP_JW_KEY(w, "address");
        bp_jw_cstr_or_null(w, n->address);
    }
    if (fields & BP_IF_UNIT) {
        BP_JW_KEY(w, "unit");
        bp_jw_cstr_or_null(w, n->unit);
    }
    if (fields & BP_IF_DESTINATION) {
        BP_JW_KEY(w, "destination");
        bp_jw_cstr_or_null(w, n->destination);
    }
    if (fields & BP_IF_RECEIVED) {
        BP_JW_KEY(w, "received");
        bp_jw_time(w, n->received_ms);
    }
}

static void write_incident_members(bp_jw_t *w, const bp_incident_state_t *inc) {
    BP_JW_KEY(w, "id");
    bp_jw_cstr(w, inc->id);
    write_stamp(w, inc->version, inc->at_ms, inc->updated_ms, inc->source);
    BP_JW_KEY(w, "opened");
    bp_jw_time(w, inc->opened_ms);
    write_inc_fields(w, inc, BP_IF_ALL);
}

void bp_state_write_incident_members(bp_buf_t *b, const bp_incident_state_t *inc) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_incident_members(&w, inc);
}

static void write_incident(bp_jw_t *w, const bp_incident_state_t *inc) {
    bp_jw_obj(w);
    write_incident_members(w, inc);
    bp_jw_end(w);
}

void bp_state_write_incident(bp_buf_t *b, const bp_incident_state_t *inc) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_incident(&w, inc);
}

static void write_incidents(bp_jw_t *w, const bp_state_t *st) {
    bp_jw_arr(w);
    for (size_t i = 0; i < st->n_incidents; i++)
        write_incident(w, &st->incidents[i]);
    bp_jw_end(w);
}

void bp_state_write_incidents(bp_buf_t *b, const bp_state_t *st) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_incidents(&w, st);
}

void bp_state_write_ambulance(bp_buf_t *b, const bp_state_t *st, size_t i) {
    bp_state_write_ambulance_fields(b, st, i, BP_AF_ALL);
}

static void write_ambulance(bp_jw_t *w, const bp_state_t *st, size_t i, unsigned fields) {
    const bp_unit_t *u = &st->reg->units[i];
    const bp_ambulance_state_t *a = &st->ambulances[i];
    bp_jw_obj(w);
    BP_JW_KEY(w, "id");
    bp_jw_cstr(w, u->id);
    BP_JW_KEY(w, "station");
    bp_jw_cstr(w, st->reg->stations[u->station].id);
    write_stamp(w, a->version, a->at_ms, a->updated_ms, a->source);
    write_amb_fields(w, a, fields);
    bp_jw_end(w);
}

void bp_state_write_ambulance_fields(bp_buf_t *b, const bp_state_t *st, size_t i, unsigned fields) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_ambulance(&w, st, i, fields);
}

static void write_ambulances(bp_jw_t *w, const bp_state_t *st, unsigned fields) {
    bp_jw_arr(w);
    for (size_t i = 0; fields && i < st->reg->n_units; i++)
        write_ambulance(w, st, i, fields);
    bp_jw_end(w);
}

void bp_state_write_hospitals(bp_buf_t *b, const bp_state_t *st, int64_t now_ms) {
    bp_state_write_hospitals_in(b, st, now_ms, NULL);
}

static void write_hospitals_in(bp_jw_t *w, const bp_state_t *st, int64_t now_ms,
                               const uint64_t *only) {
    bp_jw_arr(w);
    for (size_t i = 0; i < st->reg->n_hospitals; i++) {
        if (only && !(only[i / 64] >> (i % 64) & 1)) continue;
        write_hospital(w, st, i, now_ms);
    }
    bp_jw_end(w);
}

void bp_state_write_hospitals_in(bp_buf_t *b, const bp_state_t *st, int64_t now_ms,
                                 const uint64_t *only) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_hospitals_in(&w, st, now_ms, only);
}

void bp_state_write_ambulances(bp_buf_t *b, const bp_state_t *st) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_ambulances(&w, st, BP_AF_ALL);
}

static void write_meta(bp_jw_t *w, const bp_state_t *st) {
    const bp_registry_t *r = st->reg;
    bp_jw_obj(w);
    BP_JW_KEY(w, "bed_types");
    bp_jw_arr(w);
    for (int t = 0; t < BP_BED__COUNT; t++)
        bp_jw_cstr(w, bp_bed_type_name((bp_bed_type_t)t));
    bp_jw_end(w);
    BP_JW_KEY(w, "pressure");
    bp_jw_obj(w);
    BP_JW_KEY(w, "level2_pct");
    bp_jw_num(w, st->pressure.level2_pct, 2);
    BP_JW_KEY(w, "level3_pct");
    bp_jw_num(w, st->pressure.level3_pct, 2);
    BP_JW_KEY(w, "level4_pct");
    bp_jw_num(w, st->pressure.level4_pct, 2);
    bp_jw_end(w);
    BP_JW_KEY(w, "districts");
    bp_jw_obj(w);
    for (size_t i = 0; i < r->n_districts; i++) {
        bp_jw_key(w, r->districts[i].id); /* a slug: nothing to escape */
        bp_state_write_name(w, &r->districts[i].name);
    }
    bp_jw_end(w);
    BP_JW_KEY(w, "stations");
    bp_jw_arr(w);
    for (size_t i = 0; i < r->n_stations; i++) {
        const bp_station_t *s = &r->stations[i];
        bp_jw_obj(w);
        BP_JW_KEY(w, "id");
        bp_jw_cstr(w, s->id);
        BP_JW_KEY(w, "name");
        bp_state_write_name(w, &s->name);
        BP_JW_KEY(w, "district");
        bp_jw_cstr(w, r->districts[s->district].id);
        BP_JW_KEY(w, "lat");
        bp_jw_num(w, s->lat, 6);
        BP_JW_KEY(w, "lon");
        bp_jw_num(w, s->lon, 6);
        bp_jw_end(w);
    }
    bp_jw_end(w);
    bp_jw_end(w);
}

void bp_state_write_meta(bp_buf_t *b, const bp_state_t *st) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    write_meta(&w, st);
}

void bp_state_write_snapshot(bp_buf_t *b, const bp_state_t *st, const char *epoch, uint64_t offset,
                             int64_t now_ms, bp_view_t view) {
    bp_state_write_snapshot_in(b, st, epoch, offset, now_ms, view, NULL);
}

void bp_state_write_snapshot_in(bp_buf_t *b, const bp_state_t *st, const char *epoch,
                                uint64_t offset, int64_t now_ms, bp_view_t view,
                                const uint64_t *only) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "type");
    bp_jw_cstr(&w, "snapshot");
    BP_JW_KEY(&w, "epoch");
    bp_jw_cstr(&w, epoch);
    BP_JW_KEY(&w, "offset");
    bp_jw_int(&w, (int64_t)offset);
    BP_JW_KEY(&w, "now");
    bp_jw_time(&w, now_ms);
    BP_JW_KEY(&w, "meta");
    write_meta(&w, st);
    BP_JW_KEY(&w, "hospitals");
    write_hospitals_in(&w, st, now_ms, only);
    BP_JW_KEY(&w, "ambulances");
    write_ambulances(&w, st, view.amb_fields);
    if (view.incidents) {
        BP_JW_KEY(&w, "incidents");
        write_incidents(&w, st);
    }
    bp_jw_end(&w);
}

void bp_state_write_event(bp_buf_t *b, const bp_change_t *c) {
    bp_state_write_event_for(b, c, bp_view_all);
}

void bp_state_write_event_for(bp_buf_t *b, const bp_change_t *c, bp_view_t view) {
    static const char *const kinds[] = {"hospital", "ambulance", "incident"};
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "offset");
    bp_jw_int(&w, (int64_t)c->offset);
    if ((c->kind == BP_KIND_AMBULANCE && !(c->amb_fields & view.amb_fields)) ||
        (c->kind == BP_KIND_INCIDENT && !view.incidents)) {
        /* nothing this audience may see: only the offset, so that offsets
         * stay contiguous for it too */
        bp_jw_end(&w);
        return;
    }
    BP_JW_KEY(&w, "kind");
    bp_jw_cstr(&w, kinds[c->kind]);
    BP_JW_KEY(&w, "id");
    bp_jw_cstr(&w, c->id);
    BP_JW_KEY(&w, "data");
    bp_jw_obj(&w);
    write_stamp(&w, c->version, c->at_ms, c->updated_ms, c->source);
    if (c->kind == BP_KIND_HOSPITAL) {
        if (bp_change_bed_types(c)) {
            BP_JW_KEY(&w, "beds");
            bp_jw_obj(&w);
            for (int t = 0; t < BP_BED__COUNT; t++) {
                uint8_t f = c->bed_fields[t];
                if (!f) continue;
                bp_beds_t x = {f & BP_BF_STAFFED ? c->beds[t].staffed : -1,
                               f & BP_BF_OCCUPIED ? c->beds[t].occupied : -1,
                               f & BP_BF_SURGE24 ? c->beds[t].surge24 : -1};
                bp_jw_key(&w, bp_bed_type_name((bp_bed_type_t)t));
                write_beds(&w, &x, &c->icu[t], f);
            }
            bp_jw_end(&w);
        }
        if (c->has_ed) {
            BP_JW_KEY(&w, "ed");
            write_ed(&w, &c->ed, 0, 0);
        }
        if (c->svc_fields) write_services(&w, c->svc_fields, c->svc, 0, 0);
        if (c->has_fac) write_facility(&w, &c->fac);
        if (c->has_check) bp_plausible_write(&w, &c->check);
    } else if (c->kind == BP_KIND_INCIDENT) {
        BP_JW_KEY(&w, "action");
        bp_jw_cstr(&w, bp_inc_action_name(c->inc_action));
        write_inc_fields(&w, &c->inc, c->inc_fields);
    } else {
        write_amb_fields(&w, &c->amb, c->amb_fields & view.amb_fields);
    }
    bp_jw_end(&w);
    bp_jw_end(&w);
}
