/*
 * Exports of the in-memory state for other systems (docs/interop.md):
 * GeoJSON (RFC 7946) and CSV (RFC 4180, UTF-8 with a byte-order mark so
 * spreadsheets read Vietnamese names right), and the trend history as CSV.
 * The EDXL-HAVE and FHIR exports live in io/bp_havexml and core/bp_fhir.
 *
 * Writers append to a bp_buf_t (its cap bounds them; check `failed`).
 * Pure: no I/O, no allocation beyond the buffer.
 */
#ifndef BP_EXPORT_H
#define BP_EXPORT_H

#include "bp_buf.h"
#include "bp_history.h"
#include "bp_state.h"

/* A FeatureCollection with one Feature per hospital (only = -1) or of
 * hospital `only`: a Point [lon, lat] (GeoJSON order) and, as properties,
 * the hospital exactly as GET /api/v1/hospitals/{id} shows it at now_ms. */
void bp_export_geojson(bp_buf_t *b, const bp_state_t *st, int only, int64_t now_ms);

/* One row per hospital and bed type it has (bp_interop_csv_columns): the
 * figures and the hospital's ED, freshness, facility and the services
 * limited / unavailable (names joined by ";") at now_ms; unknown figures
 * are empty cells. CRLF line ends, a byte-order mark first. */
void bp_export_csv(bp_buf_t *b, const bp_state_t *st, int only, int64_t now_ms);

/* The trend history of one series (name: "city" or a hospital id) as CSV:
 * time,series,bed_type,staffed,occupied,available,overflow,surge24 — one
 * row per sample and bed type known in it, samples in [from_ms, to_ms];
 * with step_ms > interval, only the last sample in each step (counted
 * from from_ms). Returns the number of rows written. */
size_t bp_export_history_csv(bp_buf_t *b, const bp_series_t *s, const char *name, int64_t from_ms,
                             int64_t to_ms, int64_t step_ms);

/* One CSV cell: quoted when it holds a separator, quote or line end (quotes
 * doubled); a text cell that a spreadsheet would take for a formula (it
 * starts with = + - @ or a tab) gets a leading apostrophe. */
void bp_csv_cell(bp_buf_t *b, const char *s);

#endif
