/*
 * Tests for bp_lines: the bounded newline splitter. The same stream must
 * give the same lines however it is cut into pushes; overlong lines are
 * reported once and skipped; the buffer never grows past its bound.
 */
#include "test_util.h"

#include "bp_lines.h"

/* What came out of a splitter: lines, with overlong ones as a marker. */
typedef struct {
    char *text; /* all results, each as "L:<line>\n" or "TOO_LONG\n" */
    size_t len, cap;
    int lines, too_long;
} results_t;

static void results_add(results_t *r, const char *s, size_t n) {
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        r->text = realloc(r->text, r->cap);
        assert_non_null(r->text);
    }
    memcpy(r->text + r->len, s, n);
    r->len += n;
    r->text[r->len] = '\0';
}

/* Takes every available line out of l into r. */
static void drain(bp_lines_t *l, results_t *r) {
    const char *line;
    size_t n;
    bp_lines_result_t res;
    while ((res = bp_lines_next(l, &line, &n)) != BP_LINES_NONE) {
        if (res == BP_LINES_TOO_LONG) {
            results_add(r, "TOO_LONG\n", 9);
            r->too_long++;
        } else {
            assert_int_equal(res, BP_LINES_LINE);
            assert_true(n <= l->max_line);
            results_add(r, "L:", 2);
            results_add(r, line, n);
            results_add(r, "\n", 1);
            r->lines++;
        }
    }
}

/* Feeds data in pushes of the given sizes (cycled), draining after each,
 * and checks the bound after every step. */
static void feed(bp_lines_t *l, const char *data, size_t len, const size_t *sizes, size_t n_sizes,
                 size_t chunk, results_t *r) {
    size_t off = 0, k = 0;
    while (off < len) {
        size_t n = sizes[k++ % n_sizes];
        if (n > len - off) n = len - off;
        assert_true(n <= chunk);
        assert_int_equal(bp_lines_push(l, data + off, n), 0);
        assert_true(l->len <= l->cap);
        assert_true(bp_lines_pending(l) <= l->max_line + chunk);
        off += n;
        drain(l, r);
        /* after draining, at most one incomplete line of at most max_line */
        assert_true(bp_lines_pending(l) <= l->max_line);
    }
}

static void results_free(results_t *r) {
    free(r->text);
    memset(r, 0, sizeof *r);
}

static void expect_line(bp_lines_t *l, const char *want) {
    const char *line;
    size_t n;
    assert_int_equal(bp_lines_next(l, &line, &n), BP_LINES_LINE);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(line, want, n);
}

static void expect_none(bp_lines_t *l) {
    const char *line;
    size_t n;
    assert_int_equal(bp_lines_next(l, &line, &n), BP_LINES_NONE);
}

static void expect_too_long(bp_lines_t *l) {
    const char *line;
    size_t n;
    assert_int_equal(bp_lines_next(l, &line, &n), BP_LINES_TOO_LONG);
}

static void test_basic(void **state) {
    (void)state;
    bp_lines_t l;
    assert_int_equal(bp_lines_init(&l, 64, 64), 0);
    expect_none(&l);
    assert_int_equal(bp_lines_push(&l, "a\nbb\n\nccc", 9), 0);
    expect_line(&l, "a");
    expect_line(&l, "bb");
    expect_line(&l, ""); /* an empty line is a line */
    expect_none(&l);
    assert_int_equal(bp_lines_pending(&l), 3);
    assert_int_equal(bp_lines_push(&l, "dd\n", 3), 0);
    expect_line(&l, "cccdd");
    expect_none(&l);
    assert_int_equal(bp_lines_pending(&l), 0);
    bp_lines_free(&l);
    assert_null(l.buf);
}

static void test_crlf(void **state) {
    (void)state;
    bp_lines_t l;
    assert_int_equal(bp_lines_init(&l, 64, 64), 0);
    const char *s = "x\r\n\r\ny\r\r\nmid\rdle\n";
    assert_int_equal(bp_lines_push(&l, s, strlen(s)), 0);
    expect_line(&l, "x");
    expect_line(&l, "");
    expect_line(&l, "y\r"); /* only one trailing \r goes */
    expect_line(&l, "mid\rdle");
    expect_none(&l);
    /* a CR split from its LF across pushes */
    assert_int_equal(bp_lines_push(&l, "z\r", 2), 0);
    expect_none(&l);
    assert_int_equal(bp_lines_push(&l, "\n", 1), 0);
    expect_line(&l, "z");
    bp_lines_free(&l);
}

