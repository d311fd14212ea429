/*
 * Tests for bp_ring: the shared ring of pre-serialized event frames
 * (contiguous offsets, eviction by count and by bytes) and coalescing
 * several events into one frame under a byte limit.
 */
#include "test_util.h"

#include "bp_ring.h"

#define HEADROOM 16

/* The event for an offset; `pad` extra bytes make sizes controllable. */
static size_t make_event(char *out, size_t out_len, uint64_t offset, size_t pad) {
    char padding[256];
    assert_true(pad < sizeof padding);
    memset(padding, 'p', pad);
    padding[pad] = '\0';
    int n = snprintf(out, out_len, "{\"offset\":%llu,\"pad\":\"%s\"}", (unsigned long long)offset,
                     padding);
    assert_true(n > 0 && (size_t)n < out_len);
    return (size_t)n;
}

static int push(bp_ring_t *r, uint64_t offset) {
    char ev[512];
    size_t n = make_event(ev, sizeof ev, offset, 0);
    return bp_ring_push(r, offset, ev, n, offset * 10);
}

/* The offsets of the events inside a frame, checking the frame's shape. */
static size_t frame_offsets(const char *frame, size_t len, const char *epoch, uint64_t *out,
                            size_t max) {
    cJSON *root = tu_parse_json(frame, len);
    assert_int_equal(cJSON_GetArraySize(root), 3);
    assert_string_equal(tu_str(root, "type"), "events");
    assert_string_equal(tu_str(root, "epoch"), epoch);
    const cJSON *evs = tu_get(root, "events");
    assert_true(cJSON_IsArray(evs));
    size_t n = 0;
    for (const cJSON *e = evs->child; e; e = e->next) {
        assert_true(n < max);
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "offset")));
        out[n++] = (uint64_t)cJSON_GetObjectItemCaseSensitive(e, "offset")->valuedouble;
    }
    cJSON_Delete(root);
    return n;
}

static void test_push_get_first_last(void **state) {
    (void)state;
    bp_ring_t r;
    assert_int_equal(bp_ring_init(&r, 8, 1 << 20, HEADROOM), 0);
    bp_ring_clear(&r, "9f2c");
    assert_int_equal(bp_ring_count(&r), 0);
    assert_int_equal(bp_ring_first(&r), 0);
    assert_int_equal(bp_ring_last(&r), 0);
    assert_null(bp_ring_get(&r, 0));
    assert_null(bp_ring_get(&r, 1));
    for (uint64_t o = 100; o <= 103; o++)
        assert_int_equal(push(&r, o), 0);
    assert_int_equal(bp_ring_count(&r), 4);
    assert_int_equal(bp_ring_first(&r), 100);
    assert_int_equal(bp_ring_last(&r), 103);
    assert_null(bp_ring_get(&r, 99));
    assert_null(bp_ring_get(&r, 104));
    const bp_ring_entry_t *e = bp_ring_get(&r, 102);
    assert_non_null(e);
    assert_int_equal(e->offset, 102);
    assert_int_equal(e->in_ns, 1020);
    /* the entry is a whole frame after the headroom, holding its event */
    char ev[512];
    size_t n = make_event(ev, sizeof ev, 102, 0);
    assert_int_equal(e->ev_len, n);
    assert_memory_equal(e->buf + HEADROOM + e->ev_off, ev, n);
    uint64_t offs[4];
    assert_int_equal(frame_offsets(e->buf + HEADROOM, e->frame_len, "9f2c", offs, 4), 1);
    assert_int_equal(offs[0], 102);
    bp_ring_free(&r);
}

