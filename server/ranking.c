/*
 * Ranking hospitals for a patient with the dispatch table (ranking.h):
 * shared by the dispatcher's reads and the recommendations the derived
 * engine pushes.
 */
#include "ranking.h"
#include "bp_time.h"

/* Ranks hospitals for a patient at (lat, lon) with the dispatch table's
 * need for the category and the places asked for; fills q (the question
 * asked) and out. */
size_t bp_rank(bp_app_t *app, double lat, double lon, int priority, bp_category_t cat,
               uint32_t places, const int *inbound, bp_rec_query_t *q, bp_candidate_t *out,
               size_t max) {
    const bp_dispatch_cfg_t *cfg = &app->cfg.dispatch;
    *q = (bp_rec_query_t){.lat = lat,
                          .lon = lon,
                          .priority = priority,
                          .need = cfg->needs[cat],
                          .now_ms = bp_time_now_ms(),
                          .inbound = inbound};
    q->need.places |= places;
    return bp_recommend(app->state, cfg, q, out, max);
}

void bp_rank_write(bp_buf_t *b, const bp_registry_t *reg, const bp_rec_query_t *q,
                   const bp_candidate_t *out, size_t k) {
    bp_buf_putc(b, '[');
    for (size_t i = 0; i < k; i++) {
        if (i) bp_buf_putc(b, ',');
        bp_candidate_write(b, &out[i], reg, &q->need, i + 1);
    }
    bp_buf_putc(b, ']');
}
