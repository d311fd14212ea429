/* Alert records and their grouping plan (see bp_alert_groups.h). */
#include "bp_alert_groups.h"
#include "bp_jw.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- records -------------------------------------------------------------------------------- */

void bp_arecs_init(bp_arecs_t *s) {
    memset(s, 0, sizeof *s);
}

static void rec_free(bp_arec_t *r) {
    free(r->m);
    r->m = NULL;
    r->n = r->cap = 0;
}

void bp_arecs_clear(bp_arecs_t *s) {
    for (size_t i = 0; i < s->n; i++)
        rec_free(&s->r[i]);
    s->n = 0;
}

void bp_arecs_free(bp_arecs_t *s) {
    bp_arecs_clear(s);
    free(s->r);
    bp_arecs_init(s);
}

static int member_add(bp_arec_t *r, const char *subject, int64_t since) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 4;
        bp_amember_t *m = realloc(r->m, cap * sizeof *m);
        if (!m) return -1;
        r->m = m;
        r->cap = cap;
    }
    bp_amember_t *x = &r->m[r->n++];
    snprintf(x->subject, sizeof x->subject, "%s", subject);
    x->since_ms = since;
    return 0;
}

/* A new empty record at the end of s (members none), or NULL. */
static bp_arec_t *rec_add(bp_arecs_t *s, const char *id, bp_alert_rule_t rule, int64_t since,
                          bool group) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        bp_arec_t *r = realloc(s->r, cap * sizeof *r);
        if (!r) return NULL;
        s->r = r;
        s->cap = cap;
    }
    bp_arec_t *r = &s->r[s->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    r->rule = rule;
    r->since_ms = since;
    r->group = group;
    return r;
}

int bp_arecs_copy(bp_arecs_t *dst, const bp_arecs_t *src) {
    bp_arecs_clear(dst);
    for (size_t i = 0; i < src->n; i++) {
        bp_arec_t *r =
            rec_add(dst, src->r[i].id, src->r[i].rule, src->r[i].since_ms, src->r[i].group);
        if (!r) return -1;
        for (size_t k = 0; k < src->r[i].n; k++)
            if (member_add(r, src->r[i].m[k].subject, src->r[i].m[k].since_ms)) return -1;
    }
    return 0;
}

const bp_arec_t *bp_arecs_find(const bp_arecs_t *s, const char *id) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->r[i].id, id) == 0) return &s->r[i];
    return NULL;
}

const bp_arec_t *bp_arecs_holding(const bp_arecs_t *s, bp_alert_rule_t rule, const char *subject) {
    for (size_t i = 0; i < s->n; i++) {
        if (s->r[i].rule != rule) continue;
        for (size_t k = 0; k < s->r[i].n; k++)
            if (strcmp(s->r[i].m[k].subject, subject) == 0) return &s->r[i];
    }
    return NULL;
}

static int cmp_rec(const void *x, const void *y) {
    const bp_arec_t *a = x, *b = y;
    if (a->since_ms != b->since_ms) return a->since_ms < b->since_ms ? -1 : 1;
    return strcmp(a->id, b->id);
}

void bp_arecs_sort(bp_arecs_t *s) {
    if (s->n > 1) qsort(s->r, s->n, sizeof *s->r, cmp_rec);
}

static int rule_parse(const char *s) {
    for (int r = 0; r < BP_ALERT__COUNT; r++)
        if (strcmp(bp_alert_rule_name((bp_alert_rule_t)r), s) == 0) return r;
    return -1;
}

