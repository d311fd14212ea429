/*
 * Tests for bp_model: wire names, slug and text rules, derived figures
 * (available, overflow, totals, occupancy, pressure level), ED expiry,
 * freshness, and the partial merge of changes into entity state.
 */
#include "test_util.h"

#include "bp_model.h"

/* A hospital state with every bed type unknown, never reported. */
static bp_hospital_state_t blank(void) {
    bp_hospital_state_t h;
    bp_hospital_state_init(&h);
    return h;
}

static void set_beds(bp_hospital_state_t *h, bp_bed_type_t t, int32_t staffed, int32_t occupied,
                     int32_t surge24) {
    h->beds[t] = (bp_beds_t){staffed, occupied, surge24};
    h->beds_mask |= 1u << t;
}

/* A hospital whose only inpatient beds are 1000 medical/surgical, with
 * `occupied` of them taken: occupancy is occupied / 10 percent. */
static bp_hospital_state_t at_occupancy(int32_t occupied) {
    bp_hospital_state_t h = blank();
    set_beds(&h, BP_BED_MEDICAL_SURGICAL, 1000, occupied, 100);
    return h;
}

static int level(const bp_hospital_state_t *h) {
    return bp_pressure_level(h, &bp_pressure_default, 1000000);
}

/* -- names ---------------------------------------------------------------- */

static void test_bed_type_names(void **state) {
    (void)state;
    static const char *const want[BP_BED__COUNT] = {
        "emergency",        "icu_adult",  "icu_pediatric", "icu_neonatal",
        "medical_surgical", "pediatrics", "obstetrics",    "burn",
        "psychiatric",      "isolation",  "operating_room"};
    for (int t = 0; t < BP_BED__COUNT; t++) {
        assert_string_equal(bp_bed_type_name((bp_bed_type_t)t), want[t]);
        assert_int_equal(bp_bed_type_parse(want[t], strlen(want[t])), t);
    }
    assert_null(bp_bed_type_name(BP_BED__COUNT));
    assert_null(bp_bed_type_name((bp_bed_type_t)-1));
    assert_int_equal(bp_bed_type_parse("icu", 3), -1);
    assert_int_equal(bp_bed_type_parse("icu_adultx", 10), -1);
    assert_int_equal(bp_bed_type_parse("ICU_ADULT", 9), -1);
    assert_int_equal(bp_bed_type_parse("", 0), -1);
    /* Only len bytes count. */
    assert_int_equal(bp_bed_type_parse("burnout", 4), BP_BED_BURN);
}

static void test_other_names(void **state) {
    (void)state;
    static const char *const ed[] = {"normal", "advisory", "diversion", "closed"};
    for (int i = 0; i < BP_ED__COUNT; i++) {
        assert_string_equal(bp_ed_status_name((bp_ed_status_t)i), ed[i]);
        assert_int_equal(bp_ed_status_parse(ed[i], strlen(ed[i])), i);
    }
    assert_null(bp_ed_status_name(BP_ED__COUNT));
    assert_int_equal(bp_ed_status_parse("busy", 4), -1);

    static const char *const amb[] = {"available_station", "available_radio", "dispatched",
                                      "on_scene",          "transporting",    "at_hospital",
                                      "out_of_service"};
    static const int fms[] = {2, 1, 3, 4, 7, 8, 6};
    for (int i = 0; i < BP_AMB__COUNT; i++) {
        assert_string_equal(bp_amb_status_name((bp_amb_status_t)i), amb[i]);
        assert_int_equal(bp_amb_status_parse(amb[i], strlen(amb[i])), i);
        assert_int_equal(bp_amb_status_fms((bp_amb_status_t)i), fms[i]);
    }
    assert_null(bp_amb_status_name(BP_AMB__COUNT));
    assert_int_equal(bp_amb_status_fms(BP_AMB__COUNT), -1);
    assert_int_equal(bp_amb_status_parse("available", 9), -1);

    static const char *const tiers[] = {"central", "city", "district", "private"};
    for (int i = 0; i < BP_TIER__COUNT; i++) {
        assert_string_equal(bp_tier_name((bp_tier_t)i), tiers[i]);
        assert_int_equal(bp_tier_parse(tiers[i], strlen(tiers[i])), i);
    }
    assert_null(bp_tier_name(BP_TIER__COUNT));
    assert_int_equal(bp_tier_parse("state", 5), -1);

    assert_string_equal(bp_freshness_name(BP_FRESH), "fresh");
    assert_string_equal(bp_freshness_name(BP_LATE), "late");
    assert_string_equal(bp_freshness_name(BP_STALE), "stale");
    assert_string_equal(bp_freshness_name(BP_NEVER_REPORTED), "never");
    assert_null(bp_freshness_name((bp_freshness_t)(BP_NEVER_REPORTED + 1)));
}

