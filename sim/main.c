/*
 * bp-sim: the demo feed. Plays believable Hanoi hospital and 115 fleet
 * traffic into the collector over TCP, like any real feed.
 *
 * Usage: bp-sim [--settings FILE] [--rate CHANGES_PER_S] [--speed FACTOR]
 *               [--seed N] [--duration SECONDS] [--incident-scale X]
 *               [--mci SECONDS] [--mci-at LAT,LON] [--cold-start 1]
 *
 * This file and sim_link.c (the connection) are the libuv adapter around
 * the pure model (sim_model.h): a 100 ms timer steps the model and sends
 * what it emits; every reply line is matched with the oldest line in
 * flight (the collector answers in order). At most MAX_INFLIGHT lines are unanswered. Lines
 * answered `unavailable` (Redis down) and lines in flight when the connection drops wait in a
 * bounded resend queue and go out again with the same seq, oldest first,
 * with backoff; meanwhile the model keeps running but sends nothing new.
 * The connection is re-established with jittered exponential backoff.
 * SIGINT/SIGTERM (or --duration) close the open incidents, stop the model,
 * wait briefly for the replies still due, and close every handle.
 *
 * With collector.tls_ca set the link is TLS (bp_tls on the libuv stream):
 * the collector's certificate must verify against that CA and be valid
 * for collector.host, else the sim does not send a byte of feed (it logs
 * why and retries with backoff). With sim.token set it says hello with
 * that feed token first and sends lines only once the collector accepted
 * it; it refuses to start if the token would go to a non-loopback
 * collector without TLS.
 */
#include "bp_log.h"
#include "bp_time.h"
#include "sim_app.h"
#include "sim_reply.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void pump(app_t *app);
static void write_status(app_t *app);
static void finish(app_t *app);
static void begin_stop(app_t *app, const char *why);

/* -- queues --------------------------------------------------------------- */

static int queue_init(queue_t *q, size_t cap) {
    q->e = calloc(cap, sizeof *q->e);
    q->cap = cap;
    q->head = q->n = 0;
    return q->e ? 0 : -1;
}

static entry_t *queue_at(queue_t *q, size_t i) {
    return &q->e[(q->head + i) % q->cap];
}

static bool queue_push(queue_t *q, const entry_t *e) {
    if (q->n == q->cap) return false;
    *queue_at(q, q->n++) = *e;
    return true;
}

static bool queue_pop(queue_t *q, entry_t *out) {
    if (q->n == 0) return false;
    *out = *queue_at(q, 0);
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return true;
}

static void queue_free(queue_t *q) {
    entry_t e;
    while (queue_pop(q, &e))
        free(e.text);
    free(q->e);
    q->e = NULL;
}

