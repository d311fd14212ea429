/*
 * Mass-casualty incidents (issue 6, docs/dispatch.md):
 *
 *   POST /api/v1/mci                          declare (dispatcher/admin)
 *   GET  /api/v1/mci                          the open ones (anyone who reads hospitals)
 *   GET  /api/v1/mci/{id}                     hospitals in range, answers, totals, suggestion
 *   PUT  /api/v1/mci/{id}/answers/{hospital}  what it can take (its manager, or a dispatcher
 *                                             recording a phone answer)
 *   POST /api/v1/mci/{id}/patients            a patient sent to a hospital (dispatcher/admin)
 *   POST /api/v1/mci/{id}/close               (dispatcher/admin)
 *
 * Kept in Redis so every server shows the same MCI: <prefix>mcis (set of
 * open ids), <prefix>mci:<id> (hash), <prefix>mci:<id>:ans (hash: hospital
 * -> "i,d,m,by,ms"), <prefix>mci:<id>:pat (list: "triage,hospital,unit,by,ms").
 * Reads are one EVAL of a read-only script; writes check the MCI is open in
 * the same script. Every write is audited. The store is io/bp_mcistore.c
 * (its Lua in io/mci_read.lua and io/mci_write.lua): here, no redisReply.
 */
#include "bp_jw.h"
#include "bp_log.h"
#include "bp_mci.h"
#include "bp_mcistore.h"
#include "bp_recommend.h"
#include "bp_time.h"
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MCI_KEEP_S       (30 * 86400) /* a closed MCI's keys expire after 30 days */
#define MCI_PATIENTS_MAX 2000
#define MCI_OPEN_MAX     20 /* open at once: more is refused (409 too_many_mcis) */

/* -- the view ------------------------------------------------------------------------------ */

static void counts_json(bp_jw_t *w, const int c[BP_TRIAGE__COUNT]) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "immediate");
    bp_jw_int(w, c[0]);
    BP_JW_KEY(w, "delayed");
    bp_jw_int(w, c[1]);
    BP_JW_KEY(w, "minor");
    bp_jw_int(w, c[2]);
    bp_jw_end(w);
}

