/*
 * Tests for bp_registry and the registry loaders in bp_codec: the real
 * config files load with sane totals and working lookups, and broken
 * registry files are rejected naming the field.
 */
#include "test_util.h"

#include <math.h>

static bp_registry_t real;

static int load_real(void **state) {
    (void)state;
    tu_load_registry(&real);
    return 0;
}

static int free_real(void **state) {
    (void)state;
    bp_registry_free(&real);
    return 0;
}

static int hosp(const char *id) {
    return bp_registry_hospital(&real, id, strlen(id));
}

/* -- the real files ------------------------------------------------------- */

static void test_real_counts(void **state) {
    (void)state;
    assert_true(real.n_hospitals >= 50);
    assert_int_equal(real.n_districts, 30);
    assert_int_equal(real.n_stations, 8);
    assert_int_equal(real.n_units, 62);
    int64_t total = bp_registry_staffed_total(&real);
    assert_in_range(total, 21500, 24000);
    /* the total is the sum over hospitals and bed types */
    int64_t sum = 0;
    for (size_t i = 0; i < real.n_hospitals; i++)
        for (int t = 0; t < BP_BED__COUNT; t++)
            if (real.hospitals[i].beds_mask & (1u << t)) sum += real.hospitals[i].staffed[t];
    assert_int_equal(sum, total);
    /* every tier is represented */
    int tiers[BP_TIER__COUNT] = {0};
    for (size_t i = 0; i < real.n_hospitals; i++)
        tiers[real.hospitals[i].tier]++;
    for (int t = 0; t < BP_TIER__COUNT; t++)
        assert_true(tiers[t] > 0);
}

static void test_real_bach_mai(void **state) {
    (void)state;
    int i = hosp("bach-mai");
    assert_true(i >= 0);
    const bp_hospital_info_t *h = &real.hospitals[i];
    assert_string_equal(h->id, "bach-mai");
    assert_string_equal(h->name.en, "Bach Mai Hospital");
    assert_string_equal(h->name.vi, "B\xe1\xbb\x87nh vi\xe1\xbb\x87n B\xe1\xba\xa1"
                                    "ch Mai");
    assert_int_equal(h->tier, BP_TIER_CENTRAL);
    assert_string_equal(real.districts[h->district].id, "dong-da");
    assert_float_equal(h->lat, 21.001, 1e-9);
    assert_float_equal(h->lon, 105.8407, 1e-9);
    assert_int_equal(h->report_interval_s, 900);
    assert_int_equal(h->sister, -1);
    assert_string_equal(h->phone, "+84 24 3869 3731");
    assert_true(h->specialties & (1u << BP_SPEC_CARDIOLOGY));
    assert_true(h->specialties & (1u << BP_SPEC_TOXICOLOGY));
    assert_false(h->specialties & (1u << BP_SPEC_BURNS));
    assert_true(h->beds_mask & (1u << BP_BED_ICU_ADULT));
    assert_false(h->beds_mask & (1u << BP_BED_BURN));
    assert_int_equal(h->staffed[BP_BED_ICU_ADULT], 75);
    assert_int_equal(h->surge24[BP_BED_ICU_ADULT], 8);
    assert_int_equal(h->staffed[BP_BED_MEDICAL_SURGICAL], 1170);
}

