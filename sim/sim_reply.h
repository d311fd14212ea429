/*
 * Reading the collector's reply lines (docs/protocol.md §1):
 *   {"ok":true,"seq":41,"offset":1234[,"duplicate":true]}
 *   {"ok":false,"seq":41|null,"error":"code"[,"field":"path"],"message":"text"}
 * A small scanner for flat JSON objects, pure: bytes in, fields out.
 */
#ifndef BP_SIM_REPLY_H
#define BP_SIM_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    bool ok, duplicate;
    bool has_seq;
    int64_t seq;
    int64_t offset; /* -1 when absent */
    char error[32]; /* "" when ok */
    char field[96];
    char message[256]; /* escapes other than \" \\ \n \t left as written; truncated */
} bp_sim_reply_t;

/* Parses one reply line (without its newline). Returns 0, or -1 when the
 * line is not a flat JSON object with a boolean "ok". */
int bp_sim_reply_parse(const char *line, size_t len, bp_sim_reply_t *out);

#endif
