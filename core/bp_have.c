/* EDXL-HAVE 1.0: checking what a document says, and what an export writes
 * (bp_have.h). */
#include "bp_have.h"
#include "bp_time.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void set(bool *present, bool *too_long, int *count, char *text, size_t cap, const char *s,
                size_t len) {
    if ((*count)++) return; /* a repeat: the first one stays, the count tells */
    while (len && strchr(" \t\r\n", s[0]))
        s++, len--;
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    *present = true;
    *too_long = len > cap;
    if (len > cap) len = cap;
    memcpy(text, s, len);
    text[len] = '\0';
}

void bp_have_value_set(bp_have_value_t *v, const char *s, size_t len) {
    set(&v->present, &v->too_long, &v->count, v->text, BP_HAVE_VALUE_MAX, s, len);
}

void bp_have_text_set(bp_have_text_t *v, const char *s, size_t len) {
    set(&v->present, &v->too_long, &v->count, v->text, BP_HAVE_TEXT_MAX, s, len);
}

/* An xsd:integer count: -1 when absent; -2 (error recorded) when bad. */
static int64_t count_of(const bp_have_value_t *v, const char *path, const char *name,
                        bp_import_t *im) {
    if (!v->present) return -1;
    char p[BP_IMPORT_PATH_MAX + 40];
    snprintf(p, sizeof p, "%s/%s", path, name);
    if (v->count > 1) {
        bp_import_error(im, "duplicate_field", p, "%s appears more than once", p);
        return -2;
    }
    const char *s = v->text;
    if (*s == '+') s++;
    size_t n = strlen(s);
    int64_t x = 0;
    bool ok = !v->too_long && n > 0 && n <= 9 && strspn(s, "0123456789") == n;
    for (size_t i = 0; ok && i < n; i++)
        x = x * 10 + (s[i] - '0');
    if (!ok || x > BP_BEDS_MAX) {
        bp_import_error(im, "out_of_range", p, "%s must be an integer from 0 to %d, got \"%.24s\"",
                        p, BP_BEDS_MAX, v->text);
        return -2;
    }
    return x;
}

/* The counts of the BedPulse types a hospital's BedCapacity elements name,
 * summed where two HAVE types fall into one BedPulse type. */
typedef struct {
    int64_t v[3]; /* available, baseline, additional; -1 absent */
    bool seen;
    const char *first; /* path of the first BedCapacity giving this type */
} acc_t;

static void add_counts(acc_t *a, const int64_t v[3], const char *path, bp_import_t *im) {
    if (!a->seen) {
        memcpy(a->v, v, sizeof a->v);
        a->seen = true;
        a->first = path;
        return;
    }
    for (int k = 0; k < 3; k++) {
        if ((a->v[k] < 0) != (v[k] < 0)) {
            bp_import_error(im, "bad_value", path,
                            "%s and %s fall into one BedPulse bed type and are summed: they must "
                            "give the same counts",
                            path, a->first);
            return;
        }
        if (v[k] >= 0) a->v[k] += v[k];
    }
}