/* One MCI as stored. */
static void write_mci(bp_jw_t *w, bp_app_t *app, const bp_mci_row_t *m, bool full) {
    const bp_registry_t *reg = &app->cfg.registry;
    double lat = m->lat, lon = m->lon, radius = m->radius_km;
    int expected[BP_TRIAGE__COUNT] = {m->expected[0], m->expected[1], m->expected[2]};
    bp_jw_obj(w);
    BP_JW_KEY(w, "id");
    bp_jw_cstr(w, m->id);
    BP_JW_KEY(w, "lat");
    bp_jw_num(w, lat, 5);
    BP_JW_KEY(w, "lon");
    bp_jw_num(w, lon, 5);
    BP_JW_KEY(w, "radius_km");
    bp_jw_num(w, radius, 1);
    BP_JW_KEY(w, "address");
    bp_jw_cstr(w, m->address);
    BP_JW_KEY(w, "status");
    bp_jw_cstr(w, m->status);
    BP_JW_KEY(w, "declared_by");
    bp_jw_cstr(w, m->by);
    BP_JW_KEY(w, "declared_at");
    bp_jw_time(w, m->at_ms);
    BP_JW_KEY(w, "expected");
    counts_json(w, expected);
    /* hospitals in range, nearest first */
    size_t n = 0;
    bp_mci_site_t *sites = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *sites);
    int(*alloc)[BP_TRIAGE__COUNT] = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *alloc);
    int(*sent)[BP_TRIAGE__COUNT] = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *sent);
    if (!sites || !alloc || !sent) {
        w->b->failed = true;
        goto out;
    }
    int64_t now = bp_time_now_ms();
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_info_t *hi = &reg->hospitals[i];
        double km = bp_distance_km(lat, lon, hi->lat, hi->lon);
        if (km > radius) continue;
        bp_mci_site_t *s = &sites[n++];
        s->hospital = (int)i;
        s->eta_min = bp_travel_min(&app->cfg.dispatch, km, now);
        s->trauma = hi->specialties & (1u << BP_SPEC_TRAUMA | 1u << BP_SPEC_NEUROSURGERY);
        s->central = hi->tier == BP_TIER_CENTRAL;
        const char *a = bp_mci_row_answer(m, hi->id);
        if (a && *a && sscanf(a, "%d,%d,%d", &s->can[0], &s->can[1], &s->can[2]) == 3)
            s->answered = true;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort by ETA: stable, n ≤ 100 or so */
        for (size_t j = i; j > 0 && sites[j].eta_min < sites[j - 1].eta_min; j--) {
            bp_mci_site_t t = sites[j];
            sites[j] = sites[j - 1];
            sites[j - 1] = t;
        }
    int unplaced[BP_TRIAGE__COUNT], can[BP_TRIAGE__COUNT] = {0}, sug[BP_TRIAGE__COUNT] = {0},
                                    moved[BP_TRIAGE__COUNT] = {0};
    bp_mci_suggest(sites, n, expected, alloc, unplaced);
    /* patients sent so far, per hospital */
    for (size_t k = 0; k < m->n_patients; k++) {
        char tri[16], hid[64];
        if (!m->patients[k] || sscanf(m->patients[k], "%15[^,],%63[^,],", tri, hid) != 2) continue;
        int t = bp_triage_parse(tri, strlen(tri));
        if (t < 0) continue;
        moved[t]++;
        for (size_t i = 0; i < n; i++)
            if (strcmp(reg->hospitals[sites[i].hospital].id, hid) == 0) sent[i][t]++;
    }
    size_t answered = 0;
    BP_JW_KEY(w, "hospitals");
    bp_jw_arr(w);
    for (size_t i = 0; i < n && full; i++) {
        const bp_mci_site_t *s = &sites[i];
        const bp_hospital_info_t *hi = &reg->hospitals[s->hospital];
        bp_jw_obj(w);
        BP_JW_KEY(w, "id");
        bp_jw_cstr(w, hi->id);
        BP_JW_KEY(w, "name");
        bp_jw_obj(w);
        BP_JW_KEY(w, "vi");
        bp_jw_cstr(w, hi->name.vi);
        BP_JW_KEY(w, "en");
        bp_jw_cstr(w, hi->name.en);
        bp_jw_end(w);
        BP_JW_KEY(w, "tier");
        bp_jw_cstr(w, bp_tier_name(hi->tier));
        BP_JW_KEY(w, "trauma");
        bp_jw_bool(w, s->trauma);
        BP_JW_KEY(w, "eta_min");
        bp_jw_num(w, s->eta_min, 1);
        BP_JW_KEY(w, "answer");
        if (s->answered) {
            const char *a = bp_mci_row_answer(m, hi->id);
            char by[32] = "";
            long long at = 0;
            const char *p = a;
            for (int c = 0; c < 3 && p; c++)
                p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
            if (p) sscanf(p, "%31[^,],%lld", by, &at);
            bp_jw_obj(w);
            BP_JW_KEY(w, "can");
            counts_json(w, s->can);
            BP_JW_KEY(w, "by");
            bp_jw_cstr(w, by);
            BP_JW_KEY(w, "at");
            bp_jw_time(w, at);
            bp_jw_end(w);
        } else {
            bp_jw_null(w);
        }
        BP_JW_KEY(w, "suggested");
        counts_json(w, alloc[i]);
        BP_JW_KEY(w, "sent");
        counts_json(w, sent[i]);
        bp_jw_end(w);
    }
    bp_jw_end(w);
    for (size_t i = 0; i < n; i++) {
        answered += sites[i].answered;
        for (int t = 0; t < BP_TRIAGE__COUNT; t++) {
            can[t] += sites[i].answered ? sites[i].can[t] : 0;
            sug[t] += alloc[i][t];
        }
    }
    BP_JW_KEY(w, "asked");
    bp_jw_int(w, (int64_t)n);
    BP_JW_KEY(w, "answered");
    bp_jw_int(w, (int64_t)answered);
    BP_JW_KEY(w, "can");
    counts_json(w, can);
    BP_JW_KEY(w, "suggested");
    counts_json(w, sug);
    BP_JW_KEY(w, "unplaced");
    counts_json(w, unplaced);
    BP_JW_KEY(w, "sent");
    counts_json(w, moved);
    if (full) {
        BP_JW_KEY(w, "patients");
        bp_jw_arr(w);
        for (size_t k = 0; k < m->n_patients; k++) {
            char tri[16] = "", hid[64] = "", unit[40] = "", by[32] = "";
            long long at = 0;
            if (!m->patients[k]) continue;
            sscanf(m->patients[k], "%15[^,],%63[^,],%39[^,],%31[^,],%lld", tri, hid, unit, by, &at);
            bp_jw_obj(w);
            BP_JW_KEY(w, "n");
            bp_jw_int(w, (int64_t)(k + 1));
            BP_JW_KEY(w, "triage");
            bp_jw_cstr(w, tri);
            BP_JW_KEY(w, "destination");
            bp_jw_cstr(w, hid);
            BP_JW_KEY(w, "unit");
            if (strcmp(unit, "-") == 0)
                bp_jw_null(w);
            else
                bp_jw_cstr(w, unit);
            BP_JW_KEY(w, "by");
            bp_jw_cstr(w, by);
            BP_JW_KEY(w, "at");
            bp_jw_time(w, at);
            bp_jw_end(w);
        }
        bp_jw_end(w);
    }
    bp_jw_end(w);
