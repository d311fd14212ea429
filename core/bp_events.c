/* Notification events (see bp_events.h). */
#include "bp_events.h"
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
static void alert_data(bp_event_out_t *e, const bp_arec_t *delta, const bp_alerts_t *conds,
                       size_t total) {
    bp_buf_t *b = &e->data;
    bp_buf_puts(b, "{\"alert\":{\"id\":");
    bp_json_cstr(b, delta->id);
    bp_buf_puts(b, ",\"rule\":");
    bp_json_cstr(b, bp_alert_rule_name(delta->rule));
    bp_buf_printf(b, ",\"severity\":\"%s\",\"group\":%s,\"since\":",
                  bp_severity_name(bp_alert_severity(delta->rule)),
                  delta->group ? "true" : "false");
    bp_json_time(b, delta->since_ms);
    bp_buf_puts(b, "},\"members\":[");
    for (size_t i = 0; i < delta->n; i++) {
        if (i) bp_buf_putc(b, ',');
        bp_buf_puts(b, "{\"subject\":");
        bp_json_cstr(b, delta->m[i].subject);
        bp_buf_printf(b, ",\"value\":%lld}", (long long)bp_arec_member_value(delta, i, conds));
    }
    bp_buf_printf(b, "],\"count\":%zu", total);
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
    alert_data(e, &ch->delta, conds, ch->total);
    bp_buf_printf(&e->data, ",\"change\":\"%s\"}",
                  ch->kind == BP_ACH_RAISED   ? "raised"
                  : ch->kind == BP_ACH_JOINED ? "joined"
                  : ch->kind == BP_ACH_LEFT   ? "left"
                                              : "cleared");
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
    alert_data(e, r, conds, r->n);
    bp_buf_puts(&e->data, ",\"by\":{\"id\":");
    bp_json_cstr(&e->data, by_id);
    bp_buf_puts(&e->data, ",\"name\":");
    bp_json_cstr(&e->data, by_name ? by_name : "");
    bp_buf_puts(&e->data, "}}");
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
    bp_buf_t *b = &e->data;
    bp_buf_puts(b, "{\"hospital\":");
    bp_json_cstr(b, hi->id);
    bp_buf_printf(b, ",\"status\":\"%s\",\"previous\":\"%s\",\"reason\":",
                  bp_ed_status_name((bp_ed_status_t)c), bp_ed_status_name((bp_ed_status_t)p));
    bp_json_cstr(b, cur == BP_ED_NORMAL ? "" : hs->ed.reason);
    bp_buf_puts(b, ",\"until\":");
    bp_json_time(b, cur == BP_ED_NORMAL ? 0 : hs->ed.until_ms);
    bp_buf_printf(b, ",\"level\":%d}", e->level);
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
    bp_buf_t *b = &e->data;
    bp_buf_puts(b, "{\"hospital\":");
    bp_json_cstr(b, hi->id);
    bp_buf_puts(b, ",\"last_report\":");
    bp_json_time(b, hs->at_ms);
    bp_buf_printf(b, ",\"minutes\":%lld,\"report_interval_s\":%d}", min, hi->report_interval_s);
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
    bp_buf_t *b = &e->data;
    bp_buf_puts(b, "{\"mci\":{\"id\":");
    bp_json_cstr(b, m->id);
    bp_buf_puts(b, ",\"lat\":");
    bp_json_num(b, m->lat, 5);
    bp_buf_puts(b, ",\"lon\":");
    bp_json_num(b, m->lon, 5);
    bp_buf_puts(b, ",\"radius_km\":");
    bp_json_num(b, m->radius_km, 1);
    bp_buf_puts(b, ",\"address\":");
    bp_json_cstr(b, m->address);
    bp_buf_printf(b,
                  ",\"expected\":{\"immediate\":%d,\"delayed\":%d,\"minor\":%d},\"declared_by\":",
                  m->expected[0], m->expected[1], m->expected[2]);
    bp_json_cstr(b, m->by);
    bp_buf_printf(b, "},\"hospitals_asked\":%d}", asked);
}
