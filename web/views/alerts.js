// The dispatcher view's alert bar (docs/dispatch.md "Alerts"): the active
// alerts, not acknowledged first, then newest first, each with its words in
// the current language (alert_text.js), since when, and who acknowledged it
// and when (Hanoi time) or an "Acknowledge" button for the roles that may
// (dispatcher, admin: the page's role comes from GET /api/v1/session via
// setRole()). An acknowledgement is sent to the server, which pushes the
// new list to every page: this one shows it when it comes back.
//
// Alerts of one rule that started together come as one group ("21
// hospitals at pressure level 4"): its row says how many, and "Show the
// list" opens the members, each in words.
//
// While any alert is not acknowledged (and its rule not muted) an alarm
// sounds (WebAudio: no media file, CSP media-src stays 'self'), by the
// severity of the loudest one: critical (three tones, again every 10 s),
// warning (two tones, every 30 s) or notice (one soft tone, once). "Mute"
// silences this page until a new alert comes. A dispatcher can also mute
// one rule for a while on every console ("Mute this kind…"): recorded by
// the server, shown to everyone with who and until when, and audited.
// Browsers keep an AudioContext suspended until the person touches the
// page: the bar then says so, and the first click or key press anywhere
// lets the sound out.
//
// For tests and the curious, the bar carries its state: data-sound
// ("on" | "muted" | "off"), data-tone (the severity sounding: "critical" |
// "warning" | "notice" | "none"), data-beeps (alarms sounded, or attempted while
// the browser holds the sound back), data-audio (the AudioContext's state:
// "idle" before the first alarm, "running", "suspended", "unavailable"),
// data-count and data-unacked.
//
// New, acknowledged and cleared alerts are announced in the live region.
// Colour is never alone: a "!" or a check mark and the words
// "Not acknowledged" / "Acknowledged by …" say the same.

import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { el, fill, attr, text } from '../dom.js';
import { ackAlert, muteRule, unmuteRule } from '../api.js';
import { alertText, alertSince, alertAcked, orderAlerts, memberTexts, ruleName } from '../alert_text.js';
import { NOTABLE, INFO } from './announcer.js';

export const REPEAT_MS = 10000;
// The alarm of each severity: its notes (seconds from the start, Hz) and how
// often it repeats while unacknowledged (0: once).
export const TONES = {
  critical: { every: REPEAT_MS, notes: [[0, 880], [0.22, 660], [0.44, 880]] },
  warning: { every: 30000, notes: [[0, 660], [0.25, 550]] },
  notice: { every: 0, notes: [[0, 520]] },
};
const LOUDER = ['notice', 'warning', 'critical'];
const MUTE_MINUTES = [15, 30, 60, 120, 240, 480];
const PENDING_MS = 5000; // an acknowledgement not seen in the list by then may be retried

// The alarm: an AudioContext made on the first alarm (or the first touch of
// the page), two short tones per beep. Never throws; counts every beep.
class Alarm {
  constructor(onState) {
    this.ctx = null;
    this.count = 0;
    this.unavailable = false;
    this.onState = onState;
    const unlock = () => this.resume(true);
    document.addEventListener('pointerdown', unlock, true);
    document.addEventListener('keydown', unlock, true);
  }

  state() {
    if (this.unavailable) return 'unavailable';
    return this.ctx ? this.ctx.state : 'idle';
  }

  context() {
    if (this.ctx || this.unavailable) return this.ctx;
    const AC = window.AudioContext || window.webkitAudioContext;
    try {
      this.ctx = new AC();
      this.ctx.onstatechange = () => this.onState();
    } catch (e) {
      this.unavailable = true;
    }
    return this.ctx;
  }

  // make: also create the context (a gesture allows it to run at once)
  resume(make) {
    const ctx = make ? this.context() : this.ctx;
    if (ctx && ctx.state === 'suspended') ctx.resume().catch(() => {});
  }

  beep(tone = 'critical') {
    this.count++;
    const ctx = this.context();
    if (!ctx) return;
    if (ctx.state !== 'running') {
      // held back until a gesture; nothing is queued, so no burst later
      this.resume(false);
      return;
    }
    const t0 = ctx.currentTime + 0.02;
    const loud = tone === 'notice' ? 0.12 : 0.3;
    (TONES[tone] || TONES.critical).notes.forEach(([at, hz]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, t0 + at);
      gain.gain.exponentialRampToValueAtTime(loud, t0 + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + at);
      osc.stop(t0 + at + 0.21);
    });
  }
}

