/*
 * Tests for core/bp_codec_stored.c: the stored-format writers and readers
 * (feed line -> patch -> stored round trip, lenient stored reads, Redis
 * hashes).
 */
#include "test_util.h"

#include "bp_codec_feed.h"
#include "bp_codec_stored.h"
#include "bp_time.h"

#include "codec_fixture.h"

/* -- stored format: patch -> stored round trip ---------------------------- */

/* Does what the apply script does to a patch before it goes into the stream:
 * adds version, updated and source. Returns malloc'd JSON. */
static char *stamp_patch(const bp_buf_t *patch, double version, double updated,
                         const char *source) {
    cJSON *root = tu_parse_buf(patch);
    assert_true(cJSON_IsObject(root));
    cJSON_AddNumberToObject(root, "version", version);
    cJSON_AddNumberToObject(root, "updated", updated);
    cJSON_AddStringToObject(root, "source", source);
    char *out = cJSON_PrintUnformatted(root);
    assert_non_null(out);
    cJSON_Delete(root);
    return out;
}

static void round_trip(const bp_change_t *in, bp_change_t *out, cJSON **patch_json) {
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_codec_write_patch(&b, in);
    *patch_json = tu_parse_buf(&b);
    char *stored = stamp_patch(&b, 42, (double)(NOW_MS + 7), "feed-x");
    bp_error_t err;
    int rc = bp_codec_parse_stored(in->kind, stored, strlen(stored), out, &err);
    if (rc)
        fail_msg("stored form rejected: %s at %s: %s\n%s", err.code, err.field, err.message,
                 stored);
    free(stored);
    bp_buf_free(&b);
    assert_int_equal(out->kind, in->kind);
    assert_int_equal(out->at_ms, in->at_ms);
    assert_int_equal(out->version, 42);
    assert_int_equal(out->updated_ms, NOW_MS + 7);
    assert_string_equal(out->source, "feed-x");
}

static void test_round_trip_hospital(void **state) {
    (void)state;
    bp_change_t in, out;
    expect_ok(BEDS_HEAD ",\"beds\":{\"icu_adult\":{\"staffed\":60,\"occupied\":63,\"surge24\":8},"
                        "\"medical_surgical\":{\"occupied\":900},\"burn\":{\"staffed\":0}},"
                        "\"ed\":{\"status\":\"diversion\",\"reason\":\"h\xe1\xba\xbft \\\"ICU\\\" "
                        "\\\\ <b> & \\u2028 x\",\"until\":\"2026-11-22T12:00:00.250+07:00\","
                        "\"waiting\":0}}",
              &in);
    cJSON *patch;
    round_trip(&in, &out, &patch);
    /* the patch holds only what was present */
    assert_int_equal(tu_num(patch, "at"), (double)NOW_MS);
    assert_int_equal(cJSON_GetArraySize(tu_get(patch, "beds")), 3);
    assert_int_equal(tu_num(patch, "beds.icu_adult.occupied"), 63);
    assert_int_equal(cJSON_GetArraySize(tu_get(patch, "beds.medical_surgical")), 1);
    assert_null(tu_get(patch, "beds.medical_surgical.staffed"));
    assert_int_equal(tu_num(patch, "ed.until"), (double)(NOW_MS + 4 * 3600000LL + 250));
    cJSON_Delete(patch);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        assert_int_equal(out.bed_fields[t], in.bed_fields[t]);
        if (in.bed_fields[t] & BP_BF_STAFFED)
            assert_int_equal(out.beds[t].staffed, in.beds[t].staffed);
        if (in.bed_fields[t] & BP_BF_OCCUPIED)
            assert_int_equal(out.beds[t].occupied, in.beds[t].occupied);
        if (in.bed_fields[t] & BP_BF_SURGE24)
            assert_int_equal(out.beds[t].surge24, in.beds[t].surge24);
    }
    assert_int_equal(out.bed_fields[BP_BED_BURN], BP_BF_STAFFED);
    assert_int_equal(out.beds[BP_BED_BURN].staffed, 0);
    assert_true(out.has_ed);
    assert_int_equal(out.ed.status, in.ed.status);
    assert_string_equal(out.ed.reason, in.ed.reason);
    assert_string_equal(out.ed.reason, "h\xe1\xba\xbft \"ICU\" \\ <b> & \xe2\x80\xa8 x");
    assert_int_equal(out.ed.until_ms, in.ed.until_ms);
    assert_int_equal(out.ed.waiting, 0);
    assert_int_equal(out.amb_fields, 0);
}