out:
    free(sites);
    free(alloc);
    free(sent);
}

static void on_read(void *data, bool ok, const bp_mci_row_t *rows, size_t n) {
    bp_req_t *r = data;
    bool one = r->ctx.mci.one;
    if (!ok) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage did not answer; retry shortly");
    } else if (one && n == 0) {
        bp_req_error(r, 404, "unknown_mci", "no mass-casualty incident with this id");
    } else {
        bp_jw_t w;
        bp_jw_init(&w, &r->resp.body);
        if (one) {
            write_mci(&w, r->app, &rows[0], true);
        } else {
            bp_jw_obj(&w);
            BP_JW_KEY(&w, "mcis");
            bp_jw_arr(&w);
            for (size_t i = 0; i < n; i++)
                write_mci(&w, r->app, &rows[i], false);
            bp_jw_end(&w);
            bp_jw_end(&w);
        }
    }
    bp_req_done(r);
}

static void read_mcis(bp_req_t *r, const char *id) {
    bp_app_t *app = r->app;
    r->ctx.mci.one = id != NULL;
    if (bp_mcistore_read(bp_apply_redis(app->apply), app->cfg.settings.redis_prefix, id, on_read,
                         r)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; retry shortly");
        return;
    }
    r->pending = true;
}

/* -- writes --------------------------------------------------------------------------------- */

/* The answer to a write, once Redis answered it (and, with
 * redis.min_replicas_ack, the replicas confirmed it: replicated false when
 * they did not). */
static void on_written(void *data, bool answered, long long v, bool replicated) {
    bp_req_t *r = data;
    if (!answered) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage did not answer; the change may not be saved");
    } else if (v == 0) {
        bp_req_error(r, 404, "unknown_mci", "no open mass-casualty incident with this id");
    } else if (v == -1) {
        bp_req_error(r, 409, "too_many_patients", "this incident has too many patients recorded");
    } else if (v == -3) {
        r->retry_after_s = 1;
        bp_req_error(r, 409, "busy",
                     "another incident was declared at the same moment; send again");
    } else if (v == -2) {
        bp_req_error(r, 409, "too_many_mcis",
                     "too many mass-casualty incidents are open; close one first");
    } else if (!replicated) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable",
                     "storage saved the change but fewer replicas than required confirmed it in "
                     "time; it may be lost in a failover: reload and retry");
    } else if (r->ctx.mci.id[0]) {
        /* declared: answer with the view, read back on the same connection */
        char id[sizeof r->ctx.mci.id];
        memcpy(id, r->ctx.mci.id, sizeof id);
        r->ctx.mci.id[0] = '\0';
        if (r->wsi) {
            read_mcis(r, id);
            if (r->pending) return;
        }
    } /* else: the body was written before sending */
    bp_req_done(r);
}

/* Runs one write (io/mci_write.lua) as p, with its audit row; tail are the
 * action's own arguments (ARGV[9..]). */
static void write_mci_cmd(bp_req_t *r, const bp_principal_t *p, const char *id, const char *what,
                          const char *audit_after, const char *const *tail, size_t n_tail) {
    bp_app_t *app = r->app;
    const bp_settings_t *s = &app->cfg.settings;
    int64_t now = bp_time_now_ms();
    bp_mci_write_t w = {.action = what,
                        .id = id,
                        .actor = p->id,
                        .role = bp_role_name(p->role),
                        .addr = r->addr,
                        .audit_after = audit_after,
                        .now_ms = now,
                        .retain_from_ms = now - (int64_t)s->audit_retention_days * 86400000LL,
                        .tail = tail,
                        .n_tail = n_tail};
    if (bp_mcistore_write(bp_apply_redis(app->apply), s->redis_prefix, &w,
                          s->redis_min_replicas_ack, s->redis_replica_ack_timeout_ms, on_written,
                          r)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; nothing was changed");
        return;
    }
    r->pending = true;
}

