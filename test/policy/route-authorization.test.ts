// HTTPRoute-scoped authorization end to end in-process: HTTPRoute objects -> computed policy ->
// InboundServer protobuf bytes (the policy service's encoder) -> the proxy's decoder -> inbound
// authorizeRequest. Whole matches travel and are evaluated by the core route matcher, so a route
// never admits a combination of one match's path with another match's method (issue 12 item 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeInboundPolicy, type PolicyInputs } from '../../src/policy/compute.js';
import { toWireInboundServer } from '../../src/policy/wire.js';
import { serviceDefinition } from '../../src/api/load.js';
import type { InboundServer__Output } from '../../src/api/gen/policy.js';
import { toInboundPortPolicy } from '../../src/proxy/control/policy-map.js';
import { authorizeRequest } from '../../src/proxy/inbound/authorize.js';
import { effectiveWorkload } from '../../src/core/workloads/effective.js';
import type { HttpRouteObject } from '../../src/kube/objects.js';
import type { InboundPortPolicy } from '../../src/api/model.js';

const NS = 'shop';
const CLIENT = 'spiffe://cluster.local/ns/shop/sa/client';
const OTHER = 'spiffe://cluster.local/ns/shop/sa/other';
type Match = NonNullable<NonNullable<NonNullable<HttpRouteObject['spec']>['rules']>[number]['matches']>[number];

const getPort = serviceDefinition('outpost.policy.v1.InboundPolicies').GetPort;

/** The policy of port 8080 for routes (each a list of rules' matches), through real protobuf bytes. */
/** `who`: the identities each route's AuthorizationPolicy allows (default: CLIENT only). */
function policyOf(routes: Record<string, Match[][]>, who: Record<string, string[]> = {}): InboundPortPolicy {
  const workload = effectiveWorkload({ metadata: { name: 'api', namespace: NS, labels: { app: 'api' } }, spec: { meshTLS: { identity: 'spiffe://cluster.local/ns/shop/sa/api', serverName: 'api.shop.svc' }, workloadIPs: [{ ip: '127.0.0.1' }], ports: [{ port: 8080 }] } }, undefined, 'cluster.local');
  const httpRoutes: HttpRouteObject[] = Object.entries(routes).map(([name, rules]) => ({
    metadata: { name, namespace: NS },
    spec: { parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'api' }], rules: rules.map((matches) => ({ matches })) },
  }));
  const input: PolicyInputs = {
    workload,
    port: 8080,
    servers: [{ metadata: { name: 'api', namespace: NS }, spec: { externalWorkloadSelector: { matchLabels: { app: 'api' } }, port: 8080 } }],
    serverAuthorizations: [],
    authorizationPolicies: Object.keys(routes).map((name) => ({
      metadata: { name: `allow-${name}`, namespace: NS },
      spec: { targetRef: { group: 'policy.linkerd.io', kind: 'HTTPRoute', name }, requiredAuthenticationRefs: [{ group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: `clients-${name}` }] },
    })),
    httpRoutes,
    meshTlsAuthentications: Object.keys(routes).map((name) => ({ metadata: { name: `clients-${name}`, namespace: NS }, spec: { identities: who[name] ?? [CLIENT] } })),
    networkAuthentications: [],
    workloads: [workload],
    clusterDefault: 'all-unauthenticated',
    trustDomain: 'cluster.local',
  };
  const bytes = getPort.responseSerialize(toWireInboundServer(computeInboundPolicy(input)));
  return toInboundPortPolicy(getPort.responseDeserialize(bytes) as InboundServer__Output);
}

const req = (m: string, target: string, headers: Record<string, string> = {}) => ({ method: m, target, header: (n: string) => headers[n] });
const allowed = (p: InboundPortPolicy, m: string, target: string, headers?: Record<string, string>, id = CLIENT) => authorizeRequest(p, id, '127.0.0.1', req(m, target, headers)).allowed;

