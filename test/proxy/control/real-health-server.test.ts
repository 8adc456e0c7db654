// The proxy's health reporter against the control plane's real WorkloadHealth server
// (src/controllers/health/server.ts): probes from the manifest run, reports land, identity is enforced.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { FakeClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/log.js';
import { startHealthServer, type ReportTarget } from '../../../src/controllers/health/server.js';
import { ControlChannel } from '../../../src/proxy/control/channel.js';
import { HealthReporter } from '../../../src/proxy/control/health-reporter.js';
import { ProbeSupervisor } from '../../../src/proxy/probes/supervisor.js';
import { fixedServerCredentials } from '../../../src/core/tls/renewing-credentials.js';
import { waitFor } from '../../support/wait.js';
import { createTestPki, TestIdentity, WORKLOAD_ID, type TestPki } from './fixtures.js';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

async function startRealHealth(probesJson: string) {
  const reports: { key: string; ready: boolean; probes: { name: string; success: boolean; message?: string }[] }[] = [];
  const opened: string[] = [];
  const target: ReportTarget = { uid: 'uid-1', key: 'payments/payment-processor-vm', identity: WORKLOAD_ID, serverName: 'payment-processor-vm.payments.svc.cluster.local', heartbeatIntervalMs: 2_000, probesJson };
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    credentials: fixedServerCredentials({ certPem: pki.serverCertPem, chainPem: pki.serverCertPem, keyPem: pki.serverKeyPem }, pki.root.certPem),
    log: silentLogger,
    resolve: (w) => (w === target.key ? target : undefined),
    onReport: (t, r) => reports.push({ key: t.key, ...r }),
    onStreamOpened: (t) => opened.push(t.key),
    onStreamClosed: () => {},
  });
  return { ...server, reports, opened, target };
}

function reporterFor(port: number, identity: TestIdentity, clock: FakeClock, supervisor: ProbeSupervisor) {
  const channel = new ControlChannel({ target: `127.0.0.1:${port}`, serverName: 'health.outpost.svc.cluster.local', identity });
  return new HealthReporter({ channel, ownsChannel: true, workload: 'payments/payment-processor-vm', health: supervisor, clock, onProbes: (p) => supervisor.applyControlPlaneProbes(p), backoff: { initialMs: 50, maxMs: 200 } });
}

test('the real health server receives the verdict of the probes it sent', async () => {
  let status = 200;
  const app = http.createServer((_req, res) => res.writeHead(status).end());
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as { port: number }).port;
  const server = await startRealHealth(JSON.stringify([{ path: '/health', port: appPort, period: '10s', failureThreshold: 1 }]));
  const clock = new FakeClock();
  const supervisor = new ProbeSupervisor({ clock });
  const reporter = reporterFor(server.port, new TestIdentity(await pki.clientCredentials()), clock, supervisor);
  try {
    supervisor.start();
    reporter.start();
    await waitFor('probes from the server', () => supervisor.current().probes[0]?.name === `http-get:${appPort}/health`, 5000);
    assert.equal(reporter.heartbeatIntervalMs(), 2_000);
    clock.advance(0);
    await waitFor('ready report', () => server.reports.at(-1)?.ready === true, 5000);
    assert.deepEqual(server.opened, ['payments/payment-processor-vm']);
    status = 500;
    clock.advance(10_000);
    await waitFor('not-ready report', () => server.reports.at(-1)?.ready === false, 5000);
    assert.match(server.reports.at(-1)!.probes[0].message ?? "", /returned 500/);
    const before = server.reports.length;
    clock.advance(2_000);
    await waitFor('heartbeat', () => server.reports.length > before, 5000);
  } finally {
    supervisor.stop();
    reporter.stop();
    app.close();
    await server.stop();
  }
});

test('a proxy holding another workload\'s certificate cannot report for this one', async () => {
  const server = await startRealHealth('[]');
  const clock = new FakeClock();
  const supervisor = new ProbeSupervisor({ clock, probes: [] });
  const intruder = new TestIdentity(await pki.clientCredentials('spiffe://cluster.local/ns/payments/externalworkload/someone-else'));
  const reporter = reporterFor(server.port, intruder, clock, supervisor);
  try {
    reporter.start();
    // Let it try a few times (reopens run on the fake clock).
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 60));
      clock.advance(300);
    }
    assert.equal(server.reports.length, 0);
    assert.deepEqual(server.opened, []);
    // The same server takes the report of the workload's own certificate.
    const owner = reporterFor(server.port, new TestIdentity(await pki.clientCredentials()), clock, supervisor);
    owner.start();
    await waitFor('the owner\'s report', () => server.reports.length > 0, 5000).finally(() => owner.stop());
    assert.equal(server.reports[0].key, 'payments/payment-processor-vm');
  } finally {
    reporter.stop();
    await server.stop();
  }
});
