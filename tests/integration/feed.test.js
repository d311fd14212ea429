'use strict';
// Feed protocol through the wire (docs/protocol.md §1): replies, every error
// category, ordering, duplicates, limits and hostile input, checked against
// what Redis holds afterwards.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { Stack, waitFor, isoNow, bedsMsg, ambulanceMsg } = require('../lib/stack');
const registry = require('../../config/hospitals.json');

const HOSPITAL_IDS = registry.hospitals.map((h) => h.id);
const ERROR_CODES = new Set([
  'bad_json', 'line_too_long', 'missing_field', 'unknown_field', 'duplicate_field', 'wrong_type',
  'out_of_range', 'bad_value', 'bad_time', 'bad_string', 'too_long', 'unknown_type',
  'unknown_hospital', 'unknown_ambulance', 'unknown_bed_type', 'out_of_order', 'unavailable',
  'too_many_connections',
]);

// Everything a rejected line could have touched.
function fingerprint(stack) {
  return {
    hospital: stack.stored('hospital', 'bach-mai'),
    ambulance: stack.stored('ambulance', '115-HK-03'),
    xlen: stack.redis('XLEN', 'bp:stream'),
    offset: stack.redis('GET', 'bp:offset'),
    sources: stack.redis('HGETALL', 'bp:sources'),
  };
}

function assertError(reply, { error, field, seq }, what) {
  assert.equal(reply.ok, false, `${what}: expected an error, got ${JSON.stringify(reply)}`);
  assert.equal(reply.error, error, `${what}: ${JSON.stringify(reply)}`);
  if (field === '') assert.equal(reply.field, undefined, `${what}: no field expected: ${JSON.stringify(reply)}`);
  else assert.equal(reply.field, field, `${what}: ${JSON.stringify(reply)}`);
  if (seq !== undefined) assert.equal(reply.seq, seq, `${what}: seq echo: ${JSON.stringify(reply)}`);
  assert.equal(typeof reply.message, 'string', `${what}: message`);
  assert.ok(reply.message.length > 0, `${what}: empty message`);
}

// A valid beds line as text, with `extra` spliced in raw (for repeated keys,
// invalid bytes and other things JSON.stringify cannot write).
function rawBeds(seq, extra) {
  return `{"type":"beds","source":"raw-his","seq":${seq},"at":"${isoNow()}","hospital":"bach-mai"${extra}}`;
}

// Small deterministic PRNG so a failing garbage case can be reproduced.
function prng(seed) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

