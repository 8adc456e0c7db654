// Which HTTPRoutes attach to a Service port, and which route a request takes (Gateway API precedence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable, attachesToService, describeMatch, routesForService, serviceRouteOf, type HttpRouteLike } from '../../src/core/routes/http-route.js';

const route = (name: string, spec: HttpRouteLike['spec'], extra: { namespace?: string; created?: string } = {}): HttpRouteLike => ({
  metadata: { name, namespace: extra.namespace ?? 'shop', creationTimestamp: extra.created },
  spec,
});
const toSvc = (port?: number) => [{ group: 'core', kind: 'Service', name: 'web', port }];

test('a route attaches to a Service by kind, group, name, namespace and (optional) port', () => {
  const cases: [HttpRouteLike['spec'], string, number, boolean][] = [
    [{ parentRefs: toSvc(80) }, 'shop', 80, true],
    [{ parentRefs: toSvc(80) }, 'shop', 8080, false],
    [{ parentRefs: toSvc() }, 'shop', 8080, true],
    [{ parentRefs: [{ kind: 'Service', name: 'web' }] }, 'shop', 80, true],
    [{ parentRefs: [{ kind: 'Server', group: 'policy.linkerd.io', name: 'web' }] }, 'shop', 80, false],
    [{ parentRefs: [{ name: 'web' }] }, 'shop', 80, false], // Gateway API's default parent kind is Gateway
    [{ parentRefs: [{ kind: 'Service', group: 'apps', name: 'web' }] }, 'shop', 80, false],
    [{ parentRefs: [{ kind: 'Service', name: 'web', namespace: 'other' }] }, 'shop', 80, false],
    [{ parentRefs: [{ kind: 'Service', name: 'api' }] }, 'shop', 80, false],
  ];
  // A consumer route (in a client's namespace, naming the Service's) is not a producer route.
  assert.equal(attachesToService(route('r', { parentRefs: [{ kind: 'Service', name: 'web', namespace: 'shop' }] }, { namespace: 'checkout' }), 'shop', 'web', 80), false);
  for (const [spec, ns, port, want] of cases) assert.equal(attachesToService(route('r', spec), ns, 'web', port), want, JSON.stringify(spec));
});

test('routes of a Service are ordered oldest first, then by name', () => {
  const rs = [
    route('b', { parentRefs: toSvc() }, { created: '2026-01-02T00:00:00Z' }),
    route('c', { parentRefs: toSvc() }, { created: '2026-01-01T00:00:00Z' }),
    route('a', { parentRefs: toSvc() }, { created: '2026-01-02T00:00:00Z' }),
    route('other', { parentRefs: [{ kind: 'Service', name: 'api' }] }),
  ];
  assert.deepEqual(routesForService(rs, 'shop', 'web', 80).map((r) => r.name), ['c', 'a', 'b']);
});

test('a rule without matches matches everything; matches keep method, headers and query params', () => {
  assert.deepEqual(serviceRouteOf(route('all', { rules: [{}] })).matches.map(describeMatch), ['* /*']);
  const r = serviceRouteOf(
    route('x', {
      rules: [
        {
          matches: [
            { path: { type: 'Exact', value: '/health' }, method: 'get' },
            { path: { type: 'RegularExpression', value: '/v[0-9]+/.*' }, headers: [{ name: 'x-user', value: 'admin' }], queryParams: [{ type: 'RegularExpression', name: 'page', value: '[0-9]+' }] },
          ],
        },
      ],
    }),
  );
  assert.deepEqual(r.matches.map(describeMatch), ['GET /health', '* ~/v[0-9]+/.* header:x-user=admin query:page~[0-9]+']);
});

test('a request takes the route of highest precedence, whatever the order of routes', () => {
  const table = new RouteTable([
    { name: 'everything', matches: [{ pathType: 'PathPrefix', path: '/', method: '', headers: [], queryParams: [] }] },
    { name: 'orders', matches: [{ pathType: 'PathPrefix', path: '/orders', method: '', headers: [], queryParams: [] }] },
    { name: 'order-writes', matches: [{ pathType: 'PathPrefix', path: '/orders', method: 'POST', headers: [], queryParams: [] }] },
    { name: 'admin-orders', matches: [{ pathType: 'PathPrefix', path: '/orders', method: '', headers: [{ name: 'X-Role', value: 'admin', regex: false }], queryParams: [] }] },
    { name: 'exact-health', matches: [{ pathType: 'Exact', path: '/health', method: '', headers: [], queryParams: [] }] },
    { name: 'versioned', matches: [{ pathType: 'RegularExpression', path: '/v[0-9]+/items', method: '', headers: [], queryParams: [] }] },
    { name: 'paged', matches: [{ pathType: 'PathPrefix', path: '/items', method: '', headers: [], queryParams: [{ name: 'page', value: '[0-9]+', regex: true }] }] },
    { name: 'broken', matches: [{ pathType: 'RegularExpression', path: '(', method: '', headers: [], queryParams: [] }] },
  ]);
  const req = (method: string, target: string, headers: Record<string, string> = {}) => table.routeOf({ method, target, header: (n) => headers[n] });
  const cases: [string, string, Record<string, string>, string | undefined][] = [
    ['GET', '/orders/7', {}, 'orders'],
    ['GET', '/orders', {}, 'orders'],
    ['GET', '/ordersx', {}, 'everything'], // prefixes match whole path elements
    ['POST', '/orders/7', {}, 'order-writes'], // a method beats no method at the same path
    ['GET', '/orders/7', { 'x-role': 'admin' }, 'admin-orders'],
    ['GET', '/health', {}, 'exact-health'],
    ['GET', '/health/deep', {}, 'everything'],
    ['GET', '/v2/items', {}, 'versioned'],
    ['GET', '/v2/items/1', {}, 'everything'], // a regular expression matches the whole path
    ['GET', '/items?page=3', {}, 'paged'],
    ['GET', '/items?page=x', {}, 'everything'],
    ['GET', '/orders/7?x=1', {}, 'orders'],
  ];
  for (const [method, target, headers, want] of cases) assert.equal(req(method, target, headers), want, `${method} ${target}`);
  assert.equal(new RouteTable([{ name: 'orders', matches: [{ pathType: 'PathPrefix', path: '/orders/', method: '', headers: [], queryParams: [] }] }]).routeOf({ method: 'GET', target: '/other', header: () => undefined }), undefined);
});

test('ties at equal precedence go to the older route (the order given)', () => {
  const m = { pathType: 'PathPrefix' as const, path: '/a', method: '', headers: [], queryParams: [] };
  assert.equal(new RouteTable([{ name: 'old', matches: [m] }, { name: 'new', matches: [m] }]).routeOf({ method: 'GET', target: '/a', header: () => undefined }), 'old');
});
