/* The public capacity document and the open-data files (see bp_public.h). */
#include "bp_public.h"
#include "bp_jw.h"
#include "bp_time.h"

#include <stdio.h>
#include <string.h>

const char *bp_public_ed_state(bp_ed_status_t s) {
    switch (s) {
    case BP_ED_ADVISORY: return "busy";
    case BP_ED_DIVERSION: return "diverting";
    case BP_ED_CLOSED: return "closed";
    default: return "accepting";
    }
}

const char *bp_public_facility(const bp_hospital_state_t *h) {
    if (!h->fac_reported) return "open";
    return h->fac.status == BP_FAC_EVACUATING ? "evacuating"
           : h->fac.status == BP_FAC_CLOSED   ? "closed"
                                              : "open";
}

bp_ed_status_t bp_public_ed(const bp_hospital_state_t *h, int64_t now_ms) {
    if (strcmp(bp_public_facility(h), "open") != 0) return BP_ED_CLOSED;
    return bp_ed_effective(&h->ed, now_ms);
}

const bp_service_t bp_public_services[BP_PUBLIC_SERVICES] = {
    BP_SVC_STROKE_UNIT, BP_SVC_TRAUMA, BP_SVC_OBSTETRIC_ED, BP_SVC_PEDIATRIC_ED};

const char *bp_public_ed_reason(const bp_hospital_state_t *h, const bp_pressure_cfg_t *p,
                                int64_t now_ms) {
    const char *fac = bp_public_facility(h);
    if (strcmp(fac, "evacuating") == 0) return "evacuating";
    if (strcmp(fac, "closed") == 0) return "facility_closed";
    if (bp_ed_effective(&h->ed, now_ms) == BP_ED_NORMAL) return NULL;
    const bp_beds_t *icu = &h->beds[BP_BED_ICU_ADULT];
    if (icu->staffed > 0 && icu->occupied >= 0 && bp_beds_available(icu) == 0) return "icu_full";
    bp_totals_t t;
    bp_hospital_totals(h, &t);
    double occ = bp_occupancy_pct(&t);
    if (occ >= 0 && p && occ >= p->level3_pct) return "beds_full";
    if (h->offload_delayed) return "ambulance_delays";
    return "other";
}

typedef struct {
    int64_t free[BP_BED__COUNT], staffed[BP_BED__COUNT];
    int hospitals[BP_BED__COUNT];
    int64_t updated;
} agg_t;

static void agg_add(agg_t *a, const bp_hospital_state_t *h) {
    bool any = false;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        const bp_beds_t *b = &h->beds[t];
        if (b->staffed < 0 || b->occupied < 0) continue;
        a->free[t] += bp_beds_available(b);
        a->staffed[t] += b->staffed;
        a->hospitals[t]++;
        any = true;
    }
    if (any && h->at_ms > a->updated) a->updated = h->at_ms;
}

static void agg_write(bp_jw_t *w, const agg_t *a) {
    BP_JW_KEY(w, "beds");
    bp_jw_obj(w);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!a->hospitals[t]) continue;
        bp_jw_key(w, bp_bed_type_name((bp_bed_type_t)t));
        bp_jw_obj(w);
        BP_JW_KEY(w, "free");
        bp_jw_int(w, a->free[t]);
        BP_JW_KEY(w, "staffed");
        bp_jw_int(w, a->staffed[t]);
        BP_JW_KEY(w, "hospitals");
        bp_jw_int(w, a->hospitals[t]);
        bp_jw_end(w);
    }
    bp_jw_end(w);
    BP_JW_KEY(w, "updated");
    bp_jw_time(w, a->updated);
}

