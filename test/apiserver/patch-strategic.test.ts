// Strategic merge patch: the bodies kubectl sends for built-ins (wire spec §5.1, §5.5) and each directive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strategicMergePatch, PatchError } from '../../src/apiserver/patch/index.js';
import { deepFreeze } from '../../src/store/keys.js';

const mergeKeys = { 'spec.ports': 'port', 'status.conditions': 'type', secrets: 'name' };
const smp = (original: unknown, patch: unknown) => strategicMergePatch(deepFreeze(original), patch, { mergeKeys });

const service = {
  metadata: { name: 's', annotations: { a: '1' }, finalizers: ['x/one'], ownerReferences: [{ uid: 'u1', name: 'o1', kind: 'K', apiVersion: 'v1' }] },
  spec: {
    type: 'ClusterIP',
    clusterIP: '10.0.0.1',
    selector: { app: 'old', tier: 'web' },
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
      { name: 'admin', port: 9990, protocol: 'TCP', targetPort: 9990 },
    ],
    externalIPs: ['192.0.2.1', '192.0.2.2'],
  },
};

test('kubectl apply on a Service: keyed ports merge, maps merge, server fields stay', () => {
  const out = smp(service, {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    spec: { '$setElementOrder/ports': [{ port: 80 }, { port: 9990 }], ports: [{ port: 80, targetPort: 9090 }], selector: { app: 'new' } },
  }) as typeof service;
  assert.deepEqual(out.spec.ports, [
    { name: 'http', port: 80, protocol: 'TCP', targetPort: 9090 },
    { name: 'admin', port: 9990, protocol: 'TCP', targetPort: 9990 },
  ]);
  assert.deepEqual(out.spec.selector, { app: 'new', tier: 'web' });
  assert.equal(out.spec.clusterIP, '10.0.0.1');
  assert.deepEqual(out.metadata.annotations, { a: '1', 'kubectl.kubernetes.io/last-applied-configuration': '{}' });
});

test('kubectl edit on a Service: $patch delete removes a port, a new port is added, order follows $setElementOrder', () => {
  const out = smp(service, {
    spec: {
      '$setElementOrder/ports': [{ port: 81 }, { port: 9990 }],
      ports: [{ name: 'http', port: 81, protocol: 'TCP', targetPort: 8080 }, { $patch: 'delete', port: 80 }],
    },
  }) as typeof service;
  assert.deepEqual(out.spec.ports.map((p) => p.port), [81, 9990]);
  assert.deepEqual(out.spec.ports[0], { name: 'http', port: 81, protocol: 'TCP', targetPort: 8080 });
});

test('directive and list table', () => {
  const cases: [string, unknown, unknown, unknown][] = [
    ['null deletes a key', { a: 1, b: 2 }, { a: null }, { b: 2 }],
    ['atomic lists are replaced', { spec: { externalIPs: ['1', '2'] } }, { spec: { externalIPs: ['3'] } }, { spec: { externalIPs: ['3'] } }],
    ['finalizers merge as a set', { metadata: { finalizers: ['a', 'b'] } }, { metadata: { finalizers: ['b', 'c'] } }, { metadata: { finalizers: ['a', 'b', 'c'] } }],
    [
      '$deleteFromPrimitiveList removes values',
      { metadata: { finalizers: ['a', 'b', 'c'] } },
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] } },
      { metadata: { finalizers: ['a', 'c'] } },
    ],
    [
      '$setElementOrder on a primitive list',
      { metadata: { finalizers: ['a', 'b'] } },
      { metadata: { '$setElementOrder/finalizers': ['c', 'b', 'a'], finalizers: ['c'] } },
      { metadata: { finalizers: ['c', 'b', 'a'] } },
    ],
    ['$patch replace on a map', { spec: { selector: { a: '1', b: '2' } } }, { spec: { selector: { $patch: 'replace', c: '3' } } }, { spec: { selector: { c: '3' } } }],
    ['$patch delete on a map', { spec: { selector: { a: '1' }, type: 'X' } }, { spec: { selector: { $patch: 'delete' } } }, { spec: { type: 'X' } }],
    [
      '$patch replace on a keyed list',
      { spec: { ports: [{ port: 1 }, { port: 2 }] } },
      { spec: { ports: [{ port: 3 }, { $patch: 'replace' }] } },
      { spec: { ports: [{ port: 3 }] } },
    ],
    [
      '$retainKeys drops keys not listed',
      { spec: { strategy: { type: 'Recreate', rollingUpdate: { max: 1 } } } },
      { spec: { strategy: { $retainKeys: ['type'], type: 'RollingUpdate' } } },
      { spec: { strategy: { type: 'RollingUpdate' } } },
    ],
    [
      'ownerReferences merge by uid',
      { metadata: { ownerReferences: [{ uid: 'u1', name: 'a' }] } },
      { metadata: { ownerReferences: [{ uid: 'u2', name: 'b' }, { uid: 'u1', name: 'a2' }] } },
      { metadata: { ownerReferences: [{ uid: 'u2', name: 'b' }, { uid: 'u1', name: 'a2' }] } }, // patch order, as kube-apiserver orders a merged list
    ],
    [
      'status conditions merge by type',
      { status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Other', status: 'True' }] } },
      { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Other', status: 'True' }] } },
    ],
    ['ServiceAccount secrets merge by name', { secrets: [{ name: 's1' }] }, { secrets: [{ name: 's2' }] }, { secrets: [{ name: 's2' }, { name: 's1' }] }], // kube-apiserver puts a new patch item first
    ['a new keyed list is created, directives stripped', {}, { spec: { ports: [{ port: 5, $patch: 'merge' }] } }, { spec: { ports: [{ port: 5 }] } }],
    ['$setElementOrder alone reorders', { spec: { ports: [{ port: 1 }, { port: 2 }] } }, { spec: { '$setElementOrder/ports': [{ port: 2 }, { port: 1 }] } }, { spec: { ports: [{ port: 2 }, { port: 1 }] } }],
    ['a root $patch replace replaces everything', { a: 1, b: 2 }, { $patch: 'replace', c: 3 }, { c: 3 }],
  ];
  for (const [name, original, patch, expected] of cases) assert.deepEqual(smp(original, patch), expected, name);
});

test('malformed strategic patches are BadRequest; retainKeys mismatch is Invalid', () => {
  const bad: [unknown, unknown, string][] = [
    [{}, [1], 'BadRequest'],
    [{ spec: { ports: [{ port: 1 }] } }, { spec: { ports: [{ name: 'no-key' }] } }, 'BadRequest'],
    [{}, { spec: { $patch: 'frobnicate' } }, 'BadRequest'],
    [{}, { spec: { $retainKeys: 'type' } }, 'BadRequest'],
    [{}, { spec: { $retainKeys: ['type'], other: 1 } }, 'Invalid'],
    [{}, { metadata: { finalizers: [{ a: 1 }] } }, 'BadRequest'],
  ];
  for (const [original, patch, reason] of bad) {
    assert.throws(() => smp(original, patch), (e: unknown) => e instanceof PatchError && e.reason === reason, JSON.stringify(patch));
  }
  assert.throws(() => smp({}, { spec: { ports: [{ name: 'x' }] } }), /does not contain declared merge key: port/);
});
