/*
 * Static files from memory: the web root (web/, or the build's output of
 * it) at /, and Leaflet (Debian's libjs-leaflet) at /vendor/leaflet/. Every
 * file is read once at start into a table; a request is answered from the
 * table or with 404, so no URL can reach a file that was not there at start
 * (no path traversal, whatever the URL says).
 *
 * Each answer is negotiated and cacheable:
 * - Content-Encoding br or gzip when the client accepts it and the file is
 *   text: a precompressed sibling (X.br or X.brotli, X.gz, written by the
 *   build and checked at load to decode to X exactly), else compressed at
 *   its first request and kept; always Vary: Accept-Encoding.
 * - A strong ETag per representation (16 hex digits of the SHA-256 of the
 *   file, "-br"/"-gz" for the compressed ones); If-None-Match with any of
 *   them answers 304.
 * - Cache-Control: files under /assets/ carry a content hash in their name
 *   (the build writes them), so they are "public, max-age=31536000,
 *   immutable"; everything else (pages, vendor files, an unbuilt web/) is
 *   "no-cache": kept, and revalidated on every use.
 * The security headers (CSP, ...) are the vhost's, as on every answer.
 *
 * Pages: /, /wall, /manage and /signin (with or without a final slash)
 * are index.html, wall.html, manage.html and signin.html.
 */
#ifndef BP_STATIC_H
#define BP_STATIC_H

#include <libwebsockets.h>
#include <stddef.h>

typedef struct bp_static bp_static_t;

/* An empty table; NULL when out of memory. */
bp_static_t *bp_static_create(void);
/* Reads every file under dir (recursively, dot-files and precompressed
 * siblings aside) into the table at URL prefix (e.g. "" or
 * "/vendor/leaflet"). 0, or -1 after logging why (unreadable directory,
 * too many files or bytes: STATIC_MAX_FILES / STATIC_MAX_BYTES). */
int bp_static_add(bp_static_t *s, const char *dir, const char *prefix);
/* Call once every directory is added, before serving. */
void bp_static_finish(bp_static_t *s);
void bp_static_destroy(bp_static_t *s); /* NULL: no-op */
size_t bp_static_files(const bp_static_t *s);
size_t bp_static_bytes(const bp_static_t *s); /* raw and compressed, held now */

/* The lws protocol callback: protocols[].user must be the table (borrowed:
 * it must outlive the lws context). */
int bp_static_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len);
size_t bp_static_session_size(void);

#endif