static void test_real_lookups(void **state) {
    (void)state;
    /* every hospital, unit, district and station finds itself */
    for (size_t i = 0; i < real.n_hospitals; i++) {
        const char *id = real.hospitals[i].id;
        assert_int_equal(bp_registry_hospital(&real, id, strlen(id)), (int)i);
    }
    for (size_t i = 0; i < real.n_units; i++) {
        const char *id = real.units[i].id;
        assert_int_equal(bp_registry_unit(&real, id, strlen(id)), (int)i);
    }
    for (size_t i = 0; i < real.n_districts; i++) {
        const char *id = real.districts[i].id;
        assert_int_equal(bp_registry_district(&real, id, strlen(id)), (int)i);
    }
    for (size_t i = 0; i < real.n_stations; i++) {
        const char *id = real.stations[i].id;
        assert_int_equal(bp_registry_station(&real, id, strlen(id)), (int)i);
    }
    assert_true(hosp("viet-duc") >= 0);
    assert_string_equal(real.hospitals[hosp("viet-duc")].id, "viet-duc");
    int u = bp_registry_unit(&real, "115-HK-03", 9);
    assert_true(u >= 0);
    assert_string_equal(real.units[u].id, "115-HK-03");
    assert_string_equal(real.stations[real.units[u].station].id, "hoan-kiem");
    int s = bp_registry_station(&real, "tu-liem", 7);
    assert_true(s >= 0);
    assert_string_equal(real.districts[real.stations[s].district].id, "nam-tu-liem");
}

static void test_real_unknown_ids(void **state) {
    (void)state;
    assert_int_equal(hosp("nope"), -1);
    assert_int_equal(hosp(""), -1);
    assert_int_equal(hosp("bach"), -1);       /* a prefix of an id */
    assert_int_equal(hosp("bach-mai-x"), -1); /* an id is a prefix of it */
    assert_int_equal(hosp("Bach-Mai"), -1);
    assert_int_equal(hosp("aaaa"), -1); /* before every id */
    assert_int_equal(hosp("zzzz"), -1); /* after every id */
    assert_int_equal(bp_registry_unit(&real, "115-HK-99", 9), -1);
    assert_int_equal(bp_registry_unit(&real, "115-hk-03", 9), -1);
    assert_int_equal(bp_registry_unit(&real, "bach-mai", 8), -1); /* wrong table */
    assert_int_equal(bp_registry_district(&real, "bach-mai", 8), -1);
    assert_int_equal(bp_registry_station(&real, "dong-anh-x", 10), -1);
    /* longer than any id can be */
    char big[200];
    memset(big, 'a', sizeof big);
    assert_int_equal(bp_registry_hospital(&real, big, sizeof big), -1);
}

/* Lookups read exactly len bytes: no more, and an embedded NUL is not the
 * end of the id (a URL like /hospitals/bach-mai%00x names no hospital). */
static void test_lookup_uses_exact_length(void **state) {
    (void)state;
    assert_int_equal(bp_registry_hospital(&real, "bach-maiXYZ", 8), hosp("bach-mai"));
    assert_int_equal(bp_registry_hospital(&real, "bach-mai", 7), -1);
    assert_int_equal(bp_registry_hospital(&real, "bach-mai\0x", 10), -1);
    assert_int_equal(bp_registry_hospital(&real, "bach-mai\0", 9), -1);
    assert_int_equal(bp_registry_unit(&real, "115-HK-03\0\0", 11), -1);
}

static void test_real_sister(void **state) {
    (void)state;
    int i = hosp("dong-anh");
    assert_true(i >= 0);
    int s = real.hospitals[i].sister;
    assert_true(s >= 0);
    assert_string_equal(real.hospitals[s].id, "tim-ha-noi");
    /* every sister is another hospital of the registry */
    int with_sister = 0;
    for (size_t k = 0; k < real.n_hospitals; k++) {
        int sk = real.hospitals[k].sister;
        if (sk < 0) continue;
        with_sister++;
        assert_true((size_t)sk < real.n_hospitals);
        assert_int_not_equal(sk, (int)k);
    }
    assert_true(with_sister > 0);
}

static void test_base_state(void **state) {
    (void)state;
    const bp_hospital_info_t *h = &real.hospitals[hosp("viet-duc")];
    bp_hospital_state_t st;
    memset(&st, 0x5a, sizeof st);
    bp_registry_base_state(h, &st);
    assert_int_equal(st.version, 0);
    assert_int_equal(st.at_ms, 0);
    assert_int_equal(st.beds_mask, h->beds_mask);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (h->beds_mask & (1u << t)) {
            assert_int_equal(st.beds[t].staffed, h->staffed[t]);
            assert_int_equal(st.beds[t].surge24, h->surge24[t]);
        } else {
            assert_int_equal(st.beds[t].staffed, -1);
        }
        assert_int_equal(st.beds[t].occupied, -1);
    }
    assert_int_equal(st.beds[BP_BED_OPERATING_ROOM].staffed, 52);
    assert_int_equal(st.ed.status, BP_ED_NORMAL);
    assert_int_equal(st.ed.waiting, -1);
    assert_string_equal(st.source, "");
}

