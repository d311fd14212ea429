/*
 * 115 calls in the simulator (see sim_model.h, sim_incident.h): when and where they come,
 * what they are, which unit goes, where the patient goes, how long the
 * handover takes, and the CAD gateway's `incident` lines about them.
 *
 * Figures: Hanoi's 115 centre answers about 110 calls a day (the 2023-24
 * figures are 100-130) with few ambulances. Traffic accidents are the
 * biggest share, then heart attacks and strokes; calls are fewest before
 * dawn and peak in the morning and the evening rush.
 */
#include "sim_incident.h"
#include "bp_codec_feed.h"
#include "bp_time.h"
#include "sim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INC_SLOTS      512 /* calls open at once; more are dropped (counted) */
#define MCI_SPREAD_MIN 6.0 /* fleet minutes over which a burst's calls come in */
#define MCI_RADIUS_KM  0.15
#define MCI_PER_ED     6 /* a burst's patients one ED takes before the next is chosen */
#define MCI_CHOICES    8
#define FULL_FIELDS                                                                                \
    (BP_IF_PRIORITY | BP_IF_CATEGORY | BP_IF_POSITION | BP_IF_ADDRESS | BP_IF_UNIT |               \
     BP_IF_DESTINATION)

/* -- when ------------------------------------------------------------------ */

static double bell24(double h, double centre, double width) {
    double d = fabs(h - centre);
    if (d > 12) d = 24 - d; /* the day wraps */
    d /= width;
    return exp(-d * d);
}

static double rhythm_raw(double h) {
    return 0.3 + 1.0 * bell24(h, 10.0, 3.2) + 1.1 * bell24(h, 19.0, 2.8);
}

double bp_sim_call_rhythm(double h) {
    static double mean;
    if (mean == 0) { /* the raw curve's mean over the day */
        double sum = 0;
        for (int m = 0; m < 1440; m++)
            sum += rhythm_raw(m / 60.0);
        mean = sum / 1440.0;
    }
    return rhythm_raw(h) / mean;
}

/* -- what ------------------------------------------------------------------ */

typedef struct {
    double share;              /* of all calls, in percent */
    double p1, p3;             /* chance of priority 1 / 3 (else 2) */
    double on_scene;           /* chance of no transport (treated, refused, dead on arrival) */
    double scene_lo, scene_hi; /* fleet minutes on scene */
} category_mix_t;

static const category_mix_t mix[BP_CAT__COUNT] = {
    [BP_CAT_TRAUMA] = {28, 0.30, 0.25, 0.12, 8, 20},
    [BP_CAT_STROKE] = {11, 0.80, 0.02, 0.03, 6, 12},
    [BP_CAT_CARDIAC] = {13, 0.70, 0.05, 0.08, 8, 18},
    [BP_CAT_OBSTETRIC] = {6, 0.30, 0.20, 0.05, 6, 14},
    [BP_CAT_PEDIATRIC] = {9, 0.30, 0.30, 0.15, 6, 14},
    [BP_CAT_BURN] = {2, 0.50, 0.15, 0.05, 10, 20},
    [BP_CAT_RESPIRATORY] = {12, 0.35, 0.25, 0.12, 8, 16},
    [BP_CAT_PSYCHIATRIC] = {3, 0.10, 0.50, 0.30, 10, 25},
    [BP_CAT_OTHER] = {16, 0.10, 0.55, 0.30, 6, 15},
};

static bp_category_t draw_category(bp_rng_t *r, double hour) {
    /* evening and night: more road accidents (and drink) */
    double trauma = 1.0 + 0.5 * bell24(hour, 21.0, 3.0), total = 0;
    for (int c = 0; c < BP_CAT__COUNT; c++)
        total += mix[c].share * (c == BP_CAT_TRAUMA ? trauma : 1.0);
    double x = bp_rng_range(r, 0, total);
    for (int c = 0; c < BP_CAT__COUNT; c++) {
        x -= mix[c].share * (c == BP_CAT_TRAUMA ? trauma : 1.0);
        if (x < 0) return (bp_category_t)c;
    }
    return BP_CAT_OTHER;
}

static int draw_priority(bp_rng_t *r, double p1, double p3) {
    double x = bp_rng_unit(r);
    return x < p1 ? 1 : x < p1 + p3 ? 3 : 2;
}

