/*
 * The simulator's model (see sim_model.h). Figures are chosen to look like
 * Hanoi: central hospitals run above 100% (two patients to a bed is normal
 * there), city hospitals near full, district and private ones with room;
 * the 115 centre answers about 110 incidents a day (sim_incident.c) with a
 * 62-unit demo fleet, sped up for the demo so that something visibly moves.
 */
#include "sim_model.h"
#include "bp_time.h"
#include "sim_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSPITAL_SHARE 0.6          /* of the rate, scheduled for hospital updates */
#define FULL_REPORT_P  0.06         /* chance that a due hospital update is a full report */
#define DT_MAX_S       60.0         /* a stalled caller does not teleport the fleet */
#define WARM_S         (2 * 3600.0) /* fleet time run before the start: mid-shift */
#define WARM_STEP_S    10.0

/* -- helpers ------------------------------------------------------------- */

static double clampd(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static double bell(double h, double centre, double width) {
    double d = (h - centre) / width;
    return exp(-d * d);
}

/* The day in Hanoi. Admissions peak late morning to afternoon, discharges
 * around noon, both are low at night. Occupancy therefore dips after the
 * midday discharges and is highest in the evening and night. */
static double admissions(double h) {
    return 0.25 + 0.75 * bell(h, 13.5, 4.0);
}
static double discharges(double h) {
    return 0.15 + 0.85 * bell(h, 12.0, 2.5);
}
static double activity(double h) {
    double a = admissions(h), d = discharges(h);
    return a > d ? a : d;
}
static double occupancy_swing(double h) { /* -1 at 13:00, about +1 at night */
    return 1.0 - 2.0 * bell(h, 13.0, 4.0);
}

/* The week in Hanoi, Monday first, as a fraction of the target, eased from
 * one day to the next. Wards fill with planned admissions from Monday to
 * Thursday, discharge before the weekend and are emptiest on Sunday; the
 * emergency department is busiest on Monday and at weekends. */
static double week_shape(const double *day, int dow, double hour) {
    double f = hour / 24.0;
    return day[dow] * (1.0 - f) + day[(dow + 1) % 7] * f;
}
static const double ward_week[7] = {0.0, 0.02, 0.035, 0.04, 0.015, -0.025, -0.04};
static const double ed_week[7] = {0.15, 0.05, 0.0, 0.0, 0.03, 0.10, 0.12};

/* The slow waves: an Ornstein-Uhlenbeck walk per bed type (a flu season,
 * a ward closed for repairs), time constant and size by kind. */
#define DRIFT_TAU_H 48.0
static double drift_sigma(int t) {
    return t == BP_BED_EMERGENCY ? 0.08 : t == BP_BED_OPERATING_ROOM ? 0.0 : 0.03;
}

/* -- ED reasons ------------------------------------------------------------ */

typedef struct {
    const char *text;
    bool needs_icu; /* only said by a hospital with adult ICU beds */
} reason_t;

static const reason_t reasons_advisory[] = {
    {"Đông bệnh nhân cấp cứu / ED crowded", false},
    {"Thiếu bác sĩ trực / Short of on-call doctors", false},
    {"Chờ giường nội trú lâu / Long waits for ward beds", false},
    {"Hồi sức gần đầy / ICU near capacity", true},
    {"Máy chụp CT bảo trì / CT scanner under maintenance", false},
};
static const reason_t reasons_diversion[] = {
    {"Hết giường hồi sức / ICU full", true},
    {"Máy chụp CT hỏng / CT scanner down", false},
    {"Phòng mổ kín lịch / Operating rooms full", false},
    {"Hết máy thở / No ventilators free", true},
    {"Quá tải cấp cứu / ED overcrowded", false},
};
static const reason_t reasons_closed[] = {
    {"Mất điện, đang chạy máy phát / Power outage, on generator", false},
    {"Sự cố hệ thống oxy / Oxygen supply fault", false},
    {"Khử khuẩn khoa cấp cứu / ED decontamination", false},
    {"Ngập nước tầng 1 / Ground floor flooded", false},
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A random reason from the list that this hospital could give. */
static const char *pick_reason(bp_rng_t *r, const reason_t *list, size_t n, bool has_icu) {
    for (;;) { /* every list has reasons without needs_icu */
        const reason_t *x = &list[bp_rng_below(r, (uint32_t)n)];
        if (has_icu || !x->needs_icu) return x->text;
    }
}

/* -- state --------------------------------------------------------------- */

void bp_sim_options_default(bp_sim_options_t *o) {
    o->rate = 3.0;
    o->speed = 10.0;
    o->seed = 1;
    o->rare_hospitals = 3;
    o->incident_scale = 1.0;
    o->warm_start = true;
    o->mci_after_s = -1;
    o->mci_lat = o->mci_lon = NAN;
    o->dispatch = NULL;
}

static bool is_icu(int t) {
    return t == BP_BED_ICU_ADULT || t == BP_BED_ICU_PEDIATRIC || t == BP_BED_ICU_NEONATAL;
}

/* Target occupancy (occupied / staffed) for a bed type at a tier. */
static double draw_target(bp_rng_t *r, bp_tier_t tier, int t) {
    if (t == BP_BED_OPERATING_ROOM) return bp_rng_range(r, 0.6, 0.9);
    if (t == BP_BED_EMERGENCY) {
        static const double lo[] = {1.2, 0.9, 0.6, 0.4}, hi[] = {1.6, 1.2, 0.9, 0.7};
        return bp_rng_range(r, lo[tier], hi[tier]);
    }
    if (is_icu(t)) {
        static const double lo[] = {0.92, 0.85, 0.60, 0.50}, hi[] = {1.02, 0.98, 0.85, 0.80};
        return bp_rng_range(r, lo[tier], hi[tier]);
    }
    switch (tier) {
    case BP_TIER_CENTRAL:
        if (t == BP_BED_MEDICAL_SURGICAL) return bp_rng_range(r, 1.05, 1.25);
        if (t == BP_BED_PEDIATRICS) return bp_rng_range(r, 1.0, 1.2);
        if (t == BP_BED_OBSTETRICS) return bp_rng_range(r, 0.95, 1.15);
        return bp_rng_range(r, 0.85, 1.05);
    case BP_TIER_CITY: return bp_rng_range(r, 0.90, 1.00);
    case BP_TIER_DISTRICT: return bp_rng_range(r, 0.70, 0.85);
    default: return bp_rng_range(r, 0.60, 0.80);
    }
}

/* Where the walk of bed type t is pulled to at real time now (Hanoi's
 * hour and weekday). */
static double effective_target(const hosp_t *h, int t, int64_t now) {
    double hour = bp_sim_hanoi_hour(now);
    int dow = bp_sim_hanoi_weekday(now);
    double wave = 1.0 + h->drift[t];
    if (t == BP_BED_EMERGENCY)
        return h->target[t] * wave * (0.65 + 0.5 * admissions(hour)) *
               (1.0 + week_shape(ed_week, dow, hour));
    if (t == BP_BED_OPERATING_ROOM) return h->target[t] * (0.3 + 0.8 * bell(hour, 12.0, 4.0));
    return h->target[t] * wave *
           (1.0 + 0.04 * occupancy_swing(hour) + week_shape(ward_week, dow, hour));
}

/* Moves hospital i's slow waves to now. */
static void move_drift(bp_sim_t *s, int i, int64_t now) {
    hosp_t *h = &s->hosp[i];
    double dt_h = (double)(now - h->drift_at) / 3600000.0;
    if (dt_h <= 0) return;
    h->drift_at = now;
    double keep = exp(-dt_h / DRIFT_TAU_H), add = sqrt(1.0 - keep * keep);
    for (int t = 0; t < BP_BED__COUNT; t++)
        if (s->reg->hospitals[i].beds_mask & (1u << t))
            h->drift[t] = h->drift[t] * keep + add * drift_sigma(t) * bp_rng_normal(&s->rng);
}

static double hospital_mean_gap_ms(const bp_sim_t *s) {
    size_t n = s->reg->n_hospitals - (size_t)s->n_rare;
    if (n == 0) n = 1;
    return (double)n / (s->opt.rate * HOSPITAL_SHARE) * 1000.0;
}

static void schedule_hospital(bp_sim_t *s, int i, int64_t now) {
    const bp_hospital_info_t *info = &s->reg->hospitals[i];
    hosp_t *h = &s->hosp[i];
    int64_t interval = (int64_t)info->report_interval_s * 1000;
    if (h->rare) {
        h->next_due = now + (int64_t)(bp_rng_range(&s->rng, 2.0, 3.0) * (double)interval);
        return;
    }
    if (s->opt.rate <= 0) {
        h->next_due = INT64_MAX;
        return;
    }
    double gap = bp_rng_exp(&s->rng, hospital_mean_gap_ms(s));
    if (gap > 0.8 * (double)interval) gap = 0.8 * (double)interval; /* stay fresh */
    h->next_due = now + (int64_t)gap;
}

/* -- creation ------------------------------------------------------------ */

static void set_waiting(bp_sim_t *s, int i);
static void start_ed_event(bp_sim_t *s, int i, int64_t now, double max_minutes);
static void warm_start(bp_sim_t *s, int64_t now);

static void pick_rare(bp_sim_t *s, int64_t now) {
    /* Small hospitals with weak IT are the ones that forget to report: one
     * shows late (1.3 intervals since its last report), the rest stale. */
    static const double since[] = {1.3, 2.1, 2.4, 2.7, 2.2, 1.6, 2.5, 2.9};
    const bp_registry_t *reg = s->reg;
    int want = s->opt.rare_hospitals;
    if (want > RARE_MAX) want = RARE_MAX;
    if ((size_t)want >= reg->n_hospitals) want = (int)reg->n_hospitals / 2;
    int pool[BP_REGISTRY_MAX], n = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++)
        if (reg->hospitals[i].tier == BP_TIER_DISTRICT || reg->hospitals[i].tier == BP_TIER_PRIVATE)
            pool[n++] = (int)i;
    if (n < want) {
        n = 0;
        for (size_t i = 0; i < reg->n_hospitals; i++)
            pool[n++] = (int)i;
    }
    for (int k = 0; k < want && n > 0; k++) {
        int j = (int)bp_rng_below(&s->rng, (uint32_t)n);
        int i = pool[j];
        pool[j] = pool[--n];
        hosp_t *h = &s->hosp[i];
        double interval = reg->hospitals[i].report_interval_s * 1000.0;
        h->rare = true;
        h->ed = BP_ED_NORMAL; /* no live diversion in a report from hours ago */
        h->ed_until = 0;
        h->ed_reason = NULL;
        h->pending_at = now - (int64_t)(since[k] * interval);
        /* the next report comes 2-3 intervals after the last one, but not
         * at once, so the demo shows the late/stale marks for a while */
        double k_next = bp_rng_range(&s->rng, since[k] + 0.3 > 2.0 ? since[k] + 0.3 : 2.0,
                                     since[k] + 0.3 > 3.0 ? since[k] + 0.6 : 3.0);
        h->next_due = h->pending_at + (int64_t)(k_next * interval);
        s->rare[s->n_rare++] = i;
    }
}

bp_sim_t *bp_sim_create(const bp_registry_t *reg, const bp_sim_options_t *opt, int64_t now_ms) {
    if (!reg || !opt || reg->n_hospitals == 0 || !(opt->rate >= 0) || opt->rate > BP_SIM_RATE_MAX ||
        !(opt->speed > 0) || opt->speed > BP_SIM_SPEED_MAX || opt->rare_hospitals < 0 ||
        !(opt->incident_scale >= 0) || opt->incident_scale > BP_SIM_SCALE_MAX)
        return NULL;
    bp_sim_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->reg = reg;
    s->opt = *opt;
    bp_rng_seed(&s->rng, opt->seed);
    s->hosp = calloc(reg->n_hospitals, sizeof *s->hosp);
    s->units = calloc(reg->n_units ? reg->n_units : 1, sizeof *s->units);
    s->station_units = calloc(reg->n_stations ? reg->n_stations : 1, sizeof *s->station_units);
    if (!s->hosp || !s->units || !s->station_units || sim_incidents_init(s)) {
        bp_sim_destroy(s);
        return NULL;
    }
    s->last_ms = s->start_ms = now_ms;
    /* seqs grow far slower than the clock: a restart never reuses one */
    s->amb_seq = s->inc_seq = now_ms;
    double hour = bp_sim_hanoi_hour(now_ms);
    /* incident numbers continue "today's" count at the baseline rate */
    s->inc_no = (uint32_t)(BP_SIM_INCIDENTS_PER_DAY * opt->incident_scale * hour / 24.0) + 1;

    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_info_t *info = &reg->hospitals[i];
        hosp_t *h = &s->hosp[i];
        h->seq = now_ms;
        h->drift_at = now_ms;
        h->full = true;
        h->ed = BP_ED_NORMAL;
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!(info->beds_mask & (1u << t))) continue;
            h->target[t] = draw_target(&s->rng, info->tier, t);
            h->drift[t] = drift_sigma(t) * bp_rng_normal(&s->rng); /* a wave under way */
            h->staffed[t] = info->staffed[t];
            h->surge24[t] = info->surge24[t];
            double occ = effective_target(h, t, now_ms) * h->staffed[t] +
                         bp_rng_normal(&s->rng) * 0.02 * h->staffed[t];
            h->occupied[t] = (int32_t)clampd(lround(occ), 0, BP_BEDS_MAX);
        }
        /* start in the steady state: some EDs are already on diversion */
        static const double busy[BP_TIER__COUNT] = {0.3, 0.1, 0.04, 0.03};
        h->ed_checked = now_ms;
        if (bp_rng_chance(&s->rng, busy[info->tier])) start_ed_event(s, (int)i, now_ms, 150);
        set_waiting(s, (int)i);
    }
    pick_rare(s, now_ms);
    for (size_t i = 0; i < reg->n_hospitals; i++)
        if (!s->hosp[i].rare) schedule_hospital(s, (int)i, now_ms);

    for (size_t u = 0; u < reg->n_units; u++) {
        unit_t *un = &s->units[u];
        const bp_station_t *st = &reg->stations[reg->units[u].station];
        un->status = BP_AMB_AVAILABLE_STATION;
        un->lat = un->to_lat = st->lat;
        un->lon = un->to_lon = st->lon;
        un->heading = -1;
        un->dest = un->inc = -1;
        un->full = true;
        s->station_units[reg->units[u].station]++;
    }
    s->n_units_total = reg->n_units;
    sim_view_seed(s, now_ms);
    if (opt->rate > 0 && opt->warm_start) warm_start(s, now_ms);
    return s;
}

