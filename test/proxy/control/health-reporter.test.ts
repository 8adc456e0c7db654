// The health reporter against a real mTLS gRPC server of the test's own, on a fake clock: a report on
// open and on every change, heartbeats at the interval the server asks for, reconnects, revocation.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type * as grpc from '@grpc/grpc-js';
import { FakeClock } from '../../../src/core/clock.js';
import { ControlChannel } from '../../../src/proxy/control/channel.js';
import { HealthReporter, type HealthSource } from '../../../src/proxy/control/health-reporter.js';
import type { HealthReport__Output as HealthReport } from '../../../src/api/gen/health.js';
import type { Credentials } from '../../../src/proxy/types.js';
import type { WorkloadProbe } from '../../../src/core/workloads/effective.js';
import { ProbeSupervisor } from '../../../src/proxy/probes/supervisor.js';
import { ProbeRunner } from '../../../src/proxy/probes/runner.js';
import { parseProbes } from '../../../src/proxy/probes/spec.js';
import { waitFor } from '../../support/wait.js';
import { createTestPki, peerIdentity, startTestServer, TestIdentity, WORKLOAD_ID, type TestPki } from './fixtures.js';

type ReportCall = grpc.ServerDuplexStream<HealthReport, unknown>;

let pki: TestPki;
let credentials: Credentials;
before(async () => {
  pki = await createTestPki();
  credentials = await pki.clientCredentials();
});

/** A health server that acks every report with the given interval and revocation flag. */
async function startHealth(ack: { heartbeatIntervalMs: number; revoked?: boolean; probesJson?: string }, port = 0) {
  const reports: HealthReport[] = [];
  const peers: string[] = [];
  const calls: ReportCall[] = [];
  const server = await startTestServer(
    pki,
    {
      health: {
        report: (call: ReportCall) => {
          calls.push(call);
          peers.push(peerIdentity(call));
          call.on('data', (r: HealthReport) => {
            reports.push(r);
            call.write({ ...ack });
          });
          call.on('end', () => call.end());
          call.on('error', () => {});
        },
      },
    },
    port,
  );
  return { ...server, reports, peers, calls, ack };
}

/** A HealthSource the test flips by hand. */
function manualHealth() {
  const listeners = new Set<() => void>();
  let ready = false;
  const source: HealthSource = {
    current: () => ({ ready, probes: [{ name: 'http-get:8081/health', lastSuccess: ready, message: ready ? 'HTTP 200' : 'HTTP GET /health returned 503', checkedAt: 1_000 }] }),
    onChange: (l) => (listeners.add(l), () => listeners.delete(l)),
  };
  return { source, set: (r: boolean) => ((ready = r), listeners.forEach((l) => l())) };
}

function reporter(target: string, health: HealthSource, clock: FakeClock, onRevoked?: () => void, onProbes?: (p: WorkloadProbe[] | undefined) => void) {
  const channel = new ControlChannel({ target, serverName: 'health.outpost.svc.cluster.local', identity: new TestIdentity(credentials) });
  return new HealthReporter({ channel, ownsChannel: true, workload: 'payments/payment-processor-vm', health, clock, inboundPort: 4143, adminAddress: '127.0.0.1:4191', tapAddress: '127.0.0.1:4190', onRevoked, onProbes, backoff: { initialMs: 50, maxMs: 200 } });
}

test('reports on open and on every change, then heartbeats at the interval from the ack', async () => {
  const server = await startHealth({ heartbeatIntervalMs: 2_000 });
  const clock = new FakeClock();
  const health = manualHealth();
  const r = reporter(server.target, health.source, clock);
  try {
    r.start();
    await waitFor('first report', () => server.reports.length === 1, 5000);
    assert.equal(server.peers[0], WORKLOAD_ID, 'the report stream is authenticated with the workload certificate');
    assert.deepEqual(server.reports[0], {
      workload: 'payments/payment-processor-vm',
      ready: false,
      probes: [{ name: 'http-get:8081/health', success: false, message: 'HTTP GET /health returned 503', checkedAtUnixMs: 1_000 }],
      proxyVersion: server.reports[0].proxyVersion,
      inboundPort: 4143,
      adminPort: 4191,
      adminAddress: '127.0.0.1:4191',
      tapAddress: '127.0.0.1:4190',
    });
    await waitFor('interval from the ack', () => r.heartbeatIntervalMs() === 2_000, 5000);

    health.set(true);
    await waitFor('report on change', () => server.reports.length === 2, 5000);
    assert.equal(server.reports[1].ready, true);

    clock.advance(1_999);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(server.reports.length, 2, 'no heartbeat before the interval');
    clock.advance(1);
    await waitFor('heartbeat', () => server.reports.length === 3, 5000);
    clock.advance(2_000);
    await waitFor('second heartbeat', () => server.reports.length === 4, 5000);
    assert.ok(server.reports.slice(2).every((rep) => rep.ready));
  } finally {
    r.stop();
    await server.stop();
  }
});

