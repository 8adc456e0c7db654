// Table tests of the pure endpoint bookkeeping and of the reconnect backoff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEndpointUpdate, toEndpointSnapshot, toResolvedEndpoint, type EndpointSetState } from '../../../src/proxy/control/endpoint-set.js';
import type { Endpoint__Output, Update__Output as WireUpdate } from '../../../src/api/gen/destination.js';
import { Backoff } from '../../../src/proxy/control/backoff.js';

const ep = (address: string, port = 8080, extra: object = {}) => ({ address, port, ...extra });
// Partial messages, as a server of another version may send them: the decoder fills what is missing.
const add = (...endpoints: object[]): WireUpdate => ({ update: 'add', add: { endpoints, metricLabels: { dst_service: 'payment-processor', dst_namespace: 'payments' } } }) as WireUpdate;
const remove = (...endpoints: object[]): WireUpdate => ({ update: 'remove', remove: { endpoints } }) as WireUpdate;
const none = (exists: boolean): WireUpdate => ({ update: 'noEndpoints', noEndpoints: { exists } });

function run(steps: [WireUpdate, boolean][]): EndpointSetState | undefined {
  let state: EndpointSetState | undefined;
  for (const [u, first] of steps) state = applyEndpointUpdate(state, u, first);
  return state;
}

test('endpoint updates build the set a user expects', () => {
  const cases: { name: string; steps: [WireUpdate, boolean][]; addresses: string[]; exists: boolean }[] = [
    { name: 'first add', steps: [[add(ep('10.0.0.1'), ep('10.0.0.2')), true]], addresses: ['10.0.0.1:8080', '10.0.0.2:8080'], exists: true },
    { name: 'add merges', steps: [[add(ep('10.0.0.1')), true], [add(ep('10.0.0.2')), false]], addresses: ['10.0.0.1:8080', '10.0.0.2:8080'], exists: true },
    { name: 'remove one', steps: [[add(ep('10.0.0.1'), ep('10.0.0.2')), true], [remove(ep('10.0.0.1')), false]], addresses: ['10.0.0.2:8080'], exists: true },
    { name: 'same ip other port is another endpoint', steps: [[add(ep('10.0.0.1', 1), ep('10.0.0.1', 2)), true], [remove(ep('10.0.0.1', 1)), false]], addresses: ['10.0.0.1:2'], exists: true },
    { name: 'no endpoints, service exists', steps: [[add(ep('10.0.0.1')), true], [none(true), false]], addresses: [], exists: true },
    { name: 'service does not exist', steps: [[none(false), true]], addresses: [], exists: false },
    { name: 'service created after not existing', steps: [[none(false), true], [add(ep('10.0.0.3')), false]], addresses: ['10.0.0.3:8080'], exists: true },
    { name: 'reconnect replaces the kept set', steps: [[add(ep('10.0.0.1'), ep('10.0.0.2')), true], [add(ep('10.0.0.9')), true]], addresses: ['10.0.0.9:8080'], exists: true },
    { name: 'ipv6 keys', steps: [[add(ep('fd00::1'), ep('fd00::2')), true], [remove(ep('fd00::1')), false]], addresses: ['fd00::2:8080'], exists: true },
    { name: 'unknown update kind is ignored', steps: [[add(ep('10.0.0.1')), true], [{ update: 'somethingNew' } as unknown as WireUpdate, false]], addresses: ['10.0.0.1:8080'], exists: true },
  ];
  for (const c of cases) {
    const snap = toEndpointSnapshot(run(c.steps)!);
    assert.deepEqual(snap.endpoints.map((e) => `${e.address}:${e.port}`), c.addresses, c.name);
    assert.equal(snap.exists, c.exists, c.name);
  }
});