void bp_sim_destroy(bp_sim_t *s) {
    if (!s) return;
    if (s->view) sim_incidents_free(s);
    free(s->hosp);
    free(s->units);
    free(s->station_units);
    free(s);
}

void bp_sim_request_full(bp_sim_t *s, bp_sim_kind_t kind, int index) {
    if (kind == BP_SIM_HOSPITAL && index >= 0 && (size_t)index < s->reg->n_hospitals)
        s->hosp[index].full = true; /* a rarely reporting one makes it its next report */
    else if (kind == BP_SIM_AMBULANCE && index >= 0 && (size_t)index < s->reg->n_units)
        s->units[index].full = true;
    else if (kind == BP_SIM_INCIDENT && index >= 0 && (size_t)index < s->inc_cap)
        sim_incidents_resync(s, index);
}

void bp_sim_resync(bp_sim_t *s) {
    for (size_t i = 0; i < s->reg->n_hospitals; i++)
        if (!s->hosp[i].rare) s->hosp[i].full = true;
    for (size_t u = 0; u < s->reg->n_units; u++)
        s->units[u].full = true;
    sim_incidents_resync(s, -1);
}

/* -- hospitals ----------------------------------------------------------- */

/* One step of the walk of bed type t; returns whether staffed changed. */
static bool walk_bed(bp_sim_t *s, int i, int t, int64_t now) {
    double hour = bp_sim_hanoi_hour(now);
    const bp_hospital_info_t *info = &s->reg->hospitals[i];
    hosp_t *h = &s->hosp[i];
    bool staffed_changed = false;
    if (bp_rng_chance(&s->rng, 0.02)) {
        /* a nurse short, or back to the full roster */
        int32_t base = info->staffed[t];
        int32_t v =
            h->staffed[t] < base ? base : base - 1 - (int32_t)bp_rng_below(&s->rng, 2 + base / 50);
        if (v < base * 9 / 10) v = base * 9 / 10;
        if (v < 0) v = 0;
        staffed_changed = v != h->staffed[t];
        h->staffed[t] = v;
    }
    double staffed = h->staffed[t];
    double eff = effective_target(h, t, now) * staffed;
    double scale = t == BP_BED_EMERGENCY ? 0.06 : t == BP_BED_OPERATING_ROOM ? 0.05 : 0.006;
    double band = t == BP_BED_EMERGENCY ? 0.3 : t == BP_BED_OPERATING_ROOM ? 0.2 : 0.08;
    double sigma = activity(hour) * fmax(0.7, scale * staffed);
    double occ = h->occupied[t] + 0.3 * (eff - h->occupied[t]) + sigma * bp_rng_normal(&s->rng);
    double b = fmax(2.0, band * staffed);
    occ = clampd(occ, eff - b, eff + b);
    h->occupied[t] = (int32_t)clampd((double)lround(occ), 0, BP_BEDS_MAX);
    return staffed_changed;
}