/* -- slug and text rules -------------------------------------------------- */

static void test_slugs(void **state) {
    (void)state;
    char s49[50];
    memset(s49, 'a', 49);
    s49[49] = '\0';
    assert_true(bp_is_slug("bach-mai", 8));
    assert_true(bp_is_slug("benh-vien-108", 13));
    assert_true(bp_is_slug(s49, 48));
    assert_false(bp_is_slug(s49, 49));
    assert_false(bp_is_slug("", 0));
    assert_false(bp_is_slug(NULL, 3));
    assert_false(bp_is_slug("Bach-Mai", 8));
    assert_false(bp_is_slug("bach mai", 8));
    assert_false(bp_is_slug("bach_mai", 8));
    assert_false(bp_is_slug("b\xc3\xa1"
                            "ch",
                            5));
    assert_false(bp_is_slug("bach\0mai", 8));

    assert_true(bp_is_callsign("115-HK-03", 9));
    assert_true(bp_is_callsign(s49, 32));
    assert_false(bp_is_callsign(s49, 33));
    assert_false(bp_is_callsign("115_HK", 6));
    assert_false(bp_is_callsign("115 HK", 6));
    assert_false(bp_is_callsign("", 0));

    char s65[66];
    memset(s65, 'x', 65);
    s65[65] = '\0';
    assert_true(bp_is_source("his-bach-mai", 12));
    assert_true(bp_is_source("avl.115:main_feed-2", 19));
    assert_true(bp_is_source(s65, 64));
    assert_false(bp_is_source(s65, 65));
    assert_false(bp_is_source("his bach", 8));
    assert_false(bp_is_source("his/bach", 8));
    assert_false(bp_is_source("", 0));
}

static bool clean(const char *s) {
    return bp_is_clean_text(s, strlen(s), BP_REASON_MAX);
}

static void test_clean_text(void **state) {
    (void)state;
    assert_true(clean(""));
    assert_true(clean("no ICU beds"));
    assert_true(clean("h\xe1\xba\xbft gi\xc6\xb0\xe1\xbb\x9dng ICU")); /* "hết giường ICU" */
    assert_true(clean("\xf0\x9f\x9a\x91 ambulance"));                  /* 4-byte emoji */
    assert_true(clean("\xc2\xa0"));                                    /* U+00A0 follows C1 */
    /* control characters, C0 and C1 and DEL */
    assert_false(clean("a\nb"));
    assert_false(clean("a\tb"));
    assert_false(clean("\x1b[31m"));
    assert_false(clean("a\x7f"));
    assert_false(clean("\xc2\x85"));
    assert_false(clean("\xc2\x9f"));
    assert_false(bp_is_clean_text("a\0b", 3, 10));
    /* bidi overrides and isolates */
    assert_false(clean("abc\xe2\x80\xae"
                       "cba"));          /* U+202E RLO */
    assert_false(clean("\xe2\x80\xaa")); /* U+202A LRE */
    assert_false(clean("\xe2\x81\xa6")); /* U+2066 LRI */
    assert_false(clean("\xe2\x81\xa9")); /* U+2069 PDI */
    assert_true(clean("\xe2\x80\xa9x")); /* U+2029 is not a bidi control */
    /* invalid UTF-8 */
    assert_false(clean("\xff"));
    assert_false(clean("\x80"));
    assert_false(clean("\xc3"));             /* truncated */
    assert_false(clean("\xe1\xba"));         /* truncated */
    assert_false(clean("\xc3\x28"));         /* bad continuation */
    assert_false(clean("\xc0\xaf"));         /* overlong '/' */
    assert_false(clean("\xc1\xbf"));         /* overlong */
    assert_false(clean("\xe0\x80\xaf"));     /* overlong */
    assert_false(clean("\xf0\x80\x80\xaf")); /* overlong */
    assert_false(clean("\xed\xa0\x80"));     /* surrogate U+D800 */
    assert_false(clean("\xf4\x90\x80\x80")); /* beyond U+10FFFF */
    assert_false(clean("\xf8\x88\x80\x80\x80"));
    /* length is in bytes */
    char s[BP_REASON_MAX + 2];
    memset(s, 'a', sizeof s - 1);
    s[sizeof s - 1] = '\0';
    assert_true(bp_is_clean_text(s, BP_REASON_MAX, BP_REASON_MAX));
    assert_false(bp_is_clean_text(s, BP_REASON_MAX + 1, BP_REASON_MAX));
    assert_false(bp_is_clean_text("\xc3\xa1\xc3\xa1", 4, 3));
}

