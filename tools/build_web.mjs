#!/usr/bin/env node
// Builds web/ for production: node tools/build_web.mjs [OUT] (default
// build/web; CMake runs it as the `web` target of every build tree).
//
// The source stays plain ES modules (the server can serve web/ as it is);
// this turns it into what a phone on a weak link should download
// (docs/design.md, "web build"):
// - each page's module graph bundled by esbuild (package-lock.json) with
//   code shared between pages split into chunks, minified; every page gets
//   <link rel="modulepreload"> for the chunks it imports, so they come in
//   one round trip with the page's own module instead of a waterfall;
// - each dictionary (web/i18n/<lang>.js) a chunk of its own, loaded only
//   for the language shown (web/i18n.js imports it dynamically);
// - style sheets minified, classic scripts minified, icons copied;
// - every file under assets/ named by a hash of its content, so the server
//   can let browsers keep it for a year ("immutable"), and the pages (which
//   are revalidated on every visit) point at those names;
// - every text file precompressed next to itself: X.br (brotli 11) and X.gz
//   (gzip 9), which the server checks and sends as they are.
// Leaflet (/vendor/leaflet/, Debian's libjs-leaflet) is left to the server.
//
// The output replaces OUT whole (built beside it, then renamed).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'web');
const OUT = path.resolve(process.argv[2] || path.join(ROOT, 'build', 'web'));
const TMP = `${OUT}.tmp-${process.pid}`;
const ASSETS = 'assets';
const PAGES = ['index.html', 'manage.html', 'wall.html', 'signin.html', 'account.html', 'public.html'];
const TARGET = ['es2022', 'chrome100', 'firefox100', 'safari15.4'];
const TEXT = /\.(html|js|css|svg|json)$/;

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (e) {
  console.error('build_web: esbuild is not installed: run `npm ci` in the repository root');
  process.exit(1);
}

const rel = (p) => path.relative(ROOT, p);
const url = (outPath) => `/${path.relative(TMP, path.resolve(ROOT, outPath)).split(path.sep).join('/')}`;

// A copy named by its content: assets/<name>-<hash><ext>; returns its URL.
function hashed(srcFile, content = fs.readFileSync(srcFile)) {
  const ext = path.extname(srcFile);
  const hash = crypto.createHash('sha256').update(content).digest('hex').slice(0, 10).toUpperCase();
  const name = `${path.basename(srcFile, ext)}-${hash}${ext}`;
  fs.writeFileSync(path.join(TMP, ASSETS, name), content);
  return `/${ASSETS}/${name}`;
}

// What each page refers to: module entries, style sheets, classic scripts,
// icons (local paths only; /vendor/ is the server's).
const local = (u) => u.startsWith('/') && !u.startsWith('//') && !u.startsWith('/vendor/');
const pages = PAGES.map((name) => {
  const html = fs.readFileSync(path.join(SRC, name), 'utf8');
  const refs = [...html.matchAll(/<(script|link)\b[^>]*>/g)].map((m) => {
    const tag = m[0];
    const attr = (a) => (tag.match(new RegExp(`\\s${a}="([^"]*)"`)) || [])[1];
    const src = attr(m[1] === 'script' ? 'src' : 'href');
    let kind = null;
    if (m[1] === 'script' && src) kind = attr('type') === 'module' ? 'module' : 'classic';
    else if (m[1] === 'link' && attr('rel') === 'stylesheet') kind = 'css';
    else if (m[1] === 'link' && attr('rel') === 'icon') kind = 'file';
    return { tag, src, kind };
  }).filter((r) => r.kind && r.src && local(r.src));
  return { name, html, refs };
});
const srcOf = (u) => path.join(SRC, u.slice(1));
const all = (kind) => [...new Set(pages.flatMap((p) => p.refs.filter((r) => r.kind === kind).map((r) => r.src)))];

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(path.join(TMP, ASSETS), { recursive: true });

// Modules: one bundle per page entry, shared code in chunks.
const modules = all('module');
const js = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: modules.map((u) => rel(srcOf(u))),
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: TARGET,
  charset: 'utf8',
  legalComments: 'none',
  sourcemap: 'linked',
  outdir: path.join(TMP, ASSETS),
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const outputs = js.metafile.outputs;
const entryOut = new Map(); // source URL -> output path
for (const [o, info] of Object.entries(outputs)) {
  if (info.entryPoint) entryOut.set(`/${path.relative(SRC, path.resolve(ROOT, info.entryPoint)).split(path.sep).join('/')}`, o);
}
// The chunks a module imports statically, all the way down (what the
// browser needs before it can run it): preloaded by the page.
function staticChunks(o, seen = new Set()) {
  for (const imp of outputs[o].imports) {
    if (imp.kind !== 'import-statement' || seen.has(imp.path)) continue;
    seen.add(imp.path);
    staticChunks(imp.path, seen);
  }
  return seen;
}

