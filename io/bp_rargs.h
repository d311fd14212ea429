/*
 * The arguments of one Redis command built up piece by piece (bp_rargs.c):
 * mostly EVAL of a script with its keys, then its ARGV, sent with
 * bp_redis_command_argv. Every piece is copied; a failed allocation marks
 * the whole list failed, and sending a failed list fails without sending.
 */
#ifndef BP_RARGS_H
#define BP_RARGS_H

#include "bp_redis.h"

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialise ({0}) before use. */
typedef struct {
    char **v;
    size_t *len;
    int n, cap;
    int ops; /* operations named by bp_rargs_op */
    bool failed;
} bp_rargs_t;

void bp_rargs_put(bp_rargs_t *a, const char *s, size_t len);
void bp_rargs_add(bp_rargs_t *a, const char *s); /* NULL: "" */
void bp_rargs_addf(bp_rargs_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* EVAL script numkeys keys... */
void bp_rargs_eval(bp_rargs_t *a, const char *script, int nkeys, const char *const *keys);
/* Adds name, the tag of one operation of a script that takes a list of
 * them, and returns its number (1-based). */
int bp_rargs_op(bp_rargs_t *a, const char *name);
/* Sends the command on redis (cb called once, as bp_redis_command_argv
 * says) and frees the list: 0, or -1 when it failed or could not be sent. */
int bp_rargs_send(bp_rargs_t *a, bp_redis_t *redis, bp_redis_reply_cb cb, void *data);
void bp_rargs_free(bp_rargs_t *a); /* leaves it zeroed, ready again */

#endif