/* -- derived figures ------------------------------------------------------ */

static void test_available_overflow(void **state) {
    (void)state;
    bp_beds_t over = {60, 63, 8}, under = {60, 50, 8}, full = {60, 60, 0};
    assert_int_equal(bp_beds_available(&over), 0);
    assert_int_equal(bp_beds_overflow(&over), 3);
    assert_int_equal(bp_beds_available(&under), 10);
    assert_int_equal(bp_beds_overflow(&under), 0);
    assert_int_equal(bp_beds_available(&full), 0);
    assert_int_equal(bp_beds_overflow(&full), 0);
    bp_beds_t no_occ = {60, -1, 8}, no_staff = {-1, 10, -1}, zero = {0, 0, -1};
    assert_int_equal(bp_beds_available(&no_occ), -1);
    assert_int_equal(bp_beds_overflow(&no_occ), -1);
    assert_int_equal(bp_beds_available(&no_staff), -1);
    assert_int_equal(bp_beds_overflow(&no_staff), -1);
    assert_int_equal(bp_beds_available(&zero), 0);
    assert_int_equal(bp_beds_overflow(&zero), 0);
}

static void test_totals_exclude_emergency_and_or(void **state) {
    (void)state;
    bp_hospital_state_t h = blank();
    set_beds(&h, BP_BED_EMERGENCY, 90, 140, 18);        /* excluded */
    set_beds(&h, BP_BED_OPERATING_ROOM, 60, 55, 3);     /* excluded */
    set_beds(&h, BP_BED_ICU_ADULT, 60, 63, 8);          /* overflow 3 */
    set_beds(&h, BP_BED_MEDICAL_SURGICAL, 100, 80, 10); /* available 20 */
    set_beds(&h, BP_BED_PEDIATRICS, 40, -1, 4);         /* occupancy unknown: skipped */
    set_beds(&h, BP_BED_BURN, 10, 5, -1);               /* surge unknown counts as 0 */
    h.beds[BP_BED_ISOLATION] = (bp_beds_t){30, 30, 9};  /* not in the mask: skipped */
    bp_totals_t t;
    bp_hospital_totals(&h, &t);
    assert_int_equal(t.types, 3);
    assert_int_equal(t.staffed, 170);
    assert_int_equal(t.occupied, 148);
    assert_int_equal(t.available, 25);
    assert_int_equal(t.overflow, 3);
    assert_int_equal(t.surge24, 18);
    assert_float_equal(bp_occupancy_pct(&t), 100.0 * 148 / 170, 1e-9);
}

static void test_occupancy_pct(void **state) {
    (void)state;
    bp_totals_t t;
    bp_hospital_state_t h = blank();
    bp_hospital_totals(&h, &t);
    assert_int_equal(t.types, 0);
    assert_float_equal(bp_occupancy_pct(&t), -1.0, 0);
    h = at_occupancy(1050);
    bp_hospital_totals(&h, &t);
    assert_float_equal(bp_occupancy_pct(&t), 105.0, 1e-9);
    /* Zero staffed: 0 % when empty, a sentinel far above any threshold when not. */
    h = blank();
    set_beds(&h, BP_BED_BURN, 0, 0, 0);
    bp_hospital_totals(&h, &t);
    assert_int_equal(t.types, 1);
    assert_float_equal(bp_occupancy_pct(&t), 0.0, 0);
    h.beds[BP_BED_BURN].occupied = 2;
    bp_hospital_totals(&h, &t);
    assert_true(bp_occupancy_pct(&t) >= 110.0);
}

