// The HTTP/1.1 relay's timers as a user sees them: an app that does not answer gets the client a 504
// (timeouts.request) and the proxies keep serving; a pooled connection to the app is reused while
// busy and closed once idle for timeouts.idle (one sweep per pool, no per-request timer).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createMesh, serving, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
let app: Server;
let proxyA: RunningProxy;
let proxyB: RunningProxy;
let port: number;
const appConnections: Socket[] = [];
const closedAt = new Map<Socket, number>();

before(async () => {
  mesh = await createMesh();
  app = createServer((req, res) => {
    if (req.url === '/never') return; // holds the request: the proxy must give up
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  app.keepAliveTimeout = 60_000; // the app keeps idle connections: closing them is the proxy's job
  app.on('connection', (s: Socket) => {
    appConnections.push(s);
    s.on('close', () => closedAt.set(s, Date.now()));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  const b = await mesh.issue('b', 'apps', 'server-b');
  proxyB = await startTestProxy(mesh, b, { ...serving(appPort), timeouts: { shutdownGrace: '2s', detect: '300ms', request: '400ms', idle: '600ms' } });
  proxyA = await startTestProxy(mesh, await mesh.issue('a', 'apps', 'client-a'), {
    timeouts: { shutdownGrace: '2s', detect: '300ms', request: '5s', idle: '60s' },
    upstreams: [upstreamTo('api.apps:80', [{ proxy: proxyB, appPort, identity: b.identity, serverName: b.serverName }])],
  });
  port = proxyA.ports.upstreams['api.apps:80'];
});

after(async () => {
  await proxyA?.close();
  await proxyB?.close();
  app?.closeAllConnections();
  app?.close();
  mesh?.cleanup();
});

function get(path: string): Promise<{ status: number; error: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, error: res.headers['l5d-proxy-error'] as string | undefined, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('an app that never answers gets the client a 504 naming the timeout; the next requests are served', async () => {
  const r = await get('/never');
  assert.equal(r.status, 504);
  assert.match(r.error ?? '', /timed out/);
  for (let i = 0; i < 3; i++) assert.deepEqual(await get('/ok'), { status: 200, error: undefined, body: 'ok' });
});

test('a pooled connection to the app is reused between requests and closed once idle for timeouts.idle', async () => {
  const before = appConnections.length;
  for (let i = 0; i < 5; i++) {
    assert.equal((await get('/ok')).status, 200);
    await new Promise((r) => setTimeout(r, 50));
  }
  const used = appConnections.slice(before);
  assert.ok(used.length <= 1, `5 sequential requests opened ${used.length} new connections to the app`);
  // The connection the requests went over (new, or the one left from the first test).
  const conn = used[0] ?? appConnections.find((s) => !closedAt.has(s));
  assert.ok(conn, 'no open connection to the app after the requests');
  const lastRequest = Date.now();
  const deadline = lastRequest + 5000;
  while (!closedAt.has(conn) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(closedAt.has(conn), 'the idle connection to the app was not closed within 5 s (timeouts.idle is 600 ms)');
  // Still a working path afterwards: a fresh connection is opened.
  assert.equal((await get('/ok')).status, 200);
});
