/*
 * One-line logs to stderr: "2026-11-22T01:00:00.000Z I collector: text".
 * Never pass a token, cookie or password to these functions.
 */
#ifndef BP_LOG_H
#define BP_LOG_H

typedef enum { BP_LOG_DEBUG, BP_LOG_INFO, BP_LOG_WARN, BP_LOG_ERROR } bp_log_level_t;

void bp_log_init(const char *program, bp_log_level_t min_level);
void bp_log(bp_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define bp_debug(...) bp_log(BP_LOG_DEBUG, __VA_ARGS__)
#define bp_info(...)  bp_log(BP_LOG_INFO, __VA_ARGS__)
#define bp_warn(...)  bp_log(BP_LOG_WARN, __VA_ARGS__)
#define bp_error(...) bp_log(BP_LOG_ERROR, __VA_ARGS__)

#endif
