/* What clients send: REST bodies (a manager's PATCH, sign-in), the
 * mass-casualty bodies (bp_mci.h) and the WebSocket hello. Each reader is
 * strict (unknown or repeated fields are errors) and names every bad field. */
#include "bp_codec_api.h"
#include "bp_codec_feed.h"
#include "bp_jsonin.h"
#include "bp_mci.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- manager updates (PATCH) ---------------------------------------------- */

static void add_err(bp_errors_t *errs, const bp_error_t *e) {
    if (errs->n < BP_ERRORS_MAX) errs->e[errs->n++] = *e;
}

int bp_codec_parse_patch(const char *json, size_t len, int64_t now_ms,
                         const bp_hospital_info_t *info, bp_change_t *out, bp_errors_t *errs) {
    static const char *const keys[] = {"beds", "ed", "confirm", "services", "facility"};
    bp_error_t err;
    errs->n = 0;
    bp_change_init(out, BP_KIND_HOSPITAL);
    out->at_ms = now_ms;
    if (bp_jsonin_escaped_nul(json, len)) {
        bp_error_set(&err, "bad_string", "", "strings must not contain \\u0000");
        add_err(errs, &err);
        return -1;
    }
    cJSON *root = bp_jsonin_parse(json, len, &err);
    if (!root) {
        add_err(errs, &err);
        return -1;
    }
    unsigned present = 0;
    if (bp_jsonin_object(root, "", &err)) {
        add_err(errs, &err);
        cJSON_Delete(root);
        return -1;
    }
    /* unknown and repeated fields are named, one error each, and the rest
     * is still checked: a person fixes the whole form at once */
    for (const cJSON *it = root->child; it; it = it->next) {
        unsigned i = 0;
        while (i < 5 && strcmp(keys[i], it->string) != 0)
            i++;
        char shown[40];
        snprintf(shown, sizeof shown, "%s", it->string);
        if (i == 5) {
            bp_error_set(&err, "unknown_field", shown,
                         "unknown field \"%s\" (a change has beds, ed, services, facility and "
                         "confirm)",
                         shown);
            add_err(errs, &err);
        } else if (present & (1u << i)) {
            bp_error_set(&err, "duplicate_field", shown, "field %s appears more than once", shown);
            add_err(errs, &err);
        }
        present |= i < 5 ? 1u << i : 0;
    }
    if (!present && !errs->n) {
        bp_error_set(&err, "missing_field", "",
                     "give beds, ed, services, facility, or \"confirm\":true");
        add_err(errs, &err);
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "confirm");
    if (v && !cJSON_IsTrue(v)) {
        bp_error_set(&err, "bad_value", "confirm", "confirm can only be true");
        add_err(errs, &err);
    }
    /* every bed type on its own, every field on its own: all errors named */
    const cJSON *beds = cJSON_GetObjectItemCaseSensitive(root, "beds");
    if (beds && bp_jsonin_object(beds, "beds", &err)) {
        add_err(errs, &err);
    } else if (beds) {
        for (const cJSON *it = beds->child; it; it = it->next) {
            char path[BP_JSONIN_PATH_MAX];
            bp_jsonin_join(path, "beds", it->string);
            int t = bp_bed_type_parse(it->string, strlen(it->string));
            if (t < 0) {
                bp_error_set(&err, "unknown_bed_type", path, "unknown bed type \"%.40s\"",
                             it->string);
                add_err(errs, &err);
                continue;
            }
            if (out->bed_fields[t]) {
                bp_error_set(&err, "duplicate_field", path, "%s appears more than once", path);
                add_err(errs, &err);
                continue;
            }
            unsigned fp = 0;
            if (bp_jsonin_object(it, path, &err) ||
                bp_jsonin_keys(it, path, bp_feed_bed_keys, 5, &fp, &err)) {
                add_err(errs, &err);
                continue;
            }
            if (!fp) {
                bp_error_set(&err, "missing_field", path,
                             "%s must give at least one of staffed, occupied, surge24, "
                             "ventilated, ecmo",
                             path);
                add_err(errs, &err);
            }
            int32_t *dst[3] = {&out->beds[t].staffed, &out->beds[t].occupied,
                               &out->beds[t].surge24};
            uint8_t ok = 0;
            for (int f = 0; f < 3; f++) {
                if (!(fp & (1u << f))) continue;
                char fpath[BP_JSONIN_PATH_MAX];
                bp_jsonin_join(fpath, path, bp_feed_bed_keys[f]);
                int64_t x;
                if (bp_jsonin_int(cJSON_GetObjectItemCaseSensitive(it, bp_feed_bed_keys[f]), fpath,
                                  0, BP_BEDS_MAX, &x, &err)) {
                    add_err(errs, &err);
                    continue;
                }
                *dst[f] = (int32_t)x;
                ok |= (uint8_t)(1u << f);
            }
            if (fp & (BP_BF_VENTILATED | BP_BF_ECMO)) {
                if (bp_codec_parse_icu_detail(it, path, t, fp,
                                              ok & BP_BF_STAFFED ? out->beds[t].staffed : -1,
                                              &out->icu[t], &err))
                    add_err(errs, &err);
                else
                    ok |= (uint8_t)(fp & (BP_BF_VENTILATED | BP_BF_ECMO));
            }
            out->bed_fields[t] = ok;
        }
    }
    const cJSON *ed = cJSON_GetObjectItemCaseSensitive(root, "ed");
    if (ed) {
        size_t before = errs->n;
        if (bp_jsonin_object(ed, "ed", &err)) {
            add_err(errs, &err);
        } else {
            unsigned ep;
            if (bp_jsonin_keys(ed, "ed", bp_feed_ed_keys, 4, &ep, &err)) add_err(errs, &err);
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(ed, "status");
            int sv = cJSON_IsString(st)
                         ? bp_ed_status_parse(st->valuestring, strlen(st->valuestring))
                         : -1;
            if (sv < 0) {
                bp_error_set(&err, st ? "bad_value" : "missing_field", "ed.status",
                             "ed.status must be one of normal, advisory, diversion, closed");
                add_err(errs, &err);
            }
            memset(&out->ed, 0, sizeof out->ed);
            out->ed.status = sv < 0 ? BP_ED_NORMAL : (bp_ed_status_t)sv;
            out->ed.waiting = -1;
            const cJSON *x;
            if ((x = cJSON_GetObjectItemCaseSensitive(ed, "reason")) && !cJSON_IsNull(x) &&
                bp_jsonin_text(x, "ed.reason", BP_REASON_MAX, out->ed.reason, sizeof out->ed.reason,
                               &err))
                add_err(errs, &err);
            else if (sv > BP_ED_NORMAL && !out->ed.reason[0]) {
                /* a person turning ambulances away says why (feeds may not know) */
                bp_error_set(&err, "missing_field", "ed.reason",
                             "ed.reason is required when the ED is on advisory, diversion or "
                             "closed: say why, e.g. \"CT down\"");
                add_err(errs, &err);
            }
            if ((x = cJSON_GetObjectItemCaseSensitive(ed, "until")) && !cJSON_IsNull(x)) {
                if (bp_jsonin_time(x, "ed.until", &out->ed.until_ms, &err))
                    add_err(errs, &err);
                else if (sv == BP_ED_NORMAL) {
                    bp_error_set(&err, "bad_value", "ed.until",
                                 "ed.until applies only to advisory, diversion or closed");
                    add_err(errs, &err);
                } else if (out->ed.until_ms <= now_ms) {
                    bp_error_set(&err, "bad_value", "ed.until", "ed.until must be in the future");
                    add_err(errs, &err);
                }
            }
            if ((x = cJSON_GetObjectItemCaseSensitive(ed, "waiting")) && !cJSON_IsNull(x)) {
                int64_t w;
                if (bp_jsonin_int(x, "ed.waiting", 0, BP_WAITING_MAX, &w, &err))
                    add_err(errs, &err);
                else
                    out->ed.waiting = (int32_t)w;
            }
        }
        out->has_ed = errs->n == before;
    }
    const cJSON *svc = cJSON_GetObjectItemCaseSensitive(root, "services");
    if (svc && bp_codec_parse_services(svc, now_ms, "now", info, out, &err)) {
        add_err(errs, &err);
        out->svc_fields = 0;
    }
    const cJSON *fac = cJSON_GetObjectItemCaseSensitive(root, "facility");
    if (fac) {
        if (bp_codec_parse_facility(fac, &out->fac, &err)) {
            add_err(errs, &err);
        } else if (out->fac.status != BP_FAC_NORMAL && !out->fac.reason[0]) {
            /* as for the ED: a person taking the hospital out says why */
            bp_error_set(&err, "missing_field", "facility.reason",
                         "facility.reason is required when the facility is compromised, "
                         "evacuating or closed: say why, e.g. \"power cut, on generator\"");
            add_err(errs, &err);
        } else {
            out->has_fac = true;
        }
    }
    cJSON_Delete(root);
    return errs->n ? -1 : 0;
}