void bp_public_write(bp_buf_t *b, const bp_state_t *st, const bp_public_meta_t *meta, int64_t now) {
    const bp_registry_t *reg = bp_state_registry(st);
    const bp_pressure_cfg_t *pc = bp_state_pressure(st);
    agg_t city;
    memset(&city, 0, sizeof city);
    int reporting = 0;
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "generated");
    bp_jw_time(&w, now);
    BP_JW_KEY(&w, "licence");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "name");
    bp_jw_cstr(&w, meta->licence);
    BP_JW_KEY(&w, "url");
    bp_jw_cstr(&w, meta->licence_url);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "publisher");
    bp_jw_cstr(&w, meta->publisher);
    BP_JW_KEY(&w, "hospitals");
    bp_jw_arr(&w);
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_info_t *hi = &reg->hospitals[i];
        const bp_hospital_state_t *h = bp_state_hospital(st, i);
        agg_add(&city, h);
        if (h->at_ms > 0) reporting++;
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "id");
        bp_jw_cstr(&w, hi->id);
        BP_JW_KEY(&w, "name");
        bp_state_write_name(&w, &hi->name);
        BP_JW_KEY(&w, "tier");
        bp_jw_cstr(&w, bp_tier_name(hi->tier));
        BP_JW_KEY(&w, "district");
        bp_jw_cstr(&w, hi->district >= 0 ? reg->districts[hi->district].id : "");
        BP_JW_KEY(&w, "lat");
        bp_jw_num(&w, hi->lat, 5);
        BP_JW_KEY(&w, "lon");
        bp_jw_num(&w, hi->lon, 5);
        BP_JW_KEY(&w, "phone");
        bp_jw_cstr(&w, hi->phone);
        bp_ed_status_t ed = h->at_ms > 0 ? bp_public_ed(h, now) : BP_ED_NORMAL;
        const char *why = h->at_ms > 0 ? bp_public_ed_reason(h, pc, now) : NULL;
        BP_JW_KEY(&w, "ed");
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "state");
        if (h->at_ms > 0)
            bp_jw_cstr(&w, bp_public_ed_state(ed));
        else
            bp_jw_null(&w);
        BP_JW_KEY(&w, "reason");
        if (why)
            bp_jw_cstr(&w, why);
        else
            bp_jw_null(&w);
        bp_jw_end(&w);
        BP_JW_KEY(&w, "facility");
        bp_jw_cstr(&w, bp_public_facility(h));
        BP_JW_KEY(&w, "services_unavailable");
        bp_jw_arr(&w);
        for (int k = 0; k < BP_PUBLIC_SERVICES; k++) {
            bp_service_t sv = bp_public_services[k];
            if ((h->svc_mask >> sv & 1) && bp_svc_effective(&h->svc[sv], now) == BP_SVS_UNAVAILABLE)
                bp_jw_cstr(&w, bp_service_name(sv));
        }
        bp_jw_end(&w);
        BP_JW_KEY(&w, "beds");
        bp_jw_obj(&w);
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!(hi->beds_mask & (1u << t))) continue;
            const bp_beds_t *bd = &h->beds[t];
            bp_jw_key(&w, bp_bed_type_name((bp_bed_type_t)t));
            bp_jw_obj(&w);
            BP_JW_KEY(&w, "free");
            bp_jw_int_or_null(&w, bd->staffed >= 0 && bd->occupied >= 0, bp_beds_available(bd));
            BP_JW_KEY(&w, "staffed");
            bp_jw_int_or_null(&w, bd->staffed >= 0, bd->staffed);
            bp_jw_end(&w);
        }
        bp_jw_end(&w);
        BP_JW_KEY(&w, "updated");
        bp_jw_time(&w, h->at_ms);
        BP_JW_KEY(&w, "freshness");
        bp_jw_cstr(&w, bp_freshness_name(bp_freshness(h->at_ms, hi->report_interval_s, now)));
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "districts");
    bp_jw_arr(&w);
    for (size_t d = 0; d < reg->n_districts; d++) {
        agg_t a;
        memset(&a, 0, sizeof a);
        int count = 0;
        for (size_t i = 0; i < reg->n_hospitals; i++) {
            if (reg->hospitals[i].district != (int)d) continue;
            agg_add(&a, bp_state_hospital(st, i));
            count++;
        }
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "id");
        bp_jw_cstr(&w, reg->districts[d].id);
        BP_JW_KEY(&w, "name");
        bp_state_write_name(&w, &reg->districts[d].name);
        BP_JW_KEY(&w, "hospitals");
        bp_jw_int(&w, count);
        agg_write(&w, &a);
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "city");
    bp_jw_obj(&w);
    agg_write(&w, &city);
    BP_JW_KEY(&w, "hospitals");
    bp_jw_int(&w, (int64_t)reg->n_hospitals);
    BP_JW_KEY(&w, "reporting");
    bp_jw_int(&w, reporting);
    bp_jw_end(&w);
    bp_jw_end(&w);
}

