// Credentials meant for the proxy (Proxy-Authorization) and the other hop-by-hop headers never reach
// an app, and Proxy-Authenticate / Connection-listed response headers never reach the client, on the
// paths hop-headers.test.ts does not take: h2c from the app to a peer, and every path to an unmeshed
// endpoint (the lean relay, node:http with http1Transport: h2, h2c). One set drives them all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createH2Server, connect as h2connect, type Http2Server } from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import { createMesh, serving, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
let h1App: Server;
let h2App: Http2Server;
const proxies: RunningProxy[] = [];
let relay: RunningProxy;
let viaH2: RunningProxy;

const RESPONSE_HOPS = { 'proxy-authenticate': 'Basic realm="app"', connection: 'x-resp-hop', 'x-resp-hop': 'secret', 'x-resp-end': 'kept' };
const REQUEST_HOPS = ['proxy-authorization', 'proxy-connection', 'keep-alive', 'te', 'x-listed-hop', 'outpost-orig-proto', 'outpost-dst-port'];

before(async () => {
  mesh = await createMesh();
  h1App = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...RESPONSE_HOPS });
    res.end(JSON.stringify(req.headers));
  });
  await new Promise<void>((r) => h1App.listen(0, '127.0.0.1', r));
  h2App = createH2Server();
  h2App.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'application/json', 'proxy-authenticate': 'Basic realm="app"', 'x-resp-end': 'kept' });
    stream.end(JSON.stringify(headers));
  });
  await new Promise<void>((r) => h2App.listen(0, '127.0.0.1', r));
  const h1Port = (h1App.address() as AddressInfo).port;
  const h2Port = (h2App.address() as AddressInfo).port;
  const b = await mesh.issue('b', 'apps', 'server-b');
  const proxyB = await startTestProxy(mesh, b, serving(h2Port));
  const upstreams = [
    { name: 'plain.apps:80', listen: '127.0.0.1:0', endpoints: [{ address: '127.0.0.1', port: h1Port }] },
    { name: 'plain-grpc.apps:80', listen: '127.0.0.1:0', endpoints: [{ address: '127.0.0.1', port: h2Port }] },
    upstreamTo('grpc.apps:80', [{ proxy: proxyB, appPort: h2Port, identity: b.identity, serverName: b.serverName }]),
  ];
  const creds = await mesh.issue('a', 'apps', 'client-a');
  relay = await startTestProxy(mesh, creds, { upstreams });
  viaH2 = await startTestProxy(mesh, creds, { outbound: { port: 0, http1Transport: 'h2' }, upstreams });
  proxies.push(proxyB, relay, viaH2);
});

after(async () => {
  for (const p of proxies) await p.close();
  h1App?.close();
  h2App?.close();
  mesh?.cleanup();
});

/** A raw HTTP/1.1 request carrying every hop-by-hop header; returns response headers and what the app saw. */
function rawRequest(port: number): Promise<{ status: number; headers: Record<string, string>; seen: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('error', reject);
    s.on('close', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const body = rest.join('\r\n\r\n');
      resolve({ status: Number(lines[0].split(' ')[1]), headers, seen: JSON.parse(body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1)) });
    });
    s.write(
      'GET /echo HTTP/1.1\r\nhost: plain.apps\r\n' +
        'proxy-authorization: Basic dXNlcjpodW50ZXIy\r\nproxy-connection: keep-alive\r\nkeep-alive: timeout=5\r\nte: trailers\r\n' +
        'outpost-orig-proto: HTTP/1.0\r\noutpost-dst-port: 4191\r\nx-listed-hop: secret\r\nconnection: close, x-listed-hop\r\nx-end-to-end: kept\r\n\r\n',
    );
  });
}

for (const [name, proxy] of [
  ['the lean relay', () => relay],
  ['node:http (http1Transport: h2)', () => viaH2],
] as const) {
  test(`HTTP/1.1 to an unmeshed endpoint through ${name}: no hop-by-hop or proxy header crosses, either way`, async () => {
    const r = await rawRequest(proxy().ports.upstreams['plain.apps:80']);
    assert.equal(r.status, 200);
    for (const h of REQUEST_HOPS) assert.equal(r.seen[h], undefined, `${h} reached the app`);
    assert.equal(r.seen['x-end-to-end'], 'kept');
    assert.equal(r.headers['proxy-authenticate'], undefined, 'Proxy-Authenticate reached the client');
    assert.equal(r.headers['x-resp-hop'], undefined, 'a header the app listed in Connection reached the client');
    assert.equal(r.headers['x-resp-end'], 'kept');
  });
}

for (const [name, authority] of [
  ['to a peer proxy (HTTP/2 between proxies)', 'grpc.apps:80'],
  ['to an unmeshed endpoint', 'plain-grpc.apps:80'],
] as const) {
  test(`h2c from the app ${name}: Proxy-Authorization and the proxies' headers never reach the app`, async () => {
    const session = h2connect(`http://127.0.0.1:${relay.ports.upstreams[authority]}`);
    try {
      const { headers, seen } = await new Promise<{ headers: Record<string, unknown>; seen: Record<string, string> }>((resolve, reject) => {
        const s = session.request({ ':path': '/echo', 'proxy-authorization': 'Basic dXNlcjpodW50ZXIy', te: 'trailers', 'outpost-orig-proto': 'HTTP/1.0', 'outpost-dst-port': '4191', 'x-end-to-end': 'kept' });
        let body = '';
        let headers: Record<string, unknown> = {};
        s.on('response', (h) => (headers = h as Record<string, unknown>));
        s.on('data', (d) => (body += d));
        s.on('end', () => resolve({ headers, seen: JSON.parse(body) }));
        s.on('error', reject);
        s.end();
      });
      assert.equal(headers[':status'], 200);
      for (const h of ['proxy-authorization', 'outpost-orig-proto', 'outpost-dst-port']) assert.equal(seen[h], undefined, `${h} reached the app`);
      assert.equal(seen['x-end-to-end'], 'kept');
      assert.equal(headers['proxy-authenticate'], undefined, 'Proxy-Authenticate reached the client');
      assert.equal(headers['x-resp-end'], 'kept');
    } finally {
      session.close();
    }
  });
}