static void set_waiting(bp_sim_t *s, int i) {
    hosp_t *h = &s->hosp[i];
    int32_t eds = h->staffed[BP_BED_EMERGENCY], edo = h->occupied[BP_BED_EMERGENCY];
    double w = (edo - 0.85 * eds) * 0.5 + 1.5 * bp_rng_normal(&s->rng) +
               (h->ed == BP_ED_DIVERSION ? 3 : 0);
    h->waiting = (int32_t)clampd((double)lround(w), 0, BP_WAITING_MAX);
}

/* Starts an ED advisory, diversion or closure lasting until about now +
 * minutes (whole minutes, as a person would type it). */
static void start_ed_event(bp_sim_t *s, int i, int64_t now, double max_minutes) {
    const bp_hospital_info_t *info = &s->reg->hospitals[i];
    hosp_t *h = &s->hosp[i];
    double r = bp_rng_unit(&s->rng), minutes;
    bool has_icu = info->beds_mask & (1u << BP_BED_ICU_ADULT);
    if (r < (info->tier == BP_TIER_CENTRAL ? 0.04 : 0.12)) {
        h->ed = BP_ED_CLOSED;
        h->ed_reason = pick_reason(&s->rng, reasons_closed, COUNT(reasons_closed), has_icu);
        minutes = bp_rng_range(&s->rng, 15, 40);
    } else if (r < 0.42) {
        h->ed = BP_ED_DIVERSION;
        bool icu_full = has_icu && h->occupied[BP_BED_ICU_ADULT] >= h->staffed[BP_BED_ICU_ADULT];
        h->ed_reason =
            icu_full && bp_rng_chance(&s->rng, 0.6)
                ? reasons_diversion[0].text
                : pick_reason(&s->rng, reasons_diversion, COUNT(reasons_diversion), has_icu);
        minutes = bp_rng_range(&s->rng, 30, max_minutes);
    } else {
        h->ed = BP_ED_ADVISORY;
        h->ed_reason = pick_reason(&s->rng, reasons_advisory, COUNT(reasons_advisory), has_icu);
        minutes = bp_rng_range(&s->rng, 30, max_minutes);
    }
    int64_t until = now + (int64_t)(minutes * 60000.0);
    h->ed_until = (until / 60000 + 1) * 60000;
}

