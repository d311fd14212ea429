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
 * the same script. Every write is audited.
 */
#include "bp_log.h"
#include "bp_mci.h"
#include "bp_recommend.h"
#include "bp_time.h"
#include "request.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MCI_KEEP_S  (30 * 86400) /* a closed MCI's keys expire after 30 days */
#define MCI_PATIENTS_MAX 2000

static const char read_lua[] =
    "local ids = ARGV[2] ~= '' and {ARGV[2]} or redis.call('SMEMBERS', KEYS[1])\n"
    "local out = {}\n"
    "for _, id in ipairs(ids) do\n"
    "  local k = ARGV[1] .. 'mci:' .. id\n"
    "  local h = redis.call('HGETALL', k)\n"
    "  if #h > 0 then\n"
    "    out[#out + 1] = {id, h, redis.call('HGETALL', k .. ':ans'),\n"
    "                     redis.call('LRANGE', k .. ':pat', 0, " "1999" ")}\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS[1] the MCI hash; ARGV[1] what: answer | patient | close; then args.
 * 1 done, 0 no such open MCI, -1 too many patients. */
static const char write_lua[] =
    "if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return 0 end\n"
    "if ARGV[1] == 'answer' then\n"
    "  redis.call('HSET', KEYS[1] .. ':ans', ARGV[2], ARGV[3])\n"
    "elseif ARGV[1] == 'patient' then\n"
    "  if redis.call('LLEN', KEYS[1] .. ':pat') >= tonumber(ARGV[3]) then return -1 end\n"
    "  redis.call('RPUSH', KEYS[1] .. ':pat', ARGV[2])\n"
    "else\n"
    "  redis.call('HSET', KEYS[1], 'status', 'closed', 'closed', ARGV[2])\n"
    "  redis.call('SREM', KEYS[2], ARGV[3])\n"
    "  for _, s in ipairs({'', ':ans', ':pat'}) do redis.call('EXPIRE', KEYS[1] .. s, ARGV[4]) end\n"
    "end\n"
    "return 1\n";

static const char *hget(const redisReply *h, const char *name) {
    for (size_t i = 0; h && i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING)
            return h->element[i + 1]->str;
    return "";
}

static void key_of(const bp_app_t *app, const char *id, char *out, size_t len) {
    snprintf(out, len, "%.64smci:%s", app->cfg.settings.redis_prefix, id);
}

static void set_key(const bp_app_t *app, char *out, size_t len) {
    snprintf(out, len, "%.64smcis", app->cfg.settings.redis_prefix);
}

static void audit(bp_app_t *app, const bp_principal_t *p, const char *addr, const char *id,
                  const char *action, const char *after) {
    bp_keys_t keys;
    bp_keys_init(&keys, app->cfg.settings.redis_prefix);
    int64_t now = bp_time_now_ms();
    char t[24], retain[24];
    snprintf(t, sizeof t, "%lld", (long long)now);
    snprintf(retain, sizeof retain, "%lld",
             (long long)(now - (int64_t)app->cfg.settings.audit_retention_days * 86400000LL));
    const char *argv[] = {"XADD", keys.audit, "MINID", "~", retain, "*", "t", t, "actor", p->id,
                          "role", bp_role_name(p->role), "addr", addr, "kind", "mci", "id", id,
                          "action", action, "after", after};
    bp_redis_command_argv(bp_apply_redis(app->apply), NULL, NULL, (int)(sizeof argv / sizeof *argv),
                          argv, NULL);
}

/* -- the view ------------------------------------------------------------------------------ */

static void counts_json(bp_buf_t *b, const int c[BP_TRIAGE__COUNT]) {
    bp_buf_printf(b, "{\"immediate\":%d,\"delayed\":%d,\"minor\":%d}", c[0], c[1], c[2]);
}

