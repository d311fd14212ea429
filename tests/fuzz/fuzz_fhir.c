/*
 * libFuzzer harness for FHIR in (core/bp_fhir): any bytes as a POSTed or
 * polled MeasureReport or Bundle. Never a crash, a leak or undefined
 * behaviour; refused whole or every change in range; what was read can be
 * refined against the state and written out again as valid JSON.
 */
#include "bp_fhir.h"
#include "bp_interop.h"
#include "interop_fixture.h"

#include <cjson/cJSON.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    fuzz_fixture();
    bp_import_t im;
    bp_import_init(&im, fuzz_reg.n_hospitals);
    int rc = bp_fhir_parse((const char *)data, size, &fuzz_reg, FUZZ_NOW, FUZZ_SKEW, &im);
    fuzz_check_errors(&im.errs);
    if ((rc == 0) != (im.errs.n == 0)) abort();
    if (rc != 0 && im.n != 0) abort();
    for (size_t i = 0; i < im.n; i++) {
        bp_import_item_t *it = &im.items[i];
        if (it->hospital < 0 || (size_t)it->hospital >= fuzz_reg.n_hospitals) abort();
        if (it->change.has_ed) abort(); /* FHIR never carries the ED */
        for (int t = 0; t < BP_BED__COUNT; t++) {
            const bp_beds_t *b = &it->change.beds[t];
            uint8_t f = it->change.bed_fields[t];
            if (((f & BP_BF_STAFFED) && (b->staffed < 0 || b->staffed > BP_BEDS_MAX)) ||
                ((f & BP_BF_OCCUPIED) && (b->occupied < 0 || b->occupied > BP_BEDS_MAX)) ||
                ((f & BP_BF_SURGE24) && (b->surge24 < 0 || b->surge24 > BP_BEDS_MAX)))
                abort();
        }
        bp_interop_refine(&it->change, bp_state_hospital(fuzz_state, (size_t)it->hospital),
                          it->at_least, FUZZ_NOW);
    }
    if (rc == 0 && im.n > 0) {
        /* the writer's side of the same hospital stays valid JSON */
        bp_buf_t b;
        bp_buf_init(&b, 0, 1u << 20);
        bp_fhir_write_bundle(&b, fuzz_state, im.items[0].hospital, FUZZ_NOW);
        cJSON *j = b.failed ? NULL : cJSON_ParseWithLength(bp_buf_data(&b), b.len);
        if (!j) abort();
        cJSON_Delete(j);
        bp_buf_free(&b);
    }
    bp_import_free(&im);
    return 0;
}