/* ED events per hour while the ED is normal, by tier, before the pressure
 * and time-of-day factors; an event ends at its `until` or, at
 * ED_RESOLVE_PER_H, earlier. About a fifth of central EDs are on advisory
 * or diversion at any time, one in fifteen city ones, few others. */
static const double ed_events_per_h[BP_TIER__COUNT] = {0.2, 0.08, 0.03, 0.02};
#define ED_RESOLVE_PER_H 0.3

/* Updates the ED status for the time since the last update; returns whether
 * it changed. Also refreshes the waiting count. */
static bool update_ed(bp_sim_t *s, int i, int64_t now, double hour) {
    const bp_hospital_info_t *info = &s->reg->hospitals[i];
    hosp_t *h = &s->hosp[i];
    double hours = (double)(now - h->ed_checked) / 3600000.0;
    if (hours < 0) hours = 0;
    h->ed_checked = now;
    bool changed = false;
    if (h->ed != BP_ED_NORMAL &&
        (now >= h->ed_until || bp_rng_chance(&s->rng, 1 - exp(-ED_RESOLVE_PER_H * hours)))) {
        h->ed = BP_ED_NORMAL; /* expired, or resolved early */
        h->ed_until = 0;
        h->ed_reason = NULL;
        changed = true;
    } else if (h->ed == BP_ED_NORMAL) {
        double occ = sim_inpatient_occupancy(s, i);
        double per_h =
            ed_events_per_h[info->tier] * (1.0 + 3.0 * fmax(0.0, occ - 1.0)) * activity(hour) * 1.5;
        if (bp_rng_chance(&s->rng, 1 - exp(-per_h * hours))) {
            start_ed_event(s, i, now, 180);
            changed = true;
        }
    }
    set_waiting(s, i);
    return changed;
}