test('two matches of one route are not crossed: Exact GET /admin/status and PathPrefix POST /public', () => {
  const p = policyOf({ admin: [[{ path: { type: 'Exact', value: '/admin/status' }, method: 'GET' }, { path: { type: 'PathPrefix', value: '/public' }, method: 'POST' }]] });
  const cases: [string, string, boolean][] = [
    ['GET', '/admin/status', true],
    ['POST', '/public', true],
    ['POST', '/public/items', true],
    ['POST', '/admin/status/delete-everything', false], // over-granted before: prefix of one match x method of the other
    ['POST', '/admin/status', false],
    ['GET', '/public/items', false], // over-granted before
    ['GET', '/admin/status/x', false], // Exact is exact
    ['POST', '/publicity', false], // PathPrefix is element-wise
  ];
  for (const [m, path, want] of cases) assert.equal(allowed(p, m, path), want, `${m} ${path}`);
  assert.equal(allowed(p, 'GET', '/admin/status', {}, OTHER), false, 'a matching route still checks who the client is');
});

test('Exact, PathPrefix, RegularExpression, headers, query params and methods, each as its own match', () => {
  const p = policyOf({
    api: [
      [{ path: { type: 'RegularExpression', value: '/v[0-9]+/orders/[0-9]+' }, method: 'GET' }],
      [{ path: { type: 'PathPrefix', value: '/search/' }, queryParams: [{ name: 'q', value: 'shoes' }] }],
      [{ path: { type: 'Exact', value: '/internal' }, headers: [{ name: 'X-Role', value: 'ops' }, { type: 'RegularExpression', name: 'x-team', value: 'pay(ments)?' }] }],
      [{ method: 'DELETE', path: { type: 'PathPrefix', value: '/carts' } }],
    ],
  });
  const cases: [string, string, Record<string, string>, boolean][] = [
    ['GET', '/v2/orders/17', {}, true],
    ['GET', '/v2/orders/17/items', {}, false], // a regular expression matches the whole path
    ['POST', '/v2/orders/17', {}, false],
    ['GET', '/search/all?q=shoes', {}, true],
    ['GET', '/search/all?q=hats', {}, false],
    ['GET', '/search/all', {}, false],
    ['PUT', '/internal', { 'x-role': 'ops', 'x-team': 'payments' }, true],
    ['PUT', '/internal', { 'x-role': 'ops', 'x-team': 'payroll' }, false],
    ['PUT', '/internal', { 'x-role': 'ops' }, false],
    ['PUT', '/internal?x=1', { 'x-role': 'ops', 'x-team': 'pay' }, true],
    ['DELETE', '/carts/9', {}, true],
    ['GET', '/carts/9', {}, false],
    ['GET', '/', {}, false], // no route takes it
  ];
  for (const [m, target, headers, want] of cases) assert.equal(allowed(p, m, target, headers), want, `${m} ${target} ${JSON.stringify(headers)}`);
});

test('across routes the most specific match decides (Gateway API precedence), and its route authorizes', () => {
  // "docs" lets both identities read /docs; "docs-admin" narrows /docs/admin to CLIENT, whatever the routes' order.
  const p = policyOf({ 'a-docs-admin': [[{ path: { type: 'PathPrefix', value: '/docs/admin' } }]], docs: [[{ path: { type: 'PathPrefix', value: '/docs' } }]] }, { docs: [CLIENT, OTHER] });
  assert.equal(allowed(p, 'GET', '/docs/guide', {}, OTHER), true);
  assert.equal(allowed(p, 'GET', '/docs/admin/keys', {}, OTHER), false);
  assert.equal(allowed(p, 'GET', '/docs/admin/keys', {}, CLIENT), true);
  // An Exact match outranks any prefix; a method outranks none.
  const q = policyOf({ exact: [[{ path: { type: 'Exact', value: '/docs' } }]], prefix: [[{ path: { type: 'PathPrefix', value: '/docs' }, method: 'GET' }]] }, { prefix: [OTHER] });
  assert.equal(allowed(q, 'GET', '/docs', {}, OTHER), false);
  assert.equal(allowed(q, 'GET', '/docs/x', {}, OTHER), true);
  // A rule without matches takes every request.
  const all = policyOf({ everything: [[]] });
  assert.equal(allowed(all, 'PATCH', '/anything?at=all'), true);
  assert.equal(allowed(all, 'PATCH', '/anything', {}, OTHER), false);
});
