// The shared informer against a list/watch API on loopback: it lists then watches, retries with
// bounded, jittered backoff on the injected clock, resyncs the subscribers that ask, and leaves no
// watch behind a stop() that lands while a list or a watch request is pending. The ClusterView
// opens one watch per resource type however many readers it has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { FakeClock, systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { ClusterView } from '../../src/kube/cluster-view.js';
import { Informer, backoffDelay, type ChangeKind } from '../../src/kube/informer.js';
import { KIND_PATHS } from '../../src/kube/kinds.js';
import { listJson } from '../../src/kube/list-json.js';
import { MeshView } from '../../src/kube/mesh-view.js';
import { FakeApi } from '../destination/fake-api.js';
import { waitFor } from '../support/wait.js';

const SERVICES = KIND_PATHS.services;

const svc = (name: string, port = 80) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { ports: [{ port }] } });

async function withApi(fn: (api: FakeApi) => Promise<void>): Promise<void> {
  const api = new FakeApi();
  await api.start();
  try {
    await fn(api);
  } finally {
    await api.stop();
  }
}

test('backoff doubles from the minimum up to the maximum, the upper half jittered', () => {
  const policy = { minMs: 200, maxMs: 5_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, policy, () => 1)), [200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  assert.deepEqual([1, 2, 6].map((a) => backoffDelay(a, policy, () => 0)), [100, 200, 2_500]);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(3, policy);
    assert.ok(d >= 400 && d <= 800, `attempt 3 waits between 400 and 800 ms, got ${d}`);
  }
});

test('an informer lists, then hears adds, updates and deletes; a late subscriber gets the cache first', () =>
  withApi(async (api) => {
    api.put('services', svc('web'));
    const informer = new Informer({ kubeConfig: api.kubeConfig(), path: SERVICES, resource: 'services', clock: systemClock, log: silentLogger });
    const heard: string[] = [];
    informer.subscribe((kind, o) => heard.push(`${kind} ${o.metadata?.name}`));
    informer.start();
    await informer.synced;
    assert.deepEqual(heard, ['add web']);
    await waitFor('the watch', () => api.openWatches(SERVICES) === 1);
    api.put('services', svc('api'));
    api.put('services', svc('web', 8080));
    api.delete('services', 'shop', 'api');
    await waitFor('three events', () => heard.length === 4);
    assert.deepEqual(heard, ['add web', 'add api', 'update web', 'delete api']);
    const late: string[] = [];
    informer.subscribe((kind, o) => late.push(`${kind} ${o.metadata?.name}`));
    assert.deepEqual(late, ['add web']);
    assert.equal((informer.get('web', 'shop') as any).spec.ports[0].port, 8080);
    await informer.stop();
    await waitFor('the watch to close', () => api.openWatches(SERVICES) === 0);
  }));

test('a failing list is retried after the backoff delay on the injected clock, and the cache then fills', () =>
  withApi(async (api) => {
    api.put('services', svc('web'));
    api.failingLists.add(SERVICES);
    const clock = new FakeClock();
    let lists = 0;
    const kc = api.kubeConfig();
    const informer = new Informer({
      kubeConfig: kc, path: SERVICES, resource: 'services', clock, log: silentLogger, random: () => 1, backoff: { minMs: 200, maxMs: 1_000 },
      list: (p) => (lists++, listJson(kc, p)),
    });
    informer.start();
    await waitFor('the first list', () => lists === 1);
    await new Promise((r) => setTimeout(r, 100));
    clock.advance(199);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(lists, 1, 'no retry before 200 ms');
    clock.advance(1);
    await waitFor('the second list', () => lists === 2);
    await new Promise((r) => setTimeout(r, 50));
    clock.advance(399);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(lists, 2, 'the second retry waits 400 ms');
    api.failingLists.delete(SERVICES);
    clock.advance(1);
    await informer.synced;
    assert.deepEqual(informer.items().map((o) => o.metadata?.name), ['web']);
    assert.equal(informer.restarts, 2);
    await informer.stop();
  }));

test('after the API comes back, the relist delivers what changed while it was away, deletions included', () =>
  withApi(async (api) => {
    api.put('services', svc('web'));
    api.put('services', svc('api'));
    const informer = new Informer({ kubeConfig: api.kubeConfig(), path: SERVICES, resource: 'services', clock: systemClock, log: silentLogger, backoff: { minMs: 20, maxMs: 100 } });
    const heard: string[] = [];
    informer.subscribe((kind, o) => heard.push(`${kind} ${o.metadata?.name}`));
    informer.start();
    await informer.synced;
    await waitFor('the watch', () => api.openWatches(SERVICES) === 1);
    const port = api.port;
    await api.stop();
    await waitFor('the informer to notice', () => !informer.healthy());
    api.delete('services', 'shop', 'api');
    api.put('services', svc('db'));
    await api.start(port);
    await waitFor('the relist', () => heard.length === 4, 10_000);
    assert.deepEqual(heard, ['add web', 'add api', 'delete api', 'add db']);
    assert.deepEqual(informer.items().map((o) => o.metadata?.name).sort(), ['db', 'web']);
    assert.ok(informer.restarts >= 1);
    await informer.stop();
  }));

