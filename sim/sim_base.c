/*
 * What both halves of the simulator's model use (see sim_base.h): Hanoi's
 * clock, the start of every feed line, a unit's moves, a hospital's
 * inpatient occupancy.
 */
#include "sim_base.h"
#include "bp_codec.h"
#include "bp_time.h"
#include "sim_internal.h"

#include <math.h>
#include <string.h>

/* -- Hanoi's clock ---------------------------------------------------------- */

double bp_sim_hanoi_hour(int64_t ms) {
    int64_t day = 86400000, t = (ms + 7 * 3600000LL) % day;
    if (t < 0) t += day;
    return (double)t / 3600000.0;
}

int bp_sim_hanoi_weekday(int64_t ms) {
    int64_t t = ms + 7 * 3600000LL, day = t / 86400000;
    if (t < 0 && t % 86400000) day--;
    int64_t r = (day + 3) % 7; /* 1970-01-01 was a Thursday */
    return (int)(r < 0 ? r + 7 : r);
}

void bp_sim_jw_time(bp_jw_t *w, int64_t ms) {
    char tmp[40];
    bp_time_format(ms + 7 * 3600000LL, tmp);        /* "....T..:..:..mmmZ" in Hanoi wall time */
    memcpy(tmp + BP_TIME_ISO_LEN - 1, "+07:00", 7); /* the Z becomes Hanoi's offset */
    bp_jw_cstr(w, tmp);
}

/* -- feed lines ------------------------------------------------------------- */

void sim_line_start(bp_jw_t *w, bp_sim_line_t *line, bp_sim_kind_t kind, int index, int64_t seq,
                    const char *type, const char *source, int64_t now, const char *id) {
    line->kind = kind;
    line->index = index;
    line->backdated = false;
    line->seq = seq;
    bp_jw_obj(w);
    BP_JW_KEY(w, "type");
    bp_jw_cstr(w, type);
    BP_JW_KEY(w, "source");
    bp_jw_cstr(w, source);
    BP_JW_KEY(w, "seq");
    bp_jw_int(w, seq);
    BP_JW_KEY(w, "at");
    bp_sim_jw_time(w, now);
    BP_JW_KEY(w, "id");
    bp_jw_cstr(w, id);
}

void sim_line_end(bp_jw_t *w) {
    bp_jw_end(w);
    bp_buf_putc(w->b, '\n');
}

/* -- hospitals -------------------------------------------------------------- */

/* The intensive-care detail of an ICU bed type (issue 15 part 3), from its
 * figures and without a draw, so the random sequence is unchanged: three
 * in five places can ventilate invasively, one ECMO place per 15 (an ICU
 * of 15 or more), free in proportion to the free beds. */
static void total_free(bp_jw_t *w, int32_t total, int32_t free_places) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "total");
    bp_jw_int(w, total);
    BP_JW_KEY(w, "free");
    bp_jw_int(w, free_places < total ? free_places : total);
    bp_jw_end(w);
}

void sim_write_icu_detail(bp_jw_t *w, int32_t staffed, int32_t occupied) {
    if (staffed <= 0) return;
    int32_t free_beds = staffed > occupied ? staffed - occupied : 0;
    int32_t vt = (staffed * 3 + 4) / 5, et = staffed / 15;
    int32_t vf = (free_beds * 3 + 4) / 5, ef = free_beds / 8;
    BP_JW_KEY(w, "ventilated");
    total_free(w, vt, vf);
    if (!et) return;
    BP_JW_KEY(w, "ecmo");
    total_free(w, et, ef);
}

static bool inpatient(int t) {
    return t != BP_BED_EMERGENCY && t != BP_BED_OPERATING_ROOM;
}

double sim_inpatient_occupancy(const bp_sim_t *s, int i) {
    const bp_hospital_info_t *info = &s->reg->hospitals[i];
    const hosp_t *h = &s->hosp[i];
    double st = 0, oc = 0;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!(info->beds_mask & (1u << t)) || !inpatient(t)) continue;
        st += h->staffed[t];
        oc += h->occupied[t];
    }
    return st > 0 ? oc / st : 0.0;
}

/* -- units ------------------------------------------------------------------ */

void sim_set_status(unit_t *u, bp_amb_status_t st) {
    u->status = st;
    u->full = true;
    u->charged = true;
}

void sim_drive_to(bp_sim_t *s, unit_t *u, double lat, double lon, double kmh_lo, double kmh_hi,
                  int64_t now) {
    u->to_lat = lat;
    u->to_lon = lon;
    u->kmh = bp_rng_range(&s->rng, kmh_lo, kmh_hi);
    u->heading = sim_bearing(u->lat, u->lon, lat, lon);
    u->driving = true;
    u->next_pos = now + POSITION_MS;
}

void sim_return_to_station(bp_sim_t *s, size_t idx, int64_t now) {
    unit_t *u = &s->units[idx];
    const bp_station_t *st = &s->reg->stations[s->reg->units[idx].station];
    u->dest = u->inc = -1;
    u->incident[0] = '\0';
    sim_set_status(u, BP_AMB_AVAILABLE_RADIO);
    sim_drive_to(s, u, st->lat, st->lon, 20, 35, now);
}
