/* Domain names, slug rules and derived figures (DESIGN §3). */
#include "bp_model.h"

#include <stdio.h>
#include <string.h>

/* Wire names, in display order. How each maps onto EDXL-HAVE, FHIR and
 * NHSN (not 1:1: HAVE has no obstetrics, FHIR's RoleCode no burn or
 * isolation, ...) is bp_interop's business, kept there in one place. */
static const char *const bed_names[BP_BED__COUNT] = {
    "emergency",  "icu_adult", "icu_pediatric", "icu_neonatal", "medical_surgical", "pediatrics",
    "obstetrics", "burn",      "psychiatric",   "isolation",    "operating_room"};

static const char *const ed_names[BP_ED__COUNT] = {"normal", "advisory", "diversion", "closed"};

static const struct {
    const char *name;
    int fms;
} amb_names[BP_AMB__COUNT] = {
    [BP_AMB_AVAILABLE_STATION] = {"available_station", 2},
    [BP_AMB_AVAILABLE_RADIO] = {"available_radio", 1},
    [BP_AMB_DISPATCHED] = {"dispatched", 3},
    [BP_AMB_ON_SCENE] = {"on_scene", 4},
    [BP_AMB_TRANSPORTING] = {"transporting", 7},
    [BP_AMB_AT_HOSPITAL] = {"at_hospital", 8},
    [BP_AMB_OUT_OF_SERVICE] = {"out_of_service", 6},
};

static const char *const tier_names[BP_TIER__COUNT] = {"central", "city", "district", "private"};
static const char *const fresh_names[] = {"fresh", "late", "stale", "never"};
static const char *const cat_names[BP_CAT__COUNT] = {"trauma",      "stroke",      "cardiac",
                                                     "obstetric",   "pediatric",   "burn",
                                                     "respiratory", "psychiatric", "other"};
static const char *const action_names[BP_INC__COUNT] = {"create", "update", "close"};
static const char *const svc_names[BP_SVC__COUNT] = {
    "ct",       "mri",          "cath_lab",     "stroke_unit",    "trauma", "burn_unit",
    "dialysis", "obstetric_ed", "pediatric_ed", "psychiatric_ed", "ecmo"};
static const char *const svs_names[BP_SVS__COUNT] = {"available", "limited", "unavailable"};
static const char *const fac_names[BP_FAC__COUNT] = {"normal", "compromised", "evacuating",
                                                     "closed"};
static const char *const check_names[BP_CHECK__COUNT] = {"none", "drop", "over_staffed",
                                                         "all_zero"};
static const char *const util_names[BP_UTIL__COUNT] = {"power", "oxygen", "water"};
static const char *const util_values[BP_UTIL__COUNT][4] = {
    {"mains", "generator", "out", NULL}, {"normal", "low", "out", NULL}, {"normal", "out", NULL}};

const bp_pressure_cfg_t bp_pressure_default = {85.0, 95.0, 110.0};

const char *bp_bed_type_name(bp_bed_type_t t) {
    return (unsigned)t < BP_BED__COUNT ? bed_names[t] : NULL;
}
const char *bp_ed_status_name(bp_ed_status_t s) {
    return (unsigned)s < BP_ED__COUNT ? ed_names[s] : NULL;
}
const char *bp_amb_status_name(bp_amb_status_t s) {
    return (unsigned)s < BP_AMB__COUNT ? amb_names[s].name : NULL;
}
int bp_amb_status_fms(bp_amb_status_t s) {
    return (unsigned)s < BP_AMB__COUNT ? amb_names[s].fms : -1;
}
const char *bp_tier_name(bp_tier_t t) {
    return (unsigned)t < BP_TIER__COUNT ? tier_names[t] : NULL;
}
const char *bp_freshness_name(bp_freshness_t f) {
    return (unsigned)f <= BP_NEVER_REPORTED ? fresh_names[f] : NULL;
}
const char *bp_category_name(bp_category_t c) {
    return (unsigned)c < BP_CAT__COUNT ? cat_names[c] : NULL;
}
const char *bp_inc_action_name(bp_inc_action_t a) {
    return (unsigned)a < BP_INC__COUNT ? action_names[a] : NULL;
}

const char *bp_service_name(bp_service_t s) {
    return (unsigned)s < BP_SVC__COUNT ? svc_names[s] : NULL;
}
const char *bp_svc_status_name(bp_svc_status_t s) {
    return (unsigned)s < BP_SVS__COUNT ? svs_names[s] : NULL;
}