/* -- WebSocket hello ----------------------------------------------------- */

int bp_codec_parse_hello(const char *json, size_t len, bp_hello_t *out, bp_error_t *err) {
    static const char *const keys[] = {"type", "resume", "token", "compress"};
    static const char *const rkeys[] = {"epoch", "offset"};
    int rc = -1;
    memset(out, 0, sizeof *out);
    cJSON *root = bp_jsonin_parse(json, len, err);
    if (!root) return -1;
    unsigned present;
    if (bp_jsonin_object(root, "", err) || bp_jsonin_keys(root, "", keys, 4, &present, err))
        goto out;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(t) || strcmp(t->valuestring, "hello") != 0) {
        bp_error_set(err, "unknown_type", "type", "the first message must be {\"type\":\"hello\"}");
        goto out;
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "resume");
    if (r && !cJSON_IsNull(r)) {
        unsigned rp;
        if (bp_jsonin_object(r, "resume", err) || bp_jsonin_keys(r, "resume", rkeys, 2, &rp, err))
            goto out;
        if (rp != 3) {
            bp_error_set(err, "missing_field", "resume", "resume needs epoch and offset");
            goto out;
        }
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "epoch");
        size_t el = cJSON_IsString(e) ? strlen(e->valuestring) : 0;
        bool ok = el > 0 && el <= BP_EPOCH_MAX;
        for (size_t i = 0; ok && i < el; i++) {
            char c = e->valuestring[i];
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        }
        if (!ok) {
            bp_error_set(err, "bad_value", "resume.epoch",
                         "resume.epoch must be 1 to 64 letters or digits");
            goto out;
        }
        memcpy(out->epoch, e->valuestring, el + 1);
        int64_t off;
        if (bp_jsonin_int(cJSON_GetObjectItemCaseSensitive(r, "offset"), "resume.offset", 0,
                          9007199254740991LL, &off, err))
            goto out;
        out->offset = (uint64_t)off;
        out->has_resume = true;
    }
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "token");
    if (tok && !cJSON_IsNull(tok)) {
        if (!cJSON_IsString(tok) || strlen(tok->valuestring) > BP_TOKEN_MAX) {
            bp_error_set(err, "bad_value", "token", "token must be a string of at most %d bytes",
                         BP_TOKEN_MAX);
            goto out;
        }
        snprintf(out->token, sizeof out->token, "%s", tok->valuestring);
        out->has_token = true;
    }
    const cJSON *cz = cJSON_GetObjectItemCaseSensitive(root, "compress");
    if (cz && !cJSON_IsNull(cz)) {
        if (!cJSON_IsString(cz) || strcmp(cz->valuestring, "gzip") != 0) {
            bp_error_set(err, "bad_value", "compress", "compress must be \"gzip\" (or absent)");
            goto out;
        }
        out->gzip = true;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* -- mass-casualty request bodies (bp_mci.h) -------------------------------- */

static void triage_counts(const cJSON *obj, const char *path, bool all,
                          int counts[BP_TRIAGE__COUNT], bp_errors_t *errs) {
    static const char *const keys[] = {"immediate", "delayed", "minor"};
    bp_error_t err;
    if (bp_jsonin_object(obj, path, &err)) {
        add_err(errs, &err);
        return;
    }
    unsigned present;
    if (bp_jsonin_keys(obj, path, keys, 3, &present, &err)) add_err(errs, &err);
    for (int t = 0; t < BP_TRIAGE__COUNT; t++) {
        char p[BP_JSONIN_PATH_MAX];
        bp_jsonin_join(p, path, keys[t]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, keys[t]);
        int64_t n = 0;
        if (!v) {
            if (all) {
                bp_error_set(&err, "missing_field", p, "%s is required (0 if none)", p);
                add_err(errs, &err);
            }
        } else if (bp_jsonin_int(v, p, 0, BP_MCI_COUNT_MAX, &n, &err)) {
            add_err(errs, &err);
        }
        counts[t] = (int)n;
    }
}

static cJSON *mci_root(const char *json, size_t len, bp_errors_t *errs) {
    bp_error_t err;
    errs->n = 0;
    cJSON *root = bp_jsonin_parse(json, len, &err);
    if (!root)
        add_err(errs, &err);
    else if (bp_jsonin_object(root, "", &err)) {
        add_err(errs, &err);
        cJSON_Delete(root);
        root = NULL;
    }
    return root;
}

int bp_mci_parse_declare(const char *json, size_t len, bp_mci_declare_t *out, bp_errors_t *errs) {
    static const char *const keys[] = {"lat", "lon", "radius_km", "address", "expected"};
    memset(out, 0, sizeof *out);
    out->radius_km = 10;
    cJSON *root = mci_root(json, len, errs);
    if (!root) return -1;
    bp_error_t err;
    unsigned present;
    if (bp_jsonin_keys(root, "", keys, 5, &present, &err)) add_err(errs, &err);
    if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(root, "lat"), "lat", -90, 90, &out->lat,
                      &err))
        add_err(errs, &err);
    if (bp_jsonin_num(cJSON_GetObjectItemCaseSensitive(root, "lon"), "lon", -180, 180, &out->lon,
                      &err))
        add_err(errs, &err);
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "radius_km")) &&
        bp_jsonin_num(v, "radius_km", 1, 50, &out->radius_km, &err))
        add_err(errs, &err);
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "address")) &&
        bp_jsonin_text(v, "address", 200, out->address, sizeof out->address, &err))
        add_err(errs, &err);
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "expected")))
        triage_counts(v, "expected", false, out->expected, errs);
    cJSON_Delete(root);
    return errs->n ? -1 : 0;
}

