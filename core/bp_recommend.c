/* Destination ranking (see bp_recommend.h). */
#include "bp_recommend.h"
#include "bp_jw.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SPEC(x) (1u << BP_SPEC_##x)

static void need(bp_need_t *n, uint32_t specialties, int b0, int b1, int b2) {
    const int b[3] = {b0, b1, b2};
    n->n_beds = 0;
    for (int i = 0; i < 3; i++)
        if (b[i] >= 0) n->beds[n->n_beds++] = b[i];
    n->specialties = specialties;
}

void bp_dispatch_defaults(bp_dispatch_cfg_t *c) {
    memset(c, 0, sizeof *c);
    bp_alert_defaults(&c->alerts);
    bp_plausible_defaults(&c->plausibility);
    c->detour_factor = 1.4;
    /* Hanoi traffic: free at night, crawling in the rush hours */
    static const struct {
        int from;
        double kmh;
    } bands[] = {{0, 35},       {6 * 60 + 30, 18}, {9 * 60, 24}, {16 * 60 + 30, 16},
                 {19 * 60, 26}, {22 * 60, 35}};
    c->n_bands = (int)(sizeof bands / sizeof *bands);
    for (int i = 0; i < c->n_bands; i++) {
        c->bands[i].from_min = bands[i].from;
        c->bands[i].kmh = bands[i].kmh;
    }
    c->utc_offset_min = 7 * 60;
    c->diversion_extra_min = 10;
    c->no_capacity_penalty_min = 30;
    c->no_specialty_penalty_min = 20;
    c->central_penalty_min[0] = 0;
    c->central_penalty_min[1] = 5;
    c->central_penalty_min[2] = 15;
    c->sister_bonus_min = 5;
    c->late_penalty_min = 3;
    c->stale_penalty_min = 10;
    c->limited_service_penalty_min = 10;
    c->no_icu_place_penalty_min = 30;
    need(&c->needs[BP_CAT_TRAUMA], SPEC(TRAUMA) | SPEC(NEUROSURGERY) | SPEC(ORTHOPEDICS),
         BP_BED_MEDICAL_SURGICAL, BP_BED_ICU_ADULT, -1);
    need(&c->needs[BP_CAT_STROKE], SPEC(STROKE) | SPEC(NEUROSURGERY), BP_BED_ICU_ADULT,
         BP_BED_MEDICAL_SURGICAL, -1);
    need(&c->needs[BP_CAT_CARDIAC], SPEC(CARDIOLOGY) | SPEC(CARDIAC_SURGERY), BP_BED_ICU_ADULT,
         BP_BED_MEDICAL_SURGICAL, -1);
    need(&c->needs[BP_CAT_OBSTETRIC], SPEC(OBSTETRICS), BP_BED_OBSTETRICS, -1, -1);
    need(&c->needs[BP_CAT_PEDIATRIC], SPEC(PEDIATRICS), BP_BED_PEDIATRICS, BP_BED_ICU_PEDIATRIC,
         -1);
    need(&c->needs[BP_CAT_BURN], SPEC(BURNS), BP_BED_BURN, BP_BED_ICU_ADULT, -1);
    need(&c->needs[BP_CAT_RESPIRATORY], SPEC(INFECTIOUS_DISEASE) | SPEC(RESPIRATORY),
         BP_BED_ISOLATION, BP_BED_ICU_ADULT, BP_BED_MEDICAL_SURGICAL);
    need(&c->needs[BP_CAT_PSYCHIATRIC], SPEC(PSYCHIATRY), BP_BED_PSYCHIATRIC, -1, -1);
    need(&c->needs[BP_CAT_OTHER], 0, BP_BED_MEDICAL_SURGICAL, -1, -1);
#define SVC(x) (1u << BP_SVC_##x)
    c->needs[BP_CAT_TRAUMA].services = SVC(TRAUMA) | SVC(CT);
    c->needs[BP_CAT_STROKE].services = SVC(CT) | SVC(STROKE_UNIT);
    c->needs[BP_CAT_CARDIAC].services = SVC(CATH_LAB);
    c->needs[BP_CAT_OBSTETRIC].services = SVC(OBSTETRIC_ED);
    c->needs[BP_CAT_PEDIATRIC].services = SVC(PEDIATRIC_ED);
    c->needs[BP_CAT_BURN].services = SVC(BURN_UNIT);
    c->needs[BP_CAT_PSYCHIATRIC].services = SVC(PSYCHIATRIC_ED);
#undef SVC
}