static void write_bed(bp_jw_t *w, const hosp_t *h, int t, bool staffed, bool surge) {
    bp_jw_key(w, bp_bed_type_name((bp_bed_type_t)t));
    bp_jw_obj(w);
    if (staffed) {
        BP_JW_KEY(w, "staffed");
        bp_jw_int(w, h->staffed[t]);
    }
    BP_JW_KEY(w, "occupied");
    bp_jw_int(w, h->occupied[t]);
    if (surge && h->surge24[t] >= 0) {
        BP_JW_KEY(w, "surge24");
        bp_jw_int(w, h->surge24[t]);
    }
    if (bp_bed_type_has_detail(t)) sim_write_icu_detail(w, h->staffed[t], h->occupied[t]);
    bp_jw_end(w);
}

static void write_ed(bp_jw_t *w, const hosp_t *h) {
    BP_JW_KEY(w, "ed");
    bp_jw_obj(w);
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, bp_ed_status_name(h->ed));
    if (h->ed != BP_ED_NORMAL) {
        if (h->ed_reason) {
            BP_JW_KEY(w, "reason");
            bp_jw_cstr(w, h->ed_reason);
        }
        BP_JW_KEY(w, "until");
        bp_sim_jw_time(w, h->ed_until);
    }
    BP_JW_KEY(w, "waiting");
    bp_jw_int(w, h->waiting);
    bp_jw_end(w);
}

