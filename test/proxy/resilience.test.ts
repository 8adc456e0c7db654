// Resilience end to end: one of two backends dies mid-traffic and requests move to the other with
// no failure after ejection; the server's certificate rotates (files rewritten) mid-traffic with
// zero failed requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Agent, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync } from 'node:fs';
import { createMesh, serving, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';

let mesh: Mesh;
const apps: Server[] = [];
const proxies: RunningProxy[] = [];

async function startApp(name: string): Promise<number> {
  const s = createServer((_req, res) => res.end(name));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  apps.push(s);
  return (s.address() as AddressInfo).port;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });
function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.end();
  });
}

/** Runs `concurrency` request loops until `stop()`; returns the outcomes in order of completion. */
function traffic(port: number, concurrency = 4) {
  const results: { t: number; status: number; body: string }[] = [];
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const r = await get(port);
      results.push({ t: Date.now(), ...r });
    }
  });
  return {
    results,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}

before(async () => {
  mesh = await createMesh();
});

after(async () => {
  for (const p of proxies) await p.close();
  for (const a of apps) a.close();
  agent.destroy();
  mesh?.cleanup();
});

test('one of two backends dies: traffic moves to the other, no failed request after ejection', async () => {
  const port1 = await startApp('one');
  const port2 = await startApp('two');
  const c1 = await mesh.issue('b1', 'apps', 'backend');
  const c2 = await mesh.issue('b2', 'apps', 'backend');
  const b1 = await startTestProxy(mesh, c1, serving(port1));
  const b2 = await startTestProxy(mesh, c2, serving(port2));
  const a = await startTestProxy(mesh, await mesh.issue('fa', 'apps', 'client'), {
    upstreams: [upstreamTo('backend.apps:80', [
      { proxy: b1, appPort: port1, identity: c1.identity, serverName: c1.serverName },
      { proxy: b2, appPort: port2, identity: c2.identity, serverName: c2.serverName },
    ])],
  });
  proxies.push(a, b1);
  const port = a.ports.upstreams['backend.apps:80'];
  const load = traffic(port);
  // Both backends must have served before one is killed; on a loaded machine 400 ms of traffic
  // may not reach the second one yet (the balancer starts where latency is lowest).
  await new Promise((r) => setTimeout(r, 400));
  const deadline = Date.now() + 10_000;
  while (!load.results.some((r) => r.body === 'two') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const killedAt = Date.now();
  await b2.close(); // the whole workload goes away: its inbound port now refuses connections
  const goneAt = Date.now(); // close() lets requests in flight finish; 'two' may answer until then
  await new Promise((r) => setTimeout(r, 1200));
  const results = await load.stop();
  const before = results.filter((r) => r.t < killedAt);
  const afterKill = results.filter((r) => r.t >= killedAt);
  assert.ok(before.some((r) => r.body === 'two'), 'both backends served before');
  assert.ok(afterKill.length > 20, `enough traffic after the kill (${afterKill.length})`);
  const ejectedBy = goneAt + 100;
  const failedAfterEjection = afterKill.filter((r) => r.t > ejectedBy && r.status !== 200);
  assert.deepEqual(failedAfterEjection, []);
  assert.ok(afterKill.filter((r) => r.t > ejectedBy).every((r) => r.body === 'one'));
  const failedAtAll = afterKill.filter((r) => r.status !== 200).length;
  assert.ok(failedAtAll <= 4, `at most the in-flight requests fail (${failedAtAll})`);
});

test('certificate rotation from files mid-traffic: zero failed requests, new certificate served', async () => {
  const appPort = await startApp('rot');
  const old = await mesh.issue('rb', 'apps', 'rotating', { lifetimeMs: 3_600_000 });
  const b = await startTestProxy(mesh, old, serving(appPort));
  const a = await startTestProxy(mesh, await mesh.issue('ra', 'apps', 'client'), {
    upstreams: [upstreamTo('rot.apps:80', [{ proxy: b, appPort, identity: old.identity, serverName: old.serverName }])],
  });
  proxies.push(a, b);
  const expiry = async () => Number(/identity_cert_expiration_timestamp_seconds (\d+)/.exec(await fetch(`http://127.0.0.1:${b.ports.admin}/metrics`).then((r) => r.text()))![1]);
  const before = await expiry();
  const load = traffic(a.ports.upstreams['rot.apps:80']);
  await new Promise((r) => setTimeout(r, 300));
  const fresh = await mesh.issue('rb-new', 'apps', 'rotating', { lifetimeMs: 7_200_000 });
  copyFileSync(fresh.keyFile, old.keyFile);
  copyFileSync(fresh.certFile, old.certFile);
  let rotated = false;
  for (let i = 0; i < 40 && !rotated; i++) {
    await new Promise((r) => setTimeout(r, 100));
    rotated = (await expiry()) > before + 3000;
  }
  await new Promise((r) => setTimeout(r, 300));
  const results = await load.stop();
  assert.ok(rotated, 'the proxy picked up the new certificate');
  assert.ok(results.length > 50, `traffic flowed (${results.length})`);
  assert.deepEqual(results.filter((r) => r.status !== 200), []);
});