describe('feed replies', () => {
  const stack = new Stack();
  let feed;
  let seq = 0;
  const nextSeq = () => ++seq;

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
  }));
  after(async () => {
    if (feed) feed.destroy();
    await stack.stop();
  });

  test('valid beds and ambulance lines are acknowledged with consecutive offsets', stack.guard(async () => {
    const lines = [
      bedsMsg({ seq: nextSeq(), beds: { icu_adult: { occupied: 70 } } }),
      ambulanceMsg({ seq: nextSeq(), status: 'dispatched', lat: 21.03, lon: 105.85 }),
      bedsMsg({ seq: nextSeq(), hospital: 'viet-duc', beds: { emergency: { staffed: 40, occupied: 41 } } }),
      bedsMsg({ seq: nextSeq() }), // neither beds nor ed: confirms the figures
      bedsMsg({ seq: nextSeq(), beds: {} }),
      ambulanceMsg({ seq: nextSeq(), heading: 360, speed: 0, destination: 'bach-mai', incident: 'INC-1' }),
    ];
    const xlen = Number(stack.redis('XLEN', 'bp:stream'));
    const replies = [];
    for (const l of lines) replies.push(await feed.send(l));
    replies.forEach((r, i) => {
      assert.deepEqual(Object.keys(r).sort(), ['offset', 'ok', 'seq'], JSON.stringify(r));
      assert.equal(r.ok, true);
      assert.equal(r.seq, lines[i].seq);
      assert.equal(r.offset, xlen + i + 1, `offset of line ${i}`);
    });
    assert.equal(Number(stack.redis('XLEN', 'bp:stream')), xlen + lines.length);
    assert.equal(Number(stack.redis('GET', 'bp:offset')), replies.at(-1).offset);
  }));

  test('boundary values are accepted', stack.guard(async () => {
    const ok = [
      bedsMsg({ source: 'edge-0', seq: 0 }),
      bedsMsg({ source: 'edge-max', seq: 2 ** 53 - 1 }),
      bedsMsg({ seq: nextSeq(), beds: { burn: { staffed: 0, occupied: 0, surge24: 0 } } }),
      bedsMsg({ seq: nextSeq(), beds: { isolation: { staffed: 100000, occupied: 100000, surge24: 100000 } } }),
      bedsMsg({ seq: nextSeq(), ed: { status: 'closed', reason: 'é'.repeat(100), until: isoNow(3600e3), waiting: 10000 } }),
      bedsMsg({ seq: nextSeq(), ed: { status: 'normal', reason: null, until: null, waiting: null } }),
      ambulanceMsg({ seq: nextSeq(), lat: -90, lon: 180, heading: 0, speed: 300, destination: null, incident: null }),
      ambulanceMsg({ seq: nextSeq(), lat: 90, lon: -180, destination: '', incident: '' }),
      bedsMsg({ source: 'A-z.0_9:-'.padEnd(64, 'x'), seq: 1 }),
      // a fraction of one digit and any zone; a year-old report for a hospital that never reported
      bedsMsg({ seq: nextSeq(), hospital: HOSPITAL_IDS[HOSPITAL_IDS.length - 1], at: `${new Date().getUTCFullYear() - 1}-06-01T00:00:00.5-05:30` }),
    ];
    for (const l of ok) {
      const r = await feed.send(l);
      assert.equal(r.ok, true, `${JSON.stringify(l)} -> ${JSON.stringify(r)}`);
      assert.equal(r.seq, l.seq);
    }
    // \r\n line ends are accepted; the \r is not part of the JSON
    const r = await feed.sendRaw(JSON.stringify(bedsMsg({ seq: nextSeq() })) + '\r');
    assert.equal(r.ok, true, JSON.stringify(r));
  }));

  test('occupied greater than staffed (overcrowding) is accepted and stored as sent', stack.guard(async () => {
    const r = await feed.send(bedsMsg({ seq: nextSeq(), hospital: 'thanh-nhan', beds: { icu_adult: { staffed: 10, occupied: 15 } } }));
    assert.equal(r.ok, true, JSON.stringify(r));
    const h = stack.stored('hospital', 'thanh-nhan');
    assert.equal(h.beds.icu_adult.staffed, 10);
    assert.equal(h.beds.icu_adult.occupied, 15);
  }));

  // Each case: the line, then the expected error, field and seq echo.
  const S = 900000; // seqs of rejected lines: never applied, so they may repeat
  const at = () => isoNow();
  const cases = [
    ['not JSON', 'hello there', 'bad_json', '', null],
    ['truncated JSON', '{"type":"beds","seq":5,"source":"x"', 'bad_json', '', null],
    ['empty line', '', 'bad_json', '', null],
    ['blank line', '   \t ', 'bad_json', '', null],
    ['trailing bytes after the object', JSON.stringify(bedsMsg({ seq: S })) + ' x', 'bad_json', '', null],
    ['two objects on one line', JSON.stringify(bedsMsg({ seq: S })) + JSON.stringify(bedsMsg({ seq: S })), 'bad_json', '', null],
    ['array instead of object', '[1,2,3]', 'wrong_type', '', null],
    ['missing seq', { type: 'beds', source: 's', at: at(), hospital: 'bach-mai' }, 'missing_field', 'seq', null],
    ['missing type', { source: 's', seq: S, at: at(), hospital: 'bach-mai' }, 'missing_field', 'type', S],
    ['missing source', { type: 'beds', seq: S, at: at(), hospital: 'bach-mai' }, 'missing_field', 'source', S],
    ['missing at', { type: 'beds', source: 's', seq: S, hospital: 'bach-mai' }, 'missing_field', 'at', S],
    ['missing hospital', { type: 'beds', source: 's', seq: S, at: at() }, 'missing_field', 'hospital', S],
    ['empty bed type', bedsMsg({ seq: S, beds: { icu_adult: {} } }), 'missing_field', 'beds.icu_adult', S],
    ['ed without status', bedsMsg({ seq: S, ed: { reason: 'x' } }), 'missing_field', 'ed.status', S],
    ['lat without lon', ambulanceMsg({ seq: S, lat: 21 }), 'missing_field', 'lon', S],
    ['lon without lat', ambulanceMsg({ seq: S, lon: 105 }), 'missing_field', 'lat', S],
    ['ambulance without id', { type: 'ambulance', source: 's', seq: S, at: at(), status: 'on_scene' }, 'missing_field', 'id', S],
    ['unknown top-level field', bedsMsg({ seq: S, foo: 1 }), 'unknown_field', 'foo', S],
    ['unknown bed field', bedsMsg({ seq: S, beds: { icu_adult: { occupied: 1, free: 2 } } }), 'unknown_field', 'beds.icu_adult.free', S],
    ['unknown ed field', bedsMsg({ seq: S, ed: { status: 'normal', colour: 'red' } }), 'unknown_field', 'ed.colour', S],
    ['beds field on an ambulance', ambulanceMsg({ seq: S, hospital: 'bach-mai' }), 'unknown_field', 'hospital', S],
    ['repeated top-level field', rawBeds(S, ',"hospital":"viet-duc"'), 'duplicate_field', 'hospital', S],
    ['repeated bed type', rawBeds(S, ',"beds":{"icu_adult":{"occupied":1},"icu_adult":{"occupied":2}}'), 'duplicate_field', 'beds.icu_adult', S],
    ['repeated bed field', rawBeds(S, ',"beds":{"icu_adult":{"occupied":1,"occupied":2}}'), 'duplicate_field', 'beds.icu_adult.occupied', S],
    ['seq as a string', bedsMsg({ seq: String(S) }), 'wrong_type', 'seq', null],
    ['seq with a fraction', bedsMsg({ seq: 1.5 }), 'wrong_type', 'seq', null],
    ['occupied as a string', bedsMsg({ seq: S, beds: { icu_adult: { occupied: '5' } } }), 'wrong_type', 'beds.icu_adult.occupied', S],
    ['occupied with a fraction', bedsMsg({ seq: S, beds: { icu_adult: { occupied: 2.5 } } }), 'wrong_type', 'beds.icu_adult.occupied', S],
    ['beds as an array', bedsMsg({ seq: S, beds: [] }), 'wrong_type', 'beds', S],
    ['bed type as a number', bedsMsg({ seq: S, beds: { icu_adult: 5 } }), 'wrong_type', 'beds.icu_adult', S],
    ['ed as a string', bedsMsg({ seq: S, ed: 'diversion' }), 'wrong_type', 'ed', S],
    ['waiting as a boolean', bedsMsg({ seq: S, ed: { status: 'normal', waiting: true } }), 'wrong_type', 'ed.waiting', S],
    ['lat as a string', ambulanceMsg({ seq: S, lat: '21', lon: 105 }), 'wrong_type', 'lat', S],
    ['destination as a number', ambulanceMsg({ seq: S, destination: 5 }), 'wrong_type', 'destination', S],
    ['incident as a number', ambulanceMsg({ seq: S, incident: 5 }), 'wrong_type', 'incident', S],
    ['negative occupied', bedsMsg({ seq: S, beds: { icu_adult: { occupied: -3 } } }), 'out_of_range', 'beds.icu_adult.occupied', S],
    ['staffed above 100000', bedsMsg({ seq: S, beds: { icu_adult: { staffed: 100001 } } }), 'out_of_range', 'beds.icu_adult.staffed', S],
    ['surge24 above 100000', bedsMsg({ seq: S, beds: { burn: { surge24: 1e9 } } }), 'out_of_range', 'beds.burn.surge24', S],
    ['negative seq', bedsMsg({ seq: -1 }), 'out_of_range', 'seq', null],
    ['seq of 2^53', bedsMsg({ seq: 2 ** 53 }), 'out_of_range', 'seq', null],
    ['lat above 90', ambulanceMsg({ seq: S, lat: 90.5, lon: 105 }), 'out_of_range', 'lat', S],
    ['lon below -180', ambulanceMsg({ seq: S, lat: 21, lon: -180.01 }), 'out_of_range', 'lon', S],
    ['heading above 360', ambulanceMsg({ seq: S, heading: 361 }), 'out_of_range', 'heading', S],
    ['negative speed', ambulanceMsg({ seq: S, speed: -1 }), 'out_of_range', 'speed', S],
    ['speed above 300', ambulanceMsg({ seq: S, speed: 301 }), 'out_of_range', 'speed', S],
    ['waiting above 10000', bedsMsg({ seq: S, ed: { status: 'normal', waiting: 10001 } }), 'out_of_range', 'ed.waiting', S],
    ['at an hour ahead', bedsMsg({ seq: S, at: isoNow(3600e3) }), 'out_of_range', 'at', S],
    ['source with a space', bedsMsg({ source: 'his bach mai', seq: S }), 'bad_value', 'source', S],
    ['empty source', bedsMsg({ source: '', seq: S }), 'bad_value', 'source', S],
    ['source of 65 characters', bedsMsg({ source: 'x'.repeat(65), seq: S }), 'bad_value', 'source', S],
    ['hospital not a slug', bedsMsg({ seq: S, hospital: 'Bach-Mai' }), 'bad_value', 'hospital', S],
    ['unknown ED status', bedsMsg({ seq: S, ed: { status: 'panic' } }), 'bad_value', 'ed.status', S],
    ['until with a normal ED', bedsMsg({ seq: S, ed: { status: 'normal', until: isoNow(3600e3) } }), 'bad_value', 'ed.until', S],
    ['until before at', bedsMsg({ seq: S, ed: { status: 'diversion', until: isoNow(-3600e3) } }), 'bad_value', 'ed.until', S],
    ['unknown ambulance status', ambulanceMsg({ seq: S, status: 'flying' }), 'bad_value', 'status', S],
    ['call sign with a space', ambulanceMsg({ seq: S, id: '115 HK 03' }), 'bad_value', 'id', S],
    ['at without a zone', bedsMsg({ seq: S, at: '2026-11-22T08:00:00' }), 'bad_time', 'at', S],
    ['at in words', bedsMsg({ seq: S, at: 'yesterday' }), 'bad_time', 'at', S],
    ['at as a number', bedsMsg({ seq: S, at: Date.now() }), 'bad_time', 'at', S],
    ['impossible date', bedsMsg({ seq: S, at: '2025-02-30T08:00:00+07:00' }), 'bad_time', 'at', S],
    ['until in words', bedsMsg({ seq: S, ed: { status: 'closed', until: 'soon' } }), 'bad_time', 'ed.until', S],
    ['escaped NUL in a string', rawBeds(S, ',"ed":{"status":"advisory","reason":"a\\u0000b"}'), 'bad_string', '', undefined],
    ['control character in reason', bedsMsg({ seq: S, ed: { status: 'advisory', reason: 'bell\u0007' } }), 'bad_string', 'ed.reason', S],
    ['C1 control in reason', bedsMsg({ seq: S, ed: { status: 'advisory', reason: 'x\u0085y' } }), 'bad_string', 'ed.reason', S],
    ['bidi override in reason', bedsMsg({ seq: S, ed: { status: 'advisory', reason: 'abc\u202Edef' } }), 'bad_string', 'ed.reason', S],
    ['bidi isolate in incident', ambulanceMsg({ seq: S, incident: 'INC\u2066-1' }), 'bad_string', 'incident', S],
    ['reason of 201 bytes', bedsMsg({ seq: S, ed: { status: 'advisory', reason: 'r'.repeat(201) } }), 'too_long', 'ed.reason', S],
    ['reason of 202 UTF-8 bytes', bedsMsg({ seq: S, ed: { status: 'advisory', reason: 'é'.repeat(101) } }), 'too_long', 'ed.reason', S],
    ['unknown type', bedsMsg({ seq: S, type: 'bed' }), 'unknown_type', 'type', S],
    ['type as a number', bedsMsg({ seq: S, type: 1 }), 'unknown_type', 'type', S],
    ['unknown hospital', bedsMsg({ seq: S, hospital: 'no-such-hospital' }), 'unknown_hospital', 'hospital', S],
    ['unknown destination', ambulanceMsg({ seq: S, destination: 'no-such-hospital' }), 'unknown_hospital', 'destination', S],
    ['unknown ambulance', ambulanceMsg({ seq: S, id: '115-ZZ-99' }), 'unknown_ambulance', 'id', S],
    ['unknown bed type', bedsMsg({ seq: S, beds: { spaceship: { occupied: 1 } } }), 'unknown_bed_type', 'beds.spaceship', S],
  ];

  test('every error category gets its code and field, and changes nothing', stack.guard(async () => {
    // seed some state so "nothing changed" compares real values
    assert.equal((await feed.send(bedsMsg({ source: 'seed', seq: 1, beds: { icu_adult: { occupied: 33 } } }))).ok, true);
    assert.equal((await feed.send(ambulanceMsg({ source: 'seed-avl', seq: 1, status: 'on_scene' }))).ok, true);
    for (const [name, line, error, field, seqEcho] of cases) {
      const before = fingerprint(stack);
      const r = await feed.send(line);
      assertError(r, { error, field, seq: seqEcho }, name);
      assert.deepEqual(fingerprint(stack), before, `${name}: Redis changed`);
    }
    // the connection is still usable after all of that
    const r = await feed.send(bedsMsg({ seq: nextSeq() }));
    assert.equal(r.ok, true, JSON.stringify(r));
  }));

  test('a report older than the stored one is out_of_order and not applied', stack.guard(async () => {
    const t0 = Date.now();
    const r1 = await feed.send(bedsMsg({ source: 'ooo', seq: 1, at: new Date(t0).toISOString(), beds: { pediatrics: { occupied: 11 } } }));
    assert.equal(r1.ok, true, JSON.stringify(r1));
    const before = fingerprint(stack);
    const r2 = await feed.send(bedsMsg({ source: 'ooo-2', seq: 1, at: new Date(t0 - 60e3).toISOString(), beds: { pediatrics: { occupied: 99 } } }));
    assertError(r2, { error: 'out_of_order', field: 'at', seq: 1 }, 'older report');
    assert.deepEqual(fingerprint(stack), before);
    // the same time as the stored report is not older: accepted
    const r3 = await feed.send(bedsMsg({ source: 'ooo', seq: 2, at: new Date(t0).toISOString(), beds: { pediatrics: { occupied: 12 } } }));
    assert.equal(r3.ok, true, JSON.stringify(r3));
    assert.equal(stack.stored('hospital', 'bach-mai').beds.pediatrics.occupied, 12);
  }));

  test('2,000 lines in one write: one reply per line, in order', stack.guard(async () => {
    const c = await stack.feed();
    try {
      const at = isoNow();
      const invalid = [
        (s) => JSON.stringify(bedsMsg({ source: 'batch', seq: s, at, beds: { icu_adult: { occupied: -1 } } })),
        (s) => JSON.stringify(bedsMsg({ source: 'batch', seq: s, at, hospital: 'nowhere' })),
        () => '{"type":"beds",',
        (s) => JSON.stringify(bedsMsg({ source: 'batch', seq: s, at, extra: true })),
        () => '',
      ];
      const expected = [];
      const lines = [];
      const last = new Map(); // hospital -> last valid value
      for (let i = 0; i < 2000; i++) {
        const s = i + 1;
        if (i % 4 === 3) {
          const k = (i >> 2) % invalid.length;
          lines.push(invalid[k](s));
          expected.push({ ok: false, error: ['out_of_range', 'unknown_hospital', 'bad_json', 'unknown_field', 'bad_json'][k], seq: k === 2 || k === 4 ? null : s });
        } else {
          const hospital = HOSPITAL_IDS[i % HOSPITAL_IDS.length];
          lines.push(JSON.stringify(bedsMsg({ source: 'batch', seq: s, at, hospital, beds: { medical_surgical: { occupied: i } } })));
          expected.push({ ok: true, seq: s });
          last.set(hospital, i);
        }
      }
      const xlen = Number(stack.redis('XLEN', 'bp:stream'));
      const replies = await c.sendBatch(lines);
      assert.equal(replies.length, 2000);
      let offset = xlen;
      replies.forEach((r, i) => {
        const e = expected[i];
        assert.equal(r.ok, e.ok, `line ${i}: ${JSON.stringify(r)}`);
        assert.equal(r.seq, e.seq, `line ${i}: ${JSON.stringify(r)}`);
        if (e.ok) {
          assert.equal(r.offset, ++offset, `line ${i}: offsets must follow line order`);
          assert.equal(r.duplicate, undefined);
        } else {
          assert.equal(r.error, e.error, `line ${i}: ${JSON.stringify(r)}`);
        }
      });
      assert.equal(Number(stack.redis('XLEN', 'bp:stream')), xlen + 1500);
      for (const [h, v] of last) {
        assert.equal(stack.stored('hospital', h).beds.medical_surgical.occupied, v, h);
      }
      // nothing more arrives: the next line's reply is the next one
      const r = await c.send(bedsMsg({ source: 'batch', seq: 2001 }));
      assert.equal(r.ok, true);
      assert.equal(r.offset, offset + 1);
      assert.equal(c.unexpected, 0);
      assert.equal(c.replies.length, 2001);
    } finally {
      c.destroy();
    }
  }));

  test('a duplicate seq is acknowledged as duplicate and not applied again', stack.guard(async () => {
    const r1 = await feed.send(bedsMsg({ source: 'dup-src', seq: 10, beds: { obstetrics: { occupied: 5 } } }));
    assert.equal(r1.ok, true);
    const before = fingerprint(stack);
    const version = before.hospital.version;
    const again = await feed.send(bedsMsg({ source: 'dup-src', seq: 10, beds: { obstetrics: { occupied: 5 } } }));
    assert.deepEqual(again, { ok: true, seq: 10, offset: r1.offset, duplicate: true });
    // a lower seq with other figures: a duplicate too, its figures are not applied
    const lower = await feed.send(bedsMsg({ source: 'dup-src', seq: 3, beds: { obstetrics: { occupied: 77 } } }));
    assert.deepEqual(lower, { ok: true, seq: 3, offset: r1.offset, duplicate: true });
    // from another connection as well
    const other = await stack.feed();
    const r4 = await other.send(bedsMsg({ source: 'dup-src', seq: 10 }));
    other.destroy();
    assert.deepEqual(r4, { ok: true, seq: 10, offset: r1.offset, duplicate: true });
    const after = fingerprint(stack);
    assert.deepEqual(after, before);
    const h = after.hospital;
    assert.equal(h.version, version);
    assert.equal(h.beds.obstetrics.occupied, 5);
    // the next seq applies, and later duplicates point at it
    const r5 = await feed.send(bedsMsg({ source: 'dup-src', seq: 11, beds: { obstetrics: { occupied: 6 } } }));
    assert.equal(r5.ok, true);
    assert.equal(r5.offset, Number(before.xlen) + 1);
    assert.deepEqual(await feed.send(bedsMsg({ source: 'dup-src', seq: 11 })), { ok: true, seq: 11, offset: r5.offset, duplicate: true });
    assert.equal(stack.stored('hospital', 'bach-mai').version, version + 1);
  }));

  test('a line longer than 64 KiB gets line_too_long and the connection goes on', stack.guard(async () => {
    const c = await stack.feed();
    try {
      const before = fingerprint(stack);
      const valid = (s) => JSON.stringify(bedsMsg({ source: 'long', seq: s }));
      const pad = (text, size) => text + ' '.repeat(size - Buffer.byteLength(text));
      // exactly 64 KiB (whitespace after the object is allowed): a line
      const exact = await c.sendRaw(pad(valid(1), 65536));
      assert.equal(exact.ok, true, JSON.stringify(exact));
      // one byte more: too long, however valid it would be
      const over = await c.sendRaw(pad(valid(2), 65537));
      assertError(over, { error: 'line_too_long', field: '', seq: null }, '64 KiB + 1');
      const next = await c.send(bedsMsg({ source: 'long', seq: 3 }));
      assert.equal(next.ok, true, JSON.stringify(next));
      // a 1 MiB line in small writes, then a line in the same write as its end
      const replies = [c.expect(), c.expect()];
      const big = 'x'.repeat(16 * 1024);
      for (let i = 0; i < 64; i++) c.sock.write(big);
      c.sock.write('\n' + valid(4) + '\n');
      const [tooLong, after] = await Promise.all(replies);
      assertError(tooLong, { error: 'line_too_long', field: '', seq: null }, '1 MiB line');
      assert.equal(after.ok, true, JSON.stringify(after));
      assert.equal(after.offset, Number(before.xlen) + 3);
      assert.equal(c.unexpected, 0);
    } finally {
      c.destroy();
    }
  }));

  test('an unterminated last line before the half-close still gets its reply', stack.guard(async () => {
    const c = await stack.feed();
    const a = JSON.stringify(bedsMsg({ source: 'eof', seq: 1 }));
    const b = JSON.stringify(bedsMsg({ source: 'eof', seq: 2, beds: { burn: { occupied: 1 } } }));
    const replies = c.writeRaw(`${a}\n${b}`, 2);
    c.end();
    const [r1, r2] = await replies;
    assert.equal(r1.ok, true, JSON.stringify(r1));
    assert.equal(r2.ok, true, JSON.stringify(r2));
    assert.equal(r2.offset, r1.offset + 1);
    await c.whenClosed; // the collector closes once everything is answered
    assert.equal(c.replies.length, 2);
    // an invalid unterminated line is answered too
    const d = await stack.feed();
    const r3 = d.writeRaw('{"type":', 1);
    d.end();
    assertError((await r3)[0], { error: 'bad_json', field: '', seq: null }, 'unterminated bad line');
    await d.whenClosed;
  }));

  test('hostile bytes never crash the collector', stack.guard(async () => {
    const c = await stack.feed();
    try {
      const rnd = prng(0xbed5);
      const hostile = [];
      // random binary lines (no newline inside)
      for (let i = 0; i < 300; i++) {
        const n = 1 + Math.floor(rnd() * 3000);
        const b = Buffer.alloc(n);
        for (let j = 0; j < n; j++) b[j] = Math.floor(rnd() * 256);
        for (let j = 0; j < n; j++) if (b[j] === 10) b[j] = 0;
        hostile.push(b);
      }
      // JSON-looking garbage: random structural characters
      const alphabet = '{}[]":,0123456789.eE+-tfnul\\ ';
      for (let i = 0; i < 200; i++) {
        let t = '';
        const n = 1 + Math.floor(rnd() * 400);
        for (let j = 0; j < n; j++) t += alphabet[Math.floor(rnd() * alphabet.length)];
        hostile.push(Buffer.from(t));
      }
      const text = [
        rawBeds(1, ',"beds":{"icu_adult":{"occupied":1e400}}'),
        rawBeds(1, ',"beds":{"icu_adult":{"occupied":-1e400}}'),
        rawBeds(1, ',"beds":{"icu_adult":{"occupied":123456789012345678901234567890}}'),
        rawBeds(1, ',"beds":{"icu_adult":{"occupied":NaN}}'),
        rawBeds(1, ',"beds":{"icu_adult":{"occupied":Infinity}}'),
        rawBeds(1, ',"beds":{"icu_adult":{"occupied":0x10}}'),
        rawBeds('1e400', ''),
        rawBeds('99999999999999999999999999999999999999', ''),
        rawBeds(1, ',"ed":{"status":"advisory","reason":"\\ud800"}'),
        rawBeds(1, ',"ed":{"status":"advisory","reason":"\\udc00\\ud800"}'),
        rawBeds(1, ',"ed":{"status":"advisory","reason":"\\u12"}'),
        '['.repeat(30000) + ']'.repeat(30000),
        '{"a":'.repeat(10000) + '1' + '}'.repeat(10000),
        rawBeds(1, ',"beds":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)),
        '"' + 'a'.repeat(60000) + '"',
        '{' + Array.from({ length: 3000 }, (_, i) => `"k${i}":${i}`).join(',') + '}',
        rawBeds(1, ',"beds":{' + Array.from({ length: 2000 }, (_, i) => `"t${i}":{}`).join(',') + '}'),
        '{"seq":1,"seq":2,"seq":3,"type":"beds"}',
        '\u0000\u0000\u0000',
      ].map((t) => Buffer.from(t));
      hostile.push(...text);
      // invalid UTF-8 in every kind of place
      const bytes = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
      const invalidUtf8 = [
        bytes('{"type":"beds","source":"s', [0xff], '","seq":1,"at":"', isoNow(), '","hospital":"bach-mai"}'),
        bytes('{"type":"beds","source":"s","seq":1,"at":"', isoNow(), '","hospital":"bach-', [0xe2, 0x82], '"}'),
        bytes(rawBeds(1, ',"ed":{"status":"advisory","reason":"'), [0xc3, 0x28], '"}}'),
        bytes(rawBeds(1, ',"ed":{"status":"advisory","reason":"'), [0xc0, 0xaf], '"}}'),
        bytes(rawBeds(1, ',"ed":{"status":"advisory","reason":"'), [0xed, 0xa0, 0x80], '"}}'),
        bytes(rawBeds(1, ',"ed":{"status":"advisory","reason":"'), [0xf4, 0x90, 0x80, 0x80], '"}}'),
        bytes(rawBeds(1, ',"'), [0xfe, 0xfe, 0xc3], '":1'),
        bytes(rawBeds(1, ',"'), Buffer.from('é'.repeat(30)), [0xc3], '":1'),
        bytes(rawBeds(1, ',"beds":{"'), [0x80, 0x80], '":{"occupied":1}}'),
        bytes([0xef, 0xbb, 0xbf, 0xff, 0xfe, 0x00]),
      ];
      hostile.push(...invalidUtf8);
      const replies = await c.writeRaw(Buffer.concat(hostile.flatMap((b) => [b, Buffer.from('\n')])), hostile.length);
      assert.equal(replies.length, hostile.length);
      replies.forEach((r, i) => {
        assert.equal(r.unparsable, undefined, `reply ${i} is not JSON: ${r.unparsable}`);
        assert.equal(r.ok, false, `hostile line ${i} was accepted: ${hostile[i].toString('utf8').slice(0, 200)}`);
        assert.ok(ERROR_CODES.has(r.error), `line ${i}: unknown error code ${r.error}`);
        assert.ok(r.seq === null || Number.isSafeInteger(r.seq), `line ${i}: seq ${r.seq}`);
      });
      // the specific ones whose answer the protocol fixes
      const at = (i) => replies[300 + 200 + i];
      assert.equal(at(0).error, 'wrong_type');
      assert.equal(at(0).field, 'beds.icu_adult.occupied');
      assert.equal(at(2).error, 'out_of_range');
      assert.equal(at(2).field, 'beds.icu_adult.occupied');
      assert.equal(at(7).error, 'out_of_range');
      assert.equal(at(7).field, 'seq');
      // a flood without any newline: one line_too_long, then normal service
      const flood = Buffer.alloc(4 << 20, 0x7b);
      const after = c.writeRaw(Buffer.concat([flood, Buffer.from('\n' + JSON.stringify(bedsMsg({ source: 'hostile', seq: 1 })) + '\n')]), 2);
      const [tooLong, ok] = await after;
      assert.equal(tooLong.error, 'line_too_long');
      assert.equal(ok.ok, true, JSON.stringify(ok));
      assert.equal(c.unexpected, 0);
      assert.ok(stack.procs.collector.running, `the collector exited (code ${stack.procs.collector.code}, signal ${stack.procs.collector.signal})`);
    } finally {
      c.destroy();
    }
    // abrupt disconnects in the middle of a line and of a batch
    for (let i = 0; i < 20; i++) {
      const s = net.connect(stack.collectorPort, '127.0.0.1');
      await new Promise((r) => s.on('connect', r));
      await new Promise((r) => s.write(JSON.stringify(bedsMsg({ source: 'abrupt', seq: 100 + i })) + '\n{"type":"be', r));
      s.destroy();
    }
    const d = await stack.feed();
    const r = await d.send(bedsMsg({ source: 'hostile', seq: 2 }));
    d.destroy();
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(stack.procs.collector.running, `the collector exited (code ${stack.procs.collector.code}, signal ${stack.procs.collector.signal})`);
  }));

  test('collector and server exit 0 on SIGTERM', stack.guard(async () => {
    feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
  }));
});

