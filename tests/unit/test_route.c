/* Unit tests for core/bp_route.c: paths to their route template. */
#include "test_util.h"

#include "bp_route.h"

static const char *route(const char *path) {
    return bp_route_name(bp_route_of(path));
}

static void test_templates(void **state) {
    (void)state;
    assert_string_equal(route("/healthz"), "/healthz");
    assert_string_equal(route("/api/v1/hospitals"), "/api/v1/hospitals");
    assert_string_equal(route("/api/v1/hospitals/bach-mai"), "/api/v1/hospitals/{id}");
    assert_string_equal(route("/api/v1/hospitals/bach-mai/import"),
                        "/api/v1/hospitals/{id}/import");
    assert_string_equal(route("/api/v1/alerts/level4:bach-mai/ack"), "/api/v1/alerts/{id}/ack");
    assert_string_equal(route("/api/v1/alerts/mutes/level4"), "/api/v1/alerts/mutes/{rule}");
    assert_string_equal(route("/api/v1/subscriptions/s-01"), "/api/v1/subscriptions/{id}");
    assert_string_equal(route("/api/v1/public/daily.csv"), "/api/v1/public/daily.csv");
    assert_string_equal(route("/api/v1/mci/MCI-1/answers/viet-duc"),
                        "/api/v1/mci/{id}/answers/{hospital}");
    assert_string_equal(route("/api/v1/mci/MCI-1/close"), "/api/v1/mci/{id}/close");
    assert_string_equal(route("/ws"), "/ws");
    assert_string_equal(route("/api/v1/export/have"), "/api/v1/export/have");
    assert_string_equal(route("/api/v1/history.csv"), "/api/v1/history.csv");
    assert_string_equal(route("/api/v1/feed"), "/api/v1/feed");
    assert_string_equal(route("/api/v1/export/xml"), "/api/other");
}

static void test_bounded(void **state) {
    (void)state;
    /* unknown API paths share one name, everything else is static */
    assert_string_equal(route("/api/v1/nope"), "/api/other");
    assert_string_equal(route("/api/v1/hospitals/"), "/api/other"); /* empty {id} */
    assert_string_equal(route("/api/v1/hospitals/a/b/c"), "/api/other");
    assert_string_equal(route("/api"), "/api/other");
    assert_string_equal(route("/"), "static");
    assert_string_equal(route("/wall/"), "static");
    assert_string_equal(route("/apix"), "static");
    assert_string_equal(route(""), "static");
    /* every index has a name, and no name past the end */
    for (size_t i = 0; i < bp_route_count(); i++)
        assert_non_null(bp_route_name(i));
    assert_null(bp_route_name(bp_route_count()));
}

/* The route table's matcher: {x} one non-empty segment, {*} the rest. */
static void test_match(void **state) {
    (void)state;
    assert_true(bp_route_match("/api/v1/hospitals/{id}", "/api/v1/hospitals/bach-mai"));
    assert_false(bp_route_match("/api/v1/hospitals/{id}", "/api/v1/hospitals/"));
    assert_false(bp_route_match("/api/v1/hospitals/{id}", "/api/v1/hospitals/a/b"));
    assert_true(bp_route_match("/api/v1/hospitals/{*}", "/api/v1/hospitals/"));
    assert_true(bp_route_match("/api/v1/hospitals/{*}", "/api/v1/hospitals/a/b"));
    assert_false(bp_route_match("/api/v1/hospitals/{*}", "/api/v1/hospitals"));
    assert_true(bp_route_match("/api/v1/alerts/{*}/ack", "/api/v1/alerts/a/b/ack"));
    assert_true(bp_route_match("/api/v1/alerts/{*}/ack", "/api/v1/alerts//ack"));
    assert_false(bp_route_match("/api/v1/alerts/{*}/ack", "/api/v1/alerts/a/acks"));
    assert_false(bp_route_match("/api/v1/alerts/{*}/ack", "/api/v1/alerts/ack"));
    assert_true(bp_route_match("/api/{*}", "/api/anything/at/all"));
    assert_true(bp_route_match("/healthz", "/healthz"));
    assert_false(bp_route_match("/healthz", "/healthz/"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
