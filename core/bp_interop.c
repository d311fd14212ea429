/* Names, codes and conversions between BedPulse and HAVE, FHIR and NHSN
 * (see bp_interop.h and docs/interop.md). */
#include "bp_interop.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const bp_bed_interop_t beds[BP_BED__COUNT] = {
    /* HAVE: EmergencyDepartment. NHSN counts an ED census, not beds. */
    [BP_BED_EMERGENCY] = {"EmergencyDepartment", NULL, "ER", "Emergency room", NULL, false, false},
    [BP_BED_ICU_ADULT] = {"AdultICU", NULL, "ICU", "Intensive care unit", "AdultICU", true, true},
    [BP_BED_ICU_PEDIATRIC] = {"PediatricICU", NULL, "PEDICU", "Pediatric intensive care unit",
                              "PedsICU", true, true},
    /* SANER counts neonatal ICU inside numICUBeds */
    [BP_BED_ICU_NEONATAL] = {"NeonatalICU", NULL, "PEDNICU",
                             "Pediatric neonatal intensive care unit", "NICU", true, true},
    /* SAFR's nearest group is AdultMTMS (medical-surgical, adults only) */
    [BP_BED_MEDICAL_SURGICAL] = {"MedicalSurgical", NULL, "HU", "Hospital unit", "AdultMTMS", true,
                                 false},
    [BP_BED_PEDIATRICS] = {"Pediatrics", NULL, "PEDU", "Pediatric unit", "PedsMTMS", true, false},
    /* HAVE 1.0 and v3-RoleCode have no obstetrics bed type: not in HAVE or
     * FHIR RoleCode output, and no HAVE document can set it */
    [BP_BED_OBSTETRICS] = {NULL, NULL, NULL, NULL, "OB", true, false},
    [BP_BED_BURN] = {"Burn", NULL, NULL, NULL, "Burn", true, false},
    /* HAVE and SAFR split adult and pediatric psychiatry; BedPulse does not */
    [BP_BED_PSYCHIATRIC] = {"AdultPsychiatric", "PediatricPsychiatric", "PHU",
                            "Psychiatric hospital unit", "AdultPsych", true, false},
    /* negative pressure isolation; HAVE's OtherIsolation is not kept */
    [BP_BED_ISOLATION] = {"NegativeFlowIsolation", NULL, NULL, NULL, "NegativePressure", true,
                          false},
    [BP_BED_OPERATING_ROOM] = {"OperatingRooms", NULL, NULL, NULL, NULL, false, false},
};

/* HAVE 1.0 BedTypes that BedPulse does not keep. */
static const char *const have_unkept[] = {"NurseryBeds", "RehabLongTermCare", "OtherIsolation"};

const bp_bed_interop_t *bp_interop_bed(bp_bed_type_t t) {
    return (unsigned)t < BP_BED__COUNT ? &beds[t] : NULL;
}

/* (s, len) without surrounding XML white space. */
static void trim(const char **s, size_t *len) {
    while (*len && strchr(" \t\r\n", (*s)[0]))
        (*s)++, (*len)--;
    while (*len && strchr(" \t\r\n", (*s)[*len - 1]))
        (*len)--;
}

static bool ieq(const char *name, const char *s, size_t len) {
    return name && strlen(name) == len && strncasecmp(name, s, len) == 0;
}

int bp_interop_have_bed_parse(const char *s, size_t len) {
    trim(&s, &len);
    for (int t = 0; t < BP_BED__COUNT; t++)
        if (ieq(beds[t].have, s, len) || ieq(beds[t].have_also, s, len)) return t;
    for (size_t i = 0; i < sizeof have_unkept / sizeof *have_unkept; i++)
        if (ieq(have_unkept[i], s, len)) return BP_INTEROP_NO_TYPE;
    return BP_INTEROP_UNKNOWN;
}

int bp_interop_fhir_bed_parse(const char *system, const char *code) {
    if (!system || !code) return BP_INTEROP_UNKNOWN;
    if (strcmp(system, BP_FHIR_BEDTYPES) == 0) {
        int t = bp_bed_type_parse(code, strlen(code));
        return t >= 0 ? t : BP_INTEROP_UNKNOWN;
    }
    if (strcmp(system, BP_FHIR_ROLECODE) == 0)
        for (int t = 0; t < BP_BED__COUNT; t++)
            if (beds[t].role_code && strcmp(beds[t].role_code, code) == 0) return t;
    return BP_INTEROP_UNKNOWN;
}

/* -- counts ------------------------------------------------------------------ */

void bp_interop_have_counts(const bp_beds_t *b, bp_have_counts_t *out) {
    out->available = bp_beds_available(b);
    out->baseline = b->staffed;
    out->additional = b->surge24;
    out->status = out->available < 0   ? NULL
                  : out->available > 0 ? "Vacant/Available"
                                       : "NotAvailable";
}

