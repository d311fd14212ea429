'use strict';
// Notifications against the real stack (docs/protocol.md "Notifications"):
// Redis, the collector and TWO servers, a webhook sink (Node http) and a
// real SMTP server (Debian's python3-aiosmtpd). Subscriptions are checked
// field by field (422), bounded per person, owned (an admin manages
// anyone's) and audited. An ED diversion sent to the collector reaches a
// webhook as alert.raised and ed.status, each event exactly once although
// both servers read the events, signed with the subscription's secret; an
// acknowledgement on the other server arrives as alert.acked; a sink that
// fails and then recovers gets each event once after the retries; one
// that always fails ends in the dead letters (admins only); e-mail arrives
// through SMTP in the person's language, also after a temporary refusal;
// quiet hours hold back a level 3 event but not a level 4 one.
//
// A second stack checks the address rule: with private targets not
// allowed, loopback, private and link-local URLs are refused when the
// subscription is made (by the URL's text, and by what its name resolves
// to), and a subscription made while they were allowed is refused when a
// delivery resolves its host, never reaching the sink.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Stack, waitFor, bedsMsg } = require('../lib/stack');
const { webhookSink, smtpSink, signatureOk, decodeMail } = require('../lib/sinks');

const SECRET = 'correct-horse-battery-staple';

// Hanoi local time HH:MM, `min` minutes from now
const hanoi = (min) => {
  const d = new Date(Date.now() + min * 60e3 + 7 * 3600e3);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
};

// Whether the notification stream holds an event whose fields mention
// every one of `words`.
function eventSeen(stack, ...words) {
  const text = stack.redis('XREVRANGE', `${stack.prefix}notify:events`, '+', '-', 'COUNT', '50');
  return text.split(/\n(?=\d+-\d+\n)/).some((e) => words.every((w) => e.includes(w)));
}

// Every event of the group fanned out (nothing pending, nothing unread).
async function fannedOut(stack) {
  await waitFor(() => {
    const info = stack.redis('XINFO', 'GROUPS', `${stack.prefix}notify:events`);
    const f = info.split('\n');
    const at = (k) => f[f.indexOf(k) + 1];
    return at('pending') === '0' && at('lag') === '0';
  }, { what: 'every notification event fanned out' });
}

