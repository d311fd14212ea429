'use strict';
// The EDXL-HAVE 1.0 schema (shared test data) and a check of a document
// against it with xmllint: BP_SCHEMA_DIR, else <repo>/../shared/schemas,
// else /work/shared/schemas. Not finding it fails the test: never skipped.
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

module.exports = { schemaFile, validateHave };