static void test_offsets_must_be_contiguous(void **state) {
    (void)state;
    bp_ring_t r;
    assert_int_equal(bp_ring_init(&r, 8, 1 << 20, HEADROOM), 0);
    bp_ring_clear(&r, "e");
    assert_int_equal(push(&r, 5), 0); /* any offset starts an empty ring */
    assert_int_equal(push(&r, 6), 0);
    assert_int_equal(push(&r, 8), -1); /* gap */
    assert_int_equal(push(&r, 6), -1); /* repeat */
    assert_int_equal(push(&r, 4), -1); /* backwards */
    assert_int_equal(push(&r, 0), -1);
    assert_int_equal(bp_ring_count(&r), 2);
    assert_int_equal(bp_ring_last(&r), 6);
    assert_int_equal(push(&r, 7), 0);
    assert_int_equal(bp_ring_last(&r), 7);
    /* after a clear, a new run can start anywhere */
    bp_ring_clear(&r, "f");
    assert_int_equal(push(&r, 1), 0);
    assert_int_equal(bp_ring_first(&r), 1);
    bp_ring_free(&r);
}

static void test_evict_by_count(void **state) {
    (void)state;
    bp_ring_t r;
    assert_int_equal(bp_ring_init(&r, 4, 1 << 20, HEADROOM), 0);
    bp_ring_clear(&r, "e");
    for (uint64_t o = 1; o <= 6; o++)
        assert_int_equal(push(&r, o), 0);
    assert_int_equal(bp_ring_count(&r), 4);
    assert_int_equal(bp_ring_first(&r), 3);
    assert_int_equal(bp_ring_last(&r), 6);
    assert_null(bp_ring_get(&r, 2));
    /* many times round the circle, lookups still land on the right entry */
    for (uint64_t o = 7; o <= 1000; o++)
        assert_int_equal(push(&r, o), 0);
    assert_int_equal(bp_ring_count(&r), 4);
    for (uint64_t o = 997; o <= 1000; o++) {
        const bp_ring_entry_t *e = bp_ring_get(&r, o);
        assert_non_null(e);
        assert_int_equal(e->offset, o);
        uint64_t offs[1];
        assert_int_equal(frame_offsets(e->buf + HEADROOM, e->frame_len, "e", offs, 1), 1);
        assert_int_equal(offs[0], o);
    }
    bp_ring_free(&r);
}

static void test_evict_by_bytes(void **state) {
    (void)state;
    bp_ring_t r;
    /* measure one frame first */
    assert_int_equal(bp_ring_init(&r, 100, 1 << 20, HEADROOM), 0);
    bp_ring_clear(&r, "e");
    assert_int_equal(push(&r, 10), 0); /* offsets 10..99 all print as two digits */
    size_t frame = bp_ring_get(&r, 10)->frame_len;
    assert_int_equal(r.bytes, frame);
    bp_ring_free(&r);

    assert_int_equal(bp_ring_init(&r, 100, 3 * frame, HEADROOM), 0);
    bp_ring_clear(&r, "e");
    for (uint64_t o = 10; o < 13; o++)
        assert_int_equal(push(&r, o), 0);
    assert_int_equal(bp_ring_count(&r), 3);
    assert_int_equal(r.bytes, 3 * frame);
    assert_int_equal(push(&r, 13), 0);
    assert_int_equal(bp_ring_count(&r), 3);
    assert_int_equal(bp_ring_first(&r), 11);
    assert_true(r.bytes <= r.max_bytes);
    /* a bigger event evicts as many as it takes */
    char ev[512];
    size_t n = make_event(ev, sizeof ev, 14, frame + 10);
    assert_int_equal(bp_ring_push(&r, 14, ev, n, 0), 0);
    assert_int_equal(bp_ring_count(&r), 1);
    assert_int_equal(bp_ring_first(&r), 14);
    assert_true(r.bytes <= r.max_bytes);
    /* one that can never fit is refused and the ring is unchanged */
    n = make_event(ev, sizeof ev, 15, 3 * frame);
    assert_int_equal(bp_ring_push(&r, 15, ev, n, 0), -1);
    assert_int_equal(bp_ring_count(&r), 1);
    assert_int_equal(bp_ring_last(&r), 14);
    bp_ring_free(&r);
}

