/*
 * libFuzzer harness for the feed line parser and validator (beds,
 * ambulance and incident lines): any bytes in,
 * never a crash, a leak or undefined behaviour; and when a line is accepted,
 * its patch must survive the trip through the stored format unchanged
 * (what the collector writes is what the server reads back), services
 * (in the stream and as their hash fields) and the facility included; and
 * the plausibility rules on an accepted beds line give well-formed checks
 * that survive the stored format (the hash field "chk").
 */
#include "bp_codec_config.h"
#include "bp_codec_feed.h"
#include "bp_codec_stored.h"
#include "bp_config.h"
#include "bp_plausible.h"
#include "fuzz_util.h"
#include "interop_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rules on hospital change c against its hospital, full a minute
 * before: the flags are well formed and each reads back from "chk". */
static void check_plausible(const bp_registry_t *reg, const bp_change_t *c) {
    int i = bp_registry_hospital(reg, c->id, strlen(c->id));
    if (i < 0) abort(); /* accepted lines name a registry hospital */
    bp_hospital_state_t h;
    bp_registry_base_state(&reg->hospitals[i], &h);
    h.at_ms = c->at_ms - 60000;
    for (int t = 0; t < BP_BED__COUNT; t++)
        if (h.beds[t].staffed >= 0) h.beds[t].occupied = h.beds[t].staffed;
    bp_plaus_cfg_t cfg;
    bp_plausible_defaults(&cfg);
    bp_check_t k[4];
    size_t n = bp_plausible_eval(&h, &reg->hospitals[i], c, &cfg, k, 4);
    if (n > 4) abort();
    for (size_t j = 0; j < n; j++) {
        if (k[j].rule <= BP_CHECK_NONE || k[j].rule >= BP_CHECK__COUNT) abort();
        if (k[j].bed_type < -1 || k[j].bed_type >= BP_BED__COUNT) abort();
        if (!memchr(k[j].reason, 0, sizeof k[j].reason) || !k[j].reason[0]) abort();
        bp_buf_t j1;
        bp_buf_init(&j1, 0, 1u << 12);
        bp_codec_write_check(&j1, &k[j]);
        const char *keys[] = {"v", "chk"}, *vals[] = {"1", bp_buf_data(&j1)};
        size_t kl[] = {1, 3}, vl[] = {1, j1.len};
        bp_change_t back;
        bp_error_t err;
        if (j1.failed || bp_codec_parse_hash(BP_KIND_HOSPITAL, 2, keys, kl, vals, vl, &back, &err))
            abort();
        if (!back.has_check || back.check.rule != k[j].rule ||
            back.check.bed_type != k[j].bed_type || back.check.was != k[j].was ||
            back.check.now != k[j].now || strcmp(back.check.reason, k[j].reason) != 0)
            abort();
        bp_buf_free(&j1);
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    const bp_registry_t *reg = fuzz_registry();
    const int64_t now = 1795000000000; /* fixed: runs must be reproducible */
    bp_change_t c;
    bp_error_t err;
    memset(&err, 0xa5, sizeof err); /* unterminated unless the parser fills it */
    if (bp_codec_parse_feed((const char *)data, size, reg, now, 300000, &c, &err) != 0) {
        /* errors must name a code and carry a NUL-terminated message */
        fz_check_error(&err);
        return 0;
    }
    bp_buf_t b;
    bp_buf_init(&b, 0, 1u << 20);
    bp_codec_write_patch(&b, &c);
    if (b.failed) abort();
    bp_change_t back;
    if (bp_codec_parse_stored(c.kind, bp_buf_data(&b), b.len, &back, &err) == 0)
        abort(); /* no version: must fail */
    /* add the stamp the script adds, then it must read back identically */
    bp_buf_t s;
    bp_buf_init(&s, 0, 1u << 20);
    bp_buf_puts(&s, "{\"version\":1,");
    bp_buf_put(&s, bp_buf_data(&b) + 1, b.len - 1);
    if (bp_codec_parse_stored(c.kind, bp_buf_data(&s), s.len, &back, &err) != 0) abort();
    if (back.at_ms != c.at_ms) abort();
    if (c.kind == BP_KIND_HOSPITAL) {
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (back.bed_fields[t] != c.bed_fields[t]) abort();
            if ((c.bed_fields[t] & BP_BF_OCCUPIED) && back.beds[t].occupied != c.beds[t].occupied)
                abort();
            /* the intensive-care detail: within its rules, and back the same */
            const bp_places_t *p[2] = {&c.icu[t].ventilated, &c.icu[t].ecmo},
                              *q[2] = {&back.icu[t].ventilated, &back.icu[t].ecmo};
            for (int k = 0; k < 2; k++) {
                if (!(c.bed_fields[t] & (k ? BP_BF_ECMO : BP_BF_VENTILATED))) continue;
                if (!bp_bed_type_has_detail(t) || p[k]->free < 0 || p[k]->free > p[k]->total ||
                    p[k]->total > BP_BEDS_MAX ||
                    ((c.bed_fields[t] & BP_BF_STAFFED) && p[k]->total > c.beds[t].staffed))
                    abort();
                if (memcmp(p[k], q[k], sizeof *p[k]) != 0) abort();
            }
        }
        if (back.has_ed != c.has_ed) abort();
        if (c.has_ed &&
            (back.ed.status != c.ed.status || strcmp(back.ed.reason, c.ed.reason) != 0 ||
             back.ed.until_ms != c.ed.until_ms))
            abort();
        check_plausible(reg, &c);
        /* the facility, whole */
        if (back.has_fac != c.has_fac) abort();
        if (c.has_fac && memcmp(&back.fac, &c.fac, sizeof c.fac) != 0) abort();
        /* services: each one whole, in the stream and as its hash field */
        if (back.svc_fields != c.svc_fields) abort();
        for (int k = 0; k < BP_SVC__COUNT; k++) {
            if (!(c.svc_fields >> k & 1)) continue;
            const bp_svc_t *x = &c.svc[k], *y = &back.svc[k];
            if (y->status != x->status || y->until_ms != x->until_ms ||
                strcmp(y->reason, x->reason) != 0)
                abort();
            bp_buf_t j;
            bp_buf_init(&j, 0, 1u << 12);
            bp_codec_write_svc(&j, x);
            char key[32];
            snprintf(key, sizeof key, "svc.%s", bp_service_name((bp_service_t)k));
            const char *keys[] = {"v", key}, *vals[] = {"1", bp_buf_data(&j)};
            size_t kl[] = {1, strlen(key)}, vl[] = {1, j.len};
            bp_change_t h;
            if (j.failed || bp_codec_parse_hash(BP_KIND_HOSPITAL, 2, keys, kl, vals, vl, &h, &err))
                abort();
            if (h.svc_fields != 1u << k || h.svc[k].status != x->status ||
                h.svc[k].until_ms != x->until_ms || strcmp(h.svc[k].reason, x->reason) != 0)
                abort();
            bp_buf_free(&j);
        }
    } else if (c.kind == BP_KIND_INCIDENT) {
        const bp_incident_state_t *x = &c.inc, *y = &back.inc;
        unsigned f = c.inc_fields;
        if (back.inc_action != c.inc_action || back.inc_fields != f) abort();
        if (((f & BP_IF_PRIORITY) && y->priority != x->priority) ||
            ((f & BP_IF_CATEGORY) && y->category != x->category) ||
            ((f & BP_IF_RECEIVED) && y->received_ms != x->received_ms))
            abort();
        if (strcmp(y->address, x->address) != 0 || strcmp(y->unit, x->unit) != 0 ||
            strcmp(y->destination, x->destination) != 0)
            abort();
    } else {
        if (back.amb_fields != c.amb_fields) abort();
        if ((c.amb_fields & BP_AF_STATUS) && back.amb.status != c.amb.status) abort();
        if (strcmp(back.amb.incident, c.amb.incident) != 0) abort();
    }
    bp_buf_free(&b);
    bp_buf_free(&s);
    return 0;
}
