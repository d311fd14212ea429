// CSV import on the manager view: a spreadsheet with one row per bed type
// (bed_type,staffed,occupied,surge24) is sent first as a dry run — the
// server answers with each figure now and after, or every bad row — and
// applied only when the manager says so, with If-Match: the version the
// preview was made from, all or nothing (docs/protocol.md §3, CSV import).

import { t } from '../i18n.js';
import { el, fill } from '../dom.js';
import { importCsv } from '../api.js';
import { problem, showNotice } from './manage_form.js';
import * as fmt from '../format.js';

const MAX_BYTES = 64 * 1024; // server.max_body_bytes: a bigger file is refused whole
const FIGURES = ['occupied', 'staffed', 'surge24'];

export class ImportView {
  // root: the section; opts: hospital() (the form's hospital: id, version),
  // onApplied(h), onSignedOut().
  constructor(root, { hospital, onApplied, onSignedOut }) {
    this.root = root;
    this.hospital = hospital;
    this.onApplied = onApplied;
    this.onSignedOut = onSignedOut;
    this.preview = null; // {csv, version, rows}
    this.errors = null; // [{field, message}]
    this.notice = null; // {kind, key, params, detail}
    this.busy = false;
    this.build();
  }

  // Forgets the file (another hospital was chosen).
  reset() {
    this.preview = null;
    this.errors = null;
    this.notice = null;
    this.build();
  }

  build() {
    const open = this.details ? this.details.open : false;
    this.file = el('input', { type: 'file', id: 'mg-csv', class: 'file-ctl', accept: '.csv,text/csv' });
    this.file.addEventListener('change', () => this.choose());
    this.result = el('div', { id: 'mg-import-result', class: 'mg-import-result' });
    this.noticeEl = el('p', { id: 'mg-import-notice', role: 'status', hidden: true });
    this.apply = el('button', { type: 'button', id: 'mg-import-apply', class: 'btn btn-primary btn-big', hidden: true });
    this.apply.addEventListener('click', () => this.commit());
    this.details = el('details', { class: 'card mg-import', id: 'mg-import', open },
      el('summary', { class: 'mg-import-sum' }, t('import.title')),
      el('p', { class: 'hint' }, t('import.hint')),
      el('pre', { class: 'mg-import-example', lang: 'en' }, 'bed_type,staffed,occupied,surge24\nicu_adult,60,58,8'),
      el('label', { class: 'field-label', for: 'mg-csv' }, t('import.file')),
      this.file, this.noticeEl, this.result, this.apply);
    fill(this.root, this.details);
    this.render();
  }

  async choose() {
    const f = this.file.files && this.file.files[0];
    this.preview = null;
    this.errors = null;
    this.notice = null;
    if (!f) {
      this.render();
      return;
    }
    if (f.size > MAX_BYTES) {
      this.notice = { kind: 'bad', key: 'import.too_big', params: { n: fmt.int(MAX_BYTES / 1024) } };
      this.render();
      return;
    }
    await this.dryRun(await f.text());
  }

  async dryRun(csv) {
    const h = this.hospital();
    const r = await this.send(() => importCsv(h.id, csv));
    if (!r) return;
    if (r.status === 200 && r.data && Array.isArray(r.data.rows)) {
      this.preview = { csv, version: r.data.version, rows: r.data.rows };
    } else {
      this.failed(r);
    }
    this.render();
  }

  async commit() {
    const p = this.preview;
    if (!p) return;
    const r = await this.send(() => importCsv(this.hospital().id, p.csv, { version: p.version }));
    if (!r) return;
    if (r.status === 200 || r.status === 202) {
      this.preview = null;
      this.file.value = '';
      const key = p.rows.length === 1 ? 'import.applied_one' : 'import.applied';
      this.notice = { kind: 'ok', key, params: { n: fmt.int(p.rows.length), version: fmt.int(r.data.version) } };
      if (r.status === 200) this.onApplied(r.data);
      this.render();
      return;
    }
    if (r.status === 409 && r.error === 'conflict') {
      // the figures moved since the preview: show the new "now" column
      await this.dryRun(p.csv);
      this.notice = { kind: 'warn', key: 'import.changed' };
      this.render();
      return;
    }
    this.preview = null;
    this.failed(r);
    this.render();
  }

  async send(fn) {
    this.busy = true;
    this.render();
    const r = await fn();
    this.busy = false;
    if (r.status === 401) {
      this.onSignedOut();
      return null;
    }
    return r;
  }

  failed(r) {
    if (r.status === 422 && r.data && Array.isArray(r.data.errors)) {
      this.errors = r.data.errors;
      this.notice = { kind: 'bad', key: 'import.invalid' };
      return;
    }
    this.notice = Object.assign({ kind: 'bad' }, problem(r));
  }

  render() {
    const n = this.notice;
    showNotice(this.noticeEl, n ? n.kind : 'ok', n ? t(n.key, n.params) : '', n && n.detail);
    this.file.disabled = this.busy;
    this.apply.hidden = !this.preview;
    this.apply.disabled = this.busy;
    const n1 = this.preview && this.preview.rows.length === 1;
    if (this.preview) this.apply.textContent = t(n1 ? 'import.apply_one' : 'import.apply', { n: fmt.int(this.preview.rows.length) });
    if (this.preview) fill(this.result, this.previewTable());
    else if (this.errors) fill(this.result, this.errorList());
    else this.result.replaceChildren();
  }

  previewTable() {
    const value = (v) => (Number.isInteger(v) ? fmt.int(v) : '–');
    const rows = [];
    for (const r of this.preview.rows) {
      for (const k of FIGURES) {
        if (!r[k]) continue;
        const same = r[k].from === r[k].to;
        rows.push(el('tr', { class: same ? 'same' : 'diff', dataset: { bed: r.bed_type, key: k } },
          el('th', { scope: 'row' }, `${t(`bed.${r.bed_type}.short`)} · ${t(`manage.${k}`)}`),
          el('td', { class: 'num from' }, value(r[k].from)),
          el('td', { class: 'num to' }, value(r[k].to))));
      }
    }
    return el('table', { class: 'grid mg-preview', id: 'mg-preview' },
      el('caption', null, t('import.preview')),
      el('thead', null, el('tr', null, el('th', { scope: 'col' }, t('manage.conflict_field')),
        el('th', { scope: 'col', class: 'num' }, t('import.from')), el('th', { scope: 'col', class: 'num' }, t('import.to')))),
      el('tbody', null, rows));
  }

  errorList() {
    return el('ul', { class: 'mg-import-errors', id: 'mg-import-errors' }, this.errors.map((e) => {
      const m = /^row (\d+)/.exec(e.field || '');
      // the server's message names the row too: say it once, in words
      return el('li', null, m ? `${t('import.row', { n: m[1] })}: ` : '',
        el('span', { lang: 'en', 'data-free-text': true }, m ? e.message.replace(/^row \d+: /, '') : e.message));
    }));
  }
}
