/* The pollers' sources file and their timing (bp_sources.h). */
#include "bp_sources.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const format_names[BP_FORMAT__COUNT] = {"have", "fhir", "bedpulse"};

const char *bp_format_name(bp_format_t f) {
    return (unsigned)f < BP_FORMAT__COUNT ? format_names[f] : NULL;
}

void bp_sources_free(bp_sources_t *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++)
        free(s->s[i].map);
    free(s->s);
    s->s = NULL;
    s->n = 0;
}

static bool is_id(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > BP_SOURCE_ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool is_url(const char *s) {
    size_t n = strlen(s);
    if (n > BP_SOURCE_URL_MAX || (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0))
        return false;
    const char *host = strstr(s, "://") + 3;
    if (!*host || *host == '/') return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

static bool is_header_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool is_header_value(const char *s) {
    size_t n = strlen(s);
    if (n > 512) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) return false;
    return true;
}

/* An integer member in [lo, hi], or dflt when absent. */
static int get_int(const cJSON *o, const char *key, const char *path, int lo, int hi, int dflt,
                   int *out, bp_error_t *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char p[64];
    snprintf(p, sizeof p, "%.24s.%.24s", path, key);
    if (!v) {
        if (dflt < 0) return bp_error_set(err, "missing_field", p, "%s is required", p);
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return bp_error_set(err, "out_of_range", p, "%s must be an integer from %d to %d", p, lo,
                            hi);
    *out = (int)v->valuedouble;
    return 0;
}

static int read_source(const cJSON *o, const char *path, const bp_registry_t *reg, bp_source_t *s,
                       bp_error_t *err) {
    static const char *const keys[] = {"id",        "url",     "format",   "interval_s",
                                       "timeout_s", "headers", "hospitals"};
    char p[80];
    if (!cJSON_IsObject(o))
        return bp_error_set(err, "wrong_type", path, "%s must be an object", path);
    for (const cJSON *it = o->child; it; it = it->next) {
        size_t k = 0;
        while (k < sizeof keys / sizeof *keys && strcmp(keys[k], it->string) != 0)
            k++;
        snprintf(p, sizeof p, "%.24s.%.32s", path, it->string);
        if (k == sizeof keys / sizeof *keys)
            return bp_error_set(err, "unknown_field", p, "unknown field %s", p);
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");
    snprintf(p, sizeof p, "%.24s.id", path);
    if (!cJSON_IsString(v) || !is_id(v->valuestring))
        return bp_error_set(err, "bad_value", p, "%s must be 1 to %d characters of [a-z0-9-]", p,
                            BP_SOURCE_ID_MAX);
    snprintf(s->id, sizeof s->id, "%s", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(o, "url");
    snprintf(p, sizeof p, "%.24s.url", path);
    if (!cJSON_IsString(v) || !is_url(v->valuestring))
        return bp_error_set(err, "bad_value", p,
                            "%s must be an http:// or https:// URL of at most %d characters, "
                            "without spaces",
                            p, BP_SOURCE_URL_MAX);
    snprintf(s->url, sizeof s->url, "%s", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(o, "format");
    snprintf(p, sizeof p, "%.24s.format", path);
    int f = -1;
    for (int k = 0; cJSON_IsString(v) && k < BP_FORMAT__COUNT; k++)
        if (strcmp(v->valuestring, format_names[k]) == 0) f = k;
    if (f < 0)
        return bp_error_set(err, "bad_value", p,
                            "%s must be have (EDXL-HAVE 1.0 XML), fhir (FHIR R4 MeasureReport or "
                            "Bundle) or bedpulse (feed lines, NDJSON)",
                            p);
    s->format = (bp_format_t)f;
    if (get_int(o, "interval_s", path, 1, 86400, -1, &s->interval_s, err) ||
        get_int(o, "timeout_s", path, 1, 300, 10, &s->timeout_s, err))
        return -1;
    v = cJSON_GetObjectItemCaseSensitive(o, "headers");
    snprintf(p, sizeof p, "%.24s.headers", path);
    if (v && !cJSON_IsObject(v))
        return bp_error_set(err, "wrong_type", p, "%s must be an object of header names and values",
                            p);
    for (const cJSON *h = v ? v->child : NULL; h; h = h->next) {
        if (s->n_headers == BP_SOURCE_HEADERS)
            return bp_error_set(err, "out_of_range", p, "%s: at most %d headers", p,
                                BP_SOURCE_HEADERS);
        if (!is_header_name(h->string) || !cJSON_IsString(h) || !is_header_value(h->valuestring))
            return bp_error_set(err, "bad_value", p,
                                "%s: a header is a name of [A-Za-z0-9-] and a value of at most "
                                "512 characters without control characters",
                                p);
        snprintf(s->headers[s->n_headers++], BP_SOURCE_HEADER_MAX + 1, "%s: %s", h->string,
                 h->valuestring);
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "hospitals");
    snprintf(p, sizeof p, "%.24s.hospitals", path);
    if (cJSON_IsString(v) && strcmp(v->valuestring, "*") == 0) {
        s->all_hospitals = true;
        return 0;
    }
    if (!cJSON_IsObject(v) || !v->child)
        return bp_error_set(err, "missing_field", p,
                            "%s is required: \"*\" or the source's hospital ids mapped to registry "
                            "ids ({\"BV-01\":\"bach-mai\"})",
                            p);
    size_t n = (size_t)cJSON_GetArraySize(v);
    if (n > BP_REGISTRY_MAX)
        return bp_error_set(err, "out_of_range", p, "%s: at most %d hospitals", p, BP_REGISTRY_MAX);
    s->map = calloc(n, sizeof *s->map);
    if (!s->map) return bp_error_set(err, "no_memory", p, "out of memory");
    for (const cJSON *m = v->child; m; m = m->next) {
        int h = cJSON_IsString(m)
                    ? bp_registry_hospital(reg, m->valuestring, strlen(m->valuestring))
                    : -1;
        if (!bp_registry_is_have_id(m->string, strlen(m->string)) || h < 0)
            return bp_error_set(err, "unknown_hospital", p,
                                "%s: \"%.40s\" must map an id of [A-Za-z0-9._:/-] to a registry "
                                "hospital id",
                                p, m->string);
        for (size_t k = 0; k < s->n_map; k++)
            if (strcmp(s->map[k].ext, m->string) == 0)
                return bp_error_set(err, "duplicate_field", p, "%s: \"%.40s\" appears twice", p,
                                    m->string);
        snprintf(s->map[s->n_map].ext, sizeof s->map[s->n_map].ext, "%s", m->string);
        s->map[s->n_map++].hospital = h;
    }
    return 0;
}

int bp_sources_parse(const char *json, size_t len, const bp_registry_t *reg, bp_sources_t *out,
                     bp_error_t *err) {
    memset(out, 0, sizeof *out);
    if (len == 0 || memchr(json, '\0', len))
        return bp_error_set(err, "bad_json", "", "the sources file must be one JSON object");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    int rc = -1;
    if (!root) {
        bp_error_set(err, "bad_json", "", "malformed JSON");
        goto out;
    }
    for (const cJSON *it = root->child; cJSON_IsObject(root) && it; it = it->next)
        if (strcmp(it->string, "note") != 0 && strcmp(it->string, "sources") != 0) {
            bp_error_set(err, "unknown_field", it->string, "unknown field \"%.40s\"", it->string);
            goto out;
        }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "sources");
    if (!cJSON_IsArray(list)) {
        bp_error_set(err, "missing_field", "sources", "sources is required: an array");
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (n > BP_SOURCES_MAX) {
        bp_error_set(err, "out_of_range", "sources", "at most %d sources", BP_SOURCES_MAX);
        goto out;
    }
    out->s = calloc(n ? n : 1, sizeof *out->s);
    if (!out->s) {
        bp_error_set(err, "no_memory", "", "out of memory");
        goto out;
    }
    size_t i = 0;
    for (const cJSON *o = list->child; o; o = o->next, i++) {
        char p[48];
        snprintf(p, sizeof p, "sources[%zu]", i);
        out->n = i + 1;
        if (read_source(o, p, reg, &out->s[i], err)) goto out;
        for (size_t k = 0; k < i; k++)
            if (strcmp(out->s[k].id, out->s[i].id) == 0) {
                snprintf(p, sizeof p, "sources[%zu].id", i);
                bp_error_set(err, "duplicate_id", p, "%s: \"%s\" is used twice", p, out->s[i].id);
                goto out;
            }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc) bp_sources_free(out);
    return rc;
}

int bp_source_hospital(const bp_source_t *s, const bp_registry_t *reg, const char *ext,
                       size_t len) {
    if (s->all_hospitals) return bp_registry_hospital_external(reg, ext, len);
    for (size_t k = 0; k < s->n_map; k++)
        if (strlen(s->map[k].ext) == len && memcmp(s->map[k].ext, ext, len) == 0)
            return s->map[k].hospital;
    return -1;
}

int64_t bp_sources_delay_ms(int interval_s, int failures, uint32_t rnd) {
    int64_t base = (int64_t)interval_s * 1000;
    if (failures <= 0) return base;
    int64_t cap =
        (int64_t)(interval_s > BP_SOURCE_BACKOFF_MAX_S ? interval_s : BP_SOURCE_BACKOFF_MAX_S) *
        1000;
    int64_t d = base;
    for (int i = 1; i < failures && d < cap; i++)
        d *= 2;
    if (d > cap) d = cap;
    return d - (int64_t)(rnd % 1000) * d / 10000; /* up to a tenth less */
}

void bp_sources_url_shown(const char *url, char *out, size_t len) {
    const char *host = strstr(url, "://");
    if (!host) {
        snprintf(out, len, "?");
        return;
    }
    host += 3;
    size_t hl = strcspn(host, "/?#");
    /* user information ends at the LAST '@' of the authority (as libcurl
     * reads it: a password may hold an '@') */
    const char *at = NULL;
    for (size_t i = hl; i > 0 && !at; i--)
        if (host[i - 1] == '@') at = host + i - 1;
    const char *h = at ? at + 1 : host;
    size_t n = hl - (size_t)(h - host);
    const char *path = host + hl;
    size_t pl = *path == '/' ? strcspn(path, "?#") : 0;
    snprintf(out, len, "%.*s%.*s%.*s", (int)(host - url), url, (int)n, h, (int)pl, path);
}

void bp_sources_header(bp_validators_t *v, const char *line, size_t len) {
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        v->etag[0] = v->last_modified[0] = '\0';
        return;
    }
    static const struct {
        const char *name;
        size_t off, cap;
    } keep[] = {
        {"etag:", offsetof(bp_validators_t, etag), sizeof v->etag},
        {"last-modified:", offsetof(bp_validators_t, last_modified), sizeof v->last_modified}};
    for (size_t k = 0; k < sizeof keep / sizeof *keep; k++) {
        size_t nl = strlen(keep[k].name);
        if (len < nl || strncasecmp(line, keep[k].name, nl) != 0) continue;
        const char *val = line + nl;
        size_t vl = len - nl;
        while (vl && (*val == ' ' || *val == '\t'))
            val++, vl--;
        while (vl && (val[vl - 1] == '\r' || val[vl - 1] == '\n' || val[vl - 1] == ' ' ||
                      val[vl - 1] == '\t'))
            vl--;
        if (vl >= keep[k].cap) return;
        for (size_t i = 0; i < vl; i++)
            if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f) return;
        char *dst = (char *)v + keep[k].off;
        memcpy(dst, val, vl);
        dst[vl] = '\0';
        return;
    }
}
