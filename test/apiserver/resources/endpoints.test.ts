// core/v1 Endpoints: served with short name `ep`, its schema and validation reject bad addresses
// and ports with the field named, and its ENDPOINTS column reads like kubectl's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/store/types.js';
import { findByShortName, findResource, resolveResourceName } from '../../../src/apiserver/resources/index.js';
import { endpointsType, formatEndpointsColumn } from '../../../src/apiserver/resources/endpoints.js';
import { admitObject } from '../../../src/apiserver/schema/admit.js';

const ep = (subsets: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'postgres', namespace: 'hybrid-app' }, subsets } as KubeObject);
const addr = (ip: string, extra: Record<string, unknown> = {}) => ({ ip, ...extra });

test('Endpoints is served at /api/v1 as endpoints (ep), namespaced, strategic-merge-patchable', () => {
  assert.equal(findResource('', 'v1', 'endpoints'), endpointsType);
  assert.equal(findByShortName('ep'), endpointsType);
  assert.equal(resolveResourceName('endpoints'), endpointsType);
  assert.equal(resolveResourceName('endpointslices')?.kind, 'EndpointSlice');
  assert.equal(endpointsType.namespaced, true);
  assert.equal(endpointsType.builtin, true);
});

test('valid Endpoints are admitted, with protocol defaulted to TCP', () => {
  const r = admitObject(endpointsType, 'v1', ep([
    {
      addresses: [addr('10.0.100.50', { hostname: 'postgres-primary', targetRef: { kind: 'ExternalWorkload', namespace: 'hybrid-app', name: 'postgres-primary', uid: 'u1' } })],
      notReadyAddresses: [addr('2001:db8::1')],
      ports: [{ name: 'postgres', port: 5432 }],
    },
    { notReadyAddresses: [addr('127.0.0.1')] },
  ]));
  assert.deepEqual(r.causes, []);
  assert.equal((r.object.subsets as { ports: { protocol: string }[] }[])[0].ports[0].protocol, 'TCP');
  assert.deepEqual(admitObject(endpointsType, 'v1', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'empty', namespace: 'default' } }).causes, []);
});

test('bad Endpoints are rejected with the field named', () => {
  const cases: [string, unknown[], string, string][] = [
    ['IP 999.1.1.1', [{ addresses: [addr('999.1.1.1')] }], 'subsets[0].addresses[0].ip', 'FieldValueInvalid'],
    ['unspecified IP', [{ notReadyAddresses: [addr('0.0.0.0')] }], 'subsets[0].notReadyAddresses[0].ip', 'FieldValueInvalid'],
    ['missing ip', [{ addresses: [{ hostname: 'a' }] }], 'subsets[0].addresses[0].ip', 'FieldValueRequired'],
    ['no addresses at all', [{ ports: [{ port: 80 }] }], 'subsets[0]', 'FieldValueRequired'],
    ['port 70000', [{ addresses: [addr('10.0.0.1')], ports: [{ port: 70000 }] }], 'subsets[0].ports[0].port', 'FieldValueInvalid'],
    ['port missing', [{ addresses: [addr('10.0.0.1')], ports: [{ name: 'http' }] }], 'subsets[0].ports[0].port', 'FieldValueRequired'],
    ['port as text', [{ addresses: [addr('10.0.0.1')], ports: [{ port: 'http' }] }], 'subsets[0].ports[0].port', 'FieldValueTypeInvalid'],
    ['duplicate port name', [{ addresses: [addr('10.0.0.1')], ports: [{ name: 'a', port: 1 }, { name: 'a', port: 2 }] }], 'subsets[0].ports[1].name', 'FieldValueDuplicate'],
    ['unnamed port among several', [{ addresses: [addr('10.0.0.1')], ports: [{ name: 'a', port: 1 }, { port: 2 }] }], 'subsets[0].ports[1].name', 'FieldValueRequired'],
    ['protocol HTTP', [{ addresses: [addr('10.0.0.1')], ports: [{ port: 80, protocol: 'HTTP' }] }], 'subsets[0].ports[0].protocol', 'FieldValueNotSupported'],
    ['hostname not a DNS label', [{ addresses: [addr('10.0.0.1', { hostname: 'Bad_Host' })] }], 'subsets[0].addresses[0].hostname', 'FieldValueInvalid'],
  ];
  for (const [what, subsets, field, reason] of cases) {
    const causes = admitObject(endpointsType, 'v1', ep(subsets)).causes;
    assert.ok(causes.some((c) => c.field === field && c.reason === reason), `${what}: ${JSON.stringify(causes)}`);
  }
});

test('the ENDPOINTS column: ip:port per port, bare IPs without ports, 3 shown then "+ N more..."', () => {
  const ports = (...ns: number[]) => ns.map((port, i) => ({ name: `p${i}`, port }));
  const cases: [string, unknown[], string][] = [
    ['no subsets', [], '<none>'],
    ['one ready address', [{ addresses: [addr('10.0.100.50')], ports: ports(5432) }], '10.0.100.50:5432'],
    ['only not-ready addresses', [{ notReadyAddresses: [addr('10.0.100.50')], ports: ports(5432) }], ''],
    ['headless without ports', [{ addresses: [addr('10.0.200.10'), addr('10.0.200.11')] }], '10.0.200.10,10.0.200.11'],
    ['IPv6', [{ addresses: [addr('2001:db8::1')], ports: ports(80) }], '[2001:db8::1]:80'],
    ['two ports, two addresses', [{ addresses: [addr('10.0.0.1'), addr('10.0.0.2')], ports: ports(80, 443) }], '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...'],
    ['two subsets', [{ addresses: [addr('10.0.0.1')], ports: ports(80) }, { addresses: [addr('10.0.0.2'), addr('10.0.0.3'), addr('10.0.0.4'), addr('10.0.0.5')], ports: ports(81) }], '10.0.0.1:80,10.0.0.2:81,10.0.0.3:81 + 2 more...'],
  ];
  for (const [what, subsets, want] of cases) assert.equal(formatEndpointsColumn(subsets), want, what);
  assert.deepEqual(endpointsType.table.cells(ep([{ addresses: [addr('10.0.100.51')], ports: ports(6379) }])), ['10.0.100.51:6379']);
});
