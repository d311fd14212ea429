/*
 * Tests for bp_subs: a request body becomes a subscription, or a 422 that
 * names every bad field and its rule; the stored form round-trips (with
 * the secret), the API form never shows the secret; filters, levels and
 * quiet hours (across midnight; level 4 and MCI ignore them) decide which
 * events are delivered.
 */
#include "test_util.h"

#include "bp_subs.h"

#define T0 1795334400000LL /* 2026-11-22 08:00 UTC = 15:00 in Hanoi */

static bp_registry_t reg;

static int setup_group(void **state) {
    (void)state;
    tu_load_registry(&reg);
    return 0;
}

static int teardown_group(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static int parse(const char *json, bp_sub_t *s, bp_errors_t *errs) {
    return bp_sub_parse(json, strlen(json), &reg, false, s, errs);
}

/* Whether errs has an error for field with a message containing word. */
static bool has_error(const bp_errors_t *errs, const char *field, const char *word) {
    for (size_t i = 0; i < errs->n; i++)
        if (strcmp(errs->e[i].field, field) == 0 && strstr(errs->e[i].message, word)) return true;
    return false;
}

static void test_webhook_body(void **state) {
    (void)state;
    bp_sub_t s;
    bp_errors_t errs;
    int rc =
        parse("{\"channel\":\"webhook\",\"url\":\"https://hooks.example.org/bp\","
              "\"secret\":\"0123456789abcdef\",\"events\":[\"alert.raised\",\"ed.status\"],"
              "\"filters\":{\"hospitals\":[\"bach-mai\"],\"tiers\":[\"central\"],\"min_level\":3},"
              "\"lang\":\"en\",\"quiet_hours\":{\"from\":\"22:00\",\"to\":\"06:30\"}}",
              &s, &errs);
    if (rc) fail_msg("%s: %s", errs.e[0].field, errs.e[0].message);
    assert_int_equal(s.channel, BP_CH_WEBHOOK);
    assert_string_equal(s.url, "https://hooks.example.org/bp");
    assert_string_equal(s.secret, "0123456789abcdef");
    assert_int_equal(s.events, 1u << BP_EV_ALERT_RAISED | 1u << BP_EV_ED_STATUS);
    assert_true(s.by_hospital);
    assert_false(s.by_district);
    assert_int_equal(s.tiers, 1u << BP_TIER_CENTRAL);
    assert_int_equal(s.min_level, 3);
    assert_string_equal(s.lang, "en");
    assert_true(s.quiet);
    assert_int_equal(s.quiet_from, 22 * 60);
    assert_int_equal(s.quiet_to, 6 * 60 + 30);
    /* written for Redis (secret kept) and read back the same */
    snprintf(s.id, sizeof s.id, "s-0011aabb");
    snprintf(s.owner, sizeof s.owner, "t-01020304");
    s.created_ms = T0;
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_sub_write(&b, &s, &reg, true);
    bp_sub_t back;
    assert_int_equal(bp_sub_parse(bp_buf_data(&b), b.len, &reg, true, &back, &errs), 0);
    assert_int_equal(memcmp(&back, &s, sizeof s), 0);
    /* the API form has no secret */
    bp_buf_reset(&b);
    bp_sub_write(&b, &s, &reg, false);
    cJSON *j = tu_parse_buf(&b);
    assert_null(tu_get(j, "secret"));
    assert_true(cJSON_IsTrue(tu_get(j, "secret_set")));
    assert_null(strstr(bp_buf_data(&b), "0123456789abcdef"));
    assert_string_equal(tu_str(j, "filters.hospitals.0"), "bach-mai");
    assert_string_equal(tu_str(j, "quiet_hours.to"), "06:30");
    assert_string_equal(tu_str(j, "created"), "2026-11-22T08:00:00.000Z");
    cJSON_Delete(j);
    bp_buf_free(&b);
}

static void test_email_body_defaults(void **state) {
    (void)state;
    bp_sub_t s;
    bp_errors_t errs;
    assert_int_equal(parse("{\"channel\":\"email\",\"address\":\"lan@example.org\","
                           "\"events\":[\"mci.declared\"]}",
                           &s, &errs),
                     0);
    assert_int_equal(s.channel, BP_CH_EMAIL);
    assert_string_equal(s.address, "lan@example.org");
    assert_string_equal(s.lang, "vi");
    assert_int_equal(s.min_level, 1);
    assert_false(s.quiet);
    assert_false(s.by_hospital || s.by_district || s.tiers);
}

static void test_every_bad_field_named(void **state) {
    (void)state;
    bp_sub_t s;
    bp_errors_t errs;
    assert_int_equal(parse("{\"channel\":\"webhook\",\"url\":\"ftp://x.org/\",\"secret\":\"short\","
                           "\"events\":[\"alert.raised\",\"beds.changed\"],"
                           "\"filters\":{\"hospitals\":[\"nowhere\"],\"districts\":[\"dong-da\",7],"
                           "\"tiers\":[\"federal\"],\"min_level\":5,\"colour\":1},"
                           "\"lang\":\"fr\",\"quiet_hours\":{\"from\":\"25:00\",\"to\":\"06:00\"},"
                           "\"owner\":\"not a token\",\"extra\":true}",
                           &s, &errs),
                     -1);
    assert_true(has_error(&errs, "url", "https://"));
    assert_true(has_error(&errs, "secret", "16 to 128"));
    assert_true(has_error(&errs, "events[1]", "beds.changed"));
    assert_true(has_error(&errs, "filters.hospitals[0]", "nowhere"));
    assert_true(has_error(&errs, "filters.districts[1]", "string"));
    assert_true(has_error(&errs, "filters.tiers[0]", "federal"));
    assert_true(has_error(&errs, "filters.min_level", "1 to 4"));
    assert_true(has_error(&errs, "filters.colour", "unknown"));
    assert_true(has_error(&errs, "lang", "\"vi\" or \"en\""));
    assert_true(has_error(&errs, "quiet_hours.from", "HH:MM"));
    assert_true(has_error(&errs, "owner", "token id"));
    assert_true(has_error(&errs, "extra", "unknown"));
    assert_string_equal(s.secret, ""); /* nothing of a refused body is kept */
}

static void test_channel_rules(void **state) {
    (void)state;
    bp_sub_t s;
    bp_errors_t errs;
    assert_int_equal(parse("{\"events\":[\"alert.raised\"]}", &s, &errs), -1);
    assert_true(has_error(&errs, "channel", "required"));
    assert_int_equal(parse("{\"channel\":\"sms\",\"events\":[\"alert.raised\"]}", &s, &errs), -1);
    assert_true(has_error(&errs, "channel", "webhook"));
    assert_int_equal(parse("{\"channel\":\"webhook\",\"events\":[\"alert.raised\"],"
                           "\"address\":\"a@example.org\"}",
                           &s, &errs),
                     -1);
    assert_true(has_error(&errs, "url", "required"));
    assert_true(has_error(&errs, "secret", "required"));
    assert_true(has_error(&errs, "address", "does not belong"));
    assert_int_equal(parse("{\"channel\":\"email\",\"address\":\"a@example.org\\r\\nBcc: b@x.org\","
                           "\"events\":[]}",
                           &s, &errs),
                     -1);
    assert_true(has_error(&errs, "address", "printable ASCII"));
    assert_true(has_error(&errs, "events", "at least one"));
    assert_int_equal(
        parse("{\"channel\":\"email\",\"address\":\"a@example.org\",\"events\":[\"ed.status\"],"
              "\"quiet_hours\":{\"from\":\"06:00\",\"to\":\"06:00\"}}",
              &s, &errs),
        -1);
    assert_true(has_error(&errs, "quiet_hours.to", "differ"));
    /* not JSON, not an object, trailing bytes, a NUL */
    const char *bodies[] = {"", "[1]", "{\"channel\":\"email\"} x", "{\"a\":1"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(parse(bodies[i], &s, &errs), -1);
        assert_int_equal(errs.n, 1);
    }
    assert_int_equal(bp_sub_parse("{\"a\"\0:1}", 9, &reg, false, &s, &errs), -1);
    /* stored-only fields are not for request bodies */
    assert_int_equal(
        parse("{\"channel\":\"email\",\"address\":\"a@example.org\",\"events\":[\"ed.status\"],"
              "\"id\":\"s-1\"}",
              &s, &errs),
        -1);
    assert_true(has_error(&errs, "id", "unknown"));
}

static void test_stored_registry_changed(void **state) {
    (void)state;
    bp_sub_t s;
    bp_errors_t errs;
    /* a hospital that left the registry: the filter then matches nothing */
    const char *json = "{\"id\":\"s-1\",\"owner\":\"t-1\",\"created\":1,\"channel\":\"email\","
                       "\"address\":\"a@example.org\",\"events\":[\"ed.status\"],"
                       "\"filters\":{\"hospitals\":[\"closed-down\"]}}";
    assert_int_equal(bp_sub_parse(json, strlen(json), &reg, true, &s, &errs), 0);
    assert_true(s.by_hospital);
    int h = bp_registry_hospital(&reg, "bach-mai", 8);
    bp_event_match_t ev = {BP_EV_ED_STATUS, 3, &h, 1};
    assert_int_equal(bp_sub_match(&s, &reg, &ev, T0, 420), BP_SUB_FILTERED);
}

static void test_quiet_hours(void **state) {
    (void)state;
    assert_true(bp_quiet_at(22 * 60, 6 * 60, 23 * 60));
    assert_true(bp_quiet_at(22 * 60, 6 * 60, 0));
    assert_true(bp_quiet_at(22 * 60, 6 * 60, 5 * 60 + 59));
    assert_false(bp_quiet_at(22 * 60, 6 * 60, 6 * 60));
    assert_false(bp_quiet_at(22 * 60, 6 * 60, 12 * 60));
    assert_true(bp_quiet_at(12 * 60, 13 * 60, 12 * 60));
    assert_false(bp_quiet_at(12 * 60, 13 * 60, 13 * 60));
    assert_false(bp_quiet_at(8 * 60, 8 * 60, 8 * 60));
    assert_int_equal(bp_local_minute(T0, 420), 15 * 60); /* 08:00 UTC is 15:00 in Hanoi */
    assert_int_equal(bp_local_minute(T0, -300), 3 * 60); /* and 03:00 in New York */
    /* Hanoi's midnight is 17:00 UTC: the last minute of one day, the first
     * of the next (issue 9) */
    int64_t midnight = T0 + 9 * 3600000LL;
    assert_int_equal(bp_local_minute(midnight - 1, 420), 23 * 60 + 59);
    assert_int_equal(bp_local_minute(midnight, 420), 0);
    assert_int_equal(bp_local_minute(midnight + 59999, 420), 0);
    assert_int_equal(bp_local_minute(midnight - 7 * 3600000LL, 420), 17 * 60); /* UTC's midnight */
}

/* Quiet 23:30-00:30 in Hanoi around Hanoi's midnight (17:00 UTC): a level
 * 3 event is held on both sides of it, delivered after (issue 9). */
static void test_quiet_across_local_midnight(void **state) {
    (void)state;
    bp_sub_t s;
    bp_errors_t errs;
    int rc = parse("{\"channel\":\"email\",\"address\":\"a@example.org\","
                   "\"events\":[\"ed.status\"],"
                   "\"quiet_hours\":{\"from\":\"23:30\",\"to\":\"00:30\"}}",
                   &s, &errs);
    if (rc) fail_msg("%s: %s", errs.e[0].field, errs.e[0].message);
    int h = bp_registry_hospital(&reg, "bach-mai", 8);
    bp_event_match_t ev = {BP_EV_ED_STATUS, 3, &h, 1};
    int64_t midnight = T0 + 9 * 3600000LL, m = 60000;
    assert_int_equal(bp_sub_match(&s, &reg, &ev, midnight - 31 * m, 420), BP_SUB_DELIVER);
    assert_int_equal(bp_sub_match(&s, &reg, &ev, midnight - 30 * m, 420), BP_SUB_QUIET);
    assert_int_equal(bp_sub_match(&s, &reg, &ev, midnight - 1, 420), BP_SUB_QUIET);
    assert_int_equal(bp_sub_match(&s, &reg, &ev, midnight, 420), BP_SUB_QUIET);
    assert_int_equal(bp_sub_match(&s, &reg, &ev, midnight + 30 * m - 1, 420), BP_SUB_QUIET);
    assert_int_equal(bp_sub_match(&s, &reg, &ev, midnight + 30 * m, 420), BP_SUB_DELIVER);
}

static void test_matching(void **state) {
    (void)state;
    bp_sub_t s;
    bp_errors_t errs;
    assert_int_equal(parse("{\"channel\":\"email\",\"address\":\"a@example.org\","
                           "\"events\":[\"alert.raised\",\"ed.status\",\"mci.declared\"],"
                           "\"filters\":{\"districts\":[\"dong-da\"],\"min_level\":3},"
                           "\"quiet_hours\":{\"from\":\"14:00\",\"to\":\"16:00\"}}",
                           &s, &errs),
                     0);
    int bm = bp_registry_hospital(&reg, "bach-mai", 8); /* dong-da */
    int vd = bp_registry_hospital(&reg, "viet-duc", 8); /* hoan-kiem */
    int both[2] = {vd, bm};
    int64_t night = T0 + 8 * 3600000LL; /* 23:00 in Hanoi: outside quiet hours */
    bp_event_match_t ev = {BP_EV_ED_STATUS, 3, &bm, 1};
    assert_int_equal(bp_sub_match(&s, &reg, &ev, night, 420), BP_SUB_DELIVER);
    ev.type = BP_EV_HOSPITAL_STALE;
    assert_int_equal(bp_sub_match(&s, &reg, &ev, night, 420), BP_SUB_NOT_WANTED);
    ev.type = BP_EV_ED_STATUS;
    ev.level = 2;
    assert_int_equal(bp_sub_match(&s, &reg, &ev, night, 420), BP_SUB_FILTERED);
    ev.level = 3;
    ev.hospitals = &vd;
    assert_int_equal(bp_sub_match(&s, &reg, &ev, night, 420), BP_SUB_FILTERED);
    ev.hospitals = both; /* a group: one member in the district is enough */
    ev.n_hospitals = 2;
    assert_int_equal(bp_sub_match(&s, &reg, &ev, night, 420), BP_SUB_DELIVER);
    ev.n_hospitals = 0; /* about no hospital: a filtered subscription does not get it */
    assert_int_equal(bp_sub_match(&s, &reg, &ev, night, 420), BP_SUB_FILTERED);
    /* quiet hours 14:00-16:00: T0 is 15:00 there */
    ev.hospitals = &bm;
    ev.n_hospitals = 1;
    assert_int_equal(bp_sub_match(&s, &reg, &ev, T0, 420), BP_SUB_QUIET);
    ev.level = 4; /* level 4 ignores quiet hours */
    assert_int_equal(bp_sub_match(&s, &reg, &ev, T0, 420), BP_SUB_DELIVER);
    ev.type = BP_EV_MCI_DECLARED; /* ...and so does an MCI */
    ev.level = 3;
    assert_int_equal(bp_sub_match(&s, &reg, &ev, T0, 420), BP_SUB_DELIVER);
    /* no filters: events about no hospital pass */
    assert_int_equal(
        parse("{\"channel\":\"email\",\"address\":\"a@example.org\",\"events\":[\"alert.raised\"]}",
              &s, &errs),
        0);
    bp_event_match_t city = {BP_EV_ALERT_RAISED, 3, NULL, 0};
    assert_int_equal(bp_sub_match(&s, &reg, &city, T0, 420), BP_SUB_DELIVER);
}

static void test_event_names(void **state) {
    (void)state;
    for (int t = 0; t < BP_EV__COUNT; t++) {
        const char *n = bp_event_type_name((bp_event_type_t)t);
        assert_int_equal(bp_event_type_parse(n, strlen(n)), t);
    }
    assert_int_equal(bp_event_type_parse("alert", 5), -1);
    assert_null(bp_event_type_name(BP_EV__COUNT));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_body),
        cmocka_unit_test(test_email_body_defaults),
        cmocka_unit_test(test_every_bad_field_named),
        cmocka_unit_test(test_channel_rules),
        cmocka_unit_test(test_stored_registry_changed),
        cmocka_unit_test(test_quiet_hours),
        cmocka_unit_test(test_quiet_across_local_midnight),
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_event_names),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