int bp_interop_beds_from_have(int64_t available, int64_t baseline, int64_t additional,
                              int32_t cur_staffed, const char *path, bp_beds_t *b, uint8_t *fields,
                              bool *at_least, bp_error_t *err) {
    *fields = 0;
    *at_least = false;
    const int64_t counts[3] = {available, baseline, additional};
    static const char *const names[3] = {"AvailableCount", "BaselineCount",
                                         "AdditionalCapacityCount24Hr"};
    for (int i = 0; i < 3; i++)
        if (counts[i] < -1 || counts[i] > BP_BEDS_MAX)
            return bp_error_set(err, "out_of_range", path, "%s/%s must be from 0 to %d", path,
                                names[i], BP_BEDS_MAX);
    if (baseline >= 0) {
        b->staffed = (int32_t)baseline;
        *fields |= BP_BF_STAFFED;
    }
    if (available >= 0) {
        int64_t base = baseline >= 0 ? baseline : cur_staffed;
        if (base < 0)
            return bp_error_set(err, "missing_field", path,
                                "%s: AvailableCount needs a BaselineCount (occupied = "
                                "BaselineCount - AvailableCount)",
                                path);
        if (available > base)
            return bp_error_set(err, "out_of_range", path,
                                "%s: AvailableCount %lld exceeds BaselineCount %lld", path,
                                (long long)available, (long long)base);
        b->occupied = (int32_t)(base - available);
        *fields |= BP_BF_OCCUPIED;
        *at_least = available == 0;
    }
    if (additional >= 0) {
        b->surge24 = (int32_t)additional;
        *fields |= BP_BF_SURGE24;
    }
    return 0;
}

static const char *const count_names[BP_COUNT__COUNT] = {"staffed", "occupied", "available",
                                                         "overflow", "surge24"};

const char *bp_interop_count_name(bp_count_t c) {
    return (unsigned)c < BP_COUNT__COUNT ? count_names[c] : NULL;
}

int bp_interop_count_parse(const char *s) {
    for (int i = 0; s && i < BP_COUNT__COUNT; i++)
        if (strcmp(count_names[i], s) == 0) return i;
    return -1;
}

int32_t bp_interop_count_value(const bp_beds_t *b, bp_count_t c) {
    switch (c) {
    case BP_COUNT_STAFFED: return b->staffed;
    case BP_COUNT_OCCUPIED: return b->occupied;
    case BP_COUNT_AVAILABLE: return bp_beds_available(b);
    case BP_COUNT_OVERFLOW: return bp_beds_overflow(b);
    case BP_COUNT_SURGE24: return b->surge24;
    default: return -1;
    }
}

static const char *const icu_names[BP_ICU__COUNT] = {"ventilated-total", "ventilated-free",
                                                     "ecmo-total", "ecmo-free"};

const char *bp_interop_icu_name(bp_icu_count_t k) {
    return (unsigned)k < BP_ICU__COUNT ? icu_names[k] : NULL;
}

int bp_interop_icu_parse(const char *s) {
    for (int k = 0; s && k < BP_ICU__COUNT; k++)
        if (strcmp(s, icu_names[k]) == 0) return k;
    return -1;
}

int32_t bp_interop_icu_value(const bp_hospital_state_t *h, int t, bp_icu_count_t k) {
    bool ecmo = k >= BP_ICU_ECMO_TOTAL;
    if (!(h->icu_known[t] & (ecmo ? BP_BF_ECMO : BP_BF_VENTILATED))) return -1;
    const bp_places_t *p = ecmo ? &h->icu[t].ecmo : &h->icu[t].ventilated;
    return (k == BP_ICU_VENT_TOTAL || k == BP_ICU_ECMO_TOTAL) ? p->total : p->free;
}

int bp_interop_icu_to_change(const int64_t v[BP_ICU__COUNT], int t, const char *path,
                             bp_change_t *c, bp_error_t *err) {
    for (int i = 0; i < 2; i++) {
        int64_t tot = v[2 * i], fr = v[2 * i + 1];
        const char *name = i ? "ecmo" : "ventilated";
        if (tot < 0 && fr < 0) continue;
        if (!bp_bed_type_has_detail(t))
            return bp_error_set(err, "unknown_field", path,
                                "%s: only icu_adult and icu_pediatric report %s places", path,
                                name);
        if (tot < 0 || fr < 0)
            return bp_error_set(err, "missing_field", path, "%s: %s-total and %s-free go together",
                                path, name, name);
        if (fr > tot)
            return bp_error_set(err, "bad_value", path,
                                "%s: %s-free (%lld) exceeds %s-total (%lld)", path, name,
                                (long long)fr, name, (long long)tot);
        bp_places_t *p = i ? &c->icu[t].ecmo : &c->icu[t].ventilated;
        p->total = (int32_t)tot;
        p->free = (int32_t)fr;
        c->bed_fields[t] |= i ? BP_BF_ECMO : BP_BF_VENTILATED;
    }
    return 0;
}

