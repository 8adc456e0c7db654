// The destination client against a real mTLS gRPC server of the test's own: snapshots follow
// add/remove/no_endpoints, resolves share one stream, outages keep the last endpoints (fail static).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { ControlChannel } from '../../../src/proxy/control/channel.js';
import { DestinationClient } from '../../../src/proxy/control/destination.js';
import type { EndpointSnapshot } from '../../../src/api/model.js';
import { waitFor } from '../../support/wait.js';
import { createTestPki, peerIdentity, startTestServer, TestIdentity, WORKLOAD_ID, type TestPki } from './fixtures.js';

type GetCall = grpc.ServerWritableStream<{ path: string; contextToken: string }, unknown>;

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

/** A destination server whose open Get calls the test drives by hand. */
async function startDestination(port = 0, onGet?: (call: GetCall) => void) {
  const calls: GetCall[] = [];
  const peers: string[] = [];
  const server = await startTestServer(
    pki,
    {
      destination: {
        get: (call: GetCall) => {
          calls.push(call);
          peers.push(peerIdentity(call));
          onGet?.(call);
        },
        getProfile: (call: GetCall) => call.end(),
      },
    },
    port,
  );
  const open = () => calls.filter((c) => !c.cancelled && !c.writableEnded);
  return { ...server, calls, peers, open };
}

const ep = (address: string, port = 8080, extra: object = {}) => ({ address, port, tlsIdentity: 'spiffe://cluster.local/ns/payments/sa/default', serverName: 'pp.payments.svc.cluster.local', inboundPort: 4143, weight: 10000, metricLabels: { dst_external_workload: address }, ...extra });
const addrs = (s: EndpointSnapshot | undefined) => s?.endpoints.map((e) => e.address) ?? [];
const fastBackoff = { initialMs: 30, maxMs: 200, jitter: 0.1 };

async function client(target: string, identity: TestIdentity, serverName = 'destination.outpost.svc.cluster.local') {
  const channel = new ControlChannel({ target, serverName, identity });
  return new DestinationClient({ channel, ownsChannel: true, contextToken: 'payments/payment-processor-vm', backoff: fastBackoff });
}

test('snapshots follow add, remove and no_endpoints over mTLS', async () => {
  const server = await startDestination();
  const identity = new TestIdentity(await pki.clientCredentials());
  const discovery = await client(server.target, identity);
  try {
    const watch = discovery.resolve('payment-processor.payments.svc.cluster.local:8080');
    const seen: EndpointSnapshot[] = [];
    watch.subscribe((s) => seen.push(s));
    const call = await waitFor('Get call', () => server.open()[0], 5000);
    assert.equal(call.request.path, 'payment-processor.payments.svc.cluster.local:8080');
    assert.equal(call.request.contextToken, 'payments/payment-processor-vm');
    assert.equal(server.peers[0], WORKLOAD_ID, 'the server sees the workload identity of the client certificate');
    assert.equal(watch.current(), undefined, 'no snapshot before the first answer');

    call.write({ add: { endpoints: [ep('10.0.50.100'), ep('10.0.50.101', 8080, { protocolHint: 'PROTOCOL_H2', zone: 'zone-a' })], metricLabels: { dst_service: 'payment-processor', dst_namespace: 'payments' } } });
    await waitFor('first snapshot', () => seen.length === 1, 5000);
    assert.deepEqual(addrs(watch.current()), ['10.0.50.100', '10.0.50.101']);
    const second = watch.current()!.endpoints[1];
    assert.equal(second.protocolHint, 'h2');
    assert.equal(second.zone, 'zone-a');
    assert.equal(second.identity, 'spiffe://cluster.local/ns/payments/sa/default');
    assert.equal(second.serverName, 'pp.payments.svc.cluster.local');
    assert.deepEqual(second.labels, { dst_external_workload: '10.0.50.101' });
    assert.deepEqual(watch.current()!.labels, { dst_service: 'payment-processor', dst_namespace: 'payments' });

    call.write({ remove: { endpoints: [ep('10.0.50.100')] } });
    await waitFor('remove', () => seen.length === 2, 5000);
    assert.deepEqual(addrs(watch.current()), ['10.0.50.101']);

    call.write({ noEndpoints: { exists: true } });
    await waitFor('no endpoints', () => seen.length === 3, 5000);
    assert.deepEqual(watch.current(), { exists: true, endpoints: [], labels: { dst_service: 'payment-processor', dst_namespace: 'payments' } });

    call.write({ noEndpoints: { exists: false } });
    await waitFor('service gone', () => seen.length === 4, 5000);
    assert.equal(watch.current()!.exists, false);
  } finally {
    discovery.close();
    await server.stop();
  }
});

