// The removal rule of auto-registered workloads (docs/adr/0010), table-tested with fixed times,
// and the AutoRemover's timer on a fake clock: nothing before the due time, the delete right after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { REVOKED_AT_ANNOTATION } from '../../src/core/workloads/revocation.js';
import { silentLogger } from '../../src/core/log.js';
import { heartbeatLostSince, removalDueAt, removeAfterFor, type RemovalCandidate } from '../../src/controllers/autoremove/rule.js';
import { AutoRemover } from '../../src/controllers/autoremove/controller.js';
import { WorkloadIndex } from '../../src/controllers/endpoints/index.js';
import type { ExternalWorkloadObject } from '../../src/kube/objects.js';
import type { ApiClients } from '../../src/core/kube-clients.js';

const T0 = Date.parse('2026-01-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const MIN = 60_000;

function workload(over: { auto?: boolean; status?: 'True' | 'False'; reason?: string; transition?: number; lastReport?: number; deleting?: boolean } = {}): RemovalCandidate {
  const { auto = true, status = 'False', reason = 'HeartbeatLost', transition = T0, lastReport, deleting } = over;
  return {
    metadata: { annotations: auto ? { 'outpost.io/auto-registered': 'true' } : {}, ...(deleting ? { deletionTimestamp: iso(T0) } : {}) },
    status: { conditions: [{ type: 'Ready', status, reason, lastTransitionTime: iso(transition), lastProbeTime: lastReport === undefined ? null : iso(lastReport) }] },
  };
}

test('removalDueAt: only auto-registered workloads whose heartbeat was lost, remove-after after it was lost', () => {
  const opts = { graceMs: 30_000, removeAfterMs: 60 * MIN };
  const cases: [string, RemovalCandidate, number | undefined][] = [
    ['heartbeat lost: due remove-after after the transition', workload(), T0 + 60 * MIN],
    ['not auto-registered: never removed', workload({ auto: false }), undefined],
    ['ready: not removed', workload({ status: 'True', reason: 'ProbesPassing' }), undefined],
    ['probes failing (the VM is there): not removed', workload({ reason: 'ProbesFailing' }), undefined],
    ['awaiting its proxy: not removed', workload({ reason: 'AwaitingProxy' }), undefined],
    ['already being deleted: left alone', workload({ deleting: true }), undefined],
    ['revoked: kept, so its certificate cannot register it again', { ...workload(), metadata: { annotations: { 'outpost.io/auto-registered': 'true', [REVOKED_AT_ANNOTATION]: iso(T0) } } }, undefined],
    // False since ProbesFailing at T0, reports went on until T0+10m: the heartbeat was lost at T0+10m+grace.
    ['failing then silent: counted from the last report + grace', workload({ lastReport: T0 + 10 * MIN }), T0 + 10 * MIN + 30_000 + 60 * MIN],
    ['a last report before the transition: the transition counts', workload({ lastReport: T0 - 10 * MIN }), T0 + 60 * MIN],
  ];
  for (const [name, ew, want] of cases) assert.equal(removalDueAt(ew, opts), want, name);
  assert.equal(heartbeatLostSince({ metadata: { annotations: { 'outpost.io/auto-registered': 'true' } } }, 1000), undefined, 'no status at all');
});

test('removeAfterFor: the group annotation when valid, else the default', () => {
  const g = (v?: string): { metadata: { annotations: Record<string, string> } } => ({ metadata: { annotations: v === undefined ? {} : { 'outpost.io/remove-after': v } } });
  const cases: [string, ReturnType<typeof g> | undefined, number][] = [
    ['no group', undefined, 3_600_000],
    ['no annotation', g(), 3_600_000],
    ['30m', g('30m'), 30 * MIN],
    ['2s', g('2s'), 2_000],
    ['garbage falls back', g('soon'), 3_600_000],
    ['zero falls back', g('0s'), 3_600_000],
  ];
  for (const [name, group, want] of cases) assert.equal(removeAfterFor(group, 3_600_000), want, name);
});

test('AutoRemover on a fake clock: deletes a due member once, conditionally, and only while leading', async () => {
  const clock = new FakeClock(T0 + 30 * MIN);
  const index = new WorkloadIndex();
  const deletes: unknown[] = [];
  const events: { namespace: string; body: { reason: string; involvedObject: { kind: string; name: string } } }[] = [];
  const api = {
    make: () => ({ deleteNamespacedCustomObject: async (req: unknown) => void deletes.push(req), createNamespacedEvent: async (req: (typeof events)[number]) => void events.push(req) }),
  } as unknown as ApiClients;
  const ew = (name: string, auto: boolean): ExternalWorkloadObject => ({
    metadata: { name, namespace: 'caching', uid: `uid-${name}`, resourceVersion: '7', labels: { workloadGroup: 'redis-cache-fleet' }, annotations: auto ? { 'outpost.io/auto-registered': 'true' } : {} } as ExternalWorkloadObject['metadata'],
    status: { conditions: [{ type: 'Ready', status: 'False', reason: 'HeartbeatLost', lastTransitionTime: iso(T0), lastProbeTime: null }] },
  });
  index.upsertWorkload(ew('redis-cache-fleet-127-0-10-1', true));
  index.upsertWorkload(ew('hand-made', false));
  const removed: string[] = [];
  const remover = new AutoRemover({ api, index, clock, log: silentLogger, defaultRemoveAfterMs: 60 * MIN, graceMsFor: () => 30_000, onDelete: (k) => removed.push(k) });
  const settle = () => new Promise((r) => setImmediate(r));

  // Not leading: nothing happens, however late it is.
  clock.advance(40 * MIN);
  await settle();
  assert.equal(removed.length, 0);
  remover.stop();

  // Leading: the member is due at T0+60m; nothing a second before, deleted right after; the hand-made one never.
  const leadingClock = new FakeClock(T0 + 30 * MIN);
  const leader = new AutoRemover({ api, index, clock: leadingClock, log: silentLogger, defaultRemoveAfterMs: 60 * MIN, graceMsFor: () => 30_000, onDelete: (k) => removed.push(k) });
  leader.setLeading(true);
  leadingClock.advance(0);
  await settle();
  leadingClock.advance(30 * MIN - 1_000);
  await settle();
  assert.equal(removed.length, 0, 'not before remove-after');
  leadingClock.advance(2_000);
  await settle();
  assert.deepEqual(removed, ['caching/redis-cache-fleet-127-0-10-1']);
  assert.deepEqual(deletes, [
    { group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', namespace: 'caching', name: 'redis-cache-fleet-127-0-10-1', body: { preconditions: { uid: 'uid-redis-cache-fleet-127-0-10-1', resourceVersion: '7' } } },
  ]);
  assert.deepEqual(events.map((e) => [e.namespace, e.body.reason, e.body.involvedObject.kind, e.body.involvedObject.name]), [['caching', 'AutoRegisteredWorkloadRemoved', 'WorkloadGroup', 'redis-cache-fleet']]);
  leader.stop();
});