static const char *const saner_codes[BP_SANER__COUNT] = {
    "numTotBeds", "numTotBedsOcc", "numTotBedsAvail", "numbeds",
    "numBedsOcc", "numICUBeds",    "numICUBedsOcc",   "numICUBedsAvail"};

const char *bp_interop_saner_code(bp_saner_t s) {
    return (unsigned)s < BP_SANER__COUNT ? saner_codes[s] : NULL;
}

int64_t bp_interop_saner_value(const bp_hospital_state_t *h, bp_saner_t s) {
    int64_t sum = 0;
    int n = 0;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        const bp_beds_t *b = &h->beds[t];
        if (!(h->beds_mask & (1u << t)) || b->staffed < 0 || b->occupied < 0) continue;
        bool in;
        switch (s) {
        case BP_SANER_NUM_TOT_BEDS:
        case BP_SANER_NUM_TOT_BEDS_OCC:
        case BP_SANER_NUM_TOT_BEDS_AVAIL: in = true; break;
        case BP_SANER_NUM_BEDS:
        case BP_SANER_NUM_BEDS_OCC: in = beds[t].inpatient; break;
        default: in = beds[t].icu; break;
        }
        if (!in) continue;
        n++;
        switch (s) {
        /* all beds in use or ready: staffed plus those in use beyond it */
        case BP_SANER_NUM_TOT_BEDS: sum += b->staffed + bp_beds_overflow(b); break;
        case BP_SANER_NUM_BEDS:
        case BP_SANER_NUM_ICU_BEDS: sum += b->staffed; break;
        case BP_SANER_NUM_TOT_BEDS_OCC:
        case BP_SANER_NUM_BEDS_OCC:
        case BP_SANER_NUM_ICU_BEDS_OCC: sum += b->occupied; break;
        default: sum += bp_beds_available(b); break;
        }
    }
    return n ? sum : -1;
}

/* -- emergency department --------------------------------------------------- */

void bp_interop_ed_view(const bp_ed_t *ed, int64_t now_ms, bp_ed_t *out) {
    *out = *ed;
    if (bp_ed_effective(ed, now_ms) != ed->status) {
        out->status = BP_ED_NORMAL;
        out->reason[0] = '\0';
        out->until_ms = 0;
    }
}

const char *bp_interop_have_traffic(bp_ed_status_t s) {
    static const char *const codes[BP_ED__COUNT] = {"Normal", "Advisory", "Closed", "Closed"};
    return (unsigned)s < BP_ED__COUNT ? codes[s] : NULL;
}

void bp_interop_have_reason(const bp_ed_t *ed, char *out, size_t len) {
    if (ed->status == BP_ED_CLOSED)
        snprintf(out, len, "%s%s%s", BP_HAVE_CLOSED_MARK, ed->reason[0] ? ": " : "", ed->reason);
    else
        snprintf(out, len, "%s", ed->reason);
}

int bp_interop_ed_from_have(const char *status, size_t slen, const char *reason, size_t rlen,
                            const char *path, bp_ed_t *out, bp_error_t *err) {
    trim(&status, &slen);
    int s;
    if (ieq("Normal", status, slen))
        s = BP_ED_NORMAL;
    else if (ieq("Advisory", status, slen))
        s = BP_ED_ADVISORY;
    else if (ieq("Closed", status, slen))
        s = BP_ED_DIVERSION;
    else if (ieq("NotApplicable", status, slen))
        return 1;
    else
        return bp_error_set(err, "bad_value", path,
                            "%s must be Normal, Advisory, Closed or NotApplicable", path);
    if (!reason) reason = "", rlen = 0;
    trim(&reason, &rlen);
    size_t mark = strlen(BP_HAVE_CLOSED_MARK);
    if (s == BP_ED_DIVERSION && rlen >= mark && strncmp(reason, BP_HAVE_CLOSED_MARK, mark) == 0 &&
        (rlen == mark || (rlen >= mark + 2 && reason[mark] == ':' && reason[mark + 1] == ' '))) {
        s = BP_ED_CLOSED;
        size_t skip = rlen == mark ? mark : mark + 2;
        reason += skip;
        rlen -= skip;
    }
    if (!bp_is_clean_text(reason, rlen, BP_REASON_MAX))
        return bp_error_set(err, rlen > BP_REASON_MAX ? "too_long" : "bad_string", path,
                            "the EMSTrafficReason of %s must be at most %d bytes of UTF-8 "
                            "without control characters",
                            path, BP_REASON_MAX);
    memset(out, 0, sizeof *out);
    out->status = (bp_ed_status_t)s;
    out->waiting = -1;
    memcpy(out->reason, reason, rlen);
    out->reason[rlen] = '\0';
    return 0;
}

