/*
 * Tests for bp_notify_rules: the webhook body (the same bytes on every
 * attempt, the text in the subscription's language) and its signature,
 * pinned to a value computed apart (openssl dgst -sha256 -hmac); the
 * e-mail (headers, RFC 2047 subject, both parts decoding to the words of
 * the chosen language); the retry schedule (exponential, jittered within
 * bounds, capped, given up after the hour); which answers are retried.
 */
#include "test_util.h"

#include "bp_notify_rules.h"

#include <openssl/evp.h>

#define T0 1795334400000LL /* 2026-11-22 08:00 UTC */

static bp_event_t event(void) {
    static const char data[] = "{\"alert\":{\"id\":\"diversion:bach-mai\",\"rule\":\"diversion\"}}";
    bp_event_t ev = {
        .id = "1795334400000-0",
        .type = BP_EV_ALERT_RAISED,
        .level = 3,
        .at_ms = T0,
        .hospitals = "bach-mai,viet-duc",
        .text_vi = "Bệnh viện Bạch Mai: cấp cứu chuyển hướng",
        .text_en = "Bach Mai Hospital: ED on diversion",
        .data = data,
        .data_len = sizeof data - 1,
    };
    return ev;
}

static void test_webhook_body(void **state) {
    (void)state;
    bp_event_t ev = event();
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_webhook_body(&b, &ev, "s-0a0b0c0d", "en");
    cJSON *j = tu_parse_buf(&b);
    assert_string_equal(tu_str(j, "id"), "1795334400000-0");
    assert_string_equal(tu_str(j, "type"), "alert.raised");
    assert_string_equal(tu_str(j, "at"), "2026-11-22T08:00:00.000Z");
    assert_int_equal(tu_num(j, "level"), 3);
    assert_string_equal(tu_str(j, "hospitals.1"), "viet-duc");
    assert_string_equal(tu_str(j, "text"), "Bach Mai Hospital: ED on diversion");
    assert_string_equal(tu_str(j, "subscription"), "s-0a0b0c0d");
    assert_string_equal(tu_str(j, "data.alert.id"), "diversion:bach-mai");
    cJSON_Delete(j);
    /* the same bytes every time (retries carry the attempt in a header) */
    bp_buf_t again;
    bp_buf_init(&again, 0, 1 << 16);
    bp_webhook_body(&again, &ev, "s-0a0b0c0d", "en");
    assert_int_equal(again.len, b.len);
    assert_memory_equal(bp_buf_data(&again), bp_buf_data(&b), b.len);
    bp_buf_reset(&again);
    bp_webhook_body(&again, &ev, "s-0a0b0c0d", "vi");
    j = tu_parse_buf(&again);
    assert_string_equal(tu_str(j, "text"), "Bệnh viện Bạch Mai: cấp cứu chuyển hướng");
    cJSON_Delete(j);
    bp_buf_free(&again);
    bp_buf_free(&b);
}

static void test_signature(void **state) {
    (void)state;
    /* printf '%s' '{"id":"1-0","type":"alert.raised"}' |
     *   openssl dgst -sha256 -hmac 'sixteen-chars-secret' */
    const char *body = "{\"id\":\"1-0\",\"type\":\"alert.raised\"}";
    char sig[BP_SIGNATURE_LEN + 1];
    bp_webhook_sign("sixteen-chars-secret", 20, body, strlen(body), sig);
    assert_string_equal(sig,
                        "sha256=daab32c7b5930c8579c9863a66ad8a72a4d077b48a8de620763419033c7c592c");
    char other[BP_SIGNATURE_LEN + 1];
    bp_webhook_sign("sixteen-chars-secreT", 20, body, strlen(body), other);
    assert_string_not_equal(sig, other);
}

/* The decoded bytes of the base64 part after `header` in msg. */
static char *decode_part(const char *msg, const char *header) {
    const char *p = strstr(msg, header);
    assert_non_null(p);
    p = strstr(p, "\r\n\r\n");
    assert_non_null(p);
    p += 4;
    const char *end = strstr(p, "\r\n--");
    assert_non_null(end);
    char *clean = calloc(1, (size_t)(end - p) + 1), *out = calloc(1, (size_t)(end - p) + 1);
    size_t n = 0;
    for (const char *q = p; q < end; q++)
        if (*q != '\r' && *q != '\n') clean[n++] = *q;
    int len = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)clean, (int)n);
    assert_true(len >= 0);
    while (n && clean[n - 1] == '=') {
        len--;
        n--;
    }
    out[len] = '\0';
    free(clean);
    return out;
}

