/* Trend samples, their text form and bounded series (see bp_history.h). */
#include "bp_history.h"
#include "bp_jw.h"
#include "bp_registry.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void clear(bp_history_point_t *p, int64_t t_ms) {
    memset(p, 0, sizeof *p);
    p->t_ms = t_ms;
    p->occupancy_pct = -1;
    p->icu_adult_available = -1;
    p->level = 0;
    for (int t = 0; t < BP_BED__COUNT; t++)
        p->beds[t] = (bp_beds_t){-1, -1, -1};
}

void bp_history_sample_city(const bp_state_t *st, int64_t now_ms, int64_t t_ms,
                            bp_history_point_t *out) {
    const bp_registry_t *r = bp_state_registry(st);
    clear(out, t_ms);
    int64_t staffed = 0, occupied = 0, icu = 0;
    int64_t sums[BP_BED__COUNT][3] = {{0}};
    int icu_known = 0;
    for (size_t i = 0; i < r->n_hospitals; i++) {
        const bp_hospital_state_t *h = bp_state_hospital(st, i);
        if (h->at_ms <= 0) continue; /* never reported: nothing to count */
        out->reporting++;
        bp_totals_t t;
        bp_hospital_totals(h, &t);
        staffed += t.staffed;
        occupied += t.occupied;
        int32_t a = (h->beds_mask & (1u << BP_BED_ICU_ADULT))
                        ? bp_beds_available(&h->beds[BP_BED_ICU_ADULT])
                        : -1;
        if (a >= 0) {
            icu += a;
            icu_known = 1;
        }
        for (int k = 0; k < BP_BED__COUNT; k++) {
            const bp_beds_t *b = &h->beds[k];
            if (!(h->beds_mask & (1u << k)) || b->staffed < 0 || b->occupied < 0) continue;
            out->beds_mask |= 1u << k;
            sums[k][0] += b->staffed;
            sums[k][1] += b->occupied;
            if (b->surge24 > 0) sums[k][2] += b->surge24;
        }
        bp_ed_status_t ed = bp_ed_effective(&h->ed, now_ms);
        if (ed == BP_ED_DIVERSION || ed == BP_ED_CLOSED) out->diversions++;
        if (bp_pressure_level(h, bp_state_pressure(st), now_ms) == 4) out->level4++;
    }
    out->staffed = (int32_t)staffed;
    out->occupied = (int32_t)occupied;
    if (staffed > 0) out->occupancy_pct = 100.0 * (double)occupied / (double)staffed;
    if (icu_known) out->icu_adult_available = (int32_t)icu;
    for (int k = 0; k < BP_BED__COUNT; k++)
        if (out->beds_mask & (1u << k))
            out->beds[k] =
                (bp_beds_t){(int32_t)sums[k][0], (int32_t)sums[k][1], (int32_t)sums[k][2]};
}

void bp_history_sample_hospital(const bp_state_t *st, size_t i, int64_t now_ms, int64_t t_ms,
                                bp_history_point_t *out) {
    const bp_hospital_state_t *h = bp_state_hospital(st, i);
    clear(out, t_ms);
    if (!h || h->at_ms <= 0) return;
    bp_totals_t t;
    bp_hospital_totals(h, &t);
    out->staffed = (int32_t)t.staffed;
    out->occupied = (int32_t)t.occupied;
    out->occupancy_pct = bp_occupancy_pct(&t);
    if (h->beds_mask & (1u << BP_BED_ICU_ADULT))
        out->icu_adult_available = bp_beds_available(&h->beds[BP_BED_ICU_ADULT]);
    out->level = bp_pressure_level(h, bp_state_pressure(st), now_ms);
    out->reporting = 1;
    out->beds_mask = h->beds_mask;
    for (int k = 0; k < BP_BED__COUNT; k++)
        if (h->beds_mask & (1u << k)) out->beds[k] = h->beds[k];
}

void bp_history_encode(bp_buf_t *b, const bp_history_point_t *p) {
    bp_buf_printf(b, "%lld,%.1f,%d,%d,%d,%d,%d,%d,%d", (long long)p->t_ms,
                  p->occupancy_pct < 0 ? -1.0 : p->occupancy_pct, p->occupied, p->staffed,
                  p->icu_adult_available, p->diversions, p->level4, p->reporting, p->level);
    for (int t = 0; t < BP_BED__COUNT; t++)
        if (p->beds_mask & (1u << t))
            bp_buf_printf(b, "|%s:%d:%d:%d", bp_bed_type_name((bp_bed_type_t)t), p->beds[t].staffed,
                          p->beds[t].occupied, p->beds[t].surge24);
}