describe('feed connection limit', () => {
  const stack = new Stack({ env: { BP_COLLECTOR_MAX_CONNECTIONS: '3' } });
  const clients = [];

  // A connection the collector accepted (the harness' own probe may still
  // count for a moment, so a refusal is retried).
  async function accepted(seq) {
    return waitFor(async () => {
      const c = await stack.feed();
      const r = await c.send(bedsMsg({ source: 'limit', seq }));
      if (r.ok) return c;
      c.destroy();
      assert.equal(r.error, 'too_many_connections', JSON.stringify(r));
      return false;
    }, { timeout: 10000, interval: 100, what: 'an accepted connection' });
  }

  before(stack.guard(async () => {
    await stack.startRedis();
    await stack.startCollector();
  }));
  after(async () => {
    for (const c of clients) c.destroy();
    await stack.stop();
  });

  test('the 4th connection gets one too_many_connections line and is closed', stack.guard(async () => {
    for (let i = 1; i <= 3; i++) clients.push(await accepted(i));
    const extra = net.connect(stack.collectorPort, '127.0.0.1');
    const chunks = [];
    extra.on('error', () => {});
    // write only after the refusal arrived: data unread at close would turn
    // the collector's FIN into a reset that may discard the refusal
    extra.on('data', (d) => {
      if (!chunks.length) extra.write(JSON.stringify(bedsMsg({ source: 'limit', seq: 50 })) + '\n');
      chunks.push(d);
    });
    await new Promise((resolve) => extra.on('close', resolve));
    const text = Buffer.concat(chunks).toString('utf8');
    const lines = text.split('\n');
    assert.equal(lines.length, 2, `expected exactly one line: ${JSON.stringify(text)}`);
    assert.equal(lines[1], '');
    const r = JSON.parse(lines[0]);
    assert.equal(r.ok, false);
    assert.equal(r.error, 'too_many_connections');
    assert.equal(r.seq, null);
    assert.equal(typeof r.message, 'string');
    // its line was not applied
    assert.equal(stack.redis('HGET', 'bp:sources', 'limit').split(' ')[0], '3');
    // the first three keep working
    for (const [i, c] of clients.entries()) {
      const ok = await c.send(bedsMsg({ source: `limit-${i}`, seq: 1 }));
      assert.equal(ok.ok, true, JSON.stringify(ok));
    }
    // a freed place is given to the next connection
    clients.shift().destroy();
    clients.push(await accepted(4));
  }));

  test('collector exits 0 on SIGTERM', stack.guard(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
  }));
});

