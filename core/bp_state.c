/* In-memory state and the JSON clients read. */
#include "bp_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct bp_state {
    const bp_registry_t *reg;
    bp_pressure_cfg_t pressure;
    bp_hospital_state_t *hospitals; /* one per registry hospital */
    bp_ambulance_state_t *ambulances; /* one per fleet unit */
    /* open incidents, sorted by (opened, id); grown on demand up to the bound */
    bp_incident_state_t *incidents;
    size_t n_incidents, cap_incidents, max_incidents;
    uint64_t incidents_dropped;
};

const bp_view_t bp_view_all = {BP_AF_ALL, true};

bp_state_t *bp_state_create(const bp_registry_t *reg, const bp_pressure_cfg_t *pressure,
                            size_t max_incidents) {
    bp_state_t *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->reg = reg;
    st->max_incidents = max_incidents;
    st->pressure = pressure ? *pressure : bp_pressure_default;
    st->hospitals = calloc(reg->n_hospitals ? reg->n_hospitals : 1, sizeof *st->hospitals);
    st->ambulances = calloc(reg->n_units ? reg->n_units : 1, sizeof *st->ambulances);
    if (!st->hospitals || !st->ambulances) {
        bp_state_destroy(st);
        return NULL;
    }
    bp_state_reset(st);
    return st;
}

void bp_state_destroy(bp_state_t *st) {
    if (!st) return;
    free(st->hospitals);
    free(st->ambulances);
    free(st->incidents);
    free(st);
}

void bp_state_reset(bp_state_t *st) {
    for (size_t i = 0; i < st->reg->n_hospitals; i++)
        bp_registry_base_state(&st->reg->hospitals[i], &st->hospitals[i]);
    for (size_t i = 0; i < st->reg->n_units; i++)
        bp_ambulance_state_init(&st->ambulances[i]);
    st->n_incidents = 0;
}

/* -- incidents ------------------------------------------------------------ */

int bp_state_incident_find(const bp_state_t *st, const char *id) {
    for (size_t i = 0; i < st->n_incidents; i++)
        if (strcmp(st->incidents[i].id, id) == 0) return (int)i;
    return -1;
}

static void incident_remove(bp_state_t *st, size_t i) {
    memmove(&st->incidents[i], &st->incidents[i + 1],
            (st->n_incidents - i - 1) * sizeof *st->incidents);
    st->n_incidents--;
}

/* Whether a sorts before b: opened first, then id. */
static bool incident_before(const bp_incident_state_t *a, const bp_incident_state_t *b) {
    return a->opened_ms != b->opened_ms ? a->opened_ms < b->opened_ms : strcmp(a->id, b->id) < 0;
}

/* Puts a new incident in its place; -1 when the table is full. */
static int incident_insert(bp_state_t *st, const bp_incident_state_t *inc) {
    if (st->n_incidents == st->cap_incidents) {
        size_t cap = st->cap_incidents ? st->cap_incidents * 2 : 16;
        if (cap > st->max_incidents) cap = st->max_incidents;
        bp_incident_state_t *n =
            cap > st->cap_incidents ? realloc(st->incidents, cap * sizeof *n) : NULL;
        if (!n) return -1;
        st->incidents = n;
        st->cap_incidents = cap;
    }
    size_t i = st->n_incidents; /* new ones are mostly the newest: search from the end */
    while (i > 0 && incident_before(inc, &st->incidents[i - 1])) i--;
    memmove(&st->incidents[i + 1], &st->incidents[i],
            (st->n_incidents - i) * sizeof *st->incidents);
    st->incidents[i] = *inc;
    st->n_incidents++;
    return (int)i;
}

