/*
 * What the harnesses that need the real registry share: the registry
 * (fuzz_registry: fuzz_feed, fuzz_notify) and, for the interop harnesses
 * (fuzz_have, fuzz_fhir, fuzz_feedhttp), a state where a few hospitals have
 * reported (fuzz_fixture), each built once per process; a fixed "now" so
 * runs are reproducible; and the check every error list must pass.
 */
#ifndef BP_FUZZ_INTEROP_FIXTURE_H
#define BP_FUZZ_INTEROP_FIXTURE_H

#include "bp_codec_config.h"
#include "bp_config.h"
#include "bp_state.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NOW  1795000000000LL /* 2026-11-18T11:06:40Z */
#define FUZZ_SKEW 300000

static bp_registry_t fuzz_reg;
static bp_state_t *fuzz_state;

/* The registry of config/hospitals.json and config/fleet.json; aborts if
 * they cannot be read. */
static inline const bp_registry_t *fuzz_registry(void) {
    static bool loaded;
    if (loaded) return &fuzz_reg;
    loaded = true;
    const char *files[2] = {BP_SOURCE_DIR "/config/hospitals.json",
                            BP_SOURCE_DIR "/config/fleet.json"};
    for (int i = 0; i < 2; i++) {
        char *text;
        size_t len;
        bp_error_t err;
        if (bp_read_file(files[i], 1u << 24, &text, &len, &err) ||
            (i == 0 ? bp_codec_parse_hospitals(text, len, &fuzz_reg, &err)
                    : bp_codec_parse_fleet(text, len, &fuzz_reg, &err))) {
            fprintf(stderr, "fuzz: cannot load %s: %s\n", files[i], err.message);
            abort();
        }
        free(text);
    }
    return &fuzz_reg;
}

static inline void fuzz_fixture(void) {
    if (fuzz_state) return;
    fuzz_registry();
    fuzz_state = bp_state_create(&fuzz_reg, NULL, 16);
    if (!fuzz_state) abort();
    /* bach-mai over capacity and on diversion, viet-duc with spare beds */
    const char *ids[2] = {"bach-mai", "viet-duc"};
    for (int k = 0; k < 2; k++) {
        bp_change_t c;
        bp_change_init(&c, BP_KIND_HOSPITAL);
        snprintf(c.id, sizeof c.id, "%s", ids[k]);
        c.at_ms = FUZZ_NOW - 60000;
        c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED;
        c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, k ? 40 : 63, -1};
        c.has_ed = k == 0;
        c.ed.status = BP_ED_DIVERSION;
        c.ed.waiting = -1;
        c.ed.until_ms = FUZZ_NOW + 3600000;
        bp_state_apply(fuzz_state, &c);
    }
}

/* Every error names a code and carries a NUL-terminated message. */
static inline void fuzz_check_errors(const bp_errors_t *errs) {
    if (errs->n > BP_ERRORS_MAX) abort();
    for (size_t i = 0; i < errs->n; i++)
        if (!errs->e[i].code[0] ||
            strnlen(errs->e[i].message, sizeof errs->e[i].message) == sizeof errs->e[i].message)
            abort();
}

#endif