const char *bp_interop_fhir_opstatus(const bp_hospital_state_t *h, int64_t now_ms,
                                     const char **display) {
    bool fac_out =
        h->fac_reported && (h->fac.status == BP_FAC_EVACUATING || h->fac.status == BP_FAC_CLOSED);
    if (fac_out || (h->version && bp_ed_effective(&h->ed, now_ms) == BP_ED_CLOSED)) {
        *display = "Closed";
        return "C";
    }
    bp_totals_t t;
    bp_hospital_totals(h, &t);
    if (!h->at_ms || t.types == 0) {
        *display = NULL;
        return NULL;
    }
    *display = t.available > 0 ? "Unoccupied" : "Occupied";
    return t.available > 0 ? "U" : "O";
}

/* -- imports against the current state -------------------------------------- */

bool bp_interop_refine(bp_change_t *c, const bp_hospital_state_t *cur, uint32_t at_least,
                       int64_t now_ms) {
    /* A newer report is applied whole: the live state may be a few
     * milliseconds behind Redis, and a figure dropped as "equal" to a stale
     * one would leave Redis at a value the sender never sent. A report no
     * newer than the stored one (an export posted back, a corrected copy)
     * keeps only what differs. */
    bool newer = c->at_ms > cur->at_ms;
    bool left = false;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        uint8_t f = c->bed_fields[t];
        if (!f) continue;
        const bp_beds_t *was = &cur->beds[t];
        bool known = cur->beds_mask & (1u << t);
        if (!newer && (f & BP_BF_STAFFED) && known && was->staffed == c->beds[t].staffed)
            f &= (uint8_t)~BP_BF_STAFFED;
        if ((f & BP_BF_OCCUPIED) && known && was->occupied >= 0) {
            bool lower_bound = at_least & (1u << t);
            int32_t staffed_after = (f & BP_BF_STAFFED) ? c->beds[t].staffed : was->staffed;
            if ((!newer && was->occupied == c->beds[t].occupied) ||
                (lower_bound && was->occupied >= c->beds[t].occupied &&
                 c->beds[t].occupied == staffed_after))
                f &= (uint8_t)~BP_BF_OCCUPIED;
        }
        if (!newer && (f & BP_BF_SURGE24) && known && was->surge24 == c->beds[t].surge24)
            f &= (uint8_t)~BP_BF_SURGE24;
        if (!newer && (f & BP_BF_VENTILATED) && (cur->icu_known[t] & BP_BF_VENTILATED) &&
            memcmp(&cur->icu[t].ventilated, &c->icu[t].ventilated, sizeof(bp_places_t)) == 0)
            f &= (uint8_t)~BP_BF_VENTILATED;
        if (!newer && (f & BP_BF_ECMO) && (cur->icu_known[t] & BP_BF_ECMO) &&
            memcmp(&cur->icu[t].ecmo, &c->icu[t].ecmo, sizeof(bp_places_t)) == 0)
            f &= (uint8_t)~BP_BF_ECMO;
        c->bed_fields[t] = f;
        left |= f != 0;
    }
    if (c->has_ed) {
        /* the same status and reason as in effect: keep the current ED,
         * with the expiry and waiting count HAVE and FHIR cannot carry */
        bp_ed_t view;
        bp_interop_ed_view(&cur->ed, now_ms, &view);
        if (view.status == c->ed.status && strcmp(view.reason, c->ed.reason) == 0)
            c->has_ed = false;
        else
            left = true;
    }
    return !left && !newer;
}

/* -- CSV --------------------------------------------------------------------- */

const char *const bp_interop_csv_columns[] = {"facility_id",
                                              "facility_name",
                                              "facility_name_en",
                                              "district",
                                              "tier",
                                              "collection_time",
                                              "freshness",
                                              "bed_type",
                                              "have_bed_type",
                                              "fhir_role_code",
                                              "nhsn_bed_group",
                                              "num_beds",
                                              "num_beds_occ",
                                              "num_beds_avail",
                                              "num_beds_overflow",
                                              "num_beds_surge_24h",
                                              "ed_status",
                                              "ed_reason",
                                              "ed_until",
                                              "pressure_level",
                                              "num_vent_beds",
                                              "num_vent_beds_avail",
                                              "num_ecmo",
                                              "num_ecmo_avail",
                                              "facility_status",
                                              "facility_reason",
                                              "facility_power",
                                              "facility_oxygen",
                                              "facility_water",
                                              "services_limited",
                                              "services_unavailable"};
const size_t bp_interop_csv_ncolumns =
    sizeof bp_interop_csv_columns / sizeof *bp_interop_csv_columns;