static void test_email(void **state) {
    (void)state;
    bp_event_t ev = event();
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_email_message(&b, &ev, "bedpulse@so-y-te.example.org", "lan@example.org", "s-0a0b0c0d", "vi",
                     420);
    bp_buf_putc(&b, '\0');
    const char *m = bp_buf_data(&b);
    assert_non_null(strstr(m, "From: BedPulse <bedpulse@so-y-te.example.org>\r\n"));
    assert_non_null(strstr(m, "To: <lan@example.org>\r\n"));
    assert_non_null(strstr(m, "Date: Sun, 22 Nov 2026 15:00:00 +0700\r\n"));
    assert_non_null(strstr(m, "Message-ID: <1795334400000-0.s-0a0b0c0d@so-y-te.example.org>\r\n"));
    assert_non_null(strstr(m, "Subject: =?UTF-8?B?"));
    assert_non_null(strstr(m, "Content-Type: multipart/alternative"));
    /* no bare LF: every line ends in CRLF, none longer than 998 bytes */
    for (const char *p = m; *p; p++)
        if (*p == '\n') assert_true(p > m && p[-1] == '\r');
    for (const char *p = m, *nl; (nl = strstr(p, "\r\n")); p = nl + 2)
        assert_true(nl - p <= 998);
    char *plain = decode_part(m, "Content-Type: text/plain");
    assert_non_null(strstr(plain, "Bệnh viện Bạch Mai: cấp cứu chuyển hướng"));
    assert_non_null(strstr(plain, "Cảnh báo mới"));
    assert_non_null(strstr(plain, "15:00 22/11/2026"));
    assert_non_null(strstr(plain, "s-0a0b0c0d"));
    char *html = decode_part(m, "Content-Type: text/html");
    assert_non_null(strstr(html, "<html lang=\"vi\">"));
    assert_non_null(strstr(html, "Bệnh viện Bạch Mai"));
    free(plain);
    free(html);
    /* in English, and text that could be markup is escaped */
    ev.text_en = "<b>Bach Mai</b> & co";
    bp_buf_reset(&b);
    bp_email_message(&b, &ev, "bp@example.org", "lan@example.org", "s-1", "en", 420);
    bp_buf_putc(&b, '\0');
    html = decode_part(bp_buf_data(&b), "Content-Type: text/html");
    assert_non_null(strstr(html, "&lt;b&gt;Bach Mai&lt;/b&gt; &amp; co"));
    assert_non_null(strstr(html, "New alert"));
    free(html);
    bp_buf_free(&b);
}

static void test_subject_words(void **state) {
    (void)state;
    /* a long Vietnamese sentence: split into encoded words that each hold
     * whole characters and decode back to the sentence */
    bp_event_t ev = event();
    ev.text_vi = "21 bệnh viện ở mức áp lực 4: Bệnh viện Bạch Mai, Bệnh viện Hữu nghị Việt Đức, "
                 "Bệnh viện Thanh Nhàn và 18 nơi khác";
    bp_buf_t b;
    bp_buf_init(&b, 0, 1 << 16);
    bp_email_message(&b, &ev, "bp@example.org", "a@example.org", "s-1", "vi", 420);
    bp_buf_putc(&b, '\0');
    const char *p = strstr(bp_buf_data(&b), "Subject: ") + 9;
    const char *end = strstr(p, "\r\nDate:");
    char decoded[1024] = "";
    while (p < end) {
        const char *w = strstr(p, "=?UTF-8?B?");
        if (!w || w > end) break;
        w += 10;
        const char *we = strstr(w, "?=");
        assert_true(we - w + 12 <= 75);
        unsigned char out[200];
        int n = EVP_DecodeBlock(out, (const unsigned char *)w, (int)(we - w));
        for (const char *q = we; q > w && q[-1] == '='; q--)
            n--;
        out[n] = '\0';
        /* each word starts on a character boundary */
        assert_true((out[0] & 0xc0) != 0x80);
        strncat(decoded, (char *)out, sizeof decoded - strlen(decoded) - 1);
        p = we + 2;
    }
    char want[600];
    snprintf(want, sizeof want, "[BedPulse] %s", ev.text_vi);
    assert_string_equal(decoded, want);
    bp_buf_free(&b);
}

