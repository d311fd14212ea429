/* Settings and registry loading for the programs' main(). */
#include "bp_config.h"
#include "bp_codec_config.h"
#include "bp_log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX (16u << 20)

int bp_read_file(const char *path, size_t max, char **out, size_t *len, bp_error_t *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return bp_error_set(err, "io", path, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        fclose(f);
        return bp_error_set(err, "io", path, "%s is not a regular file of at most %zu bytes", path,
                            max);
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    size_t n = buf ? fread(buf, 1, size + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > size) {
        free(buf);
        return bp_error_set(err, "io", path, "cannot read %s (or larger than %zu bytes)", path,
                            max);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static int load_json(const char *path, const char *what, bp_error_t *err,
                     int (*parse)(const char *, size_t, void *, bp_error_t *), void *target) {
    char *text = NULL;
    size_t len = 0;
    if (bp_read_file(path, CONFIG_MAX, &text, &len, err)) return -1;
    int rc = parse(text, len, target, err);
    free(text);
    if (rc) {
        /* prefix the message with the file, keep code and field */
        char msg[BP_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->message);
        snprintf(err->message, sizeof err->message, "%.40s %.60s: %.150s", what, path, msg);
    }
    return rc;
}

static int parse_settings(const char *t, size_t n, void *s, bp_error_t *e) {
    return bp_codec_parse_settings(t, n, s, e);
}
static int parse_hospitals(const char *t, size_t n, void *r, bp_error_t *e) {
    return bp_codec_parse_hospitals(t, n, r, e);
}
static int parse_fleet(const char *t, size_t n, void *r, bp_error_t *e) {
    return bp_codec_parse_fleet(t, n, r, e);
}
static int parse_dispatch(const char *t, size_t n, void *d, bp_error_t *e) {
    return bp_codec_parse_dispatch(t, n, d, e);
}

/* Reads each secret given as a file (<key>_file): the file's content
 * without its final newline. A secret given both ways is an error. */
static int read_secret_files(bp_settings_t *s, bp_error_t *err) {
    for (size_t i = 0; i < s->n_secret_files; i++) {
        const char *key = s->secret_file[i].key, *path = s->secret_file[i].path;
        char fk[80], cur[8];
        snprintf(fk, sizeof fk, "%s_file", key);
        if (bp_settings_get(s, key, cur, sizeof cur) == 0 && cur[0])
            return bp_error_set(err, "bad_setting", fk, "set %s or %s, not both", key, fk);
        char *text = NULL;
        size_t len = 0;
        if (bp_read_file(path, 4096, &text, &len, err)) {
            bp_error_set(err, "bad_setting", fk,
                         "%s: cannot read %s (a regular file of at most "
                         "4096 bytes)",
                         fk, path);
            return -1;
        }
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        int rc = len == 0 ? bp_error_set(err, "bad_setting", fk, "%s: %s is empty", fk, path)
                          : bp_settings_set(s, key, text, err);
        explicit_bzero(text, len);
        free(text);
        if (rc) return -1;
    }
    return 0;
}

int bp_config_load(bp_config_t *cfg, int argc, char **argv, char **envp, bp_error_t *err) {
    memset(cfg, 0, sizeof *cfg);
    bp_settings_defaults(&cfg->settings);
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--settings") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            path = argv[++i];
    }
    if (!path) {
        for (char **e = envp; e && *e; e++)
            if (strncmp(*e, "BP_SETTINGS=", 12) == 0) path = *e + 12;
    }
    if (!path && access("config/settings.json", R_OK) == 0) path = "config/settings.json";
    if (path) {
        snprintf(cfg->settings_path, sizeof cfg->settings_path, "%s", path);
        if (load_json(path, "settings file", err, parse_settings, &cfg->settings)) return -1;
    }
    /* BP_SIM_ARGS: scripts/run's flags for the simulator, seen by every program */
    static const char *const not_settings[] = {"BP_SETTINGS", "BP_SIM_ARGS", NULL};
    if (bp_settings_apply_env(&cfg->settings, envp, not_settings, err)) return -1;
    if (read_secret_files(&cfg->settings, err)) return -1;
    if (bp_settings_check(&cfg->settings, err)) return -1;
    if (load_json(cfg->settings.config_hospitals, "hospital registry", err, parse_hospitals,
                  &cfg->registry) ||
        load_json(cfg->settings.config_fleet, "fleet registry", err, parse_fleet, &cfg->registry) ||
        (bp_dispatch_defaults(&cfg->dispatch), 0) ||
        load_json(cfg->settings.config_dispatch, "dispatch table", err, parse_dispatch,
                  &cfg->dispatch)) {
        bp_registry_free(&cfg->registry);
        return -1;
    }
    return 0;
}

void bp_config_free(bp_config_t *cfg) {
    bp_registry_free(&cfg->registry);
}

extern char **environ;

int bp_program_start(const char *program, bp_config_t *cfg, int argc, char **argv) {
    /* until the settings are read, the log follows the variables as given */
    int lvl = bp_log_level_parse(getenv("BP_LOG_LEVEL"));
    int fmt = bp_log_format_parse(getenv("BP_LOG_FORMAT"));
    bp_log_init(program, lvl < 0 ? BP_LOG_INFO : (bp_log_level_t)lvl,
                fmt < 0 ? BP_LOG_TEXT : (bp_log_format_t)fmt);
    signal(SIGPIPE, SIG_IGN);
    bp_error_t err;
    bp_error_clear(&err);
    if (bp_config_load(cfg, argc, argv, environ, &err)) {
        bp_error("configuration error [%s%s%s]: %s", err.code, err.field[0] ? " " : "", err.field,
                 err.message);
        return -1;
    }
    bp_log_init(program, (bp_log_level_t)bp_log_level_parse(cfg->settings.log_level),
                (bp_log_format_t)bp_log_format_parse(cfg->settings.log_format));
    return 0;
}
