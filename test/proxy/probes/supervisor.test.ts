// The probe supervisor: waits for the probe configuration, swaps probe sets at run time keeping the
// state of unchanged probes, and reports invalid probes as failing (fail closed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { ProbeSupervisor } from '../../../src/proxy/probes/supervisor.js';

function checks(s: ProbeSupervisor) {
  const waiting: (() => void)[] = [];
  s.onCheck(() => waiting.shift()?.());
  return (n = 1) => Promise.all(Array.from({ length: n }, () => new Promise<void>((r) => waiting.push(r))));
}

test('not ready while waiting for the probe configuration; no probes from the control plane means the fallback', () => {
  const s = new ProbeSupervisor({ clock: new FakeClock() });
  assert.equal(s.current().ready, false);
  assert.match(s.current().probes[0].message, /waiting for the probe configuration/);
  s.applyControlPlaneProbes(undefined);
  assert.deepEqual(s.current(), { ready: true, probes: [] });
  const withFallback = new ProbeSupervisor({ clock: new FakeClock(), fallbackProbes: [{ exec: { command: ['true'] } }] });
  withFallback.applyControlPlaneProbes(undefined);
  assert.deepEqual(withFallback.current().probes.map((p) => p.name), ['exec:true']);
});

test('replacing the probe set keeps the state of unchanged probes', async () => {
  const clock = new FakeClock();
  const s = new ProbeSupervisor({ clock, probes: [{ exec: { command: ['true'] }, period: '10s' }] });
  const next = checks(s);
  const changes: boolean[] = [];
  s.onChange((st) => changes.push(st.ready));
  try {
    s.start();
    const first = next();
    clock.advance(0);
    await first;
    assert.equal(s.current().ready, true);
    s.setProbes([{ exec: { command: ['true'] }, period: '10s' }, { exec: { command: ['false'] }, failureThreshold: 1 }]);
    assert.deepEqual(s.current().probes.map((p) => [p.name, p.ready]), [['exec:true', true], ['exec:false', false]], 'the kept probe stays ready');
    assert.equal(s.current().ready, false);
    const second = next();
    clock.advance(0);
    await second;
    s.setProbes([{ exec: { command: ['true'] }, period: '10s' }]);
    assert.deepEqual(s.current(), { ready: true, probes: [s.current().probes[0]] });
    assert.equal(changes.at(-1), true);
    s.setProbes([{ exec: { command: ['true'] }, period: '10s' }]);
    assert.equal(changes.at(-1), true, 'the same set again changes nothing');
  } finally {
    s.stop();
  }
});

test('invalid probes fail closed with the reason', () => {
  const s = new ProbeSupervisor({ clock: new FakeClock(), probes: [{ tcpSocket: { port: 'db' } }, { path: '/health', port: 8081, period: 'often' }] });
  const state = s.current();
  assert.equal(state.ready, false);
  assert.deepEqual(state.probes.map((p) => p.name), ['invalid:probes[0]', 'invalid:probes[1]']);
  assert.match(state.probes[1].message, /probes\[1\]\.period: must be a duration/);
});

test('a successor reports the replaced proxy\'s verdict until its own probes have run (restart without an outage)', async () => {
  const clock = new FakeClock();
  const inherited = { ready: true, probes: [{ name: 'exec:true', ready: true, lastSuccess: true, message: 'ok', checkedAt: 1 }] };
  const s = new ProbeSupervisor({ clock, inherited });
  assert.deepEqual(s.current(), inherited, 'not "waiting for the probe configuration": the endpoint stays ready');
  const next = checks(s);
  try {
    s.start();
    s.applyControlPlaneProbes([{ exec: { command: ['false'] }, failureThreshold: 1 }]);
    assert.deepEqual(s.current(), inherited, 'until the first check');
    const first = next();
    clock.advance(0);
    await first;
    assert.equal(s.current().ready, false, 'then its own verdict');
    assert.deepEqual(s.current().probes.map((p) => p.name), ['exec:false']);
  } finally {
    s.stop();
  }
});