/* One MCI from the read script's {id, hash, answers, patients}. */
static void write_mci(bp_buf_t *b, bp_app_t *app, const redisReply *m, bool full) {
    const bp_registry_t *reg = &app->cfg.registry;
    const redisReply *h = m->element[1], *ans = m->element[2], *pat = m->element[3];
    double lat = strtod(hget(h, "lat"), NULL), lon = strtod(hget(h, "lon"), NULL);
    double radius = strtod(hget(h, "radius_km"), NULL);
    int expected[BP_TRIAGE__COUNT] = {atoi(hget(h, "ei")), atoi(hget(h, "ed")), atoi(hget(h, "em"))};
    bp_buf_puts(b, "{\"id\":");
    bp_json_cstr(b, m->element[0]->str);
    bp_buf_puts(b, ",\"lat\":");
    bp_json_num(b, lat, 5);
    bp_buf_puts(b, ",\"lon\":");
    bp_json_num(b, lon, 5);
    bp_buf_puts(b, ",\"radius_km\":");
    bp_json_num(b, radius, 1);
    bp_buf_puts(b, ",\"address\":");
    bp_json_cstr(b, hget(h, "address"));
    bp_buf_puts(b, ",\"status\":");
    bp_json_cstr(b, hget(h, "status"));
    bp_buf_puts(b, ",\"declared_by\":");
    bp_json_cstr(b, hget(h, "by"));
    bp_buf_puts(b, ",\"declared_at\":");
    bp_json_time(b, strtoll(hget(h, "at"), NULL, 10));
    bp_buf_puts(b, ",\"expected\":");
    counts_json(b, expected);
    /* hospitals in range, nearest first */
    size_t n = 0;
    bp_mci_site_t *sites = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *sites);
    int (*alloc)[BP_TRIAGE__COUNT] = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *alloc);
    int (*sent)[BP_TRIAGE__COUNT] = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *sent);
    if (!sites || !alloc || !sent) {
        b->failed = true;
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
        const char *a = hget(ans, hi->id);
        if (*a && sscanf(a, "%d,%d,%d", &s->can[0], &s->can[1], &s->can[2]) == 3) s->answered = true;
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
    for (size_t k = 0; pat && k < pat->elements; k++) {
        char tri[16], hid[64];
        if (pat->element[k]->type != REDIS_REPLY_STRING ||
            sscanf(pat->element[k]->str, "%15[^,],%63[^,],", tri, hid) != 2)
            continue;
        int t = bp_triage_parse(tri, strlen(tri));
        if (t < 0) continue;
        moved[t]++;
        for (size_t i = 0; i < n; i++)
            if (strcmp(reg->hospitals[sites[i].hospital].id, hid) == 0) sent[i][t]++;
    }
    size_t answered = 0;
    bp_buf_puts(b, ",\"hospitals\":[");
    for (size_t i = 0; i < n && full; i++) {
        const bp_mci_site_t *s = &sites[i];
        const bp_hospital_info_t *hi = &reg->hospitals[s->hospital];
        if (i) bp_buf_putc(b, ',');
        bp_buf_puts(b, "{\"id\":");
        bp_json_cstr(b, hi->id);
        bp_buf_puts(b, ",\"name\":{\"vi\":");
        bp_json_cstr(b, hi->name.vi);
        bp_buf_puts(b, ",\"en\":");
        bp_json_cstr(b, hi->name.en);
        bp_buf_printf(b, "},\"tier\":\"%s\",\"trauma\":%s,\"eta_min\":", bp_tier_name(hi->tier),
                      s->trauma ? "true" : "false");
        bp_json_num(b, s->eta_min, 1);
        bp_buf_puts(b, ",\"answer\":");
        if (s->answered) {
            const char *a = hget(ans, hi->id);
            char by[32] = "";
            long long at = 0;
            const char *p = a;
            for (int c = 0; c < 3 && p; c++) p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
            if (p) sscanf(p, "%31[^,],%lld", by, &at);
            bp_buf_puts(b, "{\"can\":");
            counts_json(b, s->can);
            bp_buf_puts(b, ",\"by\":");
            bp_json_cstr(b, by);
            bp_buf_puts(b, ",\"at\":");
            bp_json_time(b, at);
            bp_buf_putc(b, '}');
        } else {
            bp_buf_puts(b, "null");
        }
        bp_buf_puts(b, ",\"suggested\":");
        counts_json(b, alloc[i]);
        bp_buf_puts(b, ",\"sent\":");
        counts_json(b, sent[i]);
        bp_buf_putc(b, '}');
    }
    for (size_t i = 0; i < n; i++) {
        answered += sites[i].answered;
        for (int t = 0; t < BP_TRIAGE__COUNT; t++) {
            can[t] += sites[i].answered ? sites[i].can[t] : 0;
            sug[t] += alloc[i][t];
        }
    }
    bp_buf_printf(b, "],\"asked\":%zu,\"answered\":%zu,\"can\":", n, answered);
    counts_json(b, can);
    bp_buf_puts(b, ",\"suggested\":");
    counts_json(b, sug);
    bp_buf_puts(b, ",\"unplaced\":");
    counts_json(b, unplaced);
    bp_buf_puts(b, ",\"sent\":");
    counts_json(b, moved);
    if (full) {
        bp_buf_puts(b, ",\"patients\":[");
        for (size_t k = 0; pat && k < pat->elements; k++) {
            char tri[16] = "", hid[64] = "", unit[40] = "", by[32] = "";
            long long at = 0;
            if (pat->element[k]->type != REDIS_REPLY_STRING) continue;
            sscanf(pat->element[k]->str, "%15[^,],%63[^,],%39[^,],%31[^,],%lld", tri, hid, unit, by, &at);
            if (k) bp_buf_putc(b, ',');
            bp_buf_printf(b, "{\"n\":%zu,\"triage\":", k + 1);
            bp_json_cstr(b, tri);
            bp_buf_puts(b, ",\"destination\":");
            bp_json_cstr(b, hid);
            bp_buf_puts(b, ",\"unit\":");
            if (strcmp(unit, "-") == 0) bp_buf_puts(b, "null");
            else bp_json_cstr(b, unit);
            bp_buf_puts(b, ",\"by\":");
            bp_json_cstr(b, by);
            bp_buf_puts(b, ",\"at\":");
            bp_json_time(b, at);
            bp_buf_putc(b, '}');
        }
        bp_buf_putc(b, ']');
    }
    bp_buf_putc(b, '}');
out:
    free(sites);
    free(alloc);
    free(sent);
}