static void test_pressure_boundaries(void **state) {
    (void)state;
    bp_hospital_state_t h;
    h = blank();
    assert_int_equal(level(&h), 1); /* nothing known */
    h = at_occupancy(0);
    assert_int_equal(level(&h), 1);
    h = at_occupancy(849); /* 84.9 % */
    assert_int_equal(level(&h), 1);
    h = at_occupancy(850); /* 85 % */
    assert_int_equal(level(&h), 2);
    h = at_occupancy(949);
    assert_int_equal(level(&h), 2);
    h = at_occupancy(950); /* 95 % */
    assert_int_equal(level(&h), 3);
    h = at_occupancy(1099);
    assert_int_equal(level(&h), 3);
    h = at_occupancy(1100); /* 110 % */
    assert_int_equal(level(&h), 4);
    h = at_occupancy(5000);
    assert_int_equal(level(&h), 4);
    /* ambulances waiting too long at the door: at least level 3 */
    h = at_occupancy(500);
    h.offload_delayed = true;
    assert_int_equal(level(&h), 3);
    h = at_occupancy(1200);
    h.offload_delayed = true;
    assert_int_equal(level(&h), 4);
}

static void test_pressure_custom_thresholds(void **state) {
    (void)state;
    const bp_pressure_cfg_t cfg = {50.0, 60.0, 70.0};
    bp_hospital_state_t h;
    h = at_occupancy(499);
    assert_int_equal(bp_pressure_level(&h, &cfg, 0), 1);
    h = at_occupancy(500);
    assert_int_equal(bp_pressure_level(&h, &cfg, 0), 2);
    h = at_occupancy(600);
    assert_int_equal(bp_pressure_level(&h, &cfg, 0), 3);
    h = at_occupancy(700);
    assert_int_equal(bp_pressure_level(&h, &cfg, 0), 4);
    /* the same hospital reads 1 with the defaults */
    assert_int_equal(level(&h), 1);
    const bp_pressure_cfg_t high = {100.0, 120.0, 150.0};
    h = at_occupancy(1100);
    assert_int_equal(bp_pressure_level(&h, &high, 0), 2);
}

static void test_pressure_ed_raises(void **state) {
    (void)state;
    bp_hospital_state_t h = at_occupancy(100);
    h.ed.status = BP_ED_ADVISORY;
    assert_int_equal(level(&h), 2);
    h.ed.status = BP_ED_DIVERSION;
    assert_int_equal(level(&h), 3);
    h.ed.status = BP_ED_CLOSED;
    assert_int_equal(level(&h), 4);
    /* raising never lowers */
    h = at_occupancy(960);
    h.ed.status = BP_ED_ADVISORY;
    assert_int_equal(level(&h), 3);
    h = at_occupancy(1200);
    h.ed.status = BP_ED_DIVERSION;
    assert_int_equal(level(&h), 4);
    h = at_occupancy(860);
    h.ed.status = BP_ED_DIVERSION;
    assert_int_equal(level(&h), 3);
    /* an expired diversion raises nothing */
    h = at_occupancy(100);
    h.ed.status = BP_ED_DIVERSION;
    h.ed.until_ms = 500;
    assert_int_equal(bp_pressure_level(&h, &bp_pressure_default, 499), 3);
    assert_int_equal(bp_pressure_level(&h, &bp_pressure_default, 500), 1);
}

static void test_pressure_full_adult_icu(void **state) {
    (void)state;
    bp_hospital_state_t h = at_occupancy(100); /* 10 % */
    set_beds(&h, BP_BED_ICU_ADULT, 10, 10, 1);
    assert_int_equal(level(&h), 3);
    h.beds[BP_BED_ICU_ADULT].occupied = 14; /* overfull */
    assert_int_equal(level(&h), 3);
    h.beds[BP_BED_ICU_ADULT].occupied = 9; /* one free */
    assert_int_equal(level(&h), 1);
    h.beds[BP_BED_ICU_ADULT].occupied = -1; /* unknown */
    assert_int_equal(level(&h), 1);
    h.beds[BP_BED_ICU_ADULT] = (bp_beds_t){0, 0, 0}; /* no adult ICU */
    assert_int_equal(level(&h), 1);
    /* other ICUs do not count */
    h = at_occupancy(100);
    set_beds(&h, BP_BED_ICU_PEDIATRIC, 5, 5, 0);
    assert_int_equal(level(&h), 1);
    /* already 4 stays 4 */
    h = at_occupancy(1200);
    set_beds(&h, BP_BED_ICU_ADULT, 10, 10, 1);
    assert_int_equal(level(&h), 4);
    /* a full ICU that is not in the mask is not known */
    h = at_occupancy(100);
    h.beds[BP_BED_ICU_ADULT] = (bp_beds_t){10, 10, 1};
    assert_int_equal(level(&h), 1);
}

