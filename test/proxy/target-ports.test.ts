// The inbound forwards only to the workload's declared ports: a peer with a valid mesh certificate that
// names the proxy's own admin (or tap, outbound, inbound) port, or an undeclared localhost-only service,
// in outpost-dst-port (HTTP/1.1, HTTP/2) or the transport header (opaque) is refused, counted, and
// the proxy keeps running. Also: /shutdown is off unless enabled, and the admin never trusts the
// inbound's own loopback connections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { createServer as netServer, connect as netConnect, type AddressInfo, type Server as NetServer } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { createMesh, startTestProxy, type Mesh } from './mesh.js';
import { encodeTransportHeader } from '../../src/proxy/transport/header.js';
import { targetPortRefusal } from '../../src/proxy/inbound/target-ports.js';
import type { RunningProxy } from '../../src/proxy/main.js';
import type { InboundPortPolicy } from '../../src/api/model.js';

let mesh: Mesh;
let app: Server;
let appPort: number;
let hidden: NetServer;
let hiddenPort: number;
let hiddenHits = 0;
let proxy: RunningProxy;
let b: Awaited<ReturnType<Mesh['issue']>>;
let peer: { cert: string; key: string };

const listening = async (s: Server | NetServer) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};

before(async () => {
  mesh = await createMesh();
  app = createServer((req, res) => res.end(`app ${req.method} ${req.url}`));
  appPort = await listening(app);
  // A localhost-only service the workload does not declare (a database console, say).
  hidden = netServer((s) => {
    hiddenHits++;
    s.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nhidden');
  });
  hiddenPort = await listening(hidden);
  b = await mesh.issue('b', 'apps', 'server-b');
  // Even with /shutdown enabled for local operators, no peer may reach it through the inbound.
  proxy = await startTestProxy(mesh, b, { inbound: { port: 0, address: '127.0.0.1', ports: [appPort] }, admin: { port: 0, shutdownEnabled: true } });
  const a = await mesh.issue('attacker', 'apps', 'client-a');
  peer = { cert: readFileSync(a.certFile, 'utf8'), key: readFileSync(a.keyFile, 'utf8') };
});

after(async () => {
  await proxy?.close();
  app?.close();
  hidden?.close();
  mesh?.cleanup();
});