/* Builds hospital i's next report into out. */
static void emit_hospital(bp_sim_t *s, int i, int64_t now, bp_buf_t *out, bp_sim_line_t *line) {
    const bp_hospital_info_t *info = &s->reg->hospitals[i];
    hosp_t *h = &s->hosp[i];
    double hour = bp_sim_hanoi_hour(now);
    int64_t at = h->pending_at ? h->pending_at : now;
    /* a rarely reporting hospital sends a batch: always everything */
    bool full = h->full || h->rare || bp_rng_chance(&s->rng, FULL_REPORT_P);
    uint32_t types = 0, staffed_changed = 0;
    bool with_ed = false;

    move_drift(s, i, now);
    line->backdated = h->pending_at != 0;
    h->pending_at = 0;
    if (full) {
        types = info->beds_mask;
        if (h->reported) { /* the initial report gives the figures drawn at creation */
            for (int t = 0; t < BP_BED__COUNT; t++)
                if (types & (1u << t)) walk_bed(s, i, t, now);
            update_ed(s, i, now, hour);
        }
        with_ed = true;
    } else if (!bp_rng_chance(&s->rng, 0.4 * (1.0 - activity(hour)))) {
        /* 1-3 bed types; otherwise a quiet-night "no change" confirmation */
        int avail[BP_BED__COUNT], n = 0;
        for (int t = 0; t < BP_BED__COUNT; t++)
            if (info->beds_mask & (1u << t)) avail[n++] = t;
        double r = bp_rng_unit(&s->rng);
        int k = r < 0.12 ? 3 : r < 0.47 ? 2 : 1;
        for (int j = 0; j < k && n > 0; j++) {
            int pick = (int)bp_rng_below(&s->rng, (uint32_t)n);
            int t = avail[pick];
            avail[pick] = avail[--n];
            types |= 1u << t;
            if (walk_bed(s, i, t, now)) staffed_changed |= 1u << t;
        }
        with_ed = update_ed(s, i, now, hour) || bp_rng_chance(&s->rng, 0.15);
    }
    h->reported = true;
    h->full = false;

    line->kind = BP_SIM_HOSPITAL;
    line->index = i;
    line->seq = ++h->seq;
    char source[sizeof "his-" + BP_ID_MAX];
    snprintf(source, sizeof source, "his-%s", info->id);
    bp_jw_t w;
    bp_jw_init(&w, out);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "type");
    bp_jw_cstr(&w, "beds");
    BP_JW_KEY(&w, "source");
    bp_jw_cstr(&w, source);
    BP_JW_KEY(&w, "seq");
    bp_jw_int(&w, line->seq);
    BP_JW_KEY(&w, "at");
    bp_sim_jw_time(&w, at);
    BP_JW_KEY(&w, "hospital");
    bp_jw_cstr(&w, info->id);
    if (types) {
        BP_JW_KEY(&w, "beds");
        bp_jw_obj(&w);
        for (int t = 0; t < BP_BED__COUNT; t++)
            if (types & (1u << t)) write_bed(&w, h, t, full || (staffed_changed & (1u << t)), full);
        bp_jw_end(&w);
    }
    if (with_ed) write_ed(&w, h);
    sim_services_update(s, i, now);
    sim_services_write(&w, h, at);
    sim_line_end(&w);
    s->hospital_lines++;
    schedule_hospital(s, i, now);
}

/* -- fleet --------------------------------------------------------------- */

static void stop(unit_t *u) {
    u->driving = false;
    u->lat = u->to_lat;
    u->lon = u->to_lon;
}

/* What happens when a unit reaches the end of its leg or its phase. */
static void next_phase(bp_sim_t *s, size_t idx, int64_t now) {
    unit_t *u = &s->units[idx];
    switch (u->status) {
    case BP_AMB_DISPATCHED:
        stop(u);
        sim_set_status(u, BP_AMB_ON_SCENE);
        u->phase_end = s->fleet_s + sim_scene_min(s, u) * MINUTE;
        break;
    case BP_AMB_ON_SCENE: sim_incident_scene_done(s, idx, now); break;
    case BP_AMB_TRANSPORTING: {
        stop(u);
        sim_set_status(u, BP_AMB_AT_HOSPITAL);
        hosp_t *h = &s->hosp[u->dest];
        if (h->occupied[BP_BED_EMERGENCY] < BP_BEDS_MAX) h->occupied[BP_BED_EMERGENCY]++;
        /* handover waits for a trolley: longer at crowded central hospitals */
        u->phase_end = s->fleet_s + sim_handover_min(s, u->dest) * MINUTE;
        break;
    }
    case BP_AMB_AT_HOSPITAL:
        sim_incident_handover_done(s, idx);
        sim_return_to_station(s, idx, now);
        break;
    case BP_AMB_AVAILABLE_RADIO:
        stop(u);
        if (bp_rng_chance(&s->rng, 0.03)) { /* restock, cleaning or a flat tyre */
            sim_set_status(u, BP_AMB_OUT_OF_SERVICE);
            u->phase_end = s->fleet_s + bp_rng_range(&s->rng, 20, 60) * MINUTE;
        } else {
            sim_set_status(u, BP_AMB_AVAILABLE_STATION);
        }
        break;
    case BP_AMB_OUT_OF_SERVICE: sim_set_status(u, BP_AMB_AVAILABLE_STATION); break;
    default: break;
    }
}

