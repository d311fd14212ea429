/*
 * Tests of the simulator's pure parts: the model is driven with a fake
 * clock through simulated hours, and every line it emits must pass the
 * collector's own validator (bp_codec_parse_feed) with increasing seqs per
 * source and `at` never going backwards per entity. The figures it reports,
 * merged like the collector merges them, must look like Hanoi: central
 * hospitals above 100%, district and private ones with room, units cycling
 * through every status. 115 incidents: about 110 a day at the day's rhythm,
 * scaled for drills, each created, given a unit, sent to the top
 * recommendation of what was reported and closed in that order; handovers
 * longer at crowded central hospitals; a mass-casualty burst of 20-40
 * trauma calls at one place. Also the reply scanner.
 *
 * Plain cmocka assertions; the figures a statistical check bounds (rates,
 * occupancies, medians) are printed with print_message before it, so a
 * failing run shows the value that fell outside.
 */
#include "test_util.h"

#include "bp_codec_config.h"
#include "bp_codec_feed.h"
#include "bp_recommend.h"
#include "bp_state.h"
#include "bp_time.h"
#include "sim_model.h"
#include "sim_reply.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define HANDOVERS_MAX 4096

/* What the collector would hold, merged from the lines. */
typedef struct {
    bp_registry_t *reg;
    bp_hospital_state_t *hosp;
    bp_ambulance_state_t *amb;
    int64_t *hosp_seq, amb_seq, inc_seq;
    size_t lines, parse_errors, order_errors;
    size_t status_seen[BP_AMB__COUNT];
    size_t ed_seen[BP_ED__COUNT];
    size_t backdated;
    /* incidents: a server's state (the open ones), and what the lines did */
    bp_state_t *st;
    const bp_dispatch_cfg_t *dispatch;
    double speed;
    size_t creates, updates, closes, closed_at_hospital, inc_errors, by_cat[BP_CAT__COUNT];
    size_t by_hour[24], assigned;
    int64_t t0; /* calls received before it are the warm start's */
    size_t transports, top1, top3;
    int64_t *door_ms;   /* per unit: when it reported at_hospital; 0 none */
    int *door_h;        /* ... where */
    bool *door_crowded; /* ... a central hospital over 100 % then */
    double crowded[HANDOVERS_MAX], other[HANDOVERS_MAX]; /* fleet minutes */
    size_t n_crowded, n_other;
    /* the mass-casualty calls */
    size_t mci, mci_trauma, mci_near, mci_units;
    int64_t mci_first, mci_last;
    double mci_lat, mci_lon;
    bool mci_dest[BP_REGISTRY_MAX];
} feed_t;

/* Does the transport unit u just reported go to the top recommendation of
 * what was reported (the state before this line)? */
static void check_destination(feed_t *f, int u, const bp_change_t *ch) {
    const bp_ambulance_state_t *a = bp_state_ambulance(f->st, (size_t)u);
    if (a->status != BP_AMB_ON_SCENE || !(ch->amb_fields & BP_AF_DESTINATION) ||
        !ch->amb.destination[0])
        return; /* a warm-start report, or not a departure from the scene */
    int k = bp_state_incident_find(f->st, a->incident);
    if (k < 0) return;
    const bp_incident_state_t *inc = bp_state_incident(f->st, (size_t)k);
    int *inbound = calloc(f->reg->n_hospitals, sizeof *inbound);
    bp_recommend_inbound(f->st, inbound);
    bp_rec_query_t q = {.lat = a->lat,
                        .lon = a->lon,
                        .priority = inc->priority,
                        .need = f->dispatch->needs[inc->category],
                        .now_ms = ch->at_ms,
                        .inbound = inbound};
    bp_candidate_t c[3];
    size_t n = bp_recommend(f->st, f->dispatch, &q, c, 3);
    int dest = bp_registry_hospital(f->reg, ch->amb.destination, strlen(ch->amb.destination));
    f->transports++;
    for (size_t i = 0; i < n; i++)
        if (c[i].hospital == dest) {
            f->top1 += i == 0;
            f->top3++;
        }
    free(inbound);
}

/* Handover samples: at_hospital until the next status, in fleet minutes. */
static void track_handover(feed_t *f, int u, const bp_change_t *ch) {
    if (!(ch->amb_fields & BP_AF_STATUS)) return;
    if (f->door_ms[u] && ch->amb.status != BP_AMB_AT_HOSPITAL) {
        double min = (double)(ch->at_ms - f->door_ms[u]) / 60000.0 * f->speed;
        if (f->door_crowded[u] && f->n_crowded < HANDOVERS_MAX) f->crowded[f->n_crowded++] = min;
        if (!f->door_crowded[u] && f->n_other < HANDOVERS_MAX &&
            f->reg->hospitals[f->door_h[u]].tier != BP_TIER_CENTRAL)
            f->other[f->n_other++] = min;
        f->door_ms[u] = 0;
    }
    const bp_ambulance_state_t *a = bp_state_ambulance(f->st, (size_t)u);
    if (ch->amb.status == BP_AMB_AT_HOSPITAL && a->status == BP_AMB_TRANSPORTING &&
        a->destination[0]) {
        int h = bp_registry_hospital(f->reg, a->destination, strlen(a->destination));
        bp_totals_t t;
        bp_hospital_totals(bp_state_hospital(f->st, (size_t)h), &t);
        f->door_ms[u] = ch->at_ms;
        f->door_h[u] = h;
        f->door_crowded[u] = f->reg->hospitals[h].tier == BP_TIER_CENTRAL &&
                             bp_occupancy_pct(&t) > 102; /* clear of the line */
    }
}

