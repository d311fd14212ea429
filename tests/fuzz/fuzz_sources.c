/*
 * libFuzzer harness for the pollers' sources file (config/sources.json,
 * collector.sources) through bp_sources_parse against the real registry,
 * and for what the poller derives from an accepted source: the URL shown
 * in logs and status, the hospital a source's id names, the delay after
 * failures.
 *
 * An accepted file holds only what its rules allow: ids of [a-z0-9-]{1,15}
 * used once, http(s) URLs within their bound, intervals and timeouts in
 * range, headers "Name: value" with no control character (they go out in
 * requests: no header can be injected), hospitals that exist. The URL
 * shown never holds user information, a query or a fragment (they may
 * hold credentials). A refusal names a field and says why. Everything
 * allocated is freed.
 */
#include "bp_registry.h"
#include "bp_sources.h"
#include "fuzz_util.h"
#include "interop_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bp_registry_t *real; /* config/hospitals.json */

static void ended(const char *s, size_t cap) {
    if (strnlen(s, cap) == cap) abort();
}

static void no_controls(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) abort();
}

static void source_valid(const bp_source_t *s) {
    ended(s->id, sizeof s->id);
    size_t n = strlen(s->id);
    if (n == 0 || n > BP_SOURCE_ID_MAX) abort();
    for (size_t i = 0; i < n; i++)
        if (!((s->id[i] >= 'a' && s->id[i] <= 'z') || (s->id[i] >= '0' && s->id[i] <= '9') ||
              s->id[i] == '-'))
            abort();
    ended(s->url, sizeof s->url);
    if (strncmp(s->url, "http://", 7) != 0 && strncmp(s->url, "https://", 8) != 0) abort();
    if ((unsigned)s->format >= BP_FORMAT__COUNT || !bp_format_name(s->format)) abort();
    if (s->interval_s < 1 || s->interval_s > 86400 || s->timeout_s < 1 || s->timeout_s > 300)
        abort();
    if (s->n_headers > BP_SOURCE_HEADERS) abort();
    for (size_t k = 0; k < s->n_headers; k++) {
        const char *h = s->headers[k];
        ended(h, sizeof s->headers[k]);
        const char *colon = strstr(h, ": ");
        if (!colon || colon == h) abort();
        for (const char *c = h; c < colon; c++)
            if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= '0' && *c <= '9') || *c == '-'))
                abort();
        no_controls(h);
    }
    if (s->all_hospitals && s->n_map) abort();
    for (size_t k = 0; k < s->n_map; k++) {
        const bp_source_map_t *m = &s->map[k];
        ended(m->ext, sizeof m->ext);
        if (m->hospital < 0 || (size_t)m->hospital >= real->n_hospitals) abort();
        /* the id names its hospital (the first mapping of a repeated id wins) */
        int h = bp_source_hospital(s, real, m->ext, strlen(m->ext));
        if (h < 0 || (size_t)h >= real->n_hospitals) abort();
    }
    /* what logs and the status page show of the URL */
    char shown[BP_SOURCE_URL_MAX + 1];
    bp_sources_url_shown(s->url, shown, sizeof shown);
    ended(shown, sizeof shown);
    if (strpbrk(shown, "?#")) abort();
    size_t scheme = (size_t)(strchr(s->url, ':') - s->url) + 3;
    if (strncmp(shown, s->url, scheme) != 0) abort(); /* the scheme */
    /* no user information in the authority (a path may hold an '@') */
    const char *auth = shown + scheme;
    const char *at = strchr(auth, '@');
    if (at && at < auth + strcspn(auth, "/")) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    real = fuzz_registry();
    bp_sources_t out;
    bp_error_t err;
    memset(&out, 0, sizeof out);
    memset(&err, 0, sizeof err);
    if (bp_sources_parse((const char *)data, size, real, &out, &err) == 0) {
        if (out.n > BP_SOURCES_MAX) abort();
        for (size_t i = 0; i < out.n; i++) {
            source_valid(&out.s[i]);
            for (size_t k = 0; k < i; k++)
                if (strcmp(out.s[k].id, out.s[i].id) == 0) abort(); /* ids used once */
            /* the delay after failures: positive, within its cap */
            int f = (int)(data[i % (size ? size : 1)] % 40);
            int64_t d = bp_sources_delay_ms(out.s[i].interval_s, f, (uint32_t)i * 2654435761u);
            int64_t cap =
                (int64_t)(out.s[i].interval_s > BP_SOURCE_BACKOFF_MAX_S ? out.s[i].interval_s
                                                                        : BP_SOURCE_BACKOFF_MAX_S) *
                1000;
            if (d <= 0 || d > cap) abort();
        }
        bp_sources_free(&out);
    } else {
        fz_check_error(&err);
        if (out.s) abort(); /* freed on refusal */
    }
    return 0;
}