describe('notifications: subscriptions, webhooks and e-mail with two servers', { timeout: 175000 }, () => {
  let smtp;
  let smtpFlaky;
  const stack = new Stack({
    env: {
      BP_AUTH_ANONYMOUS: 'none',
      BP_NOTIFY_ALLOW_PRIVATE_TARGETS: '1', // the sinks are on loopback
      BP_NOTIFY_RETRY_BASE_MS: '300',
      BP_NOTIFY_RETRY_MAX_S: '4',
      BP_NOTIFY_MAX_SUBSCRIPTIONS_PER_PERSON: '4',
    },
  });
  const t = {};
  let feed;
  let seq = 1;
  let port2;
  before(async () => {
    smtp = await smtpSink({ failFirst: 1 });
    stack.opts.env.BP_SMTP_URL = smtp.url;
    stack.opts.env.BP_SMTP_FROM = 'bedpulse@so-y-te.example.org';
    await stack.start();
    port2 = await stack.startServer({}, 'server2');
    feed = await stack.feed();
    t.disp = stack.createToken('dispatcher', { name: 'Chị Lan' });
    t.minh = stack.createToken('dispatcher', { name: 'Anh Minh' });
    t.manager = stack.createToken('manager', { hospitals: 'bach-mai', name: 'Bác sĩ Hoa' });
    t.admin = stack.createToken('admin', { name: 'Quản trị' });
    t.wall = stack.createToken('wall');
    t.feed = stack.createToken('feed', { hospitals: '*' });
    t.public = stack.createToken('public');
    for (const k of Object.keys(t)) await stack.waitForToken(t[k].token);
    await stack.waitForToken(t.admin.token, port2);
    // the first observation of every hospital is taken silently
    await waitFor(() => stack.redis('EXISTS', `${stack.prefix}notify:init`) === '1', { what: 'observations initialised' });
  });
  after(async () => {
    if (feed) feed.close();
    await stack.stop({ keep: true });
    const problems = stack.problems();
    await stack.stop();
    if (smtp) await smtp.close();
    if (smtpFlaky) await smtpFlaky.close();
    assert.deepEqual(problems, [], 'every process ended well, with no sanitizer report');
  });

  const as = (who, opts = {}) => Object.assign({ token: t[who].token }, opts);
  const subscribe = (who, json, port) => stack.call('POST', '/api/v1/subscriptions', as(who, { json, port }));
  const hook = (url, extra = {}) => Object.assign({ channel: 'webhook', url, secret: SECRET, events: ['alert.raised', 'alert.cleared', 'alert.acked', 'ed.status'], lang: 'en' }, extra);
  const ed = async (hospital, status) => {
    const r = await feed.send(bedsMsg({ source: 'his', seq: seq++, hospital, ed: status === 'normal' ? { status } : { status, reason: 'Quá tải', until: new Date(Date.now() + 3600e3).toISOString() } }));
    assert.equal(r.ok, true, JSON.stringify(r));
  };

  test('subscriptions: every bad field named, nothing kept; who may; bounds; owners; audit', stack.guard(async () => {
    assert.equal((await stack.call('POST', '/api/v1/subscriptions', { json: hook('http://127.0.0.1:9/x') })).status, 401);
    assert.equal((await subscribe('feed', hook('http://127.0.0.1:9/x'))).status, 403);
    assert.equal((await subscribe('public', hook('http://127.0.0.1:9/x'))).status, 403);
    assert.equal((await stack.call('POST', '/api/v1/subscriptions', as('disp', { body: '{}', type: 'text/plain' }))).status, 415);
    const bad = await subscribe('disp', {
      channel: 'webhook', url: 'ftp://x.example.org/', secret: 'short', events: ['alert.raised', 'beds.changed'],
      filters: { hospitals: ['nowhere'], min_level: 7 }, lang: 'fr', quiet_hours: { from: '22:00', to: '22:00' }, colour: 'red',
    });
    assert.equal(bad.status, 422, bad.body);
    assert.equal(bad.json.error, 'invalid');
    const fields = bad.json.errors.map((e) => e.field).sort();
    assert.deepEqual(fields, ['colour', 'events[1]', 'filters.hospitals[0]', 'filters.min_level', 'lang', 'quiet_hours.to', 'secret', 'url']);
    for (const e of bad.json.errors) assert.match(e.message, new RegExp(e.field.replace(/[[\].]/g, '\\$&')));
    const mail = await subscribe('disp', { channel: 'email', address: 'lan@example.org\r\nBcc: x@evil.org', events: ['ed.status'] });
    assert.equal(mail.status, 422);
    assert.equal(mail.json.errors[0].field, 'address');
    assert.equal(stack.redis('HLEN', `${stack.prefix}subs`), '0', 'nothing kept of a refused body');

    // the wall display and a manager may subscribe; the secret never comes back
    const w = await subscribe('wall', hook('http://127.0.0.1:9/wall'));
    assert.equal(w.status, 201, w.body);
    assert.match(w.json.id, /^s-[0-9a-f]{16}$/);
    assert.equal(w.json.owner, t.wall.id);
    assert.equal(w.json.secret, undefined);
    assert.equal(w.json.secret_set, true);
    assert.ok(!w.body.includes(SECRET));
    const made = [];
    for (let i = 0; i < 4; i++) {
      const r = await subscribe('manager', { channel: 'email', address: `hoa${i}@example.org`, events: ['ed.status'], filters: { hospitals: ['bach-mai'] } });
      assert.equal(r.status, 201, r.body);
      made.push(r.json.id);
    }
    const over = await subscribe('manager', { channel: 'email', address: 'hoa9@example.org', events: ['ed.status'] });
    assert.equal(over.status, 409);
    assert.equal(over.json.error, 'too_many_subscriptions');
    assert.match(over.json.message, /at most 4/);
    // one's own; an admin sees everyone's, or one person's
    const mine = (await stack.call('GET', '/api/v1/subscriptions', as('manager'))).json;
    assert.equal(mine.subscriptions.length, 4);
    assert.ok(mine.subscriptions.every((s) => s.owner === t.manager.id));
    assert.equal(mine.limits.per_person, 4);
    assert.equal(mine.email, true);
    assert.equal((await stack.call('GET', `/api/v1/subscriptions?owner=${t.wall.id}`, as('manager'))).status, 403);
    const all = (await stack.call('GET', '/api/v1/subscriptions', as('admin'))).json.subscriptions;
    assert.equal(all.length, 5);
    assert.equal((await stack.call('GET', `/api/v1/subscriptions?owner=${t.wall.id}`, as('admin'))).json.subscriptions.length, 1);
    // someone else's: not found for a manager; an admin ends it
    assert.equal((await stack.call('DELETE', `/api/v1/subscriptions/${w.json.id}`, as('manager'))).status, 404);
    assert.equal((await stack.call('DELETE', `/api/v1/subscriptions/${w.json.id}`, as('admin'))).status, 200);
    for (const id of made) assert.equal((await stack.call('DELETE', `/api/v1/subscriptions/${id}`, as('manager'))).status, 200);
    assert.equal((await stack.call('DELETE', `/api/v1/subscriptions/${made[0]}`, as('manager'))).status, 404);
    // an admin may make one for someone (who holds a token); nobody else may
    assert.equal((await subscribe('disp', hook('http://127.0.0.1:9/x', { owner: t.minh.id }))).status, 403);
    const forNobody = await subscribe('admin', hook('http://127.0.0.1:9/x', { owner: 't-00000000' }));
    assert.equal(forNobody.status, 422);
    assert.equal(forNobody.json.errors[0].field, 'owner');
    const forMinh = await subscribe('admin', hook('http://127.0.0.1:9/x', { owner: t.minh.id }));
    assert.equal(forMinh.status, 201);
    assert.equal(forMinh.json.owner, t.minh.id);
    assert.equal((await stack.call('DELETE', `/api/v1/subscriptions/${forMinh.json.id}`, as('minh'))).status, 200);
    assert.equal(stack.redis('HLEN', `${stack.prefix}subs`), '0');
    const audit = (await stack.call('GET', '/api/v1/audit?limit=50', as('admin'))).json.entries.filter((e) => e.kind === 'subscription');
    assert.ok(audit.some((e) => e.action === 'create' && e.actor === t.wall.id && e.entity === w.json.id));
    assert.ok(audit.some((e) => e.action === 'delete' && e.actor === t.admin.id && e.entity === w.json.id));
    assert.ok(!JSON.stringify(audit).includes(SECRET), 'the audit trail never holds a secret');
  }));

  test('a webhook gets each event once, signed, with two servers reading the events', stack.guard(async () => {
    const sink = await webhookSink();
    try {
      const s = await subscribe('disp', hook(sink.url('/bp?k=1')));
      assert.equal(s.status, 201, s.body);
      // a subscription made on one server is known to the other before it fans out
      await ed('xanh-pon', 'diversion');
      const got = (type, pred = () => true) => sink.events().filter((e) => e.type === type && pred(e));
      await waitFor(() => got('alert.raised').length && got('ed.status').length, { what: 'alert.raised and ed.status' });
      const raised = got('alert.raised')[0];
      assert.equal(raised.data.alert.id, 'diversion:xanh-pon');
      assert.equal(raised.data.alert.severity, 'critical');
      assert.deepEqual(raised.hospitals, ['xanh-pon']);
      assert.match(raised.text, /Saint Paul|Xanh Pon/);
      assert.match(raised.text, /ED on diversion/);
      assert.equal(raised.lang, 'en');
      assert.equal(raised.subscription, s.json.id);
      assert.equal(raised.level, 3);
      const status = got('ed.status')[0];
      assert.equal(status.data.status, 'diversion');
      assert.equal(status.data.previous, 'normal');
      assert.equal(status.data.reason, 'Quá tải');
      // signed, with the event id in a header and in the body
      for (const r of sink.delivered) {
        assert.ok(signatureOk(r, SECRET), 'signature');
        assert.equal(r.headers['x-bedpulse-event-id'], JSON.parse(r.body).id);
        assert.equal(r.headers['x-bedpulse-event'], JSON.parse(r.body).type);
        assert.equal(r.url, '/bp?k=1');
        assert.match(r.headers['content-type'], /^application\/json/);
      }
      assert.ok(!signatureOk(Object.assign({}, sink.delivered[0], { body: sink.delivered[0].body + ' ' }), SECRET));
      // acknowledged on the other server: alert.acked, with who
      const ack = await stack.call('POST', '/api/v1/alerts/diversion:xanh-pon/ack', as('minh', { port: port2 }));
      assert.equal(ack.status, 200, ack.body);
      await waitFor(() => got('alert.acked').length, { what: 'alert.acked' });
      assert.equal(got('alert.acked')[0].data.by.name, 'Anh Minh');
      assert.match(got('alert.acked')[0].text, /^Acknowledged by Anh Minh: /);
      // the diversion ends: alert.cleared and ed.status back to normal
      await ed('xanh-pon', 'normal');
      await waitFor(() => got('alert.cleared').length && got('ed.status', (e) => e.data.status === 'normal').length,
        { what: 'alert.cleared and ed.status normal' });
      await fannedOut(stack);
      await waitFor(async () => Number(stack.redis('ZCARD', `${stack.prefix}notify:due`)) === 0, { what: 'no delivery left' });
      // exactly once per event, though both servers read the stream
      const ids = sink.events().map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, `duplicates in ${ids}`);
      assert.equal(ids.length, 5);
      assert.equal(sink.requests.length, 5);
      assert.equal((await stack.call('DELETE', `/api/v1/subscriptions/${s.json.id}`, as('disp'))).status, 200);
    } finally {
      await sink.close();
    }
  }));

  test('a sink that fails and then recovers gets each event once; one that always fails is a dead letter', stack.guard(async () => {
    const flaky = await webhookSink({ fail: (i) => (i < 2 ? 503 : 0) });
    const down = await webhookSink({ fail: () => 500 });
    try {
      const a = await subscribe('disp', hook(flaky.url(), { events: ['ed.status'] }));
      const b = await subscribe('disp', hook(down.url(), { events: ['ed.status'] }), port2);
      assert.equal(a.status, 201);
      assert.equal(b.status, 201);
      await ed('thanh-nhan', 'advisory');
      await waitFor(() => flaky.delivered.length === 1, { what: 'the flaky sink to get it' });
      assert.equal(flaky.requests.length, 3, 'two refusals, then delivered');
      assert.deepEqual(flaky.requests.map((r) => r.headers['x-bedpulse-attempt']), ['1', '2', '3']);
      assert.equal(new Set(flaky.requests.map((r) => r.body)).size, 1, 'the same bytes every attempt');
      // the other is given up after notify.retry_max_s (4 s) and kept for admins
      const dead = await waitFor(async () => {
        const r = await stack.call('GET', '/api/v1/notify/dead-letters', as('admin'));
        return r.json.dead_letters.find((d) => d.subscription === b.json.id) || false;
      }, { what: 'the dead letter', timeout: 30000 });
      assert.equal(dead.type, 'ed.status');
      assert.equal(dead.channel, 'webhook');
      assert.equal(dead.target, down.url());
      assert.match(dead.error, /HTTP 500/);
      assert.ok(dead.attempts >= 3, `${dead.attempts} attempts`);
      assert.ok(dead.last - dead.first <= 6000);
      assert.equal(down.delivered.length, 0);
      assert.equal((await stack.call('GET', '/api/v1/notify/dead-letters', as('disp'))).status, 403);
      await fannedOut(stack);
      assert.equal(flaky.delivered.length, 1, 'still once');
      for (const s of [a, b]) await stack.call('DELETE', `/api/v1/subscriptions/${s.json.id}`, as('disp'));
    } finally {
      await flaky.close();
      await down.close();
    }
  }));

  test('e-mail through a real SMTP server, in the person\'s language, after a temporary refusal', stack.guard(async () => {
    const s = await subscribe('manager', {
      channel: 'email', address: 'hoa@benh-vien-bach-mai.example.org', events: ['ed.status'], lang: 'vi', filters: { hospitals: ['bach-mai'] },
    });
    assert.equal(s.status, 201, s.body);
    const en = await subscribe('admin', { channel: 'email', address: 'director@example.org', events: ['ed.status'], lang: 'en', filters: { districts: ['dong-da'] } });
    assert.equal(en.status, 201, en.body);
    await ed('viet-duc', 'diversion'); // filtered out for both
    await ed('bach-mai', 'diversion');
    await waitFor(() => smtp.messages.length >= 2, { what: 'two e-mails', timeout: 30000 });
    assert.ok(smtp.refused >= 1, 'the first was refused with 451 and sent again');
    const vi = smtp.messages.find((m) => m.to.includes('hoa@benh-vien-bach-mai.example.org'));
    const mail = decodeMail(vi.data);
    assert.equal(vi.from, 'bedpulse@so-y-te.example.org');
    assert.match(mail.subject, /^\[BedPulse\] Bệnh viện Bạch Mai: khoa cấp cứu chuyển hướng xe cấp cứu/);
    assert.match(mail.text, /Trạng thái khoa cấp cứu/);
    assert.match(mail.text, /giờ địa phương, UTC\+07:00/);
    assert.match(mail.html, /<html lang="vi">/);
    assert.match(mail.headers['message-id'], /^<\d+-\d+\.s-[0-9a-f]+@so-y-te\.example\.org>$/);
    const other = decodeMail(smtp.messages.find((m) => m.to.includes('director@example.org')).data);
    assert.match(other.subject, /Bach Mai Hospital: emergency department on diversion/);
    assert.match(other.text, /Emergency department status/);
    await fannedOut(stack);
    await waitFor(async () => Number(stack.redis('ZCARD', `${stack.prefix}notify:due`)) === 0, { what: 'no delivery left' });
    assert.equal(smtp.messages.length, 2, 'Viet Duc matched neither; each sent once');
    for (const x of [s, en]) await stack.call('DELETE', `/api/v1/subscriptions/${x.json.id}`, as(x === s ? 'manager' : 'admin'));
    await ed('bach-mai', 'normal');
  }));

  test('quiet hours hold back a level 3 event, not a level 4 one', stack.guard(async () => {
    const sink = await webhookSink();
    try {
      const s = await subscribe('disp', hook(sink.url(), { events: ['ed.status'], filters: { hospitals: ['duc-giang'] }, quiet_hours: { from: hanoi(-60), to: hanoi(60) } }));
      assert.equal(s.status, 201, s.body);
      await ed('duc-giang', 'diversion'); // level 3: quiet
      await waitFor(() => eventSeen(stack, 'ed.status', '"hospital":"duc-giang"', '"status":"diversion"'), { what: 'the diversion event' });
      await ed('duc-giang', 'closed'); // a closed ED is level 4: delivered
      await waitFor(() => sink.delivered.length === 1, { what: 'the level 4 event' });
      await fannedOut(stack);
      assert.equal(sink.events()[0].data.status, 'closed');
      assert.equal(sink.events()[0].level, 4);
      assert.equal(sink.delivered.length, 1, 'the diversion stayed quiet');
      await stack.call('DELETE', `/api/v1/subscriptions/${s.json.id}`, as('disp'));
    } finally {
      await sink.close();
    }
  }));
});

