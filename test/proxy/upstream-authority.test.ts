// Upstream listeners send the logical authority: an app that connects to 127.0.0.1:PORT of an upstream
// listener sends `Host: 127.0.0.1:PORT` (or that `:authority`), and the server app and the server
// proxy's metrics see the Service's name instead, over both outbound HTTP/1.1 transports and HTTP/2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { createServer as h2Server, connect as h2Connect, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createMesh, serving, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
let h1App: Server;
let h2App: Http2Server;
let proxyB: RunningProxy;
const clients: Record<string, RunningProxy> = {};

const portOf = (s: Server | Http2Server) => (s.address() as AddressInfo).port;

before(async () => {
  mesh = await createMesh();
  h1App = createServer((req, res) => res.end(req.headers.host ?? '<none>'));
  await new Promise<void>((r) => h1App.listen(0, '127.0.0.1', r));
  h2App = h2Server();
  h2App.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(String(headers[':authority'] ?? '<none>'));
  });
  await new Promise<void>((r) => h2App.listen(0, '127.0.0.1', r));
  const b = await mesh.issue('b', 'apps', 'server-b');
  proxyB = await startTestProxy(mesh, b, serving(portOf(h1App), portOf(h2App)));
  const peer = (appPort: number) => [{ proxy: proxyB, appPort, identity: b.identity, serverName: b.serverName }];
  for (const transport of ['http1', 'h2'] as const) {
    clients[transport] = await startTestProxy(mesh, await mesh.issue(`a-${transport}`, 'apps', 'client-a'), {
      outbound: { port: 0, http1Transport: transport },
      upstreams: [upstreamTo('web.apps.svc.cluster.local:8080', peer(portOf(h1App))), upstreamTo('web80.apps.svc.cluster.local:80', peer(portOf(h1App))), upstreamTo('grpc.apps.svc.cluster.local:9090', peer(portOf(h2App)))],
    });
  }
});

after(async () => {
  for (const p of Object.values(clients)) await p.close();
  await proxyB?.close();
  h1App?.close();
  h2App?.close();
  mesh?.cleanup();
});

function getBody(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    })
      .on('error', reject)
      .end();
  });
}

for (const transport of ['http1', 'h2'] as const) {
  test(`HTTP/1.1 through an upstream listener (outbound transport ${transport}) reaches the app with the Service's name as Host`, async () => {
    const p = clients[transport];
    assert.equal(await getBody(p.ports.upstreams['web.apps.svc.cluster.local:8080']), 'web.apps.svc.cluster.local:8080');
    assert.equal(await getBody(p.ports.upstreams['web80.apps.svc.cluster.local:80']), 'web80.apps.svc.cluster.local', 'the default port is left out, as a client would');
  });
}

test('HTTP/2 (gRPC-style, prior knowledge) through an upstream listener reaches the app with the Service as :authority, and the server proxy labels it so', async () => {
  const session = h2Connect(`http://127.0.0.1:${clients.http1.ports.upstreams['grpc.apps.svc.cluster.local:9090']}`);
  const body = await new Promise<string>((resolve, reject) => {
    const s = session.request({ ':path': '/x' });
    let b = '';
    s.setEncoding('utf8');
    s.on('data', (d) => (b += d));
    s.on('end', () => resolve(b));
    s.on('error', reject);
  });
  session.close();
  assert.equal(body, 'grpc.apps.svc.cluster.local:9090');
  const m = await fetch(`http://127.0.0.1:${proxyB.ports.admin}/metrics`).then((r) => r.text());
  assert.match(m, /request_total\{direction="inbound",[^}]*authority="grpc.apps.svc.cluster.local:9090"/);
  assert.doesNotMatch(m, /authority="127\.0\.0\.1:/, 'no request reached the server proxy named by a loopback address');
});
