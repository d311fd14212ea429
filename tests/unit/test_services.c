/*
 * Services per hospital (issue 15) through every codec that carries them:
 * the feed's "services" (each bad input refused naming the field and the
 * rule), a manager's PATCH, the registry's and the dispatch table's lists,
 * the stored format both ways (stream event and hash fields, as
 * io/apply.lua stores them), the merge into the state with its expiry, the
 * state as clients read it, and the HAVE view; the facility's status
 * (part 2) the same way, with its effect on the pressure level, the
 * ranking and the alerts. Ids come from the real
 * registry (bach-mai has ct, mri, cath_lab, stroke_unit, dialysis,
 * pediatric_ed and ecmo; no burn_unit).
 */
#include "test_util.h"

#include "bp_alerts.h"
#include "bp_codec_api.h"
#include "bp_codec_config.h"
#include "bp_codec_stored.h"
#include "bp_have.h"
#include "bp_recommend.h"
#include "bp_state.h"

#include "codec_fixture.h"

/* A beds line for bach-mai with one more member, "<key>":<json>. */
static const char *with_member(const char *key, const char *json) {
    static char line[4096];
    int n = snprintf(line, sizeof line, "%s,\"%s\":%s}", BEDS_HEAD, key, json);
    assert_true(n > 0 && (size_t)n < sizeof line);
    return line;
}
#define with_services(json) with_member("services", json)
#define with_facility(json) with_member("facility", json)

static void test_names(void **state) {
    (void)state;
    for (int k = 0; k < BP_SVC__COUNT; k++) {
        const char *n = bp_service_name((bp_service_t)k);
        assert_non_null(n);
        assert_int_equal(bp_service_parse(n, strlen(n)), k);
        assert_non_null(strstr(BP_SERVICE_NAMES, n));
    }
    assert_null(bp_service_name(BP_SVC__COUNT));
    assert_int_equal(bp_service_parse("CT", 2), -1);
    assert_int_equal(bp_svc_status_parse("limited", 7), BP_SVS_LIMITED);
    assert_int_equal(bp_svc_status_parse("down", 4), -1);
    int h = bp_registry_hospital(&reg, "bach-mai", 8);
    assert_true(reg.hospitals[h].services & (1u << BP_SVC_STROKE_UNIT));
    assert_false(reg.hospitals[h].services & (1u << BP_SVC_BURN_UNIT));
}

static void test_feed_services(void **state) {
    (void)state;
    bp_change_t c;
    expect_ok(with_services("{\"ct\":{\"status\":\"unavailable\",\"reason\":\"CT hỏng\","
                            "\"until\":\"2026-11-22T12:00:00+07:00\"},"
                            "\"stroke_unit\":{\"status\":\"limited\"},"
                            "\"mri\":{\"status\":\"available\",\"reason\":null,\"until\":null}}"),
              &c);
    assert_int_equal(c.svc_fields,
                     (1u << BP_SVC_CT) | (1u << BP_SVC_STROKE_UNIT) | (1u << BP_SVC_MRI));
    assert_int_equal(c.svc[BP_SVC_CT].status, BP_SVS_UNAVAILABLE);
    assert_string_equal(c.svc[BP_SVC_CT].reason, "CT hỏng");
    assert_int_equal(c.svc[BP_SVC_CT].until_ms, NOW_MS + 4 * 3600000LL);
    assert_int_equal(c.svc[BP_SVC_STROKE_UNIT].status, BP_SVS_LIMITED);
    assert_int_equal(c.svc[BP_SVC_STROKE_UNIT].until_ms, 0);
    assert_int_equal(c.svc[BP_SVC_MRI].status, BP_SVS_AVAILABLE);
    assert_false(c.has_ed);
    /* a line without services changes none */
    expect_ok(BEDS_HEAD "}", &c);
    assert_int_equal(c.svc_fields, 0);
}