int bp_arecs_add_stored(bp_arecs_t *s, const char *id, const char *json, size_t len) {
    if (strlen(id) > BP_ALERT_ID_MAX || !len || memchr(json, '\0', len)) return -1;
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(root, "rule");
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(root, "since");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "m");
    int r = cJSON_IsString(rule) ? rule_parse(rule->valuestring) : -1;
    if (r < 0 || !cJSON_IsNumber(since) ||
        !(since->valuedouble >= 0 && since->valuedouble < 9e15) || !cJSON_IsArray(m) ||
        !cJSON_GetArraySize(m)) {
        cJSON_Delete(root);
        return -1;
    }
    bp_arec_t *rec = rec_add(s, id, (bp_alert_rule_t)r, (int64_t)since->valuedouble,
                             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "group")));
    int rc = rec ? 0 : -1;
    for (const cJSON *it = m->child; rec && it && rc == 0; it = it->next) {
        const cJSON *subj = cJSON_GetArrayItem(it, 0), *t = cJSON_GetArrayItem(it, 1);
        /* subjects are hospital ids, incident ids or "city" */
        if (!cJSON_IsString(subj) || !cJSON_IsNumber(t) ||
            !(t->valuedouble >= 0 && t->valuedouble < 9e15) ||
            !bp_is_incident_id(subj->valuestring, strlen(subj->valuestring)))
            rc = -1;
        else
            rc = member_add(rec, subj->valuestring, (int64_t)t->valuedouble);
    }
    if (rc && rec) {
        rec_free(rec);
        s->n--;
    }
    cJSON_Delete(root);
    return rc;
}

void bp_arec_write_stored(bp_buf_t *b, const bp_arec_t *r) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "rule");
    bp_jw_cstr(&w, bp_alert_rule_name(r->rule));
    BP_JW_KEY(&w, "since");
    bp_jw_int(&w, r->since_ms);
    BP_JW_KEY(&w, "group");
    bp_jw_bool(&w, r->group);
    BP_JW_KEY(&w, "m");
    bp_jw_arr(&w);
    for (size_t i = 0; i < r->n; i++) {
        bp_jw_arr(&w);
        bp_jw_cstr(&w, r->m[i].subject);
        bp_jw_int(&w, r->m[i].since_ms);
        bp_jw_end(&w);
    }
    bp_jw_end(&w);
    bp_jw_end(&w);
}

/* -- the plan --------------------------------------------------------------------------------- */

void bp_achanges_free(bp_achanges_t *c) {
    for (size_t i = 0; i < c->n; i++)
        rec_free(&c->c[i].delta);
    free(c->c);
    memset(c, 0, sizeof *c);
}

/* A change about record r with no members yet, or NULL. */
static bp_achange_t *change_add(bp_achanges_t *c, bp_achange_kind_t kind, const bp_arec_t *r) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        bp_achange_t *x = realloc(c->c, cap * sizeof *x);
        if (!x) return NULL;
        c->c = x;
        c->cap = cap;
    }
    bp_achange_t *x = &c->c[c->n++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    snprintf(x->delta.id, sizeof x->delta.id, "%s", r->id);
    x->delta.rule = r->rule;
    x->delta.since_ms = r->since_ms;
    x->delta.group = r->group;
    return x;
}

static bool cond_active(const bp_alerts_t *conds, bp_alert_rule_t rule, const char *subject) {
    char id[BP_ALERT_ID_MAX + 1];
    snprintf(id, sizeof id, "%s:%s", bp_alert_rule_name(rule), subject);
    return bp_alerts_find(conds, id) != NULL;
}

