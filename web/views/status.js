// The top bar: brand, Hanoi clock (server-corrected), the connection
// indicator (always visible), the language toggle; the stale-data banner;
// and a polite live region that announces connection changes once each.

import { t, lang, otherLang } from '../i18n.js';
import * as fmt from '../format.js';
import { el, fill, attr, text } from '../dom.js';

export class StatusBar {
  constructor({ header, banner, announcer }, feed, onToggleLang) {
    this.header = header;
    this.banner = banner;
    this.announcer = announcer;
    this.feed = feed;
    this.lastAnnounced = null;
    this.build(onToggleLang);
  }

  build(onToggleLang) {
    this.title = el('h1', { class: 'brand-name' });
    this.subtitle = el('span', { class: 'brand-sub' });
    this.clockTime = el('time', { class: 'clock-time' });
    this.clockZone = el('span', { class: 'clock-zone' });
    this.clock = el('div', { class: 'clock' }, this.clockTime, ' ', this.clockZone);
    this.connLabel = el('span', { class: 'sr-only' });
    this.connText = el('span', { class: 'conn-text' });
    this.connSub = el('span', { class: 'conn-sub' });
    this.conn = el('div', { id: 'conn', class: 'conn', dataset: { state: 'connecting' } },
      el('span', { class: 'conn-dot', 'aria-hidden': 'true' }), this.connLabel, this.connText, this.connSub);
    this.langButton = el('button', { type: 'button', id: 'lang-toggle', class: 'lang-toggle' });
    this.langButton.addEventListener('click', onToggleLang);
    fill(this.header,
      el('div', { class: 'brand' }, el('span', { class: 'brand-mark', 'aria-hidden': 'true' }), this.title, this.subtitle),
      el('div', { class: 'top-right' }, this.clock, this.conn, this.langButton));
    this.bannerText = el('p', { class: 'banner-text' });
    fill(this.banner, el('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '!'), this.bannerText);
  }

  render(frame) {
    if (frame.lang) {
      document.documentElement.lang = lang();
      document.title = t('app.title');
      text(this.title, t('app.brand'));
      text(this.subtitle, t('app.subtitle'));
      text(this.clockZone, t('app.clock_zone'));
      attr(this.clock, 'title', t('app.clock_title'));
      text(this.connLabel, `${t('conn.label')}: `);
      text(this.langButton, t('lang.toggle'));
      attr(this.langButton, 'lang', otherLang());
      attr(this.langButton, 'title', t('lang.toggle_label'));
    }
    const now = frame.now;
    text(this.clockTime, fmt.clock(now));
    attr(this.clockTime, 'datetime', new Date(now).toISOString());

    const c = this.feed.connection();
    let main;
    let sub = '';
    if (c.status === 'live') main = t('conn.live');
    else if (c.status === 'reconnecting') main = t('conn.reconnecting');
    else if (c.status === 'offline') main = t('conn.offline', { time: fmt.time(c.lostSinceMs === null ? now : c.lostSinceMs) });
    else main = t('conn.connecting');
    if (c.status === 'reconnecting' || c.status === 'offline') sub = t('conn.attempt', { n: fmt.int(c.attempt) });
    if (this.conn.dataset.state !== c.status) this.conn.dataset.state = c.status;
    text(this.connText, main);
    text(this.connSub, sub);

    // announce each state once (not every retry count)
    if (c.status !== this.lastAnnounced && (this.lastAnnounced !== null || c.status !== 'connecting')) {
      text(this.announcer, `${t('conn.label')}: ${main}`);
    }
    this.lastAnnounced = c.status;

    if (c.stale) {
      const since = c.lastHeardMs;
      text(this.bannerText, since === null ? t('banner.never')
        : t('banner.stale', { time: fmt.shortDateTime(since, now), ago: fmt.ago(since, now, { seconds: true }) }));
      if (this.banner.hidden) this.banner.hidden = false;
    } else if (!this.banner.hidden) {
      this.banner.hidden = true;
    }
    document.body.classList.toggle('is-stale', c.stale);
  }
}
