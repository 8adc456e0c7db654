// Table tests of the Ready condition rules and the heartbeat tracker (fake clock, no sleeps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import {
  applyCondition,
  awaitingProxyCondition,
  reportCondition,
  workloadIsReady,
} from '../../src/controllers/health/conditions.js';
import type { WorkloadCondition } from '../../src/kube/objects.js';
import { HealthTracker, disconnectGraceFor, heartbeatIntervalFor } from '../../src/controllers/health/tracker.js';

const T0 = Date.UTC(2026, 0, 1);
const cond = (status: 'True' | 'False', reason: string, extra: Partial<WorkloadCondition> = {}): WorkloadCondition => ({ type: 'Ready', status, reason, ...extra });

test('workloadIsReady: the proxy verdict once reported; before that only assume-ready', () => {
  const cases: [string, Record<string, string>, WorkloadCondition | undefined, boolean][] = [
    ['no condition', {}, undefined, false],
    ['no condition, assume-ready', { 'outpost.io/assume-ready': 'true' }, undefined, true],
    ['assume-ready "false"', { 'outpost.io/assume-ready': 'false' }, undefined, false],
    ['awaiting proxy, annotated since', { 'outpost.io/assume-ready': 'true' }, cond('False', 'AwaitingProxy'), true],
    ['assumed ready, annotation removed', {}, cond('True', 'AssumedReady'), false],
    ['probes passing', {}, cond('True', 'ProbesPassing'), true],
    ['probes failing, assume-ready ignored', { 'outpost.io/assume-ready': 'true' }, cond('False', 'ProbesFailing'), false],
    ['heartbeat lost', { 'outpost.io/assume-ready': 'true' }, cond('False', 'HeartbeatLost'), false],
  ];
  for (const [what, annotations, c, ready] of cases) {
    assert.equal(workloadIsReady({ metadata: { annotations }, status: c ? { conditions: [c] } : undefined }), ready, what);
  }
});

test('reportCondition: failing probes named in the message; passing counted', () => {
  const failing = reportCondition({ ready: false, probes: [{ name: 'http-get:8081/health', success: false, message: 'HTTP 503' }, { name: 'tcp:5432', success: true }] }, T0);
  assert.deepEqual([failing.status, failing.reason, failing.message], ['False', 'ProbesFailing', 'http-get:8081/health: HTTP 503']);
  assert.equal(failing.lastProbeTime, '2026-01-01T00:00:00Z');
  const passing = reportCondition({ ready: true, probes: [{ name: 'a', success: true }, { name: 'b', success: true }] }, T0);
  assert.deepEqual([passing.status, passing.reason, passing.message], ['True', 'ProbesPassing', '2 probes passing']);
});

test('applyCondition: no write when nothing visible changes; lastTransitionTime moves only when status flips', () => {
  const first = applyCondition(undefined, reportCondition({ ready: true, probes: [] }, T0))!;
  assert.equal(first[0].lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(applyCondition(first, reportCondition({ ready: true, probes: [] }, T0 + 5000)), undefined, 'same verdict: nothing to write');
  const reworded = applyCondition(first, { ...reportCondition({ ready: true, probes: [{ name: 'a', success: true }] }, T0 + 7000) })!;
  assert.equal(reworded[0].lastTransitionTime, '2026-01-01T00:00:00Z', 'still True: transition time kept');
  const flipped = applyCondition(reworded, reportCondition({ ready: false, probes: [] }, T0 + 9000))!;
  assert.equal(flipped[0].lastTransitionTime, '2026-01-01T00:00:09Z');
  const others = applyCondition([{ type: 'Other', status: 'True' }], awaitingProxyCondition({ metadata: {} }, T0))!;
  assert.deepEqual(others.map((c) => c.type), ['Other', 'Ready']);
});

test('tracker: a report sets the condition; silence for the grace turns it not ready; a new report brings it back', () => {
  const clock = new FakeClock(T0);
  const written: [string, string, string][] = [];
  const tracker = new HealthTracker({ clock, graceMsFor: () => 30_000, setCondition: (k, c) => written.push([k, c.status, c.reason!]) });
  tracker.streamOpened('uid-1', 'payments/vm');
  tracker.report('uid-1', 'payments/vm', { ready: true, probes: [] });
  clock.advance(20_000);
  tracker.report('uid-1', 'payments/vm', { ready: true, probes: [] }); // heartbeat re-arms the timer
  clock.advance(29_000);
  assert.deepEqual(written.map((w) => w[2]), ['ProbesPassing', 'ProbesPassing']);
  tracker.streamClosed('uid-1');
  clock.advance(1_000);
  assert.deepEqual(written.at(-1), ['payments/vm', 'False', 'HeartbeatLost']);
  clock.advance(60_000);
  assert.equal(written.length, 3, 'the lost heartbeat is written once');
  tracker.report('uid-1', 'payments/vm', { ready: true, probes: [] });
  assert.deepEqual(written.at(-1), ['payments/vm', 'True', 'ProbesPassing']);
  tracker.stop();
});

test('tracker: an adopted workload (ready before a restart) gets the grace to reconnect; a forgotten one fires nothing', () => {
  const clock = new FakeClock(T0);
  const written: string[] = [];
  const tracker = new HealthTracker({ clock, graceMsFor: (k) => (k === 'ns/fast' ? 45_000 : 30_000), setCondition: (k, c) => written.push(`${k}:${c.reason}`) });
  tracker.adopt('u1', 'ns/slow');
  tracker.adopt('u2', 'ns/fast');
  tracker.adopt('u3', 'ns/deleted');
  tracker.forget('u3');
  clock.advance(30_000);
  assert.deepEqual(written, ['ns/slow:HeartbeatLost']);
  clock.advance(15_000);
  assert.deepEqual(written, ['ns/slow:HeartbeatLost', 'ns/fast:HeartbeatLost'], 'the per-group grace override applies');
});

test('heartbeat interval: a third of the grace, within 100 ms .. 10 s', () => {
  assert.deepEqual([30_000, 45_000, 600, 90].map(heartbeatIntervalFor), [10_000, 10_000, 200, 100]);
});

test('disconnect grace: the group annotation overrides the flag; an invalid one is ignored', () => {
  const group = (v?: string): { metadata: { annotations: Record<string, string> } } => ({ metadata: { annotations: v === undefined ? {} : { 'outpost.io/disconnect-grace': v } } });
  const cases: [string, ReturnType<typeof group> | undefined, number][] = [
    ['no group', undefined, 30_000],
    ['group without annotation', group(), 30_000],
    ['45s', group('45s'), 45_000],
    ['1m30s', group('1m30s'), 90_000],
    ['garbage', group('soon'), 30_000],
    ['zero', group('0s'), 30_000],
  ];
  for (const [what, g, ms] of cases) assert.equal(disconnectGraceFor(g, 30_000), ms, what);
});
