'use strict';
// Many dashboards in a worker thread of their own (for tests/faults/
// nemesis.js): parsing what 200 of them receive would otherwise starve the
// thread that runs the feeds, the proxy and the clock. The worker reports a
// summary every 100 ms (fleet.s) and compares every dashboard with a state
// on request.

const { Worker, isMainThread, parentPort } = require('node:worker_threads');
const { Dashboard, compareDashboard } = require('./faults');

// Dashboards on one server receive the same events frames: each distinct
// frame is parsed once and its events shared (LiveClient only reads them).
// Snapshots are parsed by each (LiveClient keeps and changes their objects).
function sharedParser() {
  const cache = new Map();
  return (text) => {
    if (!text.startsWith('{"type":"events"')) return JSON.parse(text);
    let m = cache.get(text);
    if (!m) {
      m = JSON.parse(text);
      cache.set(text, m);
      if (cache.size > 512) cache.delete(cache.keys().next().value);
    }
    return m;
  };
}

function runWorker() {
  let ports = [];
  const boards = [];
  const parse = sharedParser();
  const summary = () => {
    const perPort = {};
    const welcomes = {};
    let minOffset = Infinity;
    for (const b of boards) {
      if (b.connected) {
        const port = /:(\d+)\/ws$/.exec(b.url)[1];
        perPort[port] = (perPort[port] || 0) + 1;
      }
      minOffset = Math.min(minOffset, b.offset);
      for (const w of b.welcomes.slice(1)) {
        const k = w.mode === 'resume' ? `resume_${w.via}` : `snapshot_${w.reason}`;
        welcomes[k] = (welcomes[k] || 0) + 1;
      }
    }
    return {
      n: boards.length, connected: boards.filter((b) => b.connected).length, snapshots: boards.filter((b) => b.snapshot).length,
      stale: boards.filter((b) => b.status && b.status.state === 'stale').length, minOffset, perPort, welcomes,
      gaps: boards.reduce((x, b) => x + b.gaps, 0), duplicates: boards.reduce((x, b) => x + b.duplicates, 0),
      reconnects: boards.reduce((x, b) => x + b.reconnects, 0),
      closes: boards.flatMap((b) => b.closes).reduce((m, c) => Object.assign(m, { [c]: (m[c] || 0) + 1 }), {}),
      // those not connected now, and why (their attempts since the close)
      away: boards.filter((b) => !b.connected).slice(0, 5).map((b) => ({ i: b.index, url: b.url, attempts: b.attempts, error: b.lastError })),
      at: Date.now(),
    };
  };
  parentPort.on('message', async (m) => {
    if (m.cmd === 'start') {
      ports = m.ports;
      for (let i = 0; i < m.n; i++) {
        const b = new Dashboard(() => ports, { index: i, jitterMs: 1000, keep: false });
        b.parse = parse;
        boards.push(b);
      }
      setInterval(() => parentPort.postMessage({ summary: summary() }), 100);
      for (let i = 0; i < boards.length; i += 50) await Promise.all(boards.slice(i, i + 50).map((b) => b.start()));
    } else if (m.cmd === 'ports') {
      ports = m.ports;
    } else if (m.cmd === 'compare') {
      const stored = new Map(m.stored);
      let bad = 0;
      const diffs = [];
      for (const b of boards) {
        const d = compareDashboard(b, stored);
        if (d.length) {
          bad++;
          if (diffs.length < 5) diffs.push(...d.slice(0, 3));
        }
      }
      parentPort.postMessage({ compared: { bad, diffs } });
    } else if (m.cmd === 'close') {
      for (const b of boards) b.close();
      process.exit(0);
    }
  });
}

// The worker, seen from the test: start(n dashboards over these ports),
// `s` the latest summary, ports(list) for reconnects from now on,
// compare(Map id -> stored hospital) -> { bad, diffs }, close().
class Fleet {
  constructor(n, ports) {
    this.worker = new Worker(__filename);
    this.s = null;
    this.worker.on('message', (m) => {
      if (m.summary) this.s = m.summary;
      if (m.compared && this.onCompared) this.onCompared(m.compared);
    });
    this.worker.on('error', (e) => {
      this.error = e;
    });
    this.worker.postMessage({ cmd: 'start', n, ports });
  }

  ports(list) {
    this.worker.postMessage({ cmd: 'ports', ports: list });
  }

  compare(stored) {
    return new Promise((resolve) => {
      this.onCompared = resolve;
      this.worker.postMessage({ cmd: 'compare', stored: [...stored] });
    });
  }

  close() {
    return new Promise((resolve) => {
      this.worker.once('exit', resolve);
      this.worker.postMessage({ cmd: 'close' });
    });
  }
}

if (!isMainThread && parentPort) runWorker();

module.exports = { Fleet };
