/*
 * Tests for bp_sentinel: the sentinel list of the settings, the order in
 * which sentinels are asked (rounds, the one that answered first next
 * time), and the meaning of sentinel and master replies.
 */
#include "test_util.h"

#include "bp_sentinel.h"

static void parse_ok(const char *text, bp_sentinel_list_t *l) {
    bp_error_t err;
    memset(&err, 0, sizeof err);
    if (bp_sentinel_list_parse(l, text, &err))
        fail_msg("\"%s\" was refused: %s", text, err.message);
}

static void parse_bad(const char *text, const char *msg_part) {
    bp_sentinel_list_t l;
    bp_error_t err;
    memset(&err, 0, sizeof err);
    if (bp_sentinel_list_parse(&l, text, &err) == 0) fail_msg("\"%s\" was accepted", text);
    assert_string_equal(err.code, "bad_setting");
    assert_string_equal(err.field, "redis.sentinels");
    if (!strstr(err.message, "redis.sentinels")) fail_msg("no key in: %s", err.message);
    if (msg_part && !strstr(err.message, msg_part))
        fail_msg("message does not say \"%s\": %s", msg_part, err.message);
}

static void test_list_parse(void **state) {
    (void)state;
    bp_sentinel_list_t l;
    parse_ok("127.0.0.1:26379", &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.addr[0].host, "127.0.0.1");
    assert_int_equal(l.addr[0].port, 26379);

    parse_ok("s1.redis.internal:26379, s2.redis.internal:26380 ,[::1]:5000", &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.addr[0].host, "s1.redis.internal");
    assert_string_equal(l.addr[1].host, "s2.redis.internal");
    assert_int_equal(l.addr[1].port, 26380);
    assert_string_equal(l.addr[2].host, "::1");
    assert_int_equal(l.addr[2].port, 5000);
    char text[64];
    bp_sentinel_addr_format(&l.addr[2], text, sizeof text);
    assert_string_equal(text, "[::1]:5000");
    bp_sentinel_addr_format(&l.addr[0], text, sizeof text);
    assert_string_equal(text, "s1.redis.internal:26379");

    /* the bound: BP_SENTINEL_MAX entries fit, one more does not */
    char many[1024] = "";
    for (int i = 0; i < BP_SENTINEL_MAX; i++) {
        char e[32];
        snprintf(e, sizeof e, "%sh%d:%d", i ? "," : "", i, 26379 + i);
        strcat(many, e);
    }
    parse_ok(many, &l);
    assert_int_equal(l.n, BP_SENTINEL_MAX);
    strcat(many, ",h99:1");
    parse_bad(many, "more than 16");
}

static void test_list_parse_errors(void **state) {
    (void)state;
    parse_bad("", "entry 1");
    parse_bad("127.0.0.1", "host:port");
    parse_bad("127.0.0.1:", NULL);
    parse_bad(":26379", NULL);
    parse_bad("127.0.0.1:0", NULL);
    parse_bad("127.0.0.1:65536", NULL);
    parse_bad("127.0.0.1:-1", NULL);
    parse_bad("127.0.0.1:26379x", NULL);
    parse_bad("127.0.0.1:26379,", "entry 2");
    parse_bad("a:1,,b:2", "entry 2");
    parse_bad("::1:26379", "[v6]:port");  /* IPv6 without brackets */
    parse_bad("[127.0.0.1]:26379", NULL); /* brackets only around IPv6 */
    parse_bad("[::1]26379", NULL);
    parse_bad("bad host:1", NULL);
    parse_bad("host/x:1", NULL);
    parse_bad("a:1,a:1", "twice");
}

/* Rounds: each sentinel once per round, in order; the one that answered
 * goes first and the others keep their order. */