double bp_sim_handover_minutes(bp_tier_t tier, double occupancy, double u) {
    bool central = tier == BP_TIER_CENTRAL, crowded = occupancy > 1.0;
    if (central && crowded) return 30 + 30 * u; /* no trolley, no bed: the crew waits */
    if (central || crowded) return 15 + 15 * u;
    return 10 + 10 * u;
}

double sim_handover_min(bp_sim_t *s, int h) {
    return bp_sim_handover_minutes(s->reg->hospitals[h].tier, sim_inpatient_occupancy(s, h),
                                   bp_rng_unit(&s->rng));
}

/* -- where ----------------------------------------------------------------- */

/* A point near where people are: around the 115 stations (placed by
 * population, weighted by their units) or around the hospitals (busy
 * quarters, weighted by their ED places), inside the service area. */
static void draw_place(bp_sim_t *s, double *lat, double *lon) {
    const bp_registry_t *reg = s->reg;
    double clat, clon, sd_km;
    if (reg->n_stations > 0 && s->n_units_total > 0 && bp_rng_chance(&s->rng, 0.55)) {
        uint32_t pick = bp_rng_below(&s->rng, (uint32_t)s->n_units_total);
        size_t st = 0;
        while (st + 1 < reg->n_stations && pick >= (uint32_t)s->station_units[st])
            pick -= (uint32_t)s->station_units[st++];
        clat = reg->stations[st].lat, clon = reg->stations[st].lon, sd_km = 2.5;
    } else {
        double total = 0;
        for (size_t i = 0; i < reg->n_hospitals; i++)
            total += 1 + reg->hospitals[i].staffed[BP_BED_EMERGENCY];
        double x = bp_rng_range(&s->rng, 0, total);
        size_t i = 0;
        while (i + 1 < reg->n_hospitals &&
               (x -= 1 + reg->hospitals[i].staffed[BP_BED_EMERGENCY]) >= 0)
            i++;
        clat = reg->hospitals[i].lat, clon = reg->hospitals[i].lon, sd_km = 1.5;
    }
    bp_area_t area;
    bp_registry_area(reg, &area);
    double dlat = sd_km * bp_rng_normal(&s->rng), dlon = sd_km * bp_rng_normal(&s->rng);
    *lat = fmin(fmax(clat + dlat / 110.57, area.lat_min + 0.01), area.lat_max - 0.01);
    *lon = fmin(fmax(clon + dlon / (111.32 * cos(clat * M_PI / 180.0)), area.lon_min + 0.01),
                area.lon_max - 0.01);
}

/* "Gần Bệnh viện Thanh Nhàn, Hai Bà Trưng": the landmark a caller gives. */
static void describe_place(const bp_sim_t *s, double lat, double lon, bool mci, char *out,
                           size_t cap) {
    const bp_registry_t *reg = s->reg;
    size_t best = 0;
    double best_km = INFINITY;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        double km = sim_km(lat, lon, reg->hospitals[i].lat, reg->hospitals[i].lon);
        if (km < best_km) best_km = km, best = i;
    }
    const bp_hospital_info_t *h = &reg->hospitals[best];
    const char *district = h->district >= 0 && (size_t)h->district < reg->n_districts
                               ? reg->districts[h->district].name.vi
                               : "";
    int n = snprintf(out, cap, "%sGần %s%s%s", mci ? "Tai nạn hàng loạt, " : "", h->name.vi,
                     district[0] ? ", " : "", district);
    if (n < 0 || (size_t)n >= cap || !bp_is_clean_text(out, strlen(out), BP_ADDRESS_MAX))
        out[0] = '\0'; /* too long to cut safely: no address */
}

/* -- the table --------------------------------------------------------------- */

int sim_incidents_init(bp_sim_t *s) {
    s->inc_cap = INC_SLOTS;
    s->inc = calloc(s->inc_cap, sizeof *s->inc);
    s->inbound = calloc(s->reg->n_hospitals, sizeof *s->inbound);
    s->mci_taken = calloc(s->reg->n_hospitals, sizeof *s->mci_taken);
    s->view = bp_state_create(s->reg, &bp_pressure_default, 0);
    if (s->opt.dispatch)
        s->dispatch = *s->opt.dispatch;
    else
        bp_dispatch_defaults(&s->dispatch);
    s->arrival_next = bp_rng_exp(&s->rng, 0.5) + bp_rng_exp(&s->rng, 0.5);
    s->mci_left = -1;
    return s->inc && s->inbound && s->mci_taken && s->view ? 0 : -1;
}