double bp_distance_km(double lat1, double lon1, double lat2, double lon2) {
    const double r = 6371.0, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(fmin(1.0, sqrt(a)));
}

double bp_travel_min(const bp_dispatch_cfg_t *cfg, double km, int64_t now_ms) {
    int64_t local = now_ms / 60000 + cfg->utc_offset_min;
    int minute = (int)(((local % 1440) + 1440) % 1440);
    double kmh = cfg->n_bands ? cfg->bands[0].kmh : 25;
    for (int i = 0; i < cfg->n_bands; i++)
        if (minute >= cfg->bands[i].from_min) kmh = cfg->bands[i].kmh;
    if (kmh <= 0) kmh = 1;
    return km * cfg->detour_factor / kmh * 60.0;
}

const char *bp_place_name(bp_place_t p) {
    static const char *const names[BP_PLACE__COUNT] = {"ventilator", "ecmo"};
    return (unsigned)p < BP_PLACE__COUNT ? names[p] : NULL;
}

int bp_place_parse(const char *s, size_t len) {
    for (int k = 0; k < BP_PLACE__COUNT; k++) {
        const char *n = bp_place_name((bp_place_t)k);
        if (strlen(n) == len && memcmp(n, s, len) == 0) return k;
    }
    return -1;
}

/* The free places of kind p over the ICU types the need counts (those of
 * its bed types that carry the detail; both ICU types when none does),
 * summed over the types that report the pair; -1 when none reports it. */
static int place_free(const bp_hospital_state_t *h, const bp_need_t *need, int p) {
    uint32_t types = 0;
    for (int k = 0; k < need->n_beds; k++)
        if (bp_bed_type_has_detail(need->beds[k])) types |= 1u << need->beds[k];
    if (!types) types = 1u << BP_BED_ICU_ADULT | 1u << BP_BED_ICU_PEDIATRIC;
    const uint8_t bit = p == BP_PLACE_VENTILATOR ? BP_BF_VENTILATED : BP_BF_ECMO;
    int free = -1;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!(types >> t & 1) || !(h->icu_known[t] & bit)) continue;
        const bp_places_t *x = p == BP_PLACE_VENTILATOR ? &h->icu[t].ventilated : &h->icu[t].ecmo;
        free = (free < 0 ? 0 : free) + x->free;
    }
    return free;
}

static bool has_bed(const bp_hospital_info_t *info, const bp_hospital_state_t *h, int t) {
    return ((info->beds_mask | h->beds_mask) >> t & 1) &&
           (h->beds[t].staffed > 0 || (h->beds[t].staffed < 0 && info->staffed[t] > 0));
}

/* Fills c for hospital i; false when it has none of the needed bed types,
 * or is being evacuated or closed (it takes no one, however near). */