static void test_feed_services_refused(void **state) {
    (void)state;
    static const struct {
        const char *services, *code, *field;
    } bad[] = {
        {"\"down\"", "wrong_type", "services"},
        {"{}", "missing_field", "services"},
        {"{\"pet_ct\":{\"status\":\"available\"}}", "unknown_service", "services.pet_ct"},
        {"{\"burn_unit\":{\"status\":\"available\"}}", "unknown_service", "services.burn_unit"},
        {"{\"ct\":{\"status\":\"available\"},\"ct\":{\"status\":\"limited\"}}", "duplicate_field",
         "services.ct"},
        {"{\"ct\":\"unavailable\"}", "wrong_type", "services.ct"},
        {"{\"ct\":{\"reason\":\"x\"}}", "missing_field", "services.ct.status"},
        {"{\"ct\":{\"status\":\"down\"}}", "bad_value", "services.ct.status"},
        {"{\"ct\":{\"status\":1}}", "bad_value", "services.ct.status"},
        {"{\"ct\":{\"status\":\"limited\",\"why\":\"x\"}}", "unknown_field", "services.ct.why"},
        {"{\"ct\":{\"status\":\"limited\",\"reason\":7}}", "wrong_type", "services.ct.reason"},
        {"{\"ct\":{\"status\":\"limited\",\"reason\":\"a\\u0007b\"}}", "bad_string",
         "services.ct.reason"},
        {"{\"ct\":{\"status\":\"available\",\"until\":\"2026-11-22T12:00:00+07:00\"}}", "bad_value",
         "services.ct.until"},
        {"{\"ct\":{\"status\":\"limited\",\"until\":\"2026-11-22T08:00:00+07:00\"}}", "bad_value",
         "services.ct.until"},
        {"{\"ct\":{\"status\":\"limited\",\"until\":\"noon\"}}", "bad_time", "services.ct.until"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_err(with_services(bad[i].services), bad[i].code, bad[i].field);
    /* the reason is bounded like the ED's: 200 bytes */
    char reason[260], svc[400];
    memset(reason, 'x', 201);
    reason[201] = '\0';
    snprintf(svc, sizeof svc, "{\"ct\":{\"status\":\"limited\",\"reason\":\"%s\"}}", reason);
    expect_err(with_services(svc), "too_long", "services.ct.reason");
    reason[200] = '\0';
    snprintf(svc, sizeof svc, "{\"ct\":{\"status\":\"limited\",\"reason\":\"%s\"}}", reason);
    bp_change_t c;
    expect_ok(with_services(svc), &c);
    assert_int_equal(strlen(c.svc[BP_SVC_CT].reason), 200);
    /* the message names the rule */
    bp_error_t err;
    const char *line = with_services("{\"burn_unit\":{\"status\":\"available\"}}");
    assert_int_equal(feed_n(line, strlen(line), &c, &err), -1);
    assert_non_null(strstr(err.message, "bach-mai has no burn_unit in the registry"));
}

static void test_patch_services(void **state) {
    (void)state;
    int h = bp_registry_hospital(&reg, "bach-mai", 8);
    const bp_hospital_info_t *info = &reg.hospitals[h];
    bp_change_t c;
    bp_errors_t errs;
    const char *ok =
        "{\"services\":{\"cath_lab\":{\"status\":\"unavailable\",\"reason\":\"maintenance\","
        "\"until\":\"2026-11-22T09:00:00+07:00\"}}}";
    assert_int_equal(bp_codec_parse_patch(ok, strlen(ok), NOW_MS, info, &c, &errs), 0);
    assert_int_equal(c.svc_fields, 1u << BP_SVC_CATH_LAB);
    assert_int_equal(c.svc[BP_SVC_CATH_LAB].until_ms, NOW_MS + 3600000LL);
    static const struct {
        const char *body, *field, *words;
    } bad[] = {
        {"{\"services\":{\"burn_unit\":{\"status\":\"limited\"}}}", "services.burn_unit",
         "has no burn_unit"},
        {"{\"services\":{\"ct\":{\"status\":\"limited\",\"until\":\"2026-11-22T07:00:00+07:00\"}}}",
         "services.ct.until", "later than now"},
        {"{\"services\":{\"ct\":{}}}", "services.ct.status", "available, limited or unavailable"},
        {"{\"servics\":{}}", "servics", "beds, ed, services, facility and confirm"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(
            bp_codec_parse_patch(bad[i].body, strlen(bad[i].body), NOW_MS, info, &c, &errs), -1);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.e[0].field, bad[i].field);
        if (!strstr(errs.e[0].message, bad[i].words))
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].body, errs.e[0].message, bad[i].words);
    }
    /* a bad service with bad beds: both named */
    const char *two = "{\"beds\":{\"icu_adult\":{\"occupied\":-1}},\"services\":{\"x\":{}}}";
    assert_int_equal(bp_codec_parse_patch(two, strlen(two), NOW_MS, info, &c, &errs), -1);
    assert_int_equal(errs.n, 2);
    assert_int_equal(c.svc_fields, 0);
}