void sim_incidents_free(bp_sim_t *s) {
    free(s->inc);
    free(s->inbound);
    free(s->mci_taken);
    bp_state_destroy(s->view);
}

static void release(bp_sim_t *s, incident_t *x) {
    x->used = false;
    while (s->inc_hi > 0 && !s->inc[s->inc_hi - 1].used)
        s->inc_hi--;
}

static bool id_in_use(const bp_sim_t *s, const char *id) {
    for (size_t i = 0; i < s->inc_hi; i++)
        if (s->inc[i].used && strcmp(s->inc[i].id, id) == 0) return true;
    return false;
}

/* Opens a call at real time now. NULL when every slot is taken. */
static incident_t *open_call(bp_sim_t *s, int64_t now, bp_category_t cat, int prio, double lat,
                             double lon, bool mci) {
    incident_t *x = NULL;
    if (s->no_new_calls) return NULL; /* a stopping demo leaves none open */
    for (size_t i = 0; i < s->inc_cap && !x; i++)
        if (!s->inc[i].used) x = &s->inc[i];
    if (s->warming)
        s->st.warm_incidents++;
    else
        s->st.incidents++;
    if (mci) s->st.mci_incidents++;
    if (!x) {
        s->st.dropped++;
        return NULL;
    }
    memset(x, 0, sizeof *x); /* not in use while its id is chosen */
    /* the CAD's numbering: INC-<DDMM>-<n>, n counting the day's calls */
    char date[BP_TIME_ISO_LEN + 1];
    bp_time_format(now + 7 * 3600000LL, date);
    do
        snprintf(x->id, sizeof x->id, "INC-%.2s%.2s-%04u", date + 8, date + 5, s->inc_no++);
    while (id_in_use(s, x->id));
    x->used = true;
    x->gen = ++s->inc_gen;
    if ((size_t)(x - s->inc) >= s->inc_hi) s->inc_hi = (size_t)(x - s->inc) + 1;
    x->cat = cat;
    x->prio = prio;
    x->lat = lat;
    x->lon = lon;
    x->mci = mci;
    describe_place(s, lat, lon, mci, x->address, sizeof x->address);
    /* the call took 1-3 minutes to take; the dispatcher assigns a unit in 0.5-2 more */
    double take_s = bp_rng_range(&s->rng, 1, 3) * MINUTE;
    x->received_ms = now - (int64_t)(take_s / s->opt.speed * 1000.0);
    x->assign_s = s->fleet_s + bp_rng_range(&s->rng, 0.5, 2) * MINUTE;
    x->unit = x->dest = -1;
    return x;
}

static void new_call(bp_sim_t *s, int64_t now) {
    double lat, lon;
    double hour = bp_sim_hanoi_hour(now);
    bp_category_t cat = draw_category(&s->rng, hour);
    int prio = draw_priority(&s->rng, mix[cat].p1, mix[cat].p3);
    draw_place(s, &lat, &lon);
    open_call(s, now, cat, prio, lat, lon, false);
}

static void mci_call(bp_sim_t *s, int64_t now) {
    double r = MCI_RADIUS_KM * sqrt(bp_rng_unit(&s->rng)), a = bp_rng_range(&s->rng, 0, 2 * M_PI);
    double lat = s->mci_lat + r * cos(a) / 110.57;
    double lon = s->mci_lon + r * sin(a) / (111.32 * cos(s->mci_lat * M_PI / 180.0));
    /* START triage: immediate, delayed, minor */
    open_call(s, now, BP_CAT_TRAUMA, draw_priority(&s->rng, 0.25, 0.40), lat, lon, true);
}