static void test_rotation(void **state) {
    (void)state;
    bp_sentinel_list_t l;
    parse_ok("a:1,b:2,c:3", &l);
    assert_int_equal(bp_sentinel_next(&l), 0);
    assert_int_equal(bp_sentinel_next(&l), 1);
    assert_int_equal(bp_sentinel_next(&l), 2);
    assert_int_equal(bp_sentinel_next(&l), -1); /* round over: back off */
    assert_int_equal(bp_sentinel_next(&l), -1);
    bp_sentinel_restart(&l);
    assert_int_equal(bp_sentinel_next(&l), 0); /* a is down */
    assert_int_equal(bp_sentinel_next(&l), 1); /* b does not know the master */
    assert_int_equal(bp_sentinel_next(&l), 2); /* c answers */
    bp_sentinel_answered(&l, 2);
    /* next time: c first, then a, b */
    assert_int_equal(bp_sentinel_next(&l), 2);
    assert_int_equal(bp_sentinel_next(&l), 0);
    bp_sentinel_answered(&l, 0);
    assert_int_equal(bp_sentinel_next(&l), 0);
    assert_int_equal(bp_sentinel_next(&l), 2);
    assert_int_equal(bp_sentinel_next(&l), 1);
    assert_int_equal(bp_sentinel_next(&l), -1);
    /* answering again from the front changes nothing; an unknown index is ignored */
    bp_sentinel_answered(&l, 0);
    bp_sentinel_answered(&l, 7);
    assert_int_equal(bp_sentinel_next(&l), 0);
    assert_int_equal(bp_sentinel_next(&l), 2);
    assert_int_equal(bp_sentinel_next(&l), 1);
    /* one sentinel */
    parse_ok("only:26379", &l);
    assert_int_equal(bp_sentinel_next(&l), 0);
    assert_int_equal(bp_sentinel_next(&l), -1);
    bp_sentinel_answered(&l, 0);
    assert_int_equal(bp_sentinel_next(&l), 0);
}

static void test_master_addr(void **state) {
    (void)state;
    bp_sentinel_addr_t a;
    assert_int_equal(bp_sentinel_addr_parse("10.0.0.5", 8, "6379", 4, &a), 0);
    assert_string_equal(a.host, "10.0.0.5");
    assert_int_equal(a.port, 6379);
    assert_int_equal(bp_sentinel_addr_parse("fe80::1", 7, "6380", 4, &a), 0);
    assert_string_equal(a.host, "fe80::1");
    /* lengths count, not terminators */
    assert_int_equal(bp_sentinel_addr_parse("10.0.0.6xyz", 8, "63799", 4, &a), 0);
    assert_string_equal(a.host, "10.0.0.6");
    assert_int_equal(a.port, 6379);
    assert_int_equal(bp_sentinel_addr_parse("", 0, "6379", 4, &a), -1);
    assert_int_equal(bp_sentinel_addr_parse("10.0.0.5", 8, "", 0, &a), -1);
    assert_int_equal(bp_sentinel_addr_parse("10.0.0.5", 8, "0", 1, &a), -1);
    assert_int_equal(bp_sentinel_addr_parse("10.0.0.5", 8, "70000", 5, &a), -1);
    assert_int_equal(bp_sentinel_addr_parse("10.0.0.5", 8, "+6379", 5, &a), -1);
    assert_int_equal(bp_sentinel_addr_parse("10.0.0.5\r\n", 10, "6379", 4, &a), -1);
    char longhost[300];
    memset(longhost, 'a', sizeof longhost);
    assert_int_equal(bp_sentinel_addr_parse(longhost, 254, "6379", 4, &a), -1);
    assert_int_equal(bp_sentinel_addr_parse(longhost, 253, "6379", 4, &a), 0);
}