static void advance_fleet(bp_sim_t *s, double sim_dt, int64_t now) {
    s->fleet_s += sim_dt;
    sim_incidents_advance(s, sim_dt, now);
    for (size_t i = 0; i < s->reg->n_units; i++) {
        unit_t *u = &s->units[i];
        if (u->driving) {
            double left = sim_km(u->lat, u->lon, u->to_lat, u->to_lon);
            double step = u->kmh * sim_dt / 3600.0;
            if (step >= left) {
                next_phase(s, i, now);
            } else {
                u->lat += (u->to_lat - u->lat) * step / left;
                u->lon += (u->to_lon - u->lon) * step / left;
                u->heading = sim_bearing(u->lat, u->lon, u->to_lat, u->to_lon);
            }
        } else if (u->status == BP_AMB_ON_SCENE || u->status == BP_AMB_AT_HOSPITAL ||
                   u->status == BP_AMB_OUT_OF_SERVICE) {
            if (s->fleet_s >= u->phase_end) next_phase(s, i, now);
        }
    }
}

/* The demo starts mid-shift: the fleet runs for up to WARM_S of fleet time
 * (at most a real day) ending at now, before anything is reported, so the
 * first reports show calls open and units out; and the first new call
 * comes with the first step. */
static void warm_start(bp_sim_t *s, int64_t now) {
    double span = fmin(WARM_S, s->opt.speed * 86400.0);
    s->warming = true;
    for (double done = 0; done < span; done += WARM_STEP_S) {
        int64_t t = now - (int64_t)((span - done) / s->opt.speed * 1000.0);
        advance_fleet(s, WARM_STEP_S, t);
    }
    s->warming = false;
    s->arrival_acc = s->arrival_next; /* and a new call comes in as the demo starts */
    s->fleet_s = 0;                   /* fleet time counts from the start */
    for (size_t i = 0; i < s->inc_hi; i++)
        s->inc[i].assign_s -= span;
    for (size_t i = 0; i < s->reg->n_units; i++) {
        s->units[i].phase_end -= span;
        s->units[i].full = true;
        s->units[i].next_pos = now + POSITION_MS;
    }
}

static void emit_unit(bp_sim_t *s, int i, int64_t now, bp_buf_t *out, bp_sim_line_t *line) {
    unit_t *u = &s->units[i];
    bool full = u->full;
    bp_jw_t w;
    bp_jw_init(&w, out);
    sim_line_start(&w, line, BP_SIM_AMBULANCE, i, ++s->amb_seq, "ambulance", "avl-115", now,
                   s->reg->units[i].id);
    BP_JW_KEY(&w, "status");
    bp_jw_cstr(&w, bp_amb_status_name(u->status));
    BP_JW_KEY(&w, "lat");
    bp_jw_num(&w, u->lat, 5);
    BP_JW_KEY(&w, "lon");
    bp_jw_num(&w, u->lon, 5);
    if (u->heading >= 0) {
        BP_JW_KEY(&w, "heading");
        bp_jw_int(&w, (int)lround(u->heading) % 360);
    }
    /* traffic: the reported speed wanders around the leg's speed */
    double kmh = u->driving ? clampd(u->kmh * bp_rng_range(&s->rng, 0.75, 1.15), 5, 70) : 0;
    BP_JW_KEY(&w, "speed");
    bp_jw_int(&w, lround(kmh));
    if (full) { /* null: none */
        BP_JW_KEY(&w, "destination");
        bp_jw_cstr_or_null(&w, u->dest >= 0 ? s->reg->hospitals[u->dest].id : NULL);
        BP_JW_KEY(&w, "incident");
        bp_jw_cstr_or_null(&w, u->incident);
    }
    sim_line_end(&w);
    u->full = u->charged = false;
    u->next_pos = now + POSITION_MS;
    s->ambulance_lines++;
}

/* -- step ---------------------------------------------------------------- */

/* Runs one emitter and records its line; false (and nothing emitted) when
 * the output buffer is full. */
static bool emit(bp_sim_t *s, bp_sim_kind_t kind, int i, int64_t now, bp_buf_t *out,
                 bp_sim_line_t *line) {
    size_t off = out->len;
    incident_t was = kind == BP_SIM_INCIDENT ? s->inc[i] : (incident_t){0};
    if (kind == BP_SIM_HOSPITAL)
        emit_hospital(s, i, now, out, line);
    else if (kind == BP_SIM_AMBULANCE)
        emit_unit(s, i, now, out, line);
    else
        sim_emit_incident(s, (size_t)i, now, out, line);
    if (out->failed || out->len - off > BP_SIM_LINE_MAX) {
        out->len = off; /* roll back; the entity reports in full next time */
        out->failed = false;
        if (out->base) bp_buf_data(out)[off] = '\0';
        if (kind == BP_SIM_INCIDENT)
            s->inc[i] = was; /* the same line next time */
        else
            bp_sim_request_full(s, kind, i);
        return false;
    }
    line->off = off;
    line->len = out->len - off;
    if (kind == BP_SIM_HOSPITAL) sim_view_hospital_line(s, bp_buf_data(out) + off, line->len, now);
    return true;
}