static void start_mci(bp_sim_t *s) {
    s->mci_started = true;
    s->mci_left = BP_SIM_MCI_MIN + (int)bp_rng_below(&s->rng, BP_SIM_MCI_MAX - BP_SIM_MCI_MIN + 1);
    s->mci_next_s = s->fleet_s;
    if (isnan(s->opt.mci_lat) || isnan(s->opt.mci_lon)) {
        draw_place(s, &s->mci_lat, &s->mci_lon);
    } else {
        s->mci_lat = s->opt.mci_lat;
        s->mci_lon = s->opt.mci_lon;
    }
}

/* The nearest free unit for each call that is due, most urgent first. */
static void assign_units(bp_sim_t *s, int64_t now) {
    const bp_registry_t *reg = s->reg;
    for (int prio = 1; prio <= 3; prio++) {
        for (size_t i = 0; i < s->inc_hi; i++) {
            incident_t *x = &s->inc[i];
            if (!x->used || x->closing || x->unit >= 0 || x->prio != prio ||
                s->fleet_s < x->assign_s)
                continue;
            int best = -1;
            double best_km = INFINITY;
            for (size_t k = 0; k < reg->n_units; k++) {
                const unit_t *u = &s->units[k];
                if (u->status != BP_AMB_AVAILABLE_STATION && u->status != BP_AMB_AVAILABLE_RADIO)
                    continue;
                double km = sim_km(u->lat, u->lon, x->lat, x->lon);
                if (km < best_km) best_km = km, best = (int)k;
            }
            if (best < 0) {
                if (!x->waited) s->st.unanswered++;
                x->waited = true;
                continue;
            }
            unit_t *u = &s->units[best];
            x->unit = best;
            x->pending |= BP_IF_UNIT;
            u->inc = (int)i;
            snprintf(u->incident, sizeof u->incident, "%s", x->id);
            u->dest = -1;
            sim_set_status(u, BP_AMB_DISPATCHED);
            sim_drive_to(s, u, x->lat, x->lon, 30, 45, now);
        }
    }
}

void sim_incidents_advance(bp_sim_t *s, double sim_dt, int64_t now) {
    /* a non-homogeneous Poisson process (Erlang-2 gaps, so that a demo does
     * not sit still for long) on the integrated call rate */
    double per_s = BP_SIM_INCIDENTS_PER_DAY * s->opt.incident_scale / 86400.0;
    s->arrival_acc += sim_dt * per_s * bp_sim_call_rhythm(bp_sim_hanoi_hour(now));
    while (per_s > 0 && s->arrival_acc >= s->arrival_next) {
        s->arrival_acc -= s->arrival_next;
        s->arrival_next = bp_rng_exp(&s->rng, 0.5) + bp_rng_exp(&s->rng, 0.5);
        new_call(s, now);
    }
    if (!s->warming && !s->mci_started && s->opt.mci_after_s >= 0 &&
        now >= s->start_ms + (int64_t)(s->opt.mci_after_s * 1000.0))
        start_mci(s);
    while (s->mci_left > 0 && s->fleet_s >= s->mci_next_s) {
        mci_call(s, now);
        s->mci_left--;
        s->mci_next_s += bp_rng_range(&s->rng, 0, 2 * MCI_SPREAD_MIN * MINUTE / BP_SIM_MCI_MAX);
    }
    assign_units(s, now);
}

/* -- where the patient goes ---------------------------------------------------- */

/* The top recommendation for the call, from what the dispatcher sees: the
 * reported capacity and the units already transporting; -1 for none. A
 * burst's patients are spread as a field plan would: the best ranked
 * hospital that has taken fewer than MCI_PER_ED of them (inbound load alone
 * does not move a big hospital with surge beds off the top). */
static int destination(bp_sim_t *s, const incident_t *x, const unit_t *u, int64_t now) {
    const bp_registry_t *reg = s->reg;
    memset(s->inbound, 0, reg->n_hospitals * sizeof *s->inbound);
    for (size_t k = 0; k < reg->n_units; k++)
        if (s->units[k].status == BP_AMB_TRANSPORTING && s->units[k].dest >= 0)
            s->inbound[s->units[k].dest]++;
    bp_rec_query_t q = {.lat = u->lat,
                        .lon = u->lon,
                        .priority = x->prio,
                        .need = s->dispatch.needs[x->cat],
                        .now_ms = now,
                        .inbound = s->inbound};
    bp_candidate_t c[MCI_CHOICES];
    size_t n = bp_recommend(s->view, &s->dispatch, &q, c, x->mci ? MCI_CHOICES : 1);
    if (n == 0) return -1;
    for (size_t i = 0; x->mci && i < n; i++)
        if (s->mci_taken[c[i].hospital] < MCI_PER_ED) {
            s->mci_taken[c[i].hospital]++;
            return c[i].hospital;
        }
    return c[0].hospital;
}