test('resync hears every cached object again as an update, only for subscribers that ask', () =>
  withApi(async (api) => {
    api.put('services', svc('web'));
    api.put('services', svc('api'));
    const clock = new FakeClock();
    const informer = new Informer({ kubeConfig: api.kubeConfig(), path: SERVICES, resource: 'services', clock, log: silentLogger, resyncMs: 60_000 });
    const resynced: string[] = [];
    const plain: ChangeKind[] = [];
    informer.subscribe((kind, o) => kind === 'update' && resynced.push(o.metadata?.name ?? ''), { resync: true });
    informer.subscribe((kind) => plain.push(kind));
    informer.start();
    await informer.synced;
    clock.advance(59_999);
    assert.deepEqual(resynced, []);
    clock.advance(1);
    assert.deepEqual(resynced.sort(), ['api', 'web']);
    clock.advance(60_000);
    assert.equal(resynced.length, 4);
    assert.deepEqual(plain, ['add', 'add'], 'a subscriber without resync hears only real changes');
    await informer.stop();
  }));

test('stop() during a pending list: no watch is opened and nothing is delivered', () =>
  withApi(async (api) => {
    api.put('services', svc('web'));
    const kc = api.kubeConfig();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const informer = new Informer({ kubeConfig: kc, path: SERVICES, resource: 'services', clock: systemClock, log: silentLogger, list: async (p) => (await gate, listJson(kc, p)) });
    const heard: KubernetesObject[] = [];
    informer.subscribe((_k, o) => heard.push(o));
    informer.start();
    await informer.stop();
    release();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(api.watchRequests.get(SERVICES) ?? 0, 0);
    assert.equal(heard.length, 0);
  }));

test('stop() during a pending watch request: the watch is ended when it is answered', () =>
  withApi(async (api) => {
    let release!: () => void;
    api.holdWatches = new Promise<void>((r) => (release = r));
    const informer = new Informer({ kubeConfig: api.kubeConfig(), path: SERVICES, resource: 'services', clock: systemClock, log: silentLogger });
    informer.start();
    await informer.synced;
    await waitFor('the watch request', () => api.watchRequests.get(SERVICES) === 1);
    await informer.stop();
    release();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(api.openWatches(SERVICES), 0, 'no watch outlives stop()');
  }));

test('a type the API does not serve reads as empty and synced, retried slowly', () =>
  withApi(async (api) => {
    api.notServed.add(KIND_PATHS.pods);
    const informer = new Informer({ kubeConfig: api.kubeConfig(), path: KIND_PATHS.pods, resource: 'pods', clock: new FakeClock(), log: silentLogger });
    informer.start();
    await informer.synced;
    assert.deepEqual(informer.items(), []);
    assert.equal(informer.restarts, 0);
    await informer.stop();
  }));

test('a ClusterView opens one watch per resource type, however many views read it', () =>
  withApi(async (api) => {
    api.put('services', svc('web'));
    const cluster = new ClusterView({ kubeConfig: api.kubeConfig(), clock: systemClock, log: silentLogger });
    const a = new MeshView(cluster, ['services', 'endpointslices'], 'cluster.local');
    const b = new MeshView(cluster, ['services', 'servers'], 'cluster.local');
    a.start();
    assert.equal(await a.waitSynced(5_000), true);
    b.start();
    assert.equal(await b.waitSynced(5_000), true);
    assert.deepEqual(b.list<KubernetesObject>('services').map((o) => o.metadata?.name), ['web']);
    await waitFor('the watches', () => api.openWatches(SERVICES) === 1 && api.openWatches(KIND_PATHS.servers) === 1);
    assert.equal(api.watchRequests.get(SERVICES), 1);
    assert.deepEqual(cluster.metrics.watchesOpened(), { services: 1, endpointslices: 1, servers: 1 });
    await a.stop();
    assert.equal(api.openWatches(SERVICES), 1, 'a reader stopping leaves the shared informer to the others');
    await b.stop();
    await cluster.stop();
    await waitFor('every watch to close', () => api.openWatches(SERVICES) === 0);
  }));
