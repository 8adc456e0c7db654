// Connections to the API that never send a request are closed (issue 12 item 10, API side): a TCP
// connection that never starts TLS, a TLS connection that never sends a request, and past the
// per-address cap of pending connections new ones are closed at once, while real requests (and
// open watches) keep working.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { startTestApi, type TestApi } from './harness.js';

let api: TestApi;
let port = 0;
const LIMITS = { handshakeTimeoutMs: 600, headersTimeoutMs: 800, maxPendingPerClient: 4 };

before(async () => {
  api = await startTestApi({ connectionLimits: LIMITS });
  port = Number(new URL(api.url).port);
});
after(async () => {
  await api?.stop();
});

/** Resolves with the ms until the server closed the socket (reads so that the close is seen), or Infinity after `waitMs`. */
function closedWithin(socket: Socket, waitMs: number): Promise<number> {
  const start = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(Infinity), waitMs);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
  });
}

test('a TCP connection that never starts its TLS handshake is closed after the handshake deadline', async () => {
  const s = tcpConnect(port, '127.0.0.1');
  const ms = await closedWithin(s, 5_000);
  s.destroy();
  assert.ok(ms >= LIMITS.handshakeTimeoutMs - 100 && ms < 3_000, `closed after ${ms} ms`);
});

test('a TLS connection that never sends a request is closed after the header deadline', async () => {
  const s = tlsConnect({ port, host: '127.0.0.1', ca: api.material.apiCaPem, servername: 'localhost', rejectUnauthorized: false });
  await new Promise<void>((r) => s.once('secureConnect', () => r()));
  const ms = await closedWithin(s, 5_000);
  s.destroy();
  assert.ok(ms < 3_000, `closed after ${ms} ms`);
});

test('past the per-address cap, pending connections are refused at once; requests and watches still work', async () => {
  const watch = api.call('GET', '/api/v1/namespaces?watch=true&timeoutSeconds=2');
  await new Promise((r) => setTimeout(r, 200));
  const sockets = Array.from({ length: 10 }, () => tcpConnect(port, '127.0.0.1'));
  const closes = sockets.map((s) => closedWithin(s, 5_000));
  const early = await Promise.all(closes.map((c) => Promise.race([c, new Promise<number>((r) => setTimeout(() => r(Infinity), 300))])));
  assert.equal(early.filter((ms) => ms < 300).length, 10 - LIMITS.maxPendingPerClient, `closed at once: ${early.join(',')}`);
  const all = await Promise.all(closes);
  assert.ok(all.every((ms) => ms < 3_000), 'the others are closed by the handshake deadline');
  for (const s of sockets) s.destroy();
  const r = await api.call('GET', '/api/v1/namespaces');
  assert.equal(r.status, 200);
  const w = await watch;
  assert.equal(w.status, 200);
  assert.match(w.text, /"type":"ADDED"/, 'the watch opened before kept streaming (no deadline on requests)');
});