static int apply_incident(bp_state_t *st, const bp_change_t *c) {
    int i = bp_state_incident_find(st, c->id);
    if (c->inc_action == BP_INC_CREATE) {
        bp_incident_state_t inc;
        bp_incident_state_init(&inc, c->id);
        if (i >= 0) {
            inc.version = st->incidents[i].version;
            incident_remove(st, (size_t)i);
        }
        bp_incident_apply(&inc, c);
        i = incident_insert(st, &inc);
        if (i < 0) st->incidents_dropped++;
        return i;
    }
    if (i < 0) return -1;
    if (c->inc_action == BP_INC_CLOSE) incident_remove(st, (size_t)i);
    else bp_incident_apply(&st->incidents[i], c);
    return i;
}

size_t bp_state_incident_count(const bp_state_t *st) {
    return st->n_incidents;
}

const bp_incident_state_t *bp_state_incident(const bp_state_t *st, size_t i) {
    return i < st->n_incidents ? &st->incidents[i] : NULL;
}

uint64_t bp_state_incidents_dropped(const bp_state_t *st) {
    return st->incidents_dropped;
}

int bp_state_apply(bp_state_t *st, const bp_change_t *c) {
    size_t len = strlen(c->id);
    if (c->kind == BP_KIND_INCIDENT) return apply_incident(st, c);
    if (c->kind == BP_KIND_HOSPITAL) {
        int i = bp_registry_hospital(st->reg, c->id, len);
        if (i >= 0) bp_hospital_apply(&st->hospitals[i], c);
        return i;
    }
    int i = bp_registry_unit(st->reg, c->id, len);
    if (i >= 0) bp_ambulance_apply(&st->ambulances[i], c);
    return i;
}

const bp_registry_t *bp_state_registry(const bp_state_t *st) {
    return st->reg;
}
const bp_hospital_state_t *bp_state_hospital(const bp_state_t *st, size_t i) {
    return i < st->reg->n_hospitals ? &st->hospitals[i] : NULL;
}

bool bp_state_set_offload(bp_state_t *st, size_t i, bool delayed) {
    if (i >= st->reg->n_hospitals || st->hospitals[i].offload_delayed == delayed) return false;
    st->hospitals[i].offload_delayed = delayed;
    return true;
}
const bp_ambulance_state_t *bp_state_ambulance(const bp_state_t *st, size_t i) {
    return i < st->reg->n_units ? &st->ambulances[i] : NULL;
}
const bp_pressure_cfg_t *bp_state_pressure(const bp_state_t *st) {
    return &st->pressure;
}

/* -- writers ------------------------------------------------------------- */

/* Occupancy as shown: rounded down to 0.1, so a figure on screen never
 * reaches a threshold the pressure level has not reached (94.96 % is level
 * 2 and must not read 95.0). */
static double pct_shown(double pct) {
    return floor(pct * 10.0 + 1e-9) / 10.0;
}

static void write_name(bp_buf_t *b, const bp_name_t *n) {
    bp_buf_put(b, "{\"vi\":", 6);
    bp_json_cstr(b, n->vi);
    bp_buf_put(b, ",\"en\":", 6);
    bp_json_cstr(b, n->en);
    bp_buf_putc(b, '}');
}

static void write_int_or_null(bp_buf_t *b, int64_t v) {
    if (v < 0) bp_buf_put(b, "null", 4);
    else bp_json_int(b, v);
}

/* {"staffed":..,"occupied":..,"surge24":..,"available":..,"overflow":..},
 * unknown numbers as null. */
static void write_beds(bp_buf_t *b, const bp_beds_t *x) {
    bp_buf_put(b, "{\"staffed\":", 11);
    write_int_or_null(b, x->staffed);
    bp_buf_put(b, ",\"occupied\":", 12);
    write_int_or_null(b, x->occupied);
    bp_buf_put(b, ",\"surge24\":", 11);
    write_int_or_null(b, x->surge24);
    bp_buf_put(b, ",\"available\":", 13);
    write_int_or_null(b, bp_beds_available(x));
    bp_buf_put(b, ",\"overflow\":", 12);
    write_int_or_null(b, bp_beds_overflow(x));
    bp_buf_putc(b, '}');
}

