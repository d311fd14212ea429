/* The outlook, refreshed from the in-memory history (see outlook.h). */
#include "outlook.h"
#include "bp_alerts.h"
#include "bp_jw.h"
#include "bp_outlook.h"
#include "bp_registry.h"
#include "bp_time.h"
#include "history.h"

#include <stdlib.h>
#include <string.h>

#define REFRESH_MS 300000 /* at the latest */
#define MIN_GAP_MS 10000  /* new samples refresh it, but not more often */
#define IDLE_MS    1000   /* how often it looks */
#define BATCH      8      /* series per loop turn while refreshing */

/* The bed types whose "expected full" raises full_soon. */
static const int watched[] = {BP_BED_ICU_ADULT, BP_BED_MEDICAL_SURGICAL};

struct bp_outlook_srv {
    bp_app_t *app;
    uv_timer_t timer;
    size_t n;                     /* series: 0 = city, 1.. = hospitals in registry order */
    bp_outlook_set_t *cur, *next; /* served; being built */
    uint8_t *soon;                /* per hospital: hours until full (watched types), 0 none */
    size_t building;              /* series built so far, while refreshing */
    bool refreshing;
    int64_t generated_ms, begun_ms; /* of the served outlook; of the last refresh begun */
    int64_t signature;              /* the newest sample times it was built from */
};

static int64_t signature(const bp_outlook_srv_t *o) {
    int64_t sum = 0;
    for (size_t i = 0; i < o->n; i++) {
        const bp_series_t *s = bp_history_series(o->app->history, (int)i - 1);
        sum += s ? bp_series_last_t(s) : 0;
    }
    return sum;
}

static void finish(bp_outlook_srv_t *o, int64_t now) {
    bp_outlook_set_t *t = o->cur;
    o->cur = o->next;
    o->next = t;
    o->generated_ms = now;
    for (size_t i = 1; i < o->n; i++) {
        int best = 0;
        for (size_t k = 0; k < sizeof watched / sizeof watched[0]; k++) {
            const bp_outlook_set_t *set = &o->cur[i];
            if (!(set->mask & (1u << watched[k]))) continue;
            int h = bp_outlook_full_within(&set->type[watched[k]]);
            if (h > 0 && (best == 0 || h < best)) best = h;
        }
        o->soon[i - 1] = (uint8_t)best;
    }
    bp_alerts_set_outlook(o->app->alerts, o->soon, o->n - 1);
}

static void on_timer(uv_timer_t *t) {
    bp_outlook_srv_t *o = t->data;
    int64_t now = bp_time_now_ms();
    if (!o->refreshing) {
        int64_t sig = signature(o);
        bool due = now - o->begun_ms >= REFRESH_MS ||
                   (sig != o->signature && now - o->begun_ms >= MIN_GAP_MS);
        if (!due || sig == 0) return;
        o->signature = sig;
        o->begun_ms = now;
        o->building = 0;
        o->refreshing = true;
        uv_timer_set_repeat(&o->timer, 1);
    }
    for (size_t k = 0; k < BATCH && o->building < o->n; k++, o->building++) {
        const bp_series_t *s = bp_history_series(o->app->history, (int)o->building - 1);
        if (s)
            bp_outlook_series(s, &o->next[o->building]);
        else
            o->next[o->building].mask = 0;
    }
    if (o->building < o->n) return;
    o->refreshing = false;
    uv_timer_set_repeat(&o->timer, IDLE_MS);
    finish(o, now);
}

bp_outlook_srv_t *bp_outlook_srv_create(bp_app_t *app) {
    bp_outlook_srv_t *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->app = app;
    o->n = app->cfg.registry.n_hospitals + 1;
    o->cur = calloc(o->n, sizeof *o->cur);
    o->next = calloc(o->n, sizeof *o->next);
    o->soon = calloc(o->n, 1);
    if (!o->cur || !o->next || !o->soon) {
        free(o->cur);
        free(o->next);
        free(o->soon);
        free(o);
        return NULL;
    }
    uv_timer_init(&app->loop, &o->timer);
    o->timer.data = o;
    uv_timer_start(&o->timer, on_timer, IDLE_MS, IDLE_MS);
    return o;
}

static void on_closed(uv_handle_t *h) {
    bp_outlook_srv_t *o = h->data;
    free(o->cur);
    free(o->next);
    free(o->soon);
    free(o);
}

void bp_outlook_srv_close(bp_outlook_srv_t *o) {
    if (!o) return;
    uv_timer_stop(&o->timer);
    uv_close((uv_handle_t *)&o->timer, on_closed);
}

int bp_outlook_srv_query(const bp_outlook_srv_t *o, const char *hospital, bp_buf_t *out) {
    const bp_registry_t *reg = &o->app->cfg.registry;
    int k = -1;
    if (hospital) {
        k = bp_is_slug(hospital, strlen(hospital))
                ? bp_registry_hospital(reg, hospital, strlen(hospital))
                : -1;
        if (k < 0) {
            bp_buf_puts(out, "{\"error\":\"unknown_hospital\",\"message\":\"hospital must be the "
                             "id of a hospital of GET /api/v1/hospitals (or absent: the city)\"}");
            return 404;
        }
    }
    const bp_outlook_set_t *set = &o->cur[k + 1];
    bp_jw_t w;
    bp_jw_init(&w, out);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "series");
    bp_jw_cstr(&w, k < 0 ? "city" : reg->hospitals[k].id);
    BP_JW_KEY(&w, "generated");
    bp_jw_time(&w, o->generated_ms);
    BP_JW_KEY(&w, "as_of");
    bp_jw_time(&w, set->t_last_ms);
    BP_JW_KEY(&w, "horizon_h");
    bp_jw_int(&w, BP_OUTLOOK_HORIZON);
    BP_JW_KEY(&w, "interval");
    bp_jw_int(&w, 80);
    BP_JW_KEY(&w, "beds");
    bp_outlook_set_write(&w, set);
    if (k < 0) { /* the hospitals expected full, soonest first */
        BP_JW_KEY(&w, "full_soon");
        bp_jw_arr(&w);
        for (int h = 1; h <= BP_OUTLOOK_HORIZON; h++)
            for (size_t i = 0; i + 1 < o->n; i++) {
                if (o->soon[i] != h) continue;
                bp_jw_obj(&w);
                BP_JW_KEY(&w, "hospital");
                bp_jw_cstr(&w, reg->hospitals[i].id);
                BP_JW_KEY(&w, "hours");
                bp_jw_int(&w, h);
                bp_jw_end(&w);
            }
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    return 200;
}
