// managedFields of writes that are not apply (pure): the writer's Update entry owns what it set or
// changed, other managers lose those fields, removed fields leave every entry, manager names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { managerOf, recordUpdate, type ManagedFieldsEntry } from '../../src/apiserver/patch/update-ownership.js';

const write = (manager: string, now = 't1') => ({ manager, apiVersion: 'v1', now });
const cm = (data: Record<string, string>, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', uid: 'u', resourceVersion: '3', ...(labels ? { labels } : {}) }, data });

test('a create gives its manager every field it set (maps it created marked "."), never identity metadata', () => {
  assert.deepEqual(recordUpdate([], undefined, cm({ a: '1' }, { x: 'y' }), write('node-fetch')), [
    { manager: 'node-fetch', operation: 'Update', apiVersion: 'v1', time: 't1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:a': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } } },
  ]);
});

test('an update takes the fields it changed from their owner, who keeps the map it created and the rest', () => {
  const created = recordUpdate([], undefined, cm({ a: '1', b: '2' }), write('creator'));
  const after = recordUpdate(created, cm({ a: '1', b: '2' }), cm({ a: '1', b: '3', c: '4' }), write('editor', 't2'));
  const by = Object.fromEntries(after.map((e) => [e.manager, e.fieldsV1]));
  assert.deepEqual(by.creator, { 'f:data': { '.': {}, 'f:a': {} } });
  assert.deepEqual(by.editor, { 'f:data': { 'f:b': {}, 'f:c': {} } });
  const removed = recordUpdate(after, cm({ a: '1', b: '3', c: '4' }), cm({ b: '3', c: '4' }), write('editor', 't3'));
  // As kube-apiserver shows it: the owner of the map keeps `f:data: {}` once its key is gone.
  assert.deepEqual(Object.fromEntries(removed.map((e) => [e.manager, e.fieldsV1])).creator, { 'f:data': {} }, 'a removed field leaves its owner');
});

test('a write that changes nothing keeps every entry as it was (no new time, so no new revision)', () => {
  const entries: ManagedFieldsEntry[] = recordUpdate([], undefined, cm({ a: '1' }), write('m', 't1'));
  assert.deepEqual(recordUpdate(entries, cm({ a: '1' }), cm({ a: '1' }), write('m', 't9')), entries);
  assert.deepEqual(recordUpdate(entries, cm({ a: '1' }), cm({ a: '1' }), write('other', 't9')), entries, 'no entry for a manager that changed nothing');
});

test('an Apply entry left without fields goes; the manager is fieldManager, else the User-Agent product, else unknown', () => {
  const applied: ManagedFieldsEntry = { manager: 'dave', operation: 'Apply', apiVersion: 'v1', time: 't0', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:k': {} } } };
  assert.deepEqual(recordUpdate([applied], cm({ k: '1' }), cm({ k: '2' }), write('erin')).map((e) => e.manager), ['erin']);
  assert.equal(managerOf('kubectl-edit', 'kubectl/v1.32.4 (linux/amd64)'), 'kubectl-edit');
  assert.equal(managerOf(undefined, 'kubectl/v1.32.4 (linux/amd64)'), 'kubectl');
  assert.equal(managerOf(undefined, undefined), 'unknown');
});