static bool mci_id_ok(const char *s, size_t n) {
    if (n < 5 || n > 24 || strncmp(s, "MCI-", 4) != 0) return false;
    for (size_t i = 4; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* The MCI id of /api/v1/mci/{id}[/...] into id (32 bytes); what follows it. */
static const char *mci_of(const bp_req_t *r, char *id) {
    const char *s = r->path + strlen("/api/v1/mci/"), *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    snprintf(id, 32, "%.*s", (int)n, s);
    return s + n;
}

/* The principal for a dispatcher's action (declare, patients, close; the
 * route checked BP_ACT_READ_AMBULANCES), or NULL (decided). */
static const bp_principal_t *dispatcher(bp_req_t *r) {
    const bp_principal_t *p = r->principal;
    if (!p) {
        bp_req_error(r, 401, "unauthorized", "sign in as a dispatcher to do this");
        r->www_authenticate = true;
        return NULL;
    }
    return p;
}

void bp_api_mci_declare(bp_req_t *r) {
    const bp_principal_t *p = dispatcher(r);
    if (!p) return;
    if (!bp_req_is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the declaration as application/json");
        return;
    }
    bp_mci_declare_t d;
    bp_errors_t e;
    if (bp_mci_parse_declare(bp_buf_data(&r->in), r->in.len, &d, &e)) {
        bp_req_invalid(r, e.n ? e.e[0].message : "invalid", &e);
        return;
    }
    int64_t now = bp_time_now_ms();
    char f[6][32], at[24], max[16];
    snprintf(r->ctx.mci.id, sizeof r->ctx.mci.id, "MCI-%lld", (long long)now);
    snprintf(f[0], 32, "%.6f", d.lat);
    snprintf(f[1], 32, "%.6f", d.lon);
    snprintf(f[2], 32, "%.1f", d.radius_km);
    for (int t = 0; t < 3; t++)
        snprintf(f[3 + t], 32, "%d", d.expected[t]);
    snprintf(at, sizeof at, "%lld", (long long)now);
    snprintf(max, sizeof max, "%d", MCI_OPEN_MAX);
    const char *tail[] = {max,       "lat", f[0],  "lon", f[1], "radius_km", f[2],
                          "ei",      f[3],  "ed",  f[4],  "em", f[5],        "address",
                          d.address, "by",  p->id, "at",  at,   "status",    "open"};
    char id[sizeof r->ctx.mci.id];
    memcpy(id, r->ctx.mci.id, sizeof id);
    bp_info("http %s: MCI %s declared by %s", r->addr, id, p->id);
    r->resp.status = 201;
    write_mci_cmd(r, p, id, "declare", bp_buf_data(&r->in), tail, sizeof tail / sizeof *tail);
}

/* PUT /api/v1/mci/{id}/answers/{hospital} */
void bp_api_mci_answer(bp_req_t *r) {
    bp_app_t *app = r->app;
    char id[32];
    const char *hid = mci_of(r, id) + strlen("/answers/");
    int h = bp_is_slug(hid, strlen(hid))
                ? bp_registry_hospital(&app->cfg.registry, hid, strlen(hid))
                : -1;
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided) return;
    /* its own manager, or a dispatcher taking the answer on the phone */
    bool ok = bp_auth_allows(p, -1, BP_ACT_WRITE_HOSPITAL, h, bp_time_now_ms()) ||
              bp_auth_allows(p, -1, BP_ACT_READ_AMBULANCES, -1, bp_time_now_ms());
    if (!p) {
        bp_req_error(r, 401, "unauthorized", "sign in to answer for a hospital");
        r->www_authenticate = true;
        return;
    }
    if (!ok) {
        bp_req_error(r, 403, "forbidden", "this token may not answer for this hospital");
        return;
    }
    if (h < 0) {
        bp_req_error(r, 404, "unknown_hospital", "no hospital with this id");
        return;
    }
    if (!bp_req_is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the answer as application/json");
        return;
    }
    int c[BP_TRIAGE__COUNT];
    bp_errors_t e;
    if (bp_mci_parse_answer(bp_buf_data(&r->in), r->in.len, c, &e)) {
        bp_req_invalid(r, e.n ? e.e[0].message : "invalid", &e);
        return;
    }
    char val[96];
    snprintf(val, sizeof val, "%d,%d,%d,%s,%lld", c[0], c[1], c[2], p->id,
             (long long)bp_time_now_ms());
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "mci");
    bp_jw_cstr(&w, id);
    BP_JW_KEY(&w, "hospital");
    bp_jw_cstr(&w, hid);
    BP_JW_KEY(&w, "can");
    counts_json(&w, c);
    BP_JW_KEY(&w, "by");
    bp_jw_cstr(&w, p->id);
    bp_jw_end(&w);
    const char *tail[] = {hid, val};
    write_mci_cmd(r, p, id, "answer", val, tail, 2);
}