static void test_config_services(void **state) {
    (void)state;
    /* the dispatch table: stroke needs ct + stroke_unit */
    bp_dispatch_cfg_t cfg;
    bp_dispatch_defaults(&cfg);
    size_t len;
    char *json = tu_read_file("config/dispatch.json", &len);
    bp_error_t err;
    if (bp_codec_parse_dispatch(json, len, &cfg, &err))
        fail_msg("%s at %s: %s", err.code, err.field, err.message);
    free(json);
    assert_int_equal(cfg.needs[BP_CAT_STROKE].services,
                     (1u << BP_SVC_CT) | (1u << BP_SVC_STROKE_UNIT));
    assert_int_equal(cfg.needs[BP_CAT_CARDIAC].services, 1u << BP_SVC_CATH_LAB);
    assert_int_equal(cfg.needs[BP_CAT_TRAUMA].services, (1u << BP_SVC_TRAUMA) | (1u << BP_SVC_CT));
    assert_int_equal(cfg.needs[BP_CAT_OTHER].services, 0);
    assert_true(cfg.limited_service_penalty_min > 0);
    /* the defaults say the same as the file */
    bp_dispatch_cfg_t d;
    bp_dispatch_defaults(&d);
    for (int k = 0; k < BP_CAT__COUNT; k++)
        assert_int_equal(d.needs[k].services, cfg.needs[k].services);
    const char *bad_cat =
        "{\"categories\":{\"stroke\":{\"beds\":[\"icu_adult\"],\"specialties\":[],"
        "\"services\":[\"ct\",\"pet\"]}}}";
    assert_int_equal(bp_codec_parse_dispatch(bad_cat, strlen(bad_cat), &d, &err), -1);
    assert_string_equal(err.field, "categories.stroke.services");
    assert_non_null(strstr(err.message, "unknown service \"pet\""));
    /* the registry: unknown, repeated and non-list services are refused */
    static const char *const regs[] = {"[\"ct\",\"ct\"]", "[\"xray\"]", "\"ct\""};
    static const char *const codes[] = {"duplicate_field", "bad_value", "wrong_type"};
    for (int i = 0; i < 3; i++) {
        char doc[1024];
        snprintf(
            doc, sizeof doc,
            "{\"districts\":{\"d1\":{\"vi\":\"M\",\"en\":\"O\"}},\"hospitals\":[{\"id\":\"h\","
            "\"name\":{\"vi\":\"H\",\"en\":\"H\"},\"tier\":\"city\",\"district\":\"d1\",\"lat\":"
            "21,\"lon\":105.8,\"specialties\":[],\"sister\":null,\"phone\":\"\","
            "\"report_interval_s\":900,\"beds\":{},\"services\":%s}]}",
            regs[i]);
        bp_registry_t r;
        memset(&r, 0, sizeof r);
        assert_int_equal(bp_codec_parse_hospitals(doc, strlen(doc), &r, &err), -1);
        assert_string_equal(err.code, codes[i]);
        assert_string_equal(err.field, "hospitals[0].services");
        bp_registry_free(&r);
    }
}

/* The stored format both ways: what the stream carries and what the hash
 * holds read back to the same services. */