static bool build(const bp_state_t *st, const bp_dispatch_cfg_t *cfg, const bp_rec_query_t *q,
                  int sister, size_t i, bp_candidate_t *c) {
    const bp_registry_t *reg = bp_state_registry(st);
    const bp_hospital_info_t *info = &reg->hospitals[i];
    const bp_hospital_state_t *h = bp_state_hospital(st, i);
    memset(c, 0, sizeof *c);
    c->hospital = (int)i;
    c->bed_type = -1;
    c->inbound = q->inbound ? q->inbound[i] : 0;
    if (h->fac.status == BP_FAC_EVACUATING || h->fac.status == BP_FAC_CLOSED) return false;
    for (int k = 0; k < q->need.n_beds; k++) {
        int t = q->need.beds[k];
        if (t < 0 || t >= BP_BED__COUNT || !has_bed(info, h, t)) continue;
        const bp_beds_t *b = &h->beds[t];
        int staffed = b->staffed >= 0 ? b->staffed : info->staffed[t];
        int surge = b->surge24 >= 0 ? b->surge24 : (info->surge24[t] > 0 ? info->surge24[t] : 0);
        bool known = b->occupied >= 0 && staffed >= 0;
        int avail = known ? (staffed > b->occupied ? staffed - b->occupied : 0) : -1;
        int free = known ? avail + surge - c->inbound : 0;
        if (c->bed_type < 0 || (known && free > 0 && !(c->known && c->free > 0))) {
            c->bed_type = t;
            c->known = known;
            c->available = avail;
            c->surge24 = surge;
            c->free = free;
        }
        if (known && free > 0) break; /* the first preferred type with room */
    }
    if (c->bed_type < 0) return false;
    c->km = bp_distance_km(q->lat, q->lon, info->lat, info->lon);
    c->eta_min = bp_travel_min(cfg, c->km, q->now_ms);
    c->ed = bp_ed_effective(&h->ed, q->now_ms);
    for (int k = 0; k < BP_SVC__COUNT; k++) {
        if (!(q->need.services & h->svc_mask & (1u << k))) continue;
        bp_svc_status_t s = bp_svc_effective(&h->svc[k], q->now_ms);
        if (s == BP_SVS_AVAILABLE) continue;
        if (!c->svc_out && (s == BP_SVS_UNAVAILABLE || !c->svc_limited))
            memcpy(c->svc_reason, h->svc[k].reason, sizeof c->svc_reason);
        if (s == BP_SVS_UNAVAILABLE)
            c->svc_out |= 1u << k;
        else
            c->svc_limited |= 1u << k;
    }
    c->diverted = c->ed == BP_ED_DIVERSION || c->ed == BP_ED_CLOSED || c->svc_out;
    c->specialty = !q->need.specialties || (info->specialties & q->need.specialties);
    c->freshness = bp_freshness(h->at_ms, info->report_interval_s, q->now_ms);
    int prio = q->priority < 1 ? 1 : q->priority > 3 ? 3 : q->priority;
    c->central_penalty = info->tier == BP_TIER_CENTRAL && cfg->central_penalty_min[prio - 1] > 0;
    c->sister = sister == (int)i;
    double s = c->eta_min;
    if (!c->known)
        s += cfg->no_capacity_penalty_min / 2;
    else if (c->free <= 0)
        s += cfg->no_capacity_penalty_min;
    if (!c->specialty) s += cfg->no_specialty_penalty_min;
    if (c->svc_limited) s += cfg->limited_service_penalty_min;
    for (int p = 0; p < BP_PLACE__COUNT; p++) {
        c->place_free[p] = -1;
        if (!(q->need.places >> p & 1)) continue;
        c->place_free[p] = place_free(h, &q->need, p);
        if (c->place_free[p] < 0)
            s += cfg->no_icu_place_penalty_min / 2;
        else if (c->place_free[p] == 0)
            s += cfg->no_icu_place_penalty_min;
    }
    c->compromised = h->fac.status == BP_FAC_COMPROMISED;
    if (c->central_penalty) s += cfg->central_penalty_min[prio - 1];
    if (c->sister) s -= cfg->sister_bonus_min;
    if (c->freshness == BP_LATE)
        s += cfg->late_penalty_min;
    else if (c->freshness != BP_FRESH)
        s += cfg->stale_penalty_min;
    c->score = s;
    return true;
}

void bp_recommend_inbound(const bp_state_t *st, int *inbound) {
    const bp_registry_t *reg = bp_state_registry(st);
    memset(inbound, 0, reg->n_hospitals * sizeof *inbound);
    for (size_t i = 0; i < reg->n_units; i++) {
        const bp_ambulance_state_t *a = bp_state_ambulance(st, i);
        if (a->status != BP_AMB_TRANSPORTING || !a->destination[0]) continue;
        int h = bp_registry_hospital(reg, a->destination, strlen(a->destination));
        if (h >= 0) inbound[h]++;
    }
}

static bool better(const bp_candidate_t *a, const bp_candidate_t *b) {
    if (a->score != b->score) return a->score < b->score;
    if (a->eta_min != b->eta_min) return a->eta_min < b->eta_min;
    return a->hospital < b->hospital;
}