export class AlertBar {
  // say(message, importance): the live region
  constructor(root, feed, { say }) {
    this.root = root;
    this.feed = feed;
    this.say = say;
    this.canAck = false; // until the session says otherwise
    this.known = null; // id -> alert, as last seen (null: no list yet)
    this.pending = new Map(); // id -> timer of an acknowledgement sent
    this.muted = false;
    this.sound = null;
    this.beepTimer = 0;
    this.error = null; // the last refused acknowledgement (shown until the next try)
    this.alarm = new Alarm(() => this.renderSound());
    this.rows = new Map(); // id -> {li, mark, sev, text, more, members, since, state, btn, muteSel}
    this.open = new Set(); // groups whose list is shown
    this.tone = null; // the severity sounding
    this.knownMutes = null; // rule -> mute, as last seen
    this.build();
  }

  build() {
    this.title = el('h2', { class: 'alerts-title', id: 'alerts-title' });
    this.count = el('span', { class: 'alerts-count', id: 'alerts-count' });
    this.soundText = el('span', { class: 'alerts-sound', id: 'alerts-sound' });
    this.blocked = el('span', { class: 'alerts-blocked', id: 'alerts-blocked', hidden: true });
    this.mute = el('button', { type: 'button', class: 'btn btn-quiet alerts-mute', id: 'alerts-mute', 'aria-pressed': 'false' });
    this.msgText = el('span');
    this.msgServer = el('span', { class: 'alerts-msg-server', lang: 'en', 'data-free-text': '' });
    this.msgLink = el('a', { class: 'banner-link', href: `/signin#next=${encodeURIComponent(window.location.pathname)}`, hidden: true });
    this.msg = el('p', { class: 'alerts-msg', id: 'alerts-msg', role: 'alert', hidden: true }, this.msgText, this.msgServer, this.msgLink);
    this.mutes = el('ul', { class: 'alerts-mutes', id: 'alerts-mutes', hidden: true });
    this.list = el('ul', { class: 'alerts-list', id: 'alerts-list' });
    this.empty = el('span', { class: 'alerts-empty', id: 'alerts-empty', hidden: true });
    fill(this.root,
      el('div', { class: 'alerts-head' },
        el('span', { class: 'alerts-icon', 'aria-hidden': 'true' }, '!'), this.title, this.count, this.empty,
        el('span', { class: 'alerts-right' }, this.soundText, this.blocked, this.mute)),
      this.msg, this.mutes, this.list);
    attr(this.root, 'aria-labelledby', 'alerts-title');
    Object.assign(this.root.dataset, { sound: 'off', tone: 'none', beeps: '0', audio: 'idle', count: '0', unacked: '0' });
    this.mute.addEventListener('click', () => {
      this.muted = !this.muted;
      this.renderSound();
    });
    this.list.addEventListener('click', (ev) => {
      const b = ev.target.closest('button.alert-ack');
      if (b) this.ack(b.dataset.id);
      const more = ev.target.closest('button.alert-more');
      if (more) {
        const id = more.dataset.id;
        if (this.open.has(id)) this.open.delete(id);
        else this.open.add(id);
        this.renderList(this.feed.serverNow());
      }
    });
    this.list.addEventListener('change', (ev) => {
      const sel = ev.target.closest('select.alert-mute-rule');
      if (!sel || !sel.value) return;
      const minutes = Number(sel.value);
      sel.value = '';
      this.muteRule(sel.dataset.rule, minutes);
    });
    this.mutes.addEventListener('click', (ev) => {
      const b = ev.target.closest('button.alerts-unmute-rule');
      if (b) this.unmuteRule(b.dataset.rule);
    });
  }

  // From GET /api/v1/session: {role, anonymous} (null: not known / ended).
  setRole(who) {
    this.canAck = !!who && (who.role === 'dispatcher' || who.role === 'admin');
    this.renderList(this.feed.serverNow());
    this.renderMutes(this.feed.serverNow());
    this.root.dataset.role = who ? who.role : 'none'; // applied: the buttons follow it
  }

  // frame: {alerts, lang, clock, now}
  render(frame) {
    if (frame.lang) this.renderChrome();
    const on = this.feed.hasAlerts;
    if (this.root.hidden === on) this.root.hidden = !on;
    if (!on) return;
    if (frame.alerts) this.observe();
    if (frame.alerts || frame.lang || frame.clock) {
      this.renderList(frame.now);
      this.renderMutes(frame.now);
    }
    if (frame.alerts || frame.lang) this.renderSound();
  }