static void test_round_trip_hospital_minimal(void **state) {
    (void)state;
    bp_change_t in, out;
    cJSON *patch;
    /* ED with a status only */
    expect_ok(BEDS_HEAD ",\"ed\":{\"status\":\"normal\"}}", &in);
    round_trip(&in, &out, &patch);
    assert_null(tu_get(patch, "beds"));
    assert_null(tu_get(patch, "ed.reason"));
    assert_null(tu_get(patch, "ed.until"));
    assert_null(tu_get(patch, "ed.waiting"));
    cJSON_Delete(patch);
    assert_true(out.has_ed);
    assert_int_equal(out.ed.status, BP_ED_NORMAL);
    assert_int_equal(out.ed.until_ms, 0);
    assert_int_equal(out.ed.waiting, -1);
    assert_string_equal(out.ed.reason, "");
    /* a confirmation: only at */
    expect_ok(BEDS_HEAD "}", &in);
    round_trip(&in, &out, &patch);
    assert_int_equal(cJSON_GetArraySize(patch), 1);
    cJSON_Delete(patch);
    assert_false(out.has_ed);
    for (int t = 0; t < BP_BED__COUNT; t++)
        assert_int_equal(out.bed_fields[t], 0);
}

/* An ambulance line with every field, and what must read back from it. */
#define AMB_FULL                                                                                   \
    AMB_HEAD ",\"status\":\"transporting\",\"lat\":21.028511,\"lon\":-105.854218,"                 \
             "\"heading\":135.5,\"speed\":42,\"destination\":\"viet-duc\","                        \
             "\"incident\":\"INC-2211-0042\"}"

static void expect_full_ambulance(const bp_change_t *in, const bp_change_t *out) {
    assert_int_equal(out->amb_fields, in->amb_fields);
    assert_int_equal(out->amb.status, BP_AMB_TRANSPORTING);
    assert_true(out->amb.has_position);
    assert_float_equal(out->amb.lat, 21.028511, 1e-9);
    assert_float_equal(out->amb.lon, -105.854218, 1e-9);
    assert_float_equal(out->amb.heading, 135.5, 1e-9);
    assert_float_equal(out->amb.speed, 42, 1e-9);
    assert_string_equal(out->amb.destination, "viet-duc");
    assert_string_equal(out->amb.incident, "INC-2211-0042");
}

static void test_round_trip_ambulance(void **state) {
    (void)state;
    bp_change_t in, out;
    cJSON *patch;
    expect_ok(AMB_FULL, &in);
    round_trip(&in, &out, &patch);
    assert_string_equal(tu_str(patch, "status"), "transporting");
    assert_string_equal(tu_str(patch, "destination"), "viet-duc");
    cJSON_Delete(patch);
    expect_full_ambulance(&in, &out);

    /* cleared destination and incident stay flagged and empty */
    expect_ok(AMB_HEAD ",\"destination\":null,\"incident\":\"\"}", &in);
    round_trip(&in, &out, &patch);
    assert_string_equal(tu_str(patch, "destination"), "");
    cJSON_Delete(patch);
    assert_int_equal(out.amb_fields, BP_AF_DESTINATION | BP_AF_INCIDENT);
    assert_string_equal(out.amb.destination, "");
    assert_string_equal(out.amb.incident, "");

    /* status only: nothing else appears */
    expect_ok(AMB_HEAD ",\"status\":\"out_of_service\"}", &in);
    round_trip(&in, &out, &patch);
    assert_null(tu_get(patch, "lat"));
    assert_null(tu_get(patch, "destination"));
    cJSON_Delete(patch);
    assert_int_equal(out.amb_fields, BP_AF_STATUS);
    assert_int_equal(out.amb.status, BP_AMB_OUT_OF_SERVICE);
}

