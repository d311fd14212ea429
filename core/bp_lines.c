/* Bounded newline splitter. */
#include "bp_lines.h"

#include <stdlib.h>
#include <string.h>

int bp_lines_init(bp_lines_t *l, size_t max_line, size_t chunk) {
    memset(l, 0, sizeof *l);
    l->max_line = max_line;
    l->cap = max_line + 1 + chunk;
    l->buf = malloc(l->cap);
    return l->buf ? 0 : -1;
}

void bp_lines_free(bp_lines_t *l) {
    free(l->buf);
    memset(l, 0, sizeof *l);
}

int bp_lines_push(bp_lines_t *l, const char *data, size_t len) {
    if (l->off) { /* compact */
        memmove(l->buf, l->buf + l->off, l->len - l->off);
        l->len -= l->off;
        l->off = 0;
    }
    if (len > l->cap - l->len) return -1;
    memcpy(l->buf + l->len, data, len);
    l->len += len;
    return 0;
}

bp_lines_result_t bp_lines_next(bp_lines_t *l, const char **line, size_t *len) {
    for (;;) {
        char *start = l->buf + l->off;
        size_t avail = l->len - l->off;
        char *nl = avail > l->scan ? memchr(start + l->scan, '\n', avail - l->scan) : NULL;
        if (l->discarding) {
            l->scan = 0;
            if (!nl) {
                l->off = l->len = 0;
                return BP_LINES_NONE;
            }
            l->off += (size_t)(nl - start) + 1;
            l->discarding = false;
            continue;
        }
        if (!nl) {
            l->scan = avail;
            if (avail > l->max_line) {
                l->off = l->len = 0;
                l->scan = 0;
                l->discarding = true;
                return BP_LINES_TOO_LONG;
            }
            return BP_LINES_NONE;
        }
        size_t n = (size_t)(nl - start);
        l->off += n + 1;
        l->scan = 0;
        if (n > l->max_line) return BP_LINES_TOO_LONG;
        if (n && start[n - 1] == '\r') n--;
        *line = start;
        *len = n;
        return BP_LINES_LINE;
    }
}

size_t bp_lines_pending(const bp_lines_t *l) {
    return l->len - l->off;
}