static int by_order(const void *a, const void *b) {
    const entry_t *x = a, *y = b;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Lost lines: the entity reports in full instead. */
static void drop_entry(app_t *app, entry_t *e) {
    app->dropped++;
    bp_sim_request_full(app->sim, e->meta.kind, e->meta.index);
    free(e->text);
}

/* Adds one line to the resend queue, dropping the oldest when full. */
static void resend_later(app_t *app, entry_t *e) {
    e->resent = true;
    if (app->resend.n == app->resend.cap) {
        entry_t old;
        queue_pop(&app->resend, &old);
        drop_entry(app, &old);
    }
    queue_push(&app->resend, e);
}

/* The connection is gone: every line in flight may or may not have been
 * applied, so all go to the resend queue (a duplicate reply is harmless),
 * in the order they were first sent so a source's seqs stay increasing. */
static void requeue_inflight(app_t *app) {
    size_t n = app->inflight.n + app->resend.n;
    if (n == 0) return;
    entry_t *all = malloc(n * sizeof *all);
    entry_t e;
    if (!all) { /* out of memory: give the lines up */
        while (queue_pop(&app->inflight, &e))
            drop_entry(app, &e);
        return;
    }
    size_t k = 0;
    while (queue_pop(&app->resend, &e))
        all[k++] = e;
    while (queue_pop(&app->inflight, &e)) {
        e.resent = true;
        all[k++] = e;
    }
    qsort(all, k, sizeof *all, by_order);
    size_t skip = k > app->resend.cap ? k - app->resend.cap : 0;
    for (size_t i = 0; i < skip; i++)
        drop_entry(app, &all[i]);
    for (size_t i = skip; i < k; i++)
        queue_push(&app->resend, &all[i]);
    free(all);
    app->resend_at = 0;
    app->resends_inflight = 0;
}

/* -- sending --------------------------------------------------------------- */

static void write_from(app_t *app, size_t from) {
    size_t total = 0;
    for (size_t i = from; i < app->inflight.n; i++)
        total += queue_at(&app->inflight, i)->len;
    if (total == 0) return;
    write_t *w = malloc(sizeof *w + total);
    if (!w) {
        sim_link_close(app, "out of memory");
        return;
    }
    w->app = app;
    size_t off = 0;
    for (size_t i = from; i < app->inflight.n; i++) {
        entry_t *e = queue_at(&app->inflight, i);
        memcpy(w->data + off, e->text, e->len);
        off += e->len;
    }
    sim_link_send(app, w, total);
}

/* Steps the model and sends what is due: first the resend queue (when its
 * backoff has passed), and anything new only once every resend has been
 * answered, so that a source's lines are applied in seq order. */
static void pump(app_t *app) {
    int64_t now = bp_time_now_ms();
    bool up = app->link == LINK_UP && !app->stopping && !app->hello_pending;
    size_t room = up ? MAX_INFLIGHT - app->inflight.n : 0;
    size_t from = app->inflight.n;
    if (app->resend.n > 0 || app->resends_inflight > 0) {
        bp_sim_step(app->sim, now, 0, &app->out, app->lines); /* time goes on */
        if (!up || app->resend.n == 0 || now < app->resend_at) return;
        entry_t e;
        size_t moved = 0;
        while (room-- > 0 && queue_pop(&app->resend, &e)) {
            queue_push(&app->inflight, &e);
            moved++;
        }
        app->resent += moved;
        app->sent += moved;
        app->resends_inflight += moved;
        /* if these fail again, wait twice as long (an ok reply resets it) */
        app->resend_at = now + app->resend_backoff;
        app->resend_backoff =
            app->resend_backoff * 2 > RESEND_MAX_MS ? RESEND_MAX_MS : app->resend_backoff * 2;
        write_from(app, from);
        return;
    }
    bp_buf_reset(&app->out);
    size_t n = bp_sim_step(app->sim, now, room, &app->out, app->lines);
    for (size_t i = 0; i < n; i++) {
        entry_t e = {0};
        e.len = app->lines[i].len;
        e.text = malloc(e.len);
        if (!e.text) {
            bp_sim_request_full(app->sim, app->lines[i].kind, app->lines[i].index);
            app->dropped++;
            continue;
        }
        memcpy(e.text, bp_buf_data(&app->out) + app->lines[i].off, e.len);
        e.meta = app->lines[i];
        e.order = ++app->order;
        queue_push(&app->inflight, &e);
    }
    app->sent += app->inflight.n - from;
    write_from(app, from);
}

/* -- replies -------------------------------------------------------------- */

static void log_rejected(const entry_t *e, const bp_sim_reply_t *r) {
    size_t n = e->len > 0 ? e->len - 1 : 0;
    bp_error("collector rejected seq %lld: %s%s%s: %s -- line: %.*s", (long long)e->meta.seq,
             r->error, r->field[0] ? " at " : "", r->field, r->message, (int)(n > 600 ? 600 : n),
             e->text);
}

/* The answer to the hello with sim.token: lines go out once it is ok. */

static void handle_hello_reply(app_t *app, const char *line, size_t len) {
    app->hello_pending = false;
    bp_sim_reply_t r;
    if (bp_sim_reply_parse(line, len, &r)) {
        sim_link_close(app, "unreadable answer to the hello; reconnecting");
        return;
    }
    if (r.ok) {
        if (app->hello_failures) bp_info("the collector accepts the feed token again");
        app->hello_failures = 0;
        bp_debug("the collector accepted the feed token (sim.token)");
        pump(app);
        write_status(app);
        return;
    }
    if (strcmp(r.error, "unavailable") == 0) { /* tokens cannot be checked now */
        bp_warn("the collector cannot check the feed token now (%s); retrying", r.message);
        sim_link_close(app, NULL);
        return;
    }
    /* Refused: a token that was just created reaches the collector within a
     * second, so retry a few times (with the reconnect backoff), then give
     * up: the token itself is wrong, and a supervisor that restarts the
     * simulator makes it read the current one. */
    bool give_up = ++app->hello_failures >= HELLO_REFUSALS;
    bp_error("the collector refused the feed token (sim.token): %s: %s; %s", r.error, r.message,
             give_up ? "giving up (exit status 4)" : "retrying");
    sim_link_close(app, NULL);
    if (give_up) {
        app->exit_status = 4;
        begin_stop(app, "feed token refused");
    }
}

static void handle_reply(app_t *app, const char *line, size_t len) {
    if (app->hello_pending) {
        handle_hello_reply(app, line, len);
        return;
    }
    entry_t e;
    if (!queue_pop(&app->inflight, &e)) {
        app->errors++;
        bp_error("reply with no line in flight: %.*s", (int)(len > 300 ? 300 : len), line);
        return;
    }
    if (e.resent) app->resends_inflight--;
    bp_sim_reply_t r;
    if (bp_sim_reply_parse(line, len, &r)) {
        app->errors++;
        bp_error("unreadable reply to seq %lld: %.*s", (long long)e.meta.seq,
                 (int)(len > 300 ? 300 : len), line);
        free(e.text);
        return;
    }
    if (r.has_seq && r.seq != e.meta.seq) {
        app->errors++;
        bp_error("reply for seq %lld where seq %lld was expected", (long long)r.seq,
                 (long long)e.meta.seq);
    }
    if (r.ok) {
        if (r.duplicate) {
            app->dup++;
            /* a resent partial update lost to a newer line: report in full */
            if (e.resent) bp_sim_request_full(app->sim, e.meta.kind, e.meta.index);
        } else {
            app->ok++;
        }
        app->resend_backoff = RESEND_MIN_MS;
        if (app->unavailable_wave && app->resend.n == 0 && app->resends_inflight == 0) {
            /* Redis may have come back empty (no persistence): report all */
            bp_info("collector accepts lines again; sending full reports");
            app->unavailable_wave = false;
            bp_sim_resync(app->sim);
        }
        free(e.text);
        return;
    }
    if (strcmp(r.error, "unavailable") == 0 || strcmp(r.error, "too_many_connections") == 0) {
        app->unavailable++;
        if (!app->unavailable_wave) {
            bp_warn("collector: %s (%s); resending with the same seqs", r.error, r.message);
            app->unavailable_wave = true;
        }
        int64_t now = bp_time_now_ms();
        if (app->resend_at <= now) app->resend_at = now + app->resend_backoff;
        resend_later(app, &e);
        return;
    }
    if (bp_sim_rejected(app->sim, &e.meta, r.error)) {
        /* an incident the collector lost or still holds from an earlier run,
         * or one past its bound: the model has taken care of it */
        if (strcmp(r.error, "too_many_incidents") == 0)
            bp_warn("incident line seq %lld: %s; that call goes unreported", (long long)e.meta.seq,
                    r.error);
        else
            bp_info("incident line seq %lld: %s; reporting it in full", (long long)e.meta.seq,
                    r.error);
        free(e.text);
        return;
    }
    if (strcmp(r.error, "out_of_order") == 0 && e.meta.backdated) {
        /* a rarely reporting hospital's back-dated first report, and the
         * collector already has a newer one from an earlier run */
        app->stale_skips++;
        bp_debug("back-dated report for %s not applied: %s",
                 e.meta.kind == BP_SIM_HOSPITAL ? "hospital" : "unit", r.message);
        free(e.text);
        return;
    }
    app->errors++;
    log_rejected(&e, &r);
    free(e.text);
}

/* -- timers, status, shutdown --------------------------------------------- */

static void on_tick(uv_timer_t *t) {
    pump(t->data);
}

static void print_status(app_t *app, const char *what) {
    int64_t now = bp_time_now_ms();
    double secs = (double)(now - app->status_ms) / 1000.0;
    double rate = secs > 0 ? (double)(app->sent - app->status_sent) / secs : 0;
    app->status_ms = now;
    app->status_sent = app->sent;
    bp_sim_stats_t st;
    bp_sim_stats(app->sim, &st);
    int fm = (int)(st.fleet_time_s / 60);
    bp_info("%s: sent %llu (%.1f/s) ok %llu dup %llu errors %llu unavailable %llu resent %llu "
            "dropped %llu | in flight %zu, to resend %zu | fleet +%dh%02dm: %zu moving, %zu busy, "
            "%llu incidents, %zu open (%zu waiting for a unit)",
            what, (unsigned long long)app->sent, rate, (unsigned long long)app->ok,
            (unsigned long long)app->dup, (unsigned long long)app->errors,
            (unsigned long long)app->unavailable, (unsigned long long)app->resent,
            (unsigned long long)app->dropped, app->inflight.n, app->resend.n, fm / 60, fm % 60,
            st.units_moving, st.units_busy, (unsigned long long)st.incidents, st.incidents_open,
            st.incidents_waiting);
}

/* sim.status_path: {"feeding":true|false,...} rewritten (atomically) each
 * status period and when the link changes, for a container's health
 * check: feeding means connected, accepted (token), and nothing waiting to
 * be resent after an `unavailable`. */
static void write_status(app_t *app) {
    const char *path = app->cfg->settings.sim_status_path;
    if (!path[0]) return;
    bool feeding = app->link == LINK_UP && !app->hello_pending && !app->stopping &&
                   app->resend.n == 0 && !app->unavailable_wave;
    char tmp[BP_SETTING_STR_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    bp_buf_t b;
    bp_buf_init(&b, 0, 1024);
    bp_jw_t w;
    bp_jw_init(&w, &b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "feeding");
    bp_jw_bool(&w, feeding);
    BP_JW_KEY(&w, "at");
    bp_jw_int(&w, bp_time_now_ms());
    const struct {
        const char *key;
        uint64_t n;
    } counts[] = {{"sent", app->sent},
                  {"ok", app->ok},
                  {"dup", app->dup},
                  {"errors", app->errors},
                  {"unavailable", app->unavailable},
                  {"in_flight", app->inflight.n},
                  {"to_resend", app->resend.n}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        bp_jw_key(&w, counts[i].key);
        bp_jw_int(&w, (int64_t)counts[i].n);
    }
    bp_jw_end(&w);
    bp_buf_putc(&b, '\n');
    FILE *f = b.failed ? NULL : fopen(tmp, "w");
    if (f) {
        bool written = fwrite(bp_buf_data(&b), 1, b.len, f) == b.len;
        if (fclose(f) == 0 && written && rename(tmp, path) == 0) {
            bp_buf_free(&b);
            return;
        }
    }
    bp_buf_free(&b);
    static bool warned;
    if (!warned) bp_warn("cannot write sim.status_path %s: %s", path, strerror(errno));
    warned = true;
}

static void on_status(uv_timer_t *t) {
    print_status(t->data, "status");
    write_status(t->data);
}

static void close_handle(uv_handle_t *h) {
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* Closes everything; uv_run returns once the last close callback ran. */
static void finish(app_t *app) {
    if (app->finished) {
        return;
    }
    if (app->link == LINK_RESOLVING) {
        /* on_resolved runs (cancelled or not) and calls us again */
        uv_cancel((uv_req_t *)&app->gai);
        return;
    }
    if (app->tcp_open) {
        sim_link_close(app, NULL); /* on_tcp_closed calls us again */
        return;
    }
    app->finished = true;
    bp_notify_close(app->notify);
    app->notify = NULL;
    close_handle((uv_handle_t *)&app->tick);
    close_handle((uv_handle_t *)&app->status);
    close_handle((uv_handle_t *)&app->reconnect);
    close_handle((uv_handle_t *)&app->stop_timer);
    close_handle((uv_handle_t *)&app->sigint);
    close_handle((uv_handle_t *)&app->sigterm);
}

static void on_drain_timeout(uv_timer_t *t) {
    app_t *app = t->data;
    if (app->inflight.n) bp_warn("stopping with %zu lines unanswered", app->inflight.n);
    finish(app);
}

/* Stops the model; waits up to DRAIN_MS for the replies still due. */
static void begin_stop(app_t *app, const char *why) {
    if (app->stopping) {
        finish(app); /* asked twice: do not wait */
        return;
    }
    if (app->link == LINK_UP && app->resend.n == 0 && app->resends_inflight == 0) {
        /* a stopped demo leaves no incident open behind it */
        bp_sim_close_incidents(app->sim);
        pump(app);
    }
    app->stopping = true;
    bp_info("%s: stopping", why);
    bp_notify_stopping(app->notify);
    bp_notify_close(app->notify);
    app->notify = NULL;
    uv_timer_stop(&app->tick);
    uv_timer_stop(&app->status);
    uv_timer_stop(&app->reconnect);
    if (app->link == LINK_UP && app->inflight.n > 0) {
        uv_timer_start(&app->stop_timer, on_drain_timeout, DRAIN_MS, 0);
        return;
    }
    finish(app);
}

static void on_signal(uv_signal_t *s, int signum) {
    begin_stop(s->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_duration(uv_timer_t *t) {
    begin_stop(t->data, "duration reached");
}

/* What the connection calls (sim_link.c). */
static void on_link_up(app_t *app) {
    pump(app);
    write_status(app);
}

static void on_link_down(app_t *app) {
    requeue_inflight(app);
    write_status(app);
}

static const sim_link_calls_t link_calls = {
    .up = on_link_up, .reply = handle_reply, .down = on_link_down, .stopped = finish};

/* -- main ------------------------------------------------------------------ */

static void usage(void) {
    fprintf(
        stderr,
        "usage: bp-sim [--settings FILE] [--rate CHANGES_PER_S] [--speed FACTOR] [--seed N]\n"
        "              [--duration SECONDS] [--incident-scale X] [--mci SECONDS]\n"
        "              [--mci-at LAT,LON] [--cold-start 1]\n"
        "Plays demo Hanoi hospital, 115 fleet and 115 incident traffic into the collector\n"
        "(collector.host/collector.port from the settings; BP_* variables override).\n"
        "  --rate      changes per second after the initial reports (default 3; 0: only those)\n"
        "  --speed     fleet time acceleration (default 10)\n"
        "  --seed      random seed (default from the clock; logged at start)\n"
        "  --duration  stop after this many seconds (default: run until SIGINT/SIGTERM)\n"
        "  --incident-scale  115 calls per fleet day = 110 x X (default 1; 0 .. 50, e.g. 5\n"
        "              for a surge drill)\n"
        "  --mci       a mass-casualty burst (20-40 trauma calls at one place) this many\n"
        "              seconds after the start\n"
        "  --mci-at    where (default: a random busy place)\n"
        "  --cold-start 1  start with no calls open and every unit at its station (default:\n"
        "              mid-shift, the last 2 fleet hours already played)\n"
        "Exit status: 0; 1 configuration error; 2 bad arguments; 3 the collector rejected\n"
        "lines (a simulator bug: see the log); 4 the collector refused sim.token %d times\n"
        "in a row.\n",
        HELLO_REFUSALS);
}

static int parse_double(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

/* "21.0285,105.8542" */
static int parse_point(const char *s, double *lat, double *lon) {
    char *end;
    errno = 0;
    double a = strtod(s, &end);
    if (errno || end == s || *end != ',') return -1;
    const char *p = end + 1;
    double b = strtod(p, &end);
    if (errno || end == p || *end || !(a >= -90 && a <= 90) || !(b >= -180 && b <= 180)) return -1;
    *lat = a;
    *lon = b;
    return 0;
}

int main(int argc, char **argv) {
    bp_sim_options_t opt;
    bp_sim_options_default(&opt);
    bool have_seed = false;
    double duration = 0;
    /* every option takes one value: step over pairs */
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        int bad = 0;
        if ((strcmp(a, "--settings") == 0 || strcmp(a, "-c") == 0) && v) {
            /* read by bp_config_load */
        } else if (strcmp(a, "--rate") == 0 && v) {
            bad = parse_double(v, 0, BP_SIM_RATE_MAX, &opt.rate);
        } else if (strcmp(a, "--speed") == 0 && v) {
            bad = parse_double(v, 0.01, BP_SIM_SPEED_MAX, &opt.speed);
        } else if (strcmp(a, "--duration") == 0 && v) {
            bad = parse_double(v, 0.001, 1e9, &duration);
        } else if (strcmp(a, "--incident-scale") == 0 && v) {
            bad = parse_double(v, 0, BP_SIM_SCALE_MAX, &opt.incident_scale);
        } else if (strcmp(a, "--mci") == 0 && v) {
            bad = parse_double(v, 0, 1e9, &opt.mci_after_s);
        } else if (strcmp(a, "--mci-at") == 0 && v) {
            bad = parse_point(v, &opt.mci_lat, &opt.mci_lon);
        } else if (strcmp(a, "--cold-start") == 0 && v) {
            double cold = 0;
            bad = parse_double(v, 0, 1, &cold) || (cold != 0 && cold != 1);
            opt.warm_start = cold == 0;
        } else if (strcmp(a, "--seed") == 0 && v) {
            char *end;
            errno = 0;
            opt.seed = strtoull(v, &end, 10);
            bad = errno || end == v || *end;
            have_seed = true;
        } else {
            fprintf(stderr, "bp-sim: unknown argument \"%s\"\n", a);
            usage();
            return 2;
        }
        if (bad) {
            fprintf(stderr, "bp-sim: bad value \"%s\" for %s\n", v, a);
            usage();
            return 2;
        }
    }

    static bp_config_t cfg;
    if (bp_program_start("sim", &cfg, argc, argv)) return 1;
    int64_t now = bp_time_now_ms();
    if (!have_seed) opt.seed = (uint64_t)now ^ ((uint64_t)getpid() << 40);

    static app_t app;
    app.calls = &link_calls;
    int rc = 1;
    app.cfg = &cfg;
    app.status_ms = now;
    app.rng = opt.seed | 1;
    app.connect_backoff = BACKOFF_MIN_MS;
    app.resend_backoff = RESEND_MIN_MS;
    bp_buf_init(&app.out, 0, OUT_MAX);
    opt.dispatch = &cfg.dispatch;
    if (!isnan(opt.mci_lat)) {
        bp_area_t area;
        bp_registry_area(&cfg.registry, &area);
        if (opt.mci_lat < area.lat_min || opt.mci_lat > area.lat_max ||
            opt.mci_lon < area.lon_min || opt.mci_lon > area.lon_max) {
            bp_error("--mci-at %.4f,%.4f is outside the service area (%.2f-%.2f N, %.2f-%.2f E)",
                     opt.mci_lat, opt.mci_lon, area.lat_min, area.lat_max, area.lon_min,
                     area.lon_max);
            bp_config_free(&cfg);
            return 2;
        }
    }
    const bp_settings_t *set = &cfg.settings;
    if (set->sim_token[0] && !set->collector_tls_ca[0] &&
        !bp_settings_loopback(set->collector_host)) {
        bp_error("sim.token would cross the network in clear to %s: set collector.tls_ca (TLS to "
                 "the collector) or use a collector on loopback",
                 set->collector_host);
        goto out;
    }
    if (set->collector_tls_ca[0]) {
        char why[300];
        app.tls_ctx = bp_tls_client_ctx(set->collector_tls_ca, why, sizeof why);
        if (!app.tls_ctx) {
            bp_error("TLS: %s (collector.tls_ca)", why);
            goto out;
        }
    }
    app.sim = bp_sim_create(&cfg.registry, &opt, now);
    if (!app.sim || queue_init(&app.inflight, MAX_INFLIGHT) ||
        queue_init(&app.resend, RESEND_MAX) ||
        bp_lines_init(&app.replies, REPLY_LINE_MAX, READ_CHUNK)) {
        bp_error("out of memory");
        goto out;
    }
    bp_sim_stats_t st;
    bp_sim_stats(app.sim, &st);
    char rare[512] = "";
    for (int i = 0; i < st.n_rare; i++) {
        size_t l = strlen(rare);
        snprintf(rare + l, sizeof rare - l, "%s%s", i ? ", " : "",
                 cfg.registry.hospitals[st.rare[i]].id);
    }
    bp_info("seed %llu, rate %.2f/s, fleet speed x%.2f; %zu hospitals, %zu ambulances; "
            "reporting rarely: %s",
            (unsigned long long)opt.seed, opt.rate, opt.speed, cfg.registry.n_hospitals,
            cfg.registry.n_units, rare[0] ? rare : "none");
    bp_info("115 calls: %.0f per fleet day (x%.2f), %zu open at the start",
            BP_SIM_INCIDENTS_PER_DAY * opt.incident_scale, opt.incident_scale, st.incidents_open);
    if (opt.mci_after_s >= 0)
        bp_info("mass-casualty burst %.0f s after the start", opt.mci_after_s);

    uv_loop_init(&app.loop);
    uv_timer_init(&app.loop, &app.tick);
    uv_timer_init(&app.loop, &app.status);
    uv_timer_init(&app.loop, &app.reconnect);
    uv_timer_init(&app.loop, &app.stop_timer);
    uv_signal_init(&app.loop, &app.sigint);
    uv_signal_init(&app.loop, &app.sigterm);
    app.tick.data = app.status.data = app.reconnect.data = app.stop_timer.data = &app;
    app.sigint.data = app.sigterm.data = &app;
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);
    uv_timer_start(&app.tick, on_tick, TICK_MS, TICK_MS);
    uv_timer_start(&app.status, on_status, STATUS_MS, STATUS_MS);
    if (duration > 0) uv_timer_start(&app.stop_timer, on_duration, (uint64_t)(duration * 1000), 0);
    sim_link_start(&app);
    app.notify = bp_notify_create(&app.loop);
    bp_notify_ready(app.notify, "playing the demo feed");

    uv_run(&app.loop, UV_RUN_DEFAULT);
    print_status(&app, "done");
    if (app.stale_skips)
        bp_info("%llu back-dated reports not applied (the collector had newer ones)",
                (unsigned long long)app.stale_skips);
    int lc = uv_loop_close(&app.loop);
    if (lc) bp_warn("loop closed with handles still open: %s", uv_strerror(lc));
    rc = app.errors ? 3 : app.exit_status;
out:
    queue_free(&app.inflight);
    queue_free(&app.resend);
    bp_lines_free(&app.replies);
    bp_buf_free(&app.out);
    bp_sim_destroy(app.sim);
    bp_tls_ctx_destroy(app.tls_ctx);
    bp_config_free(&cfg);
    return rc;
}