void sim_incident_scene_done(bp_sim_t *s, size_t idx, int64_t now) {
    unit_t *u = &s->units[idx];
    incident_t *x = u->inc >= 0 ? &s->inc[u->inc] : NULL;
    int h = -1;
    if (x && !bp_rng_chance(&s->rng, mix[x->cat].on_scene)) h = destination(s, x, u, now);
    if (h < 0) { /* treated on scene, or refused transport */
        if (x) x->closing = true;
        s->st.treated_on_scene++;
        sim_return_to_station(s, idx, now);
        return;
    }
    s->st.transports++;
    x->dest = h;
    x->pending |= BP_IF_DESTINATION;
    u->dest = h;
    sim_set_status(u, BP_AMB_TRANSPORTING);
    const bp_hospital_info_t *info = &s->reg->hospitals[h];
    sim_drive_to(s, u, info->lat, info->lon, 25, 45, now);
}

void sim_incident_handover_done(bp_sim_t *s, size_t idx) {
    unit_t *u = &s->units[idx];
    if (u->inc >= 0) s->inc[u->inc].closing = true;
}

double sim_scene_min(bp_sim_t *s, const unit_t *u) {
    bp_category_t c = u->inc >= 0 ? s->inc[u->inc].cat : BP_CAT_OTHER;
    return bp_rng_range(&s->rng, mix[c].scene_lo, mix[c].scene_hi);
}

/* -- the dispatcher's view ------------------------------------------------------ */

void sim_view_hospital_line(bp_sim_t *s, const char *line, size_t len, int64_t now) {
    bp_change_t ch;
    bp_error_t err;
    if (len > 0 && bp_codec_parse_feed(line, len - 1, s->reg, now, INT64_MAX / 2, &ch, &err) == 0)
        bp_state_apply(s->view, &ch);
}

/* Before anything was reported (the warm start) the view holds what the
 * first reports will say. */
void sim_view_seed(bp_sim_t *s, int64_t now) {
    static bp_change_t ch; /* large; the model is single-threaded */
    for (size_t i = 0; i < s->reg->n_hospitals; i++) {
        const bp_hospital_info_t *info = &s->reg->hospitals[i];
        const hosp_t *h = &s->hosp[i];
        bp_change_init(&ch, BP_KIND_HOSPITAL);
        snprintf(ch.id, sizeof ch.id, "%s", info->id);
        snprintf(ch.source, sizeof ch.source, "his-%.59s", info->id);
        ch.at_ms = h->pending_at ? h->pending_at : now;
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!(info->beds_mask & (1u << t))) continue;
            ch.bed_fields[t] = BP_BF_STAFFED | BP_BF_OCCUPIED | BP_BF_SURGE24;
            ch.beds[t] = (bp_beds_t){h->staffed[t], h->occupied[t], h->surge24[t]};
        }
        ch.has_ed = true;
        ch.ed.status = h->ed;
        ch.ed.until_ms = h->ed != BP_ED_NORMAL ? h->ed_until : 0;
        ch.ed.waiting = h->waiting;
        for (int k = 0; k < BP_SVC__COUNT; k++) /* every service it has: down or not */
            if (info->services & (1u << k)) ch.svc_fields |= 1u << k;
        if (h->svc_down) {
            ch.svc[h->svc_down - 1].status = BP_SVS_UNAVAILABLE;
            ch.svc[h->svc_down - 1].until_ms = h->svc_until;
        }
        bp_state_apply(s->view, &ch);
    }
}

/* -- the CAD's lines ---------------------------------------------------------- */

bool sim_incident_due(bp_sim_t *s, size_t i) {
    incident_t *x = &s->inc[i];
    if (x->used && x->closing && (!x->created || x->muted)) {
        release(s, x); /* over before the collector heard of it, or refused */
        return false;
    }
    return x->used && !x->muted && (!x->created || x->pending || x->closing);
}