static void feed_incident(feed_t *f, const bp_change_t *ch) {
    if (ch->seq <= f->inc_seq) f->order_errors++;
    f->inc_seq = ch->seq;
    assert_string_equal(ch->source, "cad-115");
    int open = bp_state_incident_find(f->st, ch->id);
    switch (ch->inc_action) {
    case BP_INC_CREATE:
        f->creates++;
        assert_true(open < 0);
        f->by_cat[ch->inc.category]++;
        if (ch->inc.received_ms >= f->t0) /* not one of the warm start */
            f->by_hour[(int)bp_sim_hanoi_hour(ch->inc.received_ms)]++;
        if (ch->inc_fields & BP_IF_UNIT) f->assigned++;
        if (strncmp(ch->inc.address, "Tai nạn hàng loạt", strlen("Tai nạn hàng loạt")) == 0) {
            if (f->mci == 0) f->mci_first = ch->at_ms;
            f->mci_last = ch->at_ms;
            f->mci++;
            f->mci_trauma += ch->inc.category == BP_CAT_TRAUMA;
            f->mci_near += bp_distance_km(ch->inc.lat, ch->inc.lon, f->mci_lat, f->mci_lon) < 0.3;
        }
        break;
    case BP_INC_UPDATE:
        f->updates++;
        assert_true(open >= 0);
        if (ch->inc_fields & BP_IF_UNIT) f->assigned++;
        break;
    default:
        f->closes++;
        assert_true(open >= 0);
        if (open < 0) break;
        const bp_incident_state_t *inc = bp_state_incident(f->st, (size_t)open);
        assert_true(ch->inc_fields == 0 || (ch->inc_fields & BP_IF_UNIT));
        if (ch->inc_fields & BP_IF_DESTINATION) f->closed_at_hospital++;
        if (strncmp(inc->address, "Tai nạn hàng loạt", strlen("Tai nạn hàng loạt")) == 0) {
            f->mci_units += inc->unit[0] != 0;
            int d = bp_registry_hospital(f->reg, ch->inc.destination, strlen(ch->inc.destination));
            if (d >= 0) f->mci_dest[d] = true;
        }
    }
    if (bp_state_apply(f->st, ch) < 0) f->inc_errors++;
}

static void feed_line(feed_t *f, const char *line, size_t len, const bp_sim_line_t *meta,
                      int64_t now) {
    bp_change_t ch;
    bp_error_t err;
    bp_error_clear(&err);
    f->lines++;
    assert_true(len > 0);
    assert_int_equal(line[len - 1], '\n');
    if (bp_codec_parse_feed(line, len - 1, f->reg, now, 300000, &ch, &err)) {
        if (f->parse_errors++ < 5)
            fprintf(stderr, "rejected [%s %s] %s: %.*s\n", err.code, err.field, err.message,
                    (int)len, line);
        return;
    }
    assert_int_equal(ch.seq, meta->seq);
    if (meta->backdated) f->backdated++;
    if (ch.kind == BP_KIND_HOSPITAL) {
        int i = bp_registry_hospital(f->reg, ch.id, strlen(ch.id));
        assert_int_equal(i, meta->index);
        char src[BP_SOURCE_MAX + 1];
        snprintf(src, sizeof src, "his-%.*s", BP_ID_MAX, ch.id); /* a hospital id */
        assert_string_equal(ch.source, src);
        if (ch.seq <= f->hosp_seq[i] || ch.at_ms < f->hosp[i].at_ms) f->order_errors++;
        f->hosp_seq[i] = ch.seq;
        if (ch.has_ed) f->ed_seen[ch.ed.status]++;
        bp_hospital_apply(&f->hosp[i], &ch);
        bp_state_apply(f->st, &ch);
    } else if (ch.kind == BP_KIND_AMBULANCE) {
        int u = bp_registry_unit(f->reg, ch.id, strlen(ch.id));
        assert_int_equal(u, meta->index);
        assert_string_equal(ch.source, "avl-115");
        if (ch.seq <= f->amb_seq || ch.at_ms < f->amb[u].at_ms) f->order_errors++;
        f->amb_seq = ch.seq;
        if (ch.amb_fields & BP_AF_STATUS) f->status_seen[ch.amb.status]++;
        bp_ambulance_apply(&f->amb[u], &ch);
        if ((ch.amb_fields & BP_AF_STATUS) && ch.amb.status == BP_AMB_TRANSPORTING)
            check_destination(f, u, &ch);
        track_handover(f, u, &ch);
        bp_state_apply(f->st, &ch);
    } else {
        assert_int_equal(meta->kind, BP_SIM_INCIDENT);
        feed_incident(f, &ch);
    }
}

static bp_dispatch_cfg_t dispatch; /* config/dispatch.json */

static void feed_init(feed_t *f, bp_registry_t *reg) {
    memset(f, 0, sizeof *f);
    f->reg = reg;
    f->hosp = calloc(reg->n_hospitals, sizeof *f->hosp);
    f->amb = calloc(reg->n_units, sizeof *f->amb);
    f->hosp_seq = calloc(reg->n_hospitals, sizeof *f->hosp_seq);
    f->st = bp_state_create(reg, &bp_pressure_default, 2000);
    f->dispatch = &dispatch;
    f->speed = 10;
    f->door_ms = calloc(reg->n_units, sizeof *f->door_ms);
    f->door_h = calloc(reg->n_units, sizeof *f->door_h);
    f->door_crowded = calloc(reg->n_units, sizeof *f->door_crowded);
    for (size_t i = 0; i < reg->n_hospitals; i++)
        bp_registry_base_state(&reg->hospitals[i], &f->hosp[i]);
    for (size_t u = 0; u < reg->n_units; u++)
        bp_ambulance_state_init(&f->amb[u]);
}