static void test_specialties(void **state) {
    (void)state;
    for (int s = 0; s < BP_SPEC__COUNT; s++) {
        const char *n = bp_specialty_name((bp_specialty_t)s);
        assert_non_null(n);
        assert_int_equal(bp_specialty_parse(n, strlen(n)), s);
    }
    assert_null(bp_specialty_name(BP_SPEC__COUNT));
    assert_int_equal(bp_specialty_parse("dentistry", 9), -1);
    assert_int_equal(bp_specialty_parse("ent", 3), BP_SPEC_ENT);
    assert_int_equal(bp_specialty_parse("ents", 4), -1);
}

/* -- small inline registries ---------------------------------------------- */

/* One hospital entry; fields can be swapped by the tests below. */
#define DISTRICTS                                                                                  \
    "\"districts\":{\"dong-da\":{\"vi\":\"\xc4\x90\xe1\xbb\x91ng \xc4\x90"                         \
    "a\",\"en\":\"Dong Da\"},"                                                                     \
    "\"hoan-kiem\":{\"vi\":\"Ho\xc3\xa0n Ki\xe1\xba\xbfm\",\"en\":\"Hoan Kiem\"}}"
#define HOSP(id, district, specs, sister, extra)                                                   \
    "{\"id\":\"" id "\",\"name\":{\"vi\":\"B\xe1\xbb\x87nh vi\xe1\xbb\x87n " id                    \
    "\",\"en\":\"Hospital " id "\"},\"tier\":\"city\",\"district\":\"" district                    \
    "\",\"lat\":21.0,\"lon\":105.8,\"specialties\":[" specs "],\"sister\":" sister                 \
    ",\"phone\":\"\",\"report_interval_s\":900," extra                                             \
    "\"beds\":{\"icu_adult\":{\"staffed\":10,\"surge24\":1},"                                      \
    "\"medical_surgical\":{\"staffed\":100,\"surge24\":10}}}"

static int load_hospitals(const char *json, bp_registry_t *reg, bp_error_t *err) {
    memset(reg, 0, sizeof *reg);
    memset(err, 0, sizeof *err);
    return bp_codec_parse_hospitals(json, strlen(json), reg, err);
}

static void expect_hospitals_error(const char *json, const char *code, const char *field) {
    bp_registry_t reg;
    bp_error_t err;
    int rc = load_hospitals(json, &reg, &err);
    bp_registry_free(&reg);
    if (rc == 0) fail_msg("accepted, expected %s at %s", code, field);
    assert_string_equal(err.code, code);
    assert_string_equal(err.field, field);
    assert_true(strlen(err.message) > 0);
}

static void test_inline_ok(void **state) {
    (void)state;
    const char *json =
        "{\"note\":\"x\"," DISTRICTS
        ",\"hospitals\":[" HOSP("a-one", "dong-da", "\"cardiology\"", "null",
                                "") "," HOSP("b-two", "hoan-kiem", "", "\"a-one\"", "") "]}";
    bp_registry_t reg;
    bp_error_t err;
    int rc = load_hospitals(json, &reg, &err);
    if (rc) fail_msg("%s at %s: %s", err.code, err.field, err.message);
    assert_int_equal(reg.n_hospitals, 2);
    assert_int_equal(reg.n_districts, 2);
    int a = bp_registry_hospital(&reg, "a-one", 5), b = bp_registry_hospital(&reg, "b-two", 5);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(reg.hospitals[b].sister, a);
    assert_int_equal(reg.hospitals[a].sister, -1);
    assert_int_equal(reg.hospitals[a].specialties, 1u << BP_SPEC_CARDIOLOGY);
    assert_string_equal(reg.districts[reg.hospitals[b].district].id, "hoan-kiem");
    assert_int_equal(bp_registry_staffed_total(&reg), 220);
    bp_registry_free(&reg);
    assert_null(reg.hospitals);
    bp_registry_free(&reg); /* twice is fine */
    bp_registry_free(NULL);
}