int bp_agroups_plan(const bp_arecs_t *cur, const bp_alerts_t *conds,
                    bool (*acked)(const char *id, void *ctx), void *ctx, int64_t join_ms,
                    int64_t now, bp_arecs_t *next, bp_achanges_t *changes) {
    bp_arecs_clear(next);
    /* members whose condition ended leave; empty records clear */
    for (size_t i = 0; i < cur->n; i++) {
        const bp_arec_t *r = &cur->r[i];
        size_t before = next->n;
        bp_arec_t *nr = rec_add(next, r->id, r->rule, r->since_ms, r->group);
        bp_achange_t *left = NULL;
        if (!nr) return -1;
        for (size_t k = 0; k < r->n; k++) {
            const bp_amember_t *m = &r->m[k];
            if (cond_active(conds, r->rule, m->subject)) {
                if (member_add(nr, m->subject, m->since_ms)) return -1;
                continue;
            }
            if (!left && !(left = change_add(changes, BP_ACH_LEFT, r))) return -1;
            if (member_add(&left->delta, m->subject, m->since_ms)) return -1;
        }
        /* (nr may have moved if next grew: re-find it by index) */
        nr = &next->r[before];
        if (nr->n == 0) {
            rec_free(nr);
            next->n--;
            if (left) left->kind = BP_ACH_CLEARED;
        } else if (left) {
            left->total = nr->n;
        }
    }
    /* new conditions, per rule, in the order the rules evaluate them */
    for (int rule = 0; rule < BP_ALERT__COUNT; rule++) {
        size_t n_new = 0;
        const char *first = NULL;
        for (size_t i = 0; i < bp_alerts_count(conds); i++) {
            const bp_alert_t *a = bp_alerts_get(conds, i);
            if ((int)a->rule != rule || bp_arecs_holding(next, a->rule, a->subject)) continue;
            if (!n_new++) first = a->subject;
        }
        if (!n_new) continue;
        /* the newest young alert of this rule not yet acknowledged (a single
         * one becomes a group, keeping its id) */
        bp_arec_t *target = NULL;
        for (size_t i = 0; i < next->n; i++) {
            bp_arec_t *r = &next->r[i];
            if ((int)r->rule != rule || r->since_ms < now - join_ms) continue;
            if (acked && acked(r->id, ctx)) continue;
            if (!target || r->since_ms > target->since_ms) target = r;
        }
        bp_achange_kind_t kind = target ? BP_ACH_JOINED : BP_ACH_RAISED;
        if (!target) {
            char id[BP_ALERT_ID_MAX + 1];
            if (n_new == 1)
                snprintf(id, sizeof id, "%s:%s", bp_alert_rule_name((bp_alert_rule_t)rule), first);
            /* a group that began as this subject's single alert keeps that
             * id after the subject left it: the subject back alone then
             * gets an id of the group form (still a single alert) */
            if (n_new > 1 || bp_arecs_find(next, id) || bp_arecs_find(cur, id)) {
                snprintf(id, sizeof id, "%s:group.%lld", bp_alert_rule_name((bp_alert_rule_t)rule),
                         (long long)now);
                for (int k = 2; bp_arecs_find(next, id) || bp_arecs_find(cur, id); k++)
                    snprintf(id, sizeof id, "%s:group.%lld.%d",
                             bp_alert_rule_name((bp_alert_rule_t)rule), (long long)now, k);
            }
            target = rec_add(next, id, (bp_alert_rule_t)rule, now, n_new > 1);
            if (!target) return -1;
        }
        size_t ti = (size_t)(target - next->r);
        target->group = true;
        if (kind == BP_ACH_RAISED) target->group = n_new > 1;
        bp_achange_t *ch = change_add(changes, kind, target);
        if (!ch) return -1;
        for (size_t i = 0; i < bp_alerts_count(conds); i++) {
            const bp_alert_t *a = bp_alerts_get(conds, i);
            if ((int)a->rule != rule || bp_arecs_holding(next, a->rule, a->subject)) continue;
            if (member_add(&next->r[ti], a->subject, now) ||
                member_add(&ch->delta, a->subject, now))
                return -1;
        }
        ch->total = next->r[ti].n;
    }
    bp_arecs_sort(next);
    return 0;
}

/* -- what people read ------------------------------------------------------------------------- */

bp_severity_t bp_alert_severity(bp_alert_rule_t r) {
    switch (r) {
    case BP_ALERT_DIVERSION:
    case BP_ALERT_ICU_LOW:
    case BP_ALERT_UNASSIGNED:
    case BP_ALERT_FACILITY: return BP_SEV_CRITICAL;
    case BP_ALERT_LEVEL4:
    case BP_ALERT_HANDOVER: return BP_SEV_WARNING;
    default: return BP_SEV_NOTICE;
    }
}

const char *bp_severity_name(bp_severity_t s) {
    static const char *const names[] = {"notice", "warning", "critical"};
    return (unsigned)s < 3 ? names[s] : "notice";
}