test('wire endpoints map to ResolvedEndpoint with defaults', () => {
  const cases: { wire: object; expect: Partial<ReturnType<typeof toResolvedEndpoint>> }[] = [
    { wire: ep('10.0.0.1'), expect: { inboundPort: 4143, weight: 10000, protocolHint: 'unknown', identity: undefined, serverName: undefined, zone: undefined } },
    {
      wire: ep('10.0.0.1', 5432, { inboundPort: 14143, weight: 5, protocolHint: 'PROTOCOL_OPAQUE', tlsIdentity: 'spiffe://cluster.local/ns/db/sa/pg', serverName: 'pg.db.svc.cluster.local', zone: 'z1', metricLabels: { dst_external_workload: 'pg' } }),
      expect: { inboundPort: 14143, weight: 5, protocolHint: 'opaque', identity: 'spiffe://cluster.local/ns/db/sa/pg', serverName: 'pg.db.svc.cluster.local', zone: 'z1', labels: { dst_external_workload: 'pg' } },
    },
    { wire: ep('10.0.0.1', 80, { protocolHint: 'PROTOCOL_H2' }), expect: { protocolHint: 'h2' } },
  ];
  for (const c of cases) {
    const got = toResolvedEndpoint(c.wire as Endpoint__Output);
    for (const [k, v] of Object.entries(c.expect)) assert.deepEqual(got[k as keyof typeof got], v, `${JSON.stringify(c.wire)} ${k}`);
  }
});

test('service labels and opaque flag reach the snapshot', () => {
  const opaque = toEndpointSnapshot(run([[add(ep('10.0.0.1', 6379, { protocolHint: 'PROTOCOL_OPAQUE' })), true]])!);
  assert.equal(opaque.opaque, true);
  assert.deepEqual(opaque.labels, { dst_service: 'payment-processor', dst_namespace: 'payments' });
  const mixed = toEndpointSnapshot(run([[add(ep('10.0.0.1', 1, { protocolHint: 'PROTOCOL_OPAQUE' }), ep('10.0.0.2', 1)), true]])!);
  assert.equal(mixed.opaque, undefined);
});

test('backoff grows exponentially with bounded jitter and resets', () => {
  const mid = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.2, random: () => 0.5 });
  assert.deepEqual([1, 2, 3, 4, 5].map(() => mid.next()), [100, 200, 400, 800, 1000]);
  mid.reset();
  assert.equal(mid.next(), 100);
  const low = new Backoff({ initialMs: 100, multiplier: 2, jitter: 0.2, random: () => 0 });
  assert.deepEqual([low.next(), low.next()], [80, 160]);
  const high = new Backoff({ initialMs: 100, maxMs: 150, multiplier: 2, jitter: 0.2, random: () => 0.999999 });
  assert.deepEqual([high.next(), high.next()], [120, 150]);
});

test('route updates name requests\' routes, keep the endpoints, and are reset by a reopened stream', () => {
  const routes = (...names: string[]): WireUpdate => ({
    update: 'routes',
    routes: { routes: names.map((name) => ({ name, matches: [{ pathType: 'PATH_PREFIX', path: `/${name}` }, { pathType: 'PATH_FROM_THE_FUTURE', path: '/' }] })) },
  }) as unknown as WireUpdate;
  const routeOf = (s: EndpointSetState | undefined, target: string) => toEndpointSnapshot(s!).routes?.routeOf({ method: 'GET', target, header: () => undefined });
  const withRoutes = run([[add(ep('10.0.0.1')), true], [routes('orders', 'users'), false]]);
  assert.equal(routeOf(withRoutes, '/orders/1'), 'orders');
  assert.equal(routeOf(withRoutes, '/users'), 'users');
  assert.equal(routeOf(withRoutes, '/other'), undefined, 'a match with an unknown path type matches nothing');
  assert.deepEqual(toEndpointSnapshot(withRoutes!).endpoints.map((e) => e.address), ['10.0.0.1']);
  const added = run([[add(ep('10.0.0.1')), true], [routes('orders'), false], [add(ep('10.0.0.2')), false], [remove(ep('10.0.0.1')), false]]);
  assert.equal(routeOf(added, '/orders'), 'orders', 'endpoint changes keep the routes');
  assert.equal(routeOf(run([[add(ep('10.0.0.1')), true], [routes('orders'), false], [routes(), false]]), '/orders'), undefined, 'an empty set removes them');
  assert.equal(routeOf(run([[add(ep('10.0.0.1')), true], [routes('orders'), false], [add(ep('10.0.0.1')), true]]), '/orders'), undefined, 'a reopened stream starts without routes');
});
