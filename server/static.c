/* Static files from memory, negotiated and cacheable (see static.h). */
#include "static.h"
#include "bp_compress.h"
#include "bp_conneg.h"
#include "bp_crypto.h"
#include "bp_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_MAX_FILES 4096
#define STATIC_MAX_BYTES (128u << 20) /* every file, raw and compressed */
#define STATIC_MAX_DEPTH 8
#define PATH_MAX_LEN     512
/* Smaller files go as they are: the headers cost more than they save. */
#define COMPRESS_MIN 512
/* Compressing at first use (what the build did not precompress): good
 * ratios at a few ms for the largest file we serve (Leaflet, 140 KB). */
#define LAZY_BROTLI_QUALITY 6
#define LAZY_GZIP_LEVEL     6
#define CHUNK               (32u * 1024)
#define IMMUTABLE_PREFIX    "/assets/"
#define CACHE_IMMUTABLE     "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE    "no-cache"

typedef struct {
    unsigned char *data; /* NULL: not available in this coding */
    size_t len;
} rep_t;

typedef struct {
    char *path;       /* URL path, "/assets/manage-3F2AB1C9.js" */
    const char *type; /* Content-Type */
    bool compressible, immutable;
    bool tried[BP_ENC__COUNT]; /* compressing at first use was tried */
    char tag[17];              /* 16 hex digits of the SHA-256 of the file */
    rep_t rep[BP_ENC__COUNT];  /* by bp_encoding_t: [0] is the file itself */
} sfile_t;

struct bp_static {
    sfile_t *files;
    size_t n, cap;
    size_t bytes;
};

/* One transfer in progress: the representation being sent (owned by the
 * table, which outlives every connection). */
typedef struct {
    const unsigned char *data;
    size_t len, sent;
} sss_t;

static const struct {
    const char *ext, *type;
    bool text;
} types[] = {
    {".html", "text/html; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", true},
    {".mjs", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".svg", "image/svg+xml", true},
    {".json", "application/json", true},
    {".map", "application/json", true},
    {".webmanifest", "application/manifest+json", true},
    {".txt", "text/plain; charset=utf-8", true},
    {".png", "image/png", false},
    {".ico", "image/x-icon", false},
    {".woff2", "font/woff2", false},
};

static bool ends_with(const char *s, const char *sfx) {
    size_t n = strlen(s), m = strlen(sfx);
    return n >= m && strcmp(s + n - m, sfx) == 0;
}

/* -- loading ------------------------------------------------------------------- */

/* Reads a whole regular file of at most max bytes. 0 with *out allocated,
 * -1 (errno set) otherwise. */
static int read_file(const char *path, size_t max, unsigned char **out, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    int err = 0;
    if (fstat(fd, &st) != 0)
        err = errno;
    else if (!S_ISREG(st.st_mode))
        err = EINVAL;
    else if ((size_t)st.st_size > max)
        err = EFBIG;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    size_t size = (size_t)st.st_size;
    unsigned char *buf = malloc(size ? size : 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != size) {
        free(buf);
        errno = buf ? EIO : ENOMEM;
        return -1;
    }
    *out = buf;
    *len = size;
    return 0;
}

/* A build's precompressed sibling of file (X.br, X.brotli or X.gz), if it
 * decodes to the file exactly; a stale one is ignored (and said so). */
static void sibling(bp_static_t *s, sfile_t *f, const char *file, bp_encoding_t e) {
    static const char *const br[] = {".br", ".brotli"}, *const gz[] = {".gz"};
    const char *const *sfx = e == BP_ENC_BR ? br : gz;
    size_t n = e == BP_ENC_BR ? 2 : 1;
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN + 16];
        snprintf(p, sizeof p, "%s%s", file, sfx[i]);
        unsigned char *data;
        size_t len;
        if (read_file(p, f->rep[0].len + 1024, &data, &len)) continue;
        if (len < f->rep[0].len && s->bytes + len <= STATIC_MAX_BYTES &&
            bp_compress_check(e, data, len, f->rep[0].data, f->rep[0].len)) {
            f->rep[e] = (rep_t){data, len};
            f->tried[e] = true;
            s->bytes += len;
            return;
        }
        bp_warn("static: %s does not decode to %s (a stale build?): ignored", p, file);
        free(data);
    }
}

