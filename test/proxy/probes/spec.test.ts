// Table tests: probe parsing (the guide's probes, tcpSocket/grpc/exec, defaults, errors) and thresholds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseProbes, PROBE_DEFAULTS } from '../../../src/proxy/probes/spec.js';
import { applyCheckResult, INITIAL_THRESHOLD_STATE } from '../../../src/proxy/probes/thresholds.js';

test('durations', () => {
  const cases: [unknown, number | undefined][] = [
    ['10s', 10_000], ['500ms', 500], ['1m30s', 90_000], ['1.5s', 1_500], ['2h', 7_200_000], [5, 5_000], ['3', 3_000],
    ['10', 10_000], ['', undefined], ['ten seconds', undefined], ['10x', undefined], ['s10', undefined], [-1, undefined], [null, undefined],
  ];
  for (const [input, want] of cases) assert.equal(parseDuration(input), want, JSON.stringify(input));
});

test('the guide probe is an HTTP GET with its own period, timeout and thresholds', () => {
  const { specs, errors } = parseProbes([{ path: '/health', port: 8081, period: '10s', timeout: '5s', failureThreshold: 3, successThreshold: 1 }]);
  assert.deepEqual(errors, []);
  assert.deepEqual(specs, [
    { name: 'http-get:8081/health', action: { kind: 'http', port: 8081, path: '/health', scheme: 'http', headers: {} }, periodMs: 10_000, timeoutMs: 5_000, initialDelayMs: 0, failureThreshold: 3, successThreshold: 1 },
  ]);
});

test('probe kinds, defaults and named ports', () => {
  const ports = [{ name: 'postgres', port: 5432 }, { name: 'grpc', port: 9090 }];
  const cases: { probe: Record<string, unknown>; name: string; action: object; extra?: object }[] = [
    { probe: { port: 8080, period: '15s', timeout: '3s', failureThreshold: 3 }, name: 'http-get:8080/', action: { kind: 'http', port: 8080, path: '/', scheme: 'http', headers: {} }, extra: { periodMs: 15_000, timeoutMs: 3_000, successThreshold: 1 } },
    { probe: { httpGet: { path: '/ready', port: 8443, scheme: 'HTTPS', httpHeaders: [{ name: 'X-Probe', value: '1' }] } }, name: 'https-get:8443/ready', action: { kind: 'http', port: 8443, path: '/ready', scheme: 'https', headers: { 'X-Probe': '1' } } },
    { probe: { tcpSocket: { port: 'postgres' }, initialDelay: '30s' }, name: 'tcp:5432', action: { kind: 'tcp', port: 5432 }, extra: { initialDelayMs: 30_000 } },
    { probe: { grpc: { port: 'grpc', service: 'payments.v1.Processor' } }, name: 'grpc:9090/payments.v1.Processor', action: { kind: 'grpc', port: 9090, service: 'payments.v1.Processor' } },
    { probe: { grpc: { port: 9090 }, periodSeconds: 2, timeoutSeconds: 1 }, name: 'grpc:9090', action: { kind: 'grpc', port: 9090, service: '' }, extra: { periodMs: 2_000, timeoutMs: 1_000 } },
    { probe: { exec: { command: ['pg_isready', '-h', '127.0.0.1'] }, successThreshold: 2 }, name: 'exec:pg_isready -h 127.0.0.1', action: { kind: 'exec', command: ['pg_isready', '-h', '127.0.0.1'] }, extra: { successThreshold: 2 } },
  ];
  for (const c of cases) {
    const { specs, errors } = parseProbes([c.probe], ports);
    assert.deepEqual(errors, [], c.name);
    assert.equal(specs[0].name, c.name);
    assert.deepEqual(specs[0].action, c.action, c.name);
    const expected = { ...PROBE_DEFAULTS, ...(c.extra ?? {}) };
    for (const [k, v] of Object.entries(expected)) assert.equal(specs[0][k as keyof typeof expected], v, `${c.name} ${k}`);
  }
});

test('every bad value is reported with its field', () => {
  const { specs, errors } = parseProbes(
    [
      { path: 'health', port: 70000, period: 'often', failureThreshold: 0 },
      { tcpSocket: { port: 'nope' } },
      { exec: { command: [] } },
      { timeout: '1s' },
      { tcpSocket: { port: 1 }, exec: { command: ['true'] } },
      { path: '/ok', port: 80 },
    ],
    [],
  );
  assert.equal(specs.length, 1, 'only the valid probe survives');
  assert.deepEqual(
    errors.map((e) => e.field),
    ['probes[0].path', 'probes[0].port', 'probes[0].period', 'probes[0].failureThreshold', 'probes[1].tcpSocket.port', 'probes[2].exec.command', 'probes[3]', 'probes[4]'],
  );
  assert.match(errors[4].reason, /no workload port is named "nope"/);
});

test('duplicate probes get distinct names', () => {
  const { specs } = parseProbes([{ tcpSocket: { port: 1 } }, { tcpSocket: { port: 1 } }]);
  assert.deepEqual(specs.map((s) => s.name), ['tcp:1', 'tcp:1#2']);
});

test('thresholds flip the verdict only after consecutive results', () => {
  const cases: { name: string; t: [number, number]; results: boolean[]; ready: boolean[] }[] = [
    { name: 'starts not ready; one success is enough by default', t: [3, 1], results: [true], ready: [true] },
    { name: 'failures below the threshold keep it ready', t: [3, 1], results: [true, false, false], ready: [true, true, true] },
    { name: 'the third consecutive failure makes it not ready', t: [3, 1], results: [true, false, false, false], ready: [true, true, true, false] },
    { name: 'a success in between restarts the count', t: [3, 1], results: [true, false, false, true, false, false, false], ready: [true, true, true, true, true, true, false] },
    { name: 'successThreshold 2 needs two in a row', t: [1, 2], results: [true, false, true, true, false], ready: [false, false, false, true, false] },
    { name: 'failures from the start stay not ready', t: [3, 1], results: [false, false, false, false], ready: [false, false, false, false] },
  ];
  for (const c of cases) {
    let s = INITIAL_THRESHOLD_STATE;
    const got = c.results.map((r) => (s = applyCheckResult(s, r, { failureThreshold: c.t[0], successThreshold: c.t[1] })).ready);
    assert.deepEqual(got, c.ready, c.name);
  }
});
