// The probe runner with a fake clock against real local peers: an HTTP server, a TCP listener, a gRPC
// health server (its proto loaded independently of the probe's hand-written codec) and exec.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { waitFor } from '../../support/wait.js';
import { FakeClock } from '../../../src/core/clock.js';
import { ProbeRunner, type HealthState } from '../../../src/proxy/probes/runner.js';
import { parseProbes } from '../../../src/proxy/probes/spec.js';
import type { CheckOutcome } from '../../../src/proxy/probes/checks.js';
import type { WorkloadProbe } from '../../../src/core/workloads/effective.js';

const tmp = mkdtempSync(join(tmpdir(), 'outpost-probes-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** A runner on a fake clock plus a way to await the next completed check. */
function harness(probes: WorkloadProbe[]) {
  const clock = new FakeClock();
  const { specs, errors } = parseProbes(probes);
  assert.deepEqual(errors, []);
  const runner = new ProbeRunner({ probes: specs, clock });
  const changes: HealthState[] = [];
  runner.onChange((s) => changes.push(s));
  const pending: ((o: CheckOutcome) => void)[] = [];
  runner.onCheck((_name, outcome) => pending.shift()?.(outcome));
  const nextCheck = () => new Promise<CheckOutcome>((resolve) => pending.push(resolve));
  /** Advances the clock by `ms` and waits for the check it starts. */
  const tick = async (ms: number) => {
    const done = nextCheck();
    clock.advance(ms);
    return done;
  };
  return { clock, runner, changes, tick, nextCheck };
}

test('HTTP GET: ready after a success, not ready after failureThreshold failures, back on success', async () => {
  let status = 200;
  const paths: string[] = [];
  const app = http.createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    res.writeHead(status).end('ok');
  });
  const port = await listen(app);
  const { runner, changes, tick } = harness([{ path: '/health', port, period: '10s', timeout: '5s', failureThreshold: 3, successThreshold: 1, initialDelay: '2s' }]);
  try {
    runner.start();
    assert.equal(runner.current().ready, false, 'not ready before the first check');
    assert.deepEqual(await tick(2_000), { success: true, message: 'HTTP 200' });
    assert.equal(runner.current().ready, true);
    assert.deepEqual(paths, ['GET /health']);
    status = 302; // redirects count as success, like the kubelet
    assert.equal((await tick(10_000)).success, true);
    status = 503;
    assert.match((await tick(10_000)).message, /returned 503/);
    assert.equal((await tick(10_000)).success, false);
    assert.equal(runner.current().ready, true, 'two failures are below the threshold');
    await tick(10_000);
    assert.equal(runner.current().ready, false, 'the third consecutive failure');
    assert.equal(runner.current().probes[0].message, 'HTTP GET /health returned 503');
    status = 200;
    await tick(10_000);
    assert.equal(runner.current().ready, true);
    assert.deepEqual(changes.map((c) => c.ready), [true, true, false, true], 'changes: ready, first failure seen, verdict flips, recovered');
  } finally {
    runner.stop();
    app.close();
  }
});

test('HTTP GET that does not answer within the timeout fails', async () => {
  const hung = http.createServer(() => {}); // never responds
  const port = await listen(hung);
  const { runner, clock, nextCheck } = harness([{ path: '/health', port, period: '10s', timeout: '1s', failureThreshold: 1 }]);
  try {
    runner.start();
    const outcome = nextCheck();
    clock.advance(0); // the first check starts at once
    await new Promise((r) => setTimeout(r, 50)); // the request reaches the hung server
    clock.advance(1_000);
    assert.deepEqual(await outcome, { success: false, message: 'timed out after 1000 ms' });
  } finally {
    runner.stop();
    hung.closeAllConnections();
    hung.close();
  }
});

test('TCP connect succeeds against a listener and fails against a closed port', async () => {
  const listener = net.createServer((s) => s.destroy());
  const open = await listen(listener);
  const closedServer = net.createServer();
  const closed = await listen(closedServer);
  await new Promise((r) => closedServer.close(r));
  const { runner, tick } = harness([{ tcpSocket: { port: open } }]);
  const down = harness([{ tcpSocket: { port: closed } }]);
  try {
    runner.start();
    assert.deepEqual(await tick(0), { success: true, message: 'connected' });
    down.runner.start();
    const outcome = await down.tick(0);
    assert.equal(outcome.success, false);
    assert.match(outcome.message, /ECONNREFUSED/);
  } finally {
    runner.stop();
    down.runner.stop();
    listener.close();
  }
});