static void test_parse_stored_lenient(void **state) {
    (void)state;
    bp_change_t c;
    bp_error_t err;
    /* unknown fields (a newer writer) are ignored; bad values are skipped */
    const char *json =
        "{\"version\":3,\"at\":1000,\"updated\":1001,\"source\":\"s\",\"future\":{\"x\":1},"
        "\"beds\":{\"icu_adult\":{\"staffed\":10,\"occupied\":-5,\"surge24\":\"x\",\"new\":1},"
        "\"helipad\":{\"staffed\":1},\"burn\":7},"
        "\"ed\":{\"status\":\"diversion\",\"reason\":\"r\",\"until\":5000,\"waiting\":2,\"x\":1}}";
    assert_int_equal(bp_codec_parse_stored(BP_KIND_HOSPITAL, json, strlen(json), &c, &err), 0);
    assert_int_equal(c.version, 3);
    assert_int_equal(c.at_ms, 1000);
    assert_int_equal(c.updated_ms, 1001);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], BP_BF_STAFFED);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].staffed, 10);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].occupied, -1);
    assert_int_equal(c.bed_fields[BP_BED_BURN], 0);
    assert_true(c.has_ed);
    assert_int_equal(c.ed.status, BP_ED_DIVERSION);
    assert_int_equal(c.ed.until_ms, 5000);
    assert_int_equal(c.ed.waiting, 2);
    assert_string_equal(c.ed.reason, "r");
    /* an unknown ED status leaves the ED out */
    json = "{\"version\":1,\"ed\":{\"status\":\"melting\"}}";
    assert_int_equal(bp_codec_parse_stored(BP_KIND_HOSPITAL, json, strlen(json), &c, &err), 0);
    assert_false(c.has_ed);
    /* lat without lon is not a position */
    json = "{\"version\":1,\"lat\":21,\"status\":\"teleporting\"}";
    assert_int_equal(bp_codec_parse_stored(BP_KIND_AMBULANCE, json, strlen(json), &c, &err), 0);
    assert_int_equal(c.amb_fields, 0);
    /* but a missing version, bad JSON or a non-object is an error */
    json = "{\"at\":1}";
    assert_int_equal(bp_codec_parse_stored(BP_KIND_HOSPITAL, json, strlen(json), &c, &err), -1);
    assert_string_equal(err.code, "missing_field");
    assert_string_equal(err.field, "version");
    json = "{\"version\":-1}";
    assert_int_equal(bp_codec_parse_stored(BP_KIND_HOSPITAL, json, strlen(json), &c, &err), -1);
    json = "{\"version\":1";
    assert_int_equal(bp_codec_parse_stored(BP_KIND_HOSPITAL, json, strlen(json), &c, &err), -1);
    assert_string_equal(err.code, "bad_json");
    json = "[1]";
    assert_int_equal(bp_codec_parse_stored(BP_KIND_AMBULANCE, json, strlen(json), &c, &err), -1);
    assert_string_equal(err.code, "wrong_type");
}

/* The intensive-care detail through the stored forms: the event's bed
 * entry (what the apply script writes, read back as the PATCH echo is) and
 * the hash fields <type>.vt/.vf/.et/.ef, a pair known only when whole. */
