/* The feed protocol's shared rules: hello checks, who may feed what, the
 * block after an unavailable, reply lines and lines of a body. */
#include "bp_feedline.h"
#include "test_util.h"

static bp_registry_t reg;

static int setup(void **state) {
    (void)state;
    tu_load_registry(&reg);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static void test_hello_check(void **state) {
    (void)state;
    const int64_t now = 1000;
    bp_error_t err;
    bp_principal_t f = {.id = "t-1", .role = BP_ROLE_FEED};
    assert_int_equal(bp_feedline_hello_check(&f, true, now, &err), 0);
    assert_int_equal(bp_feedline_hello_check(NULL, false, now, &err), -1);
    assert_string_equal(err.code, "unauthorized");
    assert_string_equal(err.field, "token");
    assert_int_equal(bp_feedline_hello_check(NULL, true, now, &err), -1);
    assert_string_equal(err.message, "unknown token");
    f.revoked_ms = 1;
    assert_int_equal(bp_feedline_hello_check(&f, true, now, &err), -1);
    assert_string_equal(err.message, "this token was revoked");
    f.revoked_ms = 0;
    f.expires_ms = now;
    assert_int_equal(bp_feedline_hello_check(&f, true, now, &err), -1);
    assert_string_equal(err.message, "this token has expired");
    bp_principal_t w = {.id = "t-2", .role = BP_ROLE_WALL};
    assert_int_equal(bp_feedline_hello_check(&w, true, now, &err), -1);
    assert_string_equal(err.code, "forbidden");
    assert_non_null(strstr(err.message, "wall"));
    bp_principal_t a = {.id = "t-3", .role = BP_ROLE_ADMIN};
    assert_int_equal(bp_feedline_hello_check(&a, true, now, &err), 0);
}

static void test_authorize(void **state) {
    (void)state;
    const int64_t now = 1000;
    bp_error_t err;
    int bm = bp_registry_hospital(&reg, "bach-mai", 8);
    bp_principal_t f = {.id = "t-1", .role = BP_ROLE_FEED};
    bp_principal_scope_add(&f, bm);
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "bach-mai");
    assert_int_equal(bp_feedline_authorize(&f, &c, &reg, now, &err), 0);
    snprintf(c.id, sizeof c.id, "viet-duc");
    assert_int_equal(bp_feedline_authorize(&f, &c, &reg, now, &err), -1);
    assert_string_equal(err.code, "forbidden");
    assert_string_equal(err.field, "hospital");
    assert_string_equal(err.message, "this token may not report hospital viet-duc");
    /* the fleet needs fleet rights */
    bp_change_init(&c, BP_KIND_AMBULANCE);
    snprintf(c.id, sizeof c.id, "115-HK-03");
    assert_int_equal(bp_feedline_authorize(&f, &c, &reg, now, &err), -1);
    assert_string_equal(err.field, "id");
    f.fleet = true;
    assert_int_equal(bp_feedline_authorize(&f, &c, &reg, now, &err), 0);
    /* a token that went away or was revoked since the hello */
    assert_int_equal(bp_feedline_authorize(NULL, &c, &reg, now, &err), -1);
    assert_string_equal(err.code, "unauthorized");
    f.revoked_ms = 5;
    assert_int_equal(bp_feedline_authorize(&f, &c, &reg, now, &err), -1);
    assert_string_equal(err.code, "unauthorized");
}

static void test_block(void **state) {
    (void)state;
    bp_feed_block_t b = {0};
    uint64_t s1 = bp_feed_source_hash("his-a"), s2 = bp_feed_source_hash("his-b");
    assert_int_not_equal(s1, s2);
    assert_true(bp_feed_block_admit(&b, s1, 10));
    bp_feed_block_set(&b, s1, 10);
    bp_feed_block_set(&b, s1, 11); /* the first refused line is the one to resend */
    assert_int_equal(b.seq, 10);
    assert_false(bp_feed_block_admit(&b, s1, 11)); /* a newer line: not yet */
    assert_false(bp_feed_block_admit(&b, s2, 1));  /* another source: not yet */
    char msg[200];
    bp_feed_block_message(&b, msg, sizeof msg);
    assert_non_null(strstr(msg, "seq 10"));
    assert_true(bp_feed_block_admit(&b, s1, 10)); /* the resend clears it */
    assert_false(b.blocked);
    assert_true(bp_feed_block_admit(&b, s2, 1));
    bp_feed_block_set(&b, s1, 20);
    assert_true(bp_feed_block_admit(&b, s1, 3)); /* an older seq of that source: a resend too */
}

static void test_replies(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 4096);
    bp_feedline_reply_ok(&b, 41, 1234, false);
    assert_string_equal(bp_buf_data(&b), "{\"ok\":true,\"seq\":41,\"offset\":1234}");
    bp_buf_reset(&b);
    bp_feedline_reply_ok(&b, 41, 1234, true);
    assert_string_equal(bp_buf_data(&b),
                        "{\"ok\":true,\"seq\":41,\"offset\":1234,\"duplicate\":true}");
    bp_buf_reset(&b);
    bp_feedline_reply_error(&b, -1, "bad_json", "", "a \"quote\"");
    assert_string_equal(
        bp_buf_data(&b),
        "{\"ok\":false,\"seq\":null,\"error\":\"bad_json\",\"message\":\"a \\\"quote\\\"\"}");
    bp_buf_reset(&b);
    bp_feedline_reply_error(&b, 7, "out_of_range", "beds.burn.occupied", "m");
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "field"), "beds.burn.occupied");
    assert_int_equal((int)tu_num(j, "seq"), 7);
    cJSON_Delete(j);
    bp_buf_reset(&b);
    bp_principal_t p = {.id = "t-9", .role = BP_ROLE_ADMIN};
    bp_feedline_reply_hello(&b, &p);
    j = tu_parse_buf(&b);
    assert_true(cJSON_IsTrue(tu_get(j, "hello")));
    assert_true(cJSON_IsTrue(tu_get(j, "all_hospitals")));
    assert_true(cJSON_IsNull(tu_get(j, "seq")));
    cJSON_Delete(j);
    bp_buf_free(&b);
}

static void test_lines(void **state) {
    (void)state;
    const char body[] = "a\r\nbb\n\nccc";
    size_t pos = 0, len;
    const char *line;
    const char *want[] = {"a", "bb", "", "ccc"};
    for (size_t i = 0; i < 4; i++) {
        assert_true(bp_feedline_next(body, sizeof body - 1, &pos, &line, &len));
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(line, want[i], len);
    }
    assert_false(bp_feedline_next(body, sizeof body - 1, &pos, &line, &len));
    /* nothing after a final newline; nothing in an empty body */
    pos = 0;
    assert_true(bp_feedline_next("x\n", 2, &pos, &line, &len));
    assert_false(bp_feedline_next("x\n", 2, &pos, &line, &len));
    pos = 0;
    assert_false(bp_feedline_next("", 0, &pos, &line, &len));
    assert_true(bp_feedline_is_hello("{\"type\":\"hello\"}", 16));
    assert_false(bp_feedline_is_hello("{\"type\":\"beds\"}", 15));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_check), cmocka_unit_test(test_authorize),
        cmocka_unit_test(test_block),       cmocka_unit_test(test_replies),
        cmocka_unit_test(test_lines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
