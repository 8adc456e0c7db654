// startControlPlaneClients wires destination, policy and health against one mTLS test server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { formatTarget, startControlPlaneClients } from '../../../src/proxy/control/index.js';
import { waitFor } from '../../support/wait.js';
import { createTestPki, startTestServer, TestIdentity } from './fixtures.js';

test('formatTarget brackets IPv6 hosts', () => {
  assert.equal(formatTarget({ host: '127.0.0.1', port: 8086 }), '127.0.0.1:8086');
  assert.equal(formatTarget({ host: '::1', port: 8086 }), '[::1]:8086');
  assert.equal(formatTarget('localhost:8090'), 'localhost:8090');
});

test('one call starts discovery, policy and health reporting for the workload', async () => {
  const pki = await createTestPki();
  const reports: { workload: string; ready: boolean }[] = [];
  const server = await startTestServer(pki, {
    destination: { get: (call: grpc.ServerWritableStream<{ path: string }, unknown>) => call.write({ add: { endpoints: [{ address: '10.0.0.5', port: 5432 }] } }), getProfile: () => {} },
    policy: { getPort: (call: grpc.ServerWritableStream<{ workload: string }, unknown>) => call.write({ protocol: 'OPAQUE', labels: { workload: call.request.workload } }) },
    health: {
      report: (call: grpc.ServerDuplexStream<{ workload: string; ready: boolean }, unknown>) => {
        call.on('data', (r: { workload: string; ready: boolean }) => (reports.push(r), call.write({ heartbeatIntervalMs: 5000, probesJson: '[]' })));
        call.on('end', () => call.end());
        call.on('error', () => {});
      },
    },
  });
  const clients = startControlPlaneClients({
    identity: new TestIdentity(await pki.clientCredentials()),
    workload: { namespace: 'hybrid-app', name: 'postgres-vm' },
    destination: { host: '127.0.0.1', port: server.port },
    policy: { host: '127.0.0.1', port: server.port },
    health: { host: '127.0.0.1', port: server.port },
    // The test server's certificate carries these names (and so does the control plane's).
    serverNames: { destination: 'destination.outpost.svc.cluster.local', policy: 'policy.outpost.svc.cluster.local', health: 'health.outpost.svc.cluster.local' },
  });
  try {
    const watch = clients.discovery!.resolve('postgres.hybrid-app:5432');
    const port = clients.policy!.watchPort(5432);
    await waitFor('endpoints and policy', () => watch.current() && port.current(), 5000);
    assert.equal(watch.current()!.endpoints[0].address, '10.0.0.5');
    assert.equal(port.current()!.labels.workload, 'hybrid-app/postgres-vm');
    // No probes in the manifest: the first report is "waiting", the next one ready.
    await waitFor('ready report', () => reports.some((r) => r.ready), 5000);
    assert.equal(reports[0].workload, 'hybrid-app/postgres-vm');
  } finally {
    clients.close();
    await server.stop();
  }
});
