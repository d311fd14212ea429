/*
 * What a manager's writes share (writes.c): PATCH of a hospital and the
 * CSV import. A write is submitted to the Lua apply and answered once this
 * server's live state shows it (or after WAIT_MAX_MS: 202).
 */
#ifndef BP_WRITES_H
#define BP_WRITES_H

#include "request.h"

/* The hospital of /api/v1/hospitals/{id}[/...] into r->ctx.write.hospital;
 * false with a 401/403/404 decided when it is none (who asks is checked
 * first: an unknown id tells strangers nothing). */
bool bp_writes_hospital(bp_req_t *r);
/* What every write needs: rights on the hospital, If-Match (when the route
 * declares it), the rate. The principal, or NULL with the answer decided;
 * *version: the If-Match version. */
const bp_principal_t *bp_writes_check(bp_req_t *r, int64_t *version);
/* Submits change c for principal p; r is pending, or decided (503). */
void bp_writes_submit(bp_req_t *r, const bp_principal_t *p, bp_change_t *c, int64_t version);

/* Stores the plausibility checks this server derived from the stream and
 * not yet stored (bp_state_mark) in the hospitals' hashes, each only while
 * the hospital is still at the version it was derived at
 * (bp_apply_store_check). Every server derives the same check from the
 * same events, so every server's write is the same; no event is added. */
void bp_writes_save_checks(bp_app_t *app);

/* Writes waiting for the state: checked after every batch of events and
 * once a second (their time limit). */
void bp_writes_on_state(bp_app_t *app);
/* The apply callback (see bp_apply_create). */
void bp_writes_on_applied(void *privdata, const bp_apply_result_t *result);

#endif