const char *bp_fac_status_name(bp_fac_status_t s) {
    return (unsigned)s < BP_FAC__COUNT ? fac_names[s] : NULL;
}
const char *bp_check_rule_name(bp_check_rule_t r) {
    return (unsigned)r < BP_CHECK__COUNT ? check_names[r] : NULL;
}
const char *bp_utility_name(bp_utility_t u) {
    return (unsigned)u < BP_UTIL__COUNT ? util_names[u] : NULL;
}
const char *bp_utility_value_name(bp_utility_t u, int v) {
    return (unsigned)u < BP_UTIL__COUNT && v >= 0 && v < 3 ? util_values[u][v] : NULL;
}

static int eq(const char *name, const char *s, size_t len) {
    return strlen(name) == len && memcmp(name, s, len) == 0;
}

int bp_bed_type_parse(const char *s, size_t len) {
    for (int i = 0; i < BP_BED__COUNT; i++)
        if (eq(bed_names[i], s, len)) return i;
    return -1;
}
/* The index of (s, len) in a list of n names, or -1. */
static int find(const char *const *names, int n, const char *s, size_t len) {
    for (int i = 0; i < n; i++)
        if (eq(names[i], s, len)) return i;
    return -1;
}

int bp_ed_status_parse(const char *s, size_t len) {
    return find(ed_names, BP_ED__COUNT, s, len);
}
int bp_amb_status_parse(const char *s, size_t len) {
    for (int i = 0; i < BP_AMB__COUNT; i++)
        if (eq(amb_names[i].name, s, len)) return i;
    return -1;
}
int bp_tier_parse(const char *s, size_t len) {
    return find(tier_names, BP_TIER__COUNT, s, len);
}
int bp_category_parse(const char *s, size_t len) {
    return find(cat_names, BP_CAT__COUNT, s, len);
}
int bp_inc_action_parse(const char *s, size_t len) {
    return find(action_names, BP_INC__COUNT, s, len);
}
int bp_fac_status_parse(const char *s, size_t len) {
    return find(fac_names, BP_FAC__COUNT, s, len);
}
/* A rule's name; "none" is no rule (-1). */
int bp_check_rule_parse(const char *s, size_t len) {
    int r = find(check_names, BP_CHECK__COUNT, s, len);
    return r > 0 ? r : -1;
}
int bp_utility_value_parse(bp_utility_t u, const char *s, size_t len) {
    if ((unsigned)u >= BP_UTIL__COUNT) return -1;
    for (int i = 0; i < 3 && util_values[u][i]; i++)
        if (eq(util_values[u][i], s, len)) return i;
    return -1;
}
int bp_service_parse(const char *s, size_t len) {
    return find(svc_names, BP_SVC__COUNT, s, len);
}
int bp_svc_status_parse(const char *s, size_t len) {
    return find(svs_names, BP_SVS__COUNT, s, len);
}

bool bp_is_slug(const char *s, size_t len) {
    if (!s || len == 0 || len > BP_ID_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    return true;
}

/* [A-Za-z0-9-]{1,max} */
static bool is_alnum_dash(const char *s, size_t len, size_t max) {
    if (!s || len == 0 || len > max) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

bool bp_is_callsign(const char *s, size_t len) {
    return is_alnum_dash(s, len, BP_CALLSIGN_MAX);
}

bool bp_is_incident_id(const char *s, size_t len) {
    return is_alnum_dash(s, len, BP_INCIDENT_MAX);
}

bool bp_is_source(const char *s, size_t len) {
    if (!s || len == 0 || len > BP_SOURCE_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == ':'))
            return false;
    }
    return true;
}

bool bp_is_clean_text(const char *s, size_t len, size_t max_bytes) {
    if (len > max_bytes) return false;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        uint32_t cp;
        int n;
        if (p[0] < 0x80) {
            cp = p[0];
            n = 1;
        } else if ((p[0] & 0xE0) == 0xC0) {
            cp = p[0] & 0x1F;
            n = 2;
        } else if ((p[0] & 0xF0) == 0xE0) {
            cp = p[0] & 0x0F;
            n = 3;
        } else if ((p[0] & 0xF8) == 0xF0) {
            cp = p[0] & 0x07;
            n = 4;
        } else {
            return false;
        }
        if (end - p < n) return false;
        for (int i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* overlong forms, surrogates, beyond Unicode */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
        /* bidirectional overrides and isolates can disguise text */
        if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return false;
        p += n;
    }
    return true;
}

int32_t bp_beds_available(const bp_beds_t *b) {
    if (b->staffed < 0 || b->occupied < 0) return -1;
    return b->staffed > b->occupied ? b->staffed - b->occupied : 0;
}

int32_t bp_beds_overflow(const bp_beds_t *b) {
    if (b->staffed < 0 || b->occupied < 0) return -1;
    return b->occupied > b->staffed ? b->occupied - b->staffed : 0;
}

