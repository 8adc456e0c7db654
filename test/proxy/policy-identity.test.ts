// Identity and policy at the edges: a peer with the wrong identity is refused by outbound, a client
// without a mesh certificate cannot reach inbound, and a denied identity gets 403 (HTTP) or a
// closed connection (TCP), both counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as netServer, connect, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { createMesh, startTestProxy, upstreamTo, idOf, type Mesh } from './mesh.js';
import { createTestPki } from '../support/pki.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
let app: Server;
let appPort: number;
let tcpApp: import('node:net').Server;
let tcpPort: number;
let appHits = 0;
let proxyA: RunningProxy;
let proxyB: RunningProxy;
let b: Awaited<ReturnType<Mesh['issue']>>;

before(async () => {
  mesh = await createMesh();
  app = createServer((_req, res) => {
    appHits++;
    res.end('ok');
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  tcpApp = netServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpApp.listen(0, '127.0.0.1', r));
  tcpPort = (tcpApp.address() as AddressInfo).port;
  const a = await mesh.issue('a', 'apps', 'client-a');
  b = await mesh.issue('b', 'apps', 'server-b');
  // Proxy B only lets "allowed" talk to its ports; client-a is authenticated but not allowed.
  proxyB = await startTestProxy(mesh, b, {
    policy: { ports: [{ port: appPort, identities: [idOf('apps', 'allowed')] }, { port: tcpPort, protocol: 'opaque', identities: [idOf('apps', 'allowed')] }] },
  });
  const peer = (port: number, identity = b.identity) => [{ proxy: proxyB, appPort: port, identity, serverName: b.serverName }];
  proxyA = await startTestProxy(mesh, a, {
    upstreams: [
      upstreamTo('web.apps:80', peer(appPort)),
      upstreamTo('echo.apps:7000', peer(tcpPort), 'opaque'),
      upstreamTo('impostor.apps:80', peer(appPort, idOf('apps', 'someone-else'))),
    ],
  });
});

after(async () => {
  await proxyA?.close();
  await proxyB?.close();
  app?.close();
  tcpApp?.close();
  mesh?.cleanup();
});

test('a denied identity gets 403 over HTTP, and the denial is counted', async () => {
  const hitsBefore = appHits;
  const r = await fetch(`http://127.0.0.1:${proxyA.ports.upstreams['web.apps:80']}/secret`);
  assert.equal(r.status, 403);
  assert.equal(appHits, hitsBefore, 'the app never saw the request');
  const m = await fetch(`http://127.0.0.1:${proxyB.ports.admin}/metrics`).then((x) => x.text());
  assert.match(m, new RegExp(`inbound_http_authz_deny_total\\{direction="inbound",target_addr="127.0.0.1:${appPort}",tls="true",client_id="${idOf('apps', 'client-a')}"[^}]*\\} 1`));
});

test('a denied identity has its TCP connection closed, and the denial is counted', async () => {
  const got = await new Promise<string>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: proxyA.ports.upstreams['echo.apps:7000'] });
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
    s.on('error', () => {});
    s.write('hello?');
  });
  assert.equal(got, '', 'no byte came back');
  const m = await fetch(`http://127.0.0.1:${proxyB.ports.admin}/metrics`).then((x) => x.text());
  assert.match(m, /inbound_tcp_authz_deny_total\{direction="inbound"[^}]*client_id="spiffe:\/\/cluster.local\/ns\/apps\/sa\/client-a"[^}]*\} 1/);
});

test('outbound refuses a peer whose certificate does not carry the discovered identity', async () => {
  const hitsBefore = appHits;
  const r = await fetch(`http://127.0.0.1:${proxyA.ports.upstreams['impostor.apps:80']}/`);
  assert.equal(r.status, 502);
  assert.match(await r.text(), /peer identity spiffe:\/\/cluster.local\/ns\/apps\/sa\/server-b is not the expected spiffe:\/\/cluster.local\/ns\/apps\/sa\/someone-else/);
  assert.equal(appHits, hitsBefore);
});

function handshake(opts: { cert?: string; key?: string }): Promise<'connected' | 'refused'> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: proxyB.ports.inbound, ca: readFileSync(mesh.trustFile), servername: b.serverName, ALPNProtocols: ['h2'], ...opts });
    s.on('secureConnect', () => {
      // TLS 1.3: the server checks the client certificate after the client's Finished; wait for its verdict.
      s.once('data', () => resolve('connected'));
      setTimeout(() => resolve(s.destroyed ? 'refused' : 'connected'), 300);
    });
    s.on('error', () => resolve('refused'));
    s.on('close', () => resolve('refused'));
  });
}

test('inbound requires a client certificate from the mesh trust anchors', async () => {
  assert.equal(await handshake({}), 'refused');
  const other = await createTestPki({ name: 'other.test' });
  const leaf = await other.leaf({ identity: idOf('apps', 'client-a') });
  assert.equal(await handshake({ cert: leaf.chainPem, key: leaf.keyPem }), 'refused');
  const good = await mesh.issue('probe', 'apps', 'client-a');
  assert.equal(await handshake({ cert: readFileSync(good.certFile, 'utf8'), key: readFileSync(good.keyFile, 'utf8') }), 'connected');
});

test('right after a start, requests wait for the port policy instead of being refused', async () => {
  const { parseProxyConfig } = await import('../../src/proxy/config.js');
  const { createSeams } = await import('../../src/proxy/seams.js');
  const { startProxy } = await import('../../src/proxy/main.js');
  const { staticPortPolicy } = await import('../../src/proxy/static/policy.js');
  const { silentLogger } = await import('../../src/core/log.js');
  const c = await mesh.issue('late', 'apps', 'late-policy');
  const config = parseProxyConfig({ admin: { port: 0 }, inbound: { port: 0, address: '127.0.0.1', ports: [appPort] }, outbound: { port: 0 }, tap: { port: 0, address: '127.0.0.1' }, identity: { trustAnchors: mesh.trustFile, certFile: c.certFile, keyFile: c.keyFile } }, {});
  const seams = await createSeams(config, silentLogger);
  // A policy source whose first answer comes 300 ms after the question (like a control plane).
  const slowPolicy = {
    watchPort(port: number) {
      let current: ReturnType<typeof staticPortPolicy> | undefined;
      const listeners = new Set<(p: ReturnType<typeof staticPortPolicy>) => void>();
      setTimeout(() => {
        current = staticPortPolicy(port, 'all-authenticated', []);
        for (const l of listeners) l(current);
      }, 300);
      return { current: () => current, subscribe: (l: (p: ReturnType<typeof staticPortPolicy>) => void) => (listeners.add(l), () => listeners.delete(l)), close: () => {} };
    },
    close: () => {},
  };
  const late = await startProxy(config, { ...seams, policy: slowPolicy }, { log: silentLogger });
  await late.started;
  const a = await startTestProxy(mesh, await mesh.issue('la', 'apps', 'client-a'), {
    upstreams: [upstreamTo('late.apps:80', [{ proxy: late, appPort, identity: c.identity, serverName: c.serverName }])],
  });
  try {
    const r = await fetch(`http://127.0.0.1:${a.ports.upstreams['late.apps:80']}/first`);
    assert.equal(r.status, 200);
  } finally {
    await a.close();
    await late.close();
  }
});