static void test_retry_schedule(void **state) {
    (void)state;
    bp_retry_cfg_t c;
    bp_retry_defaults(&c);
    assert_int_equal(c.base_ms, 5000);
    assert_int_equal(c.max_age_ms, 3600000);
    /* attempt n waits between half and all of base * 2^(n-1), capped */
    int64_t full[] = {5000, 10000, 20000, 40000, 80000, 160000, 320000, 600000, 600000};
    for (int n = 1; n <= 9; n++) {
        int64_t lo = bp_retry_next(&c, n, T0, T0, 0) - T0;
        int64_t hi = bp_retry_next(&c, n, T0, T0, UINT32_MAX) - T0;
        assert_int_equal(lo, full[n - 1] / 2);
        assert_true(hi >= lo && hi <= full[n - 1]);
        for (uint32_t r = 1; r < 50; r++) {
            int64_t d = bp_retry_next(&c, n, T0, T0, r * 2654435761u) - T0;
            assert_true(d >= full[n - 1] / 2 && d <= full[n - 1]);
        }
    }
    /* never past the hour after the first attempt; given up once it is reached */
    int64_t first = T0, now = T0 + 3590000;
    assert_int_equal(bp_retry_next(&c, 9, first, now, UINT32_MAX), first + 3600000);
    assert_int_equal(bp_retry_next(&c, 10, first, first + 3600000, 0), -1);
    /* nor after max_attempts */
    assert_int_equal(bp_retry_next(&c, c.max_attempts, first, first + 1000, 0), -1);
    /* a full hour of failures ends in a dead letter after a bounded number of tries */
    int attempts = 0;
    for (int64_t t = first;; attempts++) {
        int64_t next = bp_retry_next(&c, attempts + 1, first, t, 7u * (uint32_t)attempts);
        if (next < 0) break;
        assert_true(next > t);
        t = next;
    }
    assert_true(attempts >= 8 && attempts < c.max_attempts);
}

static void test_outcomes(void **state) {
    (void)state;
    assert_int_equal(bp_http_outcome(200), BP_OUTCOME_OK);
    assert_int_equal(bp_http_outcome(204), BP_OUTCOME_OK);
    assert_int_equal(bp_http_outcome(0), BP_OUTCOME_RETRY);
    assert_int_equal(bp_http_outcome(500), BP_OUTCOME_RETRY);
    assert_int_equal(bp_http_outcome(503), BP_OUTCOME_RETRY);
    assert_int_equal(bp_http_outcome(429), BP_OUTCOME_RETRY);
    assert_int_equal(bp_http_outcome(408), BP_OUTCOME_RETRY);
    assert_int_equal(bp_http_outcome(301), BP_OUTCOME_PERMANENT);
    assert_int_equal(bp_http_outcome(400), BP_OUTCOME_PERMANENT);
    assert_int_equal(bp_http_outcome(410), BP_OUTCOME_PERMANENT);
    assert_int_equal(bp_smtp_outcome(250), BP_OUTCOME_OK);
    assert_int_equal(bp_smtp_outcome(451), BP_OUTCOME_RETRY);
    assert_int_equal(bp_smtp_outcome(0), BP_OUTCOME_RETRY);
    assert_int_equal(bp_smtp_outcome(550), BP_OUTCOME_PERMANENT);
}

static void test_dates(void **state) {
    (void)state;
    char d[48];
    bp_rfc5322_date(T0, 420, d, sizeof d);
    assert_string_equal(d, "Sun, 22 Nov 2026 15:00:00 +0700");
    bp_rfc5322_date(T0, -330, d, sizeof d);
    assert_string_equal(d, "Sun, 22 Nov 2026 02:30:00 -0530");
    bp_rfc5322_date(0, 0, d, sizeof d);
    assert_string_equal(d, "Thu, 1 Jan 1970 00:00:00 +0000");
    bp_rfc5322_date(951782400000LL, 0, d, sizeof d); /* a leap day */
    assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 +0000");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_body),   cmocka_unit_test(test_signature),
        cmocka_unit_test(test_email),          cmocka_unit_test(test_subject_words),
        cmocka_unit_test(test_retry_schedule), cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