  renderChrome() {
    text(this.title, t('alerts.title'));
    text(this.msgLink, t('banner.signin_link'));
    this.showError(this.error);
  }

  // Compares the new list with the last: announces what is new, acknowledged
  // or cleared; a new alert lifts the mute and sounds at once.
  observe() {
    const list = this.feed.alerts;
    const now = new Map(list.map((a) => [a.id, a]));
    const hospitals = this.feed.hospitals;
    let fresh = false;
    if (this.known === null) {
      fresh = list.some((a) => !a.ack && !a.muted);
    } else {
      const added = [];
      const gone = [];
      for (const a of orderAlerts(list)) {
        const before = this.known.get(a.id);
        if (!before) {
          added.push(a);
          if (!a.ack && !a.muted) fresh = true;
        } else if (!before.ack && a.ack) {
          this.say(t('announce.alert_acked', { text: alertText(a, hospitals), name: a.ack.name || a.ack.by }), INFO);
        }
      }
      for (const [id, a] of this.known) if (!now.has(id)) gone.push(a);
      // one sentence however many came at once (an ED diversion or a level
      // change is also said by the announcer itself, more urgently)
      if (added.length === 1) this.say(t('announce.alert_new', { text: alertText(added[0], hospitals) }), NOTABLE);
      else if (added.length) this.say(t('announce.alerts_new', { n: added.length, text: alertText(added[0], hospitals) }), NOTABLE);
      if (gone.length === 1) this.say(t('announce.alert_cleared', { text: alertText(gone[0], hospitals) }), INFO);
      else if (gone.length) this.say(t('announce.alerts_cleared', { n: gone.length }), INFO);
    }
    for (const id of [...this.pending.keys()]) {
      const a = now.get(id);
      if (!a || a.ack) this.donePending(id);
    }
    const mutes = new Map((this.feed.alertMutes || []).map((m) => [m.rule, m]));
    if (this.knownMutes) {
      for (const [rule, m] of mutes) {
        const before = this.knownMutes.get(rule);
        if (!before || before.until !== m.until) {
          this.say(t('announce.rule_muted', { name: m.name || m.by, rule: ruleName(rule), time: fmt.shortDateTime(Date.parse(m.until), this.feed.serverNow()) }), INFO);
        }
      }
      for (const rule of this.knownMutes.keys()) if (!mutes.has(rule)) this.say(t('announce.rule_unmuted', { rule: ruleName(rule) }), INFO);
    }
    this.knownMutes = mutes;
    this.known = now;
    if (fresh) {
      this.muted = false;
      this.sound = null; // (re)start the alarm now
    }
  }

  donePending(id) {
    clearTimeout(this.pending.get(id));
    this.pending.delete(id);
  }

  renderList(now) {
    if (!this.feed.hasAlerts) return;
    const alerts = orderAlerts(this.feed.alerts);
    const hospitals = this.feed.hospitals;
    const seen = new Set();
    let prev = null;
    for (const a of alerts) {
      seen.add(a.id);
      let r = this.rows.get(a.id);
      if (!r) {
        r = this.makeRow(a.id);
        this.rows.set(a.id, r);
      }
      // keep the order without moving rows that are already in place
      const want = prev ? prev.nextSibling : this.list.firstChild;
      if (want !== r.li) this.list.insertBefore(r.li, want);
      prev = r.li;
      this.fillRow(r, a, hospitals, now);
    }
    for (const [id, r] of this.rows) {
      if (seen.has(id)) continue;
      r.li.remove();
      this.rows.delete(id);
    }
    const unacked = alerts.filter((a) => !a.ack).length;
    text(this.count, t('alerts.count', { n: fmt.int(alerts.length), m: fmt.int(unacked) }));
    text(this.empty, t('alerts.none'));
    if (this.empty.hidden === !alerts.length) this.empty.hidden = alerts.length > 0;
    if (this.list.hidden === !!alerts.length) this.list.hidden = !alerts.length;
    if (this.count.hidden === !!alerts.length) this.count.hidden = !alerts.length;
    this.root.dataset.count = String(alerts.length);
    this.root.dataset.unacked = String(unacked);
  }

