// Idle and slow clients on the proxy's listeners: half-open TCP connections that never start TLS
// are closed after the handshake timeout, a TLS connection that sends no request after the header
// timeout, slow headers (slowloris) get 408, and a client address may hold only so many pending
// connections; all counted. Honest traffic keeps flowing meanwhile. Real sockets and TLS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { createMesh, serving, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
let app: Server;
let appPort: number;
let proxyA: RunningProxy;
let proxyB: RunningProxy;
let b: Awaited<ReturnType<Mesh['issue']>>;
let peer: { cert: string; key: string };
const LIMITS = { timeouts: { shutdownGrace: '2s', detect: '300ms', tlsHandshake: '400ms', header: '400ms' }, listeners: { maxPendingPerClient: 5 } };

before(async () => {
  mesh = await createMesh();
  app = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  b = await mesh.issue('b', 'apps', 'server-b');
  proxyB = await startTestProxy(mesh, b, { ...serving(appPort), ...LIMITS });
  proxyA = await startTestProxy(mesh, await mesh.issue('a', 'apps', 'client-a'), { upstreams: [upstreamTo('b.apps:80', [{ proxy: proxyB, appPort, identity: b.identity, serverName: b.serverName }])] });
  const p = await mesh.issue('peer', 'apps', 'client-a');
  peer = { cert: readFileSync(p.certFile, 'utf8'), key: readFileSync(p.keyFile, 'utf8') };
});

after(async () => {
  await proxyA?.close();
  await proxyB?.close();
  app?.close();
  mesh?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const open = (port: number) =>
  new Promise<Socket & { closedAt?: number; got: string }>((resolve) => {
    // From 127.0.0.2: the per-address cap is the attacker's, not the honest peer's (127.0.0.1).
    const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }) as Socket & { closedAt?: number; got: string };
    s.got = '';
    s.on('data', (d) => (s.got += d));
    s.on('error', () => {});
    s.on('close', () => (s.closedAt = Date.now()));
    s.once('connect', () => resolve(s));
  });
const refused = async (listener: string, reason: string) => {
  const m = await fetch(`http://127.0.0.1:${proxyB.ports.admin}/metrics`).then((r) => r.text());
  return Number(new RegExp(`listener_pending_refused_total\\{listener="${listener}",reason="${reason}"\\} (\\d+)`).exec(m)?.[1] ?? 0);
};
const honestRequest = async () => (await fetch(`http://127.0.0.1:${proxyA.ports.upstreams['b.apps:80']}/`)).status;

test('half-open connections to the inbound: past the per-address cap closed at once, the rest after the TLS handshake timeout', async () => {
  const start = Date.now();
  const sockets = [];
  for (let i = 0; i < 8; i++) sockets.push(await open(proxyB.ports.inbound));
  await sleep(100);
  assert.equal(sockets.filter((s) => s.closedAt !== undefined).length, 3, 'three over the cap of 5 are closed at once');
  assert.equal(await honestRequest(), 200, 'a peer from another address still gets through');
  await sleep(900);
  for (const s of sockets) assert.ok(s.closedAt !== undefined && s.closedAt - start < 1300, `every half-open connection is closed after the handshake timeout: ${sockets.map((x) => (x.closedAt ?? 0) - start)}`);
  assert.equal(await refused('inbound', 'too_many_pending'), 3);
  assert.ok((await refused('inbound', 'handshake_timeout')) >= 5);
});

test('a TLS connection that never sends a request is closed after the header timeout; slow headers get 408', async () => {
  const before = await refused('inbound', 'header_timeout');
  const idle = await new Promise<{ closedAt?: number; at: number }>((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: proxyB.ports.inbound, ca: readFileSync(mesh.trustFile), servername: b.serverName, ALPNProtocols: ['http/1.1'], ...peer });
    const r: { closedAt?: number; at: number } = { at: 0 };
    s.on('error', () => {});
    s.once('secureConnect', () => {
      r.at = Date.now();
      resolve(r);
    });
    s.on('close', () => (r.closedAt = Date.now()));
  });
  await sleep(900);
  assert.ok(idle.closedAt !== undefined && idle.closedAt - idle.at < 900, 'closed after the header timeout');
  assert.equal(await refused('inbound', 'header_timeout'), before + 1);

  // Slowloris on a keep-alive connection: the first request is fine, the second trickles its head.
  const s = tlsConnect({ host: '127.0.0.1', port: proxyB.ports.inbound, ca: readFileSync(mesh.trustFile), servername: b.serverName, ALPNProtocols: ['http/1.1'], ...peer });
  let got = '';
  let closedAt: number | undefined;
  s.on('data', (d) => (got += d));
  s.on('error', () => {});
  s.on('close', () => (closedAt = Date.now()));
  await new Promise((r) => s.once('secureConnect', r));
  s.write(`GET /first HTTP/1.1\r\nhost: b\r\noutpost-dst-port: ${appPort}\r\n\r\n`);
  await sleep(200);
  assert.match(got, /^HTTP\/1\.1 200/);
  got = '';
  const slowStart = Date.now();
  s.write('GET /slow HTTP/1.1\r\n');
  for (let i = 0; i < 12 && closedAt === undefined; i++) {
    s.write(`x-slow-${i}: 1\r\n`);
    await sleep(100);
  }
  assert.ok(closedAt !== undefined && closedAt - slowStart < 1000, 'the slow head is cut after the header timeout');
  assert.match(got, /^HTTP\/1\.1 408/);
});

test('the admin listener: an idle connection is closed after the header timeout, and the per-address cap holds', async () => {
  const start = Date.now();
  const sockets = [];
  for (let i = 0; i < 7; i++) sockets.push(await open(proxyB.ports.admin));
  await sleep(100);
  assert.equal(sockets.filter((s) => s.closedAt !== undefined).length, 2);
  await sleep(800);
  for (const s of sockets) assert.ok(s.closedAt !== undefined && s.closedAt - start < 1200, `idle admin connections are closed: ${sockets.map((x) => (x.closedAt ?? 0) - start)}`);
  assert.equal(await refused('admin', 'too_many_pending'), 2);
  assert.ok((await refused('admin', 'header_timeout')) >= 5);
  assert.equal((await fetch(`http://127.0.0.1:${proxyB.ports.admin}/live`)).status, 200, 'the admin still answers');
});

test('the settings are validated and named', async () => {
  const { parseProxyConfig } = await import('../../src/proxy/config.js');
  const base = { identity: { trustAnchors: '/ca', certFile: '/c', keyFile: '/k' } };
  const d = parseProxyConfig(base);
  assert.deepEqual([d.timeouts.tlsHandshakeMs, d.timeouts.headerMs, d.listeners.maxPendingPerClient], [10_000, 10_000, 128]);
  assert.throws(() => parseProxyConfig({ ...base, listeners: { maxPendingPerClient: 0 } }), /listeners.maxPendingPerClient: must be a whole number, at least 1 \(got 0\)/);
  assert.throws(() => parseProxyConfig(base, { OUTPOST_PROXY_TIMEOUTS_TLS_HANDSHAKE: 'soon' }), /timeouts.tlsHandshake: must be a duration .*\(from OUTPOST_PROXY_TIMEOUTS_TLS_HANDSHAKE\)/);
});