bp_svc_status_t bp_svc_effective(const bp_svc_t *s, int64_t now_ms) {
    if (s->status != BP_SVS_AVAILABLE && s->until_ms > 0 && now_ms >= s->until_ms)
        return BP_SVS_AVAILABLE;
    return s->status;
}

bp_ed_status_t bp_ed_effective(const bp_ed_t *ed, int64_t now_ms) {
    if (ed->status != BP_ED_NORMAL && ed->until_ms > 0 && now_ms >= ed->until_ms)
        return BP_ED_NORMAL;
    return ed->status;
}

void bp_hospital_totals(const bp_hospital_state_t *h, bp_totals_t *out) {
    memset(out, 0, sizeof *out);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (t == BP_BED_EMERGENCY || t == BP_BED_OPERATING_ROOM) continue;
        if (!(h->beds_mask & (1u << t))) continue;
        const bp_beds_t *b = &h->beds[t];
        if (b->staffed < 0 || b->occupied < 0) continue;
        out->staffed += b->staffed;
        out->occupied += b->occupied;
        out->available += bp_beds_available(b);
        out->overflow += bp_beds_overflow(b);
        if (b->surge24 > 0) out->surge24 += b->surge24;
        out->types++;
    }
}

double bp_occupancy_pct(const bp_totals_t *t) {
    if (t->types == 0) return -1.0;
    if (t->staffed == 0) return t->occupied > 0 ? 999.0 : 0.0;
    return 100.0 * (double)t->occupied / (double)t->staffed;
}

int bp_pressure_level(const bp_hospital_state_t *h, const bp_pressure_cfg_t *cfg, int64_t now_ms) {
    bp_totals_t t;
    bp_hospital_totals(h, &t);
    double pct = bp_occupancy_pct(&t);
    int level = 1;
    if (pct >= cfg->level4_pct)
        level = 4;
    else if (pct >= cfg->level3_pct)
        level = 3;
    else if (pct >= cfg->level2_pct)
        level = 2;

    switch (bp_ed_effective(&h->ed, now_ms)) {
    case BP_ED_CLOSED: level = 4; break;
    case BP_ED_DIVERSION: level = level < 3 ? 3 : level; break;
    case BP_ED_ADVISORY: level = level < 2 ? 2 : level; break;
    default: break;
    }
    const bp_beds_t *icu = &h->beds[BP_BED_ICU_ADULT];
    if ((h->beds_mask & (1u << BP_BED_ICU_ADULT)) && icu->staffed > 0 &&
        bp_beds_available(icu) == 0 && level < 3)
        level = 3;
    if (h->offload_delayed && level < 3) level = 3; /* ambulances queue at its door */
    if (h->fac.status == BP_FAC_COMPROMISED && level < 3) level = 3;
    if (h->fac.status == BP_FAC_EVACUATING || h->fac.status == BP_FAC_CLOSED) level = 4;
    return level;
}

bp_freshness_t bp_freshness(int64_t at_ms, int64_t interval_s, int64_t now_ms) {
    if (at_ms <= 0) return BP_NEVER_REPORTED;
    int64_t age = now_ms - at_ms;
    if (age < 0) age = 0;
    if (age <= interval_s * 1000) return BP_FRESH;
    if (age <= 2 * interval_s * 1000) return BP_LATE;
    return BP_STALE;
}

void bp_hospital_state_init(bp_hospital_state_t *h) {
    memset(h, 0, sizeof *h);
    for (int t = 0; t < BP_BED__COUNT; t++)
        h->beds[t] = (bp_beds_t){-1, -1, -1};
    h->ed.status = BP_ED_NORMAL;
    h->ed.waiting = -1;
    bp_facility_init(&h->fac);
    h->check.bed_type = -1;
}

void bp_facility_init(bp_facility_t *f) {
    memset(f, 0, sizeof *f);
    for (int u = 0; u < BP_UTIL__COUNT; u++)
        f->util[u] = -1;
}

void bp_ambulance_state_init(bp_ambulance_state_t *a) {
    memset(a, 0, sizeof *a);
    a->status = BP_AMB_AVAILABLE_STATION;
    a->heading = -1;
    a->speed = -1;
}

void bp_incident_state_init(bp_incident_state_t *s, const char *id) {
    memset(s, 0, sizeof *s);
    if (id) snprintf(s->id, sizeof s->id, "%s", id);
    s->priority = 3;
    s->category = BP_CAT_OTHER;
}