/* -- expiry and freshness ------------------------------------------------- */

static void test_ed_effective(void **state) {
    (void)state;
    bp_ed_t ed = {.status = BP_ED_DIVERSION, .until_ms = 10000, .waiting = 3};
    assert_int_equal(bp_ed_effective(&ed, 9999), BP_ED_DIVERSION);
    assert_int_equal(bp_ed_effective(&ed, 10000), BP_ED_NORMAL);
    assert_int_equal(bp_ed_effective(&ed, 1795309200000LL), BP_ED_NORMAL);
    ed.status = BP_ED_CLOSED;
    assert_int_equal(bp_ed_effective(&ed, 20000), BP_ED_NORMAL);
    ed.status = BP_ED_ADVISORY;
    assert_int_equal(bp_ed_effective(&ed, 20000), BP_ED_NORMAL);
    /* until 0 never expires */
    ed.until_ms = 0;
    ed.status = BP_ED_DIVERSION;
    assert_int_equal(bp_ed_effective(&ed, INT64_MAX), BP_ED_DIVERSION);
    ed.status = BP_ED_NORMAL;
    assert_int_equal(bp_ed_effective(&ed, 0), BP_ED_NORMAL);
}

static void test_freshness(void **state) {
    (void)state;
    const int64_t at = 1795309200000LL, iv = 900; /* 15 minutes */
    assert_int_equal(bp_freshness(0, iv, at), BP_NEVER_REPORTED);
    assert_int_equal(bp_freshness(at, iv, at), BP_FRESH);
    assert_int_equal(bp_freshness(at, iv, at + 900000), BP_FRESH); /* exactly 1x */
    assert_int_equal(bp_freshness(at, iv, at + 900001), BP_LATE);
    assert_int_equal(bp_freshness(at, iv, at + 1800000), BP_LATE); /* exactly 2x */
    assert_int_equal(bp_freshness(at, iv, at + 1800001), BP_STALE);
    assert_int_equal(bp_freshness(at, iv, at + 86400000), BP_STALE);
    /* a source time in the future counts as now */
    assert_int_equal(bp_freshness(at + 3600000, iv, at), BP_FRESH);
    assert_int_equal(bp_freshness(at, 60, at + 60001), BP_LATE);
}

/* -- merges --------------------------------------------------------------- */

static void test_inits(void **state) {
    (void)state;
    bp_hospital_state_t h = blank();
    assert_int_equal(h.version, 0);
    assert_int_equal(h.beds_mask, 0);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        assert_int_equal(h.beds[t].staffed, -1);
        assert_int_equal(h.beds[t].occupied, -1);
        assert_int_equal(h.beds[t].surge24, -1);
    }
    assert_int_equal(h.ed.status, BP_ED_NORMAL);
    assert_int_equal(h.ed.waiting, -1);
    bp_ambulance_state_t a;
    bp_ambulance_state_init(&a);
    assert_int_equal(a.status, BP_AMB_AVAILABLE_STATION);
    assert_false(a.has_position);
    assert_float_equal(a.heading, -1, 0);
    assert_float_equal(a.speed, -1, 0);
    bp_change_t c;
    bp_change_init(&c, BP_KIND_AMBULANCE);
    assert_int_equal(c.kind, BP_KIND_AMBULANCE);
    assert_int_equal(c.seq, -1);
    assert_int_equal(c.ed.waiting, -1);
    assert_int_equal(c.beds[BP_BED_BURN].occupied, -1);
    assert_float_equal(c.amb.heading, -1, 0);
}