/* have_id: how partner systems name a hospital in EDXL-HAVE (xnl:ID) */
static void test_inline_have_id(void **state) {
    (void)state;
    const char *json = "{" DISTRICTS ",\"hospitals\":[" HOSP(
        "a-one", "dong-da", "", "null",
        "\"have_id\":\"urn:hn:BV-01\",") "," HOSP("b-two", "hoan-kiem", "", "null", "") "]}";
    bp_registry_t reg;
    bp_error_t err;
    int rc = load_hospitals(json, &reg, &err);
    if (rc) fail_msg("%s at %s: %s", err.code, err.field, err.message);
    assert_string_equal(reg.hospitals[0].have_id, "urn:hn:BV-01");
    assert_string_equal(reg.hospitals[1].have_id, "");
    assert_int_equal(bp_registry_hospital_external(&reg, "urn:hn:BV-01", 12), 0);
    assert_int_equal(bp_registry_hospital_external(&reg, "a-one", 5), 0); /* our id works too */
    assert_int_equal(bp_registry_hospital_external(&reg, "b-two", 5), 1);
    assert_int_equal(bp_registry_hospital_external(&reg, "urn:hn:BV-0", 11), -1);
    assert_int_equal(bp_registry_hospital_external(&reg, "urn:hn:BV-01\0", 13), -1);
    assert_int_equal(bp_registry_hospital_external(&reg, "", 0), -1);
    bp_registry_free(&reg);
    expect_hospitals_error("{" DISTRICTS ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "null",
                                                                 "\"have_id\":\"has space\",") "]}",
                           "bad_value", "hospitals[0].have_id");
    expect_hospitals_error("{" DISTRICTS ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "null",
                                                                 "\"have_id\":7,") "]}",
                           "bad_value", "hospitals[0].have_id");
    /* one hospital per name: not another's have_id, nor another's id */
    expect_hospitals_error(
        "{" DISTRICTS
        ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "null", "\"have_id\":\"X1\",") "," HOSP(
            "b-two", "dong-da", "", "null", "\"have_id\":\"X1\",") "]}",
        "duplicate_id", "hospitals[1].have_id");
    expect_hospitals_error(
        "{" DISTRICTS
        ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "null", "\"have_id\":\"b-two\",") "," HOSP(
            "b-two", "dong-da", "", "null", "") "]}",
        "duplicate_id", "hospitals[0].have_id");
}

static void test_inline_duplicate_id(void **state) {
    (void)state;
    expect_hospitals_error("{" DISTRICTS
                           ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "null", "") "," HOSP(
                               "a-one", "hoan-kiem", "", "null", "") "]}",
                           "duplicate_id", "hospitals");
}

static void test_inline_unknown_district(void **state) {
    (void)state;
    expect_hospitals_error("{" DISTRICTS
                           ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "null", "") "," HOSP(
                               "b-two", "ba-dinh", "", "null", "") "]}",
                           "unknown_district", "hospitals[1].district");
}

static void test_inline_unknown_specialty(void **state) {
    (void)state;
    expect_hospitals_error("{" DISTRICTS ",\"hospitals\":[" HOSP(
                               "a-one", "dong-da", "\"cardiology\",\"dentistry\"", "null", "") "]}",
                           "bad_value", "hospitals[0].specialties");
    expect_hospitals_error("{" DISTRICTS ",\"hospitals\":[" HOSP(
                               "a-one", "dong-da", "\"stroke\",\"stroke\"", "null", "") "]}",
                           "duplicate_field", "hospitals[0].specialties");
}

