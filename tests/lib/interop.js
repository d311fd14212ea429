'use strict';
// What the interop tests share: the EDXL-HAVE 1.0 schema (shared test data)
// and a check of a document against it with xmllint (BP_SCHEMA_DIR, else
// <repo>/../shared/schemas, else /work/shared/schemas; not finding it fails
// the test: never skipped), and the mapping tables of docs/interop.md.
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT } = require('./stack');

function schemaFile() {
  const dirs = [process.env.BP_SCHEMA_DIR, path.join(ROOT, '..', 'shared', 'schemas'), '/work/shared/schemas'].filter(Boolean);
  for (const d of dirs) {
    const f = path.join(d, 'edxl-have-1.0', 'edxl-have', '1.0', 'edxl-have.xsd');
    if (fs.existsSync(f)) return f;
  }
  throw new Error(`the EDXL-HAVE 1.0 schema is not in ${dirs.join(' or ')}: set BP_SCHEMA_DIR`);
}

// Throws (with xmllint's words) unless the file is valid.
function validateHave(file) {
  execFileSync('xmllint', ['--noout', '--nonet', '--schema', schemaFile(), file], { stdio: ['ignore', 'pipe', 'pipe'] });
}

// A markdown table of docs/interop.md, under a heading, as rows keyed by
// its header; code spans unwrapped, "—" as null.
function docTable(heading, firstHeader) {
  const md = fs.readFileSync(path.join(ROOT, 'docs', 'interop.md'), 'utf8');
  const at = md.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `docs/interop.md has "${heading}"`);
  const lines = md.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  assert.ok(start >= 0, `a table starting "| ${firstHeader} |" under ${heading}`);
  const cells = (l) => l.split('|').slice(1, -1).map((c) => c.trim());
  const head = cells(lines[start]);
  const rows = [];
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    // a cell's first code span is its value ("`LastUpdateTime` (UTC)" -> LastUpdateTime)
    const c = cells(lines[i]).map((x) => (x === '—' ? null : (/`([^`]*)`/.exec(x) || [null, x])[1]));
    rows.push(Object.fromEntries(head.map((h, k) => [h, c[k]])));
  }
  return rows;
}

module.exports = { schemaFile, validateHave, docTable };