/* A state as after some reports: two bed types and a diversion. */
static bp_hospital_state_t reported(void) {
    bp_hospital_state_t h = blank();
    set_beds(&h, BP_BED_ICU_ADULT, 60, 50, 8);
    set_beds(&h, BP_BED_MEDICAL_SURGICAL, 1170, 900, 117);
    h.ed = (bp_ed_t){.status = BP_ED_DIVERSION, .until_ms = 5000, .waiting = 12};
    snprintf(h.ed.reason, sizeof h.ed.reason, "no ICU beds");
    h.version = 41;
    h.at_ms = 1000;
    h.updated_ms = 1001;
    snprintf(h.source, sizeof h.source, "his-old");
    return h;
}

static void test_hospital_apply_partial(void **state) {
    (void)state;
    bp_hospital_state_t h = reported();
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.source, sizeof c.source, "his-bach-mai");
    c.at_ms = 2000;
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_OCCUPIED;
    c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){-1, 63, -1};
    bp_hospital_apply(&h, &c);
    /* occupied changed; staffed and surge24 kept */
    assert_int_equal(h.beds[BP_BED_ICU_ADULT].staffed, 60);
    assert_int_equal(h.beds[BP_BED_ICU_ADULT].occupied, 63);
    assert_int_equal(h.beds[BP_BED_ICU_ADULT].surge24, 8);
    /* other bed types and the ED untouched */
    assert_int_equal(h.beds[BP_BED_MEDICAL_SURGICAL].staffed, 1170);
    assert_int_equal(h.beds[BP_BED_MEDICAL_SURGICAL].occupied, 900);
    assert_int_equal(h.beds[BP_BED_MEDICAL_SURGICAL].surge24, 117);
    assert_int_equal(h.beds_mask, (1u << BP_BED_ICU_ADULT) | (1u << BP_BED_MEDICAL_SURGICAL));
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (t == BP_BED_ICU_ADULT || t == BP_BED_MEDICAL_SURGICAL) continue;
        assert_int_equal(h.beds[t].occupied, -1);
    }
    assert_int_equal(h.ed.status, BP_ED_DIVERSION);
    assert_string_equal(h.ed.reason, "no ICU beds");
    assert_int_equal(h.ed.until_ms, 5000);
    assert_int_equal(h.ed.waiting, 12);
    /* stamp: version + 1, at and source from the change, updated kept (0 in change) */
    assert_int_equal(h.version, 42);
    assert_int_equal(h.at_ms, 2000);
    assert_int_equal(h.updated_ms, 1001);
    assert_string_equal(h.source, "his-bach-mai");

    /* staffed and surge24 alone, occupied kept */
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_SURGE24;
    c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){70, 1, 9};
    bp_hospital_apply(&h, &c);
    assert_int_equal(h.beds[BP_BED_ICU_ADULT].staffed, 70);
    assert_int_equal(h.beds[BP_BED_ICU_ADULT].occupied, 63);
    assert_int_equal(h.beds[BP_BED_ICU_ADULT].surge24, 9);
    assert_int_equal(h.version, 43);
    assert_int_equal(h.at_ms, 2000); /* 0 in the change keeps it */
}

static void test_hospital_apply_new_bed_type(void **state) {
    (void)state;
    bp_hospital_state_t h = reported();
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.bed_fields[BP_BED_BURN] = BP_BF_OCCUPIED;
    c.beds[BP_BED_BURN] = (bp_beds_t){-1, 4, -1};
    bp_hospital_apply(&h, &c);
    assert_true(h.beds_mask & (1u << BP_BED_BURN));
    assert_int_equal(h.beds[BP_BED_BURN].occupied, 4);
    assert_int_equal(h.beds[BP_BED_BURN].staffed, -1);
    assert_int_equal(bp_beds_available(&h.beds[BP_BED_BURN]), -1);
}

static void test_hospital_apply_ed_replaced_whole(void **state) {
    (void)state;
    bp_hospital_state_t h = reported();
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.has_ed = true;
    c.ed.status = BP_ED_ADVISORY;
    c.ed.waiting = -1;
    bp_hospital_apply(&h, &c);
    /* the old reason, until and waiting are gone */
    assert_int_equal(h.ed.status, BP_ED_ADVISORY);
    assert_string_equal(h.ed.reason, "");
    assert_int_equal(h.ed.until_ms, 0);
    assert_int_equal(h.ed.waiting, -1);
    /* beds untouched */
    assert_int_equal(h.beds[BP_BED_ICU_ADULT].occupied, 50);
}

