/* The JSON writer: commas from the nesting state, bytes from bp_json_*. */
#include "bp_jw.h"

#include <string.h>

void bp_jw_init(bp_jw_t *w, bp_buf_t *b) {
    bp_jw_init_inside(w, b, true);
}

void bp_jw_init_inside(bp_jw_t *w, bp_buf_t *b, bool empty) {
    memset(w, 0, sizeof *w);
    w->b = b;
    w->empty[0] = empty;
}

/* Before a key, or a value that does not follow a key: the comma. */
static void sep(bp_jw_t *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->empty[w->depth]) bp_buf_putc(w->b, ',');
    w->empty[w->depth] = false;
}

static void push(bp_jw_t *w, char c, bool obj) {
    sep(w);
    if (w->depth >= BP_JW_DEPTH_MAX) {
        w->b->failed = true;
        return;
    }
    bp_buf_putc(w->b, c);
    w->depth++;
    w->closer[w->depth] = obj;
    w->empty[w->depth] = true;
}

void bp_jw_obj(bp_jw_t *w) {
    push(w, '{', true);
}

void bp_jw_arr(bp_jw_t *w) {
    push(w, '[', false);
}

void bp_jw_end(bp_jw_t *w) {
    if (w->depth == 0) {
        w->b->failed = true;
        return;
    }
    bp_buf_putc(w->b, w->closer[w->depth] ? '}' : ']');
    w->depth--;
    w->after_key = false;
}

void bp_jw_key_n(bp_jw_t *w, const char *key, size_t len) {
    sep(w);
    bp_buf_putc(w->b, '"');
    bp_buf_put(w->b, key, len);
    BP_BUF_LIT(w->b, "\":");
    w->after_key = true;
}

void bp_jw_key(bp_jw_t *w, const char *key) {
    bp_jw_key_n(w, key, strlen(key));
}

void bp_jw_str(bp_jw_t *w, const char *s, size_t len) {
    sep(w);
    bp_json_str(w->b, s, len);
}

void bp_jw_cstr(bp_jw_t *w, const char *s) {
    sep(w);
    bp_json_cstr(w->b, s);
}

void bp_jw_int(bp_jw_t *w, int64_t v) {
    sep(w);
    bp_json_int(w->b, v);
}

void bp_jw_num(bp_jw_t *w, double v, int decimals) {
    sep(w);
    bp_json_num(w->b, v, decimals);
}

void bp_jw_time(bp_jw_t *w, int64_t ms) {
    sep(w);
    bp_json_time(w->b, ms);
}

void bp_jw_raw(bp_jw_t *w, const char *json, size_t len) {
    sep(w);
    bp_buf_put(w->b, json, len);
}

void bp_jw_splice(bp_jw_t *w) {
    sep(w);
}

void bp_jw_bool(bp_jw_t *w, bool v) {
    if (v)
        bp_jw_raw(w, "true", sizeof "true" - 1);
    else
        bp_jw_raw(w, "false", sizeof "false" - 1);
}

void bp_jw_null(bp_jw_t *w) {
    bp_jw_raw(w, "null", sizeof "null" - 1);
}

void bp_jw_int_or_null(bp_jw_t *w, bool present, int64_t v) {
    if (present)
        bp_jw_int(w, v);
    else
        bp_jw_null(w);
}

void bp_jw_num_or_null(bp_jw_t *w, bool present, double v, int decimals) {
    if (present)
        bp_jw_num(w, v, decimals);
    else
        bp_jw_null(w);
}

void bp_jw_cstr_or_null(bp_jw_t *w, const char *s) {
    if (s && s[0])
        bp_jw_cstr(w, s);
    else
        bp_jw_null(w);
}

void bp_jw_errors(bp_jw_t *w, const bp_errors_t *errs) {
    BP_JW_KEY(w, "errors");
    bp_jw_arr(w);
    for (size_t i = 0; i < errs->n; i++) {
        bp_jw_obj(w);
        BP_JW_KEY(w, "field");
        bp_jw_cstr(w, errs->e[i].field);
        BP_JW_KEY(w, "code");
        bp_jw_cstr(w, errs->e[i].code);
        BP_JW_KEY(w, "message");
        bp_jw_cstr(w, errs->e[i].message);
        bp_jw_end(w);
    }
    bp_jw_end(w);
}

void bp_jw_error_doc(bp_buf_t *b, const char *code, const char *message) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "error");
    bp_jw_cstr(&w, code);
    BP_JW_KEY(&w, "message");
    bp_jw_cstr(&w, message);
    bp_jw_end(&w);
}