describe('Redis state after accepted lines', () => {
  const stack = new Stack();
  let feed;
  const base = registry.hospitals.find((h) => h.id === 'bach-mai').beds;

  before(stack.guard(async () => {
    await stack.start();
    feed = await stack.feed();
  }));
  after(async () => {
    if (feed) feed.destroy();
    await stack.stop();
  });

  test('bach-mai holds the merged figures, version = accepted changes, stream IDs = offsets', stack.guard(async () => {
    const t0 = Date.now() - 60e3;
    const at = (i) => new Date(t0 + i * 1000).toISOString();
    const until = new Date(t0 + 3 * 3600e3).toISOString();
    const lines = [
      bedsMsg({ source: 'his-bach-mai', seq: 1, at: at(1), beds: { icu_adult: { occupied: 70 } } }),
      bedsMsg({ source: 'his-bach-mai', seq: 2, at: at(2), beds: { icu_adult: { surge24: 5 } } }),
      bedsMsg({ source: 'his-bach-mai', seq: 3, at: at(3), beds: { icu_adult: { occupied: -1 } } }), // rejected
      bedsMsg({ source: 'his-bach-mai', seq: 2, at: at(3), beds: { icu_adult: { occupied: 1 } } }), // duplicate
      bedsMsg({ source: 'his-bach-mai', seq: 4, at: at(4), beds: { emergency: { occupied: 100 } }, ed: { status: 'diversion', reason: 'không còn giường ICU', until, waiting: 12 } }),
      ambulanceMsg({ source: 'avl-115', seq: 1, at: at(4), status: 'transporting', lat: 21.0285, lon: 105.8542, heading: 135.5, speed: 42, destination: 'bach-mai', incident: 'INC-1' }),
      bedsMsg({ source: 'his-2', seq: 1, at: at(5), beds: { medical_surgical: { staffed: 1200, occupied: 1100 }, burn: { staffed: 4, occupied: 6 } } }),
      ambulanceMsg({ source: 'avl-115', seq: 2, at: at(6), status: 'at_hospital', destination: null, incident: '' }),
      bedsMsg({ source: 'his-2', seq: 2, at: at(7) }), // no figures: confirms, counts as a change
    ];
    const replies = [];
    for (const l of lines) replies.push(await feed.send(l));
    assert.equal(replies[2].error, 'out_of_range');
    assert.equal(replies[3].duplicate, true);
    const acked = replies.map((r, i) => ({ r, l: lines[i] })).filter(({ r }) => r.ok && !r.duplicate);
    assert.equal(acked.length, 7);
    acked.forEach(({ r }, i) => assert.equal(r.offset, i + 1));

    const h = stack.stored('hospital', 'bach-mai');
    assert.equal(h.version, 5, 'version counts the accepted changes to bach-mai');
    assert.equal(h.at, t0 + 7000);
    assert.equal(h.source, 'his-2');
    assert.equal(typeof h.updated, 'number');
    assert.deepEqual(h.beds.icu_adult, { staffed: base.icu_adult.staffed, occupied: 70, surge24: 5 });
    assert.deepEqual(h.beds.emergency, { staffed: base.emergency.staffed, occupied: 100, surge24: base.emergency.surge24 });
    assert.deepEqual(h.beds.medical_surgical, { staffed: 1200, occupied: 1100, surge24: base.medical_surgical.surge24 });
    assert.deepEqual(h.beds.burn, { staffed: 4, occupied: 6 }, 'a bed type outside the registry baseline is added');
    // Redis holds only the bed types reported; the others are the registry
    // baseline, which the server shows as it is
    assert.deepEqual(Object.keys(h.beds).sort(), ['burn', 'emergency', 'icu_adult', 'medical_surgical']);
    await waitFor(async () => (await stack.get('/api/v1/hospitals/bach-mai')).json.version === 5, { what: 'the server to follow' });
    const rest = (await stack.get('/api/v1/hospitals/bach-mai')).json;
    for (const t of ['icu_pediatric', 'pediatrics', 'isolation', 'operating_room']) {
      assert.deepEqual(rest.beds[t], { staffed: base[t].staffed, occupied: null, surge24: base[t].surge24, available: null, overflow: null },
        `${t} keeps the registry baseline`);
    }
    assert.equal(rest.beds.icu_adult.occupied, 70);
    assert.deepEqual(h.ed, { status: 'diversion', reason: 'không còn giường ICU', until: Date.parse(until), waiting: 12 });

    const a = stack.stored('ambulance', '115-HK-03');
    assert.equal(a.version, 2);
    assert.equal(a.status, 'at_hospital');
    assert.equal(a.lat, 21.0285);
    assert.equal(a.lon, 105.8542);
    assert.equal(a.heading, 135.5);
    assert.equal(a.speed, 42);
    assert.ok(!a.destination, `destination cleared, got ${JSON.stringify(a.destination)}`);
    assert.ok(!a.incident, `incident cleared, got ${JSON.stringify(a.incident)}`);

    // the stream: one entry per accepted change, ID <offset>-0, in order
    const raw = stack.redis('XRANGE', 'bp:stream', '-', '+').split('\n');
    const entries = [];
    for (let i = 0; i < raw.length; i += 7) {
      assert.deepEqual([raw[i + 1], raw[i + 3], raw[i + 5]], ['k', 'i', 'd'], `entry ${raw[i]}`);
      entries.push({ id: raw[i], kind: raw[i + 2], entity: raw[i + 4], data: JSON.parse(raw[i + 6]) });
    }
    assert.deepEqual(entries.map((e) => e.id), acked.map(({ r }) => `${r.offset}-0`));
    entries.forEach((e, i) => {
      const l = acked[i].l;
      assert.equal(e.kind, l.type === 'beds' ? 'hospital' : 'ambulance');
      assert.equal(e.entity, l.type === 'beds' ? l.hospital : l.id);
      assert.equal(e.data.at, Date.parse(l.at));
      assert.equal(e.data.source, l.source);
    });
    assert.deepEqual(entries.filter((e) => e.entity === 'bach-mai').map((e) => e.data.version), [1, 2, 3, 4, 5]);
    // an event carries each changed bed type whole, merged
    assert.deepEqual(entries[1].data.beds, { icu_adult: { staffed: base.icu_adult.staffed, occupied: 70, surge24: 5 } });
    assert.equal(entries[6].data.beds, undefined);
    assert.equal(Number(stack.redis('GET', 'bp:offset')), 7);
    assert.match(stack.redis('GET', 'bp:epoch'), /^[0-9a-f]{32}$/);
    assert.equal(stack.redis('HGET', 'bp:sources', 'his-bach-mai'), `4 ${acked[2].r.offset}`);
    assert.equal(stack.redis('HGET', 'bp:sources', 'avl-115'), `2 ${acked[5].r.offset}`);
  }));

  test('processes exit 0 on SIGTERM', stack.guard(async () => {
    feed.destroy();
    await stack.stop({ keep: true });
    assert.deepEqual(stack.problems(), []);
  }));
});
