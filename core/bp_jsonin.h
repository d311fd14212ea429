/*
 * Strict reading of untrusted JSON, shared by the codec files
 * (bp_codec_feed.c, bp_codec_api.c, bp_codec_config.c, bp_codec_stored.c).
 * Every check fills the caller's bp_error_t with a code, the field's path
 * and a sentence, and returns -1; 0 when the value passes. Paths are at most
 * BP_JSONIN_PATH_MAX - 1 bytes (longer ones are cut: they are for messages).
 * Only the codec files include this header: it is where cJSON shows.
 */
#ifndef BP_JSONIN_H
#define BP_JSONIN_H

#include "bp_error.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define BP_JSONIN_PATH_MAX 96

/* "a number", "an object", ... for messages. */
const char *bp_jsonin_type_name(const cJSON *v);
/* out (BP_JSONIN_PATH_MAX bytes) = parent "." name, truncated. */
void bp_jsonin_join(char *out, const char *parent, const char *name);
/* Parses the whole of (text, len) as one JSON value (raw NUL bytes and
 * trailing bytes other than whitespace are errors). Returns the tree (the
 * caller cJSON_Delete()s it) or NULL with err filled. */
cJSON *bp_jsonin_parse(const char *text, size_t len, bp_error_t *err);
/* Checks an object's keys against names[0..n): an unknown or repeated key
 * is an error. *present gets bit i for each names[i] present. */
int bp_jsonin_keys(const cJSON *obj, const char *path, const char *const *names, size_t n,
                   unsigned *present, bp_error_t *err);
int bp_jsonin_object(const cJSON *v, const char *path, bp_error_t *err);
/* A whole number in [lo, hi]. */
int bp_jsonin_int(const cJSON *v, const char *path, int64_t lo, int64_t hi, int64_t *out,
                  bp_error_t *err);
/* A finite number in [lo, hi]. */
int bp_jsonin_num(const cJSON *v, const char *path, double lo, double hi, double *out,
                  bp_error_t *err);
/* A string of at most max bytes, valid UTF-8 without control or bidi
 * override characters, copied into out (out_len bytes, NUL-terminated). */
int bp_jsonin_text(const cJSON *v, const char *path, size_t max, char *out, size_t out_len,
                   bp_error_t *err);
/* An RFC 3339 time with a zone, as ms since the epoch. */
int bp_jsonin_time(const cJSON *v, const char *path, int64_t *out, bp_error_t *err);
/* One of an enum's wire names: *out = parse(name), names lists them for the
 * message. */
int bp_jsonin_name(const cJSON *v, const char *path, int (*parse)(const char *, size_t),
                   const char *names, int *out, bp_error_t *err);
/* 1 when (s, len) holds the escape \u0000, which cJSON would turn into an
 * early NUL that silently shortens a string; such input is refused. */
int bp_jsonin_escaped_nul(const char *s, size_t len);

#endif