static int add_file(bp_static_t *s, const char *file, const char *url) {
    const char *type = NULL;
    bool text = false;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        if (ends_with(url, types[i].ext)) {
            type = types[i].type;
            text = types[i].text;
            break;
        }
    }
    if (!type) {
        bp_debug("static: %s: not a type we serve, skipped", file);
        return 0;
    }
    if (s->n >= STATIC_MAX_FILES) {
        bp_error("static: more than %d files to serve", STATIC_MAX_FILES);
        return -1;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        sfile_t *nf = realloc(s->files, cap * sizeof *nf);
        if (!nf) return -1;
        s->files = nf;
        s->cap = cap;
    }
    sfile_t *f = &s->files[s->n];
    memset(f, 0, sizeof *f);
    if (read_file(file, STATIC_MAX_BYTES - s->bytes, &f->rep[0].data, &f->rep[0].len)) {
        bp_error("static: cannot read %s: %s", file,
                 errno == EFBIG ? "over the size limit" : strerror(errno));
        return -1;
    }
    if (!(f->path = strdup(url))) {
        free(f->rep[0].data);
        return -1;
    }
    s->bytes += f->rep[0].len;
    f->type = type;
    f->compressible = text && f->rep[0].len >= COMPRESS_MIN;
    f->immutable = strncmp(url, IMMUTABLE_PREFIX, strlen(IMMUTABLE_PREFIX)) == 0;
    f->tried[BP_ENC_IDENTITY] = true;
    unsigned char md[BP_SHA256_LEN];
    bp_sha256(f->rep[0].data, f->rep[0].len, md);
    for (int i = 0; i < 8; i++)
        snprintf(f->tag + 2 * i, 3, "%02x", md[i]);
    s->n++;
    if (f->compressible) {
        sibling(s, f, file, BP_ENC_BR);
        sibling(s, f, file, BP_ENC_GZIP);
    }
    return 0;
}

static int add_dir(bp_static_t *s, const char *dir, const char *url, int depth) {
    if (depth > STATIC_MAX_DEPTH) {
        bp_error("static: %s: directories nested deeper than %d", dir, STATIC_MAX_DEPTH);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        bp_error("static: cannot read the directory %s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        const char *name = e->d_name;
        /* dot-files are not published; precompressed siblings are read
         * with the file they belong to */
        if (name[0] == '.' || ends_with(name, ".gz") || ends_with(name, ".br") ||
            ends_with(name, ".brotli"))
            continue;
        char file[PATH_MAX_LEN], u[PATH_MAX_LEN];
        if ((size_t)snprintf(file, sizeof file, "%s/%s", dir, name) >= sizeof file ||
            (size_t)snprintf(u, sizeof u, "%s/%s", url, name) >= sizeof u) {
            bp_warn("static: %s/%s: path too long, skipped", dir, name);
            continue;
        }
        struct stat st;
        if (stat(file, &st) != 0) continue; /* a dangling link */
        if (S_ISDIR(st.st_mode))
            rc = add_dir(s, file, u, depth + 1);
        else if (S_ISREG(st.st_mode))
            rc = add_file(s, file, u);
    }
    closedir(d);
    return rc;
}

bp_static_t *bp_static_create(void) {
    return calloc(1, sizeof(bp_static_t));
}

int bp_static_add(bp_static_t *s, const char *dir, const char *prefix) {
    return add_dir(s, dir, prefix, 0);
}

static int by_path(const void *a, const void *b) {
    return strcmp(((const sfile_t *)a)->path, ((const sfile_t *)b)->path);
}

void bp_static_finish(bp_static_t *s) {
    if (s->n) qsort(s->files, s->n, sizeof *s->files, by_path);
}

void bp_static_destroy(bp_static_t *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        for (int e = 0; e < BP_ENC__COUNT; e++)
            free(s->files[i].rep[e].data);
        free(s->files[i].path);
    }
    free(s->files);
    free(s);
}

size_t bp_static_files(const bp_static_t *s) {
    return s->n;
}

size_t bp_static_bytes(const bp_static_t *s) {
    return s->bytes;
}

/* -- answering ------------------------------------------------------------------ */

static sfile_t *find(bp_static_t *s, const char *path) {
    sfile_t key = {.path = (char *)path};
    return s->n ? bsearch(&key, s->files, s->n, sizeof *s->files, by_path) : NULL;
}

/* The file for a URL path: itself, or a page (/ is index.html, /wall and
 * /wall/ are wall.html: one segment plus .html). */
static sfile_t *lookup(bp_static_t *s, const char *path) {
    sfile_t *f = find(s, path);
    if (f) return f;
    if (strcmp(path, "/") == 0) return find(s, "/index.html");
    size_t n = strlen(path);
    if (n > 1 && path[n - 1] == '/') n--;
    if (n < 2 || n > 64 || memchr(path + 1, '/', n - 1) || memchr(path, '.', n)) return NULL;
    char page[80];
    snprintf(page, sizeof page, "%.*s.html", (int)n, path);
    return find(s, page);
}

/* Makes coding e of f available if it can be: compressed now, once. */
static void ensure(bp_static_t *s, sfile_t *f, bp_encoding_t e) {
    if (f->rep[e].data || f->tried[e] || !f->compressible) return;
    f->tried[e] = true;
    unsigned char *out;
    size_t len;
    int level = e == BP_ENC_BR ? LAZY_BROTLI_QUALITY : LAZY_GZIP_LEVEL;
    if (bp_compress(e, level, f->rep[0].data, f->rep[0].len, &out, &len)) return;
    if (len >= f->rep[0].len || s->bytes + len > STATIC_MAX_BYTES) {
        free(out); /* no gain, or over the memory bound: sent as it is */
        return;
    }
    f->rep[e] = (rep_t){out, len};
    s->bytes += len;
}

