// The REST calls the views make besides the live feed (docs/protocol.md §3):
// the view configuration (map tiles, history interval) and the history
// series behind the trend lines. No DOM here.
//
// Each call resolves (never rejects) with { ok: true, data } or
// { ok: false, error } where error is the server's code ("unknown_series",
// "bad_request", ...), "network" or "timeout": the views turn it into words.

const TIMEOUT_MS = 10000;

export const DEFAULT_CONFIG = Object.freeze({
  tile_url: '', tile_attribution: '', tick_interval_s: 10, history_interval_s: 300, history_retention_h: 48,
});

async function getJSON(path) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  try {
    const res = await fetch(path, { signal: ctl.signal, cache: 'no-store', headers: { accept: 'application/json' } });
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (!res.ok) return { ok: false, error: (body && typeof body.error === 'string' && body.error) || `http_${res.status}` };
    if (!body || typeof body !== 'object') return { ok: false, error: 'bad_json' };
    return { ok: true, data: body };
  } catch (e) {
    return { ok: false, error: ctl.signal.aborted ? 'timeout' : 'network' };
  } finally {
    clearTimeout(timer);
  }
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
