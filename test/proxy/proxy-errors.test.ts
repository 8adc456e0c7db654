// The proxy's own errors come from one table: each name has one HTTP status on every path, gRPC
// callers get a trailers-only response with the table's grpc-status, and docs/proxy.md lists the table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as netServer, connect, type AddressInfo } from 'node:net';
import { connect as h2connect } from 'node:http2';
import { createMesh, startTestProxy, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';
import { PROXY_ERRORS } from '../../src/proxy/http/errors.js';

let mesh: Mesh;
let a: RunningProxy;
let a2: RunningProxy;
let deadPort: number;

before(async () => {
  mesh = await createMesh();
  // A port nothing listens on: bind, read the port, close.
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  deadPort = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  const dead = { name: 'dead.apps:80', listen: '127.0.0.1:0', endpoints: [{ address: '127.0.0.1', port: 8080, inboundPort: deadPort, identity: 'spiffe://cluster.local/ns/apps/sa/dead', serverName: 'dead.apps' }] };
  const creds = await mesh.issue('a', 'apps', 'client-a');
  a = await startTestProxy(mesh, creds, { upstreams: [dead] });
  a2 = await startTestProxy(mesh, creds, { outbound: { port: 0, http1Transport: 'h2' }, upstreams: [dead] });
});

after(async () => {
  await a?.close();
  await a2?.close();
  mesh?.cleanup();
});

function rawGet(port: number): Promise<{ status: number; error: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('error', reject);
    s.on('close', () => resolve({ status: Number(data.split(' ')[1]), error: /l5d-proxy-error: ([^\r]*)/i.exec(data)?.[1] ?? '' }));
    s.write('GET / HTTP/1.1\r\nhost: dead.apps\r\nconnection: close\r\n\r\n');
  });
}

test('a refused endpoint is connect_failed (502 with l5d-proxy-error) on both HTTP/1.1 transports', async () => {
  for (const p of [a, a2]) {
    const r = await rawGet(p.ports.upstreams['dead.apps:80']);
    assert.equal(r.status, PROXY_ERRORS.connect_failed.status);
    assert.match(r.error, /connect/);
  }
});

test('a gRPC caller gets the error as gRPC: HTTP 200, grpc-status UNAVAILABLE, the reason in grpc-message', async () => {
  const session = h2connect(`http://127.0.0.1:${a.ports.upstreams['dead.apps:80']}`);
  try {
    const h = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const s = session.request({ ':method': 'POST', ':path': '/pkg.Svc/Call', 'content-type': 'application/grpc', te: 'trailers' });
      s.on('response', (headers) => resolve(headers as Record<string, unknown>));
      s.on('error', reject);
      s.end();
    });
    assert.equal(h[':status'], 200);
    assert.equal(h['grpc-status'], String(PROXY_ERRORS.connect_failed.grpc));
    assert.equal(h['grpc-status'], '14');
    assert.match(decodeURIComponent(String(h['grpc-message'])), /dead\.apps:80: connect to 127\.0\.0\.1:\d+ failed/);
    assert.match(String(h['l5d-proxy-error']), /connect/);
  } finally {
    session.close();
  }
});

test('docs/proxy.md lists every proxy error with its status and grpc-status', () => {
  const doc = readFileSync('docs/proxy.md', 'utf8');
  for (const [name, e] of Object.entries(PROXY_ERRORS)) {
    assert.match(doc, new RegExp(`\\| \`${name}\` \\| ${e.status} \\| ${e.grpc} \\|`), `docs/proxy.md has no row for ${name}`);
  }
});
