/*
 * What the codec tests share (test_codec_feed.c, test_codec_stored.c,
 * test_codec_api.c): the real registry, a fixed "now", feed line heads and
 * helpers that expect a line accepted or refused with a given code and field.
 */
#ifndef CODEC_FIXTURE_H
#define CODEC_FIXTURE_H

#include "bp_codec_feed.h"

#include "test_util.h"

#include "bp_time.h"

static bp_registry_t reg;

/* "Now" for every feed line: 2026-11-22T08:00:00+07:00. */
#define NOW_MS  1795309200000LL
#define SKEW_MS 300000LL

#define BEDS_HEAD                                                                                  \
    "{\"type\":\"beds\",\"source\":\"his-bach-mai\",\"seq\":41,\"at\":\"2026-11-22T08:00:00+07:"   \
    "00\","                                                                                        \
    "\"hospital\":\"bach-mai\""
#define INC_HEAD                                                                                   \
    "{\"type\":\"incident\",\"source\":\"cad-115\",\"seq\":7,"                                     \
    "\"at\":\"2026-11-22T08:00:00+07:00\",\"id\":\"INC-2211-0042\""
#define AMB_HEAD                                                                                   \
    "{\"type\":\"ambulance\",\"source\":\"avl-115\",\"seq\":9001,"                                 \
    "\"at\":\"2026-11-22T08:00:05+07:00\",\"id\":\"115-HK-03\""

static inline int setup(void **state) {
    (void)state;
    tu_load_registry(&reg);
    return 0;
}

static inline int teardown(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static inline int feed_n(const char *line, size_t len, bp_change_t *c, bp_error_t *err) {
    memset(err, 0, sizeof *err);
    return bp_codec_parse_feed(line, len, &reg, NOW_MS, SKEW_MS, c, err);
}

static inline void expect_ok(const char *line, bp_change_t *c) {
    bp_error_t err;
    if (feed_n(line, strlen(line), c, &err))
        fail_msg("rejected (%s at \"%s\": %s): %.300s", err.code, err.field, err.message, line);
}

/* Expects rejection with this code and field path; returns the seq the
 * parser reported. */
static inline int64_t expect_err_n(const char *line, size_t len, const char *code,
                                   const char *field) {
    bp_change_t c;
    bp_error_t err;
    if (feed_n(line, len, &c, &err) == 0) fail_msg("accepted, expected %s: %.300s", code, line);
    if (strcmp(err.code, code) != 0 || strcmp(err.field, field) != 0)
        fail_msg("got %s at \"%s\" (%s), expected %s at \"%s\"", err.code, err.field, err.message,
                 code, field);
    assert_true(strlen(err.message) > 0);
    return c.seq;
}

static inline int64_t expect_err(const char *line, const char *code, const char *field) {
    return expect_err_n(line, strlen(line), code, field);
}

/* A beds line for bach-mai with the given ED reason (JSON string body). */
static inline const char *with_reason(const char *reason_json) {
    static char line[4096];
    int n = snprintf(line, sizeof line, "%s,\"ed\":{\"status\":\"advisory\",\"reason\":\"%s\"}}",
                     BEDS_HEAD, reason_json);
    assert_true(n > 0 && (size_t)n < sizeof line);
    return line;
}

/* A beds line for bach-mai with this "beds" object body. */
static inline const char *with_beds(const char *beds_json) {
    static char line[4096];
    int n = snprintf(line, sizeof line, "%s,\"beds\":{%s}}", BEDS_HEAD, beds_json);
    assert_true(n > 0 && (size_t)n < sizeof line);
    return line;
}

/* -- accepted messages ---------------------------------------------------- */

/* -- incidents (115 CAD) -------------------------------------------------- */

/* An incident line for INC-2211-0042 with this action and more members
 * (",\"priority\":1..." or ""). */
static inline const char *inc_line(const char *action, const char *more) {
    static char line[4096];
    int n = snprintf(line, sizeof line, "%s,\"action\":\"%s\"%s}", INC_HEAD, action, more);
    assert_true(n > 0 && (size_t)n < sizeof line);
    return line;
}

#define INC_CREATE ",\"priority\":1,\"category\":\"stroke\",\"lat\":21.0,\"lon\":105.84"

#endif
