/*
 * JSON in and out. This is the only module that includes cJSON: every other
 * module sees plain structs.
 *
 * Readers are strict about untrusted input (feed lines): unknown fields,
 * duplicate fields, wrong types, out-of-range numbers, hostile strings and
 * unknown ids are errors naming the field and the rule, and the output is
 * then unspecified except for `seq` (set as soon as it could be read, else
 * -1, so the reply can carry it). Readers of our own data (the Redis state
 * and stream, written by our Lua script) ignore unknown fields so that a
 * newer collector can run beside an older server.
 *
 * Writers append to a bp_buf_t; they never allocate except through it.
 */
#ifndef BP_CODEC_H
#define BP_CODEC_H

#include "bp_buf.h"
#include "bp_error.h"
#include "bp_model.h"
#include "bp_registry.h"
#include "bp_settings.h"

/* Feed message kinds (the "type" field). */
typedef enum { BP_MSG_BEDS, BP_MSG_AMBULANCE, BP_MSG_INCIDENT } bp_msg_type_t;

/* Parses and validates one feed line (without its newline) against the
 * registry. now_ms and max_skew_ms bound `at` (not further in the future
 * than the skew). Returns 0 with *out filled, or -1 with err filled. */
int bp_codec_parse_feed(const char *line, size_t len, const bp_registry_t *reg, int64_t now_ms,
                        int64_t max_skew_ms, bp_change_t *out, bp_error_t *err);

/* Parses an entity as stored by the apply script (Redis hash value or the
 * data of a stream event; times are integer milliseconds). The change comes
 * back with every field that was present flagged, plus version/updated. */
int bp_codec_parse_stored(bp_kind_t kind, const char *json, size_t len, bp_change_t *out,
                          bp_error_t *err);

/* Registry files. parse_hospitals fills districts and hospitals;
 * parse_fleet needs the districts and fills stations and units. Both check
 * every cross reference and build the indexes. */
int bp_codec_parse_hospitals(const char *json, size_t len, bp_registry_t *reg, bp_error_t *err);
int bp_codec_parse_fleet(const char *json, size_t len, bp_registry_t *reg, bp_error_t *err);

/* The settings file: nested objects {"section":{"key":value}}. */
int bp_codec_parse_settings(const char *json, size_t len, bp_settings_t *s, bp_error_t *err);

/* Several errors at once, for answers that name every bad field (422). */
#define BP_ERRORS_MAX 32
typedef struct {
    bp_error_t e[BP_ERRORS_MAX];
    size_t n;
} bp_errors_t;

/* The body of PATCH /api/v1/hospitals/{id} (a manager's update):
 *   {"beds":{"<type>":{"staffed":n,"occupied":n,"surge24":n}},
 *    "ed":{"status":..,"reason":..,"until":..,"waiting":n}, "confirm":true}
 * at least one of them; "confirm" alone means "figures confirmed, no
 * change" and refreshes the report time. Same rules as a feed line for
 * every value. Fills out (a hospital change, at = now_ms, no seq) and
 * returns 0, or -1 with every error found (up to BP_ERRORS_MAX). */
int bp_codec_parse_patch(const char *json, size_t len, int64_t now_ms, bp_change_t *out,
                         bp_errors_t *errs);

/* The WebSocket client's first message:
 * {"type":"hello","resume":{"epoch":E,"offset":N},"token":T,
 *  "compress":"gzip"}, resume, token and compress optional (compress:
 * the client takes its snapshot as one binary message, gzipped). */
typedef struct {
    bool has_resume;
    char epoch[BP_EPOCH_MAX + 1];
    uint64_t offset;
    bool has_token;
    char token[BP_TOKEN_MAX + 1];
    bool gzip;
} bp_hello_t;

int bp_codec_parse_hello(const char *json, size_t len, bp_hello_t *out, bp_error_t *err);

/* config/dispatch.json (docs/dispatch.md): overrides what it names in out
 * (which the caller has filled with bp_dispatch_defaults). Unknown keys,
 * categories, bed types or specialties are errors naming the field. */
struct bp_dispatch_cfg;
int bp_codec_parse_dispatch(const char *json, size_t len, struct bp_dispatch_cfg *out,
                            bp_error_t *err);

/* The body of POST /api/v1/session: {"token":"bp_..."}. The token is
 * copied out (not checked for form: an unknown token is a 401, not a 422). */
int bp_codec_parse_sign_in(const char *json, size_t len, char token[BP_TOKEN_MAX + 1],
                           bp_error_t *err);

/* An entity as stored in its Redis hash (see docs/redis.md): n field/value
 * pairs as HGETALL returns them. Unknown fields are ignored; a missing or
 * malformed version is an error. An incident's hash holds all of it, so it
 * reads as a create (a close, if that was its last action) with every
 * stored field flagged and inc.opened_ms set. */
int bp_codec_parse_hash(bp_kind_t kind, size_t n, const char *const *keys, const size_t *klens,
                        const char *const *vals, const size_t *vlens, bp_change_t *out,
                        bp_error_t *err);

/* -- Writers of the stored format (times in ms) -- */

/* A change as the event stream carries it, without the stamps the apply
 * script adds: {"at":..,"beds":{..},"ed":{..}}, {"at":..,<ambulance fields>}
 * or {"at":..,<incident fields>}. */
void bp_codec_write_patch(bp_buf_t *b, const bp_change_t *c);
/* An ED status: {"status":..,"reason":..,"until":ms,"waiting":..}. */
void bp_codec_write_ed(bp_buf_t *b, const bp_ed_t *ed);
/* The ambulance fields of a change, as members without braces:
 * "status":"..","lat":..,... (nothing when no field is present). */
void bp_codec_write_amb_fields(bp_buf_t *b, const bp_change_t *c);
/* The incident action and fields of a change, as members without braces:
 * "action":"create","priority":1,..,"received":<ms>,"unit":"" ("" cleared). */
void bp_codec_write_inc_fields(bp_buf_t *b, const bp_change_t *c);

#endif