/* -- open data -------------------------------------------------------------------------------- */

const int bp_opendata_hours[BP_OPENDATA_HOURS] = {8 * 60, 20 * 60};

static void civil(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The latest sample at or before t and after t - tolerance, or NULL. */
static const bp_history_point_t *sample_at(const bp_series_t *s, int64_t t, int64_t tol) {
    if (!s || !s->count || !s->cap) return NULL;
    size_t lo = 0, hi = s->count; /* first index with t_ms > t */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->p[(s->first + mid) % s->cap].t_ms <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return NULL;
    const bp_history_point_t *p = &s->p[(s->first + lo - 1) % s->cap];
    return p->t_ms > t - tol && p->reporting ? p : NULL;
}

typedef struct {
    bool known;
    int32_t staffed, occupied, free;
    double pct;
} cell_t;

/* The rows of a day and hospital: all inpatient beds, then each bed type
 * (OD_TYPE0 + its bp_bed_type_t) the history holds for that hospital. */
#define OD_INPATIENT 0
#define OD_TYPE0     1
#define OD_TYPES     (OD_TYPE0 + BP_BED__COUNT)

static const char *od_type_name(int type) {
    return type == OD_INPATIENT ? "inpatient" : bp_bed_type_name((bp_bed_type_t)(type - OD_TYPE0));
}

/* Fills one row type's cell from a sample. A bed type's figures as
 * reported; adult ICU from a sample stored before bed types were kept:
 * its free beds only. */
static void cell_of(const bp_history_point_t *p, int type, cell_t *c) {
    memset(c, 0, sizeof *c);
    c->staffed = c->occupied = c->free = -1;
    c->pct = -1;
    if (!p) return;
    if (type == OD_INPATIENT) {
        if (p->staffed > 0 && p->occupied >= 0) {
            c->known = true;
            c->staffed = p->staffed;
            c->occupied = p->occupied;
            c->free = p->staffed > p->occupied ? p->staffed - p->occupied : 0;
            c->pct = p->occupancy_pct;
        }
        return;
    }
    int t = type - OD_TYPE0;
    if (p->beds_mask & (1u << t)) {
        const bp_beds_t *bd = &p->beds[t];
        c->staffed = bd->staffed;
        c->occupied = bd->occupied;
        c->known = bd->staffed >= 0 || bd->occupied >= 0;
        if (bd->staffed >= 0 && bd->occupied >= 0) {
            c->free = bd->staffed > bd->occupied ? bd->staffed - bd->occupied : 0;
            if (bd->staffed > 0) c->pct = 100.0 * bd->occupied / bd->staffed;
        }
    } else if (t == BP_BED_ICU_ADULT && p->icu_adult_available >= 0) {
        c->known = true;
        c->free = p->icu_adult_available;
    }
}

typedef void (*row_fn)(bp_buf_t *b, const bp_opendata_q_t *q, const char *date, size_t h, int type,
                       const cell_t cells[BP_OPENDATA_HOURS], int *n);

static void each_row(bp_buf_t *b, const bp_opendata_q_t *q, int64_t now, row_fn fn) {
    int64_t off_ms = (int64_t)q->utc_offset_min * 60000;
    int64_t today = floor_div(now + off_ms, 86400000);
    int days = q->days < 1 ? 1 : q->days;
    int n = 0;
    for (int64_t d = today - days + 1; d <= today; d++) {
        int y, m, dd;
        civil(d, &y, &m, &dd);
        char date[40];
        snprintf(date, sizeof date, "%04d-%02d-%02d", y, m, dd);
        for (size_t h = 0; h < q->reg->n_hospitals; h++) {
            const bp_series_t *s = q->series(q->ctx, h);
            const bp_history_point_t *at[BP_OPENDATA_HOURS];
            bool any = false;
            for (int k = 0; k < BP_OPENDATA_HOURS; k++) {
                int64_t t = d * 86400000 + (int64_t)bp_opendata_hours[k] * 60000 - off_ms;
                at[k] = t <= now ? sample_at(s, t, q->tolerance_ms) : NULL;
                any |= at[k] != NULL;
            }
            if (!any) continue;
            for (int type = 0; type < OD_TYPES; type++) {
                cell_t cells[BP_OPENDATA_HOURS];
                bool known = type == OD_INPATIENT; /* a bed type only where it is held */
                for (int k = 0; k < BP_OPENDATA_HOURS; k++) {
                    cell_of(at[k], type, &cells[k]);
                    known |= cells[k].known;
                }
                if (known) fn(b, q, date, h, type, cells, &n);
            }
        }
    }
}

static void csv_field(bp_buf_t *b, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        bp_buf_puts(b, s);
        return;
    }
    bp_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') bp_buf_putc(b, '"');
        bp_buf_putc(b, *s);
    }
    bp_buf_putc(b, '"');
}

