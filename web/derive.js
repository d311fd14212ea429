// Derived figures a client shows, computed the same way as the server
// (core/bp_model.c, docs/protocol.md "Derived figures"). Pure functions over
// the wire representation: no DOM, no clock of their own — the caller passes
// `nowMs` (the server-corrected time), so a diversion expires and a report
// goes stale on screen without waiting for an event.
//
// Unknown numbers are null on the wire (C uses -1): a bed type whose
// occupancy was never reported is "unknown", not "0 occupied".

export const BED_TYPES = Object.freeze([
  'emergency', 'icu_adult', 'icu_pediatric', 'icu_neonatal', 'medical_surgical', 'pediatrics',
  'obstetrics', 'burn', 'psychiatric', 'isolation', 'operating_room',
]);

export const ED_STATUSES = Object.freeze(['normal', 'advisory', 'diversion', 'closed']);

export const AMBULANCE_STATUSES = Object.freeze([
  'available_station', 'available_radio', 'dispatched', 'on_scene', 'transporting', 'at_hospital',
  'out_of_service',
]);

// FMS status digit per ambulance status (bp_amb_status_fms).
export const FMS = Object.freeze({
  available_station: 2, available_radio: 1, dispatched: 3, on_scene: 4, transporting: 7,
  at_hospital: 8, out_of_service: 6,
});

export const TIERS = Object.freeze(['central', 'city', 'district', 'private']);

// Not inpatient beds: left out of occupancy (bp_hospital_totals).
const NOT_INPATIENT = new Set(['emergency', 'operating_room']);

// bp_pressure_default; the snapshot's meta.pressure overrides it.
export const DEFAULT_PRESSURE = Object.freeze({ level2_pct: 85, level3_pct: 95, level4_pct: 110 });

