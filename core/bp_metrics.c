/* Prometheus histograms (bp_metrics.h). */
#include "bp_metrics.h"
#include "bp_route.h"

#include <stdio.h>
#include <string.h>

const double bp_hist_bounds[BP_HIST_BOUNDS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  10};

void bp_hist_observe(bp_hist_t *h, double seconds) {
    size_t i = 0;
    while (i < BP_HIST_BOUNDS && seconds > bp_hist_bounds[i])
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum += seconds > 0 ? seconds : 0;
}

void bp_hist_header(bp_buf_t *o, const char *name, const char *help) {
    bp_buf_printf(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
}

void bp_hist_write(bp_buf_t *o, const char *name, const char *labels, const bp_hist_t *h) {
    const char *sep = labels[0] ? "," : "";
    uint64_t cum = 0;
    for (size_t i = 0; i < BP_HIST_BOUNDS; i++) {
        cum += h->bucket[i];
        bp_buf_printf(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bp_hist_bounds[i],
                      (unsigned long long)cum);
    }
    cum += h->bucket[BP_HIST_BOUNDS];
    bp_buf_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                  (unsigned long long)cum);
    if (labels[0]) {
        bp_buf_printf(o, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, h->sum, name, labels,
                      (unsigned long long)h->count);
    } else {
        bp_buf_printf(o, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name,
                      (unsigned long long)h->count);
    }
}

void bp_reqstats_observe(bp_reqstats_t *t, size_t route, int status, double seconds) {
    for (size_t i = 0; i < t->n; i++) {
        if (t->e[i].route == route && t->e[i].status == status) {
            bp_hist_observe(&t->e[i].hist, seconds);
            return;
        }
    }
    if (t->n == BP_REQSTATS_MAX || status < 100 || status > 599) {
        t->dropped++;
        return;
    }
    bp_reqstat_t *e = &t->e[t->n++];
    memset(e, 0, sizeof *e);
    e->route = (uint16_t)route;
    e->status = (uint16_t)status;
    bp_hist_observe(&e->hist, seconds);
}

void bp_reqstats_write(bp_buf_t *o, const char *name, const char *help, const bp_reqstats_t *t) {
    bp_hist_header(o, name, help);
    for (size_t i = 0; i < t->n; i++) {
        char labels[160];
        const char *route = bp_route_name(t->e[i].route);
        snprintf(labels, sizeof labels, "route=\"%s\",status=\"%u\"", route ? route : "?",
                 (unsigned)t->e[i].status);
        bp_hist_write(o, name, labels, &t->e[i].hist);
    }
}
