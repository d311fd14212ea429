// Tables whose rows are focusable with one tab stop (roving tabindex):
// arrows, Home / End and PageUp / PageDown move, Enter or Space chooses
// (onSelect(id, {from: 'list', keyboard})); the selected row is marked
// aria-current and scrolled into view. Subclasses hold `rows` (Map id ->
// {tr}), `tbody`, `scroller`, `onSelect` and optionally `onHover`, and call
// listen() once the tbody exists.

export class RowTable {
  constructor() {
    this.rows = new Map();
    this.selected = null;
    this.active = null; // the row holding the tab stop
  }

  listen() {
    this.tbody.addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr[data-id]');
      if (tr) this.choose(tr.dataset.id, false);
    });
    this.tbody.addEventListener('keydown', (ev) => this.onKey(ev));
    this.tbody.addEventListener('focusin', (ev) => {
      const tr = ev.target.closest('tr[data-id]');
      if (tr) this.setActive(tr.dataset.id);
    });
  }

  choose(id, keyboard) {
    this.setActive(id);
    this.onSelect(id, { from: 'list', keyboard });
  }

  onKey(ev) {
    const tr = ev.target.closest('tr[data-id]');
    if (!tr || ev.target !== tr) return;
    const rows = this.visibleRows();
    const i = rows.indexOf(tr);
    let next = null;
    switch (ev.key) {
      case 'ArrowDown': next = rows[Math.min(i + 1, rows.length - 1)]; break;
      case 'ArrowUp': next = rows[Math.max(i - 1, 0)]; break;
      case 'Home': next = rows[0]; break;
      case 'End': next = rows[rows.length - 1]; break;
      case 'PageDown': next = rows[Math.min(i + 10, rows.length - 1)]; break;
      case 'PageUp': next = rows[Math.max(i - 10, 0)]; break;
      case 'Enter':
      case ' ':
        ev.preventDefault();
        this.choose(tr.dataset.id, true);
        return;
      default: return;
    }
    ev.preventDefault();
    if (next) {
      next.focus();
      next.scrollIntoView({ block: 'nearest' });
      if (this.onHover) this.onHover(next.dataset.id);
    }
  }

  visibleRows() {
    return [...this.tbody.children].filter((tr) => !tr.hidden && tr.dataset.id);
  }

  setActive(id) {
    if (this.active === id) return;
    const prev = this.rows.get(this.active);
    if (prev) prev.tr.tabIndex = -1;
    this.active = id;
    const rec = this.rows.get(id);
    if (rec) rec.tr.tabIndex = 0;
  }

  // Keeps one tab stop on a visible row.
  fixTabStop() {
    const rec = this.rows.get(this.active);
    if (rec && !rec.tr.hidden) return;
    if (rec) rec.tr.tabIndex = -1;
    this.active = null;
    const first = this.visibleRows()[0];
    if (first) this.setActive(first.dataset.id);
  }

  focusRow(id) {
    const rec = this.rows.get(id);
    if (!rec || rec.tr.hidden) return;
    this.setActive(id);
    rec.tr.focus();
  }

  setSelected(id) {
    const prev = this.rows.get(this.selected);
    if (prev) prev.tr.removeAttribute('aria-current');
    this.selected = id;
    const rec = this.rows.get(id);
    if (rec) {
      rec.tr.setAttribute('aria-current', 'true');
      const r = rec.tr.getBoundingClientRect();
      const s = this.scroller.getBoundingClientRect();
      if (r.top < s.top + 40 || r.bottom > s.bottom) rec.tr.scrollIntoView({ block: 'nearest' });
    }
  }
}
