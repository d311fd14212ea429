/*
 * The collector's pollers (docs/interop.md, README "Pollers"): which
 * hospital systems publish their figures at a URL, in which format, how
 * often, and which hospitals each may report. Read from
 * config/sources.json (collector.sources); the timing of polls after
 * failures.
 *
 *   {"sources":[{"id":"bv-bach-mai","url":"https://his.example.vn/have.xml",
 *                "format":"have","interval_s":60,"timeout_s":10,
 *                "headers":{"Authorization":"Bearer ..."},
 *                "hospitals":{"BV-01":"bach-mai"}}]}
 *
 * "hospitals" maps the ids the source uses to registry ids (then the
 * source may report only those), or is "*": the source's ids are registry
 * ids or have_ids, of any hospital.
 *
 * Pure: parsing and arithmetic (cJSON, as bp_codec).
 */
#ifndef BP_SOURCES_H
#define BP_SOURCES_H

#include "bp_error.h"
#include "bp_registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_SOURCES_MAX          256
#define BP_SOURCE_ID_MAX        15 /* "<id>:<hospital id>" must fit a feed source (64) */
#define BP_SOURCE_URL_MAX       1024
#define BP_SOURCE_HEADERS       16
#define BP_SOURCE_HEADER_MAX    600 /* "Name: value" */
#define BP_SOURCE_BACKOFF_MAX_S 900

typedef enum { BP_FORMAT_HAVE, BP_FORMAT_FHIR, BP_FORMAT_BEDPULSE, BP_FORMAT__COUNT } bp_format_t;

const char *bp_format_name(bp_format_t f);

typedef struct {
    char ext[BP_HAVE_ID_MAX + 1];
    int hospital; /* registry index */
} bp_source_map_t;

typedef struct {
    char id[BP_SOURCE_ID_MAX + 1];
    char url[BP_SOURCE_URL_MAX + 1];
    bp_format_t format;
    int interval_s, timeout_s;
    char headers[BP_SOURCE_HEADERS][BP_SOURCE_HEADER_MAX + 1]; /* "Name: value" */
    size_t n_headers;
    bool all_hospitals;
    bp_source_map_t *map; /* owned */
    size_t n_map;
} bp_source_t;

typedef struct {
    bp_source_t *s; /* owned */
    size_t n;
} bp_sources_t;

/* Parses the sources file against the registry; every error names the
 * field ("sources[2].url") and the rule. 0, or -1 (out is freed then). */
int bp_sources_parse(const char *json, size_t len, const bp_registry_t *reg, bp_sources_t *out,
                     bp_error_t *err);
void bp_sources_free(bp_sources_t *s);

/* The registry hospital a source's id names: through its map, or (all
 * hospitals) an id or have_id. Index, or -1. */
int bp_source_hospital(const bp_source_t *s, const bp_registry_t *reg, const char *ext, size_t len);

/* Milliseconds until the next poll after `failures` failures in a row
 * (0: the interval): the interval doubled per failure, capped at
 * max(interval, BP_SOURCE_BACKOFF_MAX_S), minus up to a tenth by `rnd`
 * (any 32-bit random number) so that sources failing together spread. */
int64_t bp_sources_delay_ms(int interval_s, int failures, uint32_t rnd);

/* The URL to show (logs, status): scheme://host[:port]/path, without
 * user information, query or fragment (they may hold credentials). */
void bp_sources_url_shown(const char *url, char *out, size_t len);

/* The validators of a response, sent back on the next poll
 * (If-None-Match, If-Modified-Since). "" when there is none. */
#define BP_SOURCE_ETAG_MAX 255
#define BP_SOURCE_LM_MAX   127
typedef struct {
    char etag[BP_SOURCE_ETAG_MAX + 1];
    char last_modified[BP_SOURCE_LM_MAX + 1];
} bp_validators_t;

/* Reads one response header line as libcurl hands it over (untrusted
 * bytes, not NUL-terminated, with or without its CRLF): a status line
 * ("HTTP/...") starts a new response (a redirect, a 100) and clears v;
 * `ETag:` and `Last-Modified:` (any case) are kept, trimmed. A value that
 * is longer than its field or holds a control character is not kept: it
 * would go back out in a request header. Other lines change nothing. */
void bp_sources_header(bp_validators_t *v, const char *line, size_t len);

#endif
