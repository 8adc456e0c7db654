// End to end over loopback: app A -> proxy A -> (mTLS, HTTP/2) -> proxy B -> app B, for HTTP/1.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMesh, serving, startTestProxy, upstreamTo, idOf, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
let appB: Server;
let appPort: number;
let proxyA: RunningProxy;
let proxyB: RunningProxy;

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  mesh = await createMesh();
  appB = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-app': 'b' });
      res.end(JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, body, leaked: Object.keys(req.headers).filter((h) => h.startsWith('outpost-')) }));
    });
  });
  await new Promise<void>((r) => appB.listen(0, '127.0.0.1', r));
  appPort = (appB.address() as AddressInfo).port;
  const a = await mesh.issue('a', 'apps', 'client-a');
  const b = await mesh.issue('b', 'apps', 'server-b');
  proxyB = await startTestProxy(mesh, b, serving(appPort));
  proxyA = await startTestProxy(mesh, a, {
    upstreams: [upstreamTo('api.apps:80', [{ proxy: proxyB, appPort, identity: b.identity, serverName: b.serverName }])],
  });
});

after(async () => {
  await proxyA?.close();
  await proxyB?.close();
  appB?.close();
  mesh?.cleanup();
});

test('HTTP/1.1 through the HTTP proxy port reaches app B over mTLS with the Host kept', async () => {
  const r = await get(proxyA.ports.outbound, '/hello?x=1', { host: 'api.apps:80' });
  assert.equal(r.status, 200);
  const seen = JSON.parse(r.body);
  assert.equal(seen.url, '/hello?x=1');
  assert.equal(seen.host, 'api.apps:80', 'the Host the client sent reaches the app');
  assert.deepEqual(seen.leaked, [], 'proxy headers must not reach the app');
  assert.equal(r.headers['x-app'], 'b');
});

test('absolute-form requests and request bodies are forwarded', async () => {
  const r = await get(proxyA.ports.outbound, 'http://api.apps/post', { 'content-type': 'text/plain' }, 'POST', 'payload-123');
  assert.equal(r.status, 200);
  const seen = JSON.parse(r.body);
  assert.equal(seen.method, 'POST');
  assert.equal(seen.body, 'payload-123');
});

test('the per-upstream listener routes by its configured service', async () => {
  const port = proxyA.ports.upstreams['api.apps:80'];
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => get(port, `/n/${i}`)));
  assert.ok(results.every((r) => r.status === 200));
});

test('metrics on both sides reflect the traffic with Linkerd names and identities', async () => {
  await get(proxyA.ports.outbound, '/m', { host: 'api.apps:80' });
  const ma = await get(proxyA.ports.admin, '/metrics');
  const mb = await get(proxyB.ports.admin, '/metrics');
  assert.match(ma.body, new RegExp(`request_total\\{direction="outbound",authority="api.apps:80",target_addr="127.0.0.1:${appPort}",tls="true",server_id="${idOf('apps', 'server-b')}"`));
  assert.match(ma.body, /response_total\{[^}]*status_code="200",classification="success"\} \d+/);
  assert.match(ma.body, /response_latency_ms_bucket\{[^}]*le="\+Inf"\} \d+/);
  assert.match(mb.body, new RegExp(`request_total\\{direction="inbound",target_addr="127.0.0.1:${appPort}",tls="true",client_id="${idOf('apps', 'client-a')}"`));
  assert.match(mb.body, /inbound_http_authz_allow_total\{[^}]*client_id="spiffe:\/\/cluster.local\/ns\/apps\/sa\/client-a"[^}]*\} [1-9]/);
  assert.match(mb.body, /tcp_open_total\{direction="inbound"[^}]*\} [1-9]/);
  assert.match(ma.body, /identity_cert_expiration_timestamp_seconds \d{10}/);
});

test('with outbound.http1Transport=h2, HTTP/1.1 requests ride one multiplexed HTTP/2 connection', async () => {
  const a2 = await startTestProxy(mesh, await mesh.issue('a2', 'apps', 'client-a'), {
    outbound: { port: 0, http1Transport: 'h2' },
    upstreams: [upstreamTo('api.apps:80', [{ proxy: proxyB, appPort, identity: idOf('apps', 'server-b'), serverName: `server-b.apps.serviceaccount.identity.outpost.cluster.local` }])],
  });
  try {
    const port = a2.ports.upstreams['api.apps:80'];
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => get(port, `/h2/${i}`, {}, 'POST', `body-${i}`)));
    assert.ok(results.every((r, i) => r.status === 200 && JSON.parse(r.body).body === `body-${i}`));
    const m = await get(a2.ports.admin, '/metrics');
    const opened = /tcp_open_total\{direction="outbound",peer="dst"[^}]*\} (\d+)/.exec(m.body);
    assert.equal(opened?.[1], '1', 'one connection to the peer carried all ten requests');
  } finally {
    await a2.close();
  }
});

test('an endpoint without identity is reached in plain HTTP (pass-through for unmeshed workloads)', async () => {
  const a3 = await startTestProxy(mesh, await mesh.issue('a3', 'apps', 'client-a'), {
    upstreams: [{ name: 'legacy.apps:80', listen: '127.0.0.1:0', endpoints: [{ address: '127.0.0.1', port: appPort }] }],
  });
  try {
    const r = await get(a3.ports.upstreams['legacy.apps:80'], '/plain');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).url, '/plain');
    const m = await get(a3.ports.admin, '/metrics');
    assert.match(m.body, new RegExp(`request_total\\{direction="outbound",authority="legacy.apps:80",target_addr="127.0.0.1:${appPort}",tls="no_identity"`));
  } finally {
    await a3.close();
  }
});