static void test_inline_bad_sister(void **state) {
    (void)state;
    expect_hospitals_error("{" DISTRICTS
                           ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "null", "") "," HOSP(
                               "b-two", "dong-da", "", "\"c-three\"", "") "]}",
                           "unknown_hospital", "hospitals[1].sister");
    /* a hospital is not its own sister */
    expect_hospitals_error("{" DISTRICTS
                           ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "\"a-one\"", "") "]}",
                           "unknown_hospital", "hospitals[0].sister");
    expect_hospitals_error(
        "{" DISTRICTS ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "\"Not A Slug\"", "") "]}",
        "bad_value", "hospitals[0].sister");
}

static void test_inline_missing_field(void **state) {
    (void)state;
    /* no "phone" */
    expect_hospitals_error(
        "{" DISTRICTS ",\"hospitals\":[{\"id\":\"a-one\",\"name\":{\"vi\":\"A\",\"en\":\"A\"},"
        "\"tier\":\"city\",\"district\":\"dong-da\",\"lat\":21,\"lon\":105,\"specialties\":[],"
        "\"sister\":null,\"report_interval_s\":900,\"beds\":{}}]}",
        "missing_field", "hospitals[0].phone");
    /* a name without "en" */
    expect_hospitals_error(
        "{" DISTRICTS ",\"hospitals\":[{\"id\":\"a-one\",\"name\":{\"vi\":\"A\"},"
        "\"tier\":\"city\",\"district\":\"dong-da\",\"lat\":21,\"lon\":105,\"specialties\":[],"
        "\"sister\":null,\"phone\":\"\",\"report_interval_s\":900,\"beds\":{}}]}",
        "missing_field", "hospitals[0].name.en");
    /* a bed type without surge24 */
    expect_hospitals_error(
        "{" DISTRICTS ",\"hospitals\":[{\"id\":\"a-one\",\"name\":{\"vi\":\"A\",\"en\":\"A\"},"
        "\"tier\":\"city\",\"district\":\"dong-da\",\"lat\":21,\"lon\":105,\"specialties\":[],"
        "\"sister\":null,\"phone\":\"\",\"report_interval_s\":900,"
        "\"beds\":{\"burn\":{\"staffed\":3}}}]}",
        "missing_field", "hospitals[0].beds.burn");
    /* no "hospitals" at all */
    expect_hospitals_error("{" DISTRICTS "}", "missing_field", "hospitals");
}

