// The REST calls the views make besides the live feed (docs/protocol.md §3):
// the view configuration (map tiles, history interval), the history series
// behind the trend lines, and the session and write calls of the sign-in
// and manager pages. No DOM here.
//
// getJSON-based reads resolve (never reject) with { ok: true, data } or
// { ok: false, error } where error is the server's code ("unknown_series",
// "bad_request", ...), "network" or "timeout": the views turn it into words.
// request() gives the whole answer for the pages that act on each status.

const TIMEOUT_MS = 10000;

export const DEFAULT_CONFIG = Object.freeze({
  tile_url: '', tile_attribution: '', tick_interval_s: 10, history_interval_s: 300, history_retention_h: 48,
});

// One request. opts: json (sent as application/json), text + type (any
// body), headers, cache (the fetch cache mode: no-store unless the answer
// may be kept and revalidated). Resolves (never rejects) with { status, ok, data, error,
// message, retryAfterS, etag }: status 0 and error "network" or "timeout"
// when no answer came; data is the parsed JSON body or null; error and
// message are the server's (error "http_<status>" without a body).
export async function request(method, path, { json, text, type, headers = {}, cache = 'no-store' } = {}) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  const h = Object.assign({ accept: 'application/json' }, headers);
  let body;
  if (json !== undefined) {
    body = JSON.stringify(json);
    h['content-type'] = 'application/json';
  } else if (text !== undefined) {
    body = text;
    h['content-type'] = type;
  }
  try {
    const res = await fetch(path, { method, body, headers: h, signal: ctl.signal, cache, credentials: 'same-origin' });
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    const retry = Number.parseInt(res.headers.get('retry-after') || '', 10);
    const err = data && typeof data.error === 'string' ? data.error : null;
    return {
      status: res.status,
      ok: res.ok,
      data,
      error: res.ok ? null : err || `http_${res.status}`,
      message: data && typeof data.message === 'string' ? data.message : '',
      retryAfterS: Number.isFinite(retry) && retry >= 0 ? retry : null,
      etag: res.headers.get('etag'),
    };
  } catch (e) {
    return { status: 0, ok: false, data: null, error: ctl.signal.aborted ? 'timeout' : 'network', message: '', retryAfterS: null, etag: null };
  } finally {
    clearTimeout(timer);
  }
}

// GET /api/v1/public (open to anyone): the server lets it be kept 5 s
// with an ETag, so it is revalidated rather than fetched whole each time.
export function getPublic() {
  return request('GET', '/api/v1/public', { cache: 'no-cache' });
}

async function getJSON(path) {
  const r = await request('GET', path);
  if (!r.ok) return { ok: false, error: r.error };
  if (!r.data || typeof r.data !== 'object') return { ok: false, error: 'bad_json' };
  return { ok: true, data: r.data };
}

// GET /api/v1/config, with the defaults for anything missing.
export async function fetchConfig() {
  const r = await getJSON('/api/v1/config');
  if (!r.ok) return r;
  return { ok: true, data: Object.assign({}, DEFAULT_CONFIG, r.data) };
}

// GET /api/v1/history?series=<city|hospital id>&hours=<n>. On success data
// is { series, interval_s, from, to, points: [{t, ...}] } with the points
// oldest first and each point's time parsed into `ms`.
export async function fetchHistory(series, hours) {
  const q = new URLSearchParams({ series, hours: String(hours) });
  const r = await getJSON(`/api/v1/history?${q}`);
  if (!r.ok) return r;
  const d = r.data;
  const points = [];
  for (const p of Array.isArray(d.points) ? d.points : []) {
    const ms = typeof p.t === 'string' ? Date.parse(p.t) : NaN;
    if (Number.isFinite(ms)) points.push(Object.assign({ ms }, p));
  }
  const fromMs = Date.parse(d.from);
  const toMs = Date.parse(d.to);
  return {
    ok: true,
    data: {
      series: d.series,
      intervalS: Number.isFinite(d.interval_s) && d.interval_s > 0 ? d.interval_s : null,
      fromMs: Number.isFinite(fromMs) ? fromMs : null,
      toMs: Number.isFinite(toMs) ? toMs : null,
      points,
    },
  };
}

// GET /api/v1/outlook[?hospital=]: the 24-hour outlook of the city (no
// hospital) or of one hospital; data: {series, asOfMs, beds: {type:
// {status, staffed, full_within_h, hours_known, hours_needed, points:
// [{ms, v, lo, hi}], recent: [{ms, v}]}}} (points as TrendChart.setForecast
// takes them; recent, the hourly values of the last 24 hours the forecast
// starts from, as TrendChart.setData takes them).
export async function fetchOutlook(hospital) {
  const q = hospital ? `?${new URLSearchParams({ hospital })}` : '';
  const r = await getJSON(`/api/v1/outlook${q}`);
  if (!r.ok) return r;
  const beds = {};
  for (const [type, b] of Object.entries(r.data.beds || {})) {
    const points = [];
    for (const p of Array.isArray(b.points) ? b.points : []) {
      const ms = Date.parse(p.t);
      if (Number.isFinite(ms)) points.push({ ms, v: p.mean, lo: p.lower, hi: p.upper });
    }
    const recent = [];
    for (const p of Array.isArray(b.recent) ? b.recent : []) {
      const ms = Date.parse(p.t);
      if (Number.isFinite(ms) && typeof p.occupied === 'number') recent.push({ ms, v: p.occupied });
    }
    beds[type] = Object.assign({}, b, { points, recent });
  }
  const asOf = Date.parse(r.data.as_of);
  return { ok: true, data: { series: r.data.series, asOfMs: Number.isFinite(asOf) ? asOf : null, beds } };
}