static void test_switch_master(void **state) {
    (void)state;
    bp_sentinel_addr_t a;
    const char *m = "bedpulse 127.0.0.1 6379 127.0.0.1 6380";
    assert_int_equal(bp_sentinel_switch_parse(m, strlen(m), "bedpulse", &a), 0);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 6380);
    /* another master of the same sentinels: not ours */
    assert_int_equal(bp_sentinel_switch_parse(m, strlen(m), "bedpulse2", &a), -1);
    assert_int_equal(bp_sentinel_switch_parse(m, strlen(m), "bedpuls", &a), -1);
    const char *other = "billing 10.0.0.1 6379 10.0.0.2 6379";
    assert_int_equal(bp_sentinel_switch_parse(other, strlen(other), "bedpulse", &a), -1);
    const char *short_ = "bedpulse 127.0.0.1 6379 127.0.0.1";
    assert_int_equal(bp_sentinel_switch_parse(short_, strlen(short_), "bedpulse", &a), -1);
    const char *extra = "bedpulse 127.0.0.1 6379 127.0.0.1 6380 x";
    assert_int_equal(bp_sentinel_switch_parse(extra, strlen(extra), "bedpulse", &a), -1);
    const char *badport = "bedpulse 127.0.0.1 6379 127.0.0.1 0";
    assert_int_equal(bp_sentinel_switch_parse(badport, strlen(badport), "bedpulse", &a), -1);
    const char *v6 = "bedpulse ::1 6379 ::1 6381";
    assert_int_equal(bp_sentinel_switch_parse(v6, strlen(v6), "bedpulse", &a), 0);
    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 6381);
    assert_int_equal(bp_sentinel_switch_parse("", 0, "bedpulse", &a), -1);
}

static void test_role_and_errors(void **state) {
    (void)state;
    assert_true(bp_sentinel_role_is_master("master", 6));
    assert_false(bp_sentinel_role_is_master("slave", 5));
    assert_false(bp_sentinel_role_is_master("sentinel", 8));
    assert_false(bp_sentinel_role_is_master("masterx", 7));
    assert_false(bp_sentinel_role_is_master("mast", 4));
    assert_false(bp_sentinel_role_is_master(NULL, 0));

    const char *ro = "READONLY You can't write against a read only replica.";
    assert_true(bp_sentinel_error_wants_master(ro, strlen(ro)));
    const char *loading = "LOADING Redis is loading the dataset in memory";
    assert_true(bp_sentinel_error_wants_master(loading, strlen(loading)));
    const char *down =
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    assert_true(bp_sentinel_error_wants_master(down, strlen(down)));
    assert_true(bp_sentinel_error_wants_master("READONLY", 8));
    const char *noscript = "NOSCRIPT No matching script.";
    assert_false(bp_sentinel_error_wants_master(noscript, strlen(noscript)));
    assert_false(bp_sentinel_error_wants_master("ERR wrong number of arguments", 29));
    assert_false(bp_sentinel_error_wants_master("READONLYX", 9));
    assert_false(bp_sentinel_error_wants_master(NULL, 0));
}

static void test_master_name(void **state) {
    (void)state;
    assert_true(bp_sentinel_name_ok("bedpulse"));
    assert_true(bp_sentinel_name_ok("hanoi-prod_1.redis"));
    assert_false(bp_sentinel_name_ok(""));
    assert_false(bp_sentinel_name_ok("has space"));
    assert_false(bp_sentinel_name_ok("a\nb"));
    char name[BP_SENTINEL_NAME_MAX + 2];
    memset(name, 'n', sizeof name);
    name[BP_SENTINEL_NAME_MAX] = '\0';
    assert_true(bp_sentinel_name_ok(name));
    name[BP_SENTINEL_NAME_MAX] = 'n';
    name[BP_SENTINEL_NAME_MAX + 1] = '\0';
    assert_false(bp_sentinel_name_ok(name));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_parse),    cmocka_unit_test(test_list_parse_errors),
        cmocka_unit_test(test_rotation),      cmocka_unit_test(test_master_addr),
        cmocka_unit_test(test_switch_master), cmocka_unit_test(test_role_and_errors),
        cmocka_unit_test(test_master_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
