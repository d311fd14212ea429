/* libFuzzer harness for the WebSocket hello parser (untrusted client bytes). */
#include "bp_codec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    bp_hello_t h;
    bp_error_t err;
    if (bp_codec_parse_hello((const char *)data, size, &h, &err) == 0) {
        if (h.has_resume && (strlen(h.epoch) == 0 || strlen(h.epoch) > BP_EPOCH_MAX)) abort();
        if (strlen(h.token) > BP_TOKEN_MAX) abort();
    }
    return 0;
}