static void test_icu_detail_stored(void **state) {
    (void)state;
    bp_change_t in, out;
    expect_ok(with_beds("\"icu_adult\":{\"occupied\":20,\"ventilated\":{\"total\":30,"
                        "\"free\":4},\"ecmo\":{\"total\":3,\"free\":1}},"
                        "\"icu_pediatric\":{\"ventilated\":{\"total\":6,\"free\":0}}"),
              &in);
    cJSON *patch;
    round_trip(&in, &out, &patch);
    assert_int_equal(tu_num(patch, "beds.icu_adult.ventilated.total"), 30);
    assert_int_equal(tu_num(patch, "beds.icu_adult.ecmo.free"), 1);
    assert_null(tu_get(patch, "beds.icu_pediatric.ecmo"));
    cJSON_Delete(patch);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        assert_int_equal(out.bed_fields[t], in.bed_fields[t]);
        assert_memory_equal(&out.icu[t], &in.icu[t], sizeof in.icu[t]);
    }
    bp_change_t c;
    bp_error_t err;
    const char *h[] = {"v",
                       "3",
                       "icu_adult.vt",
                       "30",
                       "icu_adult.vf",
                       "4",
                       "icu_adult.et",
                       "3",
                       "icu_pediatric.vf",
                       "2",
                       "burn.vt",
                       "5",
                       "burn.vf",
                       "1",
                       "icu_adult.ex",
                       "1",
                       "icu_pediatric.et",
                       "abc",
                       "icu_pediatric.ef",
                       "0"};
    assert_int_equal(tu_parse_hash(BP_KIND_HOSPITAL, h, sizeof h / sizeof *h / 2, &c, &err), 0);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], BP_BF_VENTILATED);
    assert_int_equal(c.icu[BP_BED_ICU_ADULT].ventilated.total, 30);
    assert_int_equal(c.icu[BP_BED_ICU_ADULT].ventilated.free, 4);
    /* half a pair, a malformed number, a bed type without the detail: unknown */
    assert_int_equal(c.bed_fields[BP_BED_ICU_PEDIATRIC], 0);
    assert_int_equal(c.bed_fields[BP_BED_BURN], 0);
    /* applied: the hospital knows the ventilated places, not the ECMO ones */
    bp_hospital_state_t st;
    bp_hospital_state_init(&st);
    bp_hospital_apply(&st, &c);
    assert_int_equal(st.icu_known[BP_BED_ICU_ADULT], BP_BF_VENTILATED);
    assert_int_equal(st.icu[BP_BED_ICU_ADULT].ventilated.free, 4);
    /* a stored event entry out of its bounds is not trusted */
    const char *json = "{\"version\":2,\"beds\":{\"icu_adult\":{\"ventilated\":{\"total\":3,"
                       "\"free\":4},\"ecmo\":{\"total\":1,\"free\":1}}}}";
    assert_int_equal(bp_codec_parse_stored(BP_KIND_HOSPITAL, json, strlen(json), &c, &err), 0);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], BP_BF_ECMO);
}

