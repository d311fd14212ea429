/* Notification events (see bp_events.h). */
#include "bp_events.h"
#include "bp_jw.h"
#include "bp_recommend.h"

#include <stdio.h>
#include <string.h>

void bp_event_out_init(bp_event_out_t *e) {
    memset(e, 0, sizeof *e);
    bp_buf_init(&e->hospitals, 0, 256u << 10);
    bp_buf_init(&e->data, 0, BP_EVENT_DATA_MAX);
}

void bp_event_out_free(bp_event_out_t *e) {
    bp_buf_free(&e->hospitals);
    bp_buf_free(&e->data);
}

static void reset(bp_event_out_t *e, bp_event_type_t type, int64_t now) {
    e->type = type;
    e->at_ms = now;
    e->level = 1;
    e->vi[0] = e->en[0] = '\0';
    bp_buf_reset(&e->hospitals);
    bp_buf_reset(&e->data);
}

/* out = a + b + c, cut at a character boundary when it does not fit. */
static void cat3(char *out, size_t n, const char *a, const char *b, const char *c) {
    size_t used = 0;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(parts[i]);
        if (used + l >= n) {
            l = n - 1 - used;
            while (l > 0 && ((unsigned char)parts[i][l] & 0xc0) == 0x80)
                l--;
            memcpy(out + used, parts[i], l);
            used += l;
            break;
        }
        memcpy(out + used, parts[i], l);
        used += l;
    }
    out[used] = '\0';
}

static void add_hospital(bp_event_out_t *e, const char *id) {
    if (e->hospitals.len) bp_buf_putc(&e->hospitals, ',');
    bp_buf_puts(&e->hospitals, id);
}

static int level_of(const bp_state_t *st, int h, int64_t now) {
    return bp_pressure_level(bp_state_hospital(st, (size_t)h), bp_state_pressure(st), now);
}

static bool hospital_rule(bp_alert_rule_t r) {
    return r != BP_ALERT_ICU_LOW && r != BP_ALERT_UNASSIGNED;
}

/* {"alert":{"id","rule","severity","group","since"},"members":[{"subject","value"}],"count":N */
/* (the object is left open for the caller's members) */
static void alert_data(bp_jw_t *w, const bp_arec_t *delta, const bp_alerts_t *conds, size_t total) {
    bp_jw_obj(w);
    BP_JW_KEY(w, "alert");
    bp_jw_obj(w);
    BP_JW_KEY(w, "id");
    bp_jw_cstr(w, delta->id);
    BP_JW_KEY(w, "rule");
    bp_jw_cstr(w, bp_alert_rule_name(delta->rule));
    BP_JW_KEY(w, "severity");
    bp_jw_cstr(w, bp_severity_name(bp_alert_severity(delta->rule)));
    BP_JW_KEY(w, "group");
    bp_jw_bool(w, delta->group);
    BP_JW_KEY(w, "since");
    bp_jw_time(w, delta->since_ms);
    bp_jw_end(w);
    BP_JW_KEY(w, "members");
    bp_jw_arr(w);
    for (size_t i = 0; i < delta->n; i++) {
        bp_jw_obj(w);
        BP_JW_KEY(w, "subject");
        bp_jw_cstr(w, delta->m[i].subject);
        BP_JW_KEY(w, "value");
        bp_jw_int(w, bp_arec_member_value(delta, i, conds));
        bp_jw_end(w);
    }
    bp_jw_end(w);
    BP_JW_KEY(w, "count");
    bp_jw_int(w, (int64_t)total);
}

/* The level of an alert about these members, and its hospitals. */
static void alert_level(bp_event_out_t *e, const bp_arec_t *delta, const bp_alerts_t *conds,
                        const bp_state_t *st, int64_t now) {
    const bp_registry_t *reg = bp_state_registry(st);
    int level;
    switch (delta->rule) {
    case BP_ALERT_LEVEL4: level = 4; break;
    case BP_ALERT_STALE: level = 2; break;
    default: level = 3; break;
    }
    for (size_t i = 0; i < delta->n; i++) {
        if (delta->rule == BP_ALERT_DIVERSION &&
            bp_arec_member_value(delta, i, conds) == BP_ED_CLOSED)
            level = 4;
        if (delta->rule == BP_ALERT_FACILITY &&
            bp_arec_member_value(delta, i, conds) >= BP_FAC_EVACUATING)
            level = 4;
        if (!hospital_rule(delta->rule)) continue;
        const char *s = delta->m[i].subject;
        int h = bp_registry_hospital(reg, s, strlen(s));
        if (h < 0) continue;
        add_hospital(e, s);
        int l = level_of(st, h, now);
        if (l > level) level = l;
    }
    e->level = level;
}