describe('notifications: webhooks may not reach the internal network', { timeout: 120000 }, () => {
  const stack = new Stack({ env: { BP_AUTH_ANONYMOUS: 'none', BP_NOTIFY_RETRY_BASE_MS: '200' } });
  let sink;
  let feed;
  let disp;
  let admin;
  before(async () => {
    sink = await webhookSink();
    await stack.startRedis();
    await stack.startCollector();
    await stack.startServer({ BP_NOTIFY_ALLOW_PRIVATE_TARGETS: '1' });
    feed = await stack.feed();
    disp = stack.createToken('dispatcher');
    admin = stack.createToken('admin');
    await stack.waitForToken(disp.token);
    await waitFor(() => stack.redis('EXISTS', `${stack.prefix}notify:init`) === '1', { what: 'observations initialised' });
  });
  after(async () => {
    if (feed) feed.close();
    await stack.stop({ keep: true });
    const problems = stack.problems();
    await stack.stop();
    if (sink) await sink.close();
    assert.deepEqual(problems, []);
  });

  test('refused when made, by the URL and by what the name resolves to; refused again when delivered', stack.guard(async () => {
    const json = (url) => ({ channel: 'webhook', url, secret: SECRET, events: ['ed.status'] });
    // made while private targets were allowed (a test set-up, or the rule changed since)
    const s = await stack.call('POST', '/api/v1/subscriptions', { token: disp.token, json: json(sink.url('/hook', 'localhost')) });
    assert.equal(s.status, 201, s.body);
    await stack.stopProc('server');
    await stack.startServer({ BP_NOTIFY_ALLOW_PRIVATE_TARGETS: '0' });
    await stack.waitForToken(disp.token);
    for (const url of ['http://127.0.0.1:8080/', 'http://10.1.2.3/', 'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:8080/', 'http://[::ffff:127.0.0.1]/', 'http://192.168.1.10/', sink.url('/hook', 'localhost')]) {
      const r = await stack.call('POST', '/api/v1/subscriptions', { token: disp.token, json: json(url) });
      assert.equal(r.status, 422, `${url}: ${r.body}`);
      assert.equal(r.json.errors[0].field, 'url');
      assert.match(r.json.errors[0].message, /loopback|private|link-local|reserved/);
    }
    assert.equal(Number(stack.redis('HLEN', `${stack.prefix}subs`)), 1);
    // the old subscription's host resolves to loopback: not delivered, a dead letter
    const r = await feed.send(bedsMsg({ source: 'his', seq: 1, hospital: 'bach-mai', ed: { status: 'diversion' } }));
    assert.equal(r.ok, true);
    const dead = await waitFor(async () => {
      const d = await stack.call('GET', '/api/v1/notify/dead-letters', { token: admin.token });
      return d.json.dead_letters.find((x) => x.subscription === s.json.id) || false;
    }, { what: 'the refused delivery' });
    assert.match(dead.error, /localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    assert.equal(dead.attempts, 1, 'refused at once, not retried');
    assert.equal(sink.requests.length, 0, 'the sink was never reached');
  }));
});