static void test_coalesce_all_and_after(void **state) {
    (void)state;
    bp_ring_t r;
    assert_int_equal(bp_ring_init(&r, 16, 1 << 20, HEADROOM), 0);
    bp_ring_clear(&r, "abc123");
    for (uint64_t o = 1; o <= 6; o++)
        assert_int_equal(push(&r, o), 0);
    bp_buf_t out;
    bp_buf_init(&out, HEADROOM, 1 << 20);
    uint64_t last = 0, offs[16];
    assert_int_equal(bp_ring_coalesce(&r, 0, 1 << 20, &out, &last), 6);
    assert_int_equal(last, 6);
    assert_ptr_equal(bp_buf_data(&out), out.base + HEADROOM);
    assert_int_equal(frame_offsets(bp_buf_data(&out), out.len, "abc123", offs, 16), 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(offs[i], (uint64_t)i + 1);

    assert_int_equal(bp_ring_coalesce(&r, 3, 1 << 20, &out, &last), 3);
    assert_int_equal(last, 6);
    assert_int_equal(frame_offsets(bp_buf_data(&out), out.len, "abc123", offs, 16), 3);
    assert_int_equal(offs[0], 4);
    assert_int_equal(offs[2], 6);

    /* nothing after the newest */
    last = 77;
    assert_int_equal(bp_ring_coalesce(&r, 6, 1 << 20, &out, &last), 0);
    assert_int_equal(bp_ring_coalesce(&r, 100, 1 << 20, &out, &last), 0);
    assert_int_equal(last, 77);
    bp_buf_free(&out);
    bp_ring_free(&r);
}

static void test_coalesce_respects_max_bytes(void **state) {
    (void)state;
    bp_ring_t r;
    assert_int_equal(bp_ring_init(&r, 16, 1 << 20, HEADROOM), 0);
    bp_ring_clear(&r, "e");
    for (uint64_t o = 1; o <= 9; o++)
        assert_int_equal(push(&r, o), 0);
    bp_buf_t out;
    bp_buf_init(&out, HEADROOM, 1 << 20);
    uint64_t last = 0, offs[16];
    /* the exact size of a frame with events 1 and 2 */
    assert_int_equal(bp_ring_coalesce(&r, 0, 1 << 20, &out, &last), 9);
    size_t one = bp_ring_get(&r, 1)->frame_len;
    size_t ev = bp_ring_get(&r, 1)->ev_len;
    size_t two = one + 1 + ev; /* all events here have the same length */
    assert_int_equal(bp_ring_coalesce(&r, 0, two, &out, &last), 2);
    assert_int_equal(out.len, two);
    assert_int_equal(last, 2);
    assert_int_equal(frame_offsets(bp_buf_data(&out), out.len, "e", offs, 16), 2);
    assert_int_equal(bp_ring_coalesce(&r, 0, two - 1, &out, &last), 1);
    assert_int_equal(last, 1);
    assert_true(out.len <= two - 1);
    /* continuing from where the previous frame ended */
    assert_int_equal(bp_ring_coalesce(&r, last, two, &out, &last), 2);
    assert_int_equal(last, 3);
    assert_int_equal(frame_offsets(bp_buf_data(&out), out.len, "e", offs, 16), 2);
    assert_int_equal(offs[0], 2);
    assert_int_equal(offs[1], 3);
    /* a limit below one event still sends one */
    assert_int_equal(bp_ring_coalesce(&r, 0, 1, &out, &last), 1);
    assert_int_equal(last, 1);
    assert_int_equal(out.len, one);
    assert_int_equal(frame_offsets(bp_buf_data(&out), out.len, "e", offs, 16), 1);
    /* walking the whole ring in small frames visits every event once, in order */
    uint64_t at = 0, next_expected = 1;
    while (bp_ring_coalesce(&r, at, 3 * one, &out, &at) > 0) {
        assert_true(out.len <= 3 * one);
        size_t n = frame_offsets(bp_buf_data(&out), out.len, "e", offs, 16);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(offs[i], next_expected++);
    }
    assert_int_equal(next_expected, 10);
    bp_buf_free(&out);
    bp_ring_free(&r);
}

/* A client behind the ring's first entry gets what is still there. */
static void test_coalesce_from_before_first(void **state) {
    (void)state;
    bp_ring_t r;
    assert_int_equal(bp_ring_init(&r, 3, 1 << 20, HEADROOM), 0);
    bp_ring_clear(&r, "e");
    for (uint64_t o = 1; o <= 10; o++)
        assert_int_equal(push(&r, o), 0);
    bp_buf_t out;
    bp_buf_init(&out, HEADROOM, 1 << 20);
    uint64_t last = 0, offs[4];
    assert_int_equal(bp_ring_coalesce(&r, 2, 1 << 20, &out, &last), 3);
    assert_int_equal(frame_offsets(bp_buf_data(&out), out.len, "e", offs, 4), 3);
    assert_int_equal(offs[0], 8);
    assert_int_equal(last, 10);
    bp_buf_free(&out);
    bp_ring_free(&r);
}

static void test_clear_and_epoch(void **state) {
    (void)state;
    bp_ring_t r;
    assert_int_equal(bp_ring_init(&r, 4, 1 << 20, HEADROOM), 0);
    bp_ring_clear(&r, "old");
    for (uint64_t o = 1; o <= 3; o++)
        assert_int_equal(push(&r, o), 0);
    bp_ring_clear(&r, "new");
    assert_int_equal(bp_ring_count(&r), 0);
    assert_int_equal(r.bytes, 0);
    assert_int_equal(bp_ring_first(&r), 0);
    assert_int_equal(bp_ring_last(&r), 0);
    assert_null(bp_ring_get(&r, 2));
    bp_buf_t out;
    bp_buf_init(&out, HEADROOM, 1 << 20);
    uint64_t last = 0, offs[4];
    assert_int_equal(bp_ring_coalesce(&r, 0, 1 << 20, &out, &last), 0);
    /* frames pushed after the clear carry the new epoch */
    assert_int_equal(push(&r, 50), 0);
    const bp_ring_entry_t *e = bp_ring_get(&r, 50);
    assert_int_equal(frame_offsets(e->buf + HEADROOM, e->frame_len, "new", offs, 4), 1);
    assert_int_equal(bp_ring_coalesce(&r, 0, 1 << 20, &out, &last), 1);
    assert_int_equal(frame_offsets(bp_buf_data(&out), out.len, "new", offs, 4), 1);
    /* the longest epoch fits */
    char epoch[BP_EPOCH_MAX + 1];
    memset(epoch, 'a', BP_EPOCH_MAX);
    epoch[BP_EPOCH_MAX] = '\0';
    bp_ring_clear(&r, epoch);
    assert_int_equal(push(&r, 1), 0);
    e = bp_ring_get(&r, 1);
    assert_int_equal(frame_offsets(e->buf + HEADROOM, e->frame_len, epoch, offs, 4), 1);
    bp_ring_clear(&r, NULL);
    assert_string_equal(r.epoch, "");
    bp_buf_free(&out);
    bp_ring_free(&r);
    bp_ring_free(&r); /* a freed ring can be freed again */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_get_first_last),
        cmocka_unit_test(test_offsets_must_be_contiguous),
        cmocka_unit_test(test_evict_by_count),
        cmocka_unit_test(test_evict_by_bytes),
        cmocka_unit_test(test_coalesce_all_and_after),
        cmocka_unit_test(test_coalesce_respects_max_bytes),
        cmocka_unit_test(test_coalesce_from_before_first),
        cmocka_unit_test(test_clear_and_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
