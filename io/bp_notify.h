/*
 * Talking to systemd (Type=notify units, config/systemd/): READY=1 once a
 * program serves, STOPPING=1 when it begins to stop, STATUS= lines, and
 * WATCHDOG=1 from a timer on the program's libuv loop at half the
 * interval systemd asks for (WatchdogSec=): a loop that hangs stops
 * petting the watchdog and systemd restarts the program. Without
 * $NOTIFY_SOCKET (not under systemd) every call does nothing.
 */
#ifndef BP_NOTIFY_H
#define BP_NOTIFY_H

#include <uv.h>

typedef struct bp_notify bp_notify_t;

/* NULL when not under systemd (or no memory): the other calls accept NULL. */
bp_notify_t *bp_notify_create(uv_loop_t *loop);
void bp_notify_ready(bp_notify_t *n, const char *status);
void bp_notify_stopping(bp_notify_t *n);
/* Closes the watchdog timer; frees once libuv released it. */
void bp_notify_close(bp_notify_t *n);

#endif