static void write_ed(bp_buf_t *b, const bp_ed_t *ed, int64_t now_ms, int with_effective) {
    bp_buf_put(b, "{\"status\":", 10);
    bp_json_cstr(b, bp_ed_status_name(ed->status));
    bp_buf_put(b, ",\"reason\":", 10);
    bp_json_cstr(b, ed->reason);
    bp_buf_put(b, ",\"until\":", 9);
    bp_json_time(b, ed->until_ms);
    bp_buf_put(b, ",\"waiting\":", 11);
    write_int_or_null(b, ed->waiting);
    if (with_effective) {
        bp_buf_put(b, ",\"effective\":", 13);
        bp_json_cstr(b, bp_ed_status_name(bp_ed_effective(ed, now_ms)));
    }
    bp_buf_putc(b, '}');
}

static void write_stamp(bp_buf_t *b, uint64_t version, int64_t at, int64_t updated,
                        const char *source) {
    bp_buf_put(b, "\"version\":", 10);
    bp_json_int(b, (int64_t)version);
    bp_buf_put(b, ",\"at\":", 6);
    bp_json_time(b, at);
    bp_buf_put(b, ",\"updated\":", 11);
    bp_json_time(b, updated);
    bp_buf_put(b, ",\"source\":", 10);
    bp_json_cstr(b, source);
}

void bp_state_write_hospital(bp_buf_t *b, const bp_state_t *st, size_t i, int64_t now_ms) {
    const bp_hospital_info_t *info = &st->reg->hospitals[i];
    const bp_hospital_state_t *h = &st->hospitals[i];
    bp_buf_put(b, "{\"id\":", 6);
    bp_json_cstr(b, info->id);
    bp_buf_put(b, ",\"name\":", 8);
    write_name(b, &info->name);
    bp_buf_put(b, ",\"tier\":", 8);
    bp_json_cstr(b, bp_tier_name(info->tier));
    bp_buf_put(b, ",\"district\":", 12);
    bp_json_cstr(b, st->reg->districts[info->district].id);
    bp_buf_put(b, ",\"lat\":", 7);
    bp_json_num(b, info->lat, 6);
    bp_buf_put(b, ",\"lon\":", 7);
    bp_json_num(b, info->lon, 6);
    bp_buf_put(b, ",\"specialties\":[", 16);
    int first = 1;
    for (int s = 0; s < BP_SPEC__COUNT; s++) {
        if (!(info->specialties & (1u << s))) continue;
        if (!first) bp_buf_putc(b, ',');
        bp_json_cstr(b, bp_specialty_name((bp_specialty_t)s));
        first = 0;
    }
    bp_buf_put(b, "],\"sister\":", 11);
    if (info->sister >= 0) bp_json_cstr(b, st->reg->hospitals[info->sister].id);
    else bp_buf_put(b, "null", 4);
    bp_buf_put(b, ",\"phone\":", 9);
    bp_json_cstr(b, info->phone);
    bp_buf_put(b, ",\"report_interval_s\":", 21);
    bp_json_int(b, info->report_interval_s);
    bp_buf_putc(b, ',');
    write_stamp(b, h->version, h->at_ms, h->updated_ms, h->source);
    bp_buf_put(b, ",\"beds\":{", 9);
    first = 1;
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (!(h->beds_mask & (1u << t))) continue;
        if (!first) bp_buf_putc(b, ',');
        bp_json_key(b, bp_bed_type_name((bp_bed_type_t)t));
        write_beds(b, &h->beds[t]);
        first = 0;
    }
    bp_buf_put(b, "},\"ed\":", 7);
    write_ed(b, &h->ed, now_ms, 1);
    bp_totals_t tot;
    bp_hospital_totals(h, &tot);
    double pct = bp_occupancy_pct(&tot);
    bp_buf_put(b, ",\"occupancy_pct\":", 17);
    if (pct < 0) bp_buf_put(b, "null", 4);
    else bp_json_num(b, pct_shown(pct), 1);
    bp_buf_put(b, ",\"offload\":", 11);
    bp_json_cstr(b, h->offload_delayed ? "delayed" : "normal");
    bp_buf_put(b, ",\"level\":", 9);
    bp_json_int(b, bp_pressure_level(h, &st->pressure, now_ms));
    bp_buf_put(b, ",\"freshness\":", 13);
    bp_json_cstr(b, bp_freshness_name(bp_freshness(h->at_ms, info->report_interval_s, now_ms)));
    bp_buf_putc(b, '}');
}

