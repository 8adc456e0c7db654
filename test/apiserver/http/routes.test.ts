// Table tests for the pure parts of the HTTP layer: path routing and watch event filtering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoute } from '../../../src/apiserver/server/routes.js';
import { filteredEventType } from '../../../src/apiserver/watch/watch.js';
import type { KubeObject } from '../../../src/store/types.js';

test('parseRoute: table', () => {
  const cases: [string, unknown][] = [
    ['/version', { kind: 'version' }],
    ['/livez', { kind: 'health', check: 'livez' }],
    ['/readyz/ping', { kind: 'health', check: 'readyz' }],
    ['/api', { kind: 'discoveryRoot', root: 'api' }],
    ['/apis', { kind: 'discoveryRoot', root: 'apis' }],
    ['/apis/workload.linkerd.io', { kind: 'discoveryGroup', group: 'workload.linkerd.io' }],
    ['/api/v1', { kind: 'discoveryGroupVersion', group: '', version: 'v1' }],
    ['/apis/policy.linkerd.io/v1beta3', { kind: 'discoveryGroupVersion', group: 'policy.linkerd.io', version: 'v1beta3' }],
    ['/openapi/v3', { kind: 'openapiV3Index' }],
    ['/openapi/v3/api/v1', { kind: 'openapiV3GroupVersion', group: '', version: 'v1' }],
    ['/openapi/v3/apis/workload.linkerd.io/v1beta1', { kind: 'openapiV3GroupVersion', group: 'workload.linkerd.io', version: 'v1beta1' }],
    ['/openapi/v2', { kind: 'openapiV2' }],
    ['/api/v1/namespaces', { kind: 'resource', target: { group: '', version: 'v1', plural: 'namespaces' } }],
    ['/api/v1/namespaces/ns1', { kind: 'resource', target: { group: '', version: 'v1', plural: 'namespaces', name: 'ns1' } }],
    ['/api/v1/namespaces/ns1/status', { kind: 'resource', target: { group: '', version: 'v1', plural: 'namespaces', name: 'ns1', subresource: 'status' } }],
    ['/api/v1/namespaces/ns1/services', { kind: 'resource', target: { group: '', version: 'v1', namespace: 'ns1', plural: 'services', name: undefined, subresource: undefined } }],
    ['/api/v1/namespaces/ns1/serviceaccounts/sa/token', { kind: 'resource', target: { group: '', version: 'v1', namespace: 'ns1', plural: 'serviceaccounts', name: 'sa', subresource: 'token' } }],
    ['/api/v1/services', { kind: 'resource', target: { group: '', version: 'v1', plural: 'services', name: undefined, subresource: undefined } }],
    ['/apis/workload.linkerd.io/v1beta1/externalworkloads', { kind: 'resource', target: { group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads', name: undefined, subresource: undefined } }],
    ['/apis/workload.linkerd.io/v1beta1/namespaces/p/externalworkloads/e%2Fx/status', { kind: 'resource', target: { group: 'workload.linkerd.io', version: 'v1beta1', namespace: 'p', plural: 'externalworkloads', name: 'e/x', subresource: 'status' } }],
    ['/apis/g/v/namespaces/p/r/n/s/extra', { kind: 'unknown' }],
    ['/api/v1/namespaces/%E0%A4%A', { kind: 'unknown' }],
    ['/metrics', { kind: 'unknown' }],
  ];
  for (const [path, want] of cases) assert.deepEqual(parseRoute(path), want, path);
});

test('filteredEventType: selector transitions become ADDED/DELETED', () => {
  const obj = (sel: string): KubeObject => ({ metadata: { name: 'x', labels: { sel } } });
  const matches = (o: KubeObject) => o.metadata.labels?.sel === 'yes';
  const cases: [string, KubeObject, KubeObject | undefined, string | undefined][] = [
    ['ADDED', obj('yes'), undefined, 'ADDED'],
    ['ADDED', obj('no'), undefined, undefined],
    ['MODIFIED', obj('yes'), obj('yes'), 'MODIFIED'],
    ['MODIFIED', obj('yes'), obj('no'), 'ADDED'],
    ['MODIFIED', obj('no'), obj('yes'), 'DELETED'],
    ['MODIFIED', obj('no'), obj('no'), undefined],
    ['DELETED', obj('yes'), obj('yes'), 'DELETED'],
    ['DELETED', obj('no'), obj('no'), undefined],
  ];
  for (const [type, object, previous, want] of cases) {
    assert.equal(filteredEventType({ type: type as 'ADDED', object, previous }, matches), want, `${type} ${object.metadata.labels?.sel} <- ${previous?.metadata.labels?.sel}`);
  }
});
