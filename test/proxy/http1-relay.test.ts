// The HTTP/1.1 relay between proxies, edge cases a user would hit: chunked bodies both ways, large
// bodies (backpressure), HEAD and 204, Connection: close, pipelined requests, upgrade-free keep-alive
// reuse after the app closes idle connections, heads with more headers than the parser hands over at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { createMesh, serving, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
let app: Server;
let proxyA: RunningProxy;
let proxyB: RunningProxy;
let port: number;

before(async () => {
  mesh = await createMesh();
  app = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' }); // no length: chunked response
        res.write('part1-');
        setTimeout(() => res.end('part2'), 20);
      } else if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
      } else if (req.url === '/many-headers') {
        // Echoes the request's headers and answers with as many of its own (more than llhttp passes at once).
        for (let i = 0; i < 40; i++) res.setHeader(`x-resp-${i}`, `r${i}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(req.headers));
      } else if (req.url === '/big') {
        res.writeHead(200, { 'content-length': 4 * 1024 * 1024 });
        res.end(Buffer.alloc(4 * 1024 * 1024, 7));
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'x-len': String(body.length) });
        res.end(JSON.stringify({ method: req.method, url: req.url, te: req.headers['transfer-encoding'] ?? null, sha: createHash('sha256').update(body).digest('hex'), len: body.length }));
      }
    });
  });
  app.keepAliveTimeout = 300; // the app closes idle connections quickly: the pool must cope
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  const b = await mesh.issue('b', 'apps', 'server-b');
  proxyB = await startTestProxy(mesh, b, serving(appPort));
  proxyA = await startTestProxy(mesh, await mesh.issue('a', 'apps', 'client-a'), {
    upstreams: [upstreamTo('api.apps:80', [{ proxy: proxyB, appPort, identity: b.identity, serverName: b.serverName }])],
  });
  port = proxyA.ports.upstreams['api.apps:80'];
});

after(async () => {
  await proxyA?.close();
  await proxyB?.close();
  app?.close();
  mesh?.cleanup();
});

function call(method: string, path: string, body?: Buffer | string[], headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (Array.isArray(body)) {
      for (const part of body) req.write(part); // no content-length: chunked request
      req.end();
    } else req.end(body);
  });
}

test('a chunked request body arrives whole', async () => {
  const r = await call('POST', '/echo', ['hello ', 'chunked ', 'world']);
  const seen = JSON.parse(r.body.toString());
  assert.equal(seen.te, 'chunked');
  assert.equal(seen.len, 'hello chunked world'.length);
});

test('a chunked response streams through', async () => {
  const r = await call('GET', '/chunked');
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'part1-part2');
  assert.equal(r.headers['transfer-encoding'], 'chunked');
});

test('large bodies both ways are byte-exact', async () => {
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const r = await call('PUT', '/upload', big, { 'content-type': 'application/octet-stream' });
  const seen = JSON.parse(r.body.toString());
  assert.equal(seen.len, big.length);
  assert.equal(seen.sha, createHash('sha256').update(big).digest('hex'));
  const down = await call('GET', '/big');
  assert.equal(down.body.length, 4 * 1024 * 1024);
});

test('HEAD and 204 responses have no body and keep the connection usable', async () => {
  const h = await call('HEAD', '/big');
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], String(4 * 1024 * 1024));
  assert.equal(h.body.length, 0);
  const e = await call('GET', '/empty');
  assert.equal(e.status, 204);
  const after = await call('GET', '/after');
  assert.equal(JSON.parse(after.body.toString()).url, '/after');
});

test('pipelined requests on one connection are answered in order; Connection: close is honoured', async () => {
  const text = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', reject);
    s.write('GET /one HTTP/1.1\r\nHost: api.apps\r\n\r\nGET /two HTTP/1.1\r\nHost: api.apps\r\n\r\nGET /three HTTP/1.1\r\nHost: api.apps\r\nConnection: close\r\n\r\n');
  });
  const urls = [...text.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(urls, ['/one', '/two', '/three']);
  assert.match(text, /connection: close/i);
});

test('pooled connections the app closed while idle are replaced without a failed request', async () => {
  assert.equal((await call('GET', '/warm')).status, 200);
  await new Promise((r) => setTimeout(r, 500)); // longer than the app's keep-alive timeout
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call('GET', `/again/${i}`)));
  assert.deepEqual(results.map((r) => r.status), Array(10).fill(200));
});

test('requests and responses with many headers arrive with all of them (more than the parser hands over at once)', async () => {
  const sent: Record<string, string> = {};
  for (let i = 0; i < 40; i++) sent[`x-req-${i}`] = `v${i}`;
  const r = await call('GET', '/many-headers', undefined, sent);
  assert.equal(r.status, 200);
  const seen = JSON.parse(r.body.toString()) as Record<string, string>;
  for (const [k, v] of Object.entries(sent)) assert.equal(seen[k], v, `request header ${k} did not reach the app`);
  for (let i = 0; i < 40; i++) assert.equal(r.headers[`x-resp-${i}`], `r${i}`, `response header x-resp-${i} did not reach the client`);
});