void bp_event_of_alert(bp_event_out_t *e, const bp_achange_t *ch, const bp_alerts_t *conds,
                       const bp_state_t *st, int64_t now) {
    bool raised = ch->kind == BP_ACH_RAISED || ch->kind == BP_ACH_JOINED;
    reset(e, raised ? BP_EV_ALERT_RAISED : BP_EV_ALERT_CLEARED, now);
    alert_level(e, &ch->delta, conds, st, now);
    char tv[BP_EVENT_TEXT_MAX + 1], te[BP_EVENT_TEXT_MAX + 1];
    bp_arec_text(&ch->delta, conds, st, true, tv, sizeof tv, te, sizeof te);
    if (raised) {
        snprintf(e->vi, sizeof e->vi, "%s", tv);
        snprintf(e->en, sizeof e->en, "%s", te);
    } else {
        cat3(e->vi, sizeof e->vi, "Hết cảnh báo: ", tv, "");
        cat3(e->en, sizeof e->en, "Alert over: ", te, "");
    }
    bp_jw_t w;
    bp_jw_init(&w, &e->data);
    alert_data(&w, &ch->delta, conds, ch->total);
    BP_JW_KEY(&w, "change");
    bp_jw_cstr(&w, ch->kind == BP_ACH_RAISED   ? "raised"
                   : ch->kind == BP_ACH_JOINED ? "joined"
                   : ch->kind == BP_ACH_LEFT   ? "left"
                                               : "cleared");
    bp_jw_end(&w);
}

void bp_event_of_ack(bp_event_out_t *e, const bp_arec_t *r, const bp_alerts_t *conds,
                     const bp_state_t *st, const char *by_id, const char *by_name, int64_t now) {
    reset(e, BP_EV_ALERT_ACKED, now);
    alert_level(e, r, conds, st, now);
    char tv[BP_EVENT_TEXT_MAX + 1], te[BP_EVENT_TEXT_MAX + 1];
    bp_arec_text(r, conds, st, true, tv, sizeof tv, te, sizeof te);
    const char *who = by_name && *by_name ? by_name : by_id;
    char head[160];
    snprintf(head, sizeof head, "%s đã xác nhận: ", who);
    cat3(e->vi, sizeof e->vi, head, tv, "");
    snprintf(head, sizeof head, "Acknowledged by %s: ", who);
    cat3(e->en, sizeof e->en, head, te, "");
    bp_jw_t w;
    bp_jw_init(&w, &e->data);
    alert_data(&w, r, conds, r->n);
    BP_JW_KEY(&w, "by");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "id");
    bp_jw_cstr(&w, by_id);
    BP_JW_KEY(&w, "name");
    bp_jw_cstr(&w, by_name ? by_name : "");
    bp_jw_end(&w);
    bp_jw_end(&w);
}

static const char *const ed_vi[] = {"tiếp nhận bình thường", "đang quá tải (hạn chế tiếp nhận)",
                                    "chuyển hướng xe cấp cứu", "tạm đóng"};
static const char *const ed_en[] = {"accepting normally", "on advisory (busy)", "on diversion",
                                    "closed"};

void bp_event_of_ed(bp_event_out_t *e, const bp_state_t *st, size_t h, bp_ed_status_t prev,
                    bp_ed_status_t cur, int64_t now) {
    const bp_registry_t *reg = bp_state_registry(st);
    const bp_hospital_info_t *hi = &reg->hospitals[h];
    const bp_hospital_state_t *hs = bp_state_hospital(st, h);
    reset(e, BP_EV_ED_STATUS, now);
    e->level = level_of(st, (int)h, now);
    if (cur == BP_ED_CLOSED) e->level = 4;
    add_hospital(e, hi->id);
    unsigned c = (unsigned)cur < 4 ? (unsigned)cur : 0, p = (unsigned)prev < 4 ? (unsigned)prev : 0;
    snprintf(e->vi, sizeof e->vi, "%s: khoa cấp cứu %s (trước đó: %s)", hi->name.vi, ed_vi[c],
             ed_vi[p]);
    snprintf(e->en, sizeof e->en, "%s: emergency department %s (was: %s)", hi->name.en, ed_en[c],
             ed_en[p]);
    bp_jw_t w;
    bp_jw_init(&w, &e->data);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "hospital");
    bp_jw_cstr(&w, hi->id);
    BP_JW_KEY(&w, "status");
    bp_jw_cstr(&w, bp_ed_status_name((bp_ed_status_t)c));
    BP_JW_KEY(&w, "previous");
    bp_jw_cstr(&w, bp_ed_status_name((bp_ed_status_t)p));
    BP_JW_KEY(&w, "reason");
    bp_jw_cstr(&w, cur == BP_ED_NORMAL ? "" : hs->ed.reason);
    BP_JW_KEY(&w, "until");
    bp_jw_time(&w, cur == BP_ED_NORMAL ? 0 : hs->ed.until_ms);
    BP_JW_KEY(&w, "level");
    bp_jw_int(&w, e->level);
    bp_jw_end(&w);
}

