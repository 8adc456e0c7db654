// Hop-by-hop and proxy headers never reach an app, on the default HTTP/1.1 path and over HTTP/2
// between proxies: Proxy-Authorization (meant for the proxy, often a credential), Proxy-Connection,
// Keep-Alive, TE, the proxies' own headers, and whatever a Connection header names; nor do they
// reach the client from a response.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createMesh, serving, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
let app: Server;
let appPort: number;
const proxies: RunningProxy[] = [];
let viaHttp1: number;
let viaH2: number;
let viaOutbound: number;

before(async () => {
  mesh = await createMesh();
  app = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'proxy-authenticate': 'Basic realm="app"', connection: 'x-resp-hop', 'x-resp-hop': 'secret', 'x-resp-end': 'kept' });
    res.end(JSON.stringify(req.headers));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  const b = await mesh.issue('b', 'apps', 'server-b');
  const proxyB = await startTestProxy(mesh, b, serving(appPort));
  const peer = [{ proxy: proxyB, appPort, identity: b.identity, serverName: b.serverName }];
  const a = await startTestProxy(mesh, await mesh.issue('a', 'apps', 'client-a'), { upstreams: [upstreamTo('api.apps:80', peer)] });
  const a2 = await startTestProxy(mesh, await mesh.issue('a2', 'apps', 'client-a'), { outbound: { port: 0, http1Transport: 'h2' }, upstreams: [upstreamTo('api.apps:80', peer)] });
  proxies.push(proxyB, a, a2);
  viaHttp1 = a.ports.upstreams['api.apps:80'];
  viaOutbound = a.ports.outbound;
  viaH2 = a2.ports.upstreams['api.apps:80'];
});

after(async () => {
  for (const p of proxies) await p.close();
  app?.close();
  mesh?.cleanup();
});

/** A raw HTTP/1.1 request (so nothing strips headers on the way in); returns response headers and body. */
function rawRequest(port: number, target: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
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
      // A chunked body: keep the JSON between the chunk sizes.
      resolve({ status: Number(lines[0].split(' ')[1]), headers, body: body.includes('{') ? body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1) : body });
    });
    s.write(
      `GET ${target} HTTP/1.1\r\nhost: api.apps:80\r\n` +
        'proxy-authorization: Basic dXNlcjpodW50ZXIy\r\nproxy-connection: keep-alive\r\nkeep-alive: timeout=5\r\nte: trailers\r\n' +
        'outpost-orig-proto: HTTP/1.0\r\nx-listed-hop: secret\r\nconnection: close, x-listed-hop\r\nx-end-to-end: kept\r\n\r\n',
    );
  });
}

for (const [path, port, target] of [
  ['the default HTTP/1.1 path (upstream listener)', () => viaHttp1, '/echo'],
  ['the default HTTP/1.1 path (HTTP proxy port, absolute-form)', () => viaOutbound, 'http://api.apps:80/echo'],
  ['HTTP/2 between proxies (http1Transport: h2)', () => viaH2, '/echo'],
] as const) {
  test(`no hop-by-hop or proxy header reaches the app or the client: ${path}`, async () => {
    const r = await rawRequest(port(), target);
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as Record<string, string>;
    for (const h of ['proxy-authorization', 'proxy-connection', 'keep-alive', 'te', 'x-listed-hop', 'outpost-orig-proto', 'outpost-dst-port']) assert.equal(seen[h], undefined, `${h} reached the app`);
    assert.equal(seen['x-end-to-end'], 'kept', 'end-to-end headers still reach the app');
    assert.equal(r.headers['proxy-authenticate'], undefined, 'Proxy-Authenticate reached the client');
    assert.equal(r.headers['x-resp-hop'], undefined, 'a header the app listed in Connection reached the client');
    assert.equal(r.headers['x-resp-end'], 'kept');
  });
}
