/* GeoJSON and CSV exports of the state and the history (bp_export.h). */
#include "bp_export.h"
#include "bp_interop.h"
#include "bp_jw.h"
#include "bp_time.h"

#include <stdio.h>
#include <string.h>

void bp_export_geojson(bp_buf_t *b, const bp_state_t *st, int only, int64_t now_ms) {
    const bp_registry_t *r = bp_state_registry(st);
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "type");
    bp_jw_cstr(&w, "FeatureCollection");
    BP_JW_KEY(&w, "features");
    bp_jw_arr(&w);
    for (size_t i = 0; i < r->n_hospitals; i++) {
        if (only >= 0 && (size_t)only != i) continue;
        const bp_hospital_info_t *h = &r->hospitals[i];
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "type");
        bp_jw_cstr(&w, "Feature");
        BP_JW_KEY(&w, "id");
        bp_jw_cstr(&w, h->id);
        BP_JW_KEY(&w, "geometry");
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "type");
        bp_jw_cstr(&w, "Point");
        BP_JW_KEY(&w, "coordinates");
        bp_jw_arr(&w);
        bp_jw_num(&w, h->lon, 6);
        bp_jw_num(&w, h->lat, 6);
        bp_jw_end(&w);
        bp_jw_end(&w);
        BP_JW_KEY(&w, "properties");
        bp_jw_splice(&w);
        bp_state_write_hospital(b, st, i, now_ms);
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    bp_jw_end(&w);
}

void bp_csv_cell(bp_buf_t *b, const char *s) {
    bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t';
    bool quote = formula || strpbrk(s, ",\";\r\n") != NULL;
    if (!quote) {
        bp_buf_puts(b, s);
        return;
    }
    bp_buf_putc(b, '"');
    if (formula) bp_buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '"') bp_buf_putc(b, '"');
        bp_buf_putc(b, *p);
    }
    bp_buf_putc(b, '"');
}

static void num_cell(bp_buf_t *b, int64_t v) {
    if (v >= 0) bp_json_int(b, v);
}

static void time_cell(bp_buf_t *b, int64_t ms) {
    char t[32];
    if (ms <= 0) return;
    bp_time_format(ms, t);
    bp_buf_puts(b, t);
}

/* The facility's cells: status, reason, power, oxygen, water — empty until
 * it reports (and a utility it never named). */
static void facility_cells(bp_buf_t *b, const bp_hospital_state_t *h) {
    bp_buf_putc(b, ',');
    if (h->fac_reported) bp_buf_puts(b, bp_fac_status_name(h->fac.status));
    bp_buf_putc(b, ',');
    if (h->fac_reported) bp_csv_cell(b, h->fac.reason);
    for (int u = 0; u < BP_UTIL__COUNT; u++) {
        bp_buf_putc(b, ',');
        const char *v =
            h->fac_reported ? bp_utility_value_name((bp_utility_t)u, h->fac.util[u]) : 0;
        if (v) bp_buf_puts(b, v);
    }
}

/* The services limited, then those unavailable, at now_ms: one cell each,
 * names separated by ";" (quoted, as a ";" asks). */
static void services_cells(bp_buf_t *b, const bp_hospital_state_t *h, int64_t now_ms) {
    for (int want = BP_SVS_LIMITED; want <= BP_SVS_UNAVAILABLE; want++) {
        char list[256];
        size_t n = 0;
        list[0] = '\0';
        for (int k = 0; k < BP_SVC__COUNT; k++) {
            if (!(h->svc_mask >> k & 1) || (int)bp_svc_effective(&h->svc[k], now_ms) != want)
                continue;
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ";" : "",
                                  bp_service_name((bp_service_t)k));
        }
        bp_buf_putc(b, ',');
        bp_csv_cell(b, list);
    }
}

