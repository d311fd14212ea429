/* Arguments of one Redis command (bp_rargs.h). */
#include "bp_rargs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bp_rargs_put(bp_rargs_t *a, const char *s, size_t len) {
    if (a->failed) return;
    if (a->n == a->cap) {
        int cap = a->cap ? 2 * a->cap : 64;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (v) a->v = v;
        size_t *l = v ? realloc(a->len, (size_t)cap * sizeof *l) : NULL;
        if (!v || !l) {
            a->failed = true;
            return;
        }
        a->len = l;
        a->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c) {
        a->failed = true;
        return;
    }
    memcpy(c, s, len);
    c[len] = '\0';
    a->v[a->n] = c;
    a->len[a->n++] = len;
}

void bp_rargs_add(bp_rargs_t *a, const char *s) {
    bp_rargs_put(a, s ? s : "", s ? strlen(s) : 0);
}

void bp_rargs_addf(bp_rargs_t *a, const char *fmt, ...) {
    char buf[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    bp_rargs_add(a, buf);
}

void bp_rargs_eval(bp_rargs_t *a, const char *script, int nkeys, const char *const *keys) {
    bp_rargs_add(a, "EVAL");
    bp_rargs_add(a, script);
    bp_rargs_addf(a, "%d", nkeys);
    for (int i = 0; i < nkeys; i++)
        bp_rargs_add(a, keys[i]);
}

int bp_rargs_op(bp_rargs_t *a, const char *name) {
    bp_rargs_add(a, name);
    return ++a->ops;
}

int bp_rargs_send(bp_rargs_t *a, bp_redis_t *redis, bp_redis_reply_cb cb, void *data) {
    int rc =
        a->failed ? -1 : bp_redis_command_argv(redis, cb, data, a->n, (const char **)a->v, a->len);
    bp_rargs_free(a);
    return rc;
}

void bp_rargs_free(bp_rargs_t *a) {
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    free(a->len);
    memset(a, 0, sizeof *a);
}
