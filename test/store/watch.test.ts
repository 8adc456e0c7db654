// Store watches: live delivery in revision order, replay then live with no gap or duplicate,
// namespace filtering, Expired after compaction, automatic bounded history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, isStoreError, type SqliteStore } from '../../src/store/sqlite.js';
import type { KubeObject, ResourceRef, StoreEvent } from '../../src/store/types.js';

const ref: ResourceRef = { group: 'coordination.k8s.io', resource: 'leases' };
const other: ResourceRef = { group: '', resource: 'configmaps' };

function tempStore(t: { after: (fn: () => void) => void }, historySize?: number): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-watch-'));
  const store = openSqliteStore(join(dir, 'state.db'), { historySize });
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

const lease = (name: string, namespace = 'ns', holder = 'a'): KubeObject => ({ metadata: { name, namespace }, spec: { holder } });
const summary = (e: StoreEvent) => `${e.type} ${e.namespace}/${e.name} @${e.revision}`;

test('live events arrive after commit, in revision order, with previous state', async (t) => {
  const store = tempStore(t);
  const seen: StoreEvent[] = [];
  store.watch(ref, {}, (e) => seen.push(e));
  const p1 = store.create(ref, lease('l1'));
  const p2 = store.create(ref, lease('l2', 'other'));
  await store.create(other, lease('cm'));
  assert.equal(seen.length, 2);
  await Promise.all([p1, p2]);
  await store.update(ref, lease('l1', 'ns', 'b'));
  await store.delete(ref, 'ns', 'l1');
  assert.deepEqual(seen.map(summary), ['ADDED ns/l1 @1', 'ADDED other/l2 @2', 'MODIFIED ns/l1 @4', 'DELETED ns/l1 @5']);
  assert.deepEqual(seen[2].previous?.spec, { holder: 'a' });
  assert.deepEqual(seen[2].object.spec, { holder: 'b' });
  assert.equal(seen[3].object.metadata.resourceVersion, '5');
  assert.equal(seen[3].previous?.metadata.resourceVersion, '4');
});

test('namespace filter and close', async (t) => {
  const store = tempStore(t);
  const seen: string[] = [];
  const h = store.watch(ref, { namespace: 'ns' }, (e) => seen.push(summary(e)));
  await Promise.all([store.create(ref, lease('a')), store.create(ref, lease('b', 'elsewhere'))]);
  h.close();
  await store.create(ref, lease('c'));
  assert.deepEqual(seen, ['ADDED ns/a @1']);
});

test('replay from a revision, then live, with no gap and no duplicate', async (t) => {
  const store = tempStore(t);
  for (let i = 0; i < 5; i++) await store.create(ref, lease(`l${i}`));
  await store.create(ref, lease('x', 'ns2'));
  const seen: number[] = [];
  const nsSeen: string[] = [];
  // Writes pending in the same tick as the watch call must arrive live, exactly once.
  const pending = store.create(ref, lease('late'));
  store.watch(ref, { fromRevision: 2 }, (e) => seen.push(e.revision));
  store.watch(ref, { fromRevision: 2, namespace: 'ns2' }, (e) => nsSeen.push(summary(e)));
  assert.deepEqual(seen, [3, 4, 5, 6], 'replay is delivered before watch returns');
  await pending;
  await store.update(ref, lease('l0', 'ns', 'z'));
  assert.deepEqual(seen, [3, 4, 5, 6, 7, 8]);
  assert.deepEqual(nsSeen, ['ADDED ns2/x @6']);
});

test('a watch opened by a listener during delivery gets no duplicate', async (t) => {
  const store = tempStore(t);
  const inner: number[] = [];
  const h = store.watch(ref, {}, (e) => {
    if (e.revision === 1) store.watch(ref, { fromRevision: 0 }, (e2) => inner.push(e2.revision));
  });
  await Promise.all([store.create(ref, lease('a')), store.create(ref, lease('b')), store.create(ref, lease('c'))]);
  h.close();
  await store.create(ref, lease('d'));
  assert.deepEqual(inner, [1, 2, 3, 4]);
});

test('a throwing listener does not stop the others', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-watch-'));
  const errors: unknown[] = [];
  const store = openSqliteStore(join(dir, 'state.db'), { onListenerError: (e) => errors.push(e) });
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const seen: number[] = [];
  store.watch(ref, {}, () => {
    throw new Error('boom');
  });
  store.watch(ref, {}, (e) => seen.push(e.revision));
  await store.create(ref, lease('a'));
  assert.deepEqual(seen, [1]);
  assert.equal(errors.length, 1);
});

test('watch from before the compacted history is Expired with the oldest revision', async (t) => {
  const store = tempStore(t);
  for (let i = 0; i < 10; i++) await store.create(ref, lease(`l${i}`));
  store.compact(4);
  assert.equal(store.oldestRevision(), 6);
  assert.throws(
    () => store.watch(ref, { fromRevision: 3 }, () => {}),
    (e: unknown) => isStoreError(e, 'Expired') && e.oldestRevision === 6 && /too old resource version: 3 \(6\)/.test(e.message),
  );
  const seen: number[] = [];
  store.watch(ref, { fromRevision: 6 }, (e) => seen.push(e.revision));
  assert.deepEqual(seen, [7, 8, 9, 10]);
});

test('history is bounded: old events are compacted automatically', async (t) => {
  const store = tempStore(t, 50);
  for (let batch = 0; batch < 4; batch++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.create(ref, lease(`l${batch}-${i}`))));
  }
  assert.equal(store.revision(), 400);
  assert.ok(store.oldestRevision() >= 300, `oldest ${store.oldestRevision()}`);
  assert.throws(() => store.watch(ref, { fromRevision: 1 }, () => {}), (e: unknown) => isStoreError(e, 'Expired'));
  const seen: number[] = [];
  store.watch(ref, { fromRevision: store.oldestRevision() }, (e) => seen.push(e.revision));
  assert.equal(seen.length, 400 - store.oldestRevision());
  assert.equal(store.list(ref).items.length, 400, 'compaction drops history, never objects');
});

test('a listener may write (the write commits in a later batch) and may close the store', async (t) => {
  const store = tempStore(t);
  const seen: string[] = [];
  store.watch(ref, {}, (e) => {
    seen.push(summary(e));
    if (e.name === 'a') void store.create(ref, lease('echo-of-a'));
  });
  await store.create(ref, lease('a'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['ADDED ns/a @1', 'ADDED ns/echo-of-a @2']);

  const dir = mkdtempSync(join(tmpdir(), 'outpost-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const other = openSqliteStore(join(dir, 'state.db'), { historySize: 1 });
  other.watch(ref, {}, () => other.close());
  // 120 events in one batch would trigger automatic compaction, which must not touch the closed database.
  const results = await Promise.allSettled(Array.from({ length: 120 }, (_, i) => other.create(ref, lease(`x${i}`))));
  assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['fulfilled']));
  await assert.rejects(other.create(ref, lease('after-close')), /closed/);
});