function known(v) {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

// Parses a wire time (RFC 3339) to ms; null/absent/unparsable -> 0 ("none").
export function timeMs(s) {
  if (typeof s !== 'string' || s === '') return 0;
  const t = Date.parse(s);
  return Number.isFinite(t) && t > 0 ? t : 0;
}

// max(staffed - occupied, 0), or null when either is unknown.
export function available(b) {
  if (!b || !known(b.staffed) || !known(b.occupied)) return null;
  return b.staffed > b.occupied ? b.staffed - b.occupied : 0;
}

// max(occupied - staffed, 0), or null when either is unknown.
export function overflow(b) {
  if (!b || !known(b.staffed) || !known(b.occupied)) return null;
  return b.occupied > b.staffed ? b.occupied - b.staffed : 0;
}

// The ED status as it reads at nowMs: a non-normal status whose `until` has
// passed reads as normal (bp_ed_effective).
export function edEffective(ed, nowMs) {
  const status = ed && ED_STATUSES.includes(ed.status) ? ed.status : 'normal';
  const until = ed ? timeMs(ed.until) : 0;
  if (status !== 'normal' && until > 0 && nowMs >= until) return 'normal';
  return status;
}

// Services a hospital may have (bp_service_t), in display order, and how
// one reads at nowMs: limited or unavailable past its expiry reads as
// available (bp_svc_effective).
export const SERVICES = Object.freeze(['ct', 'mri', 'cath_lab', 'stroke_unit', 'trauma', 'burn_unit',
  'dialysis', 'obstetric_ed', 'pediatric_ed', 'psychiatric_ed', 'ecmo']);
export const SVC_STATUSES = Object.freeze(['available', 'limited', 'unavailable']);
export function svcEffective(s, nowMs) {
  const status = s && SVC_STATUSES.includes(s.status) ? s.status : 'available';
  const until = s ? timeMs(s.until) : 0;
  if (status !== 'available' && until > 0 && nowMs >= until) return 'available';
  return status;
}

// Sums over the inpatient bed types with both staffed and occupied known
// (bp_hospital_totals).
export function totals(h) {
  const out = { staffed: 0, occupied: 0, available: 0, overflow: 0, surge24: 0, types: 0 };
  const beds = (h && h.beds) || {};
  for (const t of Object.keys(beds)) {
    if (NOT_INPATIENT.has(t)) continue;
    const b = beds[t];
    if (!b || !known(b.staffed) || !known(b.occupied)) continue;
    out.staffed += b.staffed;
    out.occupied += b.occupied;
    out.available += available(b);
    out.overflow += overflow(b);
    if (known(b.surge24) && b.surge24 > 0) out.surge24 += b.surge24;
    out.types++;
  }
  return out;
}

// Occupancy in percent (may exceed 100), or null when nothing is known
// (bp_occupancy_pct).
export function occupancyPct(t) {
  if (t.types === 0) return null;
  if (t.staffed === 0) return t.occupied > 0 ? 999 : 0;
  return (100 * t.occupied) / t.staffed;
}

// The facility's status (bp_fac_status_t): normal when not reported.
export const FAC_STATUSES = Object.freeze(['normal', 'compromised', 'evacuating', 'closed']);
export function facilityStatus(h) {
  const s = h && h.facility && h.facility.status;
  return FAC_STATUSES.includes(s) ? s : 'normal';
}

// Pressure level 1..4 (bp_pressure_level).
export function pressureLevel(h, cfg, nowMs) {
  const p = cfg || DEFAULT_PRESSURE;
  const pct = occupancyPct(totals(h));
  let level = 1;
  if (pct !== null) {
    if (pct >= p.level4_pct) level = 4;
    else if (pct >= p.level3_pct) level = 3;
    else if (pct >= p.level2_pct) level = 2;
  }
  switch (edEffective(h && h.ed, nowMs)) {
    case 'closed': level = 4; break;
    case 'diversion': level = Math.max(level, 3); break;
    case 'advisory': level = Math.max(level, 2); break;
    default: break;
  }
  const icu = h && h.beds ? h.beds.icu_adult : null;
  if (icu && known(icu.staffed) && icu.staffed > 0 && available(icu) === 0 && level < 3) level = 3;
  // ambulances queue at its door (the server's offload-delayed flag)
  if (h.offload === 'delayed' && level < 3) level = 3;
  // the facility: compromised at least 3, evacuating or closed 4
  const fac = facilityStatus(h);
  if (fac === 'compromised' && level < 3) level = 3;
  if (fac === 'evacuating' || fac === 'closed') level = 4;
  return level;
}

// fresh within one reporting interval of `at`, late within two, stale
// beyond, never without a report. A source time in the future counts as now
// (bp_freshness).
export function freshness(at, intervalS, nowMs) {
  const atMs = typeof at === 'number' ? at : timeMs(at);
  if (atMs <= 0) return 'never';
  const age = Math.max(nowMs - atMs, 0);
  const iv = (known(intervalS) ? intervalS : 0) * 1000;
  if (age <= iv) return 'fresh';
  if (age <= 2 * iv) return 'late';
  return 'stale';
}

// Everything a view needs about one hospital at nowMs.
export function hospitalFigures(h, cfg, nowMs) {
  const t = totals(h);
  return {
    totals: t,
    occupancyPct: occupancyPct(t),
    level: pressureLevel(h, cfg, nowMs),
    ed: edEffective(h.ed, nowMs),
    facility: facilityStatus(h),
    freshness: freshness(h.at, h.report_interval_s, nowMs),
  };
}

// City totals per bed type over hospitals that have reported, like the
// server's /api/v1/summary "bed_types".
export function cityTotals(hospitals, bedTypes) {
  const out = {};
  // ventilated / ecmo: the intensive-care detail summed over the hospitals
  // that reported it (hospitals: how many), as staffed over those with figures
  const places = () => ({ hospitals: 0, total: 0, free: 0 });
  for (const t of bedTypes) out[t] = { hospitals: 0, staffed: 0, occupied: 0, available: 0, overflow: 0, ventilated: places(), ecmo: places() };
  for (const h of hospitals) {
    if (!timeMs(h.at)) continue;
    for (const t of bedTypes) {
      const b = h.beds && h.beds[t];
      if (!b || !known(b.staffed) || !known(b.occupied)) continue;
      const o = out[t];
      o.hospitals++;
      o.staffed += b.staffed;
      o.occupied += b.occupied;
      o.available += available(b);
      o.overflow += overflow(b);
      for (const k of ['ventilated', 'ecmo']) {
        if (!b[k]) continue;
        o[k].hospitals++;
        o[k].total += b[k].total;
        o[k].free += b[k].free;
      }
    }
  }
  return out;
}

// Status groups of the fleet, as the views colour them (the FMS digit is
// always shown too): free, on a mission, with a patient, out of service.
export const AMBULANCE_GROUPS = Object.freeze({
  available_station: 'free', available_radio: 'free', dispatched: 'mission', on_scene: 'mission',
  transporting: 'patient', at_hospital: 'patient', out_of_service: 'out',
});

// City-wide inpatient totals over hospitals that have reported (the
// server's /api/v1/summary "city").
export function cityInpatient(hospitals) {
  const out = { staffed: 0, occupied: 0, available: 0, overflow: 0, types: 0 };
  for (const h of hospitals) {
    if (!timeMs(h.at)) continue;
    const x = totals(h);
    out.staffed += x.staffed;
    out.occupied += x.occupied;
    out.available += x.available;
    out.overflow += x.overflow;
    out.types += x.types;
  }
  return out;
}

// Great-circle distance in km (haversine, mean Earth radius). Good to a few
// metres across a city; road distance is longer and is not claimed.
export function distanceKm(lat1, lon1, lat2, lon2) {
  const R = 6371.0088;
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

// True when the ED takes ambulances now (not diverting, not closed).
export function edOpen(effective) {
  return effective === 'normal' || effective === 'advisory';
}

// -- 115 incidents and the ambulances at each hospital's door ------------------

// Incident categories (docs/dispatch.md), in the order the views list them.
export const CATEGORIES = Object.freeze([
  'trauma', 'stroke', 'cardiac', 'obstetric', 'pediatric', 'burn', 'respiratory', 'psychiatric', 'other',
]);

// When the call began for the dispatcher: received by the CAD, else opened.
export function incidentStart(inc) {
  return timeMs(inc.received) || timeMs(inc.opened) || timeMs(inc.at);
}

// The queue's order: most urgent priority first, then the longest waiting,
// then id (stable).
export function compareIncidents(a, b) {
  const pa = typeof a.priority === 'number' ? a.priority : 9;
  const pb = typeof b.priority === 'number' ? b.priority : 9;
  return pa - pb || incidentStart(a) - incidentStart(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// Per hospital id, the ambulances transporting there (inbound) and waiting
// at its door (at_hospital), as the server counts them (core/bp_handover.c).
export function doorCounts(ambulances) {
  const out = new Map();
  for (const a of ambulances) {
    const k = a.status === 'transporting' ? 'inbound' : a.status === 'at_hospital' ? 'waiting' : null;
    if (!k || !a.destination) continue;
    let c = out.get(a.destination);
    if (!c) out.set(a.destination, (c = { inbound: 0, waiting: 0 }));
    c[k]++;
  }
  return out;
}
