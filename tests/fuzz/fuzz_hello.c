/*
 * libFuzzer harness for the WebSocket hello parser (untrusted client
 * bytes): an accepted hello is within its bounds and, written again, reads
 * back the same; a refused one carries a readable error.
 */
#include "bp_codec_api.h"
#include "fuzz_util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    bp_hello_t h;
    bp_error_t err;
    memset(&err, 0xa5, sizeof err); /* unterminated unless the parser fills it */
    if (bp_codec_parse_hello((const char *)data, size, &h, &err) == 0)
        fz_check_hello(&h);
    else
        fz_check_error(&err);
    return 0;
}