  makeRow(id) {
    const r = {
      mark: el('span', { class: 'alert-mark', 'aria-hidden': 'true' }),
      sev: el('span', { class: 'alert-sev' }),
      text: el('span', { class: 'alert-text' }),
      more: el('button', { type: 'button', class: 'link alert-more', dataset: { id }, 'aria-expanded': 'false', hidden: true }),
      members: el('ul', { class: 'alert-members', hidden: true }),
      since: el('span', { class: 'alert-since' }),
      state: el('span', { class: 'alert-state' }),
      btn: el('button', { type: 'button', class: 'btn alert-ack', dataset: { id } }),
      muteSel: el('select', { class: 'alert-mute-rule', hidden: true }),
    };
    r.li = el('li', { class: 'alert', dataset: { id } }, r.mark,
      el('span', { class: 'alert-main' }, r.sev, r.text, r.more), r.since, r.state,
      el('span', { class: 'alert-actions' }, r.btn, r.muteSel), r.members);
    return r;
  }

  fillRow(r, a, hospitals, now) {
    const acked = !!a.ack;
    const ackState = acked ? 'yes' : 'no';
    if (r.li.dataset.ack !== ackState) r.li.dataset.ack = ackState;
    if (r.li.dataset.rule !== a.rule) r.li.dataset.rule = a.rule;
    const severity = a.severity || 'critical';
    if (r.li.dataset.severity !== severity) r.li.dataset.severity = severity;
    const muted = a.muted ? 'yes' : 'no';
    if (r.li.dataset.muted !== muted) r.li.dataset.muted = muted;
    const words = alertText(a, hospitals);
    text(r.mark, acked ? '✓' : '!');
    text(r.sev, t(`alerts.severity_${severity}`));
    text(r.text, words);
    text(r.since, alertSince(a, now));
    text(r.state, acked ? alertAcked(a, now) : a.muted ? t('alerts.row_muted') : t('alerts.unacked'));
    // a group: how many, and its list on demand
    const members = a.group && Array.isArray(a.members) && a.members.length > 1 ? a.members : null;
    const open = !!members && this.open.has(a.id);
    if (r.more.hidden === !!members) r.more.hidden = !members;
    if (members) {
      text(r.more, open ? t('alerts.members_hide') : t('alerts.members_show', { n: fmt.int(members.length) }));
      attr(r.more, 'aria-expanded', String(open));
      attr(r.more, 'aria-label', t('alerts.members_label', { text: words }));
    }
    if (r.members.hidden === open) r.members.hidden = !open;
    if (open) {
      const items = memberTexts(a, hospitals);
      const key = items.map((x) => x.text).join('\n');
      if (r.members.dataset.key !== key) {
        r.members.dataset.key = key;
        fill(r.members, ...items.map((x) => el('li', { class: 'alert-member', dataset: { subject: x.subject } }, x.text)));
      }
    }
    const showBtn = !acked && this.canAck;
    if (r.btn.hidden === showBtn) r.btn.hidden = !showBtn;
    const sending = this.pending.has(a.id);
    if (r.btn.disabled !== sending) r.btn.disabled = sending;
    text(r.btn, sending ? t('alerts.acking') : t('alerts.ack'));
    attr(r.btn, 'aria-label', t('alerts.ack_label', { text: words }));
    // mute this rule on every console for a while (dispatchers, admins)
    const showMute = this.canAck && !a.muted;
    if (r.muteSel.hidden === showMute) r.muteSel.hidden = !showMute;
    if (showMute) {
      r.muteSel.dataset.rule = a.rule;
      attr(r.muteSel, 'aria-label', t('alerts.mute_rule_label', { rule: ruleName(a.rule) }));
      const labels = [t('alerts.mute_rule'), ...MUTE_MINUTES.map((m) => (m < 60 ? t('alerts.mute_minutes', { n: m }) : t('alerts.mute_hours', { n: m / 60 })))];
      if (r.muteSel.dataset.lang !== labels.join('|')) {
        r.muteSel.dataset.lang = labels.join('|');
        fill(r.muteSel, el('option', { value: '' }, labels[0]),
          ...MUTE_MINUTES.map((m, i) => el('option', { value: String(m) }, labels[i + 1])));
      }
    }
  }