// -- 115 dispatch (docs/dispatch.md): dispatchers and admins -------------------

// GET /api/v1/recommend: hospitals ranked for a patient at a point; data is
// the server's answer ({query, candidates: [{hospital, rank, eta_min, free,
// inbound, reason: {vi, en}, ...}]}).
export function fetchRecommend({ lat, lon, category, priority, limit = 5 }) {
  const q = new URLSearchParams({ lat: String(lat), lon: String(lon), limit: String(limit) });
  if (category) q.set('category', category);
  if (priority) q.set('priority', String(priority));
  return getJSON(`/api/v1/recommend?${q}`);
}

// GET /api/v1/handover: per hospital inbound, waiting, longest_wait_min,
// handovers, median_min (null when none), offload ("normal" | "delayed").
export const fetchHandover = () => getJSON('/api/v1/handover');

// POST /api/v1/alerts/{id}/ack (dispatcher/admin): data {id, ack: {by, name,
// at}}; 401 without credentials, 403 for other roles, 404 unknown_alert
// when it has cleared. The live feed then pushes the list to every page.
export const ackAlert = (id) => request('POST', `/api/v1/alerts/${encodeURIComponent(id)}/ack`);

// POST /api/v1/alerts/mutes (dispatcher/admin): silence one rule's alarm on
// every console for `minutes` (1-720), recorded and audited; DELETE ends it.
export const muteRule = (rule, minutes) => request('POST', '/api/v1/alerts/mutes', { json: { rule, minutes } });
export const unmuteRule = (rule) => request('DELETE', `/api/v1/alerts/mutes/${encodeURIComponent(rule)}`);

// -- sessions and writes (docs/security.md) -------------------------------------

export const whoAmI = () => request('GET', '/api/v1/session');
export const signIn = (token) => request('POST', '/api/v1/session', { json: { token } });
export const signOut = () => request('DELETE', '/api/v1/session');

const hospitalPath = (id) => `/api/v1/hospitals/${encodeURIComponent(id)}`;
const ifMatch = (version) => ({ 'if-match': `"${version}"` });

// All hospitals, or ({ mine: true }) only those this token may change.
export const getHospitals = ({ mine = false } = {}) => request('GET', `/api/v1/hospitals${mine ? '?scope=mine' : ''}`);
export const getHospital = (id) => request('GET', hospitalPath(id));

// PATCH with the version the person saw: 409 carries `current`.
export const patchHospital = (id, version, change) => request('PATCH', hospitalPath(id), { json: change, headers: ifMatch(version) });
// The manager confirms figures a plausibility check flagged (docs/api.md).
export const confirmHospital = (id, version) => request('POST', `${hospitalPath(id)}/confirm`, { headers: ifMatch(version) });

// CSV import: the preview (dry run, no version needed) or the change.
export function importCsv(id, csv, { version } = {}) {
  const dry = version === undefined;
  return request('POST', `${hospitalPath(id)}/import${dry ? '?dry_run=1' : ''}`,
    { text: csv, type: 'text/csv', headers: dry ? {} : ifMatch(version) });
}

// -- mass-casualty incidents (docs/dispatch.md "Mass-casualty mode") ------------
// No live-feed push: the pages poll while one is open (web/mci.js).

const mciPath = (id, rest = '') => `/api/v1/mci/${encodeURIComponent(id)}${rest}`;

// {mcis: [...]}: the open ones, totals without hospitals (anyone who reads hospitals).
export const listMcis = () => request('GET', '/api/v1/mci');
// One MCI with its hospitals in range (nearest first), totals and patients.
export const getMci = (id) => request('GET', mciPath(id));
// Dispatchers: {lat, lon, radius_km, address, expected: {immediate, delayed, minor}} -> 201 the view.
export const declareMci = (body) => request('POST', '/api/v1/mci', { json: body });
// Its manager, or a dispatcher recording a phone answer: {immediate, delayed, minor}.
export const answerMci = (id, hospital, can) => request('PUT', mciPath(id, `/answers/${encodeURIComponent(hospital)}`), { json: can });
// Dispatchers: {triage, destination, unit?} -> 201.
export const sendMciPatient = (id, patient) => request('POST', mciPath(id, '/patients'), { json: patient });
export const closeMci = (id) => request('POST', mciPath(id, '/close'));