static void csv_int(bp_buf_t *b, int32_t v) {
    bp_buf_putc(b, ',');
    if (v >= 0) bp_buf_printf(b, "%d", v);
}

static void csv_row(bp_buf_t *b, const bp_opendata_q_t *q, const char *date, size_t h, int type,
                    const cell_t cells[BP_OPENDATA_HOURS], int *n) {
    const bp_hospital_info_t *hi = &q->reg->hospitals[h];
    (*n)++;
    bp_buf_printf(b, "%s,%s,", date, hi->id);
    csv_field(b, hi->name.vi);
    bp_buf_putc(b, ',');
    csv_field(b, hi->name.en);
    bp_buf_printf(b, ",%s,%s,%s", hi->district >= 0 ? q->reg->districts[hi->district].id : "",
                  bp_tier_name(hi->tier), od_type_name(type));
    for (int k = 0; k < BP_OPENDATA_HOURS; k++) {
        csv_int(b, cells[k].staffed);
        csv_int(b, cells[k].occupied);
        csv_int(b, cells[k].free);
        bp_buf_putc(b, ',');
        if (cells[k].pct >= 0) bp_buf_printf(b, "%.1f", cells[k].pct);
    }
    bp_buf_puts(b, "\r\n");
}

static void offset_text(int off, char *out, size_t len) {
    int a = off < 0 ? -off : off;
    snprintf(out, len, "%c%02d:%02d", off < 0 ? '-' : '+', a / 60, a % 60);
}

void bp_opendata_csv(bp_buf_t *b, const bp_opendata_q_t *q, int64_t now) {
    char off[24], gen[32];
    offset_text(q->utc_offset_min, off, sizeof off);
    bp_time_format(now, gen);
    bp_buf_printf(b,
                  "# BedPulse open data: hospital beds at fixed hours, one row per day, hospital "
                  "and bed type. Publisher: %s. Licence: %s (%s). Generated %s. Times are local "
                  "(UTC%s); each figure is the last report held at that hour. Bed types: "
                  "inpatient (all inpatient beds, without emergency and operating room places), "
                  "then each bed type the hospital reports (BedPulse's names: emergency, "
                  "icu_adult, ...; free = staffed - occupied, 0 when over capacity).\r\n",
                  q->meta->publisher, q->meta->licence, q->meta->licence_url, gen, off);
    bp_buf_puts(b, "date,hospital,name_vi,name_en,district,tier,bed_type");
    for (int k = 0; k < BP_OPENDATA_HOURS; k++) {
        int hh = bp_opendata_hours[k] / 60;
        bp_buf_printf(b, ",staffed_%02d,occupied_%02d,free_%02d,occupancy_pct_%02d", hh, hh, hh,
                      hh);
    }
    bp_buf_puts(b, "\r\n");
    each_row(b, q, now, csv_row);
}

