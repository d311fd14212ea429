/* Route templates (bp_route.h): '{x}' stands for one non-empty segment, '{*}'
 * for the rest of a path. */
#include "bp_route.h"

#include <string.h>

static const char *const routes[] = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/ws",
    "/api/v1/config",
    "/api/v1/session",
    "/api/v1/hospitals",
    "/api/v1/hospitals/{id}",
    "/api/v1/hospitals/{id}/import",
    "/api/v1/hospitals/{id}/confirm",
    "/api/v1/ambulances",
    "/api/v1/summary",
    "/api/v1/history",
    "/api/v1/audit",
    "/api/v1/recommend",
    "/api/v1/incidents",
    "/api/v1/incidents/{id}",
    "/api/v1/handover",
    "/api/v1/alerts",
    "/api/v1/alerts/mutes",
    "/api/v1/alerts/mutes/{rule}",
    "/api/v1/alerts/{id}/ack",
    "/api/v1/subscriptions",
    "/api/v1/subscriptions/{id}",
    "/api/v1/notify/dead-letters",
    "/api/v1/public",
    "/api/v1/public/daily.csv",
    "/api/v1/public/daily.json",
    "/api/v1/mci",
    "/api/v1/mci/{id}",
    "/api/v1/mci/{id}/answers/{hospital}",
    "/api/v1/mci/{id}/patients",
    "/api/v1/mci/{id}/close",
    "/api/v1/export/have",
    "/api/v1/export/fhir",
    "/api/v1/export/geojson",
    "/api/v1/export/csv",
    "/api/v1/history.csv",
    "/api/v1/feed",
    "/api/v1/sources",
    "/api/v1/outlook",
    "/api/other", /* must stay second to last */
    "static",     /* must stay last */
};

#define N_ROUTES (sizeof routes / sizeof *routes)

/* Whether path matches template t segment by segment (bp_route_match). */
static int matches(const char *t, const char *p) {
    while (*t && *p) {
        if (*t != '/' || *p != '/') return 0;
        t++;
        p++;
        if (strncmp(t, "{*}", 3) == 0) {
            /* the rest of the path, whatever it holds, then t's tail */
            size_t tl = strlen(t + 3), pl = strlen(p);
            return pl >= tl && strcmp(p + pl - tl, t + 3) == 0;
        }
        const char *te = strchr(t, '/'), *pe = strchr(p, '/');
        size_t tl = te ? (size_t)(te - t) : strlen(t), pl = pe ? (size_t)(pe - p) : strlen(p);
        if (tl && t[0] == '{') {
            if (pl == 0) return 0;
        } else if (tl != pl || strncmp(t, p, tl) != 0) {
            return 0;
        }
        t += tl;
        p += pl;
    }
    return !*t && !*p;
}

bool bp_route_match(const char *tmpl, const char *path) {
    return matches(tmpl, path) != 0;
}

size_t bp_route_of(const char *path) {
    for (size_t i = 0; i < N_ROUTES - 2; i++)
        if (matches(routes[i], path)) return i;
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ? N_ROUTES - 2
                                                                       : N_ROUTES - 1;
}

size_t bp_route_count(void) {
    return N_ROUTES;
}

const char *bp_route_name(size_t i) {
    return i < N_ROUTES ? routes[i] : NULL;
}
