/*
 * Tests for bp_netaddr: the webhook URL rules (schemes, hosts, ports, no
 * credentials or fragments, hosts that resolvers would read as numbers),
 * the address classes of the SSRF rule for IPv4 and IPv6 (with IPv4
 * inside IPv6 judged by the IPv4 address) and the e-mail rule.
 */
#include "test_util.h"

#include "bp_netaddr.h"

static int url(const char *s, bp_url_t *u) {
    bp_error_t err;
    int rc = bp_url_parse(s, strlen(s), u, "url", &err);
    if (rc) {
        assert_string_equal(err.field, "url");
        assert_true(strstr(err.message, "url") != NULL);
    }
    return rc;
}

static void test_url_accepted(void **state) {
    (void)state;
    bp_url_t u;
    assert_int_equal(url("https://hooks.example.org/bedpulse?x=1", &u), 0);
    assert_true(u.https);
    assert_string_equal(u.host, "hooks.example.org");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "/bedpulse?x=1");
    assert_false(u.host_is_ip);
    assert_int_equal(url("HTTP://Sink.Example.COM:8081", &u), 0);
    assert_false(u.https);
    assert_string_equal(u.host, "sink.example.com");
    assert_int_equal(u.port, 8081);
    assert_string_equal(u.path, "/");
    assert_int_equal(url("http://127.0.0.1:9000/hook", &u), 0);
    assert_true(u.host_is_ip);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(url("https://[2001:DB8::1]:8443/x", &u), 0);
    assert_true(u.host_is_ip);
    assert_string_equal(u.host, "2001:db8::1");
    assert_int_equal(u.port, 8443);
    assert_int_equal(url("http://localhost?q", &u), 0);
    assert_string_equal(u.path, "/?q");
}

static void test_url_refused(void **state) {
    (void)state;
    bp_url_t u;
    const char *bad[] = {
        "",                              /* empty */
        "ftp://example.org/",            /* scheme */
        "file:///etc/passwd",            /* scheme */
        "https://user:pw@example.org/",  /* credentials */
        "https://example.org@evil.org/", /* credentials in disguise */
        "https://example.org/#frag",     /* fragment */
        "https://exa mple.org/",         /* space */
        "https://example.org:0/",        /* port */
        "https://example.org:65536/",    /* port */
        "https://example.org:80a/",      /* port */
        "https://example.org:/",         /* port */
        "http://2130706433/",            /* 127.0.0.1 as a number */
        "http://0x7f000001/",            /* ...in hex */
        "http://127.1/",                 /* ...shortened */
        "http://0177.0.0.1/",            /* ...in octal: not a dotted quad */
        "http://-bad.example.org/",      /* label */
        "http://bad..example.org/",      /* empty label */
        "http://[::1/",                  /* bracket */
        "http://[fe80::1%25eth0]/",      /* zone */
        "http://[::1]x/",                /* after the bracket */
        "https://example.org/\x01",      /* control */
        "https://exämple.org/",          /* not ASCII */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (url(bad[i], &u) == 0) fail_msg("accepted: %s", bad[i]);
    }
    char longurl[BP_URL_MAX + 40];
    snprintf(longurl, sizeof longurl, "https://example.org/%0*d", BP_URL_MAX, 0);
    assert_int_equal(url(longurl, &u), -1);
}

