// The policy client against a real mTLS gRPC server of the test's own: deny until the first answer,
// every answer replaces the policy, outages keep the last one, one stream per port.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { ControlChannel } from '../../../src/proxy/control/channel.js';
import { PolicyClient } from '../../../src/proxy/control/policy.js';
import { toInboundPortPolicy } from '../../../src/proxy/control/policy-map.js';
import type { InboundServer__Output } from '../../../src/api/gen/policy.js';
import type { InboundPortPolicy } from '../../../src/api/model.js';
import { waitFor } from '../../support/wait.js';
import { createTestPki, peerIdentity, startTestServer, TestIdentity, WORKLOAD_ID, type TestPki } from './fixtures.js';

type PortCall = grpc.ServerWritableStream<{ workload: string; port: number }, unknown>;

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

const allowClients = {
  protocol: 'HTTP1',
  authorizations: [
    {
      networks: [{ net: '10.0.0.0/8', except: ['10.9.0.0/16'] }],
      authentication: { meshTls: { identities: ['spiffe://cluster.local/ns/frontend/sa/web', '*.payments.serviceaccount.identity.outpost.cluster.local'] } },
      labels: { kind: 'authorizationpolicy', name: 'allow-web' },
    },
  ],
  httpRoutes: [{ labels: { kind: 'httproute', name: 'health' }, matches: [{ pathType: 'PATH_EXACT', path: '/health', method: 'GET', headers: [{ name: 'x-probe', value: 'k.*', regex: true }] }], authorizations: [{ authentication: { unauthenticated: {} }, labels: { kind: 'default', name: 'probe' } }] }],
  labels: { kind: 'server', name: 'payment-api' },
};

async function startPolicy(port = 0, onGetPort?: (call: PortCall) => void) {
  const calls: PortCall[] = [];
  const peers: string[] = [];
  const server = await startTestServer(pki, { policy: { getPort: (call: PortCall) => (calls.push(call), peers.push(peerIdentity(call)), onGetPort?.(call)) } }, port);
  return { ...server, calls, peers };
}

function client(target: string, identity: TestIdentity) {
  const channel = new ControlChannel({ target, serverName: 'policy.outpost.svc.cluster.local', identity });
  return new PolicyClient({ channel, ownsChannel: true, workload: 'payments/payment-processor-vm', backoff: { initialMs: 30, maxMs: 200 } });
}

test('policy wire messages map to the proxy policy, unknown authentication denies', () => {
  const cases: { wire: object; expect: InboundPortPolicy }[] = [
    { wire: {}, expect: { protocol: 'detect', authorizations: [], httpRoutes: [], labels: {} } },
    {
      wire: allowClients,
      expect: {
        protocol: 'http1',
        authorizations: [{ networks: [{ net: '10.0.0.0/8', except: ['10.9.0.0/16'] }], authentication: { kind: 'meshTLS', identities: ['spiffe://cluster.local/ns/frontend/sa/web', '*.payments.serviceaccount.identity.outpost.cluster.local'] }, labels: { kind: 'authorizationpolicy', name: 'allow-web' } }],
        httpRoutes: [
          {
            labels: { kind: 'httproute', name: 'health' },
            matches: [{ pathType: 'Exact', path: '/health', method: 'GET', headers: [{ name: 'x-probe', value: 'k.*', regex: true }], queryParams: [] }],
            authorizations: [{ networks: [], authentication: { kind: 'unauthenticated' }, labels: { kind: 'default', name: 'probe' } }],
          },
        ],
        labels: { kind: 'server', name: 'payment-api' },
      },
    },
    { wire: { protocol: 'OPAQUE', authorizations: [{ authentication: null }] }, expect: { protocol: 'opaque', authorizations: [{ networks: [], authentication: { kind: 'meshTLS', identities: [] }, labels: {} }], httpRoutes: [], labels: {} } },
    { wire: { protocol: 'SOMETHING_NEW' }, expect: { protocol: 'detect', authorizations: [], httpRoutes: [], labels: {} } },
    // An older policy server's flattened route (no matches): the route takes no request (denied), never every request.
    { wire: { httpRoutes: [{ labels: { name: 'old' }, pathPrefixes: ['/'], methods: [] }] }, expect: { protocol: 'detect', authorizations: [], httpRoutes: [{ labels: { name: 'old' }, matches: [], authorizations: [] }], labels: {} } },
  ];
  for (const c of cases) assert.deepEqual(toInboundPortPolicy(c.wire as InboundServer__Output), c.expect, JSON.stringify(c.wire));
});

test('a port is denied until the first answer, then follows every answer over mTLS', async () => {
  const server = await startPolicy();
  const policies = client(server.target, new TestIdentity(await pki.clientCredentials()));
  try {
    const watch = policies.watchPort(8080);
    const seen: InboundPortPolicy[] = [];
    watch.subscribe((p) => seen.push(p));
    const call = await waitFor('GetPort call', () => server.calls[0], 5000);
    assert.deepEqual(call.request, { workload: 'payments/payment-processor-vm', port: 8080 });
    assert.equal(server.peers[0], WORKLOAD_ID);
    assert.equal(watch.current(), undefined, 'no policy (deny) before the first answer');
    call.write(allowClients);
    await waitFor('first policy', () => seen.length === 1, 5000);
    assert.equal(watch.current()!.protocol, 'http1');
    assert.equal(watch.current()!.authorizations[0].labels.name, 'allow-web');
    call.write({ protocol: 'OPAQUE', authorizations: [], labels: { kind: 'default', name: 'all-unauthenticated' } });
    await waitFor('second policy', () => seen.length === 2, 5000);
    assert.deepEqual(watch.current(), { protocol: 'opaque', authorizations: [], httpRoutes: [], labels: { kind: 'default', name: 'all-unauthenticated' } });
  } finally {
    policies.close();
    await server.stop();
  }
});

test('an unreachable policy service keeps ports denied; a later outage keeps the last policy', async () => {
  // Nothing listens yet: the port stays denied while the client retries.
  const placeholder = await startPolicy();
  const port = placeholder.port;
  await placeholder.stop();
  const policies = client(`127.0.0.1:${port}`, new TestIdentity(await pki.clientCredentials()));
  let server = placeholder;
  try {
    const watch = policies.watchPort(5432);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(watch.current(), undefined);
    server = await startPolicy(port, (call) => call.write(allowClients));
    await waitFor('policy after the service came up', () => watch.current(), 10_000);
    await server.stop();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(watch.current()!.labels.name, 'payment-api', 'kept through the outage');
    server = await startPolicy(port, (call) => call.write({ protocol: 'TLS', labels: { name: 'after-restart' } }));
    await waitFor('refreshed policy', () => watch.current()?.labels.name === 'after-restart', 10_000);
  } finally {
    policies.close();
    await server.stop();
  }
});

test('watches of one port share a stream', async () => {
  const server = await startPolicy(0, (call) => call.write(allowClients));
  const policies = client(server.target, new TestIdentity(await pki.clientCredentials()));
  try {
    const a = policies.watchPort(8080);
    const b = policies.watchPort(8080);
    await waitFor('policies', () => a.current() && b.current(), 5000);
    assert.equal(server.calls.length, 1);
    a.close();
    assert.ok(b.current());
    b.close();
    assert.equal(policies.activeStreams(), 0);
    await waitFor('cancel reaches the server', () => server.calls[0].cancelled, 5000);
  } finally {
    policies.close();
    await server.stop();
  }
});
