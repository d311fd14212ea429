/*
 * The derived engine (derived.c): once a second while the server follows
 * the stream, what it works out from the state rather than reads — offload
 * delays per hospital (pushed when they change), the alert rules and the
 * alert records (alerting.c), and every open incident's top destinations
 * (pushed to dispatchers when they change, at most every few seconds).
 */
#ifndef BP_DERIVED_H
#define BP_DERIVED_H

#include "app.h"

struct bp_derived;

struct bp_derived *bp_derived_create(void);    /* NULL out of memory */
void bp_derived_destroy(struct bp_derived *d); /* NULL: no-op */

/* Once a second (main.c's housekeeping). */
void bp_derived_tick(bp_app_t *app);

#endif
