'use strict';
// A TCP proxy under a test's control, to cut a process off from Redis
// without touching Redis: it forwards bytes between its clients and the
// target, and on command
//   blackhole()  stops forwarding in both directions, connections stay open
//                (a network that drops everything: only timeouts notice);
//                new connections are accepted and held the same way
//   cut()        closes every connection and refuses new ones (a network
//                that resets: noticed at once)
//   restore()    forwards again (held bytes and held connections go on)
// `connections` counts the connections accepted so far.

const net = require('node:net');

class TcpProxy {
  constructor(targetPort, targetHost = '127.0.0.1') {
    this.targetPort = targetPort;
    this.targetHost = targetHost;
    this.mode = 'forward'; // forward | blackhole | cut
    this.pairs = new Set();
    this.connections = 0;
  }

  start(port = 0) {
    this.server = net.createServer((client) => this.accept(client));
    return new Promise((resolve, reject) => {
      this.server.on('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = this.server.address().port;
        resolve(this.port);
      });
    });
  }

  accept(client) {
    this.connections++;
    if (this.mode === 'cut') {
      client.on('error', () => {});
      client.destroy();
      return;
    }
    const pair = { client, upstream: null, held: { up: [], down: [] } };
    this.pairs.add(pair);
    const end = () => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      if (pair.upstream) pair.upstream.destroy();
    };
    client.on('error', end);
    client.on('close', end);
    client.on('data', (d) => this.forward(pair, 'up', d));
    pair.end = end;
    if (this.mode === 'blackhole') client.pause();
    this.connectUpstream(pair);
  }

  connectUpstream(pair) {
    const up = net.connect(this.targetPort, this.targetHost);
    pair.upstream = up;
    up.on('error', pair.end);
    up.on('close', pair.end);
    up.on('data', (d) => this.forward(pair, 'down', d));
    if (this.mode === 'blackhole') up.pause();
  }

  forward(pair, dir, data) {
    if (this.mode !== 'forward') {
      pair.held[dir].push(data); // read before the pause took effect
      return;
    }
    (dir === 'up' ? pair.upstream : pair.client).write(data);
  }

  blackhole() {
    this.mode = 'blackhole';
    for (const p of this.pairs) {
      p.client.pause();
      if (p.upstream) p.upstream.pause();
    }
  }

  cut() {
    this.mode = 'cut';
    for (const p of [...this.pairs]) p.end();
  }

  restore() {
    this.mode = 'forward';
    for (const p of this.pairs) {
      for (const d of p.held.up.splice(0)) p.upstream.write(d);
      for (const d of p.held.down.splice(0)) p.client.write(d);
      p.client.resume();
      if (p.upstream) p.upstream.resume();
    }
  }

  close() {
    this.cut();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

module.exports = { TcpProxy };
