'use strict';
// The feed over TLS (collector.tls_cert / tls_key; clients: collector.tls_ca):
// a token hello then lines over TLS are answered as in clear; a client
// without TLS on the TLS port gets nothing applied; a handshake that never
// comes is cut off; bp-sim with its own feed token (sim.token, from a file)
// feeds through TLS; a certificate it cannot verify (another CA, another
// name) makes it send nothing and say why; a token that would cross the
// network in clear stops it at start.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Stack, makeCA, makeCert, waitFor, bedsMsg, BUILD, ROOT } = require('../lib/stack');

// Runs bp-sim with extra settings until it exits (or is stopped after
// stopAfterMs); resolves with its exit and its log.
function runSim(stack, name, env, args, stopAfterMs) {
  const log = path.join(stack.dir, `${name}.log`);
  const out = fs.openSync(log, 'a');
  const sim = spawn(path.join(BUILD, 'sim', 'bp-sim'), ['--seed', '11', ...args],
    { cwd: ROOT, env: stack.env(env), stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const text = () => fs.readFileSync(log, 'utf8');
  const exited = new Promise((resolve) => sim.on('exit', (code, signal) => resolve({ code, signal })));
  return { sim, text, exited, stop: () => sim.exitCode === null && sim.kill('SIGTERM') };
}

describe('feeds over TLS', () => {
  const stack = new Stack({ env: { BP_COLLECTOR_ANONYMOUS: '0' } });
  let ca;
  let feedCert;
  let simTokenFile;
  let simTokenId;

  before(async () => {
    ca = makeCA(stack.dir, 'ca');
    feedCert = makeCert(stack.dir, 'feed', ca, ['DNS:localhost', 'IP:127.0.0.1']);
    await stack.startRedis();
    await stack.startCollector({ BP_COLLECTOR_TLS_CERT: feedCert.cert, BP_COLLECTOR_TLS_KEY: feedCert.key });
    await stack.startServer();
    const tok = stack.createToken('feed', { hospitals: '*', fleet: true, name: 'test simulator' });
    simTokenId = tok.id;
    simTokenFile = path.join(stack.dir, 'sim.token');
    fs.writeFileSync(simTokenFile, `${tok.token}\n`, { mode: 0o600 });
  });
  // A TLS feed connection that said hello with token (tokens reach the
  // collector within a second of their creation: retried until then).
  function tlsOpts() {
    return { tls: { ca: fs.readFileSync(ca.cert), servername: 'localhost' } };
  }
  async function helloFeed(token) {
    return waitFor(async () => {
      const feed = await stack.feed(tlsOpts());
      const r = await feed.send({ type: 'hello', token });
      if (r.ok) return feed;
      feed.destroy();
      return false;
    }, { interval: 200, what: 'the collector to accept a new feed token' });
  }

  after(async () => {
    const results = await stack.stop({ keep: true });
    const problems = stack.problems();
    fs.rmSync(stack.dir, { recursive: true, force: true });
    assert.deepEqual(problems, [], JSON.stringify(results));
  });

  test('a token hello, then lines: answered as in clear', stack.guard(async () => {
    const tok = stack.createToken('feed', { hospitals: 'bach-mai' });
    const anon = await stack.feed(tlsOpts());
    assert.equal(anon.sock.authorized, true);
    const before = await anon.send(bedsMsg({ seq: 1 }));
    assert.equal(before.error, 'unauthorized', JSON.stringify(before));
    anon.destroy();
    const feed = await helloFeed(tok.token);
    const r = await feed.send(bedsMsg({ source: 'tls-his', seq: 2, beds: { icu_adult: { staffed: 40, occupied: 37 } } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(r.offset > 0);
    // a bad line: an error naming the field, the connection stays usable
    const bad = await feed.send(bedsMsg({ source: 'tls-his', seq: 3, hospital: 'nowhere' }));
    assert.equal(bad.ok, false);
    assert.equal(bad.field, 'hospital');
    // many lines in one write, split across TLS records
    const lines = [];
    for (let i = 0; i < 300; i++) lines.push(bedsMsg({ source: 'tls-his', seq: 10 + i, beds: { icu_adult: { occupied: i } } }));
    const replies = await feed.sendBatch(lines);
    assert.deepEqual(replies.map((x) => x.ok), lines.map(() => true));
    assert.deepEqual(replies.map((x) => x.seq), lines.map((l) => l.seq));
    assert.equal(stack.stored('hospital', 'bach-mai').beds.icu_adult.occupied, 299);
    assert.equal(feed.unexpected, 0);
    // a clean end: the collector answers everything, then closes
    feed.end();
    await feed.whenClosed;
  }));

  test('a client without TLS on the TLS port: nothing applied', stack.guard(async () => {
    const tok = stack.createToken('feed', { hospitals: 'bach-mai' });
    const beforeVersion = stack.stored('hospital', 'bach-mai').version;
    const got = await new Promise((resolve, reject) => {
      const chunks = [];
      const s = net.connect(stack.collectorPort, '127.0.0.1', () => {
        s.write(`${JSON.stringify({ type: 'hello', token: tok.token })}\n`);
        s.write(`${JSON.stringify(bedsMsg({ source: 'clear-his', seq: 1, beds: { icu_adult: { occupied: 1 } } }))}\n`);
      });
      s.on('data', (d) => chunks.push(d));
      s.on('error', () => {}); // a reset is one way to be refused
      s.on('close', () => resolve(Buffer.concat(chunks)));
      s.setTimeout(20000, () => reject(new Error('the collector kept a plain connection open')));
    });
    assert.ok(!got.toString('latin1').includes('"ok"'), `no feed reply in clear: ${got.toString('latin1')}`);
    assert.equal(stack.stored('hospital', 'bach-mai').version, beforeVersion);
    await waitFor(() => /TLS handshake failed: wrong version number \(a client without TLS\?\)/.test(stack.logText()),
      { what: 'the collector to log why' });
  }));

  test('a handshake that never comes is cut off', stack.guard(async () => {
    const start = Date.now();
    await new Promise((resolve, reject) => {
      const s = net.connect(stack.collectorPort, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', resolve);
      s.setTimeout(30000, () => reject(new Error('still open after 30 s')));
    });
    const took = Date.now() - start;
    assert.ok(took >= 9000, `closed after ${took} ms: before the 10 s handshake bound`);
    assert.match(stack.logText(), /no TLS handshake within 10 s, closing/);
  }));

  test('bp-sim with its feed token feeds over TLS', stack.guard(async () => {
    const run = runSim(stack, 'sim', { BP_COLLECTOR_TLS_CA: ca.cert, BP_SIM_TOKEN_FILE: simTokenFile },
      ['--speed', '20', '--rate', '20', '--duration', '8']);
    const { code } = await run.exited;
    const text = run.text();
    assert.equal(code, 0, text.split('\n').slice(-20).join('\n'));
    assert.match(text, /connected to the collector at 127\.0\.0\.1:\d+ \(TLS, certificate verified\)/);
    const done = text.match(/done: sent (\d+) .*? ok (\d+) dup (\d+) errors (\d+)/);
    assert.ok(done, 'a final status line');
    const [sent, ok, dup, errors] = done.slice(1).map(Number);
    assert.equal(errors, 0);
    assert.ok(sent > 88, done[0]); // at least every hospital's first report
    assert.equal(ok + dup, sent, done[0]);
    assert.ok(!text.includes(fs.readFileSync(simTokenFile, 'utf8').trim()), 'the token is never logged');
    // applied under the simulator's token
    const audit = stack.redis('XREVRANGE', `${stack.prefix}audit`, '+', '-', 'COUNT', '1');
    assert.ok(audit.includes(simTokenId), audit);
    const h = await stack.get('/api/v1/hospitals');
    assert.equal(h.status, 200);
    assert.ok(h.json.filter((x) => x.version > 0).length >= 80, 'hospitals reported through TLS');
  }));

  test('bp-sim refuses a collector it cannot verify, and says why', stack.guard(async () => {
    const offset = Number(stack.redis('GET', `${stack.prefix}offset`));
    // a CA that did not sign the collector's certificate
    const other = makeCA(stack.dir, 'other-ca');
    const a = runSim(stack, 'sim-wrong-ca', { BP_COLLECTOR_TLS_CA: other.cert, BP_SIM_TOKEN_FILE: simTokenFile }, []);
    await waitFor(() => /TLS handshake with the collector at 127\.0\.0\.1:\d+ failed: certificate verify failed: unable to get local issuer certificate/.test(a.text()),
      { what: 'the sim to say why it refuses the certificate' });
    a.stop();
    assert.equal((await a.exited).code, 0);
    assert.match(a.text(), /done: sent 0 /);

    // a certificate for another name
    const wrongName = makeCert(stack.dir, 'wrong-name', ca, ['DNS:feeds.example.org']);
    await stack.stopProc('collector');
    await stack.startCollector({ BP_COLLECTOR_TLS_CERT: wrongName.cert, BP_COLLECTOR_TLS_KEY: wrongName.key });
    const b = runSim(stack, 'sim-wrong-name', { BP_COLLECTOR_TLS_CA: ca.cert, BP_SIM_TOKEN_FILE: simTokenFile }, []);
    await waitFor(() => /failed: certificate verify failed: IP address mismatch/.test(b.text()),
      { what: 'the sim to refuse a certificate for another name' });
    b.stop();
    assert.equal((await b.exited).code, 0);
    assert.match(b.text(), /done: sent 0 /);
    assert.equal(Number(stack.redis('GET', `${stack.prefix}offset`)), offset, 'nothing applied');
    await stack.stopProc('collector');
    await stack.startCollector({ BP_COLLECTOR_TLS_CERT: feedCert.cert, BP_COLLECTOR_TLS_KEY: feedCert.key });
  }));

  test('bp-sim with a token the collector does not know sends no line, and gives up', stack.guard(async () => {
    const bogus = path.join(stack.dir, 'bogus.token');
    fs.writeFileSync(bogus, 'bp_0000000000000000000000000000000000000000000\n');
    const run = runSim(stack, 'sim-bogus', { BP_COLLECTOR_TLS_CA: ca.cert, BP_SIM_TOKEN_FILE: bogus }, []);
    const { code } = await run.exited; // retried with backoff, then status 4: restart me with the current token
    const text = run.text();
    assert.equal(code, 4, text);
    assert.equal(text.match(/the collector refused the feed token \(sim\.token\): unauthorized: unknown token/g).length, 5);
    assert.match(text, /giving up \(exit status 4\)/);
    assert.match(text, /done: sent 0 /);
  }));

  test('a token never goes in clear to a collector off loopback; settings checked at start', stack.guard(async () => {
    const clear = runSim(stack, 'sim-clear', { BP_COLLECTOR_HOST: '192.0.2.10', BP_SIM_TOKEN_FILE: simTokenFile }, []);
    assert.equal((await clear.exited).code, 1);
    assert.match(clear.text(), /sim\.token would cross the network in clear to 192\.0\.2\.10: set collector\.tls_ca/);
    const missing = runSim(stack, 'sim-no-ca', { BP_COLLECTOR_TLS_CA: path.join(stack.dir, 'nope.pem') }, []);
    assert.equal((await missing.exited).code, 1);
    assert.match(missing.text(), /TLS: cannot read the CA file .*nope\.pem: No such file or directory \(collector\.tls_ca\)/);
    // a collector with a certificate and no key does not start
    const half = spawn(path.join(BUILD, 'collector', 'bp-collector'), [],
      { cwd: ROOT, env: stack.env({ BP_COLLECTOR_PORT: '0', BP_COLLECTOR_HTTP_PORT: '0', BP_COLLECTOR_TLS_CERT: feedCert.cert }), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    half.stderr.on('data', (d) => (err += d));
    const code = await new Promise((resolve) => half.on('exit', resolve));
    assert.equal(code, 1);
    assert.match(err, /collector\.tls_cert and collector\.tls_key go together/);
  }));
});
