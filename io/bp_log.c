/* stderr logging: text or JSON lines, journald priority prefixes (bp_log.h). */
#include "bp_log.h"
#include "bp_buf.h"
#include "bp_jw.h"
#include "bp_time.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LINE_MAX_BYTES 8192

static const char *prog = "bedpulse";
static bp_log_level_t min_lvl = BP_LOG_INFO;
static bp_log_format_t fmt_out = BP_LOG_TEXT;
static bool journal;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
/* sd-daemon.h priorities: debug 7, info 6, warning 4, err 3 */
static const char journal_prio[] = {'7', '6', '4', '3'};

/* Whether stderr is the journal stream systemd connected us to: it says so
 * in $JOURNAL_STREAM as "<device>:<inode>" of that stream. */
static bool stderr_is_journal(void) {
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0) return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void bp_log_init(const char *program, bp_log_level_t min_level, bp_log_format_t format) {
    prog = program;
    min_lvl = min_level;
    fmt_out = format;
    journal = stderr_is_journal();
}

int bp_log_level_parse(const char *s) {
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, level_names[i]) == 0) return i;
    return -1;
}

int bp_log_format_parse(const char *s) {
    if (s && strcmp(s, "text") == 0) return BP_LOG_TEXT;
    if (s && strcmp(s, "json") == 0) return BP_LOG_JSON;
    return -1;
}

int bp_log_enabled(bp_log_level_t level) {
    return level >= min_lvl;
}

static bool needs_quotes(const char *v) {
    if (!*v) return true;
    for (; *v; v++)
        if (*v == ' ' || *v == '"' || *v == '=' || (unsigned char)*v < 0x20) return true;
    return false;
}

static void vlog(bp_log_level_t level, const bp_log_field_t *fields, size_t n, const char *fmt,
                 va_list ap) __attribute__((format(printf, 4, 0)));
static void vlog(bp_log_level_t level, const bp_log_field_t *fields, size_t n, const char *fmt,
                 va_list ap) {
    if (level < min_lvl) return;
    char ts[32], msg[1024];
    bp_time_format(bp_time_now_ms(), ts);
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* one line at a time (the programs are single-threaded): reused */
    static bp_buf_t b;
    static bool ready;
    if (!ready) {
        bp_buf_init(&b, 0, LINE_MAX_BYTES);
        ready = true;
    }
    bp_buf_reset(&b);
    if (journal) {
        bp_buf_putc(&b, '<');
        bp_buf_putc(&b, journal_prio[level]);
        bp_buf_putc(&b, '>');
    }
    if (fmt_out == BP_LOG_JSON) {
        bp_jw_t w;
        bp_jw_init(&w, &b);
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "ts");
        bp_jw_cstr(&w, ts);
        BP_JW_KEY(&w, "level");
        bp_jw_cstr(&w, level_names[level]);
        BP_JW_KEY(&w, "program");
        bp_jw_cstr(&w, prog);
        BP_JW_KEY(&w, "msg");
        bp_jw_cstr(&w, msg);
        for (size_t i = 0; i < n; i++) {
            /* the caller's keys: escaped, not trusted like our own names */
            bp_jw_splice(&w);
            bp_json_cstr(&b, fields[i].key);
            bp_buf_putc(&b, ':');
            if (fields[i].str)
                bp_json_cstr(&b, fields[i].str);
            else
                bp_json_int(&b, fields[i].num);
        }
        bp_jw_end(&w);
    } else {
        bp_buf_printf(&b, "%s %c %s: %s", ts, "DIWE"[level], prog, msg);
        for (size_t i = 0; i < n; i++) {
            if (fields[i].str && needs_quotes(fields[i].str)) {
                bp_buf_printf(&b, " %s=", fields[i].key);
                bp_json_cstr(&b, fields[i].str);
            } else if (fields[i].str) {
                bp_buf_printf(&b, " %s=%s", fields[i].key, fields[i].str);
            } else {
                bp_buf_printf(&b, " %s=%lld", fields[i].key, (long long)fields[i].num);
            }
        }
    }
    bp_buf_putc(&b, '\n');
    if (b.failed || !bp_buf_data(&b)) { /* too long (or no memory): cut, still one line */
        if (bp_buf_data(&b)) fwrite(bp_buf_data(&b), 1, b.len, stderr);
        fputs(" [cut]\n", stderr);
        return;
    }
    fwrite(bp_buf_data(&b), 1, b.len, stderr);
}

void bp_log(bp_log_level_t level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(level, NULL, 0, fmt, ap);
    va_end(ap);
}

void bp_log_foreign(bp_log_level_t level, const char *from, const char *line) {
    const char *end = line[0] == '[' ? strstr(line, "] ") : NULL;
    if (end && end[2] && end[3] == ':' && end[4] == ' ') line = end + 5;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    bp_log(level, "%s: %.*s", from, (int)n, line);
}

void bp_log_fields(bp_log_level_t level, const bp_log_field_t *fields, size_t n, const char *fmt,
                   ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fields, n, fmt, ap);
    va_end(ap);
}
