// The incremental index (which Services a change touches), the slice store (stale events) and the
// work queue (dedup, retry backoff).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { WorkloadIndex } from '../../src/controllers/endpoints/index.js';
import { SliceStore } from '../../src/controllers/endpoints/slice-store.js';
import { desiredEffectiveLabels, desiredGroupStatus } from '../../src/controllers/groups/controller.js';
import { WorkQueue } from '../../src/controllers/runtime/workqueue.js';
import { guide } from './guide.js';

function withUid<T extends { metadata: { name: string; uid?: string } }>(o: T): T {
  return { ...o, metadata: { ...o.metadata, uid: `${o.metadata.name}-uid` } };
}

test('index: a group template change re-selects its members; unrelated workloads touch no Service', () => {
  const index = new WorkloadIndex();
  index.upsertService(guide('Service', 'redis-cache'));
  index.upsertService(guide('Service', 'redis', 'hybrid-app'));
  const vm1 = withUid(guide('ExternalWorkload', 'redis-vm-1'));
  assert.deepEqual(index.upsertWorkload(vm1), { services: [], groups: ['caching/redis-cache-fleet'] }, 'no group yet: own labels select nothing');
  index.upsertWorkload(withUid(guide('ExternalWorkload', 'redis-vm-2')));
  const group = guide('WorkloadGroup', 'redis-cache-fleet');
  assert.deepEqual(index.upsertGroup(group).services, ['caching/redis-cache']);
  assert.deepEqual(index.workloadsSelectedBy('caching/redis-cache').map((w) => w.name).sort(), ['redis-vm-1', 'redis-vm-2']);
  assert.deepEqual(desiredGroupStatus(index, 'caching/redis-cache-fleet'), { members: 2, readyMembers: 0, observedGeneration: undefined });
  assert.equal(desiredEffectiveLabels(index, 'caching/redis-vm-1'), 'app=redis,datacenter=dc-1,instance=1,mesh=linkerd,tier=cache,workloadGroup=redis-cache-fleet');

  // The template drops tier=cache: both members leave the Service.
  const changed = structuredClone(group);
  delete changed.spec.template.metadata.labels.tier;
  assert.deepEqual(index.upsertGroup(changed).services, ['caching/redis-cache']);
  assert.deepEqual(index.workloadsSelectedBy('caching/redis-cache'), []);
  // A no-op template change (annotation on the group) touches nothing.
  assert.deepEqual(index.upsertGroup({ ...changed, metadata: { ...changed.metadata, annotations: { note: 'x' } } }).services, []);

  // A workload in another namespace with the same labels is not selected.
  const other = withUid(guide('ExternalWorkload', 'redis-cache', 'hybrid-app'));
  assert.deepEqual(index.upsertWorkload(other).services, ['hybrid-app/redis']);
});

test('index: readiness and IP changes touch the selecting Service; deletion removes the workload; Service selector change re-matches', () => {
  const index = new WorkloadIndex();
  const svc = guide('Service', 'payment-processor');
  index.upsertService(svc);
  const vm = withUid(guide('ExternalWorkload', 'payment-processor-vm-1'));
  assert.deepEqual(index.upsertWorkload(vm).services, ['payments/payment-processor']);
  assert.deepEqual(index.upsertWorkload(structuredClone(vm)).services, [], 'same content: nothing to do');
  const ready = { ...structuredClone(vm), status: { conditions: [{ type: 'Ready', status: 'True', reason: 'ProbesPassing' }] } };
  assert.deepEqual(index.upsertWorkload(ready).services, ['payments/payment-processor']);
  assert.equal(index.workloadsSelectedBy('payments/payment-processor')[0].ready, true);
  const moved = structuredClone(ready);
  moved.spec.workloadIPs = [{ ip: '10.0.50.101' }];
  assert.deepEqual(index.upsertWorkload(moved).services, ['payments/payment-processor']);
  const reselected = structuredClone(svc);
  reselected.spec.selector = { app: 'nothing' };
  index.upsertService(reselected);
  assert.deepEqual(index.workloadsSelectedBy('payments/payment-processor'), []);
  index.upsertService(svc);
  assert.equal(index.workloadsSelectedBy('payments/payment-processor').length, 1);
  assert.deepEqual(index.removeWorkload(moved).services, ['payments/payment-processor']);
  assert.deepEqual(index.workloadsSelectedBy('payments/payment-processor'), []);
});

test('work queue: a key added many times while waiting or running is processed once more, not many times', async () => {
  const clock = new FakeClock();
  const seen: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new WorkQueue({
    clock,
    log: silentLogger,
    concurrency: 2,
    worker: async (k) => {
      seen.push(k);
      if (seen.length === 1) await gate;
    },
  });
  q.add('a');
  await Promise.resolve();
  await Promise.resolve();
  q.add('a');
  q.add('a');
  q.add('b');
  q.add('b');
  release();
  await q.idle();
  assert.deepEqual(seen.sort(), ['a', 'a', 'b']);
});

test('work queue: failures retry with exponential backoff on the clock', async () => {
  const clock = new FakeClock();
  const attempts: number[] = [];
  const q = new WorkQueue({
    clock,
    log: silentLogger,
    baseRetryMs: 10,
    worker: async () => {
      attempts.push(clock.now());
      if (attempts.length < 3) throw new Error('conflict');
    },
  });
  const t0 = clock.now();
  q.add('svc');
  await q.idle();
  clock.advance(9);
  await q.idle();
  assert.equal(attempts.length, 1, 'not retried before the backoff');
  clock.advance(1);
  await q.idle();
  clock.advance(20);
  await q.idle();
  assert.deepEqual(attempts.map((t) => t - t0), [0, 10, 30]);
  q.stop();
});

test('slice store: a late watch event older than our write, or for a slice we deleted, is ignored', () => {
  const store = new SliceStore();
  const slice = (rv: string, ip: string) => ({ metadata: { name: 's-ew-0', namespace: 'ns', resourceVersion: rv, labels: { 'kubernetes.io/service-name': 's' } }, addressType: 'IPv4', endpoints: [{ addresses: [ip] }] });
  assert.equal(store.observe(slice('10', '10.0.0.2'), true), true);
  assert.equal(store.observe(slice('9', '10.0.0.1')), false, 'older than what we wrote');
  assert.equal(store.observe(slice('10', '10.0.0.2')), false, 'the echo of our own write is not news');
  assert.equal(store.forService('ns/s')[0].endpoints[0].addresses[0], '10.0.0.2');
  store.forget(slice('10', '10.0.0.2'), true);
  assert.equal(store.observe(slice('10', '10.0.0.2')), false, 'deleted by us: not revived by a late event');
  assert.deepEqual(store.forService('ns/s'), []);
  assert.equal(store.observe(slice('12', '10.0.0.3'), true), true, 'our own re-create');
});
