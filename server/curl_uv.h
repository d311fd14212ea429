/*
 * libcurl's multi interface on our libuv loop (curl_multi_socket_action
 * with a uv_poll_t per socket curl opens and one uv_timer_t for curl's
 * timeouts): transfers run on the loop thread, nothing blocks, no thread
 * is started here. Name resolution is the caller's (uv_getaddrinfo, then
 * CURLOPT_RESOLVE), so curl's resolver is never asked.
 */
#ifndef BP_CURL_UV_H
#define BP_CURL_UV_H

#include <curl/curl.h>
#include <stddef.h>
#include <uv.h>

typedef struct bp_curl bp_curl_t;

/* Called exactly once per transfer: when it ends (rc from curl), or with
 * CURLE_ABORTED_BY_CALLBACK when the multi handle is closed first. The
 * easy handle is out of the multi handle by then and is the caller's. */
typedef void (*bp_curl_done_cb)(CURL *easy, CURLcode rc, void *data);

/* NULL when curl cannot be set up. curl_global_init is the caller's. */
bp_curl_t *bp_curl_create(uv_loop_t *loop);

/* Starts a transfer. 0, or -1 (then done is not called). */
int bp_curl_add(bp_curl_t *c, CURL *easy, bp_curl_done_cb done, void *data);

size_t bp_curl_running(const bp_curl_t *c);

/* Ends every transfer (their done callbacks run now), then releases the
 * handles; on_closed(data) once everything is freed. c may be NULL. */
void bp_curl_close(bp_curl_t *c, void (*on_closed)(void *), void *data);

#endif