static void test_exact_limit(void **state) {
    (void)state;
    enum { MAX = 16 };
    char line[MAX + 3];
    bp_lines_t l;
    /* all at once */
    assert_int_equal(bp_lines_init(&l, MAX, 64), 0);
    memset(line, 'a', MAX);
    line[MAX] = '\n';
    assert_int_equal(bp_lines_push(&l, line, MAX + 1), 0);
    expect_line(&l, "aaaaaaaaaaaaaaaa");
    memset(line, 'b', MAX + 1);
    line[MAX + 1] = '\n';
    assert_int_equal(bp_lines_push(&l, line, MAX + 2), 0);
    assert_int_equal(bp_lines_push(&l, "next\n", 5), 0);
    expect_too_long(&l);
    expect_line(&l, "next");
    expect_none(&l);
    /* max - 1 bytes plus CRLF is fine */
    memset(line, 'c', MAX - 1);
    memcpy(line + MAX - 1, "\r\n", 2);
    assert_int_equal(bp_lines_push(&l, line, MAX + 1), 0);
    expect_line(&l, "ccccccccccccccc");
    bp_lines_free(&l);

    /* byte by byte */
    assert_int_equal(bp_lines_init(&l, MAX, 1), 0);
    results_t r = {0};
    static const size_t one[] = {1};
    char stream[2 * MAX + 16];
    memset(stream, 'a', MAX);
    stream[MAX] = '\n';
    memset(stream + MAX + 1, 'b', MAX + 1);
    stream[2 * MAX + 2] = '\n';
    memcpy(stream + 2 * MAX + 3, "ok\n", 3);
    feed(&l, stream, 2 * MAX + 6, one, 1, 1, &r);
    assert_string_equal(r.text, "L:aaaaaaaaaaaaaaaa\nTOO_LONG\nL:ok\n");
    results_free(&r);
    bp_lines_free(&l);
}

/* An overlong line is reported once, however long it is and however it
 * arrives, and the following line still comes out. */
static void test_overlong_reported_once(void **state) {
    (void)state;
    enum { MAX = 32, LONG = 10000 };
    char *stream = malloc(LONG + 64);
    assert_non_null(stream);
    memset(stream, 'x', LONG);
    memcpy(stream + LONG, "\r\n{\"seq\":1}\n", 12);
    size_t len = LONG + 12;
    static const size_t sizes[][3] = {{1, 1, 1}, {7, 7, 7}, {64, 64, 64}, {3, 50, 11}};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t chunk = 64;
        bp_lines_t l;
        assert_int_equal(bp_lines_init(&l, MAX, chunk), 0);
        results_t r = {0};
        feed(&l, stream, len, sizes[s], 3, chunk, &r);
        assert_int_equal(r.too_long, 1);
        assert_int_equal(r.lines, 1);
        assert_string_equal(r.text, "TOO_LONG\nL:{\"seq\":1}\n");
        results_free(&r);
        bp_lines_free(&l);
    }
    /* the whole overlong line in one push, with its newline */
    bp_lines_t l;
    assert_int_equal(bp_lines_init(&l, MAX, LONG + 64), 0);
    assert_int_equal(bp_lines_push(&l, stream, len), 0);
    expect_too_long(&l);
    expect_line(&l, "{\"seq\":1}");
    expect_none(&l);
    bp_lines_free(&l);
    free(stream);
}

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random stream of lines (some CRLF, some empty, some overlong), the
 * results it must give, fed byte by byte, in fixed chunks and in random
 * chunks: all three give exactly the expected results. */
