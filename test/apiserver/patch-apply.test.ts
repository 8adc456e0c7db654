// Server-side apply approximation: merge the applied config, prune what this manager dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch, fieldSetOf, fieldSetToSkeleton, PatchError } from '../../src/apiserver/patch/index.js';
import { deepFreeze } from '../../src/store/keys.js';

const applied1 = {
  apiVersion: 'workload.linkerd.io/v1beta1',
  kind: 'ExternalWorkload',
  metadata: { name: 'ew7', namespace: 'ns', labels: { app: 'x', tier: 'edge' } },
  spec: { meshTLS: { identity: 'spiffe://a', serverName: 'a.cluster.local' }, workloadIPs: [{ ip: '192.0.2.1' }], ports: [{ port: 80 }] },
};

test('apply creates when nothing is live', () => {
  assert.deepEqual(applyPatch(undefined, applied1), applied1);
});

test('apply merges into live, keeps fields others own, and prunes what this manager dropped', () => {
  const live = deepFreeze({
    ...applied1,
    metadata: { ...applied1.metadata, uid: 'u', resourceVersion: '5', labels: { ...applied1.metadata.labels, other: 'keep' } },
    status: { conditions: [{ type: 'Ready' }] },
  });
  const applied2 = {
    ...applied1,
    metadata: { name: 'ew7', namespace: 'ns', labels: { app: 'y' } },
    spec: { meshTLS: { identity: 'spiffe://a' }, workloadIPs: [{ ip: '192.0.2.9' }] },
  };
  const cases: [string, unknown][] = [
    ['previous applied config', applied1],
    ['field set skeleton', fieldSetToSkeleton(fieldSetOf(applied1))],
  ];
  for (const [name, previous] of cases) {
    const out = applyPatch<typeof live>(live, applied2, previous);
    assert.deepEqual(out.metadata.labels, { app: 'y', other: 'keep' }, name);
    assert.equal(out.metadata.uid, 'u', name);
    assert.deepEqual(out.spec, { meshTLS: { identity: 'spiffe://a' }, workloadIPs: [{ ip: '192.0.2.9' }] }, name);
    assert.deepEqual(out.status, live.status, name);
  }
});

test('without a previous config nothing is pruned (first apply over a client-side-applied object)', () => {
  const live = { ...applied1, spec: { ...applied1.spec, extra: true } };
  const out = applyPatch<typeof live>(live, { ...applied1, spec: { ports: [{ port: 81 }] } });
  assert.equal(out.spec.extra, true);
  assert.deepEqual(out.spec.ports, [{ port: 81 }]);
  assert.deepEqual(out.spec.workloadIPs, applied1.spec.workloadIPs);
});

test('the kubectl-last-applied manager only touches the annotation', () => {
  const lastApplied = {
    apiVersion: applied1.apiVersion,
    kind: applied1.kind,
    metadata: { name: 'ew7', namespace: 'ns', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}' } },
  };
  const out = applyPatch<typeof applied1 & { metadata: { annotations: Record<string, string> } }>(applied1, lastApplied, lastApplied);
  assert.deepEqual(out.spec, applied1.spec);
  assert.deepEqual(out.metadata.annotations, lastApplied.metadata.annotations);
});

test('field sets look like Kubernetes FieldsV1 and skip identity fields', () => {
  assert.deepEqual(fieldSetOf(applied1), {
    'f:metadata': { '.': {}, 'f:labels': { '.': {}, 'f:app': {}, 'f:tier': {} } },
    'f:spec': {
      '.': {},
      'f:meshTLS': { '.': {}, 'f:identity': {}, 'f:serverName': {} },
      'f:workloadIPs': {},
      'f:ports': {},
    },
  });
  assert.throws(() => applyPatch({}, ['x']), PatchError);
});
