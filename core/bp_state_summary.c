/* The city's summary (GET /api/v1/summary): totals for the city, each tier,
 * district and bed type (the ICU types with their ventilated and ECMO
 * places), pressure levels, ED statuses, report freshness
 * and ambulance statuses, from the state through its public accessors. */
#include "bp_jw.h"
#include "bp_state.h"

#include <stdlib.h>

typedef struct {
    int64_t staffed, occupied, available, overflow, surge24;
    int hospitals, reporting;
} agg_t;

static void agg_add(agg_t *a, const bp_totals_t *t, int reported) {
    a->hospitals++;
    if (!reported || t->types == 0) return;
    a->reporting++;
    a->staffed += t->staffed;
    a->occupied += t->occupied;
    a->available += t->available;
    a->overflow += t->overflow;
    a->surge24 += t->surge24;
}

static void write_agg(bp_jw_t *w, const agg_t *a) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "hospitals");
    bp_jw_int(w, a->hospitals);
    BP_JW_KEY(w, "reporting");
    bp_jw_int(w, a->reporting);
    BP_JW_KEY(w, "staffed");
    bp_jw_int(w, a->staffed);
    BP_JW_KEY(w, "occupied");
    bp_jw_int(w, a->occupied);
    BP_JW_KEY(w, "available");
    bp_jw_int(w, a->available);
    BP_JW_KEY(w, "overflow");
    bp_jw_int(w, a->overflow);
    BP_JW_KEY(w, "surge24");
    bp_jw_int(w, a->surge24);
    BP_JW_KEY(w, "occupancy_pct");
    bp_jw_num_or_null(
        w, a->staffed > 0,
        a->staffed > 0 ? bp_state_pct_shown(100.0 * (double)a->occupied / (double)a->staffed) : 0,
        1);
    bp_jw_end(w);
}

/* An intensive-care pair summed over the hospitals that report it. */
typedef struct {
    int64_t total, free;
    int hospitals;
} places_t;

static void places_add(places_t *a, const bp_places_t *p) {
    a->hospitals++;
    a->total += p->total;
    a->free += p->free;
}

static void write_places(bp_jw_t *w, const places_t *a) {
    static const char *const keys[3] = {"hospitals", "total", "free"};
    const int64_t v[3] = {a->hospitals, a->total, a->free};
    bp_jw_obj(w);
    for (int i = 0; i < 3; i++) {
        bp_jw_key(w, keys[i]);
        bp_jw_int(w, v[i]);
    }
    bp_jw_end(w);
}

