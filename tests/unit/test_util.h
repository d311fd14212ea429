/*
 * Helpers shared by the unit tests: reading the repository's config files,
 * loading the real registry, and checking that writer output is one valid
 * JSON value. Everything is static inline so that a test file pays nothing
 * for the helpers it does not use (and -Wunused-function stays quiet).
 */
#ifndef BP_TEST_UTIL_H
#define BP_TEST_UTIL_H

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_buf.h"
#include "bp_codec_config.h"
#include "bp_codec_stored.h"
#include "bp_registry.h"

#ifndef BP_SOURCE_DIR
#error "BP_SOURCE_DIR must be defined by the build (the repository root)"
#endif

/* Reads a file relative to the repository root; the caller frees it. */
static inline char *tu_read_file(const char *rel, size_t *len_out) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", BP_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (len_out) *len_out = (size_t)n;
    return buf;
}

/* Loads config/hospitals.json and config/fleet.json into reg (zeroed first);
 * fails the test, showing the loader's error, if either is rejected. */
static inline void tu_load_registry(bp_registry_t *reg) {
    memset(reg, 0, sizeof *reg);
    bp_error_t err;
    memset(&err, 0, sizeof err);
    size_t len;
    char *json = tu_read_file("config/hospitals.json", &len);
    int rc = bp_codec_parse_hospitals(json, len, reg, &err);
    free(json);
    if (rc) fail_msg("hospitals.json: %s at %s: %s", err.code, err.field, err.message);
    json = tu_read_file("config/fleet.json", &len);
    rc = bp_codec_parse_fleet(json, len, reg, &err);
    free(json);
    if (rc) fail_msg("fleet.json: %s at %s: %s", err.code, err.field, err.message);
}

/* Parses text as exactly one JSON value (nothing but the value in it). */
static inline cJSON *tu_parse_json(const char *text, size_t len) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root)
        fail_msg("invalid JSON near byte %ld: %.200s",
                 cJSON_GetErrorPtr() ? (long)(cJSON_GetErrorPtr() - text) : -1L, text);
    assert_ptr_equal(end, text + len);
    return root;
}

/* Parses a writer's output; the buffer must not have failed. */
static inline cJSON *tu_parse_buf(const bp_buf_t *b) {
    assert_false(b->failed);
    assert_non_null(bp_buf_data(b));
    return tu_parse_json(bp_buf_data(b), b->len);
}

/* Walks a dotted path ("data.beds.icu_adult.occupied"); a segment that is
 * all digits indexes an array. NULL when any step is missing. */
static inline const cJSON *tu_get(const cJSON *root, const char *path) {
    const cJSON *cur = root;
    char seg[128];
    const char *p = path;
    while (cur && *p) {
        size_t n = strcspn(p, ".");
        assert_true(n < sizeof seg);
        memcpy(seg, p, n);
        seg[n] = '\0';
        p += n;
        if (*p == '.') p++;
        if (cJSON_IsArray(cur) && n > 0 && strspn(seg, "0123456789") == n)
            cur = cJSON_GetArrayItem(cur, atoi(seg));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
    }
    return cur;
}

/* The number at path; fails the test when it is missing or not a number. */
static inline double tu_num(const cJSON *root, const char *path) {
    const cJSON *v = tu_get(root, path);
    if (!cJSON_IsNumber(v)) fail_msg("%s is not a number", path);
    return v->valuedouble;
}

/* The string at path; fails the test when it is missing or not a string. */
static inline const char *tu_str(const cJSON *root, const char *path) {
    const cJSON *v = tu_get(root, path);
    if (!cJSON_IsString(v)) fail_msg("%s is not a string", path);
    return v->valuestring;
}

static inline bool tu_is_null(const cJSON *root, const char *path) {
    return cJSON_IsNull(tu_get(root, path));
}

/* A stored hash given as field, value pairs (kv[2i], kv[2i+1]) read back
 * with bp_codec_parse_hash, as a server's load reads it. */
static inline int tu_parse_hash(bp_kind_t kind, const char *const *kv, size_t pairs, bp_change_t *c,
                                bp_error_t *err) {
    const char *keys[32], *vals[32];
    size_t klens[32], vlens[32];
    assert_true(pairs <= 32);
    for (size_t i = 0; i < pairs; i++) {
        keys[i] = kv[2 * i];
        vals[i] = kv[2 * i + 1];
        klens[i] = strlen(keys[i]);
        vlens[i] = strlen(vals[i]);
    }
    memset(err, 0, sizeof *err);
    return bp_codec_parse_hash(kind, pairs, keys, klens, vals, vlens, c, err);
}

#endif
