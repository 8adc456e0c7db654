// Table tests of the pure inbound-policy computation: Servers, authorizations, defaults, the guide's postgres policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveWorkload, type ExternalWorkloadLike } from '../../src/core/workloads/effective.js';
import { computeInboundPolicy, type PolicyInputs } from '../../src/policy/compute.js';
import type { Authorization } from '../../src/api/model.js';
import type { ServerObject } from '../../src/kube/objects.js';

const postgres = effectiveWorkload({
  metadata: { name: 'postgres-primary', namespace: 'hybrid-app', labels: { app: 'postgres', role: 'primary' } },
  spec: { workloadIPs: [{ ip: '10.0.100.50' }], ports: [{ name: 'postgres', port: 5432 }] },
});
const apiVm = effectiveWorkload({ metadata: { name: 'api-vm', namespace: 'hybrid-app', annotations: { 'outpost.io/service-account': 'api-server' } }, spec: { meshTLS: { identity: 'spiffe://cluster.local/api-vm' } } } as ExternalWorkloadLike);
const otherVm = effectiveWorkload({ metadata: { name: 'other', namespace: 'hybrid-app', annotations: { 'outpost.io/service-account': 'other' } } });

const postgresServer: ServerObject = {
  metadata: { name: 'postgres-server', namespace: 'hybrid-app' },
  spec: { podSelector: { matchLabels: { app: 'postgres' } }, port: 5432, proxyProtocol: 'opaque' },
};
const postgresAuth = {
  metadata: { name: 'postgres-auth', namespace: 'hybrid-app' },
  spec: { server: { name: 'postgres-server' }, client: { meshTLS: { serviceAccounts: [{ name: 'api-server' }] } } },
};

function inputs(over: Partial<PolicyInputs> = {}): PolicyInputs {
  return {
    workload: postgres,
    port: 5432,
    servers: [postgresServer],
    serverAuthorizations: [postgresAuth],
    authorizationPolicies: [],
    httpRoutes: [],
    meshTlsAuthentications: [],
    networkAuthentications: [],
    workloads: [postgres, apiVm, otherVm],
    clusterDefault: 'all-unauthenticated',
    trustDomain: 'cluster.local',
    ...over,
  };
}

/** Would this client be admitted (server-wide authorizations)? Mirrors what the proxy's inbound does. */
function admits(authz: Authorization[], client: { identity?: string }): boolean {
  return authz.some((a) =>
    a.authentication.kind === 'unauthenticated'
      ? true
      : !!client.identity && a.authentication.identities.some((id) => id === '*' || id === client.identity || (id.startsWith('*.') && client.identity!.endsWith(id.slice(1)))),
  );
}

test("the guide's postgres-server + postgres-auth admit only the api-server ServiceAccount's identities, opaque", () => {
  const p = computeInboundPolicy(inputs());
  assert.equal(p.protocol, 'opaque');
  assert.deepEqual(p.labels, { kind: 'server', name: 'postgres-server' });
  assert.deepEqual(p.authorizations[0].authentication, { kind: 'meshTLS', identities: ['spiffe://cluster.local/api-vm', 'spiffe://cluster.local/ns/hybrid-app/sa/api-server'] });
  assert.equal(admits(p.authorizations, { identity: 'spiffe://cluster.local/ns/hybrid-app/sa/api-server' }), true);
  assert.equal(admits(p.authorizations, { identity: 'spiffe://cluster.local/api-vm' }), true);
  assert.equal(admits(p.authorizations, { identity: otherVm.identity }), false);
  assert.equal(admits(p.authorizations, { identity: 'spiffe://cluster.local/ns/other-ns/sa/api-server' }), false);
  assert.equal(admits(p.authorizations, {}), false);
});

