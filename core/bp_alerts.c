/* Alert rules (see bp_alerts.h). */
#include "bp_alerts.h"
#include "bp_jw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rule_names[BP_ALERT__COUNT] = {"level4",   "diversion", "stale_feed",
                                                        "icu_low",  "handover",  "unassigned",
                                                        "facility", "full_soon"};

const char *bp_alert_rule_name(bp_alert_rule_t r) {
    return (unsigned)r < BP_ALERT__COUNT ? rule_names[r] : NULL;
}

void bp_alert_defaults(bp_alert_cfg_t *c) {
    c->level4 = c->diversion = c->stale_feed = c->facility = true;
    c->icu_adult_free_below = 20;
    c->handover_over_min = 30;
    c->incident_unassigned_min = 5;
    c->full_within_h = 6;
}

struct bp_alerts {
    bp_alert_t cur[BP_ALERTS_MAX], next[BP_ALERTS_MAX];
    size_t n, n_next;
    uint64_t raised;
    uint8_t full_within[BP_REGISTRY_MAX]; /* the outlook's, per hospital */
    size_t n_full;
};

void bp_alerts_set_outlook(bp_alerts_t *a, const uint8_t *full_within_h, size_t n) {
    if (n > BP_REGISTRY_MAX) n = BP_REGISTRY_MAX;
    a->n_full = full_within_h ? n : 0;
    if (a->n_full) memcpy(a->full_within, full_within_h, n);
}

bp_alerts_t *bp_alerts_create(void) {
    return calloc(1, sizeof(bp_alerts_t));
}

void bp_alerts_destroy(bp_alerts_t *a) {
    free(a);
}

static void add(bp_alerts_t *a, bp_alert_rule_t rule, const char *subject, int64_t value) {
    if (a->n_next >= BP_ALERTS_MAX) return;
    bp_alert_t *al = &a->next[a->n_next++];
    memset(al, 0, sizeof *al);
    al->rule = rule;
    snprintf(al->subject, sizeof al->subject, "%s", subject);
    snprintf(al->id, sizeof al->id, "%s:%s", rule_names[rule], subject);
    al->value = value;
}

static int cmp_alert(const void *x, const void *y) {
    const bp_alert_t *a = x, *b = y;
    if (a->since_ms != b->since_ms) return a->since_ms < b->since_ms ? -1 : 1;
    return strcmp(a->id, b->id);
}

size_t bp_alerts_update(bp_alerts_t *a, const bp_state_t *st, const bp_handover_t *ho,
                        const bp_alert_cfg_t *cfg, int64_t now) {
    const bp_registry_t *reg = bp_state_registry(st);
    a->n_next = 0;
    int64_t icu_free = 0;
    int icu_known = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_state_t *h = bp_state_hospital(st, i);
        const char *id = reg->hospitals[i].id;
        if (cfg->level4 && h->version && bp_pressure_level(h, bp_state_pressure(st), now) == 4)
            add(a, BP_ALERT_LEVEL4, id, 4);
        bp_ed_status_t ed = bp_ed_effective(&h->ed, now);
        if (cfg->diversion && (ed == BP_ED_DIVERSION || ed == BP_ED_CLOSED))
            add(a, BP_ALERT_DIVERSION, id, ed);
        if (cfg->facility && h->fac.status != BP_FAC_NORMAL)
            add(a, BP_ALERT_FACILITY, id, h->fac.status);
        if (cfg->stale_feed &&
            bp_freshness(h->at_ms, reg->hospitals[i].report_interval_s, now) == BP_STALE)
            add(a, BP_ALERT_STALE, id, (now - h->at_ms) / 60000);
        const bp_beds_t *icu = &h->beds[BP_BED_ICU_ADULT];
        if (icu->staffed > 0 && icu->occupied >= 0) {
            icu_free += icu->staffed > icu->occupied ? icu->staffed - icu->occupied : 0;
            icu_known++;
        }
        if (cfg->full_within_h > 0 && i < a->n_full && a->full_within[i] > 0 &&
            a->full_within[i] <= cfg->full_within_h)
            add(a, BP_ALERT_FULL_SOON, id, a->full_within[i]);
        if (ho && cfg->handover_over_min > 0) {
            bp_handover_figures_t f;
            bp_handover_figures(ho, i, now, &f);
            int64_t worst = f.median_ms > f.longest_wait_ms ? f.median_ms : f.longest_wait_ms;
            if (worst > (int64_t)cfg->handover_over_min * 60000)
                add(a, BP_ALERT_HANDOVER, id, worst / 60000);
        }
    }
    if (cfg->icu_adult_free_below > 0 && icu_known && icu_free < cfg->icu_adult_free_below)
        add(a, BP_ALERT_ICU_LOW, "city", icu_free);
    if (cfg->incident_unassigned_min > 0) {
        for (size_t i = 0; i < bp_state_incident_count(st); i++) {
            const bp_incident_state_t *inc = bp_state_incident(st, i);
            int64_t open = now - inc->opened_ms;
            if (!inc->unit[0] && open >= (int64_t)cfg->incident_unassigned_min * 60000)
                add(a, BP_ALERT_UNASSIGNED, inc->id, open / 60000);
        }
    }
    /* keep the "since" of alerts still active; count what changed */
    size_t changed = 0;
    for (size_t i = 0; i < a->n_next; i++) {
        bp_alert_t *nx = &a->next[i];
        const bp_alert_t *old = bp_alerts_find(a, nx->id);
        nx->since_ms = old ? old->since_ms : now;
        if (!old) {
            changed++;
            a->raised++;
        }
    }
    size_t kept = a->n_next - changed;
    changed += a->n - kept; /* cleared */
    qsort(a->next, a->n_next, sizeof *a->next, cmp_alert);
    memcpy(a->cur, a->next, a->n_next * sizeof *a->cur);
    a->n = a->n_next;
    return changed;
}

