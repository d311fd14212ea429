/*
 * One line per event on stderr, in one of two formats (setting log.format):
 *   text: "2026-11-22T01:00:00.000Z I collector: text key=value ..."
 *   json: {"ts":"2026-11-22T01:00:00.000Z","level":"info","program":"collector",
 *          "msg":"text","key":"value",...}
 * Under systemd (stderr connected to the journal: $JOURNAL_STREAM names it)
 * each line starts with the journal's priority prefix ("<6>" for info), so
 * journalctl -p works; journald removes the prefix.
 *
 * Never pass a token, cookie or password to these functions.
 */
#ifndef BP_LOG_H
#define BP_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { BP_LOG_DEBUG, BP_LOG_INFO, BP_LOG_WARN, BP_LOG_ERROR } bp_log_level_t;
typedef enum { BP_LOG_TEXT, BP_LOG_JSON } bp_log_format_t;

/* A structured field: a string (str != NULL) or an integer. */
typedef struct {
    const char *key; /* [a-z_]+ */
    const char *str;
    int64_t num;
} bp_log_field_t;

/* program is borrowed for the life of the process. */
void bp_log_init(const char *program, bp_log_level_t min_level, bp_log_format_t format);
/* "debug" | "info" | "warn" | "error" -> level; -1 for anything else. */
int bp_log_level_parse(const char *s);
/* "text" | "json" -> format; -1 for anything else. */
int bp_log_format_parse(const char *s);
int bp_log_enabled(bp_log_level_t level);

void bp_log(bp_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* With fields: text appends " key=value" (values with spaces quoted), json
 * adds them as members. */
void bp_log_fields(bp_log_level_t level, const bp_log_field_t *fields, size_t n, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

/* A line another library logs (libwebsockets' emit callback): its own
 * "[time] X: " prefix and final newline dropped, "<from>: " put in front. */
void bp_log_foreign(bp_log_level_t level, const char *from, const char *line);

#define bp_debug(...) bp_log(BP_LOG_DEBUG, __VA_ARGS__)
#define bp_info(...)  bp_log(BP_LOG_INFO, __VA_ARGS__)
#define bp_warn(...)  bp_log(BP_LOG_WARN, __VA_ARGS__)
#define bp_error(...) bp_log(BP_LOG_ERROR, __VA_ARGS__)

#endif
