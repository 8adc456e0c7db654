// Field ownership between server-side apply managers (pure): conflicts only where values differ,
// paths that keep dotted keys whole, and taking fields over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConflicts, fieldSetOfPaths, withoutFields } from '../../src/apiserver/patch/field-ownership.js';
import { fieldSetOf } from '../../src/apiserver/patch/apply.js';

const live = { metadata: { labels: { 'app.kubernetes.io/name': 'web', tier: 'front' } }, spec: { replicas: 3, ports: [{ port: 80 }] } };
const a = fieldSetOf({ metadata: { labels: { 'app.kubernetes.io/name': 'web', tier: 'front' } }, spec: { replicas: 3, ports: [{ port: 80 }] } });

test('a conflict is a field both own that the apply changes; equal values are shared', () => {
  const cases: [unknown, string[]][] = [
    [{ spec: { replicas: 3 } }, []],
    [{ spec: { replicas: 5 } }, ['.spec.replicas']],
    [{ spec: { ports: [{ port: 81 }] } }, ['.spec.ports']], // lists are atomic
    [{ metadata: { labels: { 'app.kubernetes.io/name': 'api' } } }, ['.metadata.labels.app.kubernetes.io/name']],
    [{ metadata: { labels: { other: 'x' } } }, []],
  ];
  for (const [applied, want] of cases) {
    const got = applyConflicts(live, applied, fieldSetOf(applied), [{ manager: 'a', fieldsV1: a }]);
    assert.deepEqual(got.map((c) => c.field), want, JSON.stringify(applied));
    assert.ok(got.every((c) => c.manager === 'a'));
  }
  const [c] = applyConflicts(live, { metadata: { labels: { 'app.kubernetes.io/name': 'api' } } }, fieldSetOf({ metadata: { labels: { 'app.kubernetes.io/name': 'api' } } }), [{ manager: 'a', fieldsV1: a }]);
  assert.deepEqual(c.path, ['metadata', 'labels', 'app.kubernetes.io/name'], 'a dotted key stays one path element');
});

test('taking fields over removes them (and maps left empty) from the previous owner', () => {
  const left = withoutFields(a, fieldSetOfPaths([['spec', 'replicas'], ['metadata', 'labels', 'app.kubernetes.io/name']]));
  assert.deepEqual(left, { 'f:metadata': { '.': {}, 'f:labels': { '.': {}, 'f:tier': {} } }, 'f:spec': { '.': {}, 'f:ports': {} } });
  assert.equal(withoutFields(fieldSetOf({ spec: { replicas: 1 } }), fieldSetOf({ spec: { replicas: 2 } })), undefined, 'nothing left');
});
