// Revoked workloads at the data path: inbound refuses a client whose certificate names a revoked
// workload (and closes its open connections when the list changes); outbound refuses to dial a
// revoked endpoint, resumed TLS sessions included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMesh, serving, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import { parseProxyConfig } from '../../src/proxy/config.js';
import { createSeams, type Revocations } from '../../src/proxy/seams.js';
import { startProxy, type RunningProxy } from '../../src/proxy/main.js';
import { silentLogger } from '../../src/core/log.js';
import { dnsSans } from '../../src/proxy/tls/identity.js';

let mesh: Mesh;
let app: Server;
let appPort: number;
let hits = 0;

/** A deny list by serverName that tests change at will (what the control plane's stream delivers). */
class FakeRevocations implements Revocations {
  revoked = new Set<string>();
  private readonly listeners = new Set<() => void>();
  isRevokedPeer(cert: { subjectaltname?: string } | undefined): boolean {
    return dnsSans(cert?.subjectaltname).some((n) => this.revoked.has(n));
  }
  isRevokedServerName(serverName: string | undefined): boolean {
    return !!serverName && this.revoked.has(serverName);
  }
  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(names: string[]): void {
    this.revoked = new Set(names);
    for (const l of this.listeners) l();
  }
}

async function proxyWith(creds: { certFile: string; keyFile: string }, revocations: Revocations, extra: Record<string, unknown> = {}): Promise<RunningProxy> {
  const config = parseProxyConfig({ admin: { port: 0 }, inbound: { port: 0, address: '127.0.0.1' }, outbound: { port: 0 }, tap: { port: 0, address: '127.0.0.1' }, identity: { trustAnchors: mesh.trustFile, ...creds }, ...extra }, {});
  const seams = await createSeams(config, silentLogger);
  const p = await startProxy(config, { ...seams, revocations }, { log: silentLogger });
  await p.started;
  return p;
}

before(async () => {
  mesh = await createMesh();
  app = createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
});

after(() => {
  app?.close();
  mesh?.cleanup();
});

test('inbound refuses a revoked client, including one already connected when the list changes', async () => {
  const b = await mesh.issue('rb', 'apps', 'server-b');
  const a = await mesh.issue('ra', 'apps', 'client-a');
  const list = new FakeRevocations();
  const proxyB = await proxyWith(b, list, serving(appPort));
  const proxyA = await startTestProxy(mesh, a, { upstreams: [upstreamTo('b.apps:80', [{ proxy: proxyB, appPort, identity: b.identity, serverName: b.serverName }])] });
  try {
    const url = `http://127.0.0.1:${proxyA.ports.upstreams['b.apps:80']}/`;
    assert.equal((await fetch(url)).status, 200, 'allowed before the revocation');
    list.set([a.serverName]); // closes A's open connection to B
    const before = hits;
    const r = await fetch(url);
    assert.equal(r.status, 502);
    assert.equal(hits, before, 'the app saw nothing from the revoked client');
  } finally {
    await proxyA.close();
    await proxyB.close();
  }
});

test('outbound refuses to dial a revoked endpoint, even with a resumable session', async () => {
  const b = await mesh.issue('ob', 'apps', 'server-b');
  const a = await mesh.issue('oa', 'apps', 'client-a');
  const proxyB = await startTestProxy(mesh, b, serving(appPort));
  const list = new FakeRevocations();
  const proxyA = await proxyWith(a, list, { upstreams: [upstreamTo('b.apps:80', [{ proxy: proxyB, appPort, identity: b.identity, serverName: b.serverName }], 'opaque')] });
  try {
    const port = proxyA.ports.upstreams['b.apps:80'];
    assert.equal((await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).status, 200);
    list.set([b.serverName]);
    const before = hits;
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } }));
    assert.equal(hits, before);
  } finally {
    await proxyA.close();
    await proxyB.close();
  }
});
