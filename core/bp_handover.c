/* Inbound and handover figures (see bp_handover.h). */
#include "bp_handover.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int status;       /* bp_amb_status_t, -1 never heard */
    int hospital;     /* where it is going or waiting, -1 none */
    int64_t since_ms; /* at_hospital since */
} unit_t;

typedef struct {
    int64_t end_ms, duration_ms;
} sample_t;

typedef struct {
    sample_t s[BP_HANDOVER_SAMPLES];
    int n, next;
} ring_t;

struct bp_handover {
    const bp_registry_t *reg;
    bp_handover_cfg_t cfg;
    unit_t *units;
    ring_t *rings;
};

bp_handover_t *bp_handover_create(const bp_registry_t *reg, const bp_handover_cfg_t *cfg) {
    bp_handover_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->reg = reg;
    h->cfg = *cfg;
    h->units = calloc(reg->n_units ? reg->n_units : 1, sizeof *h->units);
    h->rings = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *h->rings);
    if (!h->units || !h->rings) {
        bp_handover_destroy(h);
        return NULL;
    }
    bp_handover_reset(h);
    return h;
}

void bp_handover_destroy(bp_handover_t *h) {
    if (!h) return;
    free(h->units);
    free(h->rings);
    free(h);
}

void bp_handover_reset(bp_handover_t *h) {
    for (size_t i = 0; i < h->reg->n_units; i++)
        h->units[i] = (unit_t){-1, -1, 0};
    memset(h->rings, 0, h->reg->n_hospitals * sizeof *h->rings);
}

static void add_sample(ring_t *r, int64_t end_ms, int64_t duration_ms) {
    r->s[r->next] = (sample_t){end_ms, duration_ms};
    r->next = (r->next + 1) % BP_HANDOVER_SAMPLES;
    if (r->n < BP_HANDOVER_SAMPLES) r->n++;
}

void bp_handover_on_ambulance(bp_handover_t *h, size_t unit, bp_amb_status_t status,
                              const char *destination, int64_t at_ms) {
    if (unit >= h->reg->n_units) return;
    unit_t *u = &h->units[unit];
    int dest = destination && *destination
                   ? bp_registry_hospital(h->reg, destination, strlen(destination))
                   : -1;
    if (u->status == BP_AMB_AT_HOSPITAL && status != BP_AMB_AT_HOSPITAL) {
        /* the patient is handed over: the wait is one sample */
        if (u->hospital >= 0 && u->since_ms > 0 && at_ms >= u->since_ms)
            add_sample(&h->rings[u->hospital], at_ms, at_ms - u->since_ms);
        u->since_ms = 0;
        u->hospital = -1;
    }
    if (dest >= 0) u->hospital = dest;
    if (status == BP_AMB_AT_HOSPITAL && u->status != BP_AMB_AT_HOSPITAL) u->since_ms = at_ms;
    if (status != BP_AMB_TRANSPORTING && status != BP_AMB_AT_HOSPITAL) u->hospital = -1;
    u->status = (int)status;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void bp_handover_figures(const bp_handover_t *h, size_t hospital, int64_t now_ms,
                         bp_handover_figures_t *out) {
    memset(out, 0, sizeof *out);
    out->median_ms = -1;
    if (hospital >= h->reg->n_hospitals) return;
    for (size_t i = 0; i < h->reg->n_units; i++) {
        const unit_t *u = &h->units[i];
        if (u->hospital != (int)hospital) continue;
        if (u->status == BP_AMB_TRANSPORTING) out->inbound++;
        if (u->status == BP_AMB_AT_HOSPITAL) {
            out->waiting++;
            int64_t w = now_ms > u->since_ms ? now_ms - u->since_ms : 0;
            if (w > out->longest_wait_ms) out->longest_wait_ms = w;
        }
    }
    const ring_t *r = &h->rings[hospital];
    int64_t d[BP_HANDOVER_SAMPLES];
    int n = 0;
    for (int i = 0; i < r->n; i++)
        if (r->s[i].end_ms >= now_ms - h->cfg.window_ms) d[n++] = r->s[i].duration_ms;
    out->samples = n;
    if (n) {
        qsort(d, (size_t)n, sizeof *d, cmp_i64);
        out->median_ms = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
    }
    out->delayed = (out->median_ms > h->cfg.delayed_ms) || out->longest_wait_ms > h->cfg.delayed_ms;
}