int64_t bp_arec_member_value(const bp_arec_t *r, size_t i, const bp_alerts_t *conds) {
    char id[BP_ALERT_ID_MAX + 1];
    snprintf(id, sizeof id, "%s:%s", bp_alert_rule_name(r->rule), r->m[i].subject);
    const bp_alert_t *a = bp_alerts_find(conds, id);
    return a ? a->value : 0;
}

static int64_t max_value(const bp_arec_t *r, const bp_alerts_t *conds) {
    int64_t v = 0;
    for (size_t i = 0; i < r->n; i++) {
        int64_t x = bp_arec_member_value(r, i, conds);
        if (i == 0 || x > v) v = x;
    }
    return v;
}

/* The name of a member in one language: a hospital's, else the subject. */
static const char *member_name(const bp_state_t *st, const bp_arec_t *r, size_t i, bool vi) {
    const bp_registry_t *reg = bp_state_registry(st);
    const char *s = r->m[i].subject;
    int h = r->rule == BP_ALERT_UNASSIGNED || r->rule == BP_ALERT_ICU_LOW
                ? -1
                : bp_registry_hospital(reg, s, strlen(s));
    if (h < 0) return s;
    return vi ? reg->hospitals[h].name.vi : reg->hospitals[h].name.en;
}

void bp_arec_text(const bp_arec_t *r, const bp_alerts_t *conds, const bp_state_t *st, bool names,
                  char *tv, size_t tvl, char *te, size_t tel) {
    if (r->n == 1) {
        bp_alert_t one;
        memset(&one, 0, sizeof one);
        one.rule = r->rule;
        snprintf(one.subject, sizeof one.subject, "%s", r->m[0].subject);
        one.value = bp_arec_member_value(r, 0, conds);
        bp_alert_text(&one, st, tv, tvl, te, tel);
        return;
    }
    size_t n = r->n;
    /* "<n> <what>" per rule; a rule without its words says its name */
    static const struct {
        const char *vi, *en;
    } what[BP_ALERT__COUNT] = {
        [BP_ALERT_LEVEL4] = {"bệnh viện ở mức áp lực 4", "hospitals at pressure level 4"},
        [BP_ALERT_DIVERSION] = {"khoa cấp cứu chuyển hướng hoặc tạm đóng",
                                "emergency departments on diversion or closed"},
        [BP_ALERT_STALE] = {"bệnh viện không có báo cáo mới", "hospitals with no recent report"},
        [BP_ALERT_HANDOVER] = {"bệnh viện có xe cấp cứu chờ bàn giao lâu",
                               "hospitals where ambulances wait long to hand over"},
        [BP_ALERT_FACILITY] = {"bệnh viện có sự cố cơ sở", "hospitals with a facility problem"},
        [BP_ALERT_FULL_SOON] = {"bệnh viện dự kiến hết giường trong vài giờ tới",
                                "hospitals expected full within hours"},
        [BP_ALERT_UNASSIGNED] = {"sự cố chưa có xe", "incidents without a unit"},
    };
    if ((unsigned)r->rule < BP_ALERT__COUNT && what[r->rule].en) {
        snprintf(tv, tvl, "%zu %s", n, what[r->rule].vi);
        snprintf(te, tel, "%zu %s", n, what[r->rule].en);
    } else {
        snprintf(tv, tvl, "%zu cảnh báo %s", n, bp_alert_rule_name(r->rule));
        snprintf(te, tel, "%zu %s alerts", n, bp_alert_rule_name(r->rule));
    }
    if (!names) return;
    for (int lang = 0; lang < 2; lang++) {
        char *t = lang ? te : tv;
        size_t tl = lang ? tel : tvl, used = strlen(t);
        for (size_t i = 0; i < n && i < 3 && used + 1 < tl; i++) {
            snprintf(t + used, tl - used, "%s%s", i ? ", " : ": ", member_name(st, r, i, !lang));
            used = strlen(t);
        }
        if (n > 3 && used + 1 < tl)
            snprintf(t + used, tl - used, lang ? " and %zu more" : " và %zu nơi khác", n - 3);
    }
}