static void test_hospital_apply_version_from_change(void **state) {
    (void)state;
    bp_hospital_state_t h = reported();
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    c.version = 7; /* read back from the stream: the state's version after it */
    c.at_ms = 3000;
    c.updated_ms = 3005;
    snprintf(c.source, sizeof c.source, "s2");
    bp_hospital_apply(&h, &c);
    assert_int_equal(h.version, 7);
    assert_int_equal(h.at_ms, 3000);
    assert_int_equal(h.updated_ms, 3005);
    assert_string_equal(h.source, "s2");
    /* a confirmation ("no change") still only stamps */
    assert_int_equal(h.beds[BP_BED_ICU_ADULT].occupied, 50);
    assert_int_equal(h.ed.status, BP_ED_DIVERSION);
}

static void test_ambulance_apply_flagged_only(void **state) {
    (void)state;
    bp_ambulance_state_t a;
    bp_ambulance_state_init(&a);
    a.status = BP_AMB_DISPATCHED;
    a.has_position = true;
    a.lat = 21.0;
    a.lon = 105.8;
    a.heading = 90;
    a.speed = 30;
    snprintf(a.destination, sizeof a.destination, "bach-mai");
    snprintf(a.incident, sizeof a.incident, "INC-1");
    a.version = 3;

    bp_change_t c;
    bp_change_init(&c, BP_KIND_AMBULANCE);
    c.amb_fields = BP_AF_STATUS;
    c.amb.status = BP_AMB_TRANSPORTING;
    c.amb.lat = 1; /* not flagged: ignored */
    c.amb.speed = 99;
    bp_ambulance_apply(&a, &c);
    assert_int_equal(a.status, BP_AMB_TRANSPORTING);
    assert_float_equal(a.lat, 21.0, 0);
    assert_float_equal(a.lon, 105.8, 0);
    assert_float_equal(a.heading, 90, 0);
    assert_float_equal(a.speed, 30, 0);
    assert_string_equal(a.destination, "bach-mai");
    assert_string_equal(a.incident, "INC-1");
    assert_int_equal(a.version, 4);

    bp_change_init(&c, BP_KIND_AMBULANCE);
    c.amb_fields = BP_AF_POSITION | BP_AF_DESTINATION | BP_AF_SPEED;
    c.amb.lat = 21.0285;
    c.amb.lon = 105.8542;
    c.amb.speed = 42;
    c.amb.destination[0] = '\0'; /* cleared */
    bp_ambulance_apply(&a, &c);
    assert_true(a.has_position);
    assert_float_equal(a.lat, 21.0285, 0);
    assert_float_equal(a.lon, 105.8542, 0);
    assert_float_equal(a.speed, 42, 0);
    assert_float_equal(a.heading, 90, 0);
    assert_string_equal(a.destination, "");
    assert_string_equal(a.incident, "INC-1");
    assert_int_equal(a.status, BP_AMB_TRANSPORTING);
    assert_int_equal(a.version, 5);

    bp_change_init(&c, BP_KIND_AMBULANCE);
    c.amb_fields = BP_AF_HEADING | BP_AF_INCIDENT;
    c.amb.heading = 135;
    c.version = 10;
    bp_ambulance_apply(&a, &c);
    assert_float_equal(a.heading, 135, 0);
    assert_string_equal(a.incident, "");
    assert_int_equal(a.version, 10);
}

static void test_incident_names_and_ids(void **state) {
    (void)state;
    assert_string_equal(bp_category_name(BP_CAT_RESPIRATORY), "respiratory");
    assert_null(bp_category_name(BP_CAT__COUNT));
    assert_int_equal(bp_category_parse("burn", 4), BP_CAT_BURN);
    assert_int_equal(bp_category_parse("burns", 5), -1);
    assert_int_equal(bp_category_parse("bur", 3), -1);
    assert_string_equal(bp_inc_action_name(BP_INC_CLOSE), "close");
    assert_null(bp_inc_action_name(BP_INC__COUNT));
    assert_int_equal(bp_inc_action_parse("create", 6), BP_INC_CREATE);
    assert_int_equal(bp_inc_action_parse("update", 6), BP_INC_UPDATE);
    assert_int_equal(bp_inc_action_parse("Close", 5), -1);
    assert_true(bp_is_incident_id("INC-2211-0042", 13));
    assert_true(bp_is_incident_id("a", 1));
    assert_false(bp_is_incident_id("", 0));
    assert_false(bp_is_incident_id("INC_1", 5));
    assert_false(bp_is_incident_id("INC 1", 5));
    char id[66];
    memset(id, 'x', 65);
    id[65] = '\0';
    assert_true(bp_is_incident_id(id, 64));
    assert_false(bp_is_incident_id(id, 65));
}