static void test_any_chunking_same_lines(void **state) {
    (void)state;
    enum { MAX = 40, LINES = 2000, CHUNK = 97 };
    size_t cap = LINES * (MAX + 12);
    char *stream = malloc(cap);
    assert_non_null(stream);
    results_t want = {0};
    size_t len = 0;
    for (int i = 0; i < LINES; i++) {
        size_t n = (size_t)(rng() % (MAX + 8)); /* raw bytes before the newline */
        bool crlf = rng() % 4 == 0 && n > 0;
        char *start = stream + len;
        for (size_t k = 0; k < n; k++) {
            char c = (char)(' ' + rng() % 95);
            if (rng() % 50 == 0) c = '\r';  /* a CR in the middle is data */
            if (rng() % 100 == 0) c = '\0'; /* so is a NUL */
            start[k] = c;
        }
        if (crlf) start[n - 1] = '\r';
        start[n] = '\n';
        len += n + 1;
        if (n > MAX) {
            results_add(&want, "TOO_LONG\n", 9);
            want.too_long++;
        } else {
            size_t keep = (n && start[n - 1] == '\r') ? n - 1 : n;
            results_add(&want, "L:", 2);
            results_add(&want, start, keep);
            results_add(&want, "\n", 1);
            want.lines++;
        }
    }
    assert_true(want.too_long > 0 && want.lines > 0);

    static const size_t one[] = {1};
    static const size_t fixed[] = {CHUNK};
    size_t random_sizes[512];
    for (size_t i = 0; i < 512; i++)
        random_sizes[i] = 1 + (size_t)(rng() % CHUNK);
    const struct {
        const size_t *sizes;
        size_t n;
    } ways[] = {{one, 1}, {fixed, 1}, {random_sizes, 512}};
    for (size_t w = 0; w < sizeof ways / sizeof *ways; w++) {
        bp_lines_t l;
        assert_int_equal(bp_lines_init(&l, MAX, CHUNK), 0);
        assert_int_equal(l.cap, MAX + 1 + CHUNK);
        results_t got = {0};
        feed(&l, stream, len, ways[w].sizes, ways[w].n, CHUNK, &got);
        assert_int_equal(got.lines, want.lines);
        assert_int_equal(got.too_long, want.too_long);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.text, want.text, want.len);
        assert_int_equal(bp_lines_pending(&l), 0);
        results_free(&got);
        bp_lines_free(&l);
    }
    results_free(&want);
    free(stream);
}

/* A sender that never sends a newline cannot grow the buffer. */
static void test_endless_line_stays_bounded(void **state) {
    (void)state;
    enum { MAX = 100, CHUNK = 16 };
    bp_lines_t l;
    assert_int_equal(bp_lines_init(&l, MAX, CHUNK), 0);
    char junk[CHUNK];
    memset(junk, 'j', sizeof junk);
    results_t r = {0};
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(bp_lines_push(&l, junk, sizeof junk), 0);
        assert_true(l.len <= l.cap);
        drain(&l, &r);
        assert_true(bp_lines_pending(&l) <= MAX);
    }
    assert_int_equal(r.too_long, 1);
    assert_int_equal(r.lines, 0);
    assert_int_equal(bp_lines_push(&l, "\nafter\n", 7), 0);
    drain(&l, &r);
    assert_int_equal(r.too_long, 1);
    assert_int_equal(r.lines, 1);
    assert_string_equal(r.text, "TOO_LONG\nL:after\n");
    results_free(&r);
    bp_lines_free(&l);
}

/* Pushing more than fits while lines are pending is refused whole. */
static void test_push_refused_when_full(void **state) {
    (void)state;
    enum { MAX = 8, CHUNK = 8 };
    bp_lines_t l;
    assert_int_equal(bp_lines_init(&l, MAX, CHUNK), 0); /* cap 17 */
    assert_int_equal(bp_lines_push(&l, "aa\nbb\ncc", 8), 0);
    assert_int_equal(bp_lines_push(&l, "\ndd\neeee", 8), 0);
    assert_int_equal(bp_lines_pending(&l), 16);
    assert_int_equal(bp_lines_push(&l, "ff", 2), -1);
    assert_int_equal(bp_lines_pending(&l), 16); /* nothing taken */
    expect_line(&l, "aa");
    /* pulling one line makes room (the buffer compacts) */
    assert_int_equal(bp_lines_push(&l, "ff", 2), 0);
    expect_line(&l, "bb");
    expect_line(&l, "cc");
    expect_line(&l, "dd");
    expect_none(&l);
    assert_int_equal(bp_lines_push(&l, "\n", 1), 0);
    expect_line(&l, "eeeeff");
    expect_none(&l);
    bp_lines_free(&l);
}

/* Lines returned point into the buffer and stay valid until the next call. */
static void test_line_pointers(void **state) {
    (void)state;
    bp_lines_t l;
    assert_int_equal(bp_lines_init(&l, 16, 16), 0);
    assert_int_equal(bp_lines_push(&l, "one\ntwo\n", 8), 0);
    const char *a, *b;
    size_t na, nb;
    assert_int_equal(bp_lines_next(&l, &a, &na), BP_LINES_LINE);
    assert_true(a >= l.buf && a + na <= l.buf + l.cap);
    assert_memory_equal(a, "one", 3);
    assert_int_equal(bp_lines_next(&l, &b, &nb), BP_LINES_LINE);
    assert_memory_equal(b, "two", 3);
    assert_ptr_equal(b, a + 4);
    bp_lines_free(&l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_exact_limit),
        cmocka_unit_test(test_overlong_reported_once),
        cmocka_unit_test(test_any_chunking_same_lines),
        cmocka_unit_test(test_endless_line_stays_bounded),
        cmocka_unit_test(test_push_refused_when_full),
        cmocka_unit_test(test_line_pointers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