size_t bp_sim_step(bp_sim_t *s, int64_t now, size_t max, bp_buf_t *out, bp_sim_line_t *lines) {
    double dt = (double)(now - s->last_ms) / 1000.0;
    if (dt < 0) dt = 0;
    if (dt > DT_MAX_S) dt = DT_MAX_S;
    if (now > s->last_ms) s->last_ms = now;
    now = s->last_ms;
    const bp_registry_t *reg = s->reg;
    double burst = s->opt.rate > 3 ? s->opt.rate : 3;
    if (s->opt.rate > 0) {
        advance_fleet(s, dt * s->opt.speed, now);
        s->tokens += dt * s->opt.rate; /* capped after spending */
    }
    size_t n = 0;
    /* Full reports first: initial, resync, and status changes. */
    for (size_t i = 0; i < reg->n_hospitals && n < max; i++) {
        hosp_t *h = &s->hosp[i];
        if (!h->full || (h->rare && !h->pending_at && now < h->next_due)) continue;
        if (!emit(s, BP_SIM_HOSPITAL, (int)i, now, out, &lines[n])) goto done;
        n++;
    }
    /* the CAD's lines before the units', so a unit's call is known first */
    for (size_t i = 0; i < s->inc_hi && n < max; i++) {
        if (!sim_incident_due(s, i)) continue;
        s->tokens = fmax(s->tokens - 1, -burst);
        if (!emit(s, BP_SIM_INCIDENT, (int)i, now, out, &lines[n])) goto done;
        n++;
    }
    for (size_t i = 0; i < reg->n_units && n < max; i++) {
        unit_t *u = &s->units[i];
        if (!u->full) continue;
        if (u->charged) s->tokens = fmax(s->tokens - 1, -burst);
        if (!emit(s, BP_SIM_AMBULANCE, (int)i, now, out, &lines[n])) goto done;
        n++;
    }
    /* Then whatever is due, oldest first, as the rate allows. */
    while (n < max && s->tokens >= 1) {
        int64_t due = INT64_MAX;
        int best = -1;
        bp_sim_kind_t kind = BP_SIM_HOSPITAL;
        for (size_t i = 0; i < reg->n_hospitals; i++)
            if (s->hosp[i].next_due <= now && s->hosp[i].next_due < due)
                due = s->hosp[i].next_due, best = (int)i, kind = BP_SIM_HOSPITAL;
        if (s->opt.rate > 0)
            for (size_t i = 0; i < reg->n_units; i++)
                if (s->units[i].driving && s->units[i].next_pos <= now &&
                    s->units[i].next_pos < due)
                    due = s->units[i].next_pos, best = (int)i, kind = BP_SIM_AMBULANCE;
        if (best < 0) break;
        if (!emit(s, kind, best, now, out, &lines[n])) goto done;
        n++;
        s->tokens -= 1;
    }
    /* Budget that would overflow the bucket goes to hospital updates ahead
     * of their schedule, so the overall rate is the one asked for. */
    while (n < max && s->opt.rate > 0 && s->tokens >= burst - 1) {
        int best = -1;
        for (size_t i = 0; i < reg->n_hospitals; i++)
            if (!s->hosp[i].rare && (best < 0 || s->hosp[i].next_due < s->hosp[best].next_due))
                best = (int)i;
        if (best < 0) break;
        if (!emit(s, BP_SIM_HOSPITAL, best, now, out, &lines[n])) break;
        n++;
        s->tokens -= 1;
    }
done:
    if (s->tokens > burst) s->tokens = burst;
    return n;
}

void bp_sim_stats(const bp_sim_t *s, bp_sim_stats_t *out) {
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < s->reg->n_units; i++) {
        const unit_t *u = &s->units[i];
        if (u->driving) out->units_moving++;
        if (u->status != BP_AMB_AVAILABLE_STATION && u->status != BP_AMB_AVAILABLE_RADIO)
            out->units_busy++;
    }
    out->incidents = s->st.incidents;
    out->warm_incidents = s->st.warm_incidents;
    out->mci_incidents = s->st.mci_incidents;
    out->unanswered = s->st.unanswered;
    out->transports = s->st.transports;
    out->treated_on_scene = s->st.treated_on_scene;
    out->dropped = s->st.dropped;
    for (size_t i = 0; i < s->inc_hi; i++) {
        const incident_t *x = &s->inc[i];
        if (!x->used || x->closing) continue;
        out->incidents_open++;
        if (x->unit < 0) out->incidents_waiting++;
    }
    out->hospital_lines = s->hospital_lines;
    out->ambulance_lines = s->ambulance_lines;
    out->incident_lines = s->incident_lines;
    out->fleet_time_s = s->fleet_s;
    out->n_rare = s->n_rare;
    memcpy(out->rare, s->rare, sizeof out->rare);
}