test('concurrent resolves of one authority share a stream; the last close cancels it', async () => {
  const server = await startDestination(0, (call) => call.write({ add: { endpoints: [ep('10.0.0.7')] } }));
  const discovery = await client(server.target, new TestIdentity(await pki.clientCredentials()));
  try {
    const a = discovery.resolve('redis-cache.cache:6379');
    const b = discovery.resolve('redis-cache.cache:6379');
    const other = discovery.resolve('postgres.hybrid-app:5432');
    await waitFor('snapshots', () => a.current() && b.current() && other.current(), 5000);
    assert.equal(server.calls.length, 2, 'one Get per distinct authority');
    assert.equal(discovery.activeStreams(), 2);
    a.close();
    a.close(); // closing twice releases one reference only
    assert.equal(discovery.activeStreams(), 2, 'b still holds the stream');
    assert.deepEqual(addrs(b.current()), ['10.0.0.7']);
    b.close();
    assert.equal(discovery.activeStreams(), 1);
    await waitFor('server sees the cancel', () => server.calls.filter((c) => c.request.path === 'redis-cache.cache:6379').every((c) => c.cancelled), 5000);
    other.close();
  } finally {
    discovery.close();
    await server.stop();
  }
});

test('a control-plane restart keeps the last snapshot, then refreshes it (fail static)', async () => {
  let server = await startDestination(0, (call) => call.write({ add: { endpoints: [ep('10.0.0.1'), ep('10.0.0.2')] } }));
  const port = server.port;
  const discovery = await client(server.target, new TestIdentity(await pki.clientCredentials()));
  try {
    const watch = discovery.resolve('postgres.hybrid-app:5432');
    await waitFor('first snapshot', () => watch.current(), 5000);
    await server.stop();
    // The outage lasts several backoff rounds; the proxy keeps serving the last endpoints.
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(addrs(watch.current()), ['10.0.0.1', '10.0.0.2']);
    // The control plane comes back on the same address with a different endpoint set.
    server = await startDestination(port, (call) => call.write({ add: { endpoints: [ep('10.0.0.3')] } }));
    await waitFor('refreshed snapshot', () => addrs(watch.current()).join() === '10.0.0.3', 10_000);
  } finally {
    discovery.close();
    await server.stop();
  }
});

test('a server whose certificate lacks the expected name is never trusted', async () => {
  const server = await startDestination(0, (call) => call.write({ add: { endpoints: [ep('10.6.6.6')] } }));
  const discovery = await client(server.target, new TestIdentity(await pki.clientCredentials()), 'identity.other.svc.cluster.local');
  try {
    const watch = discovery.resolve('payment-processor.payments:8080');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(watch.current(), undefined);
    assert.equal(server.calls.length, 0);
  } finally {
    discovery.close();
    await server.stop();
  }
});

test('streams wait for credentials and move to rotated credentials', async () => {
  const server = await startDestination(0, (call) => call.write({ add: { endpoints: [ep('10.0.0.1')] } }));
  const identity = new TestIdentity(undefined);
  const discovery = await client(server.target, identity);
  try {
    const watch = discovery.resolve('payment-processor.payments:8080');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.calls.length, 0, 'no call without a certificate');
    identity.set(await pki.clientCredentials());
    await waitFor('snapshot after credentials', () => watch.current(), 5000);
    const rotatedId = 'spiffe://cluster.local/ns/payments/sa/rotated';
    identity.set(await pki.clientCredentials(rotatedId));
    await waitFor('stream on the rotated certificate', () => server.peers.includes(rotatedId), 5000);
    await waitFor('old stream closed', () => server.open().length === 1, 5000);
    assert.deepEqual(addrs(watch.current()), ['10.0.0.1']);
  } finally {
    discovery.close();
    await server.stop();
  }
});

test('an authority the destination service refuses becomes a final "no such service", without retries', async () => {
  const server = await startDestination(0, (call) => call.emit('error', { code: 3 /* INVALID_ARGUMENT */, details: 'path: not a service authority' }));
  const discovery = await client(server.target, new TestIdentity(await pki.clientCredentials()));
  try {
    const watch = discovery.resolve('93.184.216.34:443');
    await waitFor('final snapshot', () => watch.current(), 5000);
    assert.deepEqual(watch.current(), { exists: false, endpoints: [], labels: {} });
    await new Promise((r) => setTimeout(r, 300)); // several backoff rounds
    assert.equal(server.calls.length, 1, 'not retried');
  } finally {
    discovery.close();
    await server.stop();
  }
});