static void write_amb_fields(bp_buf_t *b, const bp_ambulance_state_t *a, unsigned fields) {
    if (fields & BP_AF_STATUS) {
        bp_buf_put(b, ",\"status\":", 10);
        bp_json_cstr(b, bp_amb_status_name(a->status));
        bp_buf_put(b, ",\"fms\":", 7);
        bp_json_int(b, bp_amb_status_fms(a->status));
    }
    if (fields & BP_AF_POSITION) {
        bp_buf_put(b, ",\"lat\":", 7);
        if (a->has_position) bp_json_num(b, a->lat, 6);
        else bp_buf_put(b, "null", 4);
        bp_buf_put(b, ",\"lon\":", 7);
        if (a->has_position) bp_json_num(b, a->lon, 6);
        else bp_buf_put(b, "null", 4);
    }
    if (fields & BP_AF_HEADING) {
        bp_buf_put(b, ",\"heading\":", 11);
        if (a->heading >= 0) bp_json_num(b, a->heading, 1);
        else bp_buf_put(b, "null", 4);
    }
    if (fields & BP_AF_SPEED) {
        bp_buf_put(b, ",\"speed\":", 9);
        if (a->speed >= 0) bp_json_num(b, a->speed, 1);
        else bp_buf_put(b, "null", 4);
    }
    if (fields & BP_AF_DESTINATION) {
        bp_buf_put(b, ",\"destination\":", 15);
        if (a->destination[0]) bp_json_cstr(b, a->destination);
        else bp_buf_put(b, "null", 4);
    }
    if (fields & BP_AF_INCIDENT) {
        bp_buf_put(b, ",\"incident\":", 12);
        if (a->incident[0]) bp_json_cstr(b, a->incident);
        else bp_buf_put(b, "null", 4);
    }
}

/* An incident's fields (BP_IF_*), each after a comma; cleared ones null. */
static void write_inc_fields(bp_buf_t *b, const bp_incident_state_t *n, unsigned fields) {
    if (fields & BP_IF_PRIORITY) {
        bp_buf_put(b, ",\"priority\":", 12);
        bp_json_int(b, n->priority);
    }
    if (fields & BP_IF_CATEGORY) {
        bp_buf_put(b, ",\"category\":", 12);
        bp_json_cstr(b, bp_category_name(n->category));
    }
    if (fields & BP_IF_POSITION) {
        bp_buf_put(b, ",\"lat\":", 7);
        bp_json_num(b, n->lat, 6);
        bp_buf_put(b, ",\"lon\":", 7);
        bp_json_num(b, n->lon, 6);
    }
    const struct {
        unsigned flag;
        const char *key, *value;
    } text[] = {{BP_IF_ADDRESS, ",\"address\":", n->address},
                {BP_IF_UNIT, ",\"unit\":", n->unit},
                {BP_IF_DESTINATION, ",\"destination\":", n->destination}};
    for (size_t k = 0; k < sizeof text / sizeof *text; k++) {
        if (!(fields & text[k].flag)) continue;
        bp_buf_puts(b, text[k].key);
        if (text[k].value[0]) bp_json_cstr(b, text[k].value);
        else bp_buf_put(b, "null", 4);
    }
    if (fields & BP_IF_RECEIVED) {
        bp_buf_put(b, ",\"received\":", 12);
        bp_json_time(b, n->received_ms);
    }
}