void bp_event_of_stale(bp_event_out_t *e, const bp_state_t *st, size_t h, int64_t now) {
    const bp_registry_t *reg = bp_state_registry(st);
    const bp_hospital_info_t *hi = &reg->hospitals[h];
    const bp_hospital_state_t *hs = bp_state_hospital(st, h);
    reset(e, BP_EV_HOSPITAL_STALE, now);
    e->level = level_of(st, (int)h, now);
    add_hospital(e, hi->id);
    long long min = hs->at_ms ? (long long)((now - hs->at_ms) / 60000) : 0;
    snprintf(e->vi, sizeof e->vi, "%s: không có báo cáo mới %lld phút", hi->name.vi, min);
    snprintf(e->en, sizeof e->en, "%s: no report for %lld min", hi->name.en, min);
    bp_jw_t w;
    bp_jw_init(&w, &e->data);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "hospital");
    bp_jw_cstr(&w, hi->id);
    BP_JW_KEY(&w, "last_report");
    bp_jw_time(&w, hs->at_ms);
    BP_JW_KEY(&w, "minutes");
    bp_jw_int(&w, min);
    BP_JW_KEY(&w, "report_interval_s");
    bp_jw_int(&w, hi->report_interval_s);
    bp_jw_end(&w);
}

void bp_event_of_mci(bp_event_out_t *e, const bp_registry_t *reg, const bp_mci_brief_t *m,
                     bool closed, int64_t now) {
    reset(e, closed ? BP_EV_MCI_CLOSED : BP_EV_MCI_DECLARED, now);
    e->level = 4;
    int asked = 0;
    for (size_t i = 0; i < reg->n_hospitals; i++) {
        const bp_hospital_info_t *hi = &reg->hospitals[i];
        if (bp_distance_km(m->lat, m->lon, hi->lat, hi->lon) > m->radius_km) continue;
        add_hospital(e, hi->id);
        asked++;
    }
    char where[260];
    if (m->address[0])
        snprintf(where, sizeof where, "%s", m->address);
    else
        snprintf(where, sizeof where, "%.5f, %.5f", m->lat, m->lon);
    int total = m->expected[0] + m->expected[1] + m->expected[2];
    if (closed) {
        snprintf(e->vi, sizeof e->vi, "Kết thúc sự cố nhiều nạn nhân tại %s", where);
        snprintf(e->en, sizeof e->en, "Mass-casualty incident at %s closed", where);
    } else {
        snprintf(e->vi, sizeof e->vi,
                 "Sự cố nhiều nạn nhân tại %s: dự kiến %d nạn nhân; %d bệnh viện trong bán kính "
                 "%g km được hỏi khả năng tiếp nhận",
                 where, total, asked, m->radius_km);
        snprintf(e->en, sizeof e->en,
                 "Mass-casualty incident at %s: %d patients expected; %d hospitals within %g km "
                 "asked what they can take",
                 where, total, asked, m->radius_km);
    }
    bp_jw_t w;
    bp_jw_init(&w, &e->data);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "mci");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "id");
    bp_jw_cstr(&w, m->id);
    BP_JW_KEY(&w, "lat");
    bp_jw_num(&w, m->lat, 5);
    BP_JW_KEY(&w, "lon");
    bp_jw_num(&w, m->lon, 5);
    BP_JW_KEY(&w, "radius_km");
    bp_jw_num(&w, m->radius_km, 1);
    BP_JW_KEY(&w, "address");
    bp_jw_cstr(&w, m->address);
    BP_JW_KEY(&w, "expected");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "immediate");
    bp_jw_int(&w, m->expected[0]);
    BP_JW_KEY(&w, "delayed");
    bp_jw_int(&w, m->expected[1]);
    BP_JW_KEY(&w, "minor");
    bp_jw_int(&w, m->expected[2]);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "declared_by");
    bp_jw_cstr(&w, m->by);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "hospitals_asked");
    bp_jw_int(&w, asked);
    bp_jw_end(&w);
}