/* The Redis hash the apply script keeps per entity, read back. */
static void test_hashes(void **state) {
    (void)state;
    bp_change_t c;
    bp_error_t err;
    const char *h[] = {
        "v",           "7",
        "at",          "1795457182000",
        "up",          "1795457182012",
        "src",         "his-bach-mai",
        "icu_adult.s", "60",
        "icu_adult.o", "63",
        "icu_adult.g", "8",
        "burn.o",      "4",
        "nonsense.o",  "5",
        "icu_adult.x", "1",
        "future",      "field",
        "ed",          "{\"status\":\"diversion\",\"reason\":\"no ICU\",\"until\":1795460000000}"};
    assert_int_equal(tu_parse_hash(BP_KIND_HOSPITAL, h, sizeof h / sizeof *h / 2, &c, &err), 0);
    assert_int_equal(c.version, 7);
    assert_int_equal(c.at_ms, 1795457182000);
    assert_int_equal(c.updated_ms, 1795457182012);
    assert_string_equal(c.source, "his-bach-mai");
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT],
                     BP_BF_STAFFED | BP_BF_OCCUPIED | BP_BF_SURGE24);
    assert_int_equal(c.beds[BP_BED_ICU_ADULT].occupied, 63);
    assert_int_equal(c.bed_fields[BP_BED_BURN], BP_BF_OCCUPIED);
    assert_int_equal(c.beds[BP_BED_BURN].staffed, -1);
    assert_int_equal(c.bed_fields[BP_BED_EMERGENCY], 0);
    assert_true(c.has_ed);
    assert_int_equal(c.ed.status, BP_ED_DIVERSION);
    assert_string_equal(c.ed.reason, "no ICU");
    assert_int_equal(c.ed.until_ms, 1795460000000);
    /* applied over the registry baseline, it keeps the types not stored */
    int i = bp_registry_hospital(&reg, "bach-mai", 8);
    bp_hospital_state_t st;
    bp_registry_base_state(&reg.hospitals[i], &st);
    snprintf(c.id, sizeof c.id, "bach-mai");
    bp_hospital_apply(&st, &c);
    assert_int_equal(st.version, 7);
    assert_int_equal(st.beds[BP_BED_EMERGENCY].staffed, reg.hospitals[i].staffed[BP_BED_EMERGENCY]);
    assert_int_equal(st.beds[BP_BED_ICU_ADULT].occupied, 63);

    /* out-of-range and malformed numbers are ignored, not trusted */
    const char *bad[] = {"v",           "2",   "icu_adult.o", "-1",
                         "icu_adult.s", "abc", "icu_adult.g", "100001"};
    assert_int_equal(tu_parse_hash(BP_KIND_HOSPITAL, bad, 4, &c, &err), 0);
    assert_int_equal(c.bed_fields[BP_BED_ICU_ADULT], 0);
    /* no version: not an entity we wrote */
    const char *nov[] = {"at", "1"};
    assert_int_equal(tu_parse_hash(BP_KIND_HOSPITAL, nov, 1, &c, &err), -1);
    assert_string_equal(err.field, "v");
    const char *badv[] = {"v", "x"};
    assert_int_equal(tu_parse_hash(BP_KIND_AMBULANCE, badv, 1, &c, &err), -1);

    const char *a[] = {"v",       "3",        "at",           "1795457182000", "src",
                       "avl-115", "status",   "transporting", "lat",           "21.0285",
                       "lon",     "105.8542", "heading",      "135.5",         "speed",
                       "42",      "dest",     "viet-duc",     "inc",           ""};
    assert_int_equal(tu_parse_hash(BP_KIND_AMBULANCE, a, sizeof a / sizeof *a / 2, &c, &err), 0);
    assert_int_equal(c.amb_fields, BP_AF_STATUS | BP_AF_POSITION | BP_AF_HEADING | BP_AF_SPEED |
                                       BP_AF_DESTINATION | BP_AF_INCIDENT);
    assert_int_equal(c.amb.status, BP_AMB_TRANSPORTING);
    assert_true(c.amb.has_position);
    assert_float_equal(c.amb.lon, 105.8542, 1e-9);
    assert_float_equal(c.amb.heading, 135.5, 1e-9);
    assert_string_equal(c.amb.destination, "viet-duc");
    assert_string_equal(c.amb.incident, "");
}

/* out holds every field of the INC_CREATE line with address, received,
 * unit and destination that in was read from. */
static void expect_full_incident(const bp_change_t *in, const bp_change_t *out) {
    assert_int_equal(out->inc.priority, 1);
    assert_int_equal(out->inc.category, BP_CAT_STROKE);
    assert_float_equal(out->inc.lat, 21.0, 1e-9);
    assert_float_equal(out->inc.lon, 105.84, 1e-9);
    assert_string_equal(out->inc.address, in->inc.address);
    assert_int_equal(out->inc.received_ms, in->inc.received_ms);
    assert_string_equal(out->inc.unit, "115-HK-03");
    assert_string_equal(out->inc.destination, "viet-duc");
}

/* A plausibility check: written as the hash field "chk" holds it, read
 * back from the hash and from the event's "check"; null reads as cleared. */
