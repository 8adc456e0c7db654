// The SQLite store: CRUD, conflicts within a batch, revisions across reopen, atomic groups, paging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, isStoreError, type SqliteStore } from '../../src/store/sqlite.js';
import type { KubeObject, ResourceRef } from '../../src/store/types.js';

const svc: ResourceRef = { group: '', resource: 'services' };
const ew: ResourceRef = { group: 'workload.linkerd.io', resource: 'externalworkloads' };

function tempStore(t: { after: (fn: () => void) => void }, historySize?: number): { store: SqliteStore; path: string; reopen: () => SqliteStore } {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-store-'));
  const path = join(dir, 'state.db');
  const opened: SqliteStore[] = [];
  const open = () => {
    const s = openSqliteStore(path, { historySize });
    opened.push(s);
    return s;
  };
  t.after(() => {
    for (const s of opened) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store: open(), path, reopen: open };
}

function obj(name: string, namespace = 'default', extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels: { app: name } }, spec: { port: 80 }, ...extra };
}

async function rejectsWith(p: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isStoreError(e) && e.reason === reason);
}

test('create, get, update, delete set increasing resourceVersions', async (t) => {
  const { store } = tempStore(t);
  assert.equal(store.revision(), 0);
  const created = await store.create(svc, obj('a'));
  assert.equal(created.metadata.resourceVersion, '1');
  assert.equal(store.revision(), 1);
  assert.deepEqual(store.get(svc, 'default', 'a')?.spec, { port: 80 });
  assert.equal(store.get(svc, 'other', 'a'), undefined);
  assert.equal(store.get(ew, 'default', 'a'), undefined, 'collections are separate');

  const updated = await store.update(svc, { ...created, spec: { port: 81 } }, 1);
  assert.equal(updated.metadata.resourceVersion, '2');
  assert.deepEqual(store.get(svc, 'default', 'a')?.spec, { port: 81 });

  const deleted = await store.delete(svc, 'default', 'a');
  assert.equal(deleted.metadata.resourceVersion, '3', 'the deleted object carries the deletion revision');
  assert.deepEqual(deleted.spec, { port: 81 });
  assert.equal(store.get(svc, 'default', 'a'), undefined);
  assert.equal(store.revision(), 3);
});

test('AlreadyExists, NotFound and Conflict are decided at once, also within one batch', async (t) => {
  const { store } = tempStore(t);
  const first = store.create(svc, obj('a'));
  const dup = store.create(svc, obj('a'));
  const upd = store.update(svc, obj('a'), 1);
  const stale = store.update(svc, obj('a'), 1);
  const missing = store.delete(svc, 'default', 'zzz');
  const updMissing = store.update(svc, obj('nope'));
  await rejectsWith(dup, 'AlreadyExists');
  await rejectsWith(stale, 'Conflict');
  await rejectsWith(missing, 'NotFound');
  await rejectsWith(updMissing, 'NotFound');
  assert.equal((await first).metadata.resourceVersion, '1');
  assert.equal((await upd).metadata.resourceVersion, '2');
  assert.equal(store.revision(), 2, 'rejected writes consume no revision');
  const del = store.delete(svc, 'default', 'a', 2);
  const recreate = store.create(svc, obj('a'));
  assert.equal((await del).metadata.resourceVersion, '3');
  assert.equal((await recreate).metadata.resourceVersion, '4');
  await assert.rejects(store.create(svc, { metadata: {} }), /metadata.name is required/);
});

test('stored objects are copies and frozen; pending writes are not visible before commit', async (t) => {
  const { store } = tempStore(t);
  const input = obj('a');
  const p = store.create(svc, input);
  assert.equal(store.get(svc, 'default', 'a'), undefined, 'not committed yet');
  const created = await p;
  assert.equal(input.metadata.resourceVersion, undefined, 'the input is not mutated');
  assert.throws(() => {
    (created.metadata as { name: string }).name = 'x';
  }, TypeError);
});

test('revision keeps increasing across close and reopen; objects come back', async (t) => {
  const { store, reopen } = tempStore(t);
  await store.create(svc, obj('a'));
  await store.create(svc, obj('b'));
  await store.delete(svc, 'default', 'b');
  store.close();
  const again = reopen();
  assert.equal(again.revision(), 3, 'a delete bumps the persisted counter too');
  assert.deepEqual(again.list(svc).items.map((o) => o.metadata.name), ['a']);
  const c = await again.create(svc, obj('c'));
  assert.equal(c.metadata.resourceVersion, '4');
  again.compact(0);
  again.close();
  const third = reopen();
  assert.equal(third.revision(), 4);
  assert.equal(third.oldestRevision(), 4, 'compaction mark is persisted');
  assert.equal((await third.create(svc, obj('d'))).metadata.resourceVersion, '5');
});