static void test_inline_bad_values(void **state) {
    (void)state;
    expect_hospitals_error("{" DISTRICTS ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "null",
                                                                 "\"website\":\"x\",") "]}",
                           "unknown_field", "hospitals[0].website");
    expect_hospitals_error("{" DISTRICTS
                           ",\"hospitals\":[" HOSP("A-One", "dong-da", "", "null", "") "]}",
                           "bad_value", "hospitals[0].id");
    expect_hospitals_error(
        "{" DISTRICTS ",\"hospitals\":[{\"id\":\"a-one\",\"name\":{\"vi\":\"A\",\"en\":\"A\"},"
        "\"tier\":\"city\",\"district\":\"dong-da\",\"lat\":21,\"lon\":105,\"specialties\":[],"
        "\"sister\":null,\"phone\":\"\",\"report_interval_s\":900,"
        "\"beds\":{\"icu_adult\":{\"staffed\":-1,\"surge24\":0}}}]}",
        "out_of_range", "hospitals[0].beds.icu_adult.staffed");
    expect_hospitals_error(
        "{" DISTRICTS ",\"hospitals\":[{\"id\":\"a-one\",\"name\":{\"vi\":\"A\",\"en\":\"A\"},"
        "\"tier\":\"city\",\"district\":\"dong-da\",\"lat\":21,\"lon\":105,\"specialties\":[],"
        "\"sister\":null,\"phone\":\"\",\"report_interval_s\":900,"
        "\"beds\":{\"icu\":{\"staffed\":1,\"surge24\":0}}}]}",
        "unknown_bed_type", "hospitals[0].beds.icu");
    expect_hospitals_error(
        "{" DISTRICTS ",\"hospitals\":[{\"id\":\"a-one\",\"name\":{\"vi\":\"A\",\"en\":\"A\"},"
        "\"tier\":\"state\",\"district\":\"dong-da\",\"lat\":21,\"lon\":105,\"specialties\":[],"
        "\"sister\":null,\"phone\":\"\",\"report_interval_s\":900,\"beds\":{}}]}",
        "bad_value", "hospitals[0].tier");
    expect_hospitals_error(
        "{" DISTRICTS ",\"hospitals\":[{\"id\":\"a-one\",\"name\":{\"vi\":\"A\",\"en\":\"A\"},"
        "\"tier\":\"city\",\"district\":\"dong-da\",\"lat\":91,\"lon\":105,\"specialties\":[],"
        "\"sister\":null,\"phone\":\"\",\"report_interval_s\":900,\"beds\":{}}]}",
        "out_of_range", "hospitals[0].lat");
    expect_hospitals_error(
        "{" DISTRICTS ",\"hospitals\":[{\"id\":\"a-one\",\"name\":{\"vi\":\"A\",\"en\":\"A\"},"
        "\"tier\":\"city\",\"district\":\"dong-da\",\"lat\":21,\"lon\":105,\"specialties\":[],"
        "\"sister\":null,\"phone\":\"\",\"report_interval_s\":59,\"beds\":{}}]}",
        "out_of_range", "hospitals[0].report_interval_s");
    expect_hospitals_error(
        "{" DISTRICTS
        ",\"hospitals\":[{\"id\":\"a-one\",\"name\":{\"vi\":\"A\xe2\x80\xae\",\"en\":\"A\"},"
        "\"tier\":\"city\",\"district\":\"dong-da\",\"lat\":21,\"lon\":105,\"specialties\":[],"
        "\"sister\":null,\"phone\":\"\",\"report_interval_s\":900,\"beds\":{}}]}",
        "bad_string", "hospitals[0].name.vi");
    expect_hospitals_error(
        "{\"districts\":{\"Dong Da\":{\"vi\":\"A\",\"en\":\"A\"}},\"hospitals\":[" HOSP(
            "a-one", "dong-da", "", "null", "") "]}",
        "bad_value", "districts.Dong Da");
    expect_hospitals_error("{\"districts\":{\"dong-da\":{\"vi\":\"A\",\"en\":\"A\"},"
                           "\"dong-da\":{\"vi\":\"B\",\"en\":\"B\"}},\"hospitals\":[" HOSP(
                               "a-one", "dong-da", "", "null", "") "]}",
                           "duplicate_id", "districts");
    expect_hospitals_error("{" DISTRICTS ",\"hospitals\":[]}", "out_of_range", "hospitals");
    expect_hospitals_error("{" DISTRICTS ",\"hospitals\":[], \"extra\":1}", "unknown_field",
                           "extra");
    expect_hospitals_error("", "bad_json", "");
    expect_hospitals_error("{" DISTRICTS ",\"hospitals\":[] } x", "bad_json", "");
}

/* -- fleet ---------------------------------------------------------------- */

static int load_fleet(const char *json, bp_registry_t *reg, bp_error_t *err) {
    const char *hj = "{" DISTRICTS ",\"hospitals\":[" HOSP("a-one", "dong-da", "", "null", "") "]}";
    memset(reg, 0, sizeof *reg);
    memset(err, 0, sizeof *err);
    assert_int_equal(bp_codec_parse_hospitals(hj, strlen(hj), reg, err), 0);
    return bp_codec_parse_fleet(json, strlen(json), reg, err);
}

#define STATION(id, district)                                                                      \
    "{\"id\":\"" id "\",\"name\":{\"vi\":\"T\",\"en\":\"S\"},\"district\":\"" district             \
    "\",\"lat\":21,\"lon\":105.8}"

