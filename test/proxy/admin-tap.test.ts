// Admin and tap endpoints of a running proxy: /live, /ready, /metrics, /proxy-log-level, and the
// tap stream (mTLS, only the viz identity) with its filter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { serviceClient } from '../../src/api/load.js';
import { readFileSync } from 'node:fs';
import { meshWithServer, upstreamTo, idOf, type Mesh, type MeshWithServer } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let setup: MeshWithServer;
let mesh: Mesh;
let proxyA: RunningProxy;
let proxyB: RunningProxy;
let serverName: string;

before(async () => {
  setup = await meshWithServer();
  ({ mesh, server: proxyB, serverName } = setup);
  proxyA = await setup.startClient('a', { upstreams: [upstreamTo('web.apps:80', setup.peer)] });
});

after(async () => {
  await setup?.close();
});

const admin = (p: RunningProxy, path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${p.ports.admin}${path}`, init);

test('/live and /ready answer 200 once the proxy holds credentials; unknown paths 404', async () => {
  assert.equal((await admin(proxyB, '/live')).status, 200);
  assert.equal((await admin(proxyB, '/ready')).status, 200);
  assert.equal((await admin(proxyB, '/nope')).status, 404);
  assert.equal((await admin(proxyB, '/shutdown')).status, 405, 'shutdown needs POST');
});

test('the log level can be read and changed at run time, and bad levels are refused', async () => {
  assert.equal((await (await admin(proxyB, '/proxy-log-level')).text()).trim(), 'error');
  assert.equal((await admin(proxyB, '/proxy-log-level', { method: 'PUT', body: 'debug' })).status, 204);
  assert.equal((await (await admin(proxyB, '/proxy-log-level')).text()).trim(), 'debug');
  const bad = await admin(proxyB, '/proxy-log-level', { method: 'PUT', body: 'loud' });
  assert.equal(bad.status, 400);
  await admin(proxyB, '/proxy-log-level', { method: 'PUT', body: 'error' });
});

function tapClient(identity: { certFile: string; keyFile: string }) {
  const Tap = serviceClient('outpost.tap.v1.Tap') as any;
  const creds = grpc.credentials.createSsl(readFileSync(mesh.trustFile), readFileSync(identity.keyFile), readFileSync(identity.certFile));
  return new Tap(`127.0.0.1:${proxyB.ports.tap}`, creds, { 'grpc.ssl_target_name_override': serverName });
}

test('tap streams live inbound requests to the viz identity, filtered by path', async () => {
  const viz = await mesh.issue('viz', 'outpost', 'outpost-viz');
  assert.equal(viz.identity, idOf('outpost', 'outpost-viz'));
  const c = tapClient(viz);
  const events: any[] = [];
  const call = c.Observe({ limit: 2, pathPrefix: '/tapped' });
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (e: unknown) => events.push(e));
    call.on('end', resolve);
    call.on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 200));
  const port = proxyA.ports.upstreams['web.apps:80'];
  await fetch(`http://127.0.0.1:${port}/ignored`);
  await fetch(`http://127.0.0.1:${port}/tapped/1`);
  await fetch(`http://127.0.0.1:${port}/tapped/2`, { method: 'POST', body: 'x' });
  await done;
  c.close();
  assert.deepEqual(events.map((e) => [e.direction, e.method, e.path, e.status]), [['inbound', 'GET', '/tapped/1', 200], ['inbound', 'POST', '/tapped/2', 200]]);
  assert.equal(events[0].sourceIdentity, idOf('apps', 'client-a'));
  assert.equal(events[0].tls, true);
  assert.equal(proxyB.ctx.tap.active, false, 'no listener left: tap costs nothing');
});

test('tap refuses any other identity', async () => {
  const other = await mesh.issue('nosy', 'apps', 'client-a');
  const c = tapClient(other);
  const err = await new Promise<grpc.ServiceError>((resolve) => {
    const call = c.Observe({ limit: 1 });
    call.on('error', resolve);
    call.on('data', () => {});
  });
  c.close();
  assert.equal(err.code, grpc.status.PERMISSION_DENIED);
});