static void test_incident_apply(void **state) {
    (void)state;
    bp_incident_state_t s;
    bp_incident_state_init(&s, "INC-1");
    assert_string_equal(s.id, "INC-1");
    assert_int_equal(s.version, 0);
    bp_change_t c;
    bp_change_init(&c, BP_KIND_INCIDENT);
    snprintf(c.id, sizeof c.id, "INC-1");
    c.at_ms = 1000;
    c.inc_action = BP_INC_CREATE;
    c.inc_fields = BP_IF_PRIORITY | BP_IF_CATEGORY | BP_IF_POSITION | BP_IF_UNIT;
    c.inc.priority = 1;
    c.inc.category = BP_CAT_CARDIAC;
    c.inc.lat = 21.0;
    c.inc.lon = 105.8;
    snprintf(c.inc.unit, sizeof c.inc.unit, "115-HK-03");
    c.inc.address[0] = 'x'; /* not flagged: ignored */
    bp_incident_apply(&s, &c);
    assert_int_equal(s.version, 1);
    assert_int_equal(s.opened_ms, 1000);
    assert_int_equal(s.category, BP_CAT_CARDIAC);
    assert_string_equal(s.unit, "115-HK-03");
    assert_string_equal(s.address, "");
    /* an update: flagged fields only; cleared text stays flagged */
    bp_change_init(&c, BP_KIND_INCIDENT);
    c.at_ms = 2000;
    c.inc_fields = BP_IF_UNIT | BP_IF_RECEIVED;
    c.inc.received_ms = 900;
    c.inc.priority = 3; /* not flagged */
    bp_incident_apply(&s, &c);
    assert_string_equal(s.unit, "");
    assert_int_equal(s.received_ms, 900);
    assert_int_equal(s.priority, 1);
    assert_int_equal(s.opened_ms, 1000);
    assert_int_equal(s.at_ms, 2000);
    assert_int_equal(s.version, 2);
    /* a create again starts afresh, the version keeps counting */
    bp_change_init(&c, BP_KIND_INCIDENT);
    snprintf(c.id, sizeof c.id, "INC-1");
    c.at_ms = 3000;
    c.inc_action = BP_INC_CREATE;
    c.inc_fields = BP_IF_PRIORITY;
    c.inc.priority = 2;
    bp_incident_apply(&s, &c);
    assert_int_equal(s.version, 3);
    assert_int_equal(s.opened_ms, 3000);
    assert_int_equal(s.received_ms, 0);
    assert_int_equal(s.category, BP_CAT_OTHER);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bed_type_names),
        cmocka_unit_test(test_other_names),
        cmocka_unit_test(test_slugs),
        cmocka_unit_test(test_clean_text),
        cmocka_unit_test(test_available_overflow),
        cmocka_unit_test(test_totals_exclude_emergency_and_or),
        cmocka_unit_test(test_occupancy_pct),
        cmocka_unit_test(test_pressure_boundaries),
        cmocka_unit_test(test_pressure_custom_thresholds),
        cmocka_unit_test(test_pressure_ed_raises),
        cmocka_unit_test(test_pressure_full_adult_icu),
        cmocka_unit_test(test_ed_effective),
        cmocka_unit_test(test_freshness),
        cmocka_unit_test(test_inits),
        cmocka_unit_test(test_hospital_apply_partial),
        cmocka_unit_test(test_hospital_apply_new_bed_type),
        cmocka_unit_test(test_hospital_apply_ed_replaced_whole),
        cmocka_unit_test(test_hospital_apply_version_from_change),
        cmocka_unit_test(test_ambulance_apply_flagged_only),
        cmocka_unit_test(test_incident_names_and_ids),
        cmocka_unit_test(test_incident_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
