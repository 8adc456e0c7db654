// The conformance test's comparison (pure): what a Status is reduced to, where two observations
// differ, and which differences a documented known difference covers (and which it no longer does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { differences, statusView, unexplained, type KnownDifference } from './conformance-compare.js';

test('statusView keeps code, reason, details and causes (sorted, empty field as absent), drops messages', () => {
  const body = {
    kind: 'Status',
    message: 'free text',
    reason: 'Invalid',
    code: 422,
    details: { name: 'x', group: '', kind: 'ConfigMap', causes: [{ field: 'data[b]', reason: 'FieldValueInvalid', message: 'm' }, { field: '', reason: 'ResourceVersionTooLarge' }, { field: 'data[a]', reason: 'FieldValueInvalid' }] },
  };
  assert.deepEqual(statusView(422, body), {
    code: 422,
    kind: 'Status',
    reason: 'Invalid',
    details: { name: 'x', kind: 'ConfigMap', causes: [{ field: 'data[a]', reason: 'FieldValueInvalid' }, { field: 'data[b]', reason: 'FieldValueInvalid' }, { field: undefined, reason: 'ResourceVersionTooLarge' }] },
  });
  assert.deepEqual(statusView(200, { kind: 'ConfigMap', metadata: {} }), { code: 200, kind: 'ConfigMap' });
});

test('differences names every differing leaf by path, arrays by index', () => {
  assert.deepEqual(differences({ a: 1, b: [1, 2], c: { d: 'x' } }, { a: 1, b: [1, 3, 4], c: { d: 'y' }, e: true }), [
    { path: 'b[1]', embedded: 2, kube: 3 },
    { path: 'b[2]', embedded: undefined, kube: 4 },
    { path: 'c.d', embedded: 'x', kube: 'y' },
    { path: 'e', embedded: undefined, kube: true },
  ]);
  assert.deepEqual(differences({ a: [1] }, { a: [1] }), []);
  assert.deepEqual(differences({ a: null }, { a: {} }), [{ path: 'a', embedded: null, kube: {} }]);
});

test('a known difference covers its paths and below, and turns stale when they agree', () => {
  const known: KnownDifference[] = [{ step: 's', paths: ['x.y'], doc: 'Why' }];
  const diffs = differences({ x: { y: { z: 1 } }, w: 1 }, { x: { y: { z: 2 } }, w: 2 });
  assert.deepEqual(unexplained('s', diffs, known), { unknown: [{ path: 'w', embedded: 1, kube: 2 }], stale: [] });
  assert.deepEqual(unexplained('other', diffs, known).unknown.length, 2, 'it covers only its own step');
  assert.deepEqual(unexplained('s', differences({ x: { y: 1 } }, { x: { y: 1 } }), known), { unknown: [], stale: ['x.y'] });
  assert.deepEqual(unexplained('s', differences({ x: { yy: 1 } }, { x: { yy: 2 } }), known).unknown.length, 1, 'x.yy is not under x.y');
});
