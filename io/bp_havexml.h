/*
 * EDXL-HAVE 1.0 as XML, through libxml2 (Debian's libxml2): the adapter
 * between bytes and core/bp_have, which does the checking.
 *
 * Reading is hardened for untrusted documents: no network (XML_PARSE_NONET),
 * no DTD at all (a document declaring one, or any entity, is refused before
 * parsing), no entity substitution, libxml2's own size limits (no
 * XML_PARSE_HUGE), at most BP_HAVE_XML_MAX_DEPTH levels of elements, and
 * the caller's bound on hospitals (bp_import_t.max). The body size is the
 * caller's to bound. An EDXL-DE envelope (EDXLDistribution) is opened: every
 * HospitalStatus inside it is read.
 *
 * Writing uses libxml2's xmlTextWriter: the export is valid against the
 * OASIS schema (tests/integration/interop.test.js checks it with xmllint).
 */
#ifndef BP_HAVEXML_H
#define BP_HAVEXML_H

#include "bp_buf.h"
#include "bp_handover.h"
#include "bp_have.h"
#include "bp_import.h"

#define BP_HAVE_XML_MAX_DEPTH 32

/* Reads a document into im (see bp_have_import for reg, cur, now_ms and
 * max_skew_ms). 0, or -1 with im->errs naming what is wrong (a document
 * that is not well-formed XML is one error, with its line). */
int bp_havexml_parse(const char *xml, size_t len, const bp_registry_t *reg, const bp_state_t *cur,
                     int64_t now_ms, int64_t max_skew_ms, bp_import_t *im);

/* Writes a HospitalStatus with every hospital that has reported (only = -1)
 * or with hospital `only`; handover (may be NULL) gives EMSOffloadMinutes.
 * Returns the number of Hospital elements written (0: nothing to write,
 * and nothing was: HAVE needs at least one), or -1 when libxml2 or the
 * buffer failed. */
int bp_havexml_write(bp_buf_t *out, const bp_state_t *st, const bp_handover_t *handover, int only,
                     int64_t now_ms);

/* The same for every hospital, remembered: a hospital's Hospital element
 * is what its view (bp_have_view) says, so it is written anew only when
 * that view changed, and the document (libxml2's writer with each
 * hospital's element written raw into the root) only when one did: a
 * city's document is about 180 KB and costs milliseconds to write whole,
 * one changed hospital some tens of microseconds, none a copy. Owned by
 * its creator; destroy of NULL is a no-op. */
typedef struct bp_havexml_cache bp_havexml_cache_t;
bp_havexml_cache_t *bp_havexml_cache_create(void);
void bp_havexml_cache_destroy(bp_havexml_cache_t *c);
/* As bp_havexml_write with only = -1. *hit tells whether it was remembered. */
int bp_havexml_write_all(bp_havexml_cache_t *c, bp_buf_t *out, const bp_state_t *st,
                         const bp_handover_t *handover, int64_t now_ms, bool *hit);

#endif