size_t bp_recommend(const bp_state_t *st, const bp_dispatch_cfg_t *cfg, const bp_rec_query_t *q,
                    bp_candidate_t *out, size_t max) {
    const bp_registry_t *reg = bp_state_registry(st);
    /* the sister of the nearest district hospital: where its overflow goes */
    int sister = -1;
    double best_km = INFINITY;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_info_t *info = &reg->hospitals[i];
        if (info->tier != BP_TIER_DISTRICT || info->sister < 0) continue;
        double km = bp_distance_km(q->lat, q->lon, info->lat, info->lon);
        if (km < best_km) {
            best_km = km;
            sister = info->sister;
        }
    }
    /* diverted EDs count only if nothing open is near enough */
    double open_eta = INFINITY, div_eta = INFINITY;
    bp_candidate_t c;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        if (!build(st, cfg, q, sister, i, &c)) continue;
        if (c.diverted)
            div_eta = fmin(div_eta, c.eta_min);
        else
            open_eta = fmin(open_eta, c.eta_min);
    }
    bool with_diverted = open_eta > div_eta + cfg->diversion_extra_min;
    size_t n = 0;
    for (size_t i = 0; i < reg->n_hospitals && max; i++) {
        if (!build(st, cfg, q, sister, i, &c) || (c.diverted && !with_diverted)) continue;
        size_t at = n;
        while (at > 0 && better(&c, &out[at - 1]))
            at--;
        if (at >= max) continue;
        size_t keep = n < max ? n : max - 1;
        memmove(&out[at + 1], &out[at], (keep - at) * sizeof *out);
        out[at] = c;
        if (n < max) n++;
    }
    return n;
}

/* -- reasons in words ---------------------------------------------------------- */

static const char *const beds_en[BP_BED__COUNT] = {
    "ED places", "adult ICU", "pediatric ICU", "neonatal ICU", "ward", "pediatric ward",
    "maternity", "burn",      "psychiatric",   "isolation",    "OR"};
static const char *const beds_vi[BP_BED__COUNT] = {
    "chỗ cấp cứu", "HSTC người lớn", "HSTC nhi", "HSTC sơ sinh", "nội/ngoại khoa", "nhi",
    "sản",         "bỏng",           "tâm thần", "cách ly",      "phòng mổ"};

static const char *const svc_en[BP_SVC__COUNT] = {
    "CT",       "MRI",          "cath lab",     "stroke unit",    "trauma team", "burn unit",
    "dialysis", "obstetric ED", "pediatric ED", "psychiatric ED", "ECMO"};
static const char *const svc_vi[BP_SVC__COUNT] = {"CT",
                                                  "MRI",
                                                  "phòng can thiệp tim mạch",
                                                  "đơn vị đột quỵ",
                                                  "kíp chấn thương",
                                                  "đơn vị bỏng",
                                                  "lọc máu",
                                                  "cấp cứu sản",
                                                  "cấp cứu nhi",
                                                  "cấp cứu tâm thần",
                                                  "ECMO"};

typedef struct {
    char *p;
    size_t left, len;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p, o->left, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t w = (size_t)n < o->left ? (size_t)n : (o->left ? o->left - 1 : 0);
    o->p += w;
    o->left -= w;
    o->len += (size_t)n;
}

static const struct {
    int spec;
    const char *en, *vi;
} spec_words[] = {
    {BP_SPEC_STROKE, "stroke unit", "đơn vị đột quỵ"},
    {BP_SPEC_NEUROSURGERY, "neurosurgery", "phẫu thuật thần kinh"},
    {BP_SPEC_TRAUMA, "trauma centre", "trung tâm chấn thương"},
    {BP_SPEC_ORTHOPEDICS, "orthopedics", "chấn thương chỉnh hình"},
    {BP_SPEC_CARDIOLOGY, "cardiology", "tim mạch"},
    {BP_SPEC_CARDIAC_SURGERY, "cardiac surgery", "phẫu thuật tim"},
    {BP_SPEC_OBSTETRICS, "obstetrics", "sản khoa"},
    {BP_SPEC_PEDIATRICS, "pediatrics", "nhi khoa"},
    {BP_SPEC_BURNS, "burn centre", "trung tâm bỏng"},
    {BP_SPEC_INFECTIOUS_DISEASE, "infectious diseases", "truyền nhiễm"},
    {BP_SPEC_RESPIRATORY, "respiratory", "hô hấp"},
    {BP_SPEC_PSYCHIATRY, "psychiatry", "tâm thần"},
};

