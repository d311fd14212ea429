/*
 * The 24-hour outlook (issue 15, part 4; core/bp_outlook.h): every server
 * computes the outlook of every bed type of the city and of each hospital
 * from the trend history it holds in memory (history.c reads it from Redis
 * without blocking), every REFRESH_MS and whenever new samples came in
 * (at most every MIN_GAP_MS), a few series per loop turn so that no turn
 * waits for all of them; it serves GET /api/v1/outlook from memory and
 * gives the alert rules (full_soon) each hospital's verdict.
 */
#ifndef BP_OUTLOOK_SRV_H
#define BP_OUTLOOK_SRV_H

#include "app.h"
#include "bp_buf.h"

typedef struct bp_outlook_srv bp_outlook_srv_t;

/* Borrowed: app (its history, state, alerts) outlives it. */
bp_outlook_srv_t *bp_outlook_srv_create(bp_app_t *app);
void bp_outlook_srv_close(bp_outlook_srv_t *o);

/* The answer to GET /api/v1/outlook[?hospital=id] into out: 200, or 404
 * with an error naming the parameter. hospital NULL: the city, and the
 * hospitals expected full within the outlook. */
int bp_outlook_srv_query(const bp_outlook_srv_t *o, const char *hospital, bp_buf_t *out);

#endif
