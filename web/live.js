// The live feed client: one WebSocket to /ws (subprotocol bedpulse.v1, see
// docs/protocol.md §2) and the state store it keeps. No DOM here, so every
// later view (map, wall display) can share it.
//
// What it guarantees to its listeners:
// - the store (hospitals, ambulances, incidents, meta) always equals the server's state
//   at `offset` of `epoch`: events are applied only when offset == last + 1;
//   older ones are ignored; a gap closes the socket and resumes from the
//   last applied offset;
// - a lost or silent connection (nothing heard for 3 tick intervals) is
//   reconnected with full-jitter exponential backoff, sending `resume` so the
//   server replays what was missed instead of a whole snapshot;
// - `serverNow()` corrects the local clock by the server's `now`;
// - the snapshot comes gzipped (one binary message, ~10 % of its size:
//   hello "compress") where the browser can inflate it
//   (DecompressionStream); messages are applied in the order they came,
//   those behind a snapshot being inflated wait for it.
//
// Events (EventTarget):
//   'snapshot'    the store was replaced (detail: {reason})
//   'changes'     events were applied (detail: {hospitals, ambulances, incidents: Sets of ids})
//
// Incidents (the open 115 calls) come only to dispatchers and admins:
// `hasIncidents` says whether this audience gets them (the snapshot has an
// `incidents` key); a closed incident leaves the map.
//   'connection'  status, attempt or lostSince changed (detail: connection())
//   'alerts'      the active alerts were replaced (detail: {alerts})
// An {"type":"offload"} list marks hospitals whose ambulances wait too long
// at the door (h.offload = 'delayed'), shown as a 'changes' event.
// A {"type":"status","state":"stale"} says the server itself no longer
// follows its data source (Redis): the connection is live but the figures
// are frozen since `since`; connection().sourceStaleSinceMs says so until
// {"state":"live"} (or a new connection, whose server says again).
//
// Alerts (docs/dispatch.md) come to dispatchers, admins and wall displays:
// the whole list, after the snapshot and whenever it or an acknowledgement
// changes. `alerts` is that list as the server sent it (oldest first);
// `hasAlerts` says whether this audience gets them (one came).

const SUBPROTOCOL = 'bedpulse.v1';

// The text of a gzipped binary message, or null when this runtime cannot
// inflate (then the server is not asked for gzip).
const gunzip = typeof DecompressionStream === 'function' && typeof Response === 'function'
  ? (data) => new Response(new Blob([data]).stream().pipeThrough(new DecompressionStream('gzip'))).text()
  : null;

export const DEFAULTS = Object.freeze({
  tickIntervalMs: 10000, // server.tick_interval_s
  deadTicks: 3, // silent for this many tick intervals: the connection is dead
  offlineAfterMs: 30000, // reconnecting this long reads as "offline"
  backoffBaseMs: 500,
  backoffCapMs: 15000,
  openTimeoutMs: 10000, // a socket that neither opens nor fails
  watchIntervalMs: 1000,
});

export class LiveFeed extends EventTarget {
  constructor(opts = {}) {
    super();
    const o = Object.assign({}, DEFAULTS, opts);
    this.url = o.url;
    this.tickIntervalMs = o.tickIntervalMs;
    this.deadTicks = o.deadTicks;
    this.deadAfterMs = o.deadTicks * o.tickIntervalMs;
    this.offlineAfterMs = o.offlineAfterMs;
    this.backoffBaseMs = o.backoffBaseMs;
    this.backoffCapMs = o.backoffCapMs;
    this.openTimeoutMs = o.openTimeoutMs;
    this.watchIntervalMs = o.watchIntervalMs;
    this.WebSocketImpl = o.WebSocket || globalThis.WebSocket;
    this.clock = o.now || (() => Date.now());
    this.random = o.random || Math.random;
    this.gunzip = o.gunzip === undefined ? gunzip : o.gunzip; // null: snapshots as text
    this.inbox = null; // the messages still being inflated or waiting behind one

    // store
    this.epoch = null;
    this.offset = 0;
    this.meta = null;
    this.hospitals = new Map();
    this.ambulances = new Map();
    this.incidents = new Map();
    this.hasIncidents = false;
    this.alerts = [];
    this.alertMutes = [];
    this.alertsRaised = 0;
    this.hasAlerts = false;
    this.hasState = false;
    this.skewMs = 0;
    this.sourceStaleSinceMs = null; // client ms: the server lost its data source then

    // connection
    this.status = 'connecting'; // connecting | live | reconnecting | offline
    this.attempt = 0; // failed attempts since the last live connection
    this.startedMs = this.clock();
    this.lostSinceMs = null; // client ms when the last live connection was lost
    this.lastHeardMs = null; // client ms of the last message
    this.lastClose = null;
    this.ws = null;
    this.opening = false;
    this.openedMs = 0;
    this.synced = false;
    this.sendResume = true;
    this.sendCompress = true;
    this.retryTimer = null;
    this.watchTimer = null;
    this.stopped = true;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.watchTimer = setInterval(() => this.watch(), this.watchIntervalMs);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearInterval(this.watchTimer);
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.drop(1000);
  }