static void feed_free(feed_t *f) {
    bp_state_destroy(f->st);
    free(f->door_ms);
    free(f->door_h);
    free(f->door_crowded);
    free(f->hosp);
    free(f->amb);
    free(f->hosp_seq);
}

static bp_sim_options_t options(uint64_t seed) {
    bp_sim_options_t o;
    bp_sim_options_default(&o);
    o.seed = seed;
    return o;
}

/* A feed and the model it follows. */
static bp_sim_t *feed_start(feed_t *f, bp_registry_t *reg, const bp_sim_options_t *o, int64_t t0) {
    feed_init(f, reg);
    return bp_sim_create(reg, o, t0);
}

static void feed_end(feed_t *f, bp_sim_t *sim) {
    feed_free(f);
    bp_sim_destroy(sim);
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
        assert_true(n <= room);
        assert_false(out.failed);
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
    feed_t f;
    bp_sim_t *sim = feed_start(&f, reg, &o, t0);
    run(sim, &f, t0, 600, 256);
    assert_int_equal(f.lines, reg->n_hospitals + reg->n_units);
    assert_int_equal(f.parse_errors, 0);
    assert_int_equal(f.backdated, 3);
    /* every hospital reported, stale or late ones among them */
    size_t stale = 0, late = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        assert_true(f.hosp[i].at_ms > 0);
        bp_freshness_t fr = bp_freshness(f.hosp[i].at_ms, reg->hospitals[i].report_interval_s, t0);
        stale += fr == BP_STALE;
        late += fr == BP_LATE;
    }
    assert_int_equal(stale, 2);
    assert_int_equal(late, 1);
    feed_end(&f, sim);
}

static void test_small_room(bp_registry_t *reg) {
    /* one line per tick: the initial reports trickle out, nothing is lost */
    bp_sim_options_t o = options(11);
    int64_t t0 = 1795000000000;
    feed_t f;
    bp_sim_t *sim = feed_start(&f, reg, &o, t0);
    run(sim, &f, t0, 120, 1);
    for (size_t i = 0; i < reg->n_hospitals; i++)
        assert_true(f.hosp[i].at_ms > 0);
    for (size_t u = 0; u < reg->n_units; u++)
        assert_true(f.amb[u].at_ms > 0);
    assert_int_equal(f.parse_errors, 0);
    assert_int_equal(f.order_errors, 0);
    feed_end(&f, sim);
}

static void test_hours(bp_registry_t *reg, int64_t t0, double hours) {
    bp_sim_options_t o = options(42);
    feed_t f;
    bp_sim_t *sim = feed_start(&f, reg, &o, t0);
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
    assert_int_equal(f.parse_errors, 0);
    assert_int_equal(f.order_errors, 0);
    /* the intensive-care detail (issue 15 part 3): every reported adult ICU
     * has its ventilated places, the large ones ECMO too, within the rules */
    int icus = 0, ecmo = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_state_t *h = &f.hosp[i];
        if (!(h->beds_mask & (1u << BP_BED_ICU_ADULT))) continue;
        icus++;
        assert_true(h->icu_known[BP_BED_ICU_ADULT] & BP_BF_VENTILATED);
        const bp_icu_detail_t *d = &h->icu[BP_BED_ICU_ADULT];
        assert_true(d->ventilated.free <= d->ventilated.total);
        assert_true(d->ventilated.total <= h->beds[BP_BED_ICU_ADULT].staffed);
        ecmo += (h->icu_known[BP_BED_ICU_ADULT] & BP_BF_ECMO) != 0;
    }
    assert_true(icus > 10);
    assert_true(ecmo > 0 && ecmo < icus);
    print_message("rate %.2f/s\n", rate);
    assert_true(rate > 2.0);
    assert_true(rate < 4.5);
    print_message("central %.1f%%\n", occ[BP_TIER_CENTRAL]);
    assert_true(occ[BP_TIER_CENTRAL] > 100);
    assert_true(occ[BP_TIER_CENTRAL] < 130);
    print_message("city %.1f%%\n", occ[BP_TIER_CITY]);
    assert_true(occ[BP_TIER_CITY] > 85);
    assert_true(occ[BP_TIER_CITY] < 103);
    print_message("district %.1f%%\n", occ[BP_TIER_DISTRICT]);
    assert_true(occ[BP_TIER_DISTRICT] > 65);
    assert_true(occ[BP_TIER_DISTRICT] < 90);
    print_message("private %.1f%%\n", occ[BP_TIER_PRIVATE]);
    assert_true(occ[BP_TIER_PRIVATE] > 55);
    assert_true(occ[BP_TIER_PRIVATE] < 85);
    for (int s = 0; s < BP_AMB__COUNT; s++)
        if (s != BP_AMB_OUT_OF_SERVICE || hours >= 4) assert_true(f.status_seen[s] > 0);
    /* 110 calls a fleet day at speed 10: 46 an hour on average, fewer at night */
    double per_h = (double)st.incidents / hours;
    printf("  incidents: %zu created (%llu of the warm start), %zu updates, %zu closes (%zu at a "
           "hospital); %zu transports, %zu to the top recommendation, %zu in the top 3\n",
           f.creates, (unsigned long long)st.warm_incidents, f.updates, f.closes,
           f.closed_at_hospital, f.transports, f.top1, f.top3);
    print_message("%.1f incidents an hour\n", per_h);
    assert_true(per_h > 46 * 0.25);
    assert_true(per_h < 46 * 2.5);
    assert_int_equal(f.inc_errors, 0);
    /* every call since the start was reported, and some of the warm start's */
    print_message("%zu creates for %llu + %llu calls\n", f.creates,
                  (unsigned long long)st.incidents, (unsigned long long)st.warm_incidents);
    assert_true(f.creates >= st.incidents);
    assert_true(f.creates <= st.incidents + st.warm_incidents);
    assert_true(f.closes > 0);
    assert_true(f.updates > 0);
    assert_true(f.closed_at_hospital > 0);
    print_message("top recommendation %zu of %zu\n", f.top1, f.transports);
    assert_true(f.transports > 10);
    assert_true(f.top1 >= f.transports * 9 / 10);
    /* the end of the run closes every open incident */
    bp_sim_close_incidents(sim);
    run(sim, &f, t0 + (int64_t)(secs * 1000) + 100, 1, 256);
    assert_int_equal(bp_state_incident_count(f.st), 0);
    assert_true(f.ed_seen[BP_ED_DIVERSION] > 0);
    assert_true(f.ed_seen[BP_ED_ADVISORY] > 0);
    print_message("%d hospitals not fresh\n", stale);
    assert_true(stale >= 1);
    assert_true(stale <= 6);
    feed_end(&f, sim);
}

