/* Plausibility rules (bp_plausible.h). */
#include "bp_plausible.h"

#include <stdio.h>
#include <string.h>

void bp_plausible_defaults(bp_plaus_cfg_t *cfg) {
    *cfg = (bp_plaus_cfg_t){.drop = true,
                            .drop_pct = 40,
                            .drop_within_min = 15,
                            .drop_min_beds = 10,
                            .over_staffed = true,
                            .over_factor = 2.0,
                            .all_zero = true};
}

/* A bed figure after the change: the change's, else the stored one (-1). */
static int32_t after(const bp_hospital_state_t *h, const bp_change_t *c, int t, unsigned bit) {
    const bp_beds_t *n = &c->beds[t], *o = &h->beds[t];
    if (bit == BP_BF_STAFFED) return (c->bed_fields[t] & bit) ? n->staffed : o->staffed;
    return (c->bed_fields[t] & bit) ? n->occupied : o->occupied;
}

static bool add(bp_check_t *out, size_t max, size_t *n, const bp_change_t *c, bp_check_rule_t rule,
                int t, int32_t was, int32_t now) {
    if (*n >= max) return false;
    bp_check_t *k = &out[(*n)++];
    memset(k, 0, sizeof *k);
    k->rule = rule;
    k->bed_type = t;
    k->was = was;
    k->now = now;
    k->at_ms = c->at_ms;
    return true;
}

static bool all_zero(const bp_hospital_state_t *h, const bp_change_t *c, int64_t *before) {
    bool sets = false, any = false;
    *before = 0;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (c->bed_fields[t] & BP_BF_OCCUPIED) sets = true;
        if (h->beds[t].occupied > 0) *before += h->beds[t].occupied;
        bool known = ((h->beds_mask >> t) & 1u) || c->bed_fields[t];
        int32_t o = after(h, c, t, BP_BF_OCCUPIED);
        if (!known || o < 0) continue;
        if (o != 0) return false;
        any = true;
    }
    return sets && any && *before > 0;
}

size_t bp_plausible_eval(const bp_hospital_state_t *h, const bp_hospital_info_t *info,
                         const bp_change_t *c, const bp_plaus_cfg_t *cfg, bp_check_t *out,
                         size_t max) {
    size_t n = 0;
    if (c->kind != BP_KIND_HOSPITAL) return 0;
    int64_t before;
    if (cfg->all_zero && all_zero(h, c, &before)) {
        if (add(out, max, &n, c, BP_CHECK_ALL_ZERO, -1, (int32_t)before, 0))
            snprintf(out[n - 1].reason, sizeof out[n - 1].reason,
                     "every bed type reports 0 occupied; %lld were occupied before",
                     (long long)before);
    }
    for (int t = 0; cfg->drop && t < BP_BED__COUNT; t++) {
        if (!(c->bed_fields[t] & BP_BF_OCCUPIED)) continue;
        /* timed from this bed type's previous occupied figure, not from
         * the hospital's last report (which may have been of another type) */
        int64_t since = c->at_ms - h->occ_at_ms[t];
        if (h->occ_at_ms[t] <= 0 || since < 0 || since > (int64_t)cfg->drop_within_min * 60000)
            continue;
        int32_t was = h->beds[t].occupied, now = c->beds[t].occupied;
        if (was < cfg->drop_min_beds || now < 0) continue;
        /* falls by more than pct %: (was - now) / was > pct / 100 */
        if ((int64_t)(was - now) * 100 <= (int64_t)cfg->drop_pct * was) continue;
        if (!add(out, max, &n, c, BP_CHECK_DROP, t, was, now)) break;
        snprintf(out[n - 1].reason, sizeof out[n - 1].reason,
                 "%s occupied fell from %d to %d (%d %%) in %lld min",
                 bp_bed_type_name((bp_bed_type_t)t), (int)was, (int)now,
                 (int)((int64_t)(was - now) * 100 / was), (long long)(since / 60000));
    }
    for (int t = 0; cfg->over_staffed && t < BP_BED__COUNT; t++) {
        /* emergency and operating room places are not beds (as in the
         * occupancy): a crowded ED holds patients on trolleys */
        if (t == BP_BED_EMERGENCY || t == BP_BED_OPERATING_ROOM) continue;
        if (!(c->bed_fields[t] & (BP_BF_OCCUPIED | BP_BF_STAFFED))) continue;
        int32_t occ = after(h, c, t, BP_BF_OCCUPIED), st = after(h, c, t, BP_BF_STAFFED);
        if (st < 0 && info && ((info->beds_mask >> t) & 1u)) st = info->staffed[t];
        if (occ < 0 || st < 0 || (double)occ <= cfg->over_factor * st) continue;
        if (!add(out, max, &n, c, BP_CHECK_OVER_STAFFED, t, st, occ)) break;
        snprintf(out[n - 1].reason, sizeof out[n - 1].reason,
                 "%s occupied %d is over %g x its %d staffed beds",
                 bp_bed_type_name((bp_bed_type_t)t), (int)occ, cfg->over_factor, (int)st);
    }
    return n;
}

bool bp_plausible_mark(const bp_hospital_state_t *h, const bp_hospital_info_t *info,
                       const bp_plaus_cfg_t *cfg, bp_change_t *c) {
    bp_check_t k;
    /* a manager's figures (source "web:<token>") are what the manager says */
    bool manager = strncmp(c->source, "web:", 4) == 0;
    if (!manager && bp_plausible_eval(h, info, c, cfg, &k, 1) == 1) {
        c->has_check = true;
        c->check = k;
    } else if (h->check.rule != BP_CHECK_NONE && bp_change_bed_types(c) > 0) {
        c->has_check = true;
        memset(&c->check, 0, sizeof c->check);
        c->check.bed_type = -1;
    }
    return c->has_check;
}

void bp_plausible_write_common(bp_jw_t *w, const bp_check_t *k) {
    BP_JW_KEY(w, "rule");
    bp_jw_cstr(w, bp_check_rule_name(k->rule));
    BP_JW_KEY(w, "bed_type");
    bp_jw_cstr_or_null(w, k->bed_type >= 0 ? bp_bed_type_name((bp_bed_type_t)k->bed_type) : NULL);
    BP_JW_KEY(w, "was");
    bp_jw_int(w, k->was);
    BP_JW_KEY(w, "now");
    bp_jw_int(w, k->now);
    BP_JW_KEY(w, "reason");
    bp_jw_cstr(w, k->reason);
}

void bp_plausible_write(bp_jw_t *w, const bp_check_t *k) {
    BP_JW_KEY(w, "check");
    if (k->rule == BP_CHECK_NONE) {
        bp_jw_null(w);
        return;
    }
    bp_jw_obj(w);
    bp_plausible_write_common(w, k);
    BP_JW_KEY(w, "at");
    bp_jw_time(w, k->at_ms);
    BP_JW_KEY(w, "version");
    bp_jw_int(w, (int64_t)k->version);
    bp_jw_end(w);
}