void bp_state_write_incident_members(bp_buf_t *b, const bp_incident_state_t *inc) {
    bp_buf_put(b, "\"id\":", 5);
    bp_json_cstr(b, inc->id);
    bp_buf_putc(b, ',');
    write_stamp(b, inc->version, inc->at_ms, inc->updated_ms, inc->source);
    bp_buf_put(b, ",\"opened\":", 10);
    bp_json_time(b, inc->opened_ms);
    write_inc_fields(b, inc, BP_IF_ALL);
}

void bp_state_write_incident(bp_buf_t *b, const bp_incident_state_t *inc) {
    bp_buf_putc(b, '{');
    bp_state_write_incident_members(b, inc);
    bp_buf_putc(b, '}');
}

void bp_state_write_incidents(bp_buf_t *b, const bp_state_t *st) {
    bp_buf_putc(b, '[');
    for (size_t i = 0; i < st->n_incidents; i++) {
        if (i) bp_buf_putc(b, ',');
        bp_state_write_incident(b, &st->incidents[i]);
    }
    bp_buf_putc(b, ']');
}

void bp_state_write_ambulance(bp_buf_t *b, const bp_state_t *st, size_t i) {
    bp_state_write_ambulance_fields(b, st, i, BP_AF_ALL);
}

void bp_state_write_ambulance_fields(bp_buf_t *b, const bp_state_t *st, size_t i, unsigned fields) {
    const bp_unit_t *u = &st->reg->units[i];
    const bp_ambulance_state_t *a = &st->ambulances[i];
    bp_buf_put(b, "{\"id\":", 6);
    bp_json_cstr(b, u->id);
    bp_buf_put(b, ",\"station\":", 11);
    bp_json_cstr(b, st->reg->stations[u->station].id);
    bp_buf_putc(b, ',');
    write_stamp(b, a->version, a->at_ms, a->updated_ms, a->source);
    write_amb_fields(b, a, fields);
    bp_buf_putc(b, '}');
}

static void write_ambulances(bp_buf_t *b, const bp_state_t *st, unsigned fields) {
    bp_buf_putc(b, '[');
    for (size_t i = 0; fields && i < st->reg->n_units; i++) {
        if (i) bp_buf_putc(b, ',');
        bp_state_write_ambulance_fields(b, st, i, fields);
    }
    bp_buf_putc(b, ']');
}

void bp_state_write_hospitals(bp_buf_t *b, const bp_state_t *st, int64_t now_ms) {
    bp_state_write_hospitals_in(b, st, now_ms, NULL);
}

void bp_state_write_hospitals_in(bp_buf_t *b, const bp_state_t *st, int64_t now_ms,
                                 const uint64_t *only) {
    bp_buf_putc(b, '[');
    bool first = true;
    for (size_t i = 0; i < st->reg->n_hospitals; i++) {
        if (only && !(only[i / 64] >> (i % 64) & 1)) continue;
        if (!first) bp_buf_putc(b, ',');
        first = false;
        bp_state_write_hospital(b, st, i, now_ms);
    }
    bp_buf_putc(b, ']');
}

void bp_state_write_ambulances(bp_buf_t *b, const bp_state_t *st) {
    write_ambulances(b, st, BP_AF_ALL);
}

