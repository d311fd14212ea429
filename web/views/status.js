// The top bar: brand, Hanoi clock (server-corrected), the connection
// indicator (always visible), the language toggle; the full-width banner
// when the connection is lost or the data is stale (bannerMessage, shared
// with the wall); and connection changes announced once each (through the
// announcer).

import { t, lang, otherLang, setLang } from '../i18n.js';
import * as fmt from '../format.js';
import { el, fill, attr, text } from '../dom.js';

// A reconnect quicker than this does not raise the banner (a server
// restart, a load balancer moving the socket).
export const LOST_BANNER_MS = 2000;

// The banner's text, or null when there is nothing to warn about: the
// connection lost (or, at start, not made) for LOST_BANNER_MS (lostKey
// names the sentence; "no data yet" before the first snapshot), nothing
// heard for longer than a live connection allows, or the server saying it
// lost its data source (Redis). A page that connects at once never
// flashes it.
// 'signin' or 'forbidden' while the server refuses the live feed to this
// browser (close 4401: no valid sign-in; 4403: the role may not), else null.
export function refusal(c) {
  if (c.status === 'live') return null;
  if (c.closeCode === 4401) return 'signin';
  if (c.closeCode === 4403) return 'forbidden';
  return null;
}

export function bannerMessage(feed, now, lostKey) {
  const c = feed.connection();
  const refused = refusal(c);
  if (refused) return t(`banner.${refused}`);
  const heard = c.lastHeardMs;
  const lostFor = c.lostSinceMs === null ? 0 : now - c.lostSinceMs;
  const lost = c.status !== 'live' && lostFor >= LOST_BANNER_MS;
  const source = !lost && !c.stale && c.sourceStaleSinceMs !== null && feed.hasState;
  if (source) {
    const since = c.sourceStaleSinceMs;
    return t('banner.source', { time: fmt.shortDateTime(since, now), ago: fmt.ago(since, now, { seconds: true }) });
  }
  if (!lost && !c.stale) return null;
  if (!feed.hasState) return t('banner.never');
  const params = { time: fmt.shortDateTime(heard || now, now), ago: fmt.ago(heard || now, now, { seconds: true }) };
  return t(lost ? lostKey : 'banner.stale', params);
}

// The language toggle's words: the other language, in that language.
// The top bar of a page without the live feed (sign-in, notifications):
// the brand, the words beside it and the language toggle, which calls
// onToggle after switching. {brandName, brandSub, langButton}.
export function plainTopBar(header, onToggle) {
  const bar = {
    brandName: el('h1', { class: 'brand-name' }),
    brandSub: el('span', { class: 'brand-sub' }),
    langButton: el('button', { type: 'button', id: 'lang-toggle', class: 'lang-toggle' }),
  };
  fill(header,
    el('div', { class: 'brand' }, el('span', { class: 'brand-mark', 'aria-hidden': 'true' }), bar.brandName, bar.brandSub),
    el('div', { class: 'top-right' }, bar.langButton));
  bar.langButton.addEventListener('click', () => setLang(otherLang()).then(onToggle));
  return bar;
}

export function labelLangToggle(button) {
  text(button, t('lang.toggle'));
  attr(button, 'lang', otherLang());
  attr(button, 'title', t('lang.toggle_label'));
}

export class StatusBar {
  // titleKey / subtitleKey: the page's title and the words beside the brand
  // (the manager view has its own).
  constructor({ header, banner, say, titleKey = 'app.title', subtitleKey = 'app.subtitle' }, feed, onToggleLang) {
    this.header = header;
    this.titleKey = titleKey;
    this.subtitleKey = subtitleKey;
    this.banner = banner;
    this.say = say;
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
    // the signed-in person's notifications (e-mail, webhooks): /account
    this.accountLink = el('a', { id: 'account-link', class: 'top-link', href: '/account' });
    fill(this.header,
      el('div', { class: 'brand' }, el('span', { class: 'brand-mark', 'aria-hidden': 'true' }), this.title, this.subtitle),
      el('div', { class: 'top-right' }, this.clock, this.conn, this.accountLink, this.langButton));
    this.bannerText = el('p', { class: 'banner-text' });
    // the sign-in page sends the browser back here afterwards
    this.signinLink = el('a', { class: 'banner-link', id: 'signin-link', hidden: true,
      href: `/signin#next=${encodeURIComponent(window.location.pathname)}` });
    fill(this.banner, el('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '!'), this.bannerText, this.signinLink);
  }

  render(frame) {
    if (frame.lang) {
      document.documentElement.lang = lang();
      document.title = t(this.titleKey);
      text(this.title, t('app.brand'));
      text(this.subtitle, t(this.subtitleKey));
      text(this.clockZone, t('app.clock_zone'));
      attr(this.clock, 'title', t('app.clock_title'));
      text(this.connLabel, `${t('conn.label')}: `);
      labelLangToggle(this.langButton);
      text(this.accountLink, t('nav.account'));
      attr(this.accountLink, 'title', t('nav.account_title'));
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
    const refused = refusal(c);
    if (refused) main = t(`conn.${refused}`);
    if (c.status === 'reconnecting' || c.status === 'offline') sub = t('conn.attempt', { n: fmt.int(c.attempt) });
    if (this.conn.dataset.state !== c.status) this.conn.dataset.state = c.status;
    text(this.connText, main);
    text(this.connSub, sub);

    // announce each state once (not every retry count)
    if (c.status !== this.lastAnnounced && (this.lastAnnounced !== null || c.status !== 'connecting')) {
      this.say(`${t('conn.label')}: ${main}`);
    }
    this.lastAnnounced = c.status;

    const msg = bannerMessage(this.feed, now, 'banner.lost');
    if (msg !== null) text(this.bannerText, msg);
    const signin = refused === 'signin';
    if (this.signinLink.hidden === signin) this.signinLink.hidden = !signin;
    if (signin) text(this.signinLink, t('banner.signin_link'));
    if (this.banner.hidden !== (msg === null)) this.banner.hidden = msg === null;
    document.body.classList.toggle('is-stale', msg !== null);
  }
}