test('the reporter reconnects after a control-plane restart and reports again at once', async () => {
  let server = await startHealth({ heartbeatIntervalMs: 5_000 });
  const port = server.port;
  const clock = new FakeClock();
  const health = manualHealth();
  const r = reporter(server.target, health.source, clock);
  try {
    r.start();
    await waitFor('first report', () => server.reports.length === 1, 5000);
    await server.stop();
    health.set(true); // changes during the outage are not lost: the next stream opens with the current state
    server = await startHealth({ heartbeatIntervalMs: 5_000 }, port);
    const restarted = server;
    // Reopen timers run on the fake clock: move it along until the stream is back.
    await waitFor('report after restart', () => (clock.advance(100), restarted.reports.length >= 1), 10_000);
    assert.equal(restarted.reports[0].ready, true);
  } finally {
    r.stop();
    await server.stop();
  }
});

test('a revoked ack calls onRevoked once', async () => {
  const server = await startHealth({ heartbeatIntervalMs: 1_000, revoked: true });
  const clock = new FakeClock();
  let revocations = 0;
  const r = reporter(server.target, manualHealth().source, clock, () => revocations++);
  try {
    r.start();
    await waitFor('revoked', () => r.isRevoked(), 5000);
    clock.advance(1_000);
    await waitFor('heartbeat after revocation', () => server.reports.length === 2, 5000);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(revocations, 1);
  } finally {
    r.stop();
    await server.stop();
  }
});

test('real probes drive the reports: a failing app is reported not ready', async () => {
  let status = 200;
  const app = http.createServer((_req, res) => res.writeHead(status).end());
  await new Promise<void>((res) => app.listen(0, '127.0.0.1', res));
  const appPort = (app.address() as { port: number }).port;
  const server = await startHealth({ heartbeatIntervalMs: 60_000 });
  const clock = new FakeClock();
  const runner = new ProbeRunner({ probes: parseProbes([{ path: '/health', port: appPort, period: '10s', failureThreshold: 2 }]).specs, clock });
  const r = reporter(server.target, runner, clock);
  try {
    r.start();
    runner.start();
    clock.advance(0);
    await waitFor('ready report', () => server.reports.some((rep) => rep.ready), 5000);
    status = 500;
    clock.advance(10_000);
    await waitFor('first failure reported', () => server.reports.at(-1)?.probes[0].success === false, 5000);
    assert.equal(server.reports.at(-1)!.ready, true, 'one failure is below the threshold');
    clock.advance(10_000);
    await waitFor('not-ready report', () => server.reports.at(-1)?.ready === false, 5000);
    assert.match(server.reports.at(-1)!.probes[0].message, /returned 500/);
  } finally {
    runner.stop();
    r.stop();
    app.close();
    await server.stop();
  }
});

test('the probes of the manifest arrive in the acks and drive the verdict', async () => {
  let status = 503;
  const app = http.createServer((_req, res) => res.writeHead(status).end());
  await new Promise<void>((res) => app.listen(0, '127.0.0.1', res));
  const appPort = (app.address() as { port: number }).port;
  const server = await startHealth({ heartbeatIntervalMs: 60_000, probesJson: JSON.stringify([{ path: '/health', port: appPort, period: '10s', timeout: '5s', failureThreshold: 3, successThreshold: 1 }]) });
  const clock = new FakeClock();
  const supervisor = new ProbeSupervisor({ clock });
  const r = reporter(server.target, supervisor, clock, undefined, (p) => supervisor.applyControlPlaneProbes(p));
  try {
    supervisor.start();
    r.start();
    await waitFor('first report', () => server.reports.length >= 1, 5000);
    assert.equal(server.reports[0].ready, false, 'not ready before the probes are known');
    assert.equal(server.reports[0].probes[0].name, 'probes');
    await waitFor('probe set from the ack', () => server.reports.some((rep) => rep.probes[0]?.name === `http-get:${appPort}/health`), 5000);
    clock.advance(0);
    await waitFor('failing check reported', () => server.reports.at(-1)?.probes[0].message === 'HTTP GET /health returned 503', 5000);
    assert.equal(server.reports.at(-1)!.ready, false);
    status = 200;
    clock.advance(10_000);
    await waitFor('ready once the app is healthy', () => server.reports.at(-1)?.ready === true, 5000);
  } finally {
    supervisor.stop();
    r.stop();
    app.close();
    await server.stop();
  }
});