int bp_mci_parse_answer(const char *json, size_t len, int counts[BP_TRIAGE__COUNT],
                        bp_errors_t *errs) {
    cJSON *root = mci_root(json, len, errs);
    if (!root) return -1;
    triage_counts(root, "", true, counts, errs);
    cJSON_Delete(root);
    return errs->n ? -1 : 0;
}

int bp_mci_parse_patient(const char *json, size_t len, bp_mci_patient_t *out, bp_errors_t *errs) {
    static const char *const keys[] = {"triage", "destination", "unit"};
    memset(out, 0, sizeof *out);
    cJSON *root = mci_root(json, len, errs);
    if (!root) return -1;
    bp_error_t err;
    unsigned present;
    if (bp_jsonin_keys(root, "", keys, 3, &present, &err)) add_err(errs, &err);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "triage");
    int tv = cJSON_IsString(t) ? bp_triage_parse(t->valuestring, strlen(t->valuestring)) : -1;
    if (tv < 0) {
        bp_error_set(&err, t ? "bad_value" : "missing_field", "triage",
                     "triage must be one of immediate, delayed, minor");
        add_err(errs, &err);
    } else {
        out->triage = (bp_triage_t)tv;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "destination");
    if (!cJSON_IsString(d) || !bp_is_slug(d->valuestring, strlen(d->valuestring))) {
        bp_error_set(&err, d ? "bad_value" : "missing_field", "destination",
                     "destination must be a hospital id");
        add_err(errs, &err);
    } else {
        snprintf(out->destination, sizeof out->destination, "%s", d->valuestring);
    }
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "unit");
    if (u && !cJSON_IsNull(u)) {
        if (!cJSON_IsString(u) || !bp_is_callsign(u->valuestring, strlen(u->valuestring))) {
            bp_error_set(&err, "bad_value", "unit", "unit must be an ambulance call sign");
            add_err(errs, &err);
        } else {
            snprintf(out->unit, sizeof out->unit, "%s", u->valuestring);
        }
    }
    cJSON_Delete(root);
    return errs->n ? -1 : 0;
}

