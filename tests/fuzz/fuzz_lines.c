/*
 * libFuzzer harness for the line splitter: the input is cut into chunks by
 * its own bytes; every line that comes out must be at most max_line bytes
 * and newline-free, and the buffer must stay within its bound.
 */
#include "bp_lines.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 2) return 0;
    size_t max_line = 1 + data[0] % 64, chunk = 1 + data[1] % 32;
    bp_lines_t l;
    if (bp_lines_init(&l, max_line, chunk)) return 0;
    size_t pos = 2;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        if (bp_lines_push(&l, (const char *)data + pos, n) != 0) abort(); /* drained: must fit */
        pos += n;
        const char *line;
        size_t len;
        bp_lines_result_t r;
        while ((r = bp_lines_next(&l, &line, &len)) != BP_LINES_NONE) {
            if (r == BP_LINES_LINE && (len > max_line || memchr(line, '\n', len))) abort();
        }
        if (bp_lines_pending(&l) > max_line) abort();
    }
    bp_lines_free(&l);
    return 0;
}
