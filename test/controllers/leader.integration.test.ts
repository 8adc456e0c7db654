// Leader election on a real Lease: of two electors exactly one leads; when it stops it releases
// the Lease and the other takes over within a retry period.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { ApiClients } from '../../src/core/kube-clients.js';
import { LeaderElector } from '../../src/controllers/runtime/leader.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { waitFor } from '../support/wait.js';

let cp: TestControlPlane;
before(async () => {
  cp = await startTestControlPlane();
});
after(async () => cp?.dispose());

test('two electors: one leader at a time; a stopping leader hands over at once', async () => {
  const events: string[] = [];
  const elector = (identity: string) =>
    new LeaderElector({
      api: new ApiClients(cp.kubeConfig),
      namespace: 'outpost',
      name: 'test-election',
      identity,
      clock: systemClock,
      log: silentLogger,
      leaseDurationMs: 3_000,
      retryPeriodMs: 100,
      onStartedLeading: () => events.push(`${identity} leads`),
      onStoppedLeading: () => events.push(`${identity} stops`),
    });
  const a = elector('a');
  const b = elector('b');
  await a.start();
  await b.start();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual([a.isLeader, b.isLeader], [true, false]);
  const leases = cp.kubeConfig.makeApiClient(CoordinationV1Api);
  assert.equal((await leases.readNamespacedLease({ namespace: 'outpost', name: 'test-election' })).spec?.holderIdentity, 'a');
  const t0 = Date.now();
  await a.stop();
  await waitFor('b leads', () => b.isLeader || undefined, 2_000);
  assert.ok(Date.now() - t0 < 1_000, 'handover well before the lease duration');
  assert.deepEqual(events, ['a leads', 'a stops', 'b leads']);
  const lease = await leases.readNamespacedLease({ namespace: 'outpost', name: 'test-election' });
  assert.equal(lease.spec?.holderIdentity, 'b');
  assert.equal(lease.spec?.leaseTransitions, 1);
  await b.stop();
});
