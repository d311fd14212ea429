/*
 * Tests of the simulator's pure parts: the model is driven with a fake
 * clock through simulated hours, and every line it emits must pass the
 * collector's own validator (bp_codec_parse_feed) with increasing seqs per
 * source and `at` never going backwards per entity. The figures it reports,
 * merged like the collector merges them, must look like Hanoi: central
 * hospitals above 100%, district and private ones with room, units cycling
 * through every status. Also the reply scanner.
 *
 * Usage: test_sim_model [SOURCE_DIR] (where config/ lives; default ".").
 */
#include "bp_codec.h"
#include "bp_time.h"
#include "sim_model.h"
#include "sim_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

static char *slurp(const char *dir, const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static int load_registry(const char *dir, bp_registry_t *reg) {
    size_t n;
    bp_error_t err;
    char *h = slurp(dir, "config/hospitals.json", &n);
    if (!h || bp_codec_parse_hospitals(h, n, reg, &err)) {
        fprintf(stderr, "cannot load hospitals from %s\n", dir);
        free(h);
        return -1;
    }
    free(h);
    char *f = slurp(dir, "config/fleet.json", &n);
    if (!f || bp_codec_parse_fleet(f, n, reg, &err)) {
        fprintf(stderr, "cannot load fleet from %s\n", dir);
        free(f);
        return -1;
    }
    free(f);
    return 0;
}

/* What the collector would hold, merged from the lines. */
typedef struct {
    bp_registry_t *reg;
    bp_hospital_state_t *hosp;
    bp_ambulance_state_t *amb;
    int64_t *hosp_seq, amb_seq;
    size_t lines, parse_errors, order_errors;
    size_t status_seen[BP_AMB__COUNT];
    size_t ed_seen[BP_ED__COUNT];
    size_t backdated;
} feed_t;

static void feed_line(feed_t *f, const char *line, size_t len, const bp_sim_line_t *meta,
                      int64_t now) {
    bp_change_t ch;
    bp_error_t err;
    bp_error_clear(&err);
    f->lines++;
    CHECK(len > 0 && line[len - 1] == '\n', "line without newline");
    if (bp_codec_parse_feed(line, len - 1, f->reg, now, 300000, &ch, &err)) {
        if (f->parse_errors++ < 5)
            fprintf(stderr, "rejected [%s %s] %s: %.*s\n", err.code, err.field, err.message,
                    (int)len, line);
        return;
    }
    CHECK(ch.seq == meta->seq, "seq %lld vs meta %lld", (long long)ch.seq, (long long)meta->seq);
    if (meta->backdated) f->backdated++;
    if (ch.kind == BP_KIND_HOSPITAL) {
        int i = bp_registry_hospital(f->reg, ch.id, strlen(ch.id));
        CHECK(i == meta->index, "hospital index");
        char src[BP_SOURCE_MAX + 1];
        snprintf(src, sizeof src, "his-%.*s", BP_ID_MAX, ch.id); /* a hospital id */
        CHECK(strcmp(ch.source, src) == 0, "source %s", ch.source);
        if (ch.seq <= f->hosp_seq[i] || ch.at_ms < f->hosp[i].at_ms) f->order_errors++;
        f->hosp_seq[i] = ch.seq;
        if (ch.has_ed) f->ed_seen[ch.ed.status]++;
        bp_hospital_apply(&f->hosp[i], &ch);
    } else {
        int u = bp_registry_unit(f->reg, ch.id, strlen(ch.id));
        CHECK(u == meta->index, "unit index");
        CHECK(strcmp(ch.source, "avl-115") == 0, "source %s", ch.source);
        if (ch.seq <= f->amb_seq || ch.at_ms < f->amb[u].at_ms) f->order_errors++;
        f->amb_seq = ch.seq;
        if (ch.amb_fields & BP_AF_STATUS) f->status_seen[ch.amb.status]++;
        bp_ambulance_apply(&f->amb[u], &ch);
    }
}

static void feed_init(feed_t *f, bp_registry_t *reg) {
    memset(f, 0, sizeof *f);
    f->reg = reg;
    f->hosp = calloc(reg->n_hospitals, sizeof *f->hosp);
    f->amb = calloc(reg->n_units, sizeof *f->amb);
    f->hosp_seq = calloc(reg->n_hospitals, sizeof *f->hosp_seq);
    for (size_t i = 0; i < reg->n_hospitals; i++)
        bp_registry_base_state(&reg->hospitals[i], &f->hosp[i]);
    for (size_t u = 0; u < reg->n_units; u++)
        bp_ambulance_state_init(&f->amb[u]);
}

static void feed_free(feed_t *f) {
    free(f->hosp);
    free(f->amb);
    free(f->hosp_seq);
}

/* Runs the model from t0 for `seconds` in 100 ms ticks with room for
 * `room` lines per tick. */
static void run(bp_sim_t *sim, feed_t *f, int64_t t0, double seconds, size_t room) {
    static bp_sim_line_t lines[256];
    bp_buf_t out;
    bp_buf_init(&out, 0, 256 * BP_SIM_LINE_MAX);
    for (int64_t t = t0; t <= t0 + (int64_t)(seconds * 1000); t += 100) {
        bp_buf_reset(&out);
        size_t n = bp_sim_step(sim, t, room, &out, lines);
        CHECK(n <= room, "emitted %zu > room %zu", n, room);
        CHECK(!out.failed, "buffer failed");
        for (size_t i = 0; i < n; i++)
            feed_line(f, bp_buf_data(&out) + lines[i].off, lines[i].len, &lines[i], t);
    }
    bp_buf_free(&out);
}

static double tier_occupancy(const feed_t *f, bp_tier_t tier) {
    bp_totals_t sum = {0};
    for (size_t i = 0; i < f->reg->n_hospitals; i++) {
        if (f->reg->hospitals[i].tier != tier) continue;
        bp_totals_t t;
        bp_hospital_totals(&f->hosp[i], &t);
        sum.staffed += t.staffed;
        sum.occupied += t.occupied;
    }
    return sum.staffed ? 100.0 * (double)sum.occupied / (double)sum.staffed : -1;
}

static void test_rate_zero(bp_registry_t *reg) {
    bp_sim_options_t o;
    bp_sim_options_default(&o);
    o.rate = 0;
    o.seed = 7;
    int64_t t0 = 1795000000000; /* 2026-11-18 */
    bp_sim_t *sim = bp_sim_create(reg, &o, t0);
    feed_t f;
    feed_init(&f, reg);
    run(sim, &f, t0, 600, 256);
    CHECK(f.lines == reg->n_hospitals + reg->n_units, "rate 0 sent %zu lines", f.lines);
    CHECK(f.parse_errors == 0, "%zu rejected", f.parse_errors);
    CHECK(f.backdated == 3, "%zu back-dated", f.backdated);
    /* every hospital reported, stale or late ones among them */
    size_t stale = 0, late = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        CHECK(f.hosp[i].at_ms > 0, "hospital %s never reported", reg->hospitals[i].id);
        bp_freshness_t fr = bp_freshness(f.hosp[i].at_ms, reg->hospitals[i].report_interval_s, t0);
        stale += fr == BP_STALE;
        late += fr == BP_LATE;
    }
    CHECK(stale == 2 && late == 1, "stale %zu late %zu", stale, late);
    feed_free(&f);
    bp_sim_destroy(sim);
}

