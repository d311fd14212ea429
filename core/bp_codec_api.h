/*
 * What clients send us as JSON: REST bodies (a manager's PATCH, sign-in),
 * the WebSocket hello, and (declared in bp_mci.h) the mass-casualty bodies.
 * Strict like the feed: unknown or repeated fields, wrong types and values
 * out of range are errors naming the field.
 */
#ifndef BP_CODEC_API_H
#define BP_CODEC_API_H

#include "bp_error.h"
#include "bp_model.h"
#include "bp_registry.h"

/* The body of PATCH /api/v1/hospitals/{id} (a manager's update):
 *   {"beds":{"<type>":{"staffed":n,"occupied":n,"surge24":n}},
 *    "ed":{"status":..,"reason":..,"until":..,"waiting":n},
 *    "services":{"<service>":{"status":..,"reason":..,"until":..}},
 *    "facility":{"status":..,"reason":..,"power":..,"oxygen":..,"water":..},
 *    "confirm":true}
 * at least one of them (services: bp_codec_parse_services, checked against
 * info's registry services when info is given; facility:
 * bp_codec_parse_facility, with a reason required when not normal); "confirm" alone means "figures
 * confirmed, no change" and refreshes the report time. Same rules as a feed line for every value.
 * Fills out (a hospital change, at = now_ms, no seq) and returns 0, or -1 with every error found
 * (up to BP_ERRORS_MAX). */
int bp_codec_parse_patch(const char *json, size_t len, int64_t now_ms,
                         const bp_hospital_info_t *info, bp_change_t *out, bp_errors_t *errs);

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

/* The body of POST /api/v1/session: {"token":"bp_..."}. The token is
 * copied out (not checked for form: an unknown token is a 401, not a 422). */
int bp_codec_parse_sign_in(const char *json, size_t len, char token[BP_TOKEN_MAX + 1],
                           bp_error_t *err);

#endif
