'use strict';
// Receivers for the notification tests: a webhook sink (Node http) that
// records every request and can refuse the first N, or every one, and a
// real SMTP server (Debian's python3-aiosmtpd, tests/tools/smtp_sink.py,
// run with /usr/bin/python3) that records every message and can refuse
// the first N with a temporary 451. Plus the checks a receiver makes: the
// webhook signature and the decoding of a MIME message.

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const { freePort, waitFor, ROOT } = require('./stack.js');

// A webhook receiver on 127.0.0.1. fail(i) says the status for the i-th
// request (0-based): 200 unless it says otherwise. `requests` holds every
// request ({method, url, headers, body, status}), `delivered` the ones
// answered 2xx.
async function webhookSink({ fail = () => 0 } = {}) {
  const port = await freePort();
  const sink = { port, requests: [], delivered: [] };
  sink.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const i = sink.requests.length;
      const status = fail(i) || 200;
      const r = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status };
      sink.requests.push(r);
      if (status < 300) sink.delivered.push(r);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise((resolve) => sink.server.listen(port, '127.0.0.1', resolve));
  sink.url = (p = '/hook', host = '127.0.0.1') => `http://${host}:${port}${p}`;
  sink.close = () => new Promise((resolve) => sink.server.close(resolve));
  // the delivered bodies, parsed
  sink.events = () => sink.delivered.map((r) => JSON.parse(r.body));
  return sink;
}

// X-BedPulse-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>
function signatureOk(req, secret) {
  const want = `sha256=${crypto.createHmac('sha256', secret).update(req.body, 'utf8').digest('hex')}`;
  const got = req.headers['x-bedpulse-signature'] || '';
  return got.length === want.length && crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want));
}

// A real SMTP server: messages ({from, to, data}) as they are accepted.
async function smtpSink({ failFirst = 0 } = {}) {
  const port = await freePort();
  const sink = { port, messages: [], refused: 0, log: '' };
  const child = spawn('/usr/bin/python3', [path.join(ROOT, 'tests/tools/smtp_sink.py'), String(port), String(failFirst)],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  let ready = false;
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'ready') ready = true;
      else if (line.startsWith('{')) {
        const m = JSON.parse(line);
        if (m.refused) sink.refused = m.refused;
        else sink.messages.push(m);
      }
    }
  });
  child.stderr.on('data', (d) => (sink.log += d));
  sink.child = child;
  await waitFor(() => ready || child.exitCode !== null, { what: 'the SMTP sink to start' });
  if (!ready) throw new Error(`smtp_sink did not start: ${sink.log}`);
  sink.url = `smtp://127.0.0.1:${port}`;
  sink.close = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return sink;
}

// RFC 2047 encoded words (UTF-8, B or Q) in a header value.
function decodeWords(v) {
  return v.replace(/\r\n[ \t]/g, ' ').replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*(?==\?)?/gi, (m, enc, text) => {
    if (enc.toLowerCase() === 'b') return Buffer.from(text, 'base64').toString('utf8');
    return Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (x, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  });
}

// A MIME message: {headers (lower-case names), subject, text, html}.
function decodeMail(data) {
  const [head, ...rest] = data.split(/\r?\n\r?\n/);
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = rest.join('\r\n\r\n');
  const boundary = /boundary="([^"]+)"/.exec(headers['content-type'] || '');
  const parts = {};
  if (boundary) {
    for (const part of body.split(`--${boundary[1]}`)) {
      const m = /^\r?\n([\s\S]*?)\r?\n\r?\n([\s\S]*)$/.exec(part);
      if (!m) continue;
      const type = /content-type:\s*([^;\r\n]+)/i.exec(m[1]);
      const b64 = /content-transfer-encoding:\s*base64/i.test(m[1]);
      if (type) parts[type[1].trim()] = b64 ? Buffer.from(m[2].replace(/\s+/g, ''), 'base64').toString('utf8') : m[2];
    }
  }
  return { headers, subject: decodeWords(headers.subject || ''), text: parts['text/plain'] || '', html: parts['text/html'] || '' };
}

module.exports = { webhookSink, smtpSink, signatureOk, decodeMail };