static void test_small_room(bp_registry_t *reg) {
    /* one line per tick: the initial reports trickle out, nothing is lost */
    bp_sim_options_t o;
    bp_sim_options_default(&o);
    o.seed = 11;
    int64_t t0 = 1795000000000;
    bp_sim_t *sim = bp_sim_create(reg, &o, t0);
    feed_t f;
    feed_init(&f, reg);
    run(sim, &f, t0, 120, 1);
    for (size_t i = 0; i < reg->n_hospitals; i++)
        CHECK(f.hosp[i].at_ms > 0, "hospital %s never reported", reg->hospitals[i].id);
    for (size_t u = 0; u < reg->n_units; u++)
        CHECK(f.amb[u].at_ms > 0, "unit %s never reported", reg->units[u].id);
    CHECK(f.parse_errors == 0 && f.order_errors == 0, "errors %zu/%zu", f.parse_errors,
          f.order_errors);
    feed_free(&f);
    bp_sim_destroy(sim);
}

static void test_hours(bp_registry_t *reg, int64_t t0, double hours) {
    bp_sim_options_t o;
    bp_sim_options_default(&o);
    o.seed = 42;
    bp_sim_t *sim = bp_sim_create(reg, &o, t0);
    feed_t f;
    feed_init(&f, reg);
    double secs = hours * 3600;
    run(sim, &f, t0, secs, 256);
    double rate = (double)f.lines / secs;
    bp_sim_stats_t st;
    bp_sim_stats(sim, &st);
    double occ[BP_TIER__COUNT];
    for (int t = 0; t < BP_TIER__COUNT; t++)
        occ[t] = tier_occupancy(&f, (bp_tier_t)t);
    int levels[5] = {0}, stale = 0;
    int64_t now = t0 + (int64_t)(secs * 1000);
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        levels[bp_pressure_level(&f.hosp[i], &bp_pressure_default, now)]++;
        stale +=
            bp_freshness(f.hosp[i].at_ms, reg->hospitals[i].report_interval_s, now) != BP_FRESH;
    }
    printf("%.1f h from %02.0f:00 Hanoi: %zu lines (%.2f/s), %llu incidents (%llu unanswered), "
           "%zu moving, %zu busy; occupancy central %.0f%% city %.0f%% district %.0f%% private "
           "%.0f%%; "
           "levels 1-4: %d %d %d %d; not fresh %d; ED lines normal %zu advisory %zu diversion %zu "
           "closed %zu\n",
           hours, bp_sim_hanoi_hour(t0), f.lines, rate, (unsigned long long)st.incidents,
           (unsigned long long)st.unanswered, st.units_moving, st.units_busy, occ[0], occ[1],
           occ[2], occ[3], levels[1], levels[2], levels[3], levels[4], stale, f.ed_seen[0],
           f.ed_seen[1], f.ed_seen[2], f.ed_seen[3]);
    CHECK(f.parse_errors == 0, "%zu lines rejected", f.parse_errors);
    CHECK(f.order_errors == 0, "%zu seq/at order errors", f.order_errors);
    CHECK(rate > 2.0 && rate < 4.5, "rate %.2f/s", rate);
    CHECK(occ[BP_TIER_CENTRAL] > 100 && occ[BP_TIER_CENTRAL] < 130, "central %.1f%%",
          occ[BP_TIER_CENTRAL]);
    CHECK(occ[BP_TIER_CITY] > 85 && occ[BP_TIER_CITY] < 103, "city %.1f%%", occ[BP_TIER_CITY]);
    CHECK(occ[BP_TIER_DISTRICT] > 65 && occ[BP_TIER_DISTRICT] < 90, "district %.1f%%",
          occ[BP_TIER_DISTRICT]);
    CHECK(occ[BP_TIER_PRIVATE] > 55 && occ[BP_TIER_PRIVATE] < 85, "private %.1f%%",
          occ[BP_TIER_PRIVATE]);
    for (int s = 0; s < BP_AMB__COUNT; s++)
        if (s != BP_AMB_OUT_OF_SERVICE || hours >= 4)
            CHECK(f.status_seen[s] > 0, "status %s never sent",
                  bp_amb_status_name((bp_amb_status_t)s));
    /* dispatches: about one per 20 s at speed 10 */
    double per = secs / (double)st.incidents;
    CHECK(per > 12 && per < 30, "one incident per %.1f s", per);
    CHECK(f.ed_seen[BP_ED_DIVERSION] > 0 && f.ed_seen[BP_ED_ADVISORY] > 0, "ED events");
    CHECK(stale >= 1 && stale <= 6, "%d hospitals not fresh", stale);
    feed_free(&f);
    bp_sim_destroy(sim);
}

