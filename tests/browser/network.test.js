'use strict';
// The pages on a ward phone over a weak mobile link (issue 16): Chromium at
// 390×844 with the network throttled through the DevTools protocol
// (Network.emulateNetworkConditions: 400 kbit/s ≈ 51,200 bytes/s each way,
// 400 ms latency) against the real stack with the demo morning loaded and
// a day of trend history. For /manage (signing in with a manager's link),
// / (a dispatcher's link), /wall (a wall display's link) and /signin, a
// first visit with an empty cache and a repeat visit in the same browser:
// time until the page is live, bytes received (HTTP: what the network
// delivered, headers included; WebSocket: the upgrade answer and every
// frame) and requests that went to the network (cache hits excluded).
//
// The byte budgets and request counts are asserted; times are printed only
// (the machine is shared: a timing assertion would fail a healthy build).
// The figures also go to $BP_BUILD_DIR/network.md (docs/benchmarks.md has
// the latest).

const { describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { waitFor } = require('../lib/stack.js');
const { Session, BUILD } = Object.assign({}, require('./pages.js'), require('../lib/stack.js'));

const PHONE = { width: 390, height: 844 };
// What a visit may take from the network: the issue's budgets for /manage
// (≤ 120 KiB first, ≤ 15 KiB repeat, HTTP and WebSocket together), and for
// every page the requests it makes (first: with the sign-in link that
// leads to it). Repeat visits revalidate the page and Leaflet (304) and
// download nothing static again.
const BUDGET = {
  manage: { first: { kib: 120, requests: 18 }, repeat: { kib: 15, requests: 6 } },
  dispatcher: { first: { kib: 200, requests: 24 }, repeat: { kib: 40, requests: 9 } },
  wall: { first: { kib: 120, requests: 18 }, repeat: { kib: 30, requests: 5 } },
  signin: { first: { kib: 40, requests: 9 }, repeat: { kib: 3, requests: 2 } },
};
// 400 kbit/s each way, 400 ms round trips
const SLOW = { offline: false, latency: 400, downloadThroughput: 51200, uploadThroughput: 51200 };
const KiB = 1024;

// Everything one page (one tab, across its navigations) took from the network.
class NetLog {
  constructor(cdp) {
    this.http = new Map(); // requestId -> {url, method, status, cached, bytes, encoding}
    this.ws = new Map(); // requestId -> {url, bytes, frames}
    this.sent = 0;
    cdp.on('Network.requestWillBeSent', (e) => {
      if (!/^https?:/.test(e.request.url)) return;
      const prev = this.http.get(e.requestId);
      // a redirect reuses the id: keep what the first hop cost
      this.http.set(e.requestId, Object.assign({ bytes: 0 }, prev || {}, { url: e.request.url, method: e.request.method, cached: false }));
    });
    cdp.on('Network.requestServedFromCache', (e) => {
      const r = this.http.get(e.requestId);
      if (r) r.cached = true;
    });
    cdp.on('Network.responseReceived', (e) => {
      const r = this.http.get(e.requestId);
      if (!r) return;
      const res = e.response;
      r.status = res.status;
      if (res.fromDiskCache || res.fromMemoryCache || res.fromPrefetchCache || res.fromServiceWorker) r.cached = true;
      const h = Object.fromEntries(Object.entries(res.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
      r.encoding = h['content-encoding'] || '';
      r.cacheControl = h['cache-control'] || '';
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = this.http.get(e.requestId);
      if (r) {
        r.bytes = e.encodedDataLength;
        r.done = true;
      }
    });
    cdp.on('Network.loadingFailed', (e) => {
      const r = this.http.get(e.requestId);
      if (r) {
        r.failed = e.errorText;
        r.done = true;
      }
    });
    cdp.on('Network.webSocketCreated', (e) => this.ws.set(e.requestId, { url: e.url, bytes: 0, frames: 0 }));
    cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
      const w = this.ws.get(e.requestId);
      if (!w) return;
      const res = e.response;
      w.bytes += (res.headersText && res.headersText.length) ||
        Object.entries(res.headers || {}).reduce((n, [k, v]) => n + k.length + String(v).length + 4, 40);
    });
    cdp.on('Network.webSocketFrameReceived', (e) => {
      const w = this.ws.get(e.requestId);
      if (!w) return;
      const n = Buffer.byteLength(e.response.payloadData, e.response.opcode === 1 ? 'utf8' : 'base64');
      w.bytes += n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
      w.frames++;
    });
  }

  // Whether every request made so far has finished (its bytes are known).
  settled() {
    return [...this.http.values()].every((r) => r.done || r.cached);
  }

  // The figures so far: requests that reached the network, and bytes.
  figures() {
    const net = [...this.http.values()].filter((r) => !r.cached && !r.failed && r.status);
    const httpBytes = net.reduce((n, r) => n + r.bytes, 0);
    const wsBytes = [...this.ws.values()].reduce((n, w) => n + w.bytes, 0);
    return {
      requests: net.length + this.ws.size,
      httpBytes,
      wsBytes,
      bytes: httpBytes + wsBytes,
      list: net.map((r) => ({ url: new URL(r.url).pathname + new URL(r.url).search, status: r.status, bytes: r.bytes, encoding: r.encoding, cacheControl: r.cacheControl })),
      ws: [...this.ws.values()],
    };
  }
}

describe('pages on a slow mobile link', { timeout: 600000 }, () => {
  const s = new Session({ history: true, env: { BP_AUTH_ANONYMOUS: 'none' } });
  let stack;
  let offset;
  const tokens = {};
  const results = [];

  before(async () => {
    stack = s.stack;
    await waitFor(async () => (await stack.get('/readyz')).status === 200, { what: 'ready' });
    tokens.manager = stack.createToken('manager', { hospitals: 'bach-mai,viet-duc', name: 'Chị Lan' });
    tokens.dispatcher = stack.createToken('dispatcher', { name: 'Điều phối' });
    tokens.wall = stack.createToken('wall', { name: 'Màn hình' });
    for (const t of Object.values(tokens)) await stack.waitForToken(t.token);
    // the demo morning reads as a dispatcher would (anonymous access is off)
    const hospitals = (await stack.call('GET', '/api/v1/hospitals', { token: tokens.dispatcher.token })).json;
    const fleet = (await stack.call('GET', '/api/v1/ambulances', { token: tokens.dispatcher.token })).json;
    const { demoLines } = require('./demo_data.js');
    offset = await s.sendAll(demoLines(hospitals, fleet, () => s.seq++));
    await waitFor(async () => (await stack.call('GET', '/api/v1/history?series=city&hours=24', { token: tokens.dispatcher.token })).json.points.length > 0,
      { what: 'the server to load the history' });
  });

  // Opens url in a new tab of context with the slow link; resolves once
  // live() holds, with the time it took and what went over the network.
  async function visit(context, url, live) {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const log = new NetLog(cdp);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', SLOW);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'commit' });
    await waitFor(() => live(page), { timeout: 90000, interval: 25, what: `${url} live` });
    const ms = Date.now() - t0;
    // what was asked for until then, whole (an answer may still be arriving)
    await waitFor(() => log.settled(), { timeout: 30000, interval: 25, what: 'requests in flight' });
    const f = log.figures();
    await page.close();
    assert.deepEqual(errors, []);
    return Object.assign({ ms }, f);
  }

  const connLive = async (p, sel = '#conn') => (await p.locator(sel).getAttribute('data-state').catch(() => null)) === 'live';
  const pages = {
    manage: {
      label: '/manage',
      first: () => s.url(`/signin#token=${tokens.manager.token}&next=/manage`),
      repeat: () => s.url('/manage'),
      live: async (p) => /^\/manage\/?$/.test(new URL(p.url()).pathname) && await connLive(p) &&
        (await p.locator('fieldset.mg-card').count()) > 0,
    },
    dispatcher: {
      label: '/',
      first: () => s.url(`/signin#token=${tokens.dispatcher.token}&next=/`),
      repeat: () => s.url('/'),
      live: async (p) => new URL(p.url()).pathname === '/' && await connLive(p) &&
        (await p.locator('#map .hm[data-id]').count()) === 88,
    },
    wall: {
      label: '/wall',
      first: () => s.url(`/signin#token=${tokens.wall.token}&next=/wall`),
      repeat: () => s.url('/wall'),
      live: async (p) => /^\/wall\/?$/.test(new URL(p.url()).pathname) && await connLive(p, '#w-conn') &&
        Number(await p.locator('#wall').getAttribute('data-offset')) >= offset,
    },
    signin: {
      label: '/signin',
      first: () => s.url('/signin'),
      repeat: () => s.url('/signin'),
      live: async (p) => p.locator('#token').isVisible(),
    },
  };

  function show(name, kind, r) {
    const line = `${pages[name].label} ${kind}: live in ${(r.ms / 1000).toFixed(1)} s, ${(r.bytes / KiB).toFixed(1)} KiB ` +
      `(HTTP ${(r.httpBytes / KiB).toFixed(1)} + WebSocket ${(r.wsBytes / KiB).toFixed(1)}), ${r.requests} requests`;
    process.stdout.write(`# ${line}\n`);
    for (const x of r.list) process.stdout.write(`#   ${x.status} ${x.url} ${x.bytes} B ${x.encoding} [${x.cacheControl}]\n`);
    for (const w of r.ws) process.stdout.write(`#   ws ${w.frames} frames ${w.bytes} B\n`);
    results.push({ page: pages[name].label, kind, ms: r.ms, bytes: r.bytes, httpBytes: r.httpBytes, wsBytes: r.wsBytes, requests: r.requests });
  }

  // Nothing was fetched twice from the network in one visit (the session
  // and reads of the API may be asked again by another page), and one
  // dictionary at most: the language shown.
  function noneTwice(r) {
    const seen = new Map();
    for (const x of r.list.filter((y) => !y.url.startsWith('/api/'))) seen.set(x.url, (seen.get(x.url) || 0) + 1);
    assert.deepEqual([...seen].filter(([, n]) => n > 1), []);
    assert.ok(r.list.filter((x) => /^\/(assets\/)?(i18n\/)?(vi|en)[-.]/.test(x.url)).length <= 1, 'one dictionary');
  }

  function withinBudget(name, kind, r) {
    const b = BUDGET[name][kind];
    assert.ok(r.bytes <= b.kib * KiB, `${pages[name].label} ${kind}: ${(r.bytes / KiB).toFixed(1)} KiB > ${b.kib} KiB`);
    assert.ok(r.requests <= b.requests, `${pages[name].label} ${kind}: ${r.requests} requests > ${b.requests}`);
    if (kind === 'repeat') {
      // the page and Leaflet revalidated (304: headers only), nothing else static
      const full = r.list.filter((x) => !x.url.startsWith('/api/') && x.bytes > 1024);
      assert.deepEqual(full.map((x) => x.url), [], 'static files downloaded again');
    } else {
      // text is compressed; assets come with a year of caching
      for (const x of r.list.filter((y) => y.url.startsWith('/assets/') && y.bytes > 1024)) {
        assert.match(x.encoding, /^(br|gzip)$/, x.url);
        assert.match(x.cacheControl, /immutable/, x.url);
      }
    }
  }

  for (const name of Object.keys(pages)) {
    s.step(`${pages[name].label}: a first and a repeat visit`, async () => {
      const context = await s.browser.newContext({ viewport: PHONE, locale: 'en-US', timezoneId: 'Asia/Ho_Chi_Minh', isMobile: true, hasTouch: true });
      try {
        const first = await visit(context, pages[name].first(), pages[name].live);
        show(name, 'first', first);
        const repeat = await visit(context, pages[name].repeat(), pages[name].live);
        show(name, 'repeat', repeat);
        noneTwice(first);
        noneTwice(repeat);
        withinBudget(name, 'first', first);
        withinBudget(name, 'repeat', repeat);
        pages[name].first.result = first;
        pages[name].repeat.result = repeat;
      } finally {
        await context.close();
      }
    });
  }

  s.step('the figures are written down', () => {
    const md = ['| page | visit | live in s | KiB received (HTTP + WebSocket) | requests |', '|---|---|---|---|---|',
      ...results.map((r) => `| ${r.page} | ${r.kind} | ${(r.ms / 1000).toFixed(1)} | ${(r.bytes / KiB).toFixed(1)} (${(r.httpBytes / KiB).toFixed(1)} + ${(r.wsBytes / KiB).toFixed(1)}) | ${r.requests} |`)];
    const load = os.loadavg().map((x) => x.toFixed(1)).join(' / ');
    md.push('', `Load average while measured (1/5/15 min): ${load} on ${os.cpus().length} cores.`);
    fs.writeFileSync(path.join(BUILD, 'network.md'), `${md.join('\n')}\n`);
    process.stdout.write(`${md.map((l) => `# ${l}`).join('\n')}\n`);
  });
});
