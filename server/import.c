/*
 * A hospital's figures from a spreadsheet (routes.c): POST
 * /api/v1/hospitals/{id}/import[?dry_run=1], text/csv, all rows or none.
 * The dry run answers each row's figures now and after; the import itself
 * is a write like a PATCH (writes.h).
 */
#include "bp_csv.h"
#include "bp_httputil.h"
#include "bp_jw.h"
#include "bp_time.h"
#include "handlers.h"
#include "writes.h"

#include <stdio.h>
#include <string.h>

void bp_api_import_post(bp_req_t *r) {
    if (!bp_writes_hospital(r)) return;
    bp_app_t *app = r->app;
    char dry[8];
    int d = bp_http_arg(r->query, r->query_len, "dry_run", dry, sizeof dry);
    bool dry_run = d > 0 && strcmp(dry, "0") != 0 && strcmp(dry, "false") != 0;
    int64_t version = -1;
    const bp_principal_t *p;
    if (dry_run) {
        p = bp_req_principal(r);
        if (r->decided || !bp_req_allow(r, p, BP_ACT_WRITE_HOSPITAL, r->ctx.write.hospital)) return;
    } else if (!(p = bp_writes_check(r, &version))) {
        return;
    }
    if (strncmp(r->content_type, "text/csv", 8) != 0) {
        bp_req_error(r, 415, "unsupported_media_type", "send the spreadsheet as text/csv");
        return;
    }
    static bp_csv_row_t rows[BP_CSV_MAX_ROWS]; /* one loop thread */
    bp_errors_t errs;
    int n = bp_csv_parse_beds(bp_buf_data(&r->in), r->in.len, rows, &errs);
    if (n < 0) {
        app->writes_invalid++;
        bp_req_invalid(r, "the file has errors; nothing was changed", &errs);
        return;
    }
    if (n == 0) {
        errs.n = 1;
        bp_error_set(&errs.e[0], "empty", "", "the file has no rows after the header");
        bp_req_invalid(r, errs.e[0].message, &errs);
        return;
    }
    if (!dry_run) {
        bp_change_t c;
        bp_csv_to_change(rows, n, &c);
        c.at_ms = bp_time_now_ms();
        bp_writes_submit(r, p, &c, version);
        return;
    }
    /* the preview: each row's figures now and after */
    const bp_hospital_state_t *hs = bp_state_hospital(app->state, (size_t)r->ctx.write.hospital);
    snprintf(r->etag, sizeof r->etag, "\"%llu\"", (unsigned long long)hs->version);
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "dry_run");
    bp_jw_bool(&w, true);
    BP_JW_KEY(&w, "version");
    bp_jw_int(&w, (int64_t)hs->version);
    BP_JW_KEY(&w, "rows");
    bp_jw_arr(&w);
    static const char *const names[] = {"staffed", "occupied", "surge24"};
    for (int i = 0; i < n; i++) {
        const bp_csv_row_t *row = &rows[i];
        const bp_beds_t *now = &hs->beds[row->bed_type];
        int32_t cur[3] = {now->staffed, now->occupied, now->surge24};
        int32_t nxt[3] = {row->beds.staffed, row->beds.occupied, row->beds.surge24};
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "row");
        bp_jw_int(&w, row->row);
        BP_JW_KEY(&w, "bed_type");
        bp_jw_cstr(&w, bp_bed_type_name((bp_bed_type_t)row->bed_type));
        for (int f = 0; f < 3; f++) {
            if (!(row->fields & (1 << f))) continue;
            bp_jw_key(&w, names[f]);
            bp_jw_obj(&w);
            BP_JW_KEY(&w, "from");
            bp_jw_int_or_null(&w, cur[f] >= 0, cur[f]);
            BP_JW_KEY(&w, "to");
            bp_jw_int(&w, nxt[f]);
            bp_jw_end(&w);
        }
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    errs.n = 0;
    bp_jw_errors(&w, &errs);
    bp_jw_end(&w);
}