void bp_state_write_meta(bp_buf_t *b, const bp_state_t *st) {
    const bp_registry_t *r = st->reg;
    bp_buf_put(b, "{\"bed_types\":[", 14);
    for (int t = 0; t < BP_BED__COUNT; t++) {
        if (t) bp_buf_putc(b, ',');
        bp_json_cstr(b, bp_bed_type_name((bp_bed_type_t)t));
    }
    bp_buf_put(b, "],\"pressure\":{\"level2_pct\":", 27);
    bp_json_num(b, st->pressure.level2_pct, 2);
    bp_buf_put(b, ",\"level3_pct\":", 14);
    bp_json_num(b, st->pressure.level3_pct, 2);
    bp_buf_put(b, ",\"level4_pct\":", 14);
    bp_json_num(b, st->pressure.level4_pct, 2);
    bp_buf_put(b, "},\"districts\":{", 15);
    for (size_t i = 0; i < r->n_districts; i++) {
        if (i) bp_buf_putc(b, ',');
        bp_json_cstr(b, r->districts[i].id);
        bp_buf_putc(b, ':');
        write_name(b, &r->districts[i].name);
    }
    bp_buf_put(b, "},\"stations\":[", 14);
    for (size_t i = 0; i < r->n_stations; i++) {
        const bp_station_t *s = &r->stations[i];
        if (i) bp_buf_putc(b, ',');
        bp_buf_put(b, "{\"id\":", 6);
        bp_json_cstr(b, s->id);
        bp_buf_put(b, ",\"name\":", 8);
        write_name(b, &s->name);
        bp_buf_put(b, ",\"district\":", 12);
        bp_json_cstr(b, r->districts[s->district].id);
        bp_buf_put(b, ",\"lat\":", 7);
        bp_json_num(b, s->lat, 6);
        bp_buf_put(b, ",\"lon\":", 7);
        bp_json_num(b, s->lon, 6);
        bp_buf_putc(b, '}');
    }
    bp_buf_put(b, "]}", 2);
}

void bp_state_write_snapshot(bp_buf_t *b, const bp_state_t *st, const char *epoch,
                             uint64_t offset, int64_t now_ms, bp_view_t view) {
    bp_state_write_snapshot_in(b, st, epoch, offset, now_ms, view, NULL);
}

void bp_state_write_snapshot_in(bp_buf_t *b, const bp_state_t *st, const char *epoch,
                                uint64_t offset, int64_t now_ms, bp_view_t view,
                                const uint64_t *only) {
    bp_buf_put(b, "{\"type\":\"snapshot\",\"epoch\":", 27);
    bp_json_cstr(b, epoch);
    bp_buf_put(b, ",\"offset\":", 10);
    bp_json_int(b, (int64_t)offset);
    bp_buf_put(b, ",\"now\":", 7);
    bp_json_time(b, now_ms);
    bp_buf_put(b, ",\"meta\":", 8);
    bp_state_write_meta(b, st);
    bp_buf_put(b, ",\"hospitals\":", 13);
    bp_state_write_hospitals_in(b, st, now_ms, only);
    bp_buf_put(b, ",\"ambulances\":", 14);
    write_ambulances(b, st, view.amb_fields);
    if (view.incidents) {
        bp_buf_put(b, ",\"incidents\":", 13);
        bp_state_write_incidents(b, st);
    }
    bp_buf_putc(b, '}');
}

void bp_state_write_event(bp_buf_t *b, const bp_change_t *c) {
    bp_state_write_event_for(b, c, bp_view_all);
}

void bp_state_write_event_for(bp_buf_t *b, const bp_change_t *c, bp_view_t view) {
    static const char *const kinds[] = {"hospital", "ambulance", "incident"};
    if ((c->kind == BP_KIND_AMBULANCE && !(c->amb_fields & view.amb_fields)) ||
        (c->kind == BP_KIND_INCIDENT && !view.incidents)) {
        /* nothing this audience may see: only the offset, so that offsets
         * stay contiguous for it too */
        bp_buf_put(b, "{\"offset\":", 10);
        bp_json_int(b, (int64_t)c->offset);
        bp_buf_putc(b, '}');
        return;
    }
    bp_buf_put(b, "{\"offset\":", 10);
    bp_json_int(b, (int64_t)c->offset);
    bp_buf_put(b, ",\"kind\":", 8);
    bp_json_cstr(b, kinds[c->kind]);
    bp_buf_put(b, ",\"id\":", 6);
    bp_json_cstr(b, c->id);
    bp_buf_put(b, ",\"data\":{", 9);
    write_stamp(b, c->version, c->at_ms, c->updated_ms, c->source);
    if (c->kind == BP_KIND_HOSPITAL) {
        int first = 1;
        for (int t = 0; t < BP_BED__COUNT; t++) {
            if (!c->bed_fields[t]) continue;
            bp_buf_put(b, first ? ",\"beds\":{" : ",", first ? 9 : 1);
            bp_json_key(b, bp_bed_type_name((bp_bed_type_t)t));
            bp_beds_t x = {-1, -1, -1};
            if (c->bed_fields[t] & BP_BF_STAFFED) x.staffed = c->beds[t].staffed;
            if (c->bed_fields[t] & BP_BF_OCCUPIED) x.occupied = c->beds[t].occupied;
            if (c->bed_fields[t] & BP_BF_SURGE24) x.surge24 = c->beds[t].surge24;
            write_beds(b, &x);
            first = 0;
        }
        if (!first) bp_buf_putc(b, '}');
        if (c->has_ed) {
            bp_buf_put(b, ",\"ed\":", 6);
            write_ed(b, &c->ed, 0, 0);
        }
    } else if (c->kind == BP_KIND_INCIDENT) {
        bp_buf_put(b, ",\"action\":", 10);
        bp_json_cstr(b, bp_inc_action_name(c->inc_action));
        write_inc_fields(b, &c->inc, c->inc_fields);
    } else {
        write_amb_fields(b, &c->amb, c->amb_fields & view.amb_fields);
    }
    bp_buf_put(b, "}}", 2);
}