test('gRPC health: SERVING is healthy, NOT_SERVING and unknown services are not', async () => {
  const protoFile = join(tmp, 'health.proto');
  writeFileSync(
    protoFile,
    `syntax = "proto3"; package grpc.health.v1;
     message HealthCheckRequest { string service = 1; }
     message HealthCheckResponse { enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; } ServingStatus status = 1; }
     service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }`,
  );
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoFile, { enums: String })) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  const statuses: Record<string, string> = { '': 'SERVING', 'payments.v1.Processor': 'NOT_SERVING' };
  const server = new grpc.Server();
  server.addService(pkg.grpc.health.v1.Health.service, {
    check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const s = statuses[call.request.service ?? ''];
      if (!s) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else cb(null, { status: s });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const { runner, tick } = harness([{ grpc: { port }, period: '5s' }]);
  const notServing = harness([{ grpc: { port, service: 'payments.v1.Processor' } }]);
  const unknown = harness([{ grpc: { port, service: 'nope' } }]);
  try {
    runner.start();
    assert.deepEqual(await tick(0), { success: true, message: 'SERVING' });
    statuses[''] = 'NOT_SERVING';
    assert.deepEqual(await tick(5_000), { success: false, message: 'gRPC health is NOT_SERVING' });
    notServing.runner.start();
    assert.deepEqual(await notServing.tick(0), { success: false, message: 'gRPC health of payments.v1.Processor is NOT_SERVING' });
    unknown.runner.start();
    assert.match((await unknown.tick(0)).message, /NOT_FOUND/);
  } finally {
    runner.stop();
    notServing.runner.stop();
    unknown.runner.stop();
    server.forceShutdown();
  }
});

test('exec: exit 0 is healthy, anything else is not', async () => {
  const ok = harness([{ exec: { command: ['true'] } }]);
  const bad = harness([{ exec: { command: ['sh', '-c', 'echo database down >&2; exit 3'] } }]);
  const missing = harness([{ exec: { command: ['/nonexistent/outpost-check'] } }]);
  try {
    ok.runner.start();
    bad.runner.start();
    missing.runner.start();
    assert.equal((await ok.tick(0)).success, true);
    assert.deepEqual(await bad.tick(0), { success: false, message: 'exec sh exited with 3: database down' });
    assert.match((await missing.tick(0)).message, /ENOENT/);
    assert.equal(ok.runner.current().ready, true);
  } finally {
    ok.runner.stop();
    bad.runner.stop();
    missing.runner.stop();
  }
});

test('exec that outlives its timeout fails and everything it started is killed', async () => {
  const pidFile = join(tmp, 'sleeper.pid');
  const h = harness([{ exec: { command: ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`] }, timeout: '2s' }]);
  try {
    h.runner.start();
    const outcome = h.nextCheck();
    h.clock.advance(0);
    await waitFor('the probe command to write its pid file', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', { timeoutMs: 2_000, intervalMs: 10 });
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    h.clock.advance(2_000);
    assert.deepEqual(await outcome, { success: false, message: 'timed out after 2000 ms' });
    await waitFor(`process ${sleeper} to be gone after the probe timed out`, () => !isRunning(sleeper), { timeoutMs: 2_000, intervalMs: 10 });
  } finally {
    h.runner.stop();
  }
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a workload is ready only when every probe is; no probes means ready', async () => {
  const none = new ProbeRunner({ probes: [], clock: new FakeClock() });
  assert.equal(none.current().ready, true);
  const h = harness([{ exec: { command: ['true'] } }, { exec: { command: ['false'] }, failureThreshold: 1 }]);
  try {
    h.runner.start();
    const both = Promise.all([h.nextCheck(), h.nextCheck()]);
    h.clock.advance(0);
    await both;
    const state = h.runner.current();
    assert.deepEqual(state.probes.map((p) => p.ready), [true, false]);
    assert.equal(state.ready, false);
  } finally {
    h.runner.stop();
  }
});
