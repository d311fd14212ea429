// The manager's edits that could not be sent (the link was down when she
// saved): kept on the phone in localStorage until they are, so a dropped
// connection, or a reload meanwhile, loses nothing she typed. One entry
// per (token, hospital) — a later save replaces it — holding what the form
// needs to send it again and to show it: the fields she changed and their
// values, the PATCH body, and the version her figures were based on (sent
// as If-Match, so a colleague's change in between is still a conflict
// that shows both values, never silently overwritten).
//
// Bounded: at most MAX_ENTRIES entries and MAX_BYTES stored (the oldest go
// first), none older than MAX_AGE_MS (a session lasts 12 h; an edit that
// waited longer is not sent on its own). No DOM here.

const KEY = 'bedpulse.outbox';
export const MAX_ENTRIES = 20;
export const MAX_BYTES = 32 * 1024;
export const MAX_AGE_MS = 12 * 3600 * 1000;

function storage() {
  try {
    return globalThis.localStorage || null;
  } catch (e) {
    return null; // storage disabled
  }
}

function read(now) {
  const s = storage();
  if (!s) return [];
  try {
    const all = JSON.parse(s.getItem(KEY) || '[]');
    return Array.isArray(all) ? all.filter((e) => e && typeof e.owner === 'string' && typeof e.hospital === 'string' &&
      Number.isInteger(e.version) && e.values && typeof e.values === 'object' && e.change && now - e.at < MAX_AGE_MS) : [];
  } catch (e) {
    return [];
  }
}

// Writes the entries, dropping the oldest until they fit; false when even
// `keep` (an entry that must stay) cannot be stored.
function write(entries, keep) {
  const s = storage();
  if (!s) return false;
  const list = entries.slice().sort((a, b) => b.at - a.at).slice(0, MAX_ENTRIES);
  for (;;) {
    const text = JSON.stringify(list);
    if (text.length <= MAX_BYTES) {
      try {
        if (list.length) s.setItem(KEY, text);
        else s.removeItem(KEY);
        return !keep || list.includes(keep);
      } catch (e) {
        /* quota: drop one more */
      }
    }
    if (!list.length) return false;
    const dropped = list.pop();
    if (dropped === keep) return false;
  }
}

// The entry of (owner, hospital), or null.
export function pendingEdit(owner, hospital, now = Date.now()) {
  return read(now).find((e) => e.owner === owner && e.hospital === hospital) || null;
}

// Keeps an edit: { owner, hospital, version, values: {path: value},
// change: PATCH body, at: ms typed }. True when it is stored.
export function keepEdit(edit, now = Date.now()) {
  const rest = read(now).filter((e) => !(e.owner === edit.owner && e.hospital === edit.hospital));
  const entry = Object.assign({}, edit);
  return write([entry, ...rest], entry);
}

// Forgets the edit of (owner, hospital): sent, or given up by her.
export function dropEdit(owner, hospital, now = Date.now()) {
  const all = read(now);
  const rest = all.filter((e) => !(e.owner === owner && e.hospital === hospital));
  if (rest.length !== all.length || storage()?.getItem(KEY)) write(rest);
}
