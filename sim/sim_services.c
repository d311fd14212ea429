/*
 * The simulator's services and facility (issue 15): now and then one
 * service of a hospital (of those its registry lists) goes down for one to
 * four hours with a reason and comes back at its `until` (about one a day
 * per hospital, so the demo shows a few at any time); more rarely (about
 * once in ten days per hospital) the facility is compromised for one to
 * three hours — power on a generator, oxygen low or the water out — and
 * then normal again. Each change goes out with the hospital's next line.
 */
#include "bp_time.h"
#include "sim_internal.h"

#include <math.h>

#define SVC_DOWN_PER_H 0.04
#define FAC_DOWN_PER_H 0.004
#define COUNT(a)       (sizeof(a) / sizeof((a)[0]))

static const char *const svc_reasons[] = {"Bảo trì định kỳ", "Hỏng thiết bị", "Thiếu kíp trực",
                                          "Mất điện cục bộ"};
/* per utility: the reason and the utility's value while compromised */
static const struct {
    const char *reason;
    int value;
} fac_causes[BP_UTIL__COUNT] = {
    [BP_UTIL_POWER] = {"Mất điện lưới, chạy máy phát", 1},
    [BP_UTIL_OXYGEN] = {"Oxy y tế xuống thấp", 1},
    [BP_UTIL_WATER] = {"Mất nước sinh hoạt", 1},
};

/* Whether an event with the given rate per hour happens in the hours since
 * *checked (0: not yet: starts counting). */
static bool happens(bp_sim_t *s, int64_t *checked, int64_t now, double per_h) {
    double hours = *checked ? (double)(now - *checked) / 3600000.0 : 0;
    *checked = now;
    return hours > 0 && bp_rng_chance(&s->rng, 1 - exp(-per_h * hours));
}

void sim_services_update(bp_sim_t *s, int i, int64_t now) {
    uint32_t has = s->reg->hospitals[i].services;
    hosp_t *h = &s->hosp[i];
    int64_t checked = h->svc_checked;
    if (h->svc_down && now >= h->svc_until) {
        h->svc_report = h->svc_down; /* back: the line says available */
        h->svc_down = 0;
    } else if (!h->svc_down && has && happens(s, &h->svc_checked, now, SVC_DOWN_PER_H)) {
        int list[BP_SVC__COUNT], n = 0;
        for (int k = 0; k < BP_SVC__COUNT; k++)
            if (has & (1u << k)) list[n++] = k;
        h->svc_down = list[bp_rng_below(&s->rng, (uint32_t)n)] + 1;
        h->svc_until = (now + (int64_t)(60 + bp_rng_below(&s->rng, 181)) * 60000) / 60000 * 60000;
        h->svc_reason = svc_reasons[bp_rng_below(&s->rng, COUNT(svc_reasons))];
        h->svc_report = h->svc_down;
    }
    h->svc_checked = now;
    /* the facility: same clock as the services */
    if (h->fac_down && now >= h->fac_until) {
        h->fac_down = 0;
        h->fac_report = true;
    } else if (!h->fac_down && happens(s, &checked, now, FAC_DOWN_PER_H)) {
        h->fac_down = (int)bp_rng_below(&s->rng, BP_UTIL__COUNT) + 1;
        h->fac_until = now + (int64_t)(60 + bp_rng_below(&s->rng, 121)) * 60000;
        h->fac_report = true;
    }
}

void sim_services_write(bp_jw_t *w, hosp_t *h, int64_t at) {
    if (h->svc_report && (!h->svc_down || h->svc_until > at)) {
        int k = h->svc_report - 1;
        h->svc_report = 0;
        BP_JW_KEY(w, "services");
        bp_jw_obj(w);
        bp_jw_key(w, bp_service_name((bp_service_t)k));
        bp_jw_obj(w);
        BP_JW_KEY(w, "status");
        if (h->svc_down != k + 1) {
            bp_jw_cstr(w, "available");
        } else {
            bp_jw_cstr(w, "unavailable");
            BP_JW_KEY(w, "reason");
            bp_jw_cstr(w, h->svc_reason);
            BP_JW_KEY(w, "until");
            bp_sim_jw_time(w, h->svc_until);
        }
        bp_jw_end(w);
        bp_jw_end(w);
    }
    if (!h->fac_report) return;
    h->fac_report = false;
    BP_JW_KEY(w, "facility");
    bp_jw_obj(w);
    BP_JW_KEY(w, "status");
    if (!h->fac_down) {
        bp_jw_cstr(w, "normal");
        for (int u = 0; u < BP_UTIL__COUNT; u++) { /* every utility back to normal */
            bp_jw_key(w, bp_utility_name((bp_utility_t)u));
            bp_jw_cstr(w, bp_utility_value_name((bp_utility_t)u, 0));
        }
    } else {
        int u = h->fac_down - 1;
        bp_jw_cstr(w, "compromised");
        BP_JW_KEY(w, "reason");
        bp_jw_cstr(w, fac_causes[u].reason);
        bp_jw_key(w, bp_utility_name((bp_utility_t)u));
        bp_jw_cstr(w, bp_utility_value_name((bp_utility_t)u, fac_causes[u].value));
    }
    bp_jw_end(w);
}
