/* libFuzzer harness for the poller's response header lines (bytes from a
 * hospital's server): the validators it keeps go back out in request
 * headers, so they must fit and hold no control character. The input is
 * split at each newline into lines, as libcurl hands them over. */
#include "bp_sources.h"

#include <stdlib.h>
#include <string.h>

static void check(const char *s, size_t cap) {
    size_t n = strnlen(s, cap);
    if (n == cap) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    bp_validators_t v;
    memset(&v, 0, sizeof v);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        bp_sources_header(&v, p, len);
        check(v.etag, sizeof v.etag);
        check(v.last_modified, sizeof v.last_modified);
        p += len;
    }
    return 0;
}