static unsigned have(const sfile_t *f) {
    unsigned m = 0;
    for (int e = 0; e < BP_ENC__COUNT; e++)
        if (f->rep[e].data) m |= BP_ENC_BIT(e);
    return m;
}

static int header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                  unsigned char *end) {
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* A short plain-text answer (404, 405) with its body, sent now. -1: close. */
static int answer_text(struct lws *wsi, unsigned status, const char *body, bool head) {
    unsigned char buf[LWS_PRE + 2048 + 64], *start = buf + LWS_PRE, *p = start,
                                            *end = buf + LWS_PRE + 2048;
    size_t n = strlen(body);
    if (lws_add_http_common_headers(wsi, status, "text/plain; charset=utf-8", n, &p, end) ||
        header(wsi, "cache-control:", CACHE_REVALIDATE, &p, end) ||
        (status == 405 && header(wsi, "allow:", "GET, HEAD", &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (!head) {
        memcpy(buf + LWS_PRE, body, n);
        if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) != (int)n) return -1;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int on_request(bp_static_t *s, struct lws *wsi, sss_t *ss) {
    memset(ss, 0, sizeof *ss);
    char path[PATH_MAX_LEN];
    bool head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    if (!head && lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        /* the client may be sending a body we will not read: close after */
        answer_text(wsi, 405, "this resource answers GET and HEAD only\n", false);
        return -1;
    }
    if (lws_hdr_copy(wsi, path, sizeof path, head ? WSI_TOKEN_HEAD_URI : WSI_TOKEN_GET_URI) <= 0)
        return answer_text(wsi, 404, "not found\n", head);
    sfile_t *f = lookup(s, path);
    if (!f) return answer_text(wsi, 404, "not found\n", head);

    char hdr[1024];
    int n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_ACCEPT_ENCODING);
    unsigned accepted = bp_conneg_accept_encoding(hdr, n > 0 ? (size_t)n : 0);
    /* the best coding the client takes, made if need be; gzip when it
     * takes no brotli or brotli did not pay */
    bool br = accepted & BP_ENC_BIT(BP_ENC_BR);
    if (br) ensure(s, f, BP_ENC_BR);
    if ((accepted & BP_ENC_BIT(BP_ENC_GZIP)) && !(br && f->rep[BP_ENC_BR].data))
        ensure(s, f, BP_ENC_GZIP);
    bp_encoding_t e = bp_conneg_pick(accepted, have(f));
    char etag[32];
    snprintf(etag, sizeof etag, "\"%s%s\"", f->tag, bp_conneg_tag_suffix(e));
    n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_IF_NONE_MATCH);
    bool fresh = n > 0 && bp_conneg_none_match(hdr, (size_t)n, f->tag);

    unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    const rep_t *r = &f->rep[e];
    if (fresh ? lws_add_http_header_status(wsi, HTTP_STATUS_NOT_MODIFIED, &p, end)
              : lws_add_http_common_headers(wsi, HTTP_STATUS_OK, f->type, r->len, &p, end))
        return -1;
    if (header(wsi, "cache-control:", f->immutable ? CACHE_IMMUTABLE : CACHE_REVALIDATE, &p, end) ||
        header(wsi, "etag:", etag, &p, end) ||
        (f->compressible && header(wsi, "vary:", "Accept-Encoding", &p, end)) ||
        (!fresh && e != BP_ENC_IDENTITY &&
         header(wsi, "content-encoding:", bp_conneg_name(e), &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (fresh || head || r->len == 0) return lws_http_transaction_completed(wsi) ? -1 : 0;
    ss->data = r->data;
    ss->len = r->len;
    lws_callback_on_writable(wsi);
    return 0;
}

static int on_writeable(struct lws *wsi, sss_t *ss) {
    if (!ss->data) return 0;
    unsigned char buf[LWS_PRE + CHUNK];
    size_t n = ss->len - ss->sent < CHUNK ? ss->len - ss->sent : CHUNK;
    bool last = ss->sent + n == ss->len;
    memcpy(buf + LWS_PRE, ss->data + ss->sent, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    ss->sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    ss->data = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int bp_static_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len) {
    const struct lws_protocols *proto = lws_get_protocol(wsi);
    bp_static_t *s = proto ? proto->user : NULL;
    sss_t *ss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (!s || !ss) return -1;
        return on_request(s, wsi, ss);
    case LWS_CALLBACK_HTTP_WRITEABLE: return ss ? on_writeable(wsi, ss) : 0;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

size_t bp_static_session_size(void) {
    return sizeof(sss_t);
}