/* A day of ED events: advisories and diversions every hour, a few brief
 * closures, central EDs far more often off normal than the others;
 * services going down (with a reason and an expiry) and coming back; a few
 * facilities compromised (with a reason) and normal again. */
static void test_ed_day(bp_registry_t *reg) {
    bp_sim_options_t o = options(99);
    int64_t t0 = 1794934800000; /* midnight in Hanoi */
    bp_sim_t *sim = bp_sim_create(reg, &o, t0);
    static bp_sim_line_t lines[256];
    bp_buf_t out;
    bp_buf_init(&out, 0, 256 * BP_SIM_LINE_MAX);
    bp_ed_status_t *ed = calloc(reg->n_hospitals, sizeof *ed);
    int starts[BP_ED__COUNT] = {0};
    long off[BP_TIER__COUNT] = {0}, samples[BP_TIER__COUNT] = {0};
    int svc_down = 0, svc_back = 0, fac_down = 0, fac_back = 0;
    for (int64_t t = t0; t < t0 + 24 * 3600000LL; t += 1000) {
        bp_buf_reset(&out);
        size_t n = bp_sim_step(sim, t, 256, &out, lines);
        for (size_t i = 0; i < n; i++) {
            bp_change_t ch;
            bp_error_t err;
            const char *line = bp_buf_data(&out) + lines[i].off;
            assert_int_equal(bp_codec_parse_feed(line, lines[i].len - 1, reg, t, 300000, &ch, &err),
                             0);
            for (int k = 0; ch.kind == BP_KIND_HOSPITAL && k < BP_SVC__COUNT; k++) {
                if (!(ch.svc_fields >> k & 1)) continue;
                const bp_svc_t *sv = &ch.svc[k];
                if (sv->status == BP_SVS_UNAVAILABLE) {
                    /* a service down says why, until when */
                    assert_true(sv->reason[0]);
                    assert_true(sv->until_ms > ch.at_ms);
                    svc_down++;
                } else {
                    svc_back++;
                }
            }
            if (ch.kind == BP_KIND_HOSPITAL && ch.has_fac) {
                if (ch.fac.status == BP_FAC_COMPROMISED) {
                    assert_true(ch.fac.reason[0]); /* a compromised facility says why */
                    fac_down++;
                } else {
                    /* the simulator only compromises */
                    assert_int_equal(ch.fac.status, BP_FAC_NORMAL);
                    fac_back++;
                }
            }
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
    assert_true(starts[BP_ED_ADVISORY] >= 24);
    assert_true(starts[BP_ED_DIVERSION] >= 24);
    print_message("%d closures\n", starts[BP_ED_CLOSED]);
    assert_true(starts[BP_ED_CLOSED] >= 1);
    assert_true(starts[BP_ED_CLOSED] <= 30);
    print_message("central %.0f%% district %.0f%%\n", central, district);
    assert_true(central > 8);
    assert_true(central < 45);
    assert_true(district < central);
    print_message(
        "24 h of services: %d taken down, %d back; facilities: %d compromised, %d normal again\n",
        svc_down, svc_back, fac_down, fac_back);
    assert_true(fac_down >= 2);
    assert_true(fac_down <= 40);
    assert_true(fac_back <= fac_down);
    assert_true(svc_down >= 20);
    assert_true(svc_back >= 10);
    assert_true(svc_back <= svc_down);
    free(ed);
    bp_buf_free(&out);
    bp_sim_destroy(sim);
}

static void test_reply(void) {
    bp_sim_reply_t r;
    const char *a = "{\"ok\":true,\"seq\":41,\"offset\":1234}";
    assert_int_equal(bp_sim_reply_parse(a, strlen(a), &r), 0);
    assert_true(r.ok);
    assert_false(r.duplicate);
    assert_true(r.has_seq);
    assert_int_equal(r.seq, 41);
    assert_int_equal(r.offset, 1234);
    const char *b = "{\"ok\":true,\"seq\":41,\"offset\":1234,\"duplicate\":true}";
    assert_int_equal(bp_sim_reply_parse(b, strlen(b), &r), 0);
    assert_true(r.ok);
    assert_true(r.duplicate);
    const char *c =
        "{\"ok\":false,\"seq\":41,\"error\":\"out_of_range\",\"field\":\"beds.icu_adult."
        "occupied\",\"message\":\"must be \\\"0\\\" \\u00e9\"}";
    assert_int_equal(bp_sim_reply_parse(c, strlen(c), &r), 0);
    assert_false(r.ok);
    assert_string_equal(r.error, "out_of_range");
    assert_string_equal(r.field, "beds.icu_adult.occupied");
    assert_string_equal(r.message, "must be \"0\" \\u00e9");
    const char *d =
        "{\"ok\":false,\"seq\":null,\"error\":\"bad_json\",\"message\":\"x\",\"new\":1.5}";
    assert_int_equal(bp_sim_reply_parse(d, strlen(d), &r), 0);
    assert_false(r.has_seq);
    const char *bad[] = {
        "", "{}", "{\"ok\":1}", "{\"ok\":false}", "{\"ok\":true", "{\"ok\":true}x", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(bp_sim_reply_parse(bad[i], strlen(bad[i]), &r), -1);
}

static void test_time(void) {
    bp_buf_t b;
    bp_buf_init(&b, 0, 128);
    bp_jw_t w;
    bp_jw_init(&w, &b);
    bp_sim_jw_time(&w, 1795000000000); /* 2026-11-18T11:06:40Z */
    assert_string_equal(bp_buf_data(&b), "\"2026-11-18T18:06:40.000+07:00\"");
    int64_t back;
    assert_int_equal(bp_time_parse(bp_buf_data(&b) + 1, b.len - 2, &back), 0);
    assert_int_equal(back, 1795000000000);
    bp_buf_free(&b);
    assert_true(bp_sim_hanoi_hour(1795000000000) > 18.11);
    assert_true(bp_sim_hanoi_hour(1795000000000) < 18.12);
}

static double median(double *v, size_t n) {
    for (size_t i = 1; i < n; i++) /* insertion sort: small arrays */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : NAN;
}

/* A day of 115 calls in real time (speed 1, no warm start): about 110, few
 * before dawn, many in the morning and evening; road accidents the biggest
 * share; most patients taken to the top recommendation and handed over,
 * with longer handovers at crowded central hospitals. */
static void test_incident_day(bp_registry_t *reg) {
    bp_sim_options_t o = options(5);
    o.speed = 1;
    o.warm_start = false;
    int64_t t0 = 1794934800000; /* midnight in Hanoi */
    feed_t f;
    bp_sim_t *sim = feed_start(&f, reg, &o, t0);
    f.speed = 1;
    f.t0 = t0;
    static bp_sim_line_t lines[256];
    bp_buf_t out;
    bp_buf_init(&out, 0, 256 * BP_SIM_LINE_MAX);
    for (int64_t t = t0; t < t0 + 24 * 3600000LL; t += 1000) {
        bp_buf_reset(&out);
        size_t n = bp_sim_step(sim, t, 256, &out, lines);
        for (size_t i = 0; i < n; i++)
            feed_line(&f, bp_buf_data(&out) + lines[i].off, lines[i].len, &lines[i], t);
    }
    bp_sim_stats_t st;
    bp_sim_stats(sim, &st);
    size_t night = 0, morning = 0, evening = 0;
    for (int h = 1; h < 5; h++)
        night += f.by_hour[h];
    for (int h = 8; h < 12; h++)
        morning += f.by_hour[h];
    for (int h = 17; h < 21; h++)
        evening += f.by_hour[h];
    double crowded = median(f.crowded, f.n_crowded), other = median(f.other, f.n_other);
    printf("24 h of 115: %zu calls (01-05h %zu, 08-12h %zu, 17-21h %zu; trauma %zu, stroke %zu, "
           "cardiac %zu), %zu taken to hospital, %zu/%zu to the top recommendation, %llu waited "
           "for a unit; handover median %.0f min at crowded central hospitals (%zu), %.0f "
           "elsewhere (%zu)\n",
           f.creates, night, morning, evening, f.by_cat[BP_CAT_TRAUMA], f.by_cat[BP_CAT_STROKE],
           f.by_cat[BP_CAT_CARDIAC], f.closed_at_hospital, f.top1, f.transports,
           (unsigned long long)st.unanswered, crowded, f.n_crowded, other, f.n_other);
    assert_int_equal(f.parse_errors, 0);
    assert_int_equal(f.order_errors, 0);
    assert_int_equal(f.inc_errors, 0);
    print_message("%zu calls in a day (%llu in the model)\n", f.creates,
                  (unsigned long long)st.incidents);
    assert_int_equal(st.incidents, f.creates);
    assert_true(f.creates >= 90);
    assert_true(f.creates <= 130);
    print_message("rhythm: night %zu morning %zu evening %zu\n", night, morning, evening);
    assert_true(morning > 2 * night);
    assert_true(evening > 2 * night);
    for (int c = 0; c < BP_CAT__COUNT; c++)
        if (c != BP_CAT_TRAUMA) assert_true(f.by_cat[BP_CAT_TRAUMA] > f.by_cat[c]);
    assert_int_equal(f.closes + st.incidents_open, f.creates);
    print_message("%zu of %zu closed at a hospital\n", f.closed_at_hospital, f.closes);
    assert_true(f.closed_at_hospital > f.closes * 7 / 10);
    assert_true(f.closed_at_hospital < f.closes);
    print_message("%zu units assigned, %zu closes\n", f.assigned, f.closes);
    assert_true(f.assigned >= f.closes);
    print_message("top recommendation %zu of %zu\n", f.top1, f.transports);
    assert_true(f.transports > 60);
    assert_true(f.top1 >= f.transports * 9 / 10);
    print_message("handovers: %zu crowded, %zu other\n", f.n_crowded, f.n_other);
    assert_true(f.n_crowded >= 5);
    assert_true(f.n_other >= 10);
    print_message("handover medians %.1f crowded, %.1f other\n", crowded, other);
    assert_true(crowded >= 30);
    assert_true(crowded <= 60);
    assert_true(other >= 10);
    assert_true(other <= 30);
    assert_true(crowded > other + 10);
    bp_buf_free(&out);
    feed_end(&f, sim);
}

static void test_handover_minutes(void) {
    for (double u = 0; u < 1; u += 0.05) {
        double central_full = bp_sim_handover_minutes(BP_TIER_CENTRAL, 1.15, u);
        double central = bp_sim_handover_minutes(BP_TIER_CENTRAL, 0.9, u);
        double city_full = bp_sim_handover_minutes(BP_TIER_CITY, 1.05, u);
        double district = bp_sim_handover_minutes(BP_TIER_DISTRICT, 0.8, u);
        assert_true(central_full >= 30);
        assert_true(central_full < 60);
        assert_true(central >= 15);
        assert_true(central < 30);
        assert_true(city_full >= 15);
        assert_true(city_full < 30);
        assert_true(district >= 10);
        assert_true(district < 20);
    }
    double sum = 0;
    for (int h = 0; h < 24 * 60; h++)
        sum += bp_sim_call_rhythm(h / 60.0);
    print_message("rhythm mean %.6f\n", sum / 1440);
    assert_true(fabs(sum / 1440 - 1) < 1e-9);
    print_message("rhythm %.2f %.2f %.2f\n", bp_sim_call_rhythm(3.5), bp_sim_call_rhythm(10),
                  bp_sim_call_rhythm(19));
    assert_true(bp_sim_call_rhythm(3.5) < 0.5);
    assert_true(bp_sim_call_rhythm(10) > 1.3);
    assert_true(bp_sim_call_rhythm(19) > 1.3);
}

/* A mass-casualty burst: 20-40 trauma calls at one place within minutes,
 * every one given a unit; spread over several hospitals (inbound load). */
static void test_mci(bp_registry_t *reg) {
    bp_sim_options_t o = options(17);
    o.mci_after_s = 30;
    o.mci_lat = 20.9950; /* Giai Phong road, south of Bach Mai */
    o.mci_lon = 105.8412;
    int64_t t0 = 1794934800000 + 15 * 3600000LL;
    feed_t f;
    bp_sim_t *sim = feed_start(&f, reg, &o, t0);
    f.mci_lat = o.mci_lat;
    f.mci_lon = o.mci_lon;
    run(sim, &f, t0, 20 * 60, 256); /* 200 fleet minutes */
    bp_sim_stats_t st;
    bp_sim_stats(sim, &st);
    size_t dests = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++)
        dests += f.mci_dest[i];
    double spread_min = (double)(f.mci_last - f.mci_first) / 60000.0 * o.speed;
    printf("MCI: %zu calls (%llu in the model) over %.1f fleet min, %zu near the place, %zu closed "
           "with a unit, taken to %zu hospitals\n",
           f.mci, (unsigned long long)st.mci_incidents, spread_min, f.mci_near, f.mci_units, dests);
    assert_int_equal(f.parse_errors, 0);
    assert_int_equal(f.order_errors, 0);
    assert_int_equal(f.inc_errors, 0);
    print_message("burst of %zu (%llu)\n", f.mci, (unsigned long long)st.mci_incidents);
    assert_true(st.mci_incidents >= BP_SIM_MCI_MIN);
    assert_true(st.mci_incidents <= BP_SIM_MCI_MAX);
    assert_int_equal(f.mci, st.mci_incidents);
    assert_int_equal(f.mci_trauma, f.mci);
    assert_int_equal(f.mci_near, f.mci);
    print_message("burst at +%lld ms\n", (long long)(f.mci_first - t0));
    assert_true(f.mci_first >= t0 + 30000);
    assert_true(f.mci_first < t0 + 32000);
    print_message("burst over %.1f fleet minutes\n", spread_min);
    assert_true(spread_min <= 12);
    assert_int_equal(f.mci_units, f.mci);
    print_message("burst patients taken to %zu hospitals\n", dests);
    assert_true(dests >= 3);
    feed_end(&f, sim);
}

/* The demo shows work at once: calls open from the warm start by day, and
 * a new call within seconds at any hour. */
static void test_demo_start(bp_registry_t *reg, int64_t t0, size_t want_open) {
    bp_sim_options_t o = options(31);
    feed_t f;
    bp_sim_t *sim = feed_start(&f, reg, &o, t0);
    f.t0 = t0;
    run(sim, &f, t0, 0.5, 256);
    bp_sim_stats_t st;
    bp_sim_stats(sim, &st);
    size_t open = bp_state_incident_count(f.st);
    printf("demo start at %02.0f:00: %zu incidents open after 0.5 s, %llu of them new\n",
           bp_sim_hanoi_hour(t0), open, (unsigned long long)st.incidents);
    print_message("%zu open, %llu new\n", open, (unsigned long long)st.incidents);
    assert_true(open >= want_open);
    assert_true(st.incidents >= 1);
    assert_int_equal(open, st.incidents_open);
    assert_int_equal(f.parse_errors, 0);
    assert_int_equal(f.inc_errors, 0);
    feed_end(&f, sim);
}

/* One step; the incident lines it emitted (all lines must parse). */
static size_t step_incidents(bp_sim_t *sim, int64_t t, bp_buf_t *out, bp_registry_t *reg,
                             bp_change_t *ch, bp_sim_line_t *meta, size_t max) {
    static bp_sim_line_t all[256];
    bp_buf_reset(out);
    size_t n = bp_sim_step(sim, t, 256, out, all), k = 0;
    for (size_t i = 0; i < n; i++) {
        bp_error_t err;
        bp_change_t c;
        const char *line = bp_buf_data(out) + all[i].off;
        assert_int_equal(bp_codec_parse_feed(line, all[i].len - 1, reg, t, 300000, &c, &err), 0);
        if (c.kind != BP_KIND_INCIDENT || k == max) continue;
        ch[k] = c;
        meta[k++] = all[i];
    }
    return k;
}

/* Incident lines the collector refuses in ways that happen (a restart, a
 * Redis that lost its data, the bound) are recovered, and a resync sends
 * every open incident in full. */
static void test_incident_recovery(bp_registry_t *reg) {
    bp_sim_options_t o = options(41);
    int64_t t0 = 1794934800000 + 11 * 3600000LL, t = t0;
    bp_sim_t *sim = bp_sim_create(reg, &o, t0);
    bp_buf_t out;
    bp_buf_init(&out, 0, 256 * BP_SIM_LINE_MAX);
    static bp_change_t ch[64];
    static bp_sim_line_t meta[64];
    for (; t < t0 + 30000; t += 100)
        step_incidents(sim, t, &out, reg, ch, meta, 64);
    bp_sim_stats_t st;
    bp_sim_stats(sim, &st);
    bp_sim_resync(sim);
    size_t n = step_incidents(sim, t += 100, &out, reg, ch, meta, 64);
    print_message("resync: %zu lines for %zu open\n", n, st.incidents_open);
    assert_int_equal(n, st.incidents_open);
    assert_true(n >= 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ch[i].inc_action, BP_INC_UPDATE);
        assert_int_equal(ch[i].inc_fields & (BP_IF_PRIORITY | BP_IF_CATEGORY | BP_IF_POSITION),
                         BP_IF_PRIORITY | BP_IF_CATEGORY | BP_IF_POSITION);
    }
    bp_sim_line_t a = meta[0], b = meta[1], stale = meta[0];
    char id_a[BP_INCIDENT_MAX + 1], id_b[BP_INCIDENT_MAX + 1];
    snprintf(id_a, sizeof id_a, "%s", ch[0].id);
    snprintf(id_b, sizeof id_b, "%s", ch[1].id);
    stale.gen += 1000;
    bp_sim_line_t hosp = a;
    hosp.kind = BP_SIM_HOSPITAL;
    assert_false(bp_sim_rejected(sim, &hosp, "unknown_incident"));
    assert_false(bp_sim_rejected(sim, &a, "bad_value"));
    assert_true(bp_sim_rejected(sim, &stale, "unknown_incident"));
    assert_true(bp_sim_rejected(sim, &a, "unknown_incident"));
    assert_true(bp_sim_rejected(sim, &b, "exists"));
    n = step_incidents(sim, t += 100, &out, reg, ch, meta, 64);
    bool created = false, updated = false;
    for (size_t i = 0; i < n; i++) {
        created |= strcmp(ch[i].id, id_a) == 0 && ch[i].inc_action == BP_INC_CREATE &&
                   (ch[i].inc_fields & BP_IF_RECEIVED);
        updated |= strcmp(ch[i].id, id_b) == 0 && ch[i].inc_action == BP_INC_UPDATE &&
                   (ch[i].inc_fields & BP_IF_CATEGORY);
    }
    print_message("lost one created again %d, earlier run's updated %d\n", created, updated);
    assert_true(created);
    assert_true(updated);
    /* past the collector's bound: that call is not reported any more */
    assert_true(bp_sim_rejected(sim, &a, "too_many_incidents"));
    bp_sim_resync(sim);
    n = step_incidents(sim, t += 100, &out, reg, ch, meta, 64);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(ch[i].id, id_a);
    bp_buf_free(&out);
    bp_sim_destroy(sim);
}

/* A surge drill: --incident-scale 5 brings about five times the calls. */
static void test_scale(bp_registry_t *reg) {
    uint64_t calls[2];
    double scales[2] = {1, 5};
    for (int k = 0; k < 2; k++) {
        bp_sim_options_t o = options(23);
        o.incident_scale = scales[k];
        int64_t t0 = 1794934800000 + 9 * 3600000LL;
        feed_t f;
        bp_sim_t *sim = feed_start(&f, reg, &o, t0);
        run(sim, &f, t0, 3600, 256);
        bp_sim_stats_t st;
        bp_sim_stats(sim, &st);
        calls[k] = st.incidents;
        assert_int_equal(f.parse_errors, 0);
        assert_int_equal(f.order_errors, 0);
        assert_int_equal(f.inc_errors, 0);
        if (k == 1)
            printf("surge x5: %llu calls in a fleet hour-block (x1: %llu), %llu waited for a "
                   "unit, %zu open\n",
                   (unsigned long long)calls[1], (unsigned long long)calls[0],
                   (unsigned long long)st.unanswered, st.incidents_open);
        feed_end(&f, sim);
    }
    double ratio = (double)calls[1] / (double)calls[0];
    print_message("x5 gave %.2f times the calls\n", ratio);
    assert_true(ratio > 3.5);
    assert_true(ratio < 7);
}

static bp_registry_t reg;
static const int64_t midnight_hanoi = 1794934800000; /* 2026-11-18T00:00+07:00 */

/* Medical-surgical occupancy (% of staffed) over every hospital. */
static double ward_occupancy(const feed_t *f) {
    double st = 0, oc = 0;
    for (size_t i = 0; i < f->reg->n_hospitals; i++) {
        const bp_beds_t *b = &f->hosp[i].beds[BP_BED_MEDICAL_SURGICAL];
        if (b->staffed > 0 && b->occupied >= 0) {
            st += b->staffed;
            oc += b->occupied;
        }
    }
    return st > 0 ? 100.0 * oc / st : -1;
}

/* The week (issue 15): Hanoi's weekday, and wards fuller on a Thursday
 * morning than on a Sunday morning, from the same seed; the same seed gives
 * the same lines. */
static void test_week(bp_registry_t *r) {
    assert_int_equal(bp_sim_hanoi_weekday(midnight_hanoi), 2); /* 2026-11-18: a Wednesday */
    /* a ms before midnight: Tuesday */
    assert_int_equal(bp_sim_hanoi_weekday(midnight_hanoi - 1), 1);
    /* the Sunday after, its last ms */
    assert_int_equal(bp_sim_hanoi_weekday(midnight_hanoi + 4 * 86400000LL + 86399999), 6);
    /* 1970-01-01 (07:00 in Hanoi) was a Thursday */
    assert_int_equal(bp_sim_hanoi_weekday(0), 3);
    double occ[2];
    int64_t day = 86400000LL, at[2] = {midnight_hanoi + day + 4 * 3600000LL,
                                       midnight_hanoi + 4 * day + 4 * 3600000LL};
    for (int k = 0; k < 2; k++) {
        bp_sim_options_t o = options(11);
        o.incident_scale = 0;
        feed_t f;
        bp_sim_t *sim = feed_start(&f, r, &o, at[k]);
        run(sim, &f, at[k], 2 * 3600, 256);
        occ[k] = ward_occupancy(&f);
        feed_end(&f, sim);
    }
    printf("wards at 06:00: Thursday %.1f%%, Sunday %.1f%%\n", occ[0], occ[1]);
    assert_true(occ[0] - occ[1] > 3.0); /* Thursday's wards fuller than Sunday's */
    /* deterministic under a seed */
    bp_buf_t out[2];
    for (int k = 0; k < 2; k++) {
        bp_sim_options_t o = options(12);
        bp_sim_t *sim = bp_sim_create(r, &o, at[0]);
        bp_buf_init(&out[k], 0, 1 << 20);
        static bp_sim_line_t lines[256];
        for (int64_t t = at[0]; t < at[0] + 600000; t += 1000)
            bp_sim_step(sim, t, 256, &out[k], lines);
        bp_sim_destroy(sim);
    }
    /* two runs of seed 12 give the same lines */
    assert_true(out[0].len > 1000);
    assert_int_equal(out[0].len, out[1].len);
    assert_memory_equal(bp_buf_data(&out[0]), bp_buf_data(&out[1]), out[0].len);
    bp_buf_free(&out[0]);
    bp_buf_free(&out[1]);
}

static int setup(void **state) {
    (void)state;
    if (load_registry(BP_SOURCE_DIR, &reg)) return -1;
    size_t n;
    bp_error_t err;
    char *d = slurp(BP_SOURCE_DIR, "config/dispatch.json", &n);
    bp_dispatch_defaults(&dispatch);
    int rc = !d || bp_codec_parse_dispatch(d, n, &dispatch, &err) ? -1 : 0;
    free(d);
    return rc;
}

static int teardown(void **state) {
    (void)state;
    bp_registry_free(&reg);
    return 0;
}

static void t_reply(void **s) {
    (void)s;
    test_reply();
}
static void t_time(void **s) {
    (void)s;
    test_time();
}
static void t_handover_minutes(void **s) {
    (void)s;
    test_handover_minutes();
}
static void t_rate_zero(void **s) {
    (void)s;
    test_rate_zero(&reg);
}
static void t_small_room(void **s) {
    (void)s;
    test_small_room(&reg);
}
static void t_ed_day(void **s) {
    (void)s;
    test_ed_day(&reg);
}
static void t_hours(void **s) {
    (void)s;
    test_hours(&reg, midnight_hanoi + 10 * 3600000LL, 1.0);
    test_hours(&reg, midnight_hanoi + 2 * 3600000LL, 1.0);
    test_hours(&reg, midnight_hanoi + 8 * 3600000LL, 6.0);
}
static void t_demo_start(void **s) {
    (void)s;
    test_demo_start(&reg, midnight_hanoi + 10 * 3600000LL, 3);
    test_demo_start(&reg, midnight_hanoi + 3 * 3600000LL, 1);
}
static void t_incident_day(void **s) {
    (void)s;
    test_incident_day(&reg);
}
static void t_incident_recovery(void **s) {
    (void)s;
    test_incident_recovery(&reg);
}
static void t_mci(void **s) {
    (void)s;
    test_mci(&reg);
}
static void t_week(void **s) {
    (void)s;
    test_week(&reg);
}
static void t_scale(void **s) {
    (void)s;
    test_scale(&reg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_reply),
        cmocka_unit_test(t_time),
        cmocka_unit_test(t_handover_minutes),
        cmocka_unit_test(t_rate_zero),
        cmocka_unit_test(t_small_room),
        cmocka_unit_test(t_ed_day),
        cmocka_unit_test(t_hours),
        cmocka_unit_test(t_demo_start),
        cmocka_unit_test(t_incident_day),
        cmocka_unit_test(t_incident_recovery),
        cmocka_unit_test(t_mci),
        cmocka_unit_test(t_scale),
        cmocka_unit_test(t_week),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