static void test_stored_round_trip(void **state) {
    (void)state;
    bp_change_t c, back;
    bp_error_t err;
    expect_ok(with_services("{\"ct\":{\"status\":\"unavailable\",\"reason\":\"a \\\"b\\\" c\","
                            "\"until\":\"2026-11-22T12:00:00+07:00\"},\"ecmo\":{\"status\":"
                            "\"limited\"}}"),
              &c);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_codec_write_patch(&b, &c);
    assert_non_null(strstr(bp_buf_data(&b), "\"services\":{\"ct\":{\"status\":\"unavailable\""));
    /* the stream event: the patch with the apply script's stamps */
    char ev[1024];
    snprintf(ev, sizeof ev, "{\"version\":3,\"updated\":5,\"source\":\"x\",%s",
             bp_buf_data(&b) + 1);
    assert_int_equal(bp_codec_parse_stored(BP_KIND_HOSPITAL, ev, strlen(ev), &back, &err), 0);
    assert_int_equal(back.svc_fields, c.svc_fields);
    for (int k = 0; k < BP_SVC__COUNT; k++) {
        if (!(c.svc_fields >> k & 1)) continue;
        assert_int_equal(back.svc[k].status, c.svc[k].status);
        assert_int_equal(back.svc[k].until_ms, c.svc[k].until_ms);
        assert_string_equal(back.svc[k].reason, c.svc[k].reason);
    }
    /* the hash: "svc.<service>" -> the service as JSON (apply.lua's fields) */
    bp_buf_t j1, j2;
    bp_buf_init(&j1, 0, 1024);
    bp_buf_init(&j2, 0, 1024);
    bp_codec_write_svc(&j1, &c.svc[BP_SVC_CT]);
    bp_codec_write_svc(&j2, &c.svc[BP_SVC_ECMO]);
    const char *keys[] = {"v", "svc.ct", "svc.ecmo", "svc.nope", "svc."};
    const char *vals[] = {"7", bp_buf_data(&j1), bp_buf_data(&j2), "{\"status\":\"limited\"}",
                          "{}"};
    size_t kl[5], vl[5];
    for (int i = 0; i < 5; i++)
        kl[i] = strlen(keys[i]), vl[i] = strlen(vals[i]);
    assert_int_equal(bp_codec_parse_hash(BP_KIND_HOSPITAL, 5, keys, kl, vals, vl, &back, &err), 0);
    assert_int_equal(back.version, 7);
    assert_int_equal(back.svc_fields, (1u << BP_SVC_CT) | (1u << BP_SVC_ECMO));
    assert_string_equal(back.svc[BP_SVC_CT].reason, "a \"b\" c");
    assert_int_equal(back.svc[BP_SVC_CT].until_ms, NOW_MS + 4 * 3600000LL);
    assert_int_equal(back.svc[BP_SVC_ECMO].status, BP_SVS_LIMITED);
    /* a value that does not read is left out, like any stored field */
    vals[1] = "{\"status\":\"broken\"}";
    vl[1] = strlen(vals[1]);
    assert_int_equal(bp_codec_parse_hash(BP_KIND_HOSPITAL, 3, keys, kl, vals, vl, &back, &err), 0);
    assert_int_equal(back.svc_fields, 1u << BP_SVC_ECMO);
    bp_buf_free(&j1);
    bp_buf_free(&j2);
    bp_buf_free(&b);
}

/* Applied to the state: each service replaced whole, the others kept; the
 * client's JSON shows status, reason, until and what it reads as now; HAVE
 * writes the ones it names. */