static void read_bed(const bp_have_bed_t *b, acc_t acc[BP_BED__COUNT],
                     char seen[][BP_HAVE_VALUE_MAX + 1], size_t *n_seen, bp_import_t *im) {
    char p[BP_IMPORT_PATH_MAX + 40];
    snprintf(p, sizeof p, "%s/BedType", b->path);
    if (b->bed_type.count != 1) {
        bp_import_error(im, b->bed_type.count ? "duplicate_field" : "missing_field", p,
                        "%s: exactly one BedType is expected (BedPulse keeps one type per "
                        "BedCapacity)",
                        b->path);
        return;
    }
    int t = bp_interop_have_bed_parse(b->bed_type.text, strlen(b->bed_type.text));
    if (t == BP_INTEROP_UNKNOWN || b->bed_type.too_long) {
        bp_import_error(im, "unknown_bed_type", p,
                        "%s \"%.40s\" is not an EDXL-HAVE 1.0 bed type (AdultICU, PediatricICU, "
                        "NeonatalICU, EmergencyDepartment, MedicalSurgical, Burn, Pediatrics, ...)",
                        p, b->bed_type.text);
        return;
    }
    for (size_t i = 0; i < *n_seen; i++)
        if (strcasecmp(seen[i], b->bed_type.text) == 0) {
            bp_import_error(im, "duplicate_field", p, "%s %s is reported twice in this Hospital", p,
                            b->bed_type.text);
            return;
        }
    snprintf(seen[(*n_seen)++], BP_HAVE_VALUE_MAX + 1, "%s", b->bed_type.text);
    if (b->capacities > 1) {
        bp_import_error(im, "duplicate_field", b->path,
                        "%s: one Capacity with counts is expected, found %d", b->path,
                        b->capacities);
        return;
    }
    int64_t v[3];
    size_t errs = im->errs.n;
    v[0] = count_of(&b->available, b->path, "AvailableCount", im);
    v[1] = count_of(&b->baseline, b->path, "BaselineCount", im);
    v[2] = count_of(&b->additional, b->path, "AdditionalCapacityCount24Hr", im);
    if (b->status.present) {
        snprintf(p, sizeof p, "%s/CapacityStatus", b->path);
        const char *s = b->status.text;
        bool vacant =
            strcasecmp(s, "Vacant/Available") == 0 || strcasecmp(s, "VacantAvailable") == 0;
        bool none = strcasecmp(s, "NotAvailable") == 0;
        if (b->status.count > 1 || (!vacant && !none))
            bp_import_error(im, "bad_value", p,
                            "%s must be one Vacant/Available or NotAvailable, got \"%.32s\"", p, s);
        else if (v[0] >= 0 && (v[0] > 0) != vacant)
            bp_import_error(im, "bad_value", p, "%s %s contradicts AvailableCount %lld", p, s,
                            (long long)v[0]);
    }
    if (im->errs.n > errs) return;
    if (t == BP_INTEROP_NO_TYPE) {
        bp_import_note(im, "%.80s: %.32s is not a BedPulse bed type; skipped", b->path,
                       b->bed_type.text);
        return;
    }
    if (v[0] < 0 && v[1] < 0 && v[2] < 0) {
        bp_import_note(im, "%.80s: no counts (CapacityStatus alone changes nothing)", b->path);
        return;
    }
    add_counts(&acc[t], v, b->path, im);
}

void bp_have_import(const bp_have_hospital_t *h, const bp_registry_t *reg, const bp_state_t *cur,
                    int64_t now_ms, int64_t max_skew_ms, bp_import_t *im) {
    size_t errs = im->errs.n;
    char p[BP_IMPORT_PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/Organization/OrganizationInformation/OrganisationName/@xnl:ID",
             h->path);
    int hi = -1;
    if (!h->id.present || !h->id.text[0])
        bp_import_error(im, "missing_field", p,
                        "%s is required: the hospital's BedPulse id or its registry have_id", p);
    else if (h->id.too_long ||
             (hi = bp_import_hospital(im, reg, h->id.text, strlen(h->id.text))) < 0)
        bp_import_error(im, "unknown_hospital", p,
                        "%s: no hospital with id or have_id \"%.64s\"%s%.60s%s", p, h->id.text,
                        h->name.present ? " (" : "", h->name.text, h->name.present ? ")" : "");
    snprintf(p, sizeof p, "%s/LastUpdateTime", h->path);
    int64_t at = 0;
    if (!h->last_update.present)
        bp_import_error(im, "missing_field", p, "%s is required", p);
    else if (h->last_update.count > 1)
        bp_import_error(im, "duplicate_field", p, "%s appears more than once", p);
    else if (h->last_update.too_long ||
             bp_time_parse(h->last_update.text, strlen(h->last_update.text), &at))
        bp_import_error(im, "bad_time", p,
                        "%s must be a date and time with a zone (2026-11-22T08:00:00+07:00), got "
                        "\"%.40s\"",
                        p, h->last_update.text);
    else if (at > now_ms + max_skew_ms)
        bp_import_error(im, "out_of_range", p, "%s is more than %lld s in the future", p,
                        (long long)(max_skew_ms / 1000));
    bp_ed_t ed;
    int has_ed = 0;
    if (h->traffic.present) {
        snprintf(p, sizeof p, "%s/EmergencyDepartmentStatus/EMSTraffic/EMSTrafficStatus", h->path);
        if (h->traffic.count > 1 || h->reason.count > 1)
            bp_import_error(im, "duplicate_field", p, "%s (or its reason) appears more than once",
                            p);
        else if (h->reason.too_long)
            bp_import_error(im, "too_long", p, "the EMSTrafficReason of %s is longer than %d bytes",
                            p, BP_REASON_MAX);
        else {
            bp_error_t e;
            int rc = bp_interop_ed_from_have(h->traffic.text, strlen(h->traffic.text),
                                             h->reason.text, strlen(h->reason.text), p, &ed, &e);
            if (rc < 0)
                bp_import_error(im, e.code, e.field, "%s", e.message);
            else if (rc == 1)
                bp_import_note(im, "%.80s: EMSTrafficStatus NotApplicable leaves the ED as it is",
                               h->path);
            else
                has_ed = 1;
        }
    } else if (h->reason.present) {
        bp_import_note(im, "%.80s: an EMSTrafficReason without EMSTrafficStatus was skipped",
                       h->path);
    }
    acc_t acc[BP_BED__COUNT];
    memset(acc, 0, sizeof acc);
    char seen[BP_HAVE_BEDS_MAX][BP_HAVE_VALUE_MAX + 1];
    size_t n_seen = 0;
    if (h->beds_seen > BP_HAVE_BEDS_MAX)
        bp_import_error(im, "too_many", h->path, "%s has %zu BedCapacity elements; at most %d",
                        h->path, h->beds_seen, BP_HAVE_BEDS_MAX);
    else
        for (size_t k = 0; k < h->n_beds; k++)
            read_bed(&h->beds[k], acc, seen, &n_seen, im);
    if (im->errs.n > errs || hi < 0) return;

    const bp_hospital_state_t *now = cur ? bp_state_hospital(cur, (size_t)hi) : NULL;
    bp_change_t c;
    uint32_t at_least_mask = 0;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "%s", reg->hospitals[hi].id);
    c.at_ms = at;
    if (has_ed) {
        c.has_ed = true;
        c.ed = ed;
    }
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!acc[t].seen) continue;
        int32_t cur_staffed = now && (now->beds_mask & (1u << t)) ? now->beds[t].staffed : -1;
        bool at_least;
        bp_error_t e;
        if (bp_interop_beds_from_have(acc[t].v[0], acc[t].v[1], acc[t].v[2], cur_staffed,
                                      acc[t].first, &c.beds[t], &c.bed_fields[t], &at_least, &e)) {
            bp_import_error(im, e.code, e.field, "%s", e.message);
            continue;
        }
        if (at_least) at_least_mask |= 1u << t;
    }
    if (im->errs.n > errs) return;
    bp_import_item_t *it = bp_import_add(im, h->path);
    if (!it) return;
    it->hospital = hi;
    it->at_least = at_least_mask;
    it->change = c;
}