// Style sheets: minified, url()s (the icon) to hashed files.
const sheets = all('css');
const css = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: sheets.map((u) => rel(srcOf(u))),
  bundle: true,
  minify: true,
  target: TARGET,
  charset: 'utf8',
  legalComments: 'none',
  outdir: path.join(TMP, ASSETS),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.svg': 'file', '.png': 'file' },
  external: ['/vendor/*'],
  metafile: true,
  logLevel: 'warning',
});
const sheetOut = new Map();
for (const [o, info] of Object.entries(css.metafile.outputs)) {
  if (info.entryPoint) sheetOut.set(`/${path.relative(SRC, path.resolve(ROOT, info.entryPoint)).split(path.sep).join('/')}`, o);
}

// Classic scripts (minified) and icons (as they are).
const replaced = new Map();
for (const u of all('classic')) {
  const min = await esbuild.transform(fs.readFileSync(srcOf(u), 'utf8'), { minify: true, target: TARGET, loader: 'js', charset: 'utf8' });
  replaced.set(u, hashed(srcOf(u), min.code));
}
// an icon the style sheets use too is the same file
const cssAsset = (src) => Object.keys(css.metafile.outputs).find((o) => {
  const ins = Object.keys(css.metafile.outputs[o].inputs);
  return !css.metafile.outputs[o].entryPoint && ins.length === 1 && path.resolve(ROOT, ins[0]) === src;
});
for (const u of all('file')) replaced.set(u, cssAsset(srcOf(u)) ? url(cssAsset(srcOf(u))) : hashed(srcOf(u)));
for (const [u, o] of sheetOut) replaced.set(u, url(o));

// The pages, pointing at the built files. Each page's URL and what it
// loads are noted for the sign-in page (below).
const PAGE_URL = { 'index.html': '/', 'manage.html': '/manage', 'wall.html': '/wall', 'signin.html': '/signin', 'account.html': '/account', 'public.html': '/public' };
const loads = {}; // page URL -> the URLs of web/ it loads, itself first
for (const p of pages) {
  let html = p.html;
  const urls = [PAGE_URL[p.name]];
  for (const r of p.refs) {
    let tag = r.tag;
    if (r.kind === 'module') {
      const o = entryOut.get(r.src);
      const chunks = [...staticChunks(o)].map(url);
      const preload = chunks.map((c) => `<link rel="modulepreload" href="${c}">\n`).join('');
      html = html.replace(tag, `${preload}${tag.replace(`"${r.src}"`, `"${url(o)}"`)}`);
      urls.push(...chunks, url(o));
      continue;
    }
    tag = tag.replace(`"${r.src}"`, `"${replaced.get(r.src)}"`);
    html = html.replace(r.tag, tag);
    urls.push(replaced.get(r.src));
  }
  loads[PAGE_URL[p.name]] = urls;
  p.out = html;
}
// The sign-in page goes on to another page once the session is set: it
// prefetches what that page loads from assets/ while the sign-in request is
// on its way (web/signin.js), so the next page finds it in the cache. (The
// page itself and /vendor/ are revalidated on use, so a prefetch of them
// would only cost a request more.) A JSON data block: never run, so the
// CSP (script-src 'self') has no say.
const signin = pages.find((p) => p.name === 'signin.html');
// (What the sign-in page loads itself is left out: it is on its way.)
const own = new Set(loads['/signin']);
const onward = Object.fromEntries(Object.entries(loads).filter(([u]) => u !== '/signin')
  .map(([u, list]) => [u, list.filter((x) => x.startsWith(`/${ASSETS}/`) && !own.has(x))]));
signin.out = signin.out.replace('</head>',
  `<script type="application/json" id="bp-pages">${JSON.stringify(onward).replace(/</g, '\\u003c')}</script>\n</head>`);
for (const p of pages) fs.writeFileSync(path.join(TMP, p.name), p.out);
// the icon under its own name too, for whoever asks for it by that name
fs.copyFileSync(path.join(SRC, 'favicon.svg'), path.join(TMP, 'favicon.svg'));

// Every text file precompressed beside itself, when that saves bytes.
let raw = 0;
let packed = 0;
for (const f of fs.readdirSync(TMP, { recursive: true })) {
  const file = path.join(TMP, f);
  if (!TEXT.test(f) || !fs.statSync(file).isFile()) continue;
  const data = fs.readFileSync(file);
  const br = zlib.brotliCompressSync(data, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  const gz = zlib.gzipSync(data, { level: 9 });
  if (br.length < data.length) fs.writeFileSync(`${file}.br`, br);
  if (gz.length < data.length) fs.writeFileSync(`${file}.gz`, gz);
  if (!f.endsWith('.map')) {
    raw += data.length;
    packed += Math.min(br.length, data.length);
  }
}

fs.rmSync(`${OUT}.old`, { recursive: true, force: true });
if (fs.existsSync(OUT)) fs.renameSync(OUT, `${OUT}.old`);
fs.renameSync(TMP, OUT);
fs.rmSync(`${OUT}.old`, { recursive: true, force: true });
console.log(`build_web: ${rel(OUT) || OUT}: ${(raw / 1024).toFixed(0)} KiB of pages, scripts and styles, ${(packed / 1024).toFixed(0)} KiB with brotli`);
