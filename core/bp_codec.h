/*
 * Transitional: server/ includes this until its own refactor lands. The
 * codec is split by format, one header each; new code includes the one it
 * needs:
 *   bp_codec_feed.h    feed lines (the collector's input)
 *   bp_codec_stored.h  the stored format, read and written (Redis)
 *   bp_codec_api.h     REST bodies and the WebSocket hello (bp_mci.h: MCI)
 *   bp_codec_config.h  hospitals.json, fleet.json, settings, dispatch.json
 */
#ifndef BP_CODEC_H
#define BP_CODEC_H

#include "bp_codec_api.h"
#include "bp_codec_config.h"
#include "bp_codec_feed.h"
#include "bp_codec_stored.h"

#endif
