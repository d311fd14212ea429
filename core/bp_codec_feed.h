/*
 * Feed lines: what the collector receives from hospitals' systems, the
 * ambulance tracker and the 115 centre (docs/protocol.md §1), one JSON
 * object per line.
 *
 * The reader is strict about this untrusted input: unknown fields,
 * duplicate fields, wrong types, out-of-range numbers, hostile strings and
 * unknown ids are errors naming the field and the rule, and the output is
 * then unspecified except for `seq` (set as soon as it could be read, else
 * -1, so the reply can carry it).
 */
#ifndef BP_CODEC_FEED_H
#define BP_CODEC_FEED_H

#include "bp_error.h"
#include "bp_model.h"
#include "bp_registry.h"

typedef struct cJSON cJSON;

/* Feed message kinds (the "type" field). */
typedef enum { BP_MSG_BEDS, BP_MSG_AMBULANCE, BP_MSG_INCIDENT } bp_msg_type_t;

/* Parses and validates one feed line (without its newline) against the
 * registry. now_ms and max_skew_ms bound `at` (not further in the future
 * than the skew). Returns 0 with *out filled, or -1 with err filled. */
int bp_codec_parse_feed(const char *line, size_t len, const bp_registry_t *reg, int64_t now_ms,
                        int64_t max_skew_ms, bp_change_t *out, bp_error_t *err);

/* The fields of a bed entry (in the order of the BP_BF_* bits) and of an ED
 * status, as a feed line names them; a manager's PATCH body (bp_codec_api.h)
 * uses the same shapes. */
extern const char *const bp_feed_bed_keys[5];
/* The intensive-care detail of one bed entry (its "ventilated" and "ecmo",
 * those of BP_BF_VENTILATED | BP_BF_ECMO in present): each
 * {"total":N,"free":M}, integers 0..BP_BEDS_MAX, free <= total, total <=
 * staffed when staffed >= 0 (the same entry's), only on the bed types of
 * bp_bed_type_has_detail. 0, or -1 with err naming the field. */
int bp_codec_parse_icu_detail(const cJSON *entry, const char *path, int t, unsigned present,
                              int32_t staffed, bp_icu_detail_t *out, bp_error_t *err);
extern const char *const bp_feed_ed_keys[4];

/* The "services" object of a beds line or a PATCH body (issue 15):
 * {"<service>":{"status":"available|limited|unavailable","reason":..,
 * "until":..}}, at least one service, each whole. `until` must be later
 * than after_ms (named after_name in the error: "at", "now") and only comes with limited or
 * unavailable. With info, the hospital must have each service in the registry. Fills out->svc and
 * out->svc_fields; -1 with err naming the field on the first error. */
int bp_codec_parse_services(const cJSON *services, int64_t after_ms, const char *after_name,
                            const bp_hospital_info_t *info, bp_change_t *out, bp_error_t *err);

/* The "facility" object of a beds line or a PATCH body (issue 15):
 * {"status":"normal|compromised|evacuating|closed","reason":..,
 * "power":"mains|generator|out","oxygen":"normal|low|out",
 * "water":"normal|out"}, status required, the rest optional (null: not
 * reported). Fills out; -1 with err naming the field. */
int bp_codec_parse_facility(const cJSON *facility, bp_facility_t *out, bp_error_t *err);

#endif
