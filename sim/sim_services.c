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

void sim_services_write(bp_buf_t *b, hosp_t *h, int64_t at) {
    if (h->svc_report && (!h->svc_down || h->svc_until > at)) {
        int k = h->svc_report - 1;
        h->svc_report = 0;
        bp_buf_puts(b, ",\"services\":{");
        bp_json_key(b, bp_service_name((bp_service_t)k));
        if (h->svc_down != k + 1) {
            bp_buf_puts(b, "{\"status\":\"available\"}}");
        } else {
            bp_buf_puts(b, "{\"status\":\"unavailable\",\"reason\":");
            bp_json_cstr(b, h->svc_reason);
            bp_buf_puts(b, ",\"until\":");
            bp_sim_json_time(b, h->svc_until);
            bp_buf_puts(b, "}}");
        }
    }
    if (!h->fac_report) return;
    h->fac_report = false;
    if (!h->fac_down) {
        bp_buf_puts(b, ",\"facility\":{\"status\":\"normal\",\"power\":\"mains\",\"oxygen\":"
                       "\"normal\",\"water\":\"normal\"}");
        return;
    }
    int u = h->fac_down - 1;
    bp_buf_puts(b, ",\"facility\":{\"status\":\"compromised\",\"reason\":");
    bp_json_cstr(b, fac_causes[u].reason);
    bp_buf_puts(b, ",");
    bp_json_key(b, bp_utility_name((bp_utility_t)u));
    bp_json_cstr(b, bp_utility_value_name((bp_utility_t)u, fac_causes[u].value));
    bp_buf_putc(b, '}');
}
