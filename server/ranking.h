/*
 * Ranking hospitals for a patient (ranking.c), shared by GET
 * /api/v1/recommend and /api/v1/incidents (dispatch_reads.c) and the
 * recommendations pushed each few seconds (derived.c).
 */
#ifndef BP_RANKING_H
#define BP_RANKING_H

#include "app.h"
#include "bp_recommend.h"

/* Ranks hospitals for a patient at (lat, lon) with the dispatch table's
 * need for the category, plus the ICU places asked for (bit per
 * bp_place_t, 0 none), given the ambulances inbound to each hospital;
 * fills q (the question asked) and out (at most max); the count. */
size_t bp_rank(bp_app_t *app, double lat, double lon, int priority, bp_category_t cat,
               uint32_t places, const int *inbound, bp_rec_query_t *q, bp_candidate_t *out,
               size_t max);
/* The candidates as a JSON array, ranked from 1. */
void bp_rank_write(bp_buf_t *b, const bp_registry_t *reg, const bp_rec_query_t *q,
                   const bp_candidate_t *out, size_t k);

#endif