void bp_change_init(bp_change_t *c, bp_kind_t kind) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->seq = -1;
    for (int t = 0; t < BP_BED__COUNT; t++)
        c->beds[t] = (bp_beds_t){-1, -1, -1};
    c->ed.waiting = -1;
    bp_facility_init(&c->fac);
    c->check.bed_type = -1;
    bp_ambulance_state_init(&c->amb);
    bp_incident_state_init(&c->inc, NULL);
    c->inc_action = BP_INC_UPDATE;
}

bool bp_bed_type_has_detail(int t) {
    return t == BP_BED_ICU_ADULT || t == BP_BED_ICU_PEDIATRIC;
}

int bp_change_bed_types(const bp_change_t *c) {
    int k = 0;
    for (int t = 0; t < BP_BED__COUNT; t++)
        k += c->bed_fields[t] != 0;
    return k;
}

static void stamp(uint64_t *version, int64_t *at, int64_t *updated, char *source,
                  const bp_change_t *c) {
    *version = c->version ? c->version : *version + 1;
    if (c->at_ms) *at = c->at_ms;
    if (c->updated_ms) *updated = c->updated_ms;
    memcpy(source, c->source, sizeof c->source);
}

void bp_hospital_apply(bp_hospital_state_t *h, const bp_change_t *c) {
    for (int t = 0; t < BP_BED__COUNT; t++) {
        uint8_t f = c->bed_fields[t];
        if (!f) continue;
        bp_beds_t *b = &h->beds[t];
        if (f & BP_BF_STAFFED) b->staffed = c->beds[t].staffed;
        if (f & BP_BF_OCCUPIED) {
            b->occupied = c->beds[t].occupied;
            h->occ_at_ms[t] = c->occ_at_ms[t] ? c->occ_at_ms[t] : c->at_ms;
        }
        if (f & BP_BF_SURGE24) b->surge24 = c->beds[t].surge24;
        if (f & BP_BF_VENTILATED) h->icu[t].ventilated = c->icu[t].ventilated;
        if (f & BP_BF_ECMO) h->icu[t].ecmo = c->icu[t].ecmo;
        h->icu_known[t] |= f & (BP_BF_VENTILATED | BP_BF_ECMO);
        h->beds_mask |= 1u << t;
    }
    if (c->has_ed) h->ed = c->ed;
    for (int s = 0; s < BP_SVC__COUNT; s++)
        if (c->svc_fields & (1u << s)) h->svc[s] = c->svc[s];
    h->svc_mask |= c->svc_fields;
    if (c->has_fac) {
        h->fac = c->fac;
        h->fac_reported = true;
    }
    if (c->has_check) {
        h->check = c->check;
        h->check_unsaved = c->check_derived;
    }
    stamp(&h->version, &h->at_ms, &h->updated_ms, h->source, c);
}

void bp_ambulance_apply(bp_ambulance_state_t *a, const bp_change_t *c) {
    const bp_ambulance_state_t *n = &c->amb;
    if (c->amb_fields & BP_AF_STATUS) a->status = n->status;
    if (c->amb_fields & BP_AF_POSITION) {
        a->has_position = true;
        a->lat = n->lat;
        a->lon = n->lon;
    }
    if (c->amb_fields & BP_AF_HEADING) a->heading = n->heading;
    if (c->amb_fields & BP_AF_SPEED) a->speed = n->speed;
    if (c->amb_fields & BP_AF_DESTINATION)
        memcpy(a->destination, n->destination, sizeof a->destination);
    if (c->amb_fields & BP_AF_INCIDENT) memcpy(a->incident, n->incident, sizeof a->incident);
    stamp(&a->version, &a->at_ms, &a->updated_ms, a->source, c);
}

void bp_incident_apply(bp_incident_state_t *s, const bp_change_t *c) {
    const bp_incident_state_t *n = &c->inc;
    unsigned f = c->inc_fields;
    if (c->inc_action == BP_INC_CREATE) {
        uint64_t version = s->version; /* a reopened id keeps counting */
        bp_incident_state_init(s, c->id);
        s->version = version;
        s->opened_ms = n->opened_ms ? n->opened_ms : c->at_ms;
    }
    if (f & BP_IF_PRIORITY) s->priority = n->priority;
    if (f & BP_IF_CATEGORY) s->category = n->category;
    if (f & BP_IF_POSITION) {
        s->lat = n->lat;
        s->lon = n->lon;
    }
    if (f & BP_IF_ADDRESS) memcpy(s->address, n->address, sizeof s->address);
    if (f & BP_IF_RECEIVED) s->received_ms = n->received_ms;
    if (f & BP_IF_UNIT) memcpy(s->unit, n->unit, sizeof s->unit);
    if (f & BP_IF_DESTINATION) memcpy(s->destination, n->destination, sizeof s->destination);
    stamp(&s->version, &s->at_ms, &s->updated_ms, s->source, c);
}