size_t bp_candidate_reason(const bp_candidate_t *c, const bp_registry_t *reg, const bp_need_t *need,
                           const char *lang, char *buf, size_t len) {
    bool vi = lang && strcmp(lang, "vi") == 0;
    out_t o = {buf, len, 0};
    if (len) buf[0] = '\0';
    const char *bed =
        (unsigned)c->bed_type < BP_BED__COUNT ? (vi ? beds_vi : beds_en)[c->bed_type] : "?";
    put(&o, vi ? "%.0f phút" : "%.0f min", ceil(bp_eta_shown(c->eta_min)));
    if (!c->known)
        put(&o, vi ? " · %s: chưa báo cáo" : " · %s: not reported", bed);
    else if (c->free > 0)
        put(&o, vi ? " · %d %s trống" : " · %d %s free", c->free, bed);
    else
        put(&o, vi ? " · hết %s" : " · no %s free", bed);
    if (c->inbound > 0) put(&o, vi ? ", %d xe đang đến" : ", %d inbound", c->inbound);
    for (int p = 0; p < BP_PLACE__COUNT; p++) {
        if (!(need->places >> p & 1)) continue;
        const char *what = p == BP_PLACE_VENTILATOR ? (vi ? "thở máy" : "ventilator") : "ECMO";
        int n = c->place_free[p];
        if (n < 0)
            put(&o, vi ? " · chỗ %s: chưa báo cáo" : " · %s places not reported", what);
        else if (n == 0)
            put(&o, vi ? " · hết chỗ %s" : " · no %s place free", what);
        else if (vi)
            put(&o, " · %d chỗ %s trống", n, what);
        else
            put(&o, " · %d %s place%s free", n, what, n == 1 ? "" : "s");
    }
    uint32_t m = reg->hospitals[c->hospital].specialties & need->specialties;
    if (need->specialties && !m)
        put(&o, vi ? " · không có chuyên khoa phù hợp" : " · no matching specialty");
    for (size_t k = 0; m && k < sizeof spec_words / sizeof *spec_words; k++) {
        if (!(m >> spec_words[k].spec & 1)) continue;
        put(&o, " · %s", vi ? spec_words[k].vi : spec_words[k].en);
        break;
    }
    for (int k = 0; k < BP_SVC__COUNT; k++) {
        if (!((c->svc_out | c->svc_limited) >> k & 1)) continue;
        bool out = c->svc_out >> k & 1;
        const char *name = (vi ? svc_vi : svc_en)[k];
        put(&o,
            vi ? (out ? " · %s ngừng hoạt động" : " · %s hạn chế")
               : (out ? " · %s unavailable" : " · %s limited"),
            name);
    }
    if (c->svc_reason[0]) put(&o, " (%s)", c->svc_reason);
    if (c->diverted && c->ed != BP_ED_DIVERSION && c->ed != BP_ED_CLOSED)
        put(&o, vi ? " · không còn nơi nào gần hơn" : " · nothing else is near");
    else if (c->diverted)
        put(&o, vi ? " · cấp cứu đang chuyển hướng (không còn nơi mở cửa gần hơn)"
                   : " · ED on diversion (nothing open is near)");
    else if (c->ed == BP_ED_ADVISORY)
        put(&o, vi ? " · cấp cứu đang quá tải" : " · ED advisory");
    if (c->compromised) put(&o, vi ? " · cơ sở đang gặp sự cố" : " · facility compromised");
    if (c->sister)
        put(&o, vi ? " · bệnh viện vệ tinh của khu vực" : " · this area's sister hospital");
    if (c->central_penalty)
        put(&o, vi ? " · tuyến trung ương: ưu tiên ca nặng" : " · central: kept for severe cases");
    if (c->freshness == BP_LATE)
        put(&o, vi ? " · báo cáo muộn" : " · report late");
    else if (c->freshness != BP_FRESH)
        put(&o, vi ? " · số liệu cũ" : " · figures stale");
    return o.len;
}