bool bp_have_view(const bp_state_t *st, size_t i, int64_t now_ms, int64_t offload_median_ms,
                  bp_have_out_t *out) {
    const bp_registry_t *r = bp_state_registry(st);
    const bp_hospital_state_t *h = bp_state_hospital(st, i);
    if (!h || !h->at_ms) return false;
    const bp_hospital_info_t *info = &r->hospitals[i];
    memset(out, 0, sizeof *out);
    out->id = info->id;
    out->name_vi = info->name.vi;
    out->name_en = info->name.en;
    out->lat = info->lat;
    out->lon = info->lon;
    bp_ed_t ed;
    bp_interop_ed_view(&h->ed, now_ms, &ed);
    out->traffic = bp_interop_have_traffic(ed.status);
    bp_interop_have_reason(&ed, out->reason, sizeof out->reason);
    out->offload = h->offload_delayed ? "Delayed" : "Normal";
    out->offload_minutes = offload_median_ms >= 0 ? (offload_median_ms + 30000) / 60000 : -1;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        const char *have = bp_interop_bed((bp_bed_type_t)t)->have;
        if (!(h->beds_mask & (1u << t)) || !have) continue;
        bp_have_bed_out_t *b = &out->beds[out->n_beds++];
        b->type = (bp_bed_type_t)t;
        b->have = have;
        bp_interop_have_counts(&h->beds[t], &b->counts);
    }
    const uint32_t in_have = ~((1u << BP_SVC_CT) | (1u << BP_SVC_MRI) | (1u << BP_SVC_ECMO));
    out->svc_has = (info->services | h->svc_mask) & in_have & ((1u << BP_SVC__COUNT) - 1);
    for (int k = 0; k < BP_SVC__COUNT; k++)
        if ((out->svc_has >> k & 1) && bp_svc_effective(&h->svc[k], now_ms) != BP_SVS_UNAVAILABLE)
            out->svc_up |= 1u << k;
    static const char *const fac_have[BP_FAC__COUNT] = {"Normal", "Compromised", "Evacuating",
                                                        "Closed"};
    out->facility = h->fac_reported ? fac_have[h->fac.status] : NULL;
    out->at_ms = h->at_ms;
    return true;
}