static void test_check(void **state) {
    (void)state;
    bp_check_t k = {.rule = BP_CHECK_DROP,
                    .bed_type = BP_BED_ICU_ADULT,
                    .was = 20,
                    .now = 5,
                    .at_ms = 1795457182000,
                    .version = 9};
    snprintf(k.reason, sizeof k.reason, "icu_adult occupied fell from 20 to 5");
    bp_buf_t b;
    bp_buf_init(&b, 0, 4096);
    bp_codec_write_check(&b, &k);
    const char *h[] = {"v", "9", "at", "1795457182000", "chk", bp_buf_data(&b)};
    bp_change_t c;
    bp_error_t err;
    assert_int_equal(tu_parse_hash(BP_KIND_HOSPITAL, h, 3, &c, &err), 0);
    assert_true(c.has_check);
    assert_int_equal(c.check.rule, BP_CHECK_DROP);
    assert_int_equal(c.check.bed_type, BP_BED_ICU_ADULT);
    assert_int_equal(c.check.was, 20);
    assert_int_equal(c.check.now, 5);
    assert_int_equal(c.check.at_ms, 1795457182000);
    assert_int_equal(c.check.version, 9);
    assert_string_equal(c.check.reason, k.reason);
    /* cleared, and a rule this reader does not know: left out */
    const char *cleared[] = {"v", "10", "chk", "null"};
    assert_int_equal(tu_parse_hash(BP_KIND_HOSPITAL, cleared, 2, &c, &err), 0);
    assert_true(c.has_check);
    assert_int_equal(c.check.rule, BP_CHECK_NONE);
    const char *unknown[] = {"v", "10", "chk", "{\"rule\":\"spike\"}"};
    assert_int_equal(tu_parse_hash(BP_KIND_HOSPITAL, unknown, 2, &c, &err), 0);
    assert_false(c.has_check);
    /* the event carries it as "check" */
    bp_change_t in, out;
    bp_change_init(&in, BP_KIND_HOSPITAL);
    in.at_ms = k.at_ms;
    in.has_check = true;
    in.check = k;
    cJSON *patch;
    round_trip(&in, &out, &patch);
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(patch, "check")));
    assert_true(out.has_check);
    assert_int_equal(out.check.rule, BP_CHECK_DROP);
    assert_int_equal(out.check.now, 5);
    cJSON_Delete(patch);
    bp_buf_free(&b);
}

static void test_round_trip_incident(void **state) {
    (void)state;
    bp_change_t in, out;
    cJSON *patch;
    expect_ok(inc_line("create", INC_CREATE ",\"address\":\"S\xe1\xbb\x91 1 \\\"A\\\"\","
                                            "\"received\":\"2026-11-22T07:59:00+07:00\","
                                            "\"unit\":\"115-HK-03\",\"destination\":\"viet-duc\""),
              &in);
    round_trip(&in, &out, &patch);
    assert_string_equal(tu_str(patch, "action"), "create");
    assert_int_equal(tu_num(patch, "received"), (double)(NOW_MS - 60000));
    assert_string_equal(tu_str(patch, "category"), "stroke");
    cJSON_Delete(patch);
    assert_int_equal(out.inc_action, BP_INC_CREATE);
    assert_int_equal(out.inc_fields, in.inc_fields);
    expect_full_incident(&in, &out);
    /* a close with a cleared unit: only the action and what it carries */
    expect_ok(inc_line("close", ",\"unit\":null"), &in);
    round_trip(&in, &out, &patch);
    assert_int_equal(cJSON_GetArraySize(patch), 3); /* at, action, unit */
    cJSON_Delete(patch);
    assert_int_equal(out.inc_action, BP_INC_CLOSE);
    assert_int_equal(out.inc_fields, BP_IF_UNIT);
    assert_string_equal(out.inc.unit, "");
}