void bp_export_csv(bp_buf_t *b, const bp_state_t *st, int only, int64_t now_ms) {
    const bp_registry_t *r = bp_state_registry(st);
    bp_buf_puts(b, "\xEF\xBB\xBF");
    for (size_t c = 0; c < bp_interop_csv_ncolumns; c++) {
        if (c) bp_buf_putc(b, ',');
        bp_buf_puts(b, bp_interop_csv_columns[c]);
    }
    bp_buf_puts(b, "\r\n");
    for (size_t i = 0; i < r->n_hospitals; i++) {
        if (only >= 0 && (size_t)only != i) continue;
        const bp_hospital_info_t *info = &r->hospitals[i];
        const bp_hospital_state_t *h = bp_state_hospital(st, i);
        bp_ed_t ed;
        bp_interop_ed_view(&h->ed, now_ms, &ed);
        int level = bp_pressure_level(h, bp_state_pressure(st), now_ms);
        const char *fresh =
            bp_freshness_name(bp_freshness(h->at_ms, info->report_interval_s, now_ms));
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!(h->beds_mask & (1u << t))) continue;
            const bp_bed_interop_t *m = bp_interop_bed((bp_bed_type_t)t);
            const bp_beds_t *x = &h->beds[t];
            bp_csv_cell(b, info->id);
            bp_buf_putc(b, ',');
            bp_csv_cell(b, info->name.vi);
            bp_buf_putc(b, ',');
            bp_csv_cell(b, info->name.en);
            bp_buf_putc(b, ',');
            bp_csv_cell(b, r->districts[info->district].id);
            bp_buf_putc(b, ',');
            bp_buf_puts(b, bp_tier_name(info->tier));
            bp_buf_putc(b, ',');
            time_cell(b, h->at_ms);
            bp_buf_putc(b, ',');
            bp_buf_puts(b, fresh);
            bp_buf_putc(b, ',');
            bp_buf_puts(b, bp_bed_type_name((bp_bed_type_t)t));
            bp_buf_putc(b, ',');
            bp_buf_puts(b, m->have ? m->have : "");
            bp_buf_putc(b, ',');
            bp_buf_puts(b, m->role_code ? m->role_code : "");
            bp_buf_putc(b, ',');
            bp_buf_puts(b, m->safr ? m->safr : "");
            for (int c = 0; c < BP_COUNT__COUNT; c++) {
                bp_buf_putc(b, ',');
                num_cell(b, bp_interop_count_value(x, (bp_count_t)c));
            }
            bp_buf_putc(b, ',');
            bp_buf_puts(b, bp_ed_status_name(ed.status));
            bp_buf_putc(b, ',');
            bp_csv_cell(b, ed.reason);
            bp_buf_putc(b, ',');
            time_cell(b, ed.until_ms);
            bp_buf_putc(b, ',');
            bp_json_int(b, level);
            /* the intensive-care detail: empty where not reported */
            for (int k = 0; k < BP_ICU__COUNT; k++) {
                bp_buf_putc(b, ',');
                num_cell(b, bp_interop_icu_value(h, t, (bp_icu_count_t)k));
            }
            facility_cells(b, h);
            services_cells(b, h, now_ms);
            bp_buf_puts(b, "\r\n");
        }
    }
}

size_t bp_export_history_csv(bp_buf_t *b, const bp_series_t *s, const char *name, int64_t from_ms,
                             int64_t to_ms, int64_t step_ms) {
    bp_buf_puts(b, "\xEF\xBB\xBF"
                   "time,series,bed_type,staffed,occupied,available,overflow,surge24\r\n");
    size_t rows = 0;
    for (size_t i = 0; i < s->count; i++) {
        const bp_history_point_t *p = bp_series_at(s, i);
        if (p->t_ms < from_ms || p->t_ms > to_ms) continue;
        if (step_ms > 0) {
            /* the last sample of its step: skip it when the next one in
             * range falls in the same step */
            const bp_history_point_t *n = bp_series_at(s, i + 1);
            if (n && n->t_ms <= to_ms &&
                (n->t_ms - from_ms) / step_ms == (p->t_ms - from_ms) / step_ms)
                continue;
        }
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!(p->beds_mask & (1u << t))) continue;
            time_cell(b, p->t_ms);
            bp_buf_putc(b, ',');
            bp_csv_cell(b, name);
            bp_buf_putc(b, ',');
            bp_buf_puts(b, bp_bed_type_name((bp_bed_type_t)t));
            for (int c = 0; c < BP_COUNT__COUNT; c++) {
                bp_buf_putc(b, ',');
                num_cell(b, bp_interop_count_value(&p->beds[t], (bp_count_t)c));
            }
            bp_buf_puts(b, "\r\n");
            rows++;
        }
    }
    return rows;
}
