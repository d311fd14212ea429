/* stderr logging with an ISO timestamp and the program name. */
#include "bp_log.h"
#include "bp_time.h"

#include <stdarg.h>
#include <stdio.h>

static const char *prog = "bedpulse";
static bp_log_level_t min_lvl = BP_LOG_INFO;

void bp_log_init(const char *program, bp_log_level_t min_level) {
    prog = program;
    min_lvl = min_level;
}

void bp_log(bp_log_level_t level, const char *fmt, ...) {
    if (level < min_lvl) return;
    char ts[32], line[1024];
    bp_time_format(bp_time_now_ms(), ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %c %s: %s\n", ts, "DIWE"[level], prog, line);
}
