/*
 * The stored format, read and written (docs/redis.md): entities in their
 * Redis hashes and changes as the event stream carries them; times are
 * integer milliseconds. bp_codec_stored.c is the only C file that knows the
 * stored field names; io/apply.lua is its twin on the Redis side.
 *
 * Readers of our own data ignore unknown fields so that a newer collector
 * can run beside an older server. Writers append to a bp_buf_t; they never
 * allocate except through it.
 */
#ifndef BP_CODEC_STORED_H
#define BP_CODEC_STORED_H

#include "bp_buf.h"
#include "bp_error.h"
#include "bp_jw.h"
#include "bp_model.h"

/* Parses an entity as stored by the apply script (Redis hash value or the
 * data of a stream event; times are integer milliseconds). The change comes
 * back with every field that was present flagged, plus version/updated. */
int bp_codec_parse_stored(bp_kind_t kind, const char *json, size_t len, bp_change_t *out,
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
 * script adds: {"at":..,"beds":{..},"ed":{..},"services":{..},"facility":{..}}, {"at":..,<ambulance
 * fields>} or {"at":..,<incident fields>}. */
/* "ventilated":{"total":N,"free":M} and "ecmo":{..}, those of
 * BP_BF_VENTILATED | BP_BF_ECMO in fields, as keys of an open bed entry
 * (the event's, a PATCH echo's, the REST hospital's). */
void bp_codec_write_icu_detail(bp_jw_t *w, const bp_icu_detail_t *icu, unsigned fields);
void bp_codec_write_patch(bp_buf_t *b, const bp_change_t *c);
/* An ED status: {"status":..,"reason":..,"until":ms,"waiting":..}. */
void bp_codec_write_ed(bp_buf_t *b, const bp_ed_t *ed);
/* A service: {"status":..,"reason":..,"until":ms}, as the hash field
 * "svc.<service>" and the event's "services" hold it. */
void bp_codec_write_svc(bp_buf_t *b, const bp_svc_t *sv);
/* A facility: {"status":..,"reason":..,"power":..,"oxygen":..,"water":..}
 * (what is not known left out), as the hash field "fac" and the event's
 * "facility" hold it. */
void bp_codec_write_fac(bp_buf_t *b, const bp_facility_t *f);
/* A plausibility check (bp_plausible.h): {"rule":..,"bed_type":..,"was":..,
 * "now":..,"reason":..,"at":ms,"version":..} or null (cleared), as the hash
 * field "chk" and the event's "check" hold it. */
void bp_codec_write_check(bp_buf_t *b, const bp_check_t *k);
/* The ambulance fields of a change, as members without braces:
 * "status":"..","lat":..,... (nothing when no field is present). */
void bp_codec_write_amb_fields(bp_buf_t *b, const bp_change_t *c);
/* The incident action and fields of a change, as members without braces:
 * "action":"create","priority":1,..,"received":<ms>,"unit":"" ("" cleared). */
void bp_codec_write_inc_fields(bp_buf_t *b, const bp_change_t *c);

/* The hash fields an ambulance or incident change sets, as the apply
 * script HSETs them (its ARGV field/value pairs, docs/redis.md): an
 * incident's "act" (and "op", when it opens, for a create) and its changed
 * fields; an ambulance's changed fields. Names are static strings; a
 * value points into the change (borrowed: valid while the change is) or,
 * when in_text[i], into out's own `text` (numbers, formatted as in the
 * stream: valid while out is, so copy it to keep it). Hospitals have none:
 * their beds go to the script by position. */
#define BP_STORED_PAIRS_MAX 10
typedef struct {
    size_t n;
    const char *name[BP_STORED_PAIRS_MAX];
    const char *value[BP_STORED_PAIRS_MAX];
    size_t value_len[BP_STORED_PAIRS_MAX];
    bool in_text[BP_STORED_PAIRS_MAX];
    char text[BP_STORED_PAIRS_MAX][32];
} bp_stored_pairs_t;

/* Fills out (n = 0 for a hospital); out must not be copied (values may
 * point into its text). */
void bp_codec_stored_pairs(const bp_change_t *c, bp_stored_pairs_t *out);

#endif