static void on_read(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_req_t *r = privdata;
    (void)redis;
    bool one = r->mci_one;
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage did not answer; retry shortly");
    } else if (one && reply->elements == 0) {
        bp_req_error(r, 404, "unknown_mci", "no mass-casualty incident with this id");
    } else if (one) {
        write_mci(&r->resp.body, r->app, reply->element[0], true);
    } else {
        bp_buf_puts(&r->resp.body, "{\"mcis\":[");
        int k = 0;
        for (size_t i = 0; i < reply->elements; i++) {
            const redisReply *m = reply->element[i];
            if (m->type != REDIS_REPLY_ARRAY || m->elements != 4) continue;
            if (k++) bp_buf_putc(&r->resp.body, ',');
            write_mci(&r->resp.body, r->app, m, false);
        }
        bp_buf_puts(&r->resp.body, "]}");
    }
    bp_req_done(r);
}

static void read_mcis(bp_req_t *r, const char *id) {
    bp_app_t *app = r->app;
    char skey[BP_KEY_MAX + 8];
    set_key(app, skey, sizeof skey);
    const char *argv[] = {"EVAL", read_lua, "1", skey, app->cfg.settings.redis_prefix, id ? id : ""};
    r->mci_one = id != NULL;
    if (bp_redis_command_argv(bp_apply_redis(app->apply), on_read, r, 6, argv, NULL)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; retry shortly");
        return;
    }
    r->pending = true;
}

/* -- writes --------------------------------------------------------------------------------- */

static void on_write(bp_redis_t *redis, redisReply *reply, void *privdata) {
    bp_req_t *r = privdata;
    (void)redis;
    if (!reply || reply->type != REDIS_REPLY_INTEGER) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage did not answer; the change may not be saved");
    } else if (reply->integer == 0) {
        bp_req_error(r, 404, "unknown_mci", "no open mass-casualty incident with this id");
    } else if (reply->integer < 0) {
        bp_req_error(r, 409, "too_many_patients", "this incident has too many patients recorded");
    } /* else: the body was written before sending */
    bp_req_done(r);
}

static void write_mci_cmd(bp_req_t *r, const char *id, const char *what, const char *a2,
                          const char *a3, const char *a4) {
    bp_app_t *app = r->app;
    char key[BP_KEY_MAX + 80], skey[BP_KEY_MAX + 8];
    key_of(app, id, key, sizeof key);
    set_key(app, skey, sizeof skey);
    const char *argv[] = {"EVAL", write_lua, "2", key, skey, what, a2, a3, a4};
    if (bp_redis_command_argv(bp_apply_redis(app->apply), on_write, r, 9, argv, NULL)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; nothing was changed");
        return;
    }
    r->pending = true;
}

static bool is_json(const bp_req_t *r) {
    return strncmp(r->content_type, "application/json", 16) == 0;
}

static void errors_422(bp_req_t *r, const bp_errors_t *e) {
    bp_buf_t *b = &r->resp.body;
    r->resp.status = 422;
    bp_buf_reset(b);
    bp_buf_puts(b, "{\"error\":\"invalid\",\"message\":");
    bp_json_cstr(b, e->n ? e->e[0].message : "invalid");
    bp_buf_puts(b, ",\"errors\":[");
    for (size_t i = 0; i < e->n; i++) {
        if (i) bp_buf_putc(b, ',');
        bp_buf_puts(b, "{\"field\":");
        bp_json_cstr(b, e->e[i].field);
        bp_buf_puts(b, ",\"code\":");
        bp_json_cstr(b, e->e[i].code);
        bp_buf_puts(b, ",\"message\":");
        bp_json_cstr(b, e->e[i].message);
        bp_buf_putc(b, '}');
    }
    bp_buf_puts(b, "]}");
    r->decided = true;
}