/* -- sign-in body --------------------------------------------------------- */

int bp_codec_parse_sign_in(const char *json, size_t len, char token[BP_TOKEN_MAX + 1],
                           bp_error_t *err) {
    static const char *const keys[] = {"token"};
    int rc = -1;
    token[0] = '\0';
    cJSON *root = bp_jsonin_parse(json, len, err);
    if (!root) return -1;
    unsigned present;
    if (bp_jsonin_object(root, "", err) || bp_jsonin_keys(root, "", keys, 1, &present, err))
        goto out;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "token");
    if (!t) {
        bp_error_set(err, "missing_field", "token", "token is required");
        goto out;
    }
    if (!cJSON_IsString(t) || !t->valuestring[0] || strlen(t->valuestring) > BP_TOKEN_MAX) {
        bp_error_set(err, "bad_value", "token",
                     "token must be a non-empty string of at most %d bytes", BP_TOKEN_MAX);
        goto out;
    }
    snprintf(token, BP_TOKEN_MAX + 1, "%s", t->valuestring);
    rc = 0;
out:
    if (root) {
        /* the secret does not linger in freed memory */
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "token"))) {
            char *v = cJSON_GetObjectItemCaseSensitive(root, "token")->valuestring;
            explicit_bzero(v, strlen(v));
        }
        cJSON_Delete(root);
    }
    return rc;
}