size_t bp_alerts_count(const bp_alerts_t *a) {
    return a->n;
}

const bp_alert_t *bp_alerts_get(const bp_alerts_t *a, size_t i) {
    return i < a->n ? &a->cur[i] : NULL;
}

const bp_alert_t *bp_alerts_find(const bp_alerts_t *a, const char *id) {
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->cur[i].id, id) == 0) return &a->cur[i];
    return NULL;
}

uint64_t bp_alerts_raised_total(const bp_alerts_t *a) {
    return a->raised;
}

void bp_alert_write(bp_buf_t *b, const bp_alert_t *al, const bp_state_t *st) {
    bp_alert_write_open(b, al, st);
    bp_buf_putc(b, '}');
}

void bp_alert_text(const bp_alert_t *al, const bp_state_t *st, char *tv, size_t tvl, char *te,
                   size_t tel) {
    const bp_registry_t *reg = bp_state_registry(st);
    int h = al->rule == BP_ALERT_ICU_LOW || al->rule == BP_ALERT_UNASSIGNED
                ? -1
                : bp_registry_hospital(reg, al->subject, strlen(al->subject));
    const char *vi = h >= 0 ? reg->hospitals[h].name.vi : al->subject;
    const char *en = h >= 0 ? reg->hospitals[h].name.en : al->subject;
    long long v = (long long)al->value;
    switch (al->rule) {
    case BP_ALERT_LEVEL4:
        snprintf(tv, tvl, "%s: mức áp lực 4", vi);
        snprintf(te, tel, "%s: pressure level 4", en);
        break;
    case BP_ALERT_DIVERSION:
        snprintf(tv, tvl, "%s: cấp cứu %s", vi, v == BP_ED_CLOSED ? "tạm đóng" : "chuyển hướng");
        snprintf(te, tel, "%s: ED %s", en, v == BP_ED_CLOSED ? "closed" : "on diversion");
        break;
    case BP_ALERT_STALE:
        snprintf(tv, tvl, "%s: không có báo cáo %lld phút", vi, v);
        snprintf(te, tel, "%s: no report for %lld min", en, v);
        break;
    case BP_ALERT_ICU_LOW:
        snprintf(tv, tvl, "Toàn thành phố: chỉ còn %lld giường HSTC người lớn trống", v);
        snprintf(te, tel, "City: only %lld adult ICU beds free", v);
        break;
    case BP_ALERT_HANDOVER:
        snprintf(tv, tvl, "%s: xe cấp cứu chờ bàn giao %lld phút", vi, v);
        snprintf(te, tel, "%s: ambulances wait %lld min to hand over", en, v);
        break;
    case BP_ALERT_FACILITY: {
        static const char *const fv[] = {"bình thường", "đang gặp sự cố", "đang sơ tán",
                                         "đóng cửa"};
        static const char *const fe[] = {"normal", "compromised", "being evacuated", "closed"};
        int k = v >= 0 && v < BP_FAC__COUNT ? (int)v : 0;
        snprintf(tv, tvl, "%s: cơ sở %s", vi, fv[k]);
        snprintf(te, tel, "%s: facility %s", en, fe[k]);
        break;
    }
    case BP_ALERT_FULL_SOON:
        snprintf(tv, tvl, "%s: dự kiến hết giường trong %lld giờ", vi, v);
        snprintf(te, tel, "%s: expected full within %lld h", en, v);
        break;
    case BP_ALERT_UNASSIGNED:
    default:
        snprintf(tv, tvl, "Sự cố %s chưa có xe sau %lld phút", al->subject, v);
        snprintf(te, tel, "Incident %s has no unit after %lld min", al->subject, v);
        break;
    }
}

void bp_alert_write_text(bp_jw_t *w, const char *vi, const char *en) {
    BP_JW_KEY(w, "text");
    bp_jw_obj(w);
    BP_JW_KEY(w, "vi");
    bp_jw_cstr(w, vi);
    BP_JW_KEY(w, "en");
    bp_jw_cstr(w, en);
    bp_jw_end(w);
}

void bp_alert_write_open(bp_buf_t *b, const bp_alert_t *al, const bp_state_t *st) {
    char tv[400], te[400];
    long long v = (long long)al->value;
    bp_alert_text(al, st, tv, sizeof tv, te, sizeof te);
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w); /* left open: the caller adds members and closes it */
    BP_JW_KEY(&w, "id");
    bp_jw_cstr(&w, al->id);
    BP_JW_KEY(&w, "rule");
    bp_jw_cstr(&w, rule_names[al->rule]);
    BP_JW_KEY(&w, "subject");
    bp_jw_cstr(&w, al->subject);
    BP_JW_KEY(&w, "since");
    bp_jw_time(&w, al->since_ms);
    BP_JW_KEY(&w, "value");
    bp_jw_int(&w, v);
    BP_JW_KEY(&w, "incident");
    bp_jw_bool(&w, al->rule == BP_ALERT_UNASSIGNED);
    bp_alert_write_text(&w, tv, te);
}