/* The principal for a dispatcher's action (declare, patients, close), or NULL (decided). */
static const bp_principal_t *dispatcher(bp_req_t *r) {
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided || !bp_req_allow(r, p, BP_ACT_READ_AMBULANCES, -1)) return NULL;
    if (!p) {
        bp_req_error(r, 401, "unauthorized", "sign in as a dispatcher to do this");
        r->www_authenticate = true;
        return NULL;
    }
    return p;
}

static void declare(bp_req_t *r) {
    bp_app_t *app = r->app;
    const bp_principal_t *p = dispatcher(r);
    if (!p) return;
    if (!is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the declaration as application/json");
        return;
    }
    bp_mci_declare_t d;
    bp_errors_t e;
    if (bp_mci_parse_declare(bp_buf_data(&r->in), r->in.len, &d, &e)) {
        errors_422(r, &e);
        return;
    }
    int64_t now = bp_time_now_ms();
    char id[32], key[BP_KEY_MAX + 80], skey[BP_KEY_MAX + 8], f[6][32];
    snprintf(id, sizeof id, "MCI-%lld", (long long)now);
    key_of(app, id, key, sizeof key);
    set_key(app, skey, sizeof skey);
    snprintf(f[0], 32, "%.6f", d.lat);
    snprintf(f[1], 32, "%.6f", d.lon);
    snprintf(f[2], 32, "%.1f", d.radius_km);
    for (int t = 0; t < 3; t++) snprintf(f[3 + t], 32, "%d", d.expected[t]);
    char at[24];
    snprintf(at, sizeof at, "%lld", (long long)now);
    const char *hset[] = {"HSET", key, "lat", f[0], "lon", f[1], "radius_km", f[2], "ei", f[3],
                          "ed", f[4], "em", f[5], "address", d.address, "by", p->id, "at", at,
                          "status", "open"};
    const char *sadd[] = {"SADD", skey, id};
    bp_redis_t *redis = bp_apply_redis(app->apply);
    if (bp_redis_command_argv(redis, NULL, NULL, (int)(sizeof hset / sizeof *hset), hset, NULL) ||
        bp_redis_command_argv(redis, NULL, NULL, 3, sadd, NULL)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; nothing was declared");
        return;
    }
    audit(app, p, r->addr, id, "declare", bp_buf_data(&r->in));
    bp_info("http %s: MCI %s declared by %s", r->addr, id, p->id);
    r->resp.status = 201;
    read_mcis(r, id); /* answer with the view, read back (same connection: after the writes) */
}

static void answer(bp_req_t *r, const char *id, const char *hid) {
    bp_app_t *app = r->app;
    int h = bp_is_slug(hid, strlen(hid)) ? bp_registry_hospital(&app->cfg.registry, hid, strlen(hid)) : -1;
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
    if (!is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the answer as application/json");
        return;
    }
    int c[BP_TRIAGE__COUNT];
    bp_errors_t e;
    if (bp_mci_parse_answer(bp_buf_data(&r->in), r->in.len, c, &e)) {
        errors_422(r, &e);
        return;
    }
    char val[96];
    snprintf(val, sizeof val, "%d,%d,%d,%s,%lld", c[0], c[1], c[2], p->id, (long long)bp_time_now_ms());
    bp_buf_printf(&r->resp.body, "{\"mci\":");
    bp_json_cstr(&r->resp.body, id);
    bp_buf_puts(&r->resp.body, ",\"hospital\":");
    bp_json_cstr(&r->resp.body, hid);
    bp_buf_puts(&r->resp.body, ",\"can\":");
    counts_json(&r->resp.body, c);
    bp_buf_puts(&r->resp.body, ",\"by\":");
    bp_json_cstr(&r->resp.body, p->id);
    bp_buf_putc(&r->resp.body, '}');
    audit(app, p, r->addr, id, "answer", val);
    write_mci_cmd(r, id, "answer", hid, val, "");
}