/* A day of ED events: advisories and diversions every hour, a few brief
 * closures, central EDs far more often off normal than the others. */
static void test_ed_day(bp_registry_t *reg) {
    bp_sim_options_t o;
    bp_sim_options_default(&o);
    o.seed = 99;
    int64_t t0 = 1794934800000; /* midnight in Hanoi */
    bp_sim_t *sim = bp_sim_create(reg, &o, t0);
    static bp_sim_line_t lines[256];
    bp_buf_t out;
    bp_buf_init(&out, 0, 256 * BP_SIM_LINE_MAX);
    bp_ed_status_t *ed = calloc(reg->n_hospitals, sizeof *ed);
    int starts[BP_ED__COUNT] = {0};
    long off[BP_TIER__COUNT] = {0}, samples[BP_TIER__COUNT] = {0};
    for (int64_t t = t0; t < t0 + 24 * 3600000LL; t += 1000) {
        bp_buf_reset(&out);
        size_t n = bp_sim_step(sim, t, 256, &out, lines);
        for (size_t i = 0; i < n; i++) {
            bp_change_t ch;
            bp_error_t err;
            const char *line = bp_buf_data(&out) + lines[i].off;
            CHECK(bp_codec_parse_feed(line, lines[i].len - 1, reg, t, 300000, &ch, &err) == 0, "%s",
                  err.message);
            if (ch.kind != BP_KIND_HOSPITAL || !ch.has_ed) continue;
            if (ch.ed.status != BP_ED_NORMAL && ed[lines[i].index] == BP_ED_NORMAL)
                starts[ch.ed.status]++;
            ed[lines[i].index] = ch.ed.status;
        }
        if ((t - t0) % 600000 == 0)
            for (size_t i = 0; i < reg->n_hospitals; i++) {
                samples[reg->hospitals[i].tier]++;
                off[reg->hospitals[i].tier] += ed[i] != BP_ED_NORMAL;
            }
    }
    double central = 100.0 * (double)off[BP_TIER_CENTRAL] / (double)samples[BP_TIER_CENTRAL];
    double district = 100.0 * (double)off[BP_TIER_DISTRICT] / (double)samples[BP_TIER_DISTRICT];
    printf("24 h of EDs: %d advisories, %d diversions, %d closures; off normal: central %.0f%%, "
           "district %.0f%%\n",
           starts[BP_ED_ADVISORY], starts[BP_ED_DIVERSION], starts[BP_ED_CLOSED], central,
           district);
    CHECK(starts[BP_ED_ADVISORY] >= 24 && starts[BP_ED_DIVERSION] >= 24, "too few ED events");
    CHECK(starts[BP_ED_CLOSED] >= 1 && starts[BP_ED_CLOSED] <= 30, "%d closures",
          starts[BP_ED_CLOSED]);
    CHECK(central > 8 && central < 45 && district < central, "central %.0f%% district %.0f%%",
          central, district);
    free(ed);
    bp_buf_free(&out);
    bp_sim_destroy(sim);
}

