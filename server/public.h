/*
 * What BedPulse tells everyone (issue 14, core/bp_public.h): the routes
 *
 *   GET /api/v1/public              the public capacity document (JSON)
 *   GET /api/v1/public/daily.csv    open data: day x hospital x bed type
 *   GET /api/v1/public/daily.json   the same rows as JSON
 *
 * open whatever auth.anonymous says and outside the per-address rate limit:
 * each is served from bytes serialised once and rebuilt on demand when
 * older than PUBLIC_MAX_AGE_S (5 s; the daily files every 60 s), with a
 * strong ETag (a hash of the bytes, so servers and rebuilds that produce
 * the same bytes agree), If-None-Match (304) and Cache-Control: public,
 * max-age, and a gzip copy made with them (Vary: Accept-Encoding, its own
 * ETag) for who asks. An answer shares those bytes (counted, sent in one write):
 * never a copy, never a serialisation.
 */
#ifndef BP_PUBLIC_SRV_H
#define BP_PUBLIC_SRV_H

#include "request.h"

struct bp_pubcache;

struct bp_pubcache *bp_pubcache_create(void);
void bp_pubcache_destroy(struct bp_pubcache *c);

/* Prometheus text: rebuilds and answers by document. */
void bp_public_metrics(const struct bp_pubcache *c, bp_buf_t *out);

#endif