/* -- summary ------------------------------------------------------------- */

typedef struct {
    int64_t staffed, occupied, available, overflow, surge24;
    int hospitals, reporting;
} agg_t;

static void agg_add(agg_t *a, const bp_totals_t *t, int reported) {
    a->hospitals++;
    if (!reported || t->types == 0) return;
    a->reporting++;
    a->staffed += t->staffed;
    a->occupied += t->occupied;
    a->available += t->available;
    a->overflow += t->overflow;
    a->surge24 += t->surge24;
}

static void write_agg(bp_buf_t *b, const agg_t *a) {
    bp_buf_put(b, "{\"hospitals\":", 13);
    bp_json_int(b, a->hospitals);
    bp_buf_put(b, ",\"reporting\":", 13);
    bp_json_int(b, a->reporting);
    bp_buf_put(b, ",\"staffed\":", 11);
    bp_json_int(b, a->staffed);
    bp_buf_put(b, ",\"occupied\":", 12);
    bp_json_int(b, a->occupied);
    bp_buf_put(b, ",\"available\":", 13);
    bp_json_int(b, a->available);
    bp_buf_put(b, ",\"overflow\":", 12);
    bp_json_int(b, a->overflow);
    bp_buf_put(b, ",\"surge24\":", 11);
    bp_json_int(b, a->surge24);
    bp_buf_put(b, ",\"occupancy_pct\":", 17);
    if (a->staffed > 0) bp_json_num(b, pct_shown(100.0 * (double)a->occupied / (double)a->staffed), 1);
    else bp_buf_put(b, "null", 4);
    bp_buf_putc(b, '}');
}

