/* sd_notify from the libuv loop (bp_notify.h), with libsystemd. */
#include "bp_notify.h"
#include "bp_log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

struct bp_notify {
    uv_timer_t watchdog;
    bool timer;
};

static void on_watchdog(uv_timer_t *t) {
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

bp_notify_t *bp_notify_create(uv_loop_t *loop) {
    if (!getenv("NOTIFY_SOCKET")) return NULL;
    bp_notify_t *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
        uv_timer_init(loop, &n->watchdog);
        n->watchdog.data = n;
        uv_timer_start(&n->watchdog, on_watchdog, 0, usec / 2000);
        n->timer = true;
        bp_info("systemd watchdog: every %llu ms", (unsigned long long)(usec / 2000));
    }
    return n;
}

void bp_notify_ready(bp_notify_t *n, const char *status) {
    if (!n) return;
    char msg[256];
    snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status ? status : "running");
    sd_notify(0, msg);
}

void bp_notify_stopping(bp_notify_t *n) {
    if (!n) return;
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

static void on_closed(uv_handle_t *h) {
    free(h->data);
}

void bp_notify_close(bp_notify_t *n) {
    if (!n) return;
    if (n->timer)
        uv_close((uv_handle_t *)&n->watchdog, on_closed);
    else
        free(n);
}