  // Time on the server's clock, in ms.
  serverNow() {
    return this.clock() + this.skewMs;
  }

  // The connection as a view shows it.
  connection() {
    return {
      status: this.status,
      attempt: this.attempt,
      lostSinceMs: this.lostSinceMs === null ? null : this.lostSinceMs + this.skewMs,
      lastHeardMs: this.lastHeardMs === null ? null : this.lastHeardMs + this.skewMs,
      stale: this.isStale(),
      // the server is connected but no longer follows Redis (server ms)
      sourceStaleSinceMs: this.sourceStaleSinceMs === null ? null : this.sourceStaleSinceMs + this.skewMs,
      // why the server last closed us: 4401 sign in, 4403 role may not (docs/protocol.md)
      closeCode: this.lastClose ? this.lastClose.code : null,
    };
  }

  // True when what we show may be out of date: nothing heard from the server
  // for longer than a live connection allows.
  isStale() {
    const since = this.lastHeardMs === null ? this.startedMs : this.lastHeardMs;
    return this.clock() - since > Math.max(this.offlineAfterMs, this.deadAfterMs);
  }

  // Try now instead of waiting for the backoff (e.g. the browser is online again).
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  // -- connection ---------------------------------------------------------------

  connect() {
    this.retryTimer = null;
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url, SUBPROTOCOL);
    } catch (e) {
      this.lost(null);
      return;
    }
    this.ws = ws;
    this.opening = true;
    this.synced = false;
    this.openedMs = this.clock();
    this.inbox = null;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.opening = false;
      const hello = { type: 'hello' };
      if (this.hasState && this.sendResume && this.epoch) hello.resume = { epoch: this.epoch, offset: this.offset };
      if (this.gunzip && this.sendCompress) hello.compress = 'gzip';
      this.sendResume = true;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      if (typeof ev.data === 'string' && !this.inbox) this.onMessage(ev.data);
      else this.queue(ws, ev.data);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.lost({ code: ev.code, reason: ev.reason });
    };
    ws.onerror = () => {}; // a close event follows
  }

  // Closes the current socket without waiting for its close event.
  drop(code) {
    const ws = this.ws;
    this.ws = null;
    this.synced = false;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code);
    } catch (e) {
      /* already closing */
    }
  }

  // The connection is gone (or never came): schedule the next attempt.
  lost(close) {
    this.lastClose = close;
    if (close && close.code === 4002) {
      // our hello was refused: the next one plain (a server that does not
      // know "compress" yet, during an upgrade)
      this.sendResume = false;
      this.sendCompress = false;
    }
    const now = this.clock();
    if (this.status === 'live') {
      // a silent connection was lost when we last heard from it
      this.lostSinceMs = close && close.dead && this.lastHeardMs ? this.lastHeardMs : now;
    } else if (this.lostSinceMs === null) {
      this.lostSinceMs = this.startedMs; // never was live
    }
    this.synced = false;
    if (this.stopped) return;
    this.attempt++;
    this.setStatus(now - this.lostSinceMs >= this.offlineAfterMs ? 'offline' : 'reconnecting');
    clearTimeout(this.retryTimer);
    // 1013 server full, 4029 too many from this address: a crowd is
    // reconnecting; wait at least a few seconds so we do not add to it.
    const crowded = close && (close.code === 1013 || close.code === 4029);
    const wait = this.backoff(this.attempt) + (crowded ? this.crowdedDelayMs(this.random()) : 0);
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  crowdedDelayMs(r) {
    return 3000 + Math.floor(r * 7000);
  }

  // Full jitter: uniform in [0, min(cap, base * 2^(n-1))).
  backoff(n) {
    const ceil = Math.min(this.backoffCapMs, this.backoffBaseMs * 2 ** Math.max(n - 1, 0));
    return Math.floor(this.random() * ceil);
  }

  // Drops the socket and reconnects (resuming from the last applied offset).
  restart(why) {
    this.drop(4000);
    this.lost({ code: 0, reason: why, dead: why === 'silent' });
  }

  watch() {
    const now = this.clock();
    if (this.ws) {
      if (this.opening && now - this.openedMs > this.openTimeoutMs) return this.restart('open_timeout');
      const heard = Math.max(this.lastHeardMs || 0, this.openedMs);
      if (!this.opening && now - heard > this.deadAfterMs) return this.restart('silent');
    }
    if (this.status === 'reconnecting' && now - this.lostSinceMs >= this.offlineAfterMs) {
      this.setStatus('offline');
    }
    return undefined;
  }

  setStatus(status) {
    this.status = status;
    this.emit('connection', this.connection());
  }

  setLive() {
    this.synced = true;
    this.attempt = 0;
    this.lostSinceMs = null;
    this.setStatus('live');
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // -- messages -------------------------------------------------------------------

  // A binary message (a gzipped snapshot), or any message while one is
  // being inflated: applied in order, once inflated.
  queue(ws, data) {
    const step = (this.inbox || Promise.resolve()).then(async () => {
      if (ws !== this.ws) return;
      const text = typeof data === 'string' ? data : this.gunzip ? await this.gunzip(data) : null;
      if (ws !== this.ws) return;
      if (text === null) this.restart('binary');
      else this.onMessage(text);
    }).catch(() => {
      if (ws !== this.ws) return;
      this.sendCompress = false; // this browser cannot inflate it after all: text next time
      this.restart('bad_gzip');
    }).finally(() => {
      if (this.inbox === step) this.inbox = null;
    });
    this.inbox = step;
  }

  onMessage(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch (e) {
      this.restart('bad_json');
      return;
    }
    this.lastHeardMs = this.clock();
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'welcome':
        // a new connection: its server says again if it is stale
        this.sourceStaleSinceMs = null;
        // the server says how often it ticks; silence for deadTicks of them is death
        if (Number.isFinite(m.tick_interval_s) && m.tick_interval_s > 0) {
          this.tickIntervalMs = m.tick_interval_s * 1000;
          this.deadAfterMs = this.deadTicks * this.tickIntervalMs;
        }
        if (m.mode === 'resume') {
          if (!this.hasState || m.epoch !== this.epoch || m.offset !== this.offset) {
            // not what we asked for: start over with a snapshot
            this.sendResume = false;
            this.restart('bad_resume');
            return;
          }
          this.setLive();
        }
        // mode "snapshot": the snapshot follows; we go live when it is applied
        break;
      case 'snapshot':
        this.applySnapshot(m);
        this.setLive();
        break;
      case 'events':
        if (this.synced) this.applyEvents(m);
        break;
      case 'tick':
        this.setSkew(m.now);
        if (!this.synced) break;
        if (m.epoch !== this.epoch) this.restart('epoch');
        else if (typeof m.offset === 'number' && m.offset > this.offset) this.restart('gap');
        else this.emit('connection', this.connection());
        break;
      case 'alerts':
        this.applyAlerts(m);
        break;
      case 'offload':
        if (this.synced) this.applyOffload(m);
        break;
      case 'status':
        this.applyStatus(m);
        break;
      default:
        break; // unknown messages are for newer clients
    }
  }

  setSkew(now) {
    const t = typeof now === 'string' ? Date.parse(now) : NaN;
    if (Number.isFinite(t)) this.skewMs = t - this.clock();
  }

  applySnapshot(m) {
    this.epoch = m.epoch;
    this.offset = m.offset;
    this.meta = m.meta || null;
    this.hospitals = new Map((m.hospitals || []).map((h) => [h.id, h]));
    this.ambulances = new Map((m.ambulances || []).map((a) => [a.id, a]));
    this.hasIncidents = Array.isArray(m.incidents);
    this.incidents = new Map((m.incidents || []).map((i) => [i.id, i]));
    this.hasState = true;
    this.setSkew(m.now);
    this.emit('snapshot', { reason: m.reason });
  }

  // Not an event: no offset, the next list replaces it.
  applyAlerts(m) {
    if (!Array.isArray(m.alerts)) return;
    this.alerts = m.alerts.filter((a) => a && typeof a.id === 'string');
    // rules whose alarm a dispatcher muted for a while (shown to everyone)
    this.alertMutes = Array.isArray(m.mutes) ? m.mutes.filter((x) => x && typeof x.rule === 'string') : [];
    this.alertsRaised = Number.isFinite(m.raised_total) ? m.raised_total : this.alertsRaised;
    this.hasAlerts = true;
    this.emit('alerts', { alerts: this.alerts });
  }

  // Whether the server still follows its data source; not an event.
  applyStatus(m) {
    if (m.state === 'stale') {
      const since = typeof m.since === 'string' ? Date.parse(m.since) : NaN;
      this.sourceStaleSinceMs = Number.isFinite(since) ? since - this.skewMs : this.clock();
    } else if (m.state === 'live') {
      this.sourceStaleSinceMs = null;
    } else {
      return; // a state for newer clients
    }
    this.emit('connection', this.connection());
  }

  // Which hospitals' ambulances wait too long to hand over (it raises their
  // pressure level); not an event: the next list replaces it.
  applyOffload(m) {
    if (!Array.isArray(m.delayed)) return;
    const delayed = new Set(m.delayed);
    const changed = { hospitals: new Set(), ambulances: new Set(), incidents: new Set() };
    for (const [id, h] of this.hospitals) {
      const v = delayed.has(id) ? 'delayed' : 'normal';
      if (h.offload === v) continue;
      h.offload = v;
      changed.hospitals.add(id);
    }
    if (changed.hospitals.size) this.emit('changes', changed);
  }

  applyEvents(m) {
    if (m.epoch !== this.epoch) {
      this.restart('epoch');
      return;
    }
    const changed = { hospitals: new Set(), ambulances: new Set(), incidents: new Set() };
    let gap = false;
    for (const e of m.events || []) {
      if (e.offset <= this.offset) continue;
      if (e.offset !== this.offset + 1) {
        gap = true;
        break;
      }
      this.applyEvent(e, changed);
      this.offset = e.offset;
    }
    if (changed.hospitals.size || changed.ambulances.size || changed.incidents.size) this.emit('changes', changed);
    if (gap) this.restart('gap');
  }

  applyEvent(e, changed) {
    const d = e.data || {};
    if (e.kind === 'hospital') {
      let h = this.hospitals.get(e.id);
      if (!h) {
        h = { id: e.id, name: null, beds: {}, ed: { status: 'normal' }, report_interval_s: null };
        this.hospitals.set(e.id, h);
      }
      if (d.beds) {
        h.beds = Object.assign({}, h.beds);
        for (const t of Object.keys(d.beds)) h.beds[t] = d.beds[t];
      }
      if (d.ed) h.ed = d.ed;
      if (d.services) h.services = Object.assign({}, h.services, d.services);
      if (d.facility) h.facility = d.facility;
      if ('check' in d) h.check = d.check; // a plausibility check, or null: cleared
      for (const k of ['version', 'at', 'updated', 'source']) if (k in d) h[k] = d[k];
      changed.hospitals.add(e.id);
    } else if (e.kind === 'ambulance') {
      let a = this.ambulances.get(e.id);
      if (!a) {
        a = { id: e.id, station: null };
        this.ambulances.set(e.id, a);
      }
      Object.assign(a, d);
      changed.ambulances.add(e.id);
    } else if (e.kind === 'incident') {
      this.applyIncident(e.id, d);
      changed.incidents.add(e.id);
    }
  }

  // create: all its fields (opened = the create's at); update: the fields
  // present (null clears); close: gone.
  applyIncident(id, d) {
    const { action, ...fields } = d;
    if (action === 'close') {
      this.incidents.delete(id);
      return;
    }
    const cur = action === 'create' ? null : this.incidents.get(id);
    const inc = cur ? Object.assign({}, cur, fields) : Object.assign({ id, opened: fields.at }, fields);
    this.incidents.set(id, inc);
  }
}