void bp_arec_write_open(bp_jw_t *w, const bp_arec_t *r, const bp_alerts_t *conds,
                        const bp_state_t *st) {
    char tv[600], te[600];
    bp_arec_text(r, conds, st, false, tv, sizeof tv, te, sizeof te);
    bp_jw_obj(w); /* left open: the caller adds members and closes it */
    BP_JW_KEY(w, "id");
    bp_jw_cstr(w, r->id);
    BP_JW_KEY(w, "rule");
    bp_jw_cstr(w, bp_alert_rule_name(r->rule));
    BP_JW_KEY(w, "subject");
    bp_jw_cstr(w, r->group ? "group" : r->n ? r->m[0].subject : "");
    BP_JW_KEY(w, "since");
    bp_jw_time(w, r->since_ms);
    BP_JW_KEY(w, "value");
    bp_jw_int(w, max_value(r, conds));
    BP_JW_KEY(w, "count");
    bp_jw_int(w, (int64_t)r->n);
    BP_JW_KEY(w, "group");
    bp_jw_bool(w, r->group);
    BP_JW_KEY(w, "incident");
    bp_jw_bool(w, r->rule == BP_ALERT_UNASSIGNED);
    BP_JW_KEY(w, "severity");
    bp_jw_cstr(w, bp_severity_name(bp_alert_severity(r->rule)));
    BP_JW_KEY(w, "members");
    bp_jw_arr(w);
    for (size_t i = 0; i < r->n; i++) {
        bp_jw_obj(w);
        BP_JW_KEY(w, "subject");
        bp_jw_cstr(w, r->m[i].subject);
        BP_JW_KEY(w, "value");
        bp_jw_int(w, bp_arec_member_value(r, i, conds));
        BP_JW_KEY(w, "since");
        bp_jw_time(w, r->m[i].since_ms);
        bp_jw_end(w);
    }
    bp_jw_end(w);
    bp_alert_write_text(w, tv, te);
}

/* -- mutes --------------------------------------------------------------------------------------
 */

static void mute_err(bp_errors_t *errs, const char *code, const char *field, const char *msg) {
    if (errs->n < BP_ERRORS_MAX) bp_error_set(&errs->e[errs->n++], code, field, "%s", msg);
}

int bp_alert_mute_parse(const char *json, size_t len, bp_alert_rule_t *rule, int *minutes,
                        bp_errors_t *errs) {
    errs->n = 0;
    *rule = BP_ALERT_LEVEL4;
    *minutes = 0;
    cJSON *root =
        len && len <= 4096 && !memchr(json, '\0', len) ? cJSON_ParseWithLength(json, len) : NULL;
    if (!cJSON_IsObject(root)) {
        mute_err(errs, "bad_json", "", "send one JSON object {\"rule\":..,\"minutes\":..}");
        cJSON_Delete(root);
        return -1;
    }
    for (const cJSON *it = root->child; it; it = it->next)
        if (strcmp(it->string, "rule") && strcmp(it->string, "minutes"))
            mute_err(errs, "unknown_field", it->string, "only rule and minutes may be sent");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "rule");
    int k = cJSON_IsString(r) ? rule_parse(r->valuestring) : -1;
    if (k < 0)
        mute_err(
            errs, r ? "bad_value" : "missing_field", "rule",
            "rule must be one of level4, diversion, stale_feed, icu_low, handover, unassigned, "
            "facility, full_soon");
    else
        *rule = (bp_alert_rule_t)k;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "minutes");
    if (!cJSON_IsNumber(m) || !(m->valuedouble >= 1 && m->valuedouble <= BP_MUTE_MAX_MIN) ||
        m->valuedouble != (double)(int)m->valuedouble)
        mute_err(errs, m ? "out_of_range" : "missing_field", "minutes",
                 "minutes must be a whole number from 1 to 720 (12 hours)");
    else
        *minutes = (int)m->valuedouble;
    cJSON_Delete(root);
    return errs->n ? -1 : 0;
}