/* The bed type groups after the head: "|name:s:o:g..." (len bytes). */
static int decode_beds(const char *s, size_t len, bp_history_point_t *out) {
    size_t i = 0;
    while (i < len) {
        if (s[i] != '|') return -1;
        i++;
        size_t name = i;
        while (i < len && s[i] != ':')
            i++;
        if (i == len) return -1;
        int t = bp_bed_type_parse(s + name, i - name);
        long long v[3];
        for (int k = 0; k < 3; k++) {
            i++; /* the ':' */
            size_t start = i;
            bool neg = i < len && s[i] == '-';
            if (neg) i++;
            long long x = 0;
            size_t digits = i;
            while (i < len && s[i] >= '0' && s[i] <= '9' && i - digits < 9)
                x = x * 10 + (s[i++] - '0');
            if (i == digits || i - start > 10) return -1;
            v[k] = neg ? -x : x;
            if (v[k] < -1 || v[k] > BP_BEDS_MAX) return -1;
            if (k < 2 && (i == len || s[i] != ':')) return -1;
        }
        if (i < len && s[i] != '|') return -1;
        if (t < 0) continue; /* a bed type this version does not know */
        out->beds_mask |= 1u << t;
        out->beds[t] = (bp_beds_t){(int32_t)v[0], (int32_t)v[1], (int32_t)v[2]};
    }
    return 0;
}

int bp_history_decode(const char *s, size_t len, bp_history_point_t *out) {
    char tmp[160];
    const char *bar = memchr(s, '|', len);
    size_t full = len;
    if (bar) len = (size_t)(bar - s);
    if (len == 0 || len >= sizeof tmp) return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *p = tmp, *end;
    long long v[9];
    double occ = 0;
    for (int i = 0; i < 9; i++) {
        errno = 0;
        if (i == 1) {
            occ = strtod(p, &end);
            if (!isfinite(occ)) return -1;
        } else {
            v[i] = strtoll(p, &end, 10);
        }
        if (end == p || errno) return -1;
        if (i < 8 && *end != ',') return -1;
        if (i == 8 && *end != '\0') return -1;
        p = end + 1;
    }
    if (v[0] <= 0) return -1;
    for (int i = 2; i < 9; i++)
        if (v[i] < -1 || v[i] > 100000000) return -1;
    clear(out, v[0]);
    if (decode_beds(s + len, full - len, out)) return -1;
    out->occupancy_pct = occ < 0 ? -1 : occ;
    out->occupied = (int32_t)v[2];
    out->staffed = (int32_t)v[3];
    out->icu_adult_available = (int32_t)v[4];
    out->diversions = (int32_t)v[5];
    out->level4 = (int32_t)v[6];
    out->reporting = (int32_t)v[7];
    out->level = (int32_t)v[8];
    return 0;
}

int bp_series_init(bp_series_t *s, size_t cap) {
    memset(s, 0, sizeof *s);
    if (cap == 0) cap = 1;
    if (cap > BP_HISTORY_MAX_POINTS) cap = BP_HISTORY_MAX_POINTS;
    s->p = calloc(cap, sizeof *s->p);
    s->cap = s->p ? cap : 0;
    return s->p ? 0 : -1;
}

void bp_series_free(bp_series_t *s) {
    free(s->p);
    memset(s, 0, sizeof *s);
}

static const bp_history_point_t *at(const bp_series_t *s, size_t i) {
    return &s->p[(s->first + i) % s->cap];
}

const bp_history_point_t *bp_series_at(const bp_series_t *s, size_t i) {
    return i < s->count ? at(s, i) : NULL;
}

int64_t bp_series_last_t(const bp_series_t *s) {
    return s->count ? at(s, s->count - 1)->t_ms : 0;
}

void bp_series_add(bp_series_t *s, const bp_history_point_t *p) {
    if (!s->cap || (s->count && p->t_ms <= bp_series_last_t(s))) return;
    if (s->count == s->cap) {
        s->first = (s->first + 1) % s->cap;
        s->count--;
    }
    s->p[(s->first + s->count) % s->cap] = *p;
    s->count++;
}

void bp_series_write(bp_buf_t *b, const bp_series_t *s, const char *name, int city, int interval_s,
                     int64_t from_ms, int64_t to_ms) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "series");
    bp_jw_cstr(&w, name);
    BP_JW_KEY(&w, "interval_s");
    bp_jw_int(&w, interval_s);
    BP_JW_KEY(&w, "from");
    bp_jw_time(&w, from_ms);
    BP_JW_KEY(&w, "to");
    bp_jw_time(&w, to_ms);
    BP_JW_KEY(&w, "points");
    bp_jw_arr(&w);
    for (size_t i = 0; i < s->count; i++) {
        const bp_history_point_t *p = at(s, i);
        if (p->t_ms < from_ms || p->t_ms > to_ms) continue;
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "t");
        bp_jw_time(&w, p->t_ms);
        BP_JW_KEY(&w, "occupancy_pct");
        bp_jw_num_or_null(&w, p->occupancy_pct >= 0, p->occupancy_pct, 1);
        BP_JW_KEY(&w, "occupied");
        bp_jw_int(&w, p->occupied);
        BP_JW_KEY(&w, "staffed");
        bp_jw_int(&w, p->staffed);
        BP_JW_KEY(&w, "icu_adult_available");
        bp_jw_num_or_null(&w, p->icu_adult_available >= 0, p->icu_adult_available, 0);
        if (city) {
            BP_JW_KEY(&w, "diversions");
            bp_jw_int(&w, p->diversions);
            BP_JW_KEY(&w, "level4");
            bp_jw_int(&w, p->level4);
            BP_JW_KEY(&w, "reporting");
            bp_jw_int(&w, p->reporting);
        } else {
            BP_JW_KEY(&w, "level");
            bp_jw_int_or_null(&w, p->level > 0, p->level);
        }
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    bp_jw_end(&w);
}
