/*
 * libFuzzer harness for what people send to the notification API and
 * what the server reads back from Redis for it: the first byte picks the
 * parser, the rest is its input. Subscription bodies (and the stored form:
 * an accepted body must come back unchanged through it), mute bodies,
 * webhook URLs and e-mail addresses (an accepted URL has a host, a port
 * and a path; an accepted address has no byte that could break a mail
 * header), and stored alert records.
 */
#include "bp_alert_groups.h"
#include "bp_codec_config.h"
#include "bp_config.h"
#include "bp_netaddr.h"
#include "bp_subs.h"
#include "interop_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bp_sub_t sub, back; /* large: not on the stack */

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 1) return 0;
    const bp_registry_t *reg = fuzz_registry();
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0: {
        bp_errors_t errs;
        int rc = bp_sub_parse(in, n, reg, false, &sub, &errs);
        fuzz_check_errors(&errs);
        if ((rc == 0) != (errs.n == 0)) abort();
        if (rc) break;
        if (!sub.events || sub.min_level < 1 || sub.min_level > 4) abort();
        if (sub.channel == BP_CH_WEBHOOK && (!sub.url[0] || strlen(sub.secret) < BP_SUB_SECRET_MIN))
            abort();
        if (sub.channel == BP_CH_EMAIL && strpbrk(sub.address, "\r\n<> ,;")) abort();
        /* what Redis keeps reads back the same */
        snprintf(sub.id, sizeof sub.id, "s-0123456789abcdef");
        if (!sub.owner[0]) snprintf(sub.owner, sizeof sub.owner, "t-01020304");
        bp_buf_t b;
        bp_buf_init(&b, 0, 1u << 20);
        bp_sub_write(&b, &sub, reg, true);
        if (b.failed || bp_sub_parse(bp_buf_data(&b), b.len, reg, true, &back, &errs)) abort();
        if (memcmp(&sub, &back, sizeof sub) != 0) abort();
        bp_buf_free(&b);
        break;
    }
    case 1: {
        bp_errors_t errs;
        int rc = bp_sub_parse(in, n, reg, true, &sub, &errs);
        fuzz_check_errors(&errs);
        if ((rc == 0) != (errs.n == 0)) abort();
        break;
    }
    case 2: {
        bp_errors_t errs;
        bp_alert_rule_t rule;
        int min;
        int rc = bp_alert_mute_parse(in, n, &rule, &min, &errs);
        fuzz_check_errors(&errs);
        if (rc == 0 && (min < 1 || min > BP_MUTE_MAX_MIN || (unsigned)rule >= BP_ALERT__COUNT))
            abort();
        break;
    }
    case 3: {
        bp_url_t u;
        bp_error_t err;
        if (bp_url_parse(in, n, &u, "url", &err) == 0) {
            if (!u.host[0] || u.port < 1 || u.port > 65535 || u.path[0] != '/') abort();
            if (strpbrk(u.host, "@/?# ")) abort();
            if (u.host_is_ip && bp_addr_classify_text(u.host) < 0) abort();
        } else if (strcmp(err.field, "url") != 0) {
            abort();
        }
        if (bp_email_check(in, n, "address", &err) == 0 &&
            (memchr(in, '\r', n) || memchr(in, '\n', n) || memchr(in, '<', n) ||
             memchr(in, '>', n)))
            abort();
        break;
    }
    default: {
        bp_arecs_t s;
        bp_arecs_init(&s);
        if (bp_arecs_add_stored(&s, "level4:group.1", in, n) == 0) {
            if (s.n != 1 || s.r[0].n == 0) abort();
            bp_buf_t b;
            bp_buf_init(&b, 0, 1u << 22);
            bp_arec_write_stored(&b, &s.r[0]);
            if (b.failed || bp_arecs_add_stored(&s, "x", bp_buf_data(&b), b.len) ||
                s.r[1].n != s.r[0].n)
                abort();
            bp_buf_free(&b);
        }
        bp_arecs_free(&s);
        break;
    }
    }
    return 0;
}