static void expect_fleet_error(const char *json, const char *code, const char *field) {
    bp_registry_t reg;
    bp_error_t err;
    int rc = load_fleet(json, &reg, &err);
    bp_registry_free(&reg);
    if (rc == 0) fail_msg("accepted, expected %s at %s", code, field);
    assert_string_equal(err.code, code);
    assert_string_equal(err.field, field);
}

static void test_fleet_inline(void **state) {
    (void)state;
    const char *ok = "{\"stations\":[" STATION("hk", "hoan-kiem") "," STATION(
        "dd", "dong-da") "],\"ambulances\":[{\"id\":\"115-HK-01\",\"station\":\"hk\"},"
                         "{\"id\":\"115-DD-01\",\"station\":\"dd\"}]}";
    bp_registry_t reg;
    bp_error_t err;
    int rc = load_fleet(ok, &reg, &err);
    if (rc) fail_msg("%s at %s: %s", err.code, err.field, err.message);
    assert_int_equal(reg.n_units, 2);
    assert_int_equal(reg.n_stations, 2);
    int u = bp_registry_unit(&reg, "115-DD-01", 9);
    assert_int_equal(u, 1);
    assert_string_equal(reg.stations[reg.units[u].station].id, "dd");
    /* the hospitals are still there */
    assert_int_equal(bp_registry_hospital(&reg, "a-one", 5), 0);
    bp_registry_free(&reg);

    expect_fleet_error(
        "{\"stations\":[" STATION(
            "hk", "hoan-kiem") "],\"ambulances\":[{\"id\":\"115-HK-01\",\"station\":\"dd\"}]}",
        "unknown_station", "ambulances[0].station");
    expect_fleet_error(
        "{\"stations\":[" STATION(
            "hk", "hoan-kiem") "],\"ambulances\":[{\"id\":\"115-HK-01\",\"station\":\"hk\"},"
                               "{\"id\":\"115-HK-01\",\"station\":\"hk\"}]}",
        "duplicate_id", "ambulances");
    expect_fleet_error(
        "{\"stations\":[" STATION(
            "hk", "hoan-kiem") "],\"ambulances\":[{\"id\":\"115 HK 01\",\"station\":\"hk\"}]}",
        "bad_value", "ambulances[0].id");
    expect_fleet_error("{\"stations\":[" STATION("hk", "ba-dinh") "],\"ambulances\":[]}",
                       "unknown_district", "stations[0].district");
    expect_fleet_error("{\"stations\":[" STATION("hk", "hoan-kiem") "," STATION(
                           "hk", "dong-da") "],\"ambulances\":[]}",
                       "duplicate_id", "stations");
    expect_fleet_error("{\"stations\":[{\"id\":\"hk\",\"name\":{\"vi\":\"T\",\"en\":\"S\"},"
                       "\"district\":\"hoan-kiem\",\"lat\":21}],\"ambulances\":[]}",
                       "missing_field", "stations[0].lon");
    expect_fleet_error(
        "{\"stations\":[" STATION("hk", "hoan-kiem") "],\"ambulances\":[{\"id\":\"115-HK-01\"}]}",
        "missing_field", "ambulances[0].station");
    expect_fleet_error(
        "{\"stations\":[" STATION(
            "hk",
            "hoan-kiem") "],\"ambulances\":[{\"id\":\"115-HK-01\",\"station\":\"hk\",\"crew\":3}]}",
        "unknown_field", "ambulances[0].crew");
    expect_fleet_error("{\"stations\":{},\"ambulances\":[]}", "wrong_type", "stations");
}