void bp_state_write_summary(bp_buf_t *b, const bp_state_t *st, int64_t now_ms) {
    const bp_registry_t *r = bp_state_registry(st);
    agg_t city = {0}, tiers[BP_TIER__COUNT] = {{0}};
    agg_t *districts = calloc(r->n_districts ? r->n_districts : 1, sizeof *districts);
    if (!districts) {
        b->failed = true;
        return;
    }
    /* per bed type: staffed/occupied over hospitals that reported the type;
     * the intensive-care detail over hospitals that reported each pair */
    struct {
        int64_t staffed, occupied, available, overflow, surge24;
        int hospitals;
        places_t vent, ecmo;
    } types[BP_BED__COUNT] = {{0}};
    int levels[5] = {0}, ed[BP_ED__COUNT] = {0}, fresh[4] = {0};
    for (size_t i = 0; i < r->n_hospitals; i++) {
        const bp_hospital_info_t *info = &r->hospitals[i];
        const bp_hospital_state_t *h = bp_state_hospital(st, i);
        bp_totals_t t;
        bp_hospital_totals(h, &t);
        int reported = h->at_ms > 0;
        agg_add(&city, &t, reported);
        agg_add(&tiers[info->tier], &t, reported);
        agg_add(&districts[info->district], &t, reported);
        for (int k = 0; k < BP_BED__COUNT; k++) {
            const bp_beds_t *x = &h->beds[k];
            if (!(h->beds_mask & (1u << k)) || !reported || x->staffed < 0 || x->occupied < 0)
                continue;
            types[k].staffed += x->staffed;
            types[k].occupied += x->occupied;
            types[k].available += bp_beds_available(x);
            types[k].overflow += bp_beds_overflow(x);
            if (x->surge24 > 0) types[k].surge24 += x->surge24;
            types[k].hospitals++;
        }
        for (int k = 0; k < BP_BED__COUNT; k++) {
            if (!reported || !bp_bed_type_has_detail(k)) continue;
            if (h->icu_known[k] & BP_BF_VENTILATED)
                places_add(&types[k].vent, &h->icu[k].ventilated);
            if (h->icu_known[k] & BP_BF_ECMO) places_add(&types[k].ecmo, &h->icu[k].ecmo);
        }
        levels[bp_pressure_level(h, bp_state_pressure(st), now_ms)]++;
        ed[bp_ed_effective(&h->ed, now_ms)]++;
        fresh[bp_freshness(h->at_ms, info->report_interval_s, now_ms)]++;
    }
    int amb[BP_AMB__COUNT] = {0};
    for (size_t i = 0; i < r->n_units; i++)
        amb[bp_state_ambulance(st, i)->status]++;

    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "now");
    bp_jw_time(&w, now_ms);
    BP_JW_KEY(&w, "city");
    write_agg(&w, &city);
    BP_JW_KEY(&w, "bed_types");
    bp_jw_obj(&w);
    for (int k = 0; k < BP_BED__COUNT; k++) {
        bp_jw_key(&w, bp_bed_type_name((bp_bed_type_t)k));
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "hospitals");
        bp_jw_int(&w, types[k].hospitals);
        BP_JW_KEY(&w, "staffed");
        bp_jw_int(&w, types[k].staffed);
        BP_JW_KEY(&w, "occupied");
        bp_jw_int(&w, types[k].occupied);
        BP_JW_KEY(&w, "available");
        bp_jw_int(&w, types[k].available);
        BP_JW_KEY(&w, "overflow");
        bp_jw_int(&w, types[k].overflow);
        BP_JW_KEY(&w, "surge24");
        bp_jw_int(&w, types[k].surge24);
        if (bp_bed_type_has_detail(k)) {
            BP_JW_KEY(&w, "ventilated");
            write_places(&w, &types[k].vent);
            BP_JW_KEY(&w, "ecmo");
            write_places(&w, &types[k].ecmo);
        }
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "tiers");
    bp_jw_obj(&w);
    for (int k = 0; k < BP_TIER__COUNT; k++) {
        bp_jw_key(&w, bp_tier_name((bp_tier_t)k));
        write_agg(&w, &tiers[k]);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "districts");
    bp_jw_obj(&w);
    for (size_t k = 0; k < r->n_districts; k++) {
        bp_jw_key(&w, r->districts[k].id);
        write_agg(&w, &districts[k]);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "levels");
    bp_jw_obj(&w);
    for (int k = 1; k <= 4; k++) {
        const char key[2] = {(char)('0' + k), '\0'};
        bp_jw_key_n(&w, key, 1);
        bp_jw_int(&w, levels[k]);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "ed");
    bp_jw_obj(&w);
    for (int k = 0; k < BP_ED__COUNT; k++) {
        bp_jw_key(&w, bp_ed_status_name((bp_ed_status_t)k));
        bp_jw_int(&w, ed[k]);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "freshness");
    bp_jw_obj(&w);
    for (int k = 0; k < 4; k++) {
        bp_jw_key(&w, bp_freshness_name((bp_freshness_t)k));
        bp_jw_int(&w, fresh[k]);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "ambulances");
    bp_jw_obj(&w);
    for (int k = 0; k < BP_AMB__COUNT; k++) {
        bp_jw_key(&w, bp_amb_status_name((bp_amb_status_t)k));
        bp_jw_int(&w, amb[k]);
    }
    bp_jw_end(&w);
    bp_jw_end(&w);
    free(districts);
}
