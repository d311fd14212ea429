/*
 * A small JSON writer over a bp_buf_t that places the commas itself and
 * takes key lengths from literals, so no byte count is typed by hand:
 *
 *   bp_jw_t w;
 *   bp_jw_init(&w, b);
 *   bp_jw_obj(&w);
 *   BP_JW_KEY(&w, "hospital");
 *   bp_jw_cstr(&w, id);
 *   BP_JW_KEY(&w, "beds");
 *   bp_jw_arr(&w);
 *   ...
 *   bp_jw_end(&w);                   ']'
 *   bp_jw_end(&w);                   '}'
 *
 * Values are the bp_json_* encodings of bp_buf.h (strings escaped, numbers
 * with fixed decimals and trailing zeros trimmed, times as ISO strings or
 * null), so output written either way is byte for byte the same. The
 * writer does no checking beyond its nesting bound: a key outside an
 * object, or a missing value, writes what it is told. Errors (the buffer's
 * cap, malloc) are the buffer's sticky `failed` flag; a nesting deeper than
 * BP_JW_DEPTH_MAX sets it too.
 *
 * Members without braces (a fragment another writer splices into its own
 * object): write keys and values at the top level, and they are separated by
 * commas as members of an object would be. bp_jw_init_inside continues a
 * list already open in the buffer (after a member or element written by
 * hand, or nothing yet).
 */
#ifndef BP_JW_H
#define BP_JW_H

#include "bp_buf.h"
#include "bp_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_JW_DEPTH_MAX 16

typedef struct {
    bp_buf_t *b;                      /* borrowed: outlives the writer */
    int depth;                        /* open objects and arrays */
    bool closer[BP_JW_DEPTH_MAX + 1]; /* per depth: '}' (true) or ']' */
    bool empty[BP_JW_DEPTH_MAX + 1];  /* per depth: nothing written yet */
    bool after_key;                   /* the next value follows a key */
} bp_jw_t;

/* A writer at the top level of b (one value, or members without braces). */
void bp_jw_init(bp_jw_t *w, bp_buf_t *b);
/* A writer inside a list that is already open in b: the first key or value
 * gets a comma unless `empty`. */
void bp_jw_init_inside(bp_jw_t *w, bp_buf_t *b, bool empty);

void bp_jw_obj(bp_jw_t *w); /* '{' */
void bp_jw_arr(bp_jw_t *w); /* '[' */
void bp_jw_end(bp_jw_t *w); /* '}' or ']', whichever is open */

/* A key (",\"key\":" or "\"key\":"); it must need no escaping (our own
 * names). BP_JW_KEY takes a string literal and its length at compile time. */
void bp_jw_key_n(bp_jw_t *w, const char *key, size_t len);
void bp_jw_key(bp_jw_t *w, const char *key);
#define BP_JW_KEY(w, lit) bp_jw_key_n((w), "" lit "", sizeof(lit) - 1)

void bp_jw_str(bp_jw_t *w, const char *s, size_t len);
void bp_jw_cstr(bp_jw_t *w, const char *s);
void bp_jw_int(bp_jw_t *w, int64_t v);
void bp_jw_num(bp_jw_t *w, double v, int decimals); /* bp_json_num: null if not finite */
void bp_jw_time(bp_jw_t *w, int64_t ms);            /* bp_json_time: null for <= 0 */
void bp_jw_bool(bp_jw_t *w, bool v);
void bp_jw_null(bp_jw_t *w);
/* Shorthands for the common "value or null". */
void bp_jw_int_or_null(bp_jw_t *w, bool present, int64_t v);
void bp_jw_num_or_null(bp_jw_t *w, bool present, double v, int decimals);
void bp_jw_cstr_or_null(bp_jw_t *w, const char *s); /* null for NULL or "" */
/* A value already encoded as JSON (len bytes), written as it is. */
void bp_jw_raw(bp_jw_t *w, const char *json, size_t len);
/* The separator for what the caller then writes into the buffer itself (a
 * value, or members of the open object, from another writer). */
void bp_jw_splice(bp_jw_t *w);

/* The member "errors":[{"field":...,"code":...,"message":...},...] of every
 * answer that names bad fields (422, 403 on a feed document). */
void bp_jw_errors(bp_jw_t *w, const bp_errors_t *errs);
/* The document {"error":code,"message":message} of every error answer. */
void bp_jw_error_doc(bp_buf_t *b, const char *code, const char *message);

#endif
