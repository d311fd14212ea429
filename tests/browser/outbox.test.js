'use strict';
// web/outbox.js (the manager's edits kept on the phone until they are
// sent) in Node with a fake localStorage: one entry per token and
// hospital, and every bound — entries, bytes (also a storage that is
// full), age.

const { describe, test, before, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { ROOT } = require('../lib/stack.js');

class FakeStorage {
  constructor(quota = Infinity) {
    this.items = new Map();
    this.quota = quota;
  }

  getItem(k) {
    return this.items.has(k) ? this.items.get(k) : null;
  }

  setItem(k, v) {
    if (String(v).length > this.quota) throw new Error('QuotaExceededError');
    this.items.set(k, String(v));
  }

  removeItem(k) {
    this.items.delete(k);
  }
}

describe('outbox', () => {
  let ob;
  const T0 = Date.parse('2026-11-22T08:00:00Z');
  const edit = (hospital, at, extra = {}) => Object.assign({
    owner: 't-lan', hospital, version: 7, values: { 'beds.icu_adult.occupied': '64' }, change: { beds: { icu_adult: { occupied: 64 } } }, at,
  }, extra);

  before(async () => {
    ob = await import(pathToFileURL(path.join(ROOT, 'web/outbox.js')).href);
  });
  beforeEach(() => {
    globalThis.localStorage = new FakeStorage();
  });

  test('one entry per token and hospital; a later save replaces it; dropped when sent', () => {
    assert.equal(ob.keepEdit(edit('bach-mai', T0), T0), true);
    assert.equal(ob.keepEdit(edit('bach-mai', T0 + 1000, { values: { 'ed.status': 'diversion' } }), T0 + 1000), true);
    assert.equal(ob.keepEdit(edit('bach-mai', T0 + 2000, { owner: 't-minh' }), T0 + 2000), true);
    assert.deepEqual(ob.pendingEdit('t-lan', 'bach-mai', T0 + 3000).values, { 'ed.status': 'diversion' });
    assert.equal(ob.pendingEdit('t-minh', 'bach-mai', T0 + 3000).owner, 't-minh');
    assert.equal(ob.pendingEdit('t-lan', 'viet-duc', T0 + 3000), null);
    ob.dropEdit('t-lan', 'bach-mai', T0 + 3000);
    assert.equal(ob.pendingEdit('t-lan', 'bach-mai', T0 + 3000), null);
    assert.notEqual(ob.pendingEdit('t-minh', 'bach-mai', T0 + 3000), null);
    ob.dropEdit('t-minh', 'bach-mai', T0 + 3000);
    assert.equal(globalThis.localStorage.getItem('bedpulse.outbox'), null);
  });

  test('at most MAX_ENTRIES: the oldest go first', () => {
    for (let i = 0; i <= ob.MAX_ENTRIES; i++) assert.equal(ob.keepEdit(edit(`h-${i}`, T0 + i), T0 + i), true);
    const now = T0 + ob.MAX_ENTRIES + 1;
    assert.equal(ob.pendingEdit('t-lan', 'h-0', now), null, 'the oldest was dropped');
    for (let i = 1; i <= ob.MAX_ENTRIES; i++) assert.notEqual(ob.pendingEdit('t-lan', `h-${i}`, now), null);
    assert.equal(JSON.parse(globalThis.localStorage.getItem('bedpulse.outbox')).length, ob.MAX_ENTRIES);
  });

  test('at most MAX_BYTES; an edit that cannot fit is refused', () => {
    const reason = 'x'.repeat(4000);
    let n = 0;
    while (ob.keepEdit(edit(`h-${n}`, T0 + n, { values: { 'ed.reason': reason } }), T0 + n) && n < 100) n++;
    assert.ok(globalThis.localStorage.getItem('bedpulse.outbox').length <= ob.MAX_BYTES);
    // everything after the first that did not fit still went in: only the oldest were dropped
    assert.equal(n, 100);
    assert.notEqual(ob.pendingEdit('t-lan', 'h-99', T0 + 100), null);
    assert.equal(ob.pendingEdit('t-lan', 'h-0', T0 + 100), null);
    assert.equal(ob.keepEdit(edit('huge', T0 + 200, { values: { 'ed.reason': 'y'.repeat(ob.MAX_BYTES) } }), T0 + 200), false);
  });

  test('a full storage drops the oldest to make room, or refuses', () => {
    const one = JSON.stringify([edit('a', T0)]).length;
    globalThis.localStorage = new FakeStorage(2 * one + 10); // room for two
    assert.equal(ob.keepEdit(edit('a', T0), T0), true);
    assert.equal(ob.keepEdit(edit('b', T0 + 1), T0 + 1), true);
    assert.equal(ob.keepEdit(edit('c', T0 + 2), T0 + 2), true);
    assert.equal(ob.pendingEdit('t-lan', 'a', T0 + 3), null);
    assert.notEqual(ob.pendingEdit('t-lan', 'c', T0 + 3), null);
    globalThis.localStorage = new FakeStorage(10);
    assert.equal(ob.keepEdit(edit('a', T0), T0), false);
    delete globalThis.localStorage;
    assert.equal(ob.keepEdit(edit('a', T0), T0), false, 'no storage at all');
    assert.equal(ob.pendingEdit('t-lan', 'a', T0), null);
  });

  test('older than MAX_AGE_MS is forgotten; damaged storage reads as empty', () => {
    assert.equal(ob.keepEdit(edit('bach-mai', T0), T0), true);
    assert.notEqual(ob.pendingEdit('t-lan', 'bach-mai', T0 + ob.MAX_AGE_MS - 1), null);
    assert.equal(ob.pendingEdit('t-lan', 'bach-mai', T0 + ob.MAX_AGE_MS), null);
    globalThis.localStorage.setItem('bedpulse.outbox', '{not json');
    assert.equal(ob.pendingEdit('t-lan', 'bach-mai', T0), null);
    globalThis.localStorage.setItem('bedpulse.outbox', JSON.stringify([{ owner: 1 }, null, edit('x', T0, { version: 'v' })]));
    assert.equal(ob.pendingEdit('t-lan', 'x', T0), null);
    assert.equal(ob.keepEdit(edit('bach-mai', T0), T0), true);
  });
});