static void test_address_classes(void **state) {
    (void)state;
    static const struct {
        const char *a;
        bp_addr_class_t c;
    } cases[] = {
        {"8.8.8.8", BP_ADDR_PUBLIC},
        {"203.113.131.1", BP_ADDR_PUBLIC},
        {"127.0.0.1", BP_ADDR_LOOPBACK},
        {"127.255.255.254", BP_ADDR_LOOPBACK},
        {"10.1.2.3", BP_ADDR_PRIVATE},
        {"172.16.0.1", BP_ADDR_PRIVATE},
        {"172.31.255.255", BP_ADDR_PRIVATE},
        {"172.32.0.1", BP_ADDR_PUBLIC},
        {"192.168.1.1", BP_ADDR_PRIVATE},
        {"100.64.0.1", BP_ADDR_PRIVATE},
        {"100.128.0.1", BP_ADDR_PUBLIC},
        {"169.254.169.254", BP_ADDR_LINK_LOCAL},
        {"0.0.0.0", BP_ADDR_UNSPECIFIED},
        {"0.1.2.3", BP_ADDR_UNSPECIFIED},
        {"224.0.0.1", BP_ADDR_MULTICAST},
        {"255.255.255.255", BP_ADDR_MULTICAST},
        {"240.0.0.1", BP_ADDR_RESERVED},
        {"192.0.2.10", BP_ADDR_RESERVED},
        {"198.18.0.1", BP_ADDR_RESERVED},
        {"198.51.100.7", BP_ADDR_RESERVED},
        {"203.0.113.9", BP_ADDR_RESERVED},
        {"192.0.0.8", BP_ADDR_RESERVED},
        {"::", BP_ADDR_UNSPECIFIED},
        {"::1", BP_ADDR_LOOPBACK},
        {"::ffff:127.0.0.1", BP_ADDR_LOOPBACK},
        {"::ffff:10.0.0.1", BP_ADDR_PRIVATE},
        {"::ffff:8.8.8.8", BP_ADDR_PUBLIC},
        {"::127.0.0.1", BP_ADDR_LOOPBACK},
        {"64:ff9b::a9fe:a9fe", BP_ADDR_LINK_LOCAL}, /* NAT64 of 169.254.169.254 */
        {"64:ff9b::808:808", BP_ADDR_PUBLIC},
        {"2002:7f00:1::", BP_ADDR_LOOPBACK}, /* 6to4 of 127.0.0.1 */
        {"fc00::1", BP_ADDR_PRIVATE},
        {"fd12:3456::1", BP_ADDR_PRIVATE},
        {"fe80::1", BP_ADDR_LINK_LOCAL},
        {"ff02::1", BP_ADDR_MULTICAST},
        {"2001:db8::1", BP_ADDR_RESERVED},
        {"2001::1", BP_ADDR_RESERVED},
        {"100::1", BP_ADDR_RESERVED},
        {"2404:6800:4005::200e", BP_ADDR_PUBLIC},
        {"4000::1", BP_ADDR_RESERVED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int c = bp_addr_classify_text(cases[i].a);
        if (c != (int)cases[i].c)
            fail_msg("%s: %s, expected %s", cases[i].a,
                     c < 0 ? "not an address" : bp_addr_class_name((bp_addr_class_t)c),
                     bp_addr_class_name(cases[i].c));
    }
    assert_int_equal(bp_addr_classify_text("example.org"), -1);
    assert_int_equal(bp_addr_classify_text("127.1"), -1);
}

static void test_allowed(void **state) {
    (void)state;
    assert_true(bp_addr_allowed(BP_ADDR_PUBLIC, false));
    for (int c = BP_ADDR_LOOPBACK; c <= BP_ADDR_RESERVED; c++)
        assert_false(bp_addr_allowed((bp_addr_class_t)c, false));
    /* private targets allowed (tests, closed networks): not the unspecified
     * address or multicast all the same */
    assert_true(bp_addr_allowed(BP_ADDR_LOOPBACK, true));
    assert_true(bp_addr_allowed(BP_ADDR_PRIVATE, true));
    assert_true(bp_addr_allowed(BP_ADDR_LINK_LOCAL, true));
    assert_false(bp_addr_allowed(BP_ADDR_UNSPECIFIED, true));
    assert_false(bp_addr_allowed(BP_ADDR_MULTICAST, true));
}

static void test_email(void **state) {
    (void)state;
    bp_error_t err;
    const char *good[] = {"lan@so-y-te.hanoi.gov.vn", "a.b+115@example.org", "X@EXAMPLE.COM"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(bp_email_check(good[i], strlen(good[i]), "address", &err), 0);
    const char *bad[] = {"",
                         "no-at.example.org",
                         "@example.org",
                         "a@",
                         "a@b",
                         "a@@b.org",
                         "a b@example.org",
                         "a@example.org\r\nBcc: x@y.org",
                         "<a@example.org>",
                         "a@exa_mple.org",
                         "a@example.123",
                         "ä@example.org",
                         "a,b@example.org"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (bp_email_check(bad[i], strlen(bad[i]), "address", &err) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_string_equal(err.field, "address");
        assert_string_equal(err.code, "bad_email");
    }
    char local[80];
    memset(local, 'a', 65);
    snprintf(local + 65, sizeof local - 65, "@example.org");
    assert_int_equal(bp_email_check(local, strlen(local), "address", &err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_accepted),    cmocka_unit_test(test_url_refused),
        cmocka_unit_test(test_address_classes), cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_email),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