function peerTls(alpn: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: proxy.ports.inbound, ca: readFileSync(mesh.trustFile), servername: b.serverName, ALPNProtocols: [alpn], ...peer });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One HTTP/1.1 request over a mesh peer's TLS connection, naming the target port. */
async function viaHttp1(port: number, method: string, path: string, body = ''): Promise<{ status: number; error: string; text: string }> {
  const s = await peerTls('http/1.1');
  s.write(`${method} ${path} HTTP/1.1\r\nhost: b\r\noutpost-dst-port: ${port}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
  const raw = await new Promise<string>((resolve) => {
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
    s.on('error', () => {});
  });
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(raw)?.[1] ?? 0);
  return { status, error: /l5d-proxy-error: ([^\r]*)/i.exec(raw)?.[1] ?? '', text: raw.split('\r\n\r\n').slice(1).join('') };
}

async function viaH2(port: number, method: string, path: string): Promise<{ status: number; error: string }> {
  const s = await peerTls('h2');
  const session = h2connect('https://b', { createConnection: () => s });
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ':method': method, ':path': path, 'outpost-dst-port': String(port), 'outpost-orig-proto': 'HTTP/1.1' });
      req.on('response', (h) => {
        resolve({ status: Number(h[':status']), error: String(h['l5d-proxy-error'] ?? '') });
        req.resume();
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    session.destroy();
  }
}

/** An opaque connection with a transport header for `port`: what comes back before the proxy closes it. */
async function viaOpaque(port: number, payload: string): Promise<string> {
  const s = await peerTls('outpost.tcp/1');
  s.write(Buffer.concat([encodeTransportHeader({ port, opaque: true }), Buffer.from(payload)]));
  return new Promise((resolve) => {
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
    s.on('error', () => {});
  });
}

const refusedTotal = async (reason: string) => {
  const m = await fetch(`http://127.0.0.1:${proxy.ports.admin}/metrics`).then((r) => r.text());
  return Number(new RegExp(`inbound_target_port_refused_total\\{direction="inbound",reason="${reason}"\\} (\\d+)`).exec(m)?.[1] ?? 0);
};

test('a mesh peer cannot shut the proxy down or change its log level through the inbound (HTTP/1.1)', async () => {
  const before = await refusedTotal('proxy_port');
  const shut = await viaHttp1(proxy.ports.admin, 'POST', '/shutdown');
  assert.equal(shut.status, 403);
  assert.match(shut.error, new RegExp(`target port ${proxy.ports.admin} is this proxy's admin port`));
  const level = await viaHttp1(proxy.ports.admin, 'PUT', '/proxy-log-level', 'debug');
  assert.equal(level.status, 403);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(proxy.ready(), true, 'the proxy keeps running');
  assert.equal((await fetch(`http://127.0.0.1:${proxy.ports.admin}/live`)).status, 200);
  assert.notEqual((await fetch(`http://127.0.0.1:${proxy.ports.admin}/proxy-log-level`).then((r) => r.text())).trim(), 'debug');
  assert.equal(await refusedTotal('proxy_port'), before + 2);
});

test('every one of the proxy\'s own ports is refused, on HTTP/1.1, HTTP/2 and the opaque transport header', async () => {
  const own = { admin: proxy.ports.admin, tap: proxy.ports.tap, outbound: proxy.ports.outbound, inbound: proxy.ports.inbound };
  for (const [role, port] of Object.entries(own)) {
    const h1 = await viaHttp1(port, 'GET', '/metrics');
    assert.equal(h1.status, 403, `${role} over HTTP/1.1`);
    assert.match(h1.error, new RegExp(`this proxy's ${role} port`));
    const h2 = await viaH2(port, 'GET', '/metrics');
    assert.equal(h2.status, 403, `${role} over HTTP/2`);
    assert.match(h2.error, new RegExp(`this proxy's ${role} port`));
    assert.equal(await viaOpaque(port, 'GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n'), '', `${role} over the transport header: closed, nothing answered`);
  }
  assert.equal(proxy.ready(), true);
});

test('an undeclared localhost-only service is never reached, whatever the protocol', async () => {
  const before = await refusedTotal('undeclared_port');
  const h1 = await viaHttp1(hiddenPort, 'GET', '/');
  assert.equal(h1.status, 403);
  assert.match(h1.error, /is not a port of this workload \(declare it in the ExternalWorkload's spec.ports/);
  assert.equal((await viaH2(hiddenPort, 'GET', '/')).status, 403);
  assert.equal(await viaOpaque(hiddenPort, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n'), '');
  // Detection inside an opaque-ALPN connection (flag not opaque) is refused before detection, too.
  const s = await peerTls('outpost.tcp/1');
  s.write(Buffer.concat([encodeTransportHeader({ port: hiddenPort, opaque: false }), Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n')]));
  const detected = await new Promise<string>((resolve) => {
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
  });
  assert.equal(detected, '');
  assert.equal(hiddenHits, 0, 'the hidden service never saw a connection');
  assert.equal(await refusedTotal('undeclared_port'), before + 4);
});

test('the declared port still answers on every protocol', async () => {
  const h1 = await viaHttp1(appPort, 'GET', '/hello');
  assert.equal(h1.status, 200);
  assert.equal(h1.text, 'app GET /hello');
  assert.equal((await viaH2(appPort, 'GET', '/hello')).status, 200);
  assert.match(await viaOpaque(appPort, 'GET /x HTTP/1.1\r\nhost: b\r\nconnection: close\r\n\r\n'), /^HTTP\/1\.1 200[\s\S]*app GET \/x$/);
});

test('the admin never takes a mutation from one of the proxy\'s own loopback connections', async () => {
  // The inbound registers the local port of each connection it opens to 127.0.0.1; pretend this is one.
  const s = netConnect({ host: '127.0.0.1', port: proxy.ports.admin });
  await new Promise((r) => s.once('connect', r));
  proxy.ctx.ownLocalClients.add(s.localPort!);
  s.write('PUT /proxy-log-level HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nconnection: close\r\n\r\ndebug');
  const raw = await new Promise<string>((resolve) => {
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
  });
  proxy.ctx.ownLocalClients.delete(s.localPort!);
  assert.match(raw, /^HTTP\/1\.1 403[\s\S]*not allowed through the proxy/);
});

test('POST /shutdown is refused unless admin.shutdownEnabled', async () => {
  const p = await startTestProxy(mesh, await mesh.issue('c', 'apps', 'default-admin'));
  try {
    const r = await fetch(`http://127.0.0.1:${p.ports.admin}/shutdown`, { method: 'POST' });
    assert.equal(r.status, 404);
    assert.match(await r.text(), /shutdown is disabled \(set admin.shutdownEnabled: true/);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(p.ready(), true);
  } finally {
    await p.close();
  }
});

test('targetPortRefusal: declared by the ExternalWorkload, a Server or the config; never a proxy port', () => {
  const policy = (kind: string): InboundPortPolicy => ({ protocol: 'detect', authorizations: [], httpRoutes: [], labels: { kind, name: 'x' } });
  const inputs = { ownPorts: new Map([[4191, 'admin'], [4143, 'inbound']]), configured: new Set([9000]), workloadPorts: new Set([8080, 4191]), policy: policy('default') };
  const cases: [string, number, Partial<typeof inputs>, string | undefined][] = [
    ['an ExternalWorkload port', 8080, {}, undefined],
    ['a configured inbound port', 9000, {}, undefined],
    ['a port a Server selects', 7000, { policy: policy('server') }, undefined],
    ['an undeclared port with the default policy', 7000, {}, 'undeclared_port'],
    ['before the workload ports are known', 8080, { workloadPorts: undefined }, 'undeclared_port'],
    ['the admin port, even when the workload declares it', 4191, {}, 'proxy_port'],
    ['the inbound port, even selected by a Server', 4143, { policy: policy('server') }, 'proxy_port'],
    ['port 0', 0, {}, 'undeclared_port'],
  ];
  for (const [name, port, over, want] of cases) assert.equal(targetPortRefusal(port, { ...inputs, ...over })?.reason, want, name);
});
