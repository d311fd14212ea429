/*
 * libFuzzer harness for EDXL-HAVE in (io/bp_havexml + core/bp_have): any
 * bytes as a POSTed or polled document, with the server's state or without
 * (a collector's poller). Never a crash, a leak or undefined behaviour; a
 * document is refused whole or every change in it is in range; refining a
 * change against the state never fails.
 */
#include "bp_havexml.h"
#include "bp_interop.h"
#include "interop_fixture.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    fuzz_fixture();
    bp_import_t im;
    bp_import_init(&im, fuzz_reg.n_hospitals);
    const bp_state_t *cur = size & 1 ? fuzz_state : NULL;
    int rc = bp_havexml_parse((const char *)data, size, &fuzz_reg, cur, FUZZ_NOW, FUZZ_SKEW, &im);
    fuzz_check_errors(&im.errs);
    if ((rc == 0) != (im.errs.n == 0)) abort();
    if (rc != 0 && im.n != 0) abort(); /* refused whole */
    for (size_t i = 0; i < im.n; i++) {
        bp_import_item_t *it = &im.items[i];
        if (it->hospital < 0 || (size_t)it->hospital >= fuzz_reg.n_hospitals) abort();
        if (it->change.at_ms > FUZZ_NOW + FUZZ_SKEW) abort();
        for (int t = 0; t < BP_BED__COUNT; t++) {
            const bp_beds_t *b = &it->change.beds[t];
            uint8_t f = it->change.bed_fields[t];
            if (((f & BP_BF_STAFFED) && (b->staffed < 0 || b->staffed > BP_BEDS_MAX)) ||
                ((f & BP_BF_OCCUPIED) && (b->occupied < 0 || b->occupied > BP_BEDS_MAX)) ||
                ((f & BP_BF_SURGE24) && (b->surge24 < 0 || b->surge24 > BP_BEDS_MAX)))
                abort();
        }
        if (it->change.has_ed &&
            !bp_is_clean_text(it->change.ed.reason, strlen(it->change.ed.reason), BP_REASON_MAX))
            abort();
        bp_interop_refine(&it->change, bp_state_hospital(fuzz_state, (size_t)it->hospital),
                          it->at_least, FUZZ_NOW);
    }
    bp_import_free(&im);
    return 0;
}
