/*
 * Invariants shared by the libFuzzer harnesses. Each check abort()s when
 * violated, so libFuzzer reports the input that broke it like a crash.
 * Everything is static inline: a harness pays only for what it uses.
 */
#ifndef BP_FUZZ_UTIL_H
#define BP_FUZZ_UTIL_H

#include "bp_codec_api.h"
#include "bp_error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A NUL inside the array, so the string cannot run past it. */
static inline bool fz_terminated(const char *s, size_t size) {
    return memchr(s, '\0', size) != NULL;
}

/* An error a person can read: a code, a field and a message, all ended
 * within their arrays; the code is a plain word. */
static inline void fz_check_error(const bp_error_t *e) {
    if (!fz_terminated(e->code, sizeof e->code) || !fz_terminated(e->field, sizeof e->field) ||
        !fz_terminated(e->message, sizeof e->message))
        abort();
    if (!e->code[0] || !e->message[0]) abort();
    for (const char *p = e->code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_')) abort();
}

static inline void fz_check_errors(const bp_errors_t *errs) {
    if (errs->n > BP_ERRORS_MAX) abort();
    for (size_t i = 0; i < errs->n; i++)
        fz_check_error(&errs->e[i]);
}

/* A hello as a client would write it (cJSON escapes the strings). The
 * offset goes in as its exact decimal digits, as JSON.stringify writes an
 * integer below 2^53: cJSON_AddNumber would print 15 significant digits
 * (its round-trip test allows an epsilon), so 8333333325035089 came back
 * as 8333333325035090 (found by the campaign of 2026-12-02). */
static inline char *fz_hello_json(const bp_hello_t *h) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "hello");
    if (h->has_resume) {
        cJSON *r = cJSON_AddObjectToObject(o, "resume");
        cJSON_AddStringToObject(r, "epoch", h->epoch);
        char digits[24];
        snprintf(digits, sizeof digits, "%llu", (unsigned long long)h->offset);
        cJSON_AddRawToObject(r, "offset", digits);
    }
    if (h->has_token) cJSON_AddStringToObject(o, "token", h->token);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) abort();
    return s;
}

/* What a parsed hello must be, and that written again it reads back the
 * same: the epoch 1 to BP_EPOCH_MAX letters or digits, the token within
 * its bound, the offset an exact JSON integer. */
static inline void fz_check_hello(const bp_hello_t *h) {
    if (!fz_terminated(h->epoch, sizeof h->epoch) || !fz_terminated(h->token, sizeof h->token))
        abort();
    if (h->has_resume) {
        size_t n = strlen(h->epoch);
        if (n == 0 || n > BP_EPOCH_MAX || h->offset > 9007199254740991ull) abort();
        for (size_t i = 0; i < n; i++) {
            char c = h->epoch[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
                abort();
        }
    } else if (h->epoch[0] || h->offset) {
        abort();
    }
    if (!h->has_token && h->token[0]) abort();
    char *s = fz_hello_json(h);
    bp_hello_t back;
    bp_error_t err;
    if (bp_codec_parse_hello(s, strlen(s), &back, &err) != 0) abort();
    if (back.has_resume != h->has_resume || back.offset != h->offset ||
        strcmp(back.epoch, h->epoch) != 0 || back.has_token != h->has_token ||
        strcmp(back.token, h->token) != 0)
        abort();
    cJSON_free(s);
}

#endif
