/* The public document and the open-data files, serialised once (public.h). */
#include "public.h"
#include "handlers.h"

#include "app.h"
#include "bp_compress.h"
#include "bp_conneg.h"
#include "bp_log.h"
#include "bp_public.h"
#include "bp_time.h"
#include "history.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PUBLIC_MAX_AGE_S 5
#define DAILY_MAX_AGE_S  60
#define DAILY_DAYS       7 /* the local days in the daily files, today included */
#define DAILY_TOLERANCE  (2 * 3600 * 1000LL)

enum { DOC_PUBLIC, DOC_CSV, DOC_JSON, N_DOCS };

typedef struct {
    bp_buf_t body;   /* where it is serialised */
    bp_blob_t *blob; /* what is answered: the bytes, shared by the answers in flight */
    bp_blob_t *gz;   /* the same, gzip-compressed once (NULL: could not) */
    int64_t built_ms;
    char etag[32], etag_gz[32];
    uint64_t rebuilds, answers, not_modified;
} doc_t;

struct bp_pubcache {
    doc_t d[N_DOCS];
};

static const struct {
    const char *path, *type, *cache;
    int max_age_s;
} docs[N_DOCS] = {
    {"/api/v1/public", "application/json; charset=utf-8", "public, max-age=5", PUBLIC_MAX_AGE_S},
    {"/api/v1/public/daily.csv", "text/csv; charset=utf-8", "public, max-age=60", DAILY_MAX_AGE_S},
    {"/api/v1/public/daily.json", "application/json; charset=utf-8", "public, max-age=60",
     DAILY_MAX_AGE_S},
};

struct bp_pubcache *bp_pubcache_create(void) {
    struct bp_pubcache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    for (int i = 0; i < N_DOCS; i++)
        bp_buf_init(&c->d[i].body, 0, 16 << 20);
    return c;
}

void bp_pubcache_destroy(struct bp_pubcache *c) {
    if (!c) return;
    for (int i = 0; i < N_DOCS; i++) {
        bp_buf_free(&c->d[i].body);
        bp_blob_unref(c->d[i].blob);
        bp_blob_unref(c->d[i].gz);
    }
    free(c);
}

/* FNV-1a, 64 bits: the ETag of some bytes. */
static uint64_t fnv(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The bytes gzip-compressed (level 6, core/bp_compress) into a blob, or
 * NULL. */
static bp_blob_t *gzip_blob(const char *p, size_t n) {
    unsigned char *out;
    size_t len;
    if (bp_compress(BP_ENC_GZIP, 6, p, n, &out, &len)) return NULL;
    bp_blob_t *b = bp_blob_make(out, len);
    free(out);
    return b;
}

static const bp_series_t *series_of(void *ctx, size_t hospital) {
    return hospital < (size_t)INT_MAX ? bp_history_series(ctx, (int)hospital) : NULL;
}

static void build(bp_app_t *app, int which, doc_t *d, int64_t now) {
    const bp_settings_t *s = &app->cfg.settings;
    bp_public_meta_t meta = {.licence = s->public_licence,
                             .licence_url = s->public_licence_url,
                             .publisher = s->public_publisher};
    bp_buf_reset(&d->body);
    if (which == DOC_PUBLIC) {
        bp_public_write(&d->body, app->state, &meta, now);
    } else {
        bp_opendata_q_t q = {.reg = &app->cfg.registry,
                             .series = series_of,
                             .ctx = app->history,
                             .utc_offset_min = app->cfg.dispatch.utc_offset_min,
                             .days = DAILY_DAYS,
                             .tolerance_ms = DAILY_TOLERANCE,
                             .meta = &meta};
        if (which == DOC_CSV)
            bp_opendata_csv(&d->body, &q, now);
        else
            bp_opendata_json(&d->body, &q, now);
    }
    bp_blob_t *blob = d->body.failed ? NULL : bp_blob_make(bp_buf_data(&d->body), d->body.len);
    if (!blob) {
        bp_warn("public: %s not rebuilt (out of memory or too large)", docs[which].path);
        return; /* the last one is still answered */
    }
    bp_blob_unref(d->blob);
    d->blob = blob;
    bp_blob_unref(d->gz);
    d->gz = gzip_blob(bp_buf_data(&d->body), d->body.len);
    uint64_t h = fnv(bp_buf_data(&d->body), d->body.len);
    snprintf(d->etag, sizeof d->etag, "\"%016llx\"", (unsigned long long)h);
    snprintf(d->etag_gz, sizeof d->etag_gz, "\"%016llx-gz\"", (unsigned long long)h);
    d->built_ms = now;
    d->rebuilds++;
}

/* Whether an If-None-Match list names etag (or is "*"). */
static bool none_match(const char *inm, const char *etag) {
    if (!inm[0]) return false;
    if (strcmp(inm, "*") == 0) return true;
    size_t n = strlen(etag);
    for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag))
        if ((p == inm || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/') &&
            (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
    return false;
}

void bp_api_public_get(bp_req_t *r) {
    bp_app_t *app = r->app;
    int which = 0;
    for (int i = 0; i < N_DOCS; i++)
        if (strcmp(r->path, docs[i].path) == 0) which = i;
    if (!bp_req_state_loaded(r)) return;
    doc_t *d = &app->pub->d[which];
    int64_t now = bp_time_now_ms();
    if (!d->built_ms || now - d->built_ms >= docs[which].max_age_s * 1000LL)
        build(app, which, d, now);
    if (!d->blob) {
        bp_req_error(r, 503, "unavailable", "the document could not be made; try again");
        return;
    }
    d->answers++;
    r->resp.status = 200;
    r->resp.content_type = docs[which].type;
    r->cache_control = docs[which].cache;
    r->vary_encoding = true;
    bool gz = d->gz && bp_conneg_pick(r->accept_enc, BP_ENC_BIT(BP_ENC_GZIP)) == BP_ENC_GZIP;
    const char *etag = gz ? d->etag_gz : d->etag;
    snprintf(r->etag, sizeof r->etag, "%s", etag);
    if (gz) r->content_encoding = "gzip";
    if (none_match(r->if_none_match, etag)) {
        d->not_modified++;
        r->resp.status = 304;
        r->content_encoding = NULL;
    } else {
        bp_blob_t *b = gz ? d->gz : d->blob;
        b->refs++;
        r->blob = b; /* sent as is: no copy per answer */
    }
    r->decided = true;
}

void bp_public_metrics(const struct bp_pubcache *c, bp_buf_t *out) {
    static const char *const names[N_DOCS] = {"public", "daily.csv", "daily.json"};
    bp_buf_puts(out, "# HELP bedpulse_public_rebuilds_total Public documents serialised.\n"
                     "# TYPE bedpulse_public_rebuilds_total counter\n");
    for (int i = 0; i < N_DOCS; i++)
        bp_buf_printf(out, "bedpulse_public_rebuilds_total{doc=\"%s\"} %llu\n", names[i],
                      (unsigned long long)c->d[i].rebuilds);
    bp_buf_puts(out, "# HELP bedpulse_public_answers_total Public documents answered (304s "
                     "included).\n# TYPE bedpulse_public_answers_total counter\n");
    for (int i = 0; i < N_DOCS; i++)
        bp_buf_printf(out, "bedpulse_public_answers_total{doc=\"%s\"} %llu\n", names[i],
                      (unsigned long long)c->d[i].answers);
}