void sim_emit_incident(bp_sim_t *s, size_t i, int64_t now, bp_buf_t *out, bp_sim_line_t *line) {
    incident_t *x = &s->inc[i];
    const char *unit = x->unit >= 0 ? s->reg->units[x->unit].id : NULL;
    const char *dest = x->dest >= 0 ? s->reg->hospitals[x->dest].id : NULL;
    const char *action = !x->created ? "create" : x->closing ? "close" : "update";
    unsigned fields = !x->created ? FULL_FIELDS : x->closing ? 0 : x->pending;
    bp_jw_t w;
    bp_jw_init(&w, out);
    sim_line_start(&w, line, BP_SIM_INCIDENT, (int)i, ++s->inc_seq, "incident", "cad-115", now,
                   x->id);
    line->gen = x->gen;
    BP_JW_KEY(&w, "action");
    bp_jw_cstr(&w, action);
    if (fields & BP_IF_PRIORITY) {
        BP_JW_KEY(&w, "priority");
        bp_jw_int(&w, x->prio);
    }
    if (fields & BP_IF_CATEGORY) {
        BP_JW_KEY(&w, "category");
        bp_jw_cstr(&w, bp_category_name(x->cat));
    }
    if (fields & BP_IF_POSITION) {
        BP_JW_KEY(&w, "lat");
        bp_jw_num(&w, x->lat, 5);
        BP_JW_KEY(&w, "lon");
        bp_jw_num(&w, x->lon, 5);
    }
    if ((fields & BP_IF_ADDRESS) && x->address[0]) {
        BP_JW_KEY(&w, "address");
        bp_jw_cstr(&w, x->address);
    }
    if (!x->created) {
        BP_JW_KEY(&w, "received");
        bp_sim_jw_time(&w, x->received_ms < now ? x->received_ms : now);
    }
    /* a create or close names what is known (null: none); an update what
     * changed */
    if (x->closing ? unit != NULL : (fields & BP_IF_UNIT) && (unit || x->created)) {
        BP_JW_KEY(&w, "unit");
        bp_jw_cstr_or_null(&w, unit);
    }
    if (x->closing ? dest != NULL : (fields & BP_IF_DESTINATION) && (dest || x->created)) {
        BP_JW_KEY(&w, "destination");
        bp_jw_cstr_or_null(&w, dest);
    }
    sim_line_end(&w);
    s->incident_lines++;
    if (x->closing)
        release(s, x);
    else {
        x->created = true;
        x->pending = 0;
    }
}

void bp_sim_close_incidents(bp_sim_t *s) {
    s->no_new_calls = true;
    for (size_t i = 0; i < s->inc_hi; i++) {
        incident_t *x = &s->inc[i];
        if (!x->used) continue;
        if (x->created && !x->muted)
            x->closing = true;
        else
            release(s, x); /* the collector never heard of it */
        for (size_t k = 0; k < s->reg->n_units; k++)
            if (s->units[k].inc == (int)i) s->units[k].inc = -1;
    }
}

bool bp_sim_rejected(bp_sim_t *s, const bp_sim_line_t *line, const char *error) {
    bool known = strcmp(error, "unknown_incident") == 0 || strcmp(error, "exists") == 0 ||
                 strcmp(error, "too_many_incidents") == 0;
    if (line->kind != BP_SIM_INCIDENT || !known) return false;
    if (line->index < 0 || (size_t)line->index >= s->inc_cap) return true;
    incident_t *x = &s->inc[line->index];
    if (!x->used || x->gen != line->gen) return true; /* that call has ended */
    if (strcmp(error, "too_many_incidents") == 0) {
        x->muted = true;
    } else if (strcmp(error, "exists") == 0) { /* an earlier run's: make it this one */
        x->created = true;
        x->pending = FULL_FIELDS;
    } else {
        x->created = false; /* the collector lost it: create it again */
    }
    return true;
}

void sim_incidents_resync(bp_sim_t *s, int index) {
    for (size_t i = 0; i < s->inc_hi; i++) {
        incident_t *x = &s->inc[i];
        if ((index < 0 || (size_t)index == i) && x->used && x->created && !x->closing)
            x->pending = FULL_FIELDS;
    }
}
