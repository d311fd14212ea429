/*
 * Splits a byte stream into newline-terminated lines with a hard length
 * limit, without I/O: push bytes in, take lines out.
 *
 * A line longer than max_line is reported once as BP_LINES_TOO_LONG and its
 * bytes are dropped up to and including its newline, so the stream stays in
 * step. A trailing "\r" is stripped (CRLF senders). The buffer never holds
 * more than max_line + chunk bytes, where chunk is the most the caller
 * pushes at once while no complete line is pending.
 */
#ifndef BP_LINES_H
#define BP_LINES_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { BP_LINES_NONE, BP_LINES_LINE, BP_LINES_TOO_LONG } bp_lines_result_t;

typedef struct {
    char *buf;
    size_t off;  /* start of unconsumed data */
    size_t len;  /* end of data */
    size_t scan; /* bytes after off already known to hold no newline */
    size_t cap;
    size_t max_line;
    bool discarding;
} bp_lines_t;

/* 0, or -1 when out of memory. chunk: the largest single push. */
int bp_lines_init(bp_lines_t *l, size_t max_line, size_t chunk);
void bp_lines_free(bp_lines_t *l);

/* Appends bytes. Returns -1 (and takes nothing) if they do not fit; that
 * only happens if the caller pushes while complete lines are still pending
 * and the buffer is full — pull lines first. */
int bp_lines_push(bp_lines_t *l, const char *data, size_t len);

/* Next line: line and len are valid until the next call to push or next. */
bp_lines_result_t bp_lines_next(bp_lines_t *l, const char **line, size_t *len);

/* Bytes buffered and not yet returned. */
size_t bp_lines_pending(const bp_lines_t *l);

#endif