/* bp_registry_index itself reports the duplicate id. */
static void test_index_duplicate(void **state) {
    (void)state;
    bp_registry_t reg;
    memset(&reg, 0, sizeof reg);
    reg.n_hospitals = 3;
    reg.hospitals = calloc(3, sizeof *reg.hospitals);
    assert_non_null(reg.hospitals);
    snprintf(reg.hospitals[0].id, sizeof reg.hospitals[0].id, "c");
    snprintf(reg.hospitals[1].id, sizeof reg.hospitals[1].id, "a");
    snprintf(reg.hospitals[2].id, sizeof reg.hospitals[2].id, "b");
    char dup[BP_ID_MAX + 1] = "";
    assert_int_equal(bp_registry_index(&reg, dup, sizeof dup), 0);
    assert_int_equal(bp_registry_hospital(&reg, "a", 1), 1);
    assert_int_equal(bp_registry_hospital(&reg, "b", 1), 2);
    assert_int_equal(bp_registry_hospital(&reg, "c", 1), 0);
    snprintf(reg.hospitals[2].id, sizeof reg.hospitals[2].id, "c");
    assert_int_equal(bp_registry_index(&reg, dup, sizeof dup), -1);
    assert_string_equal(dup, "c");
    bp_registry_free(&reg);
    /* lookups on an empty registry */
    assert_int_equal(bp_registry_hospital(&reg, "a", 1), -1);
    assert_int_equal(bp_registry_staffed_total(&reg), 0);
}

/* The service area: the box around hospitals and stations, widened. */
static void test_area(void **state) {
    (void)state;
    bp_registry_t reg;
    tu_load_registry(&reg);
    bp_area_t a;
    bp_registry_area(&reg, &a);
    double lat_min = 90, lat_max = -90, lon_min = 180, lon_max = -180;
    for (size_t i = 0; i < reg.n_hospitals; i++) {
        lat_min = fmin(lat_min, reg.hospitals[i].lat);
        lat_max = fmax(lat_max, reg.hospitals[i].lat);
        lon_min = fmin(lon_min, reg.hospitals[i].lon);
        lon_max = fmax(lon_max, reg.hospitals[i].lon);
    }
    for (size_t i = 0; i < reg.n_stations; i++) {
        lat_min = fmin(lat_min, reg.stations[i].lat);
        lat_max = fmax(lat_max, reg.stations[i].lat);
        lon_min = fmin(lon_min, reg.stations[i].lon);
        lon_max = fmax(lon_max, reg.stations[i].lon);
    }
    assert_float_equal(a.lat_min, lat_min - BP_AREA_MARGIN_DEG, 1e-9);
    assert_float_equal(a.lat_max, lat_max + BP_AREA_MARGIN_DEG, 1e-9);
    assert_float_equal(a.lon_min, lon_min - BP_AREA_MARGIN_DEG, 1e-9);
    assert_float_equal(a.lon_max, lon_max + BP_AREA_MARGIN_DEG, 1e-9);
    /* all of Hanoi (20.53-21.39 N, 105.28-106.02 E), not Hai Phong */
    assert_true(a.lat_min < 20.53 && a.lat_max > 21.39 && a.lon_min < 105.28 && a.lon_max > 106.02);
    assert_true(a.lon_max < 106.6);
    bp_registry_free(&reg);
    /* an empty registry: the globe */
    bp_registry_t empty;
    memset(&empty, 0, sizeof empty);
    bp_registry_area(&empty, &a);
    assert_float_equal(a.lat_min, -90, 0);
    assert_float_equal(a.lon_max, 180, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_counts),
        cmocka_unit_test(test_real_bach_mai),
        cmocka_unit_test(test_real_lookups),
        cmocka_unit_test(test_real_unknown_ids),
        cmocka_unit_test(test_lookup_uses_exact_length),
        cmocka_unit_test(test_real_sister),
        cmocka_unit_test(test_base_state),
        cmocka_unit_test(test_specialties),
        cmocka_unit_test(test_inline_ok),
        cmocka_unit_test(test_inline_duplicate_id),
        cmocka_unit_test(test_inline_unknown_district),
        cmocka_unit_test(test_inline_unknown_specialty),
        cmocka_unit_test(test_inline_bad_sister),
        cmocka_unit_test(test_inline_missing_field),
        cmocka_unit_test(test_inline_bad_values),
        cmocka_unit_test(test_inline_have_id),
        cmocka_unit_test(test_fleet_inline),
        cmocka_unit_test(test_index_duplicate),
        cmocka_unit_test(test_area),
    };
    return cmocka_run_group_tests(tests, load_real, free_real);
}
