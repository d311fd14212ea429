// Building DOM without HTML strings: data from feeds is always set as text
// (textContent / text nodes), never parsed, so hostile strings stay inert.

// el('td', {class: 'x', title: 'y', dataset: {id: 'z'}}, 'text', childNode, ...)
export function el(tag, props, ...children) {
  const e = document.createElement(tag);
  if (props) {
    for (const k of Object.keys(props)) {
      const v = props[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false || c === '') continue;
    e.append(c instanceof Node ? c : String(c)); // strings become text nodes
  }
}

// Replaces the children of e.
export function fill(e, ...children) {
  e.replaceChildren();
  append(e, children);
}

// Sets an attribute only when it changes (title, aria-*), removing it for null.
export function attr(e, name, value) {
  if (value === null || value === undefined) {
    if (e.hasAttribute(name)) e.removeAttribute(name);
  } else if (e.getAttribute(name) !== String(value)) {
    e.setAttribute(name, String(value));
  }
}

// Restarts a short highlight on e. Two identical animations alternate, so the
// highlight restarts without forcing a layout.
export function flash(e) {
  if (e.classList.contains('flash-a')) e.classList.replace('flash-a', 'flash-b');
  else if (e.classList.contains('flash-b')) e.classList.replace('flash-b', 'flash-a');
  else e.classList.add('flash-a');
}

// Drops the highlight class once its animation is over, or was cancelled
// because the row was hidden (filtered out, its tab left): a row moved in
// the DOM (re-sorted) or shown again would otherwise replay it.
export function endFlashes(container) {
  const end = (ev) => {
    if (ev.animationName === 'flash-a' || ev.animationName === 'flash-b') {
      ev.target.classList.remove('flash-a', 'flash-b');
    }
  };
  container.addEventListener('animationend', end);
  container.addEventListener('animationcancel', end);
}

// Sets e's text only when it differs (no needless DOM mutation).
export function text(e, s) {
  const v = String(s);
  if (e.textContent !== v) e.textContent = v;
}

// The one text node of e, created once: views that run for days update its
// .data in place, so an empty string does not remove a node and a new
// figure does not add one (a flat DOM node count).
export function textNode(e) {
  const first = e.firstChild;
  if (first && first.nodeType === Node.TEXT_NODE && !first.nextSibling) return first;
  const n = document.createTextNode('');
  e.replaceChildren(n);
  return n;
}

// Sets a text node's data only when it differs.
export function data(n, s) {
  const v = String(s);
  if (n.data !== v) n.data = v;
}