static void test_state_and_have(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 0);
    assert_non_null(st);
    bp_change_t c;
    expect_ok(with_services("{\"ct\":{\"status\":\"unavailable\",\"reason\":\"hỏng\",\"until\":"
                            "\"2026-11-22T09:00:00+07:00\"},\"stroke_unit\":{\"status\":"
                            "\"unavailable\"}}"),
              &c);
    int h = bp_state_apply(st, &c);
    assert_true(h >= 0);
    expect_ok(with_services("{\"stroke_unit\":{\"status\":\"limited\"}}"), &c);
    assert_int_equal(bp_state_apply(st, &c), h);
    const bp_hospital_state_t *hs = bp_state_hospital(st, (size_t)h);
    assert_int_equal(hs->svc[BP_SVC_CT].status, BP_SVS_UNAVAILABLE);
    assert_int_equal(hs->svc[BP_SVC_STROKE_UNIT].status, BP_SVS_LIMITED);
    assert_int_equal(bp_svc_effective(&hs->svc[BP_SVC_CT], NOW_MS), BP_SVS_UNAVAILABLE);
    assert_int_equal(bp_svc_effective(&hs->svc[BP_SVC_CT], NOW_MS + 3600000LL), BP_SVS_AVAILABLE);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 20);
    bp_state_write_hospital(&b, st, (size_t)h, NOW_MS);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_get(j, "services.ct.status")->valuestring, "unavailable");
    assert_string_equal(tu_get(j, "services.ct.effective")->valuestring, "unavailable");
    assert_string_equal(tu_get(j, "services.ct.reason")->valuestring, "hỏng");
    assert_string_equal(tu_get(j, "services.ct.until")->valuestring, "2026-11-22T02:00:00.000Z");
    assert_string_equal(tu_get(j, "services.mri.status")->valuestring, "available");
    assert_null(cJSON_GetObjectItemCaseSensitive(tu_get(j, "services"), "burn_unit"));
    cJSON_Delete(j);
    bp_buf_reset(&b);
    bp_state_write_hospital(&b, st, (size_t)h, NOW_MS + 3600000LL);
    j = tu_parse_buf(&b);
    assert_string_equal(tu_get(j, "services.ct.effective")->valuestring, "available");
    cJSON_Delete(j);
    /* HAVE: the stroke unit (limited) is there, CT has no element */
    bp_have_out_t v;
    assert_true(bp_have_view(st, (size_t)h, NOW_MS, -1, &v));
    assert_true(v.svc_has & (1u << BP_SVC_STROKE_UNIT));
    assert_true(v.svc_up & (1u << BP_SVC_STROKE_UNIT));
    assert_false(v.svc_has & (1u << BP_SVC_CT));
    assert_false(v.svc_has & (1u << BP_SVC_BURN_UNIT));
    expect_ok(with_services("{\"cath_lab\":{\"status\":\"unavailable\"}}"), &c);
    bp_state_apply(st, &c);
    assert_true(bp_have_view(st, (size_t)h, NOW_MS, -1, &v));
    assert_true(v.svc_has & (1u << BP_SVC_CATH_LAB));
    assert_false(v.svc_up & (1u << BP_SVC_CATH_LAB));
    bp_buf_free(&b);
    bp_state_destroy(st);
}