void bp_candidate_write(bp_buf_t *b, const bp_candidate_t *x, const bp_registry_t *reg,
                        const bp_need_t *need, size_t rank) {
    const bp_hospital_info_t *h = &reg->hospitals[x->hospital];
    char en[560], vi[720];
    bp_candidate_reason(x, reg, need, "en", en, sizeof en);
    bp_candidate_reason(x, reg, need, "vi", vi, sizeof vi);
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "hospital");
    bp_jw_cstr(&w, h->id);
    BP_JW_KEY(&w, "name");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "vi");
    bp_jw_cstr(&w, h->name.vi);
    BP_JW_KEY(&w, "en");
    bp_jw_cstr(&w, h->name.en);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "tier");
    bp_jw_cstr(&w, bp_tier_name(h->tier));
    BP_JW_KEY(&w, "rank");
    bp_jw_int(&w, (int64_t)rank);
    BP_JW_KEY(&w, "eta_min");
    bp_jw_num(&w, bp_eta_shown(x->eta_min), 1);
    BP_JW_KEY(&w, "km");
    bp_jw_num(&w, x->km, 2);
    BP_JW_KEY(&w, "bed_type");
    bp_jw_cstr(&w, bp_bed_type_name((bp_bed_type_t)x->bed_type));
    BP_JW_KEY(&w, "known");
    bp_jw_bool(&w, x->known);
    BP_JW_KEY(&w, "available");
    bp_jw_int_or_null(&w, x->known, x->available);
    BP_JW_KEY(&w, "surge24");
    bp_jw_int(&w, x->surge24);
    BP_JW_KEY(&w, "inbound");
    bp_jw_int(&w, x->inbound);
    BP_JW_KEY(&w, "free");
    bp_jw_int_or_null(&w, x->known, x->free);
    BP_JW_KEY(&w, "specialty");
    bp_jw_bool(&w, x->specialty);
    BP_JW_KEY(&w, "ed");
    bp_jw_cstr(&w, bp_ed_status_name(x->ed));
    BP_JW_KEY(&w, "diverted");
    bp_jw_bool(&w, x->diverted);
    const uint32_t svc[2] = {x->svc_out, x->svc_limited};
    for (int j = 0; j < 2; j++) {
        if (j)
            BP_JW_KEY(&w, "services_limited");
        else
            BP_JW_KEY(&w, "services_out");
        bp_jw_arr(&w);
        for (int k = 0; k < BP_SVC__COUNT; k++)
            if (svc[j] >> k & 1) bp_jw_cstr(&w, bp_service_name((bp_service_t)k));
        bp_jw_end(&w);
    }
    if (need->places) {
        BP_JW_KEY(&w, "places");
        bp_jw_obj(&w);
        for (int p = 0; p < BP_PLACE__COUNT; p++) {
            if (!(need->places >> p & 1)) continue;
            bp_jw_key(&w, bp_place_name((bp_place_t)p));
            bp_jw_int_or_null(&w, x->place_free[p] >= 0, x->place_free[p]);
        }
        bp_jw_end(&w);
    }
    BP_JW_KEY(&w, "sister");
    bp_jw_bool(&w, x->sister);
    BP_JW_KEY(&w, "central_penalty");
    bp_jw_bool(&w, x->central_penalty);
    BP_JW_KEY(&w, "freshness");
    bp_jw_cstr(&w, bp_freshness_name(x->freshness));
    BP_JW_KEY(&w, "score");
    bp_jw_num(&w, x->score, 1);
    BP_JW_KEY(&w, "reason");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "en");
    bp_jw_cstr(&w, en);
    BP_JW_KEY(&w, "vi");
    bp_jw_cstr(&w, vi);
    bp_jw_end(&w);
    bp_jw_end(&w);
}
