/*
 * The server's one route table and its dispatcher (routes.c). Each route
 * is declared once there: method, path template (bp_route_match), what it
 * needs before its handler runs, the action it checks, its body and its
 * handler (handlers.h). docs/design.md, "The route table".
 */
#ifndef BP_ROUTES_H
#define BP_ROUTES_H

#include "request.h"

/* Decides what to answer to a whole request, now or (pending) later. */
void bp_routes_dispatch(bp_req_t *r);
/* The body limit of a path: feeds post batches (docs/protocol.md). */
long long bp_routes_body_limit(const bp_app_t *app, const char *path);

#endif