static void test_facility_codecs(void **state) {
    (void)state;
    bp_change_t c, back;
    bp_error_t err;
    expect_ok(with_facility("{\"status\":\"compromised\",\"reason\":\"mất điện\",\"power\":"
                            "\"generator\",\"oxygen\":\"low\",\"water\":null}"),
              &c);
    assert_true(c.has_fac);
    assert_int_equal(c.fac.status, BP_FAC_COMPROMISED);
    assert_string_equal(c.fac.reason, "mất điện");
    assert_int_equal(c.fac.util[BP_UTIL_POWER], 1);
    assert_int_equal(c.fac.util[BP_UTIL_OXYGEN], 1);
    assert_int_equal(c.fac.util[BP_UTIL_WATER], -1);
    static const struct {
        const char *fac, *code, *field;
    } bad[] = {
        {"\"closed\"", "wrong_type", "facility"},
        {"{}", "missing_field", "facility.status"},
        {"{\"status\":\"burning\"}", "bad_value", "facility.status"},
        {"{\"status\":\"normal\",\"power\":\"solar\"}", "bad_value", "facility.power"},
        {"{\"status\":\"normal\",\"oxygen\":1}", "bad_value", "facility.oxygen"},
        {"{\"status\":\"normal\",\"water\":\"low\"}", "bad_value", "facility.water"},
        {"{\"status\":\"normal\",\"gas\":\"out\"}", "unknown_field", "facility.gas"},
        {"{\"status\":\"normal\",\"reason\":\"a\\u202Eb\"}", "bad_string", "facility.reason"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_err(with_facility(bad[i].fac), bad[i].code, bad[i].field);
    /* the stream and the hash ("fac") read back the same */
    expect_ok(with_facility("{\"status\":\"evacuating\",\"reason\":\"cháy\",\"water\":\"out\"}"),
              &c);
    bp_buf_t b, j;
    bp_buf_init(&b, 0, 1 << 16);
    bp_buf_init(&j, 0, 1 << 12);
    bp_codec_write_patch(&b, &c);
    char ev[1024];
    snprintf(ev, sizeof ev, "{\"version\":3,%s", bp_buf_data(&b) + 1);
    assert_int_equal(bp_codec_parse_stored(BP_KIND_HOSPITAL, ev, strlen(ev), &back, &err), 0);
    assert_true(back.has_fac);
    assert_memory_equal(&back.fac, &c.fac, sizeof c.fac);
    bp_codec_write_fac(&j, &c.fac);
    assert_string_equal(bp_buf_data(&j),
                        "{\"status\":\"evacuating\",\"reason\":\"cháy\",\"water\":\"out\"}");
    const char *keys[] = {"v", "fac"}, *vals[] = {"2", bp_buf_data(&j)};
    size_t kl[] = {1, 3}, vl[] = {1, j.len};
    assert_int_equal(bp_codec_parse_hash(BP_KIND_HOSPITAL, 2, keys, kl, vals, vl, &back, &err), 0);
    assert_true(back.has_fac);
    assert_memory_equal(&back.fac, &c.fac, sizeof c.fac);
    bp_buf_free(&b);
    bp_buf_free(&j);
    /* PATCH: a person gives the reason when it is not normal */
    bp_errors_t errs;
    const char *no_reason = "{\"facility\":{\"status\":\"closed\"}}";
    assert_int_equal(bp_codec_parse_patch(no_reason, strlen(no_reason), NOW_MS, NULL, &c, &errs),
                     -1);
    assert_string_equal(errs.e[0].field, "facility.reason");
    assert_false(c.has_fac);
    const char *ok = "{\"facility\":{\"status\":\"normal\",\"power\":\"mains\"}}";
    assert_int_equal(bp_codec_parse_patch(ok, strlen(ok), NOW_MS, NULL, &c, &errs), 0);
    assert_true(c.has_fac);
    assert_int_equal(c.fac.util[BP_UTIL_POWER], 0);
}

/* The facility in the state: the pressure level, the ranking, the alert,
 * HAVE, the client's JSON. */
static void test_facility_effects(void **state) {
    (void)state;
    bp_state_t *st = bp_state_create(&reg, NULL, 0);
    assert_non_null(st);
    bp_change_t c;
    expect_ok(BEDS_HEAD ",\"beds\":{\"icu_adult\":{\"staffed\":75,\"occupied\":10},"
                        "\"medical_surgical\":{\"staffed\":1170,\"occupied\":100}}}",
              &c);
    int h = bp_state_apply(st, &c);
    const bp_hospital_state_t *hs = bp_state_hospital(st, (size_t)h);
    assert_int_equal(bp_pressure_level(hs, &bp_pressure_default, NOW_MS), 1);
    bp_dispatch_cfg_t cfg;
    bp_dispatch_defaults(&cfg);
    bp_rec_query_t q = {.lat = reg.hospitals[h].lat,
                        .lon = reg.hospitals[h].lon,
                        .priority = 1,
                        .now_ms = NOW_MS,
                        .need = cfg.needs[BP_CAT_OTHER]};
    bp_candidate_t out[100];
    size_t n = bp_recommend(st, &cfg, &q, out, 100);
    assert_true(n > 1);
    assert_int_equal(out[0].hospital, h);
    assert_false(out[0].compromised);
    bp_alerts_t *al = bp_alerts_create();
    bp_alert_cfg_t acfg;
    bp_alert_defaults(&acfg);
    bp_alerts_update(al, st, NULL, &acfg, NOW_MS);
    assert_null(bp_alerts_find(al, "facility:bach-mai"));

    /* compromised: level 3, still ranked (said so), an alert */
    expect_ok(with_facility("{\"status\":\"compromised\",\"reason\":\"mất điện\"}"), &c);
    bp_state_apply(st, &c);
    assert_int_equal(bp_pressure_level(hs, &bp_pressure_default, NOW_MS), 3);
    n = bp_recommend(st, &cfg, &q, out, 100);
    assert_int_equal(out[0].hospital, h);
    assert_true(out[0].compromised);
    char en[400];
    bp_candidate_reason(&out[0], &reg, &q.need, "en", en, sizeof en);
    assert_non_null(strstr(en, " · facility compromised"));
    assert_true(bp_alerts_update(al, st, NULL, &acfg, NOW_MS) > 0);
    const bp_alert_t *a = bp_alerts_find(al, "facility:bach-mai");
    assert_non_null(a);
    assert_int_equal(a->value, BP_FAC_COMPROMISED);
    char tv[300], te[300];
    bp_alert_text(a, st, tv, sizeof tv, te, sizeof te);
    assert_string_equal(te, "Bach Mai Hospital: facility compromised");
    assert_string_equal(tv, "Bệnh viện Bạch Mai: cơ sở đang gặp sự cố");
    /* the rule can be turned off */
    acfg.facility = false;
    bp_alerts_update(al, st, NULL, &acfg, NOW_MS);
    assert_null(bp_alerts_find(al, "facility:bach-mai"));
    acfg.facility = true;

    /* evacuating: level 4, never ranked, even alone */
    expect_ok(with_facility("{\"status\":\"evacuating\",\"reason\":\"cháy\",\"power\":\"out\"}"),
              &c);
    bp_state_apply(st, &c);
    assert_int_equal(bp_pressure_level(hs, &bp_pressure_default, NOW_MS), 4);
    n = bp_recommend(st, &cfg, &q, out, 100);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(out[i].hospital, h);
    bp_have_out_t v;
    assert_true(bp_have_view(st, (size_t)h, NOW_MS, -1, &v));
    assert_string_equal(v.facility, "Evacuating");
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 20);
    bp_state_write_hospital(&b, st, (size_t)h, NOW_MS);
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_get(j, "facility.status")->valuestring, "evacuating");
    assert_string_equal(tu_get(j, "facility.power")->valuestring, "out");
    assert_true(cJSON_IsNull(tu_get(j, "facility.water")));
    assert_int_equal((int)tu_num(j, "level"), 4);
    cJSON_Delete(j);
    bp_buf_free(&b);
    /* closed: the same */
    expect_ok(with_facility("{\"status\":\"closed\"}"), &c);
    bp_state_apply(st, &c);
    assert_int_equal(bp_pressure_level(hs, &bp_pressure_default, NOW_MS), 4);
    n = bp_recommend(st, &cfg, &q, out, 100);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(out[i].hospital, h);
    bp_alerts_update(al, st, NULL, &acfg, NOW_MS);
    assert_int_equal(bp_alerts_find(al, "facility:bach-mai")->value, BP_FAC_CLOSED);
    /* normal again: ranked, the alert gone */
    expect_ok(with_facility("{\"status\":\"normal\"}"), &c);
    bp_state_apply(st, &c);
    assert_int_equal(bp_pressure_level(hs, &bp_pressure_default, NOW_MS), 1);
    n = bp_recommend(st, &cfg, &q, out, 100);
    assert_int_equal(out[0].hospital, h);
    bp_alerts_update(al, st, NULL, &acfg, NOW_MS);
    assert_null(bp_alerts_find(al, "facility:bach-mai"));
    bp_alerts_destroy(al);
    bp_state_destroy(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_feed_services),
        cmocka_unit_test(test_feed_services_refused),
        cmocka_unit_test(test_patch_services),
        cmocka_unit_test(test_config_services),
        cmocka_unit_test(test_stored_round_trip),
        cmocka_unit_test(test_state_and_have),
        cmocka_unit_test(test_facility_codecs),
        cmocka_unit_test(test_facility_effects),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
