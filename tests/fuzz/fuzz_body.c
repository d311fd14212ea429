/*
 * libFuzzer harness for what the REST API reads from a request: the first
 * byte picks the parser, the rest is its input. PATCH bodies, CSV imports,
 * session cookies, and the header/query parsers (Accept-Encoding and
 * If-None-Match among them).
 */
#include "bp_auth.h"
#include "bp_codec_api.h"
#include "bp_conneg.h"
#include "bp_csv.h"
#include "bp_httputil.h"
#include "bp_mci.h"
#include "fuzz_util.h"

#include <stdlib.h>
#include <string.h>

static void check_errors(const bp_errors_t *errs) {
    fz_check_errors(errs); /* code, field and message readable and ended */
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 1) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0: {
        bp_change_t c;
        bp_errors_t errs;
        int rc = bp_codec_parse_patch(in, n, 1795309200000LL, NULL, &c, &errs);
        check_errors(&errs);
        /* the mass-casualty bodies take JSON objects too */
        bp_errors_t e2;
        bp_mci_declare_t d;
        if ((bp_mci_parse_declare(in, n, &d, &e2) == 0) != (e2.n == 0)) abort();
        check_errors(&e2);
        if (e2.n == 0 && (d.radius_km < 1 || d.radius_km > 50 || d.expected[0] < 0)) abort();
        int counts[BP_TRIAGE__COUNT];
        if ((bp_mci_parse_answer(in, n, counts, &e2) == 0) != (e2.n == 0)) abort();
        check_errors(&e2);
        bp_mci_patient_t pt;
        if ((bp_mci_parse_patient(in, n, &pt, &e2) == 0) != (e2.n == 0)) abort();
        check_errors(&e2);
        if ((rc == 0) != (errs.n == 0)) abort();
        if (rc == 0) {
            for (int t = 0; t < BP_BED__COUNT; t++) {
                const bp_beds_t *b = &c.beds[t];
                if ((c.bed_fields[t] & BP_BF_OCCUPIED) &&
                    (b->occupied < 0 || b->occupied > BP_BEDS_MAX))
                    abort();
            }
        }
        break;
    }
    case 1: {
        static bp_csv_row_t rows[BP_CSV_MAX_ROWS];
        bp_errors_t errs;
        int rc = bp_csv_parse_beds(in, n, rows, &errs);
        check_errors(&errs);
        if (rc > BP_CSV_MAX_ROWS || (rc < 0) != (errs.n > 0)) abort();
        for (int i = 0; i < rc; i++)
            if (rows[i].bed_type < 0 || rows[i].bed_type >= BP_BED__COUNT || !rows[i].fields)
                abort();
        break;
    }
    case 2: {
        static const unsigned char key[32] = {1, 2, 3};
        char tid[BP_TOKEN_ID_MAX + 1], sid[33];
        int64_t exp;
        if (bp_session_verify(key, sizeof key, in, n, 1795309200000LL, tid, sid, &exp) == 0)
            abort(); /* a signature cannot be guessed */
        char tok[BP_TOKEN_MAX + 1];
        bp_error_t err;
        memset(&err, 0xa5, sizeof err);
        if (bp_codec_parse_sign_in(in, n, tok, &err) == 0) {
            if (!tok[0] || !fz_terminated(tok, sizeof tok)) abort();
        } else {
            fz_check_error(&err);
        }
        break;
    }
    case 3: {
        const char *v;
        size_t vl;
        if (bp_http_bearer(in, n, &v, &vl) == 0 && (v < in || v + vl > in + n || !vl)) abort();
        if (bp_http_cookie(in, n, "bp_session", &v, &vl) == 0 && (v < in || v + vl > in + n))
            abort();
        int64_t ver;
        if (bp_http_if_match(in, n, &ver) == 0 && ver < 0) abort();
        /* Accept-Encoding and If-None-Match (static files, JSON answers) */
        unsigned acc = bp_conneg_accept_encoding(in, n);
        if (!(acc & BP_ENC_BIT(BP_ENC_IDENTITY)) || acc >> BP_ENC__COUNT) abort();
        if ((unsigned)bp_conneg_pick(acc, acc) >= BP_ENC__COUNT) abort();
        (void)bp_conneg_none_match(in, n, "0123456789abcdef");
        break;
    }
    default: {
        /* NUL-terminated forms: query strings and origins */
        char *s = malloc(n + 1);
        if (!s) return 0;
        memcpy(s, in, n);
        s[n] = '\0';
        char out[64];
        /* the bytes as lws' decoded argument fragments (NULs inside) */
        int q = bp_http_arg((const char *)in, n, "hospital", out, sizeof out);
        if (q >= 0 && ((size_t)q >= sizeof out || out[q] != '\0')) abort();
        (void)bp_http_origin_ok(s, "127.0.0.1:8080", "https://a.example, https://b.example");
        free(s);
        break;
    }
    }
    return 0;
}