test('atomic applies all ops or none', async (t) => {
  const { store } = tempStore(t);
  await store.create(svc, obj('owner'));
  await store.create(ew, obj('child1'));
  await store.create(ew, obj('child2'));
  await assert.rejects(
    store.atomic([
      { op: 'delete', ref: ew, namespace: 'default', name: 'child1' },
      { op: 'delete', ref: ew, namespace: 'default', name: 'missing' },
    ]),
    (e: unknown) => isStoreError(e, 'NotFound'),
  );
  assert.ok(store.get(ew, 'default', 'child1'), 'the first op was rolled back');
  const before = store.revision();
  const results = await store.atomic([
    { op: 'delete', ref: ew, namespace: 'default', name: 'child1' },
    { op: 'delete', ref: ew, namespace: 'default', name: 'child2' },
    { op: 'delete', ref: svc, namespace: 'default', name: 'owner' },
    { op: 'create', ref: svc, obj: obj('owner') },
  ]);
  assert.deepEqual(results.map((r) => r.metadata.resourceVersion), [before + 1, before + 2, before + 3, before + 4].map(String));
  assert.equal(store.list(ew).items.length, 0);
  assert.equal(store.get(svc, 'default', 'owner')?.metadata.resourceVersion, String(before + 4));
});

test('list filters by namespace and predicate, sorted by namespace then name', async (t) => {
  const { store } = tempStore(t);
  const names: [string, string][] = [['b', 'x'], ['a-b', 'y'], ['a', 'z'], ['a', 'c'], ['b', 'a']];
  await Promise.all(names.map(([ns, n]) => store.create(svc, obj(n, ns))));
  const all = store.list(svc);
  assert.deepEqual(all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ['a/c', 'a/z', 'a-b/y', 'b/a', 'b/x']);
  assert.equal(all.revision, 5);
  assert.equal(all.continue, undefined);
  assert.deepEqual(store.list(svc, { namespace: 'a' }).items.map((o) => o.metadata.name), ['c', 'z']);
  assert.deepEqual(store.list(svc, { namespace: 'nope' }).items, []);
  assert.deepEqual(
    store.list(svc, { filter: (o) => o.metadata.labels?.app !== 'x' && o.metadata.name !== 'c' }).items.map((o) => o.metadata.name),
    ['z', 'y', 'a'],
  );
  assert.deepEqual(store.list(ew).items, []);
});

test('limit/continue pages are consistent with the first page revision', async (t) => {
  const { store } = tempStore(t);
  for (let i = 0; i < 10; i++) await store.create(svc, obj(`s${i}`));
  const page1 = store.list(svc, { limit: 4 });
  assert.deepEqual(page1.items.map((o) => o.metadata.name), ['s0', 's1', 's2', 's3']);
  assert.ok(page1.continue);
  // Changes after the first page must not show in later pages.
  await store.delete(svc, 'default', 's5');
  await store.update(svc, { ...obj('s6'), spec: { port: 9 } });
  await store.create(svc, obj('s55'));
  const page2 = store.list(svc, { limit: 4, continue: page1.continue });
  assert.equal(page2.revision, page1.revision);
  assert.deepEqual(page2.items.map((o) => o.metadata.name), ['s4', 's5', 's6', 's7']);
  assert.deepEqual(page2.items[2].spec, { port: 80 }, 's6 as it was at the first page');
  const page3 = store.list(svc, { limit: 4, continue: page2.continue });
  assert.deepEqual(page3.items.map((o) => o.metadata.name), ['s8', 's9']);
  assert.equal(page3.continue, undefined);
  // Exactly `limit` matching items left: no continue token.
  const exact = store.list(svc, { limit: 10 });
  assert.equal(exact.continue, undefined);
  // A filter that leaves nothing after the page: no continue.
  const filtered = store.list(svc, { limit: 1, filter: (o) => o.metadata.name === 's1' });
  assert.deepEqual(filtered.items.map((o) => o.metadata.name), ['s1']);
  assert.equal(filtered.continue, undefined);
  assert.throws(() => store.list(svc, { continue: 'garbage' }), /continue key is not valid/);
});

test('a continue token older than the compacted history is Expired', async (t) => {
  const { store } = tempStore(t);
  for (let i = 0; i < 5; i++) await store.create(svc, obj(`s${i}`));
  const page1 = store.list(svc, { limit: 2 });
  await store.create(svc, obj('s9'));
  store.compact(0);
  assert.throws(() => store.list(svc, { limit: 2, continue: page1.continue }), (e: unknown) => isStoreError(e, 'Expired'));
});

test('10,000 objects list well under 100 ms', async (t) => {
  const { store } = tempStore(t);
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < 10_000; i++) writes.push(store.create(ew, obj(`w${String(i).padStart(5, '0')}`, `ns${i % 4}`)));
  await Promise.all(writes);
  store.list(ew); // builds the sorted key index once
  const start = performance.now();
  const all = store.list(ew);
  const ms = performance.now() - start;
  assert.equal(all.items.length, 10_000);
  assert.ok(ms < 100, `list took ${ms.toFixed(1)} ms`);
  assert.equal(store.list(ew, { namespace: 'ns2' }).items.length, 2_500);
});