static void test_reply(void) {
    bp_sim_reply_t r;
    const char *a = "{\"ok\":true,\"seq\":41,\"offset\":1234}";
    CHECK(bp_sim_reply_parse(a, strlen(a), &r) == 0 && r.ok && !r.duplicate && r.has_seq &&
              r.seq == 41 && r.offset == 1234,
          "ok reply");
    const char *b = "{\"ok\":true,\"seq\":41,\"offset\":1234,\"duplicate\":true}";
    CHECK(bp_sim_reply_parse(b, strlen(b), &r) == 0 && r.ok && r.duplicate, "dup reply");
    const char *c =
        "{\"ok\":false,\"seq\":41,\"error\":\"out_of_range\",\"field\":\"beds.icu_adult."
        "occupied\",\"message\":\"must be \\\"0\\\" \\u00e9\"}";
    CHECK(bp_sim_reply_parse(c, strlen(c), &r) == 0 && !r.ok &&
              strcmp(r.error, "out_of_range") == 0 &&
              strcmp(r.field, "beds.icu_adult.occupied") == 0 &&
              strcmp(r.message, "must be \"0\" \\u00e9") == 0,
          "error reply: %s / %s", r.error, r.message);
    const char *d =
        "{\"ok\":false,\"seq\":null,\"error\":\"bad_json\",\"message\":\"x\",\"new\":1.5}";
    CHECK(bp_sim_reply_parse(d, strlen(d), &r) == 0 && !r.has_seq, "null seq, unknown field");
    const char *bad[] = {
        "", "{}", "{\"ok\":1}", "{\"ok\":false}", "{\"ok\":true", "{\"ok\":true}x", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(bp_sim_reply_parse(bad[i], strlen(bad[i]), &r) == -1, "accepted %s", bad[i]);
}

static void test_time(void) {
    bp_buf_t b;
    bp_buf_init(&b, 0, 128);
    bp_sim_json_time(&b, 1795000000000); /* 2026-11-18T11:06:40Z */
    CHECK(strcmp(bp_buf_data(&b), "\"2026-11-18T18:06:40.000+07:00\"") == 0, "%s", bp_buf_data(&b));
    int64_t back;
    CHECK(bp_time_parse(bp_buf_data(&b) + 1, b.len - 2, &back) == 0 && back == 1795000000000,
          "round trip");
    bp_buf_free(&b);
    CHECK(bp_sim_hanoi_hour(1795000000000) > 18.11 && bp_sim_hanoi_hour(1795000000000) < 18.12,
          "hour");
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    static bp_registry_t reg;
    if (load_registry(dir, &reg)) return 2;
    test_reply();
    test_time();
    test_rate_zero(&reg);
    test_small_room(&reg);
    test_ed_day(&reg);
    int64_t midnight_hanoi = 1794934800000; /* 2026-11-18T00:00+07:00 */
    test_hours(&reg, midnight_hanoi + 10 * 3600000LL, 1.0);
    test_hours(&reg, midnight_hanoi + 2 * 3600000LL, 1.0);
    test_hours(&reg, midnight_hanoi + 8 * 3600000LL, 6.0);
    bp_registry_free(&reg);
    if (failures)
        fprintf(stderr, "%d checks failed\n", failures);
    else
        printf("all checks passed\n");
    return failures ? 1 : 0;
}