void bp_state_write_summary(bp_buf_t *b, const bp_state_t *st, int64_t now_ms) {
    const bp_registry_t *r = st->reg;
    agg_t city = {0}, tiers[BP_TIER__COUNT] = {{0}};
    agg_t *districts = calloc(r->n_districts ? r->n_districts : 1, sizeof *districts);
    if (!districts) {
        b->failed = true;
        return;
    }
    /* per bed type: staffed/occupied over hospitals that reported the type */
    struct {
        int64_t staffed, occupied, available, overflow, surge24;
        int hospitals;
    } types[BP_BED__COUNT] = {{0}};
    int levels[5] = {0}, ed[BP_ED__COUNT] = {0}, fresh[4] = {0};
    for (size_t i = 0; i < r->n_hospitals; i++) {
        const bp_hospital_info_t *info = &r->hospitals[i];
        const bp_hospital_state_t *h = &st->hospitals[i];
        bp_totals_t t;
        bp_hospital_totals(h, &t);
        int reported = h->at_ms > 0;
        agg_add(&city, &t, reported);
        agg_add(&tiers[info->tier], &t, reported);
        agg_add(&districts[info->district], &t, reported);
        for (int k = 0; k < BP_BED__COUNT; k++) {
            const bp_beds_t *x = &h->beds[k];
            if (!(h->beds_mask & (1u << k)) || !reported || x->staffed < 0 || x->occupied < 0)
                continue;
            types[k].staffed += x->staffed;
            types[k].occupied += x->occupied;
            types[k].available += bp_beds_available(x);
            types[k].overflow += bp_beds_overflow(x);
            if (x->surge24 > 0) types[k].surge24 += x->surge24;
            types[k].hospitals++;
        }
        levels[bp_pressure_level(h, &st->pressure, now_ms)]++;
        ed[bp_ed_effective(&h->ed, now_ms)]++;
        fresh[bp_freshness(h->at_ms, info->report_interval_s, now_ms)]++;
    }
    int amb[BP_AMB__COUNT] = {0};
    for (size_t i = 0; i < r->n_units; i++) amb[st->ambulances[i].status]++;

    bp_buf_put(b, "{\"now\":", 7);
    bp_json_time(b, now_ms);
    bp_buf_put(b, ",\"city\":", 8);
    write_agg(b, &city);
    bp_buf_put(b, ",\"bed_types\":{", 14);
    for (int k = 0; k < BP_BED__COUNT; k++) {
        if (k) bp_buf_putc(b, ',');
        bp_json_key(b, bp_bed_type_name((bp_bed_type_t)k));
        bp_buf_put(b, "{\"hospitals\":", 13);
        bp_json_int(b, types[k].hospitals);
        bp_buf_put(b, ",\"staffed\":", 11);
        bp_json_int(b, types[k].staffed);
        bp_buf_put(b, ",\"occupied\":", 12);
        bp_json_int(b, types[k].occupied);
        bp_buf_put(b, ",\"available\":", 13);
        bp_json_int(b, types[k].available);
        bp_buf_put(b, ",\"overflow\":", 12);
        bp_json_int(b, types[k].overflow);
        bp_buf_put(b, ",\"surge24\":", 11);
        bp_json_int(b, types[k].surge24);
        bp_buf_putc(b, '}');
    }
    bp_buf_put(b, "},\"tiers\":{", 11);
    for (int k = 0; k < BP_TIER__COUNT; k++) {
        if (k) bp_buf_putc(b, ',');
        bp_json_key(b, bp_tier_name((bp_tier_t)k));
        write_agg(b, &tiers[k]);
    }
    bp_buf_put(b, "},\"districts\":{", 15);
    for (size_t k = 0; k < r->n_districts; k++) {
        if (k) bp_buf_putc(b, ',');
        bp_json_key(b, r->districts[k].id);
        write_agg(b, &districts[k]);
    }
    bp_buf_put(b, "},\"levels\":{", 12);
    for (int k = 1; k <= 4; k++) {
        if (k > 1) bp_buf_putc(b, ',');
        bp_buf_printf(b, "\"%d\":%d", k, levels[k]);
    }
    bp_buf_put(b, "},\"ed\":{", 8);
    for (int k = 0; k < BP_ED__COUNT; k++) {
        if (k) bp_buf_putc(b, ',');
        bp_json_key(b, bp_ed_status_name((bp_ed_status_t)k));
        bp_json_int(b, ed[k]);
    }
    bp_buf_put(b, "},\"freshness\":{", 15);
    for (int k = 0; k < 4; k++) {
        if (k) bp_buf_putc(b, ',');
        bp_json_key(b, bp_freshness_name((bp_freshness_t)k));
        bp_json_int(b, fresh[k]);
    }
    bp_buf_put(b, "},\"ambulances\":{", 16);
    for (int k = 0; k < BP_AMB__COUNT; k++) {
        if (k) bp_buf_putc(b, ',');
        bp_json_key(b, bp_amb_status_name((bp_amb_status_t)k));
        bp_json_int(b, amb[k]);
    }
    bp_buf_put(b, "}}", 2);
    free(districts);
}
