/*
 * libFuzzer harness for POST /api/v1/feed with an NDJSON body, without the
 * network: the body split into lines (core/bp_feedline) and each line taken
 * as server/feed.c takes it — hello or feed line, its checks, the token's
 * scope, the block after an `unavailable` (simulated for some lines) — and
 * answered with a reply line that must be one valid JSON object. The lines
 * sent to "Redis" go through the prev tracker (core/bp_feedprev) with
 * answers coming back in order at a pace the input decides: the prev each
 * line is sent with must be the last line of its source still in flight,
 * when lower than its seq (a shadow FIFO says which), and the tracker ends
 * empty once every line is answered.
 */
#include "bp_feedline.h"
#include "bp_feedprev.h"
#include "bp_codec_feed.h"
#include "bp_codec_api.h"
#include "interop_fixture.h"

#include <cjson/cJSON.h>

#define MAX_LINE 65536

/* The lines with "Redis", oldest first. */
#define FLIGHT 256
typedef struct {
    uint64_t src[FLIGHT];
    int64_t seq[FLIGHT];
    size_t head, n;
} flight_t;

static void answer_oldest(flight_t *f, bp_feed_prev_t *p) {
    uint64_t src = f->src[f->head];
    size_t before = bp_feed_prev_inflight(p, src);
    bp_feed_prev_answered(p, src);
    if (before == 0 || bp_feed_prev_inflight(p, src) != before - 1) abort();
    f->head = (f->head + 1) % FLIGHT;
    f->n--;
}

/* Sends (src, seq): checks the prev the tracker gives against the FIFO. */
static void send_line(flight_t *f, bp_feed_prev_t *p, uint64_t src, int64_t seq) {
    if (f->n == FLIGHT) answer_oldest(f, p);
    int64_t want = -1;
    for (size_t k = f->n; k-- > 0;) {
        size_t i = (f->head + k) % FLIGHT;
        if (f->src[i] != src) continue;
        if (f->seq[i] < seq) want = f->seq[i];
        break;
    }
    int64_t prev = bp_feed_prev_before(p, src, seq);
    if (prev == -2) return; /* no memory: not sent */
    if (prev != want) abort();
    bp_feed_prev_sent(p, src, seq);
    size_t i = (f->head + f->n) % FLIGHT;
    f->src[i] = src;
    f->seq[i] = seq;
    f->n++;
}

static void reply_ok(bp_buf_t *b) {
    cJSON *j = b->failed ? NULL : cJSON_ParseWithLength(bp_buf_data(b), b->len);
    if (!j || !cJSON_IsObject(j) || !cJSON_GetObjectItem(j, "ok")) abort();
    cJSON_Delete(j);
    bp_buf_reset(b);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    fuzz_fixture();
    bp_principal_t feed = {.id = "t-fuzz", .role = BP_ROLE_FEED, .fleet = true};
    bp_principal_scope_add(&feed, bp_registry_hospital(&fuzz_reg, "bach-mai", 8));
    bp_principal_t admin = {.id = "t-admin", .role = BP_ROLE_ADMIN};
    const bp_principal_t *who = &feed;
    bp_feed_block_t block = {0};
    bp_feed_prev_t order = {0};
    flight_t flight = {.n = 0};
    bp_buf_t b;
    bp_buf_init(&b, 0, 4096);
    size_t pos = 0, len, lines = 0;
    const char *line;
    while (bp_feedline_next((const char *)data, size, &pos, &line, &len)) {
        if (pos > size) abort();
        lines++;
        bp_error_t err;
        bp_hello_t hello;
        bp_change_t ch;
        if (len > MAX_LINE) {
            bp_feedline_reply_error(&b, -1, "line_too_long", "", "too long");
        } else if (bp_feedline_is_hello(line, len) &&
                   bp_codec_parse_hello(line, len, &hello, &err) == 0) {
            /* a token that is "bp_admin..." stands for a known admin token */
            const bp_principal_t *p =
                hello.has_token && strncmp(hello.token, "bp_admin", 8) == 0 ? &admin : NULL;
            if (bp_feedline_hello_check(p, hello.has_token, FUZZ_NOW, &err) == 0) {
                who = p;
                bp_feedline_reply_hello(&b, p);
            } else {
                bp_feedline_reply_error(&b, -1, err.code, err.field, err.message);
            }
        } else if (bp_codec_parse_feed(line, len, &fuzz_reg, FUZZ_NOW, FUZZ_SKEW, &ch, &err)) {
            bp_feedline_reply_error(&b, ch.seq, err.code, err.field, err.message);
        } else if (bp_feedline_authorize(who, &ch, &fuzz_reg, FUZZ_NOW, &err)) {
            bp_feedline_reply_error(&b, ch.seq, err.code, err.field, err.message);
        } else {
            uint64_t src = bp_feed_source_hash(ch.source);
            if (!bp_feed_block_admit(&block, src, ch.seq)) {
                char msg[200];
                bp_feed_block_message(&block, msg, sizeof msg);
                bp_feedline_reply_error(&b, ch.seq, "unavailable", "", msg);
            } else if (ch.seq % 5 == 3) { /* Redis lost before it answered */
                bp_feed_block_set(&block, src, ch.seq);
                bp_feedline_reply_error(&b, ch.seq, "unavailable", "", "lost");
            } else {
                if (ch.seq >= 0) send_line(&flight, &order, src, ch.seq);
                /* answers come back in order, as many as the line says */
                for (int64_t k = ch.seq % 3; k > 0 && flight.n; k--)
                    answer_oldest(&flight, &order);
                bp_feedline_reply_ok(&b, ch.seq, lines, ch.seq % 2);
            }
        }
        reply_ok(&b);
    }
    while (flight.n)
        answer_oldest(&flight, &order);
    if (order.used) abort();
    bp_feed_prev_free(&order);
    bp_buf_free(&b);
    return 0;
}
