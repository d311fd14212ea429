/*
 * The derived engine (derived.h): once a second, what the server works out
 * from the state rather than reads from it — offload delays, the alert
 * rules, the alert records (alerting.c) and the recommendations pushed to
 * dispatchers. What to send next is decided by core/bp_derive.c (pure,
 * under unit test).
 */
#include "derived.h"
#include "alerting.h"
#include "bp_alerts.h"
#include "bp_derive.h"
#include "bp_jw.h"
#include "bp_time.h"
#include "ranking.h"

#include <stdlib.h>
#include <string.h>

/* The recommendations frame, the last one sent, and what the engine
 * remembers to decide what to send next (core/bp_derive.c). */
struct bp_derived {
    bp_buf_t rec, rec_last;
    bp_derive_t plan;
};

struct bp_derived *bp_derived_create(void) {
    struct bp_derived *a = calloc(1, sizeof(struct bp_derived));
    if (!a) return NULL;
    bp_buf_init(&a->rec, 0, 16u << 20);
    bp_buf_init(&a->rec_last, 0, 16u << 20);
    return a;
}

void bp_derived_destroy(struct bp_derived *a) {
    if (!a) return;
    bp_buf_free(&a->rec);
    bp_buf_free(&a->rec_last);
    free(a);
}

/* Every open incident's top destinations, pushed to dispatchers when they
 * change (capacity, inbound, a new incident), at most every
 * BP_DERIVE_REC_PUSH_MS:
 * {"type":"recommendations","incidents":[{"id","candidates":[..3..]}]}.
 * Into k->rec; false when it could not be made. */
#define REC_TOP 3
static bool build_recommendations(bp_app_t *app, struct bp_derived *k) {
    const bp_registry_t *reg = &app->cfg.registry;
    int *inbound = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *inbound);
    if (!inbound) return false;
    bp_recommend_inbound(app->state, inbound);
    bp_buf_t *b = &k->rec;
    bp_buf_reset(b);
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "type");
    bp_jw_cstr(&w, "recommendations");
    BP_JW_KEY(&w, "incidents");
    bp_jw_arr(&w);
    for (size_t i = 0; i < bp_state_incident_count(app->state); i++) {
        const bp_incident_state_t *inc = bp_state_incident(app->state, i);
        bp_rec_query_t q;
        bp_candidate_t out[REC_TOP];
        size_t n = bp_rank(app, inc->lat, inc->lon, inc->priority, inc->category, 0, inbound, &q,
                           out, REC_TOP);
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "id");
        bp_jw_cstr(&w, inc->id);
        BP_JW_KEY(&w, "candidates");
        bp_jw_splice(&w);
        bp_rank_write(b, reg, &q, out, n);
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    bp_jw_end(&w);
    free(inbound);
    return !b->failed;
}

static void push_recommendations(bp_app_t *app) {
    struct bp_derived *k = app->derived;
    int64_t now = bp_time_now_ms();
    if (!bp_derive_rec_due(&k->plan, now) || !build_recommendations(app, k)) return;
    bp_buf_t *b = &k->rec;
    unsigned send = bp_derive_next(&k->plan, now, false, bp_buf_data(b), b->len,
                                   bp_buf_data(&k->rec_last), k->rec_last.len);
    if (!(send & BP_DERIVE_RECOMMEND)) return;
    bp_buf_reset(&k->rec_last);
    bp_buf_put(&k->rec_last, bp_buf_data(b), b->len);
    bp_hub_broadcast(app->hub, BP_BCAST_RECOMMEND, bp_buf_data(b), b->len, NULL, 0);
}

/* Offload delayed (from the handover figures) feeds each hospital's
 * pressure level; every client gets the list when it changes:
 * {"type":"offload","delayed":["viet-duc",...]}. */
static void update_offload(bp_app_t *app, int64_t now) {
    const bp_registry_t *reg = &app->cfg.registry;
    bool changed = false;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        bp_handover_figures_t f;
        bp_handover_figures(app->handover, i, now, &f);
        changed |= bp_state_set_offload(app->state, i, f.delayed);
    }
    if (!(bp_derive_next(&app->derived->plan, now, changed, NULL, 0, NULL, 0) & BP_DERIVE_OFFLOAD))
        return;
    bp_buf_t b;
    bp_buf_init(&b, 0, 64u << 10);
    bp_jw_t w;
    bp_jw_init(&w, &b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "type");
    bp_jw_cstr(&w, "offload");
    BP_JW_KEY(&w, "delayed");
    bp_jw_arr(&w);
    for (size_t i = 0; i < reg->n_hospitals; i++)
        if (bp_state_hospital(app->state, i)->offload_delayed) bp_jw_cstr(&w, reg->hospitals[i].id);
    bp_jw_end(&w);
    bp_jw_end(&w);
    if (!b.failed)
        bp_hub_broadcast(app->hub, BP_BCAST_OFFLOAD, bp_buf_data(&b), b.len, bp_buf_data(&b),
                         b.len);
    bp_buf_free(&b);
}

void bp_derived_tick(bp_app_t *app) {
    if (!app->alerts || !app->apply || !bp_reader_ready(app->reader)) return;
    int64_t now = bp_time_now_ms();
    update_offload(app, now);
    bp_alerts_update(app->alerts, app->state, app->handover, &app->cfg.dispatch.alerts, now);
    app->alert_evaluations++;
    bp_alerting_tick(app); /* records, acknowledgements, mutes, events (alerting.c) */
    push_recommendations(app);
}
