/*
 * The names of the server's routes, as path templates ("/api/v1/hospitals/
 * {id}"): the bounded label set for metrics and the access log, whatever
 * path a client asks for. Pure.
 */
#ifndef BP_ROUTE_H
#define BP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether path matches template tmpl, segment by segment: "{name}" stands
 * for one non-empty segment; "{*}" for the rest of the path, whatever it
 * holds (slashes too, or nothing), up to what follows it in tmpl
 * ("/api/v1/alerts/{*}/ack"). Pure; the server's route table (routes.c)
 * matches its paths with it. */
bool bp_route_match(const char *tmpl, const char *path);

/* The index of the route a path belongs to: 0 .. bp_route_count() - 1.
 * Paths under /api that match no route are "/api/other"; anything else
 * (web pages, scripts, styles) is "static". Never fails. */
size_t bp_route_of(const char *path);
size_t bp_route_count(void);
const char *bp_route_name(size_t i); /* NULL past the end */

#endif