void bp_api_mci_patient(bp_req_t *r) {
    bp_app_t *app = r->app;
    char id[32];
    mci_of(r, id);
    const bp_principal_t *p = dispatcher(r);
    if (!p) return;
    if (!bp_req_is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the patient as application/json");
        return;
    }
    bp_mci_patient_t pt;
    bp_errors_t e;
    if (bp_mci_parse_patient(bp_buf_data(&r->in), r->in.len, &pt, &e) == 0) {
        if (bp_registry_hospital(&app->cfg.registry, pt.destination, strlen(pt.destination)) < 0) {
            e.n = 1;
            bp_error_set(&e.e[0], "unknown_hospital", "destination",
                         "destination: no hospital with this id");
        } else if (pt.unit[0] &&
                   bp_registry_unit(&app->cfg.registry, pt.unit, strlen(pt.unit)) < 0) {
            e.n = 1;
            bp_error_set(&e.e[0], "unknown_unit", "unit", "unit: no ambulance with this call sign");
        }
    }
    if (e.n) {
        bp_req_invalid(r, e.n ? e.e[0].message : "invalid", &e);
        return;
    }
    char val[160], max[16];
    snprintf(val, sizeof val, "%s,%s,%s,%s,%lld", bp_triage_name(pt.triage), pt.destination,
             pt.unit[0] ? pt.unit : "-", p->id, (long long)bp_time_now_ms());
    snprintf(max, sizeof max, "%d", MCI_PATIENTS_MAX);
    r->resp.status = 201;
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "mci");
    bp_jw_cstr(&w, id);
    BP_JW_KEY(&w, "triage");
    bp_jw_cstr(&w, bp_triage_name(pt.triage));
    BP_JW_KEY(&w, "destination");
    bp_jw_cstr(&w, pt.destination);
    bp_jw_end(&w);
    const char *tail[] = {val, max};
    write_mci_cmd(r, p, id, "patient", val, tail, 2);
}

void bp_api_mci_close(bp_req_t *r) {
    char id[32];
    mci_of(r, id);
    const bp_principal_t *p = dispatcher(r);
    if (!p) return;
    char at[24], keep[16];
    snprintf(at, sizeof at, "%lld", (long long)bp_time_now_ms());
    snprintf(keep, sizeof keep, "%d", MCI_KEEP_S);
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "closed");
    bp_jw_cstr(&w, id);
    bp_jw_end(&w);
    const char *tail[] = {at, keep};
    write_mci_cmd(r, p, id, "close", "{}", tail, 2);
}

/* -- what the route table calls ------------------------------------------------------------ */

/* Every path under /api/v1/mci/ names an MCI first (404 unknown_mci when it
 * cannot be one); an answer names a hospital after it. */
bool bp_api_mci_id_ok(bp_req_t *r) {
    const char *id = r->path + strlen("/api/v1/mci/"), *slash = strchr(id, '/');
    if (!mci_id_ok(id, slash ? (size_t)(slash - id) : strlen(id))) {
        bp_req_error(r, 404, "unknown_mci", "no mass-casualty incident with this id");
        return false;
    }
    if (slash && strncmp(slash, "/answers/", 9) == 0 && !slash[9]) {
        bp_req_error(r, 404, "not_found", "no such resource");
        return false;
    }
    return true;
}

void bp_api_mci_list(bp_req_t *r) {
    read_mcis(r, NULL);
}

void bp_api_mci_get(bp_req_t *r) {
    char id[32];
    mci_of(r, id);
    read_mcis(r, id);
}

/* Any other path under an MCI. */
void bp_api_mci_other(bp_req_t *r) {
    bp_req_error(r, 404, "not_found", "no such resource");
}