/* "HH:MM" of the k-th fixed hour. */
static void hour_text(int k, char out[8]) {
    snprintf(out, 8, "%02d:%02d", bp_opendata_hours[k] / 60 % 100, bp_opendata_hours[k] % 60);
}

/* One row, an element of the "rows" array open in b (n: rows so far). */
static void json_row(bp_buf_t *b, const bp_opendata_q_t *q, const char *date, size_t h, int type,
                     const cell_t cells[BP_OPENDATA_HOURS], int *n) {
    const bp_hospital_info_t *hi = &q->reg->hospitals[h];
    bp_jw_t w;
    bp_jw_init_inside(&w, b, (*n)++ == 0);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "date");
    bp_jw_cstr(&w, date);
    BP_JW_KEY(&w, "hospital");
    bp_jw_cstr(&w, hi->id);
    BP_JW_KEY(&w, "district");
    bp_jw_cstr(&w, hi->district >= 0 ? q->reg->districts[hi->district].id : "");
    BP_JW_KEY(&w, "tier");
    bp_jw_cstr(&w, bp_tier_name(hi->tier));
    BP_JW_KEY(&w, "bed_type");
    bp_jw_cstr(&w, od_type_name(type));
    BP_JW_KEY(&w, "at");
    bp_jw_obj(&w);
    for (int k = 0; k < BP_OPENDATA_HOURS; k++) {
        char hm[8];
        hour_text(k, hm);
        bp_jw_key(&w, hm);
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "staffed");
        bp_jw_int_or_null(&w, cells[k].staffed >= 0, cells[k].staffed);
        BP_JW_KEY(&w, "occupied");
        bp_jw_int_or_null(&w, cells[k].occupied >= 0, cells[k].occupied);
        BP_JW_KEY(&w, "free");
        bp_jw_int_or_null(&w, cells[k].free >= 0, cells[k].free);
        BP_JW_KEY(&w, "occupancy_pct");
        bp_jw_num_or_null(&w, cells[k].pct >= 0, cells[k].pct, 1);
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    bp_jw_end(&w);
}

void bp_opendata_json(bp_buf_t *b, const bp_opendata_q_t *q, int64_t now) {
    char off[24];
    offset_text(q->utc_offset_min, off, sizeof off);
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "licence");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "name");
    bp_jw_cstr(&w, q->meta->licence);
    BP_JW_KEY(&w, "url");
    bp_jw_cstr(&w, q->meta->licence_url);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "publisher");
    bp_jw_cstr(&w, q->meta->publisher);
    BP_JW_KEY(&w, "generated");
    bp_jw_time(&w, now);
    BP_JW_KEY(&w, "utc_offset");
    bp_jw_cstr(&w, off);
    BP_JW_KEY(&w, "hours");
    bp_jw_arr(&w);
    for (int k = 0; k < BP_OPENDATA_HOURS; k++) {
        char hm[8];
        hour_text(k, hm);
        bp_jw_cstr(&w, hm);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "bed_types");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "inpatient");
    bp_jw_cstr(&w, "all inpatient beds (without emergency and operating room places)");
    for (int t = 0; t < BP_BED__COUNT; t++) {
        bp_jw_key(&w, bp_bed_type_name((bp_bed_type_t)t));
        bp_jw_cstr(&w, t == BP_BED_ICU_ADULT
                           ? "as reported (free beds only before bed types were kept)"
                           : "as reported");
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "rows");
    bp_jw_arr(&w);
    each_row(b, q, now, json_row); /* each row continues the array (bp_jw_init_inside) */
    bp_jw_end(&w);
    bp_jw_end(&w);
}