const table: { name: string; over: Partial<PolicyInputs>; expect: Partial<{ protocol: string; kind: string; name: string; count: number; unauthenticated: boolean; identities: string[]; networks: string[] }> }[] = [
  { name: 'a Server with no authorization denies', over: { serverAuthorizations: [] }, expect: { kind: 'server', count: 0 } },
  { name: 'another port: no Server, default all-unauthenticated', over: { port: 9999 }, expect: { kind: 'default', name: 'all-unauthenticated', count: 1, unauthenticated: true, protocol: 'detect' } },
  { name: 'flag default deny', over: { port: 9999, clusterDefault: 'deny' }, expect: { kind: 'default', name: 'deny', count: 0 } },
  {
    name: 'namespace annotation overrides the flag',
    over: { port: 9999, namespace: { metadata: { name: 'hybrid-app', annotations: { 'config.linkerd.io/default-inbound-policy': 'all-authenticated' } } } },
    expect: { name: 'all-authenticated', identities: ['*'] },
  },
  {
    name: 'workload annotation overrides the namespace',
    over: {
      port: 9999,
      workload: { ...postgres, annotations: { 'config.linkerd.io/default-inbound-policy': 'cluster-authenticated' } },
      namespace: { metadata: { name: 'hybrid-app', annotations: { 'config.linkerd.io/default-inbound-policy': 'deny' } } },
    },
    expect: { name: 'cluster-authenticated', identities: ['*'] },
  },
  {
    name: 'port by name resolved against the workload ports; externalWorkloadSelector',
    over: { servers: [{ metadata: { name: 's', namespace: 'hybrid-app' }, spec: { externalWorkloadSelector: { matchLabels: { role: 'primary' } }, port: 'postgres', proxyProtocol: 'HTTP/2' } }], serverAuthorizations: [] },
    expect: { kind: 'server', name: 's', protocol: 'http2' },
  },
  {
    name: 'a Server in another namespace does not apply',
    over: { servers: [{ ...postgresServer, metadata: { name: 'x', namespace: 'other' } }] },
    expect: { kind: 'default' },
  },
  {
    name: 'ServerAuthorization unauthenticated with networks',
    over: { serverAuthorizations: [{ metadata: { name: 'a', namespace: 'hybrid-app' }, spec: { server: { name: 'postgres-server' }, client: { unauthenticated: true, networks: [{ cidr: '10.0.0.0/8' }] } } }] },
    expect: { count: 1, unauthenticated: true, networks: ['10.0.0.0/8'] },
  },
  {
    name: 'AuthorizationPolicy on the Server with a MeshTLSAuthentication and a NetworkAuthentication',
    over: {
      serverAuthorizations: [],
      authorizationPolicies: [
        {
          metadata: { name: 'ap', namespace: 'hybrid-app' },
          spec: {
            targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'postgres-server' },
            requiredAuthenticationRefs: [
              { group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'm' },
              { group: 'policy.linkerd.io', kind: 'NetworkAuthentication', name: 'n' },
            ],
          },
        },
      ],
      meshTlsAuthentications: [{ metadata: { name: 'm', namespace: 'hybrid-app' }, spec: { identities: ['spiffe://cluster.local/x'], identityRefs: [{ kind: 'ServiceAccount', name: 'other' }] } }],
      networkAuthentications: [{ metadata: { name: 'n', namespace: 'hybrid-app' }, spec: { networks: [{ cidr: '192.168.0.0/16' }] } }],
    },
    expect: { count: 1, identities: ['spiffe://cluster.local/ns/hybrid-app/sa/other', 'spiffe://cluster.local/x'], networks: ['192.168.0.0/16'] },
  },
  {
    name: 'an AuthorizationPolicy whose authentication does not exist authorizes nothing',
    over: {
      serverAuthorizations: [],
      authorizationPolicies: [{ metadata: { name: 'ap', namespace: 'hybrid-app' }, spec: { targetRef: { kind: 'Server', name: 'postgres-server' }, requiredAuthenticationRefs: [{ kind: 'MeshTLSAuthentication', name: 'missing' }] } }],
    },
    expect: { count: 0 },
  },
  {
    name: 'an AuthorizationPolicy on the Namespace applies to its Servers',
    over: {
      serverAuthorizations: [],
      authorizationPolicies: [{ metadata: { name: 'ns', namespace: 'hybrid-app' }, spec: { targetRef: { kind: 'Namespace', name: 'hybrid-app' }, requiredAuthenticationRefs: [{ kind: 'ServiceAccount', name: 'api-server' }] } }],
    },
    expect: { count: 1, identities: ['spiffe://cluster.local/api-vm', 'spiffe://cluster.local/ns/hybrid-app/sa/api-server'] },
  },
];

for (const c of table) {
  test(c.name, () => {
    const p = computeInboundPolicy(inputs(c.over));
    const e = c.expect;
    if (e.protocol) assert.equal(p.protocol, e.protocol);
    if (e.kind) assert.equal(p.labels.kind, e.kind);
    if (e.name) assert.equal(p.labels.name, e.name);
    if (e.count !== undefined) assert.equal(p.authorizations.length, e.count);
    const a = p.authorizations[0];
    if (e.unauthenticated !== undefined) assert.equal(a.authentication.kind === 'unauthenticated', e.unauthenticated);
    if (e.identities) assert.deepEqual(a.authentication.kind === 'meshTLS' ? a.authentication.identities : undefined, e.identities);
    if (e.networks) assert.deepEqual(a.networks.map((n) => n.net), e.networks);
  });
}

test('an AuthorizationPolicy on an HTTPRoute whose parent is the Server becomes a route authorization', () => {
  const p = computeInboundPolicy(
    inputs({
      serverAuthorizations: [],
      httpRoutes: [{ metadata: { name: 'health', namespace: 'hybrid-app' }, spec: { parentRefs: [{ kind: 'Server', name: 'postgres-server' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/health' }, method: 'GET' }] }] } }],
      authorizationPolicies: [{ metadata: { name: 'probe', namespace: 'hybrid-app' }, spec: { targetRef: { kind: 'HTTPRoute', name: 'health' }, requiredAuthenticationRefs: [{ kind: 'NetworkAuthentication', name: 'n' }] } }],
      networkAuthentications: [{ metadata: { name: 'n', namespace: 'hybrid-app' }, spec: { networks: [{ cidr: '0.0.0.0/0' }] } }],
    }),
  );
  assert.equal(p.authorizations.length, 0);
  assert.deepEqual(p.httpRoutes.map((r) => [r.labels.name, r.matches, r.authorizations.length]), [['health', [{ pathType: 'PathPrefix', path: '/health', method: 'GET', headers: [], queryParams: [] }], 1]]);
});
