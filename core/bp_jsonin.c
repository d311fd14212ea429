/* Strict reading of untrusted JSON (cJSON): the checks every codec file
 * shares, each failing with an error that names the field and the rule. */
#include "bp_jsonin.h"
#include "bp_model.h"
#include "bp_time.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *bp_jsonin_type_name(const cJSON *v) {
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "invalid";
}

/* out = parent "." name, truncated to BP_JSONIN_PATH_MAX - 1 bytes (paths are for
 * messages; a truncated path is still useful). */
void bp_jsonin_join(char *out, const char *parent, const char *name) {
    size_t n = 0;
    for (const char *p = parent; p && *p && n < BP_JSONIN_PATH_MAX - 1; p++)
        out[n++] = *p;
    if (n && n < BP_JSONIN_PATH_MAX - 1) out[n++] = '.';
    for (const char *p = name; p && *p && n < BP_JSONIN_PATH_MAX - 1; p++)
        out[n++] = *p;
    out[n] = '\0';
}

/* Parses the whole of (text, len) as one JSON value; trailing bytes other
 * than whitespace are an error. */
cJSON *bp_jsonin_parse(const char *text, size_t len, bp_error_t *err) {
    if (len == 0) {
        bp_error_set(err, "bad_json", "", "empty input: expected one JSON object");
        return NULL;
    }
    /* A raw NUL byte is never valid JSON, and cJSON would end a string at
     * it without complaint ("bach-mai<NUL>x" would read as "bach-mai"). */
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        bp_error_set(err, "bad_json", "", "NUL byte at byte %ld", (long)(nul - text));
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long pos = at && at >= text && at <= text + len ? (long)(at - text) : -1;
        bp_error_set(err, "bad_json", "", "malformed JSON near byte %ld", pos);
        return NULL;
    }
    if (end) {
        while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
            end++;
        if (end < text + len) {
            cJSON_Delete(root);
            bp_error_set(err, "bad_json", "", "unexpected bytes after the JSON value at byte %ld",
                         (long)(end - text));
            return NULL;
        }
    }
    return root;
}

/* Checks an object's keys against a list; fails on unknown or repeated keys.
 * Returns a bitmask of which listed keys are present. */
int bp_jsonin_keys(const cJSON *obj, const char *path, const char *const *names, size_t n,
                   unsigned *present, bp_error_t *err) {
    *present = 0;
    for (const cJSON *it = obj->child; it; it = it->next) {
        size_t i = 0;
        while (i < n && strcmp(names[i], it->string) != 0)
            i++;
        char p[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(p, path, it->string);
        if (i == n) {
            char shown[40];
            snprintf(shown, sizeof shown, "%s", it->string);
            return bp_error_set(err, "unknown_field", p, "unknown field \"%s\"%s%s", shown,
                                path && *path ? " in " : "", path ? path : "");
        }
        if (*present & (1u << i))
            return bp_error_set(err, "duplicate_field", p, "field %s appears more than once", p);
        *present |= 1u << i;
    }
    return 0;
}

int bp_jsonin_object(const cJSON *v, const char *path, bp_error_t *err) {
    if (!cJSON_IsObject(v))
        return bp_error_set(err, "wrong_type", path, "%s must be an object, got %s",
                            *path ? path : "the message", bp_jsonin_type_name(v));
    return 0;
}

int bp_jsonin_int(const cJSON *v, const char *path, int64_t lo, int64_t hi, int64_t *out,
                  bp_error_t *err) {
    if (!cJSON_IsNumber(v))
        return bp_error_set(err, "wrong_type", path, "%s must be an integer, got %s", path,
                            bp_jsonin_type_name(v));
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return bp_error_set(err, "wrong_type", path, "%s must be a whole number", path);
    if (d < (double)lo || d > (double)hi)
        return bp_error_set(err, "out_of_range", path, "%s must be from %lld to %lld, got %.0f",
                            path, (long long)lo, (long long)hi, d);
    *out = (int64_t)d;
    return 0;
}

int bp_jsonin_num(const cJSON *v, const char *path, double lo, double hi, double *out,
                  bp_error_t *err) {
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return bp_error_set(err, "wrong_type", path, "%s must be a number, got %s", path,
                            bp_jsonin_type_name(v));
    if (v->valuedouble < lo || v->valuedouble > hi)
        return bp_error_set(err, "out_of_range", path, "%s must be from %g to %g, got %g", path, lo,
                            hi, v->valuedouble);
    *out = v->valuedouble;
    return 0;
}

/* A string field checked for UTF-8, control characters and length. */
int bp_jsonin_text(const cJSON *v, const char *path, size_t max, char *out, size_t out_len,
                   bp_error_t *err) {
    if (!cJSON_IsString(v))
        return bp_error_set(err, "wrong_type", path, "%s must be a string, got %s", path,
                            bp_jsonin_type_name(v));
    size_t n = strlen(v->valuestring);
    if (n > max)
        return bp_error_set(err, "too_long", path, "%s must be at most %zu bytes, got %zu", path,
                            max, n);
    if (!bp_is_clean_text(v->valuestring, n, max))
        return bp_error_set(err, "bad_string", path,
                            "%s must be valid UTF-8 without control or bidi-override characters",
                            path);
    if (n >= out_len) n = out_len - 1;
    memcpy(out, v->valuestring, n);
    out[n] = '\0';
    return 0;
}

int bp_jsonin_time(const cJSON *v, const char *path, int64_t *out, bp_error_t *err) {
    if (!cJSON_IsString(v) || bp_time_parse(v->valuestring, strlen(v->valuestring), out))
        return bp_error_set(err, "bad_time", path,
                            "%s must be an RFC 3339 time with a zone, e.g. "
                            "\"2026-11-22T08:00:00+07:00\"",
                            path);
    return 0;
}

/* One of a list of names (an enum's wire names): its value from parse. */
int bp_jsonin_name(const cJSON *v, const char *path, int (*parse)(const char *, size_t),
                   const char *names, int *out, bp_error_t *err) {
    *out = cJSON_IsString(v) ? parse(v->valuestring, strlen(v->valuestring)) : -1;
    if (*out < 0) return bp_error_set(err, "bad_value", path, "%s must be one of %s", path, names);
    return 0;
}

/* cJSON turns "\u0000" into an early NUL, which would silently shorten a
 * string ("bach-mai\u0000x" -> "bach-mai"). Refuse such lines outright. */
int bp_jsonin_escaped_nul(const char *s, size_t len) {
    for (size_t i = 0; i + 6 <= len; i++) {
        if (s[i] == '\\') {
            if (s[i + 1] == 'u' && s[i + 2] == '0' && s[i + 3] == '0' && s[i + 4] == '0' &&
                s[i + 5] == '0')
                return 1;
            i++; /* skip the escaped character, so "\\u0000" is not a NUL */
        }
    }
    return 0;
}