static void patient(bp_req_t *r, const char *id) {
    bp_app_t *app = r->app;
    const bp_principal_t *p = dispatcher(r);
    if (!p) return;
    if (!is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the patient as application/json");
        return;
    }
    bp_mci_patient_t pt;
    bp_errors_t e;
    if (bp_mci_parse_patient(bp_buf_data(&r->in), r->in.len, &pt, &e) == 0) {
        if (bp_registry_hospital(&app->cfg.registry, pt.destination, strlen(pt.destination)) < 0) {
            e.n = 1;
            bp_error_set(&e.e[0], "unknown_hospital", "destination", "destination: no hospital with this id");
        } else if (pt.unit[0] && bp_registry_unit(&app->cfg.registry, pt.unit, strlen(pt.unit)) < 0) {
            e.n = 1;
            bp_error_set(&e.e[0], "unknown_unit", "unit", "unit: no ambulance with this call sign");
        }
    }
    if (e.n) {
        errors_422(r, &e);
        return;
    }
    char val[160], max[16];
    snprintf(val, sizeof val, "%s,%s,%s,%s,%lld", bp_triage_name(pt.triage), pt.destination,
             pt.unit[0] ? pt.unit : "-", p->id, (long long)bp_time_now_ms());
    snprintf(max, sizeof max, "%d", MCI_PATIENTS_MAX);
    r->resp.status = 201;
    bp_buf_puts(&r->resp.body, "{\"mci\":");
    bp_json_cstr(&r->resp.body, id);
    bp_buf_printf(&r->resp.body, ",\"triage\":\"%s\",\"destination\":", bp_triage_name(pt.triage));
    bp_json_cstr(&r->resp.body, pt.destination);
    bp_buf_putc(&r->resp.body, '}');
    audit(app, p, r->addr, id, "patient", val);
    write_mci_cmd(r, id, "patient", val, max, "");
}

static void close_mci(bp_req_t *r, const char *id) {
    bp_app_t *app = r->app;
    const bp_principal_t *p = dispatcher(r);
    if (!p) return;
    char at[24], keep[16];
    snprintf(at, sizeof at, "%lld", (long long)bp_time_now_ms());
    snprintf(keep, sizeof keep, "%d", MCI_KEEP_S);
    bp_buf_puts(&r->resp.body, "{\"closed\":");
    bp_json_cstr(&r->resp.body, id);
    bp_buf_putc(&r->resp.body, '}');
    audit(app, p, r->addr, id, "close", "{}");
    write_mci_cmd(r, id, "close", at, id, keep);
}

/* -- routing -------------------------------------------------------------------------------- */

static bool mci_id_ok(const char *s, size_t n) {
    if (n < 5 || n > 24 || strncmp(s, "MCI-", 4) != 0) return false;
    for (size_t i = 4; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

bool bp_mci_route(bp_req_t *r) {
    const char *path = r->path;
    if (strncmp(path, "/api/v1/mci", 11) != 0 || (path[11] != '\0' && path[11] != '/')) return false;
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    bool post = strcmp(r->method, "POST") == 0;
    if (path[11] == '\0') {
        if (post) declare(r);
        else if (get) {
            const bp_principal_t *p = bp_req_principal(r);
            if (!r->decided && bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, -1)) read_mcis(r, NULL);
        } else bp_req_error(r, 405, "method_not_allowed", "GET the list, POST to declare");
        return true;
    }
    const char *id = path + 12, *slash = strchr(id, '/');
    size_t idl = slash ? (size_t)(slash - id) : strlen(id);
    char mid[32];
    if (!mci_id_ok(id, idl)) {
        bp_req_error(r, 404, "unknown_mci", "no mass-casualty incident with this id");
        return true;
    }
    snprintf(mid, sizeof mid, "%.*s", (int)idl, id);
    const char *rest = slash ? slash : "";
    if (!*rest) {
        if (!get) bp_req_error(r, 405, "method_not_allowed", "this resource answers GET only");
        else {
            const bp_principal_t *p = bp_req_principal(r);
            if (!r->decided && bp_req_allow(r, p, BP_ACT_READ_HOSPITALS, -1)) read_mcis(r, mid);
        }
    } else if (strncmp(rest, "/answers/", 9) == 0 && rest[9]) {
        if (strcmp(r->method, "PUT")) bp_req_error(r, 405, "method_not_allowed", "answer with PUT");
        else answer(r, mid, rest + 9);
    } else if (strcmp(rest, "/patients") == 0) {
        if (!post) bp_req_error(r, 405, "method_not_allowed", "record a patient with POST");
        else patient(r, mid);
    } else if (strcmp(rest, "/close") == 0) {
        if (!post) bp_req_error(r, 405, "method_not_allowed", "close with POST");
        else close_mci(r, mid);
    } else {
        bp_req_error(r, 404, "not_found", "no such resource");
    }
    return true;
}