  // The rules muted now, with who, until when and (for those who may) Unmute.
  renderMutes(now) {
    const mutes = (this.feed.alertMutes || []).filter((m) => Date.parse(m.until) > now);
    if (this.mutes.hidden !== !mutes.length) this.mutes.hidden = !mutes.length;
    this.root.dataset.mutes = String(mutes.length);
    const key = [this.canAck, ...mutes.map((m) => `${m.rule}|${m.until}|${m.name}`), t('alerts.unmute_rule')].join('\n');
    if (this.mutes.dataset.key === key) return;
    this.mutes.dataset.key = key;
    fill(this.mutes, ...mutes.map((m) => {
      const rule = ruleName(m.rule);
      const li = el('li', { class: 'alerts-muted', dataset: { rule: m.rule } },
        el('span', { class: 'alerts-muted-text' }, t('alerts.muted_rule', { rule, time: fmt.shortDateTime(Date.parse(m.until), now), name: m.name || m.by })));
      if (this.canAck) {
        li.append(el('button', { type: 'button', class: 'btn btn-quiet alerts-unmute-rule', dataset: { rule: m.rule }, 'aria-label': t('alerts.unmute_rule_label', { rule }) }, t('alerts.unmute_rule')));
      }
      return li;
    }));
  }

  async muteRule(rule, minutes) {
    const r = await muteRule(rule, minutes);
    this.showError(r.ok ? null : Object.assign({ mute: true }, r));
  }

  async unmuteRule(rule) {
    const r = await unmuteRule(rule);
    this.showError(r.ok || r.status === 404 ? null : Object.assign({ mute: true }, r));
  }

  async ack(id) {
    if (this.pending.has(id)) return;
    this.pending.set(id, setTimeout(() => {
      this.pending.delete(id);
      this.renderList(this.feed.serverNow());
    }, PENDING_MS));
    this.renderList(this.feed.serverNow());
    const r = await ackAlert(id);
    if (!r.ok) this.donePending(id);
    this.showError(r.ok ? null : r);
    this.renderList(this.feed.serverNow());
  }

  // The answer of a refused acknowledgement in words, with the server's own
  // message (and a sign-in link for 401); null clears it.
  showError(r) {
    this.error = r;
    if (!r) {
      this.msg.hidden = true;
      return;
    }
    let key = r.mute ? 'alerts.err_mute' : 'alerts.err_other';
    if (r.status === 401) key = 'alerts.err_signin';
    else if (r.status === 403) key = 'alerts.err_forbidden';
    else if (r.error === 'unknown_alert') key = 'alerts.err_gone';
    text(this.msgText, t(key, { error: r.error }));
    text(this.msgServer, r.message ? ` (${r.message})` : '');
    this.msgLink.hidden = r.status !== 401;
    this.msg.hidden = false;
  }

  // The alarm's state, its words and the mute button; (re)starts or stops
  // the repeating beep when the state or the loudest severity changes.
  // Alerts acknowledged, or of a muted rule, do not sound.
  renderSound() {
    const loud = this.feed.alerts.filter((a) => !a.ack && !a.muted);
    const tone = loud.reduce((best, a) => {
      const s = TONES[a.severity] ? a.severity : 'critical';
      return !best || LOUDER.indexOf(s) > LOUDER.indexOf(best) ? s : best;
    }, null);
    if (!tone) this.muted = false;
    const state = !tone ? 'off' : this.muted ? 'muted' : 'on';
    if (state !== this.sound || (state === 'on' && tone !== this.tone)) {
      this.sound = state;
      this.tone = tone;
      this.root.dataset.sound = state;
      this.root.dataset.tone = tone || 'none';
      clearInterval(this.beepTimer);
      this.beepTimer = 0;
      if (state === 'on') {
        this.beep();
        if (TONES[tone].every) this.beepTimer = setInterval(() => this.beep(), TONES[tone].every);
      }
    }
    const every = tone ? TONES[tone].every : 0;
    text(this.soundText, state === 'on' && !every ? t('alerts.sound_once') : t(`alerts.sound_${state}`, { n: every / 1000 }));
    text(this.mute, t(this.muted ? 'alerts.unmute' : 'alerts.mute'));
    attr(this.mute, 'aria-pressed', String(this.muted));
    this.mute.disabled = !tone;
    const audio = this.alarm.state();
    this.root.dataset.audio = audio;
    const blocked = state === 'on' && (audio === 'suspended' || audio === 'unavailable');
    if (this.blocked.hidden === blocked) this.blocked.hidden = !blocked;
    if (blocked) text(this.blocked, t(audio === 'unavailable' ? 'alerts.sound_unavailable' : 'alerts.sound_blocked'));
  }

  beep() {
    this.alarm.beep(this.tone || 'critical');
    this.root.dataset.beeps = String(this.alarm.count);
    this.renderSound();
  }
}
