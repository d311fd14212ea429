/*
 * Config files, read strictly: unknown keys, wrong types and broken cross
 * references are errors naming the field (config/README and
 * docs/dispatch.md describe the files).
 */
#ifndef BP_CODEC_CONFIG_H
#define BP_CODEC_CONFIG_H

#include "bp_error.h"
#include "bp_registry.h"
#include "bp_settings.h"

/* Registry files. parse_hospitals fills districts and hospitals;
 * parse_fleet needs the districts and fills stations and units. Both check
 * every cross reference and build the indexes. */
int bp_codec_parse_hospitals(const char *json, size_t len, bp_registry_t *reg, bp_error_t *err);
int bp_codec_parse_fleet(const char *json, size_t len, bp_registry_t *reg, bp_error_t *err);

/* The settings file: nested objects {"section":{"key":value}}. */
int bp_codec_parse_settings(const char *json, size_t len, bp_settings_t *s, bp_error_t *err);

/* config/dispatch.json (docs/dispatch.md): overrides what it names in out
 * (which the caller has filled with bp_dispatch_defaults). Unknown keys,
 * categories, bed types or specialties are errors naming the field. */
struct bp_dispatch_cfg;
int bp_codec_parse_dispatch(const char *json, size_t len, struct bp_dispatch_cfg *out,
                            bp_error_t *err);

#endif
