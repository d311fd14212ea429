/* Unit tests for core/bp_wsclient.c: what a live-feed client may send. */
#include "test_util.h"
#include "bp_codec_api.h"

#include "bp_wsclient.h"

static void test_frame(void **state) {
    (void)state;
    assert_int_equal(bp_wsclient_frame(false, 0, 0), BP_WSC_OK);
    assert_int_equal(bp_wsclient_frame(false, 0, BP_WSCLIENT_MSG_MAX), BP_WSC_OK);
    assert_int_equal(bp_wsclient_frame(false, 1000, BP_WSCLIENT_MSG_MAX - 1000), BP_WSC_OK);
    assert_int_equal(bp_wsclient_frame(false, 0, BP_WSCLIENT_MSG_MAX + 1), BP_WSC_TOO_BIG);
    assert_int_equal(bp_wsclient_frame(false, 1000, BP_WSCLIENT_MSG_MAX - 999), BP_WSC_TOO_BIG);
    /* no wrap-around with a huge frame */
    assert_int_equal(bp_wsclient_frame(false, 10, SIZE_MAX - 5), BP_WSC_TOO_BIG);
    assert_int_equal(bp_wsclient_frame(true, 0, 1), BP_WSC_BINARY);
    assert_int_equal(bp_wsclient_close_code(BP_WSC_BINARY), 1003);
    assert_string_equal(bp_wsclient_reason(BP_WSC_BINARY), "text only");
    assert_int_equal(bp_wsclient_close_code(BP_WSC_TOO_BIG), 4009);
    assert_string_equal(bp_wsclient_reason(BP_WSC_TOO_BIG), "message too big");
    assert_int_equal(bp_wsclient_close_code(BP_WSC_OK), 0);
    assert_string_equal(bp_wsclient_reason(BP_WSC_OK), "");
}

#define MSG(lit) lit, sizeof lit - 1

static void test_message(void **state) {
    (void)state;
    bp_hello_t h;
    bp_error_t err;
    assert_int_equal(bp_wsclient_message(MSG("{\"type\":\"hello\",\"resume\":{\"epoch\":\"ab\","
                                             "\"offset\":7},\"token\":\"t\"}"),
                                         false, &h, &err),
                     BP_WSC_OK);
    assert_true(h.has_resume);
    assert_string_equal(h.epoch, "ab");
    assert_int_equal(h.offset, 7);
    assert_true(h.has_token);
    assert_string_equal(h.token, "t");
    /* a second hello, good or bad */
    assert_int_equal(bp_wsclient_message(MSG("{\"type\":\"hello\"}"), true, &h, &err),
                     BP_WSC_SECOND_HELLO);
    assert_int_equal(bp_wsclient_close_code(BP_WSC_SECOND_HELLO), 4002);
    assert_string_equal(bp_wsclient_reason(BP_WSC_SECOND_HELLO), "one hello only");
    assert_int_equal(bp_wsclient_message(MSG("{\"type\":\"ping\"}"), true, &h, &err),
                     BP_WSC_BAD_HELLO);
    assert_int_equal(bp_wsclient_message(MSG("{\"type\":\"ping\"}"), false, &h, &err),
                     BP_WSC_BAD_HELLO);
    assert_string_equal(err.code, "unknown_type");
    assert_int_equal(bp_wsclient_message(MSG(""), false, &h, &err), BP_WSC_BAD_HELLO);
    assert_int_equal(bp_wsclient_close_code(BP_WSC_BAD_HELLO), 4002);
    assert_string_equal(bp_wsclient_reason(BP_WSC_BAD_HELLO), "bad hello");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