static void test_hash_incident(void **state) {
    (void)state;
    bp_change_t c;
    bp_error_t err;
    const char *h[] = {"v",        "4",
                       "at",       "1795309200000",
                       "up",       "1795309200010",
                       "src",      "cad-115",
                       "act",      "update",
                       "op",       "1795309100000",
                       "priority", "2",
                       "category", "cardiac",
                       "lat",      "21.01",
                       "lon",      "105.85",
                       "address",  "Ph\xe1\xbb\x91 Hu\xe1\xba\xbf",
                       "received", "1795309000000",
                       "unit",     "115-HK-03",
                       "dest",     "",
                       "future",   "x"};
    assert_int_equal(tu_parse_hash(BP_KIND_INCIDENT, h, sizeof h / sizeof *h / 2, &c, &err), 0);
    /* a hash holds the whole incident: it reads as a create */
    assert_int_equal(c.inc_action, BP_INC_CREATE);
    assert_int_equal(c.version, 4);
    assert_int_equal(c.inc_fields, BP_IF_ALL);
    assert_int_equal(c.inc.opened_ms, 1795309100000);
    assert_int_equal(c.inc.priority, 2);
    assert_int_equal(c.inc.category, BP_CAT_CARDIAC);
    assert_float_equal(c.inc.lat, 21.01, 1e-9);
    assert_string_equal(c.inc.address, "Ph\xe1\xbb\x91 Hu\xe1\xba\xbf");
    assert_int_equal(c.inc.received_ms, 1795309000000);
    assert_string_equal(c.inc.unit, "115-HK-03");
    assert_string_equal(c.inc.destination, "");
    /* a closed one reads as a close; values out of their rules are left out */
    const char *closed[] = {"v", "5",        "act", "close", "priority",
                            "9", "category", "flu", "lat",   "x"};
    assert_int_equal(tu_parse_hash(BP_KIND_INCIDENT, closed, 5, &c, &err), 0);
    assert_int_equal(c.inc_action, BP_INC_CLOSE);
    assert_int_equal(c.inc_fields, 0);
}

/* What the apply script is told to HSET (bp_codec_stored_pairs) reads back
 * from the hash (bp_codec_parse_hash) as the same change. */
static void hash_of(const bp_change_t *in, bp_change_t *out) {
    bp_stored_pairs_t p;
    bp_codec_stored_pairs(in, &p);
    const char *kv[2 * (4 + BP_STORED_PAIRS_MAX)] = {
        "v", "3", "at", "1795309200000", "up", "1795309200010", "src", "x"};
    for (size_t i = 0; i < p.n; i++) {
        kv[8 + 2 * i] = p.name[i];
        kv[9 + 2 * i] = p.value[i];
    }
    bp_error_t err;
    if (tu_parse_hash(in->kind, kv, 4 + p.n, out, &err))
        fail_msg("hash rejected: %s at %s: %s", err.code, err.field, err.message);
}

static void test_pairs_read_back(void **state) {
    (void)state;
    bp_change_t in, out;
    expect_ok(inc_line("create", INC_CREATE ",\"address\":\"S\xe1\xbb\x91 1\","
                                            "\"received\":\"2026-11-22T07:59:00+07:00\","
                                            "\"unit\":\"115-HK-03\",\"destination\":\"viet-duc\""),
              &in);
    hash_of(&in, &out);
    assert_int_equal(out.inc_action, BP_INC_CREATE);
    assert_int_equal(out.inc.opened_ms, in.at_ms);
    expect_full_incident(&in, &out);

    expect_ok(AMB_FULL, &in);
    hash_of(&in, &out);
    expect_full_ambulance(&in, &out);

    bp_stored_pairs_t p;
    expect_ok(BEDS_HEAD "}", &in);
    bp_codec_stored_pairs(&in, &p);
    assert_int_equal(p.n, 0); /* hospitals: beds go by position */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_hospital),
        cmocka_unit_test(test_round_trip_hospital_minimal),
        cmocka_unit_test(test_round_trip_ambulance),
        cmocka_unit_test(test_parse_stored_lenient),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_icu_detail_stored),
        cmocka_unit_test(test_round_trip_incident),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_hash_incident),
        cmocka_unit_test(test_pairs_read_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
