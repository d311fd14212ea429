/*
 * Start-up configuration for every program: settings (defaults, then the
 * settings file, then BP_* environment variables) and the registry files
 * they name. Any error stops start-up with a message naming the key or the
 * field and the rule.
 *
 * The settings file is the path given by `--settings PATH` (or `-c PATH`),
 * else $BP_SETTINGS, else config/settings.json when it exists.
 */
#ifndef BP_CONFIG_H
#define BP_CONFIG_H

#include "bp_error.h"
#include "bp_recommend.h"
#include "bp_registry.h"
#include "bp_settings.h"

typedef struct {
    bp_settings_t settings;
    bp_registry_t registry;
    bp_dispatch_cfg_t dispatch; /* config/dispatch.json over the defaults */
    char settings_path[512];    /* "" when none was read */
} bp_config_t;

/* Reads everything; on failure err names the file and the problem. */
int bp_config_load(bp_config_t *cfg, int argc, char **argv, char **envp, bp_error_t *err);
void bp_config_free(bp_config_t *cfg);

/* Start-up shared by every program: logging named `program` (BP_LOG_LEVEL=
 * debug for more), SIGPIPE ignored (a dropped peer is an error return, not a
 * signal), then bp_config_load. On failure logs "configuration error
 * [code field]: message" and returns -1; the caller exits 1. */
int bp_program_start(const char *program, bp_config_t *cfg, int argc, char **argv);

/* Reads a whole file of at most max bytes into a NUL-terminated malloc'd
 * buffer (the caller frees it). 0, or -1 with err filled. */
int bp_read_file(const char *path, size_t max, char **out, size_t *len, bp_error_t *err);

#endif
