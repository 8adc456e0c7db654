// Watches: @kubernetes/client-node informers (add/update/delete), and the raw stream: immediate
// headers, replay from a resourceVersion, synthetic ADDED, selector transitions, bookmarks,
// 410 after compaction, timeoutSeconds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { CoreV1Api, CustomObjectsApi, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { startTestApi, type TestApi } from './harness.js';
import { waitFor } from '../../support/wait.js';
import { FakeClock } from '../../../src/core/clock.js';
import { BOOKMARK_INTERVAL_MS } from '../../../src/apiserver/watch/watch.js';

let api: TestApi;
let kc: KubeConfig;
const GROUP = 'workload.linkerd.io';
const EW = '/apis/workload.linkerd.io/v1beta1/namespaces/watch/externalworkloads';
const ew = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'workload.linkerd.io/v1beta1',
  kind: 'ExternalWorkload',
  metadata: { name, labels },
  spec: { meshTLS: { identity: `spiffe://cluster.local/${name}`, serverName: `${name}.watch.svc.cluster.local` }, workloadIPs: [{ ip: '192.0.2.20' }] },
});

before(async () => {
  api = await startTestApi();
  kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfig);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'watch' } } });
});
after(async () => {
  await api?.stop();
});

test('client-node informer sees add, update and delete', async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1beta1', namespace: 'watch', plural: 'externalworkloads', body: ew('before') });
  const informer = makeInformer<KubernetesObject>(kc, EW, () =>
    custom.listNamespacedCustomObject({ group: GROUP, version: 'v1beta1', namespace: 'watch', plural: 'externalworkloads' }),
  );
  const events: string[] = [];
  informer.on('add', (o) => events.push(`add ${o.metadata?.name}`));
  informer.on('update', (o) => events.push(`update ${o.metadata?.name} ${o.metadata?.labels?.v ?? ''}`));
  informer.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
  informer.on('error', () => {});
  await informer.start();
  try {
    await waitFor('initial add', () => events.includes('add before'));
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1beta1', namespace: 'watch', plural: 'externalworkloads', body: ew('live') });
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: 'v1beta1', namespace: 'watch', plural: 'externalworkloads', name: 'live', body: { metadata: { labels: { v: '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1beta1', namespace: 'watch', plural: 'externalworkloads', name: 'live' });
    await waitFor('delete event', () => events.includes('delete live'));
    assert.deepEqual(events, ['add before', 'add live', 'update live 2', 'delete live']);
    assert.equal(informer.list().length, 1);
  } finally {
    await informer.stop();
  }
});

/** Opens a raw watch; resolves once headers arrive. */
function openWatch(query: string): Promise<{ status: number; events: any[]; ended: Promise<void>; close(): void }> {
  const u = new URL(`${api.url}${EW}?watch=true&${query}`);
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, ca: api.material.apiCaPem, headers: { Authorization: `Bearer ${api.material.adminToken}` } }, (res) => {
      let buf = '';
      const ended = new Promise<void>((r) => res.on('close', r));
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buf += d;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          events.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
      });
      resolve({ status: res.statusCode ?? 0, events, ended, close: () => req.destroy() });
    });
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
    req.end();
  });
}

test('raw watch: replay from RV, synthetic ADDED, selector transitions, timeoutSeconds', async () => {
  const a = await api.call('POST', EW, { body: ew('w1', { sel: 'yes' }) });
  const rv = a.json.metadata.resourceVersion;
  await api.call('POST', EW, { body: ew('w2', { sel: 'yes' }) });

  const replay = await openWatch(`resourceVersion=${rv}`);
  assert.equal(replay.status, 200);
  await waitFor('replayed event', () => replay.events.length >= 1);
  assert.deepEqual(replay.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w2']);
  replay.close();

  const fresh = await openWatch('labelSelector=sel%3Dyes');
  await waitFor('synthetic ADDED', () => fresh.events.length >= 2);
  assert.deepEqual(fresh.events.map((e) => `${e.type} ${e.object.metadata.name}`).sort(), ['ADDED w1', 'ADDED w2']);
  await api.call('PATCH', `${EW}/w1`, { raw: '{"metadata":{"labels":{"sel":"no"}}}', contentType: 'application/merge-patch+json' });
  await waitFor('DELETED on leaving the selector', () => fresh.events.length >= 3);
  assert.equal(fresh.events[2].type, 'DELETED');
  assert.equal(fresh.events[2].object.metadata.name, 'w1');
  await api.call('PATCH', `${EW}/w1`, { raw: '{"metadata":{"labels":{"sel":"yes"}}}', contentType: 'application/merge-patch+json' });
  await waitFor('ADDED on entering the selector', () => fresh.events.length >= 4);
  assert.equal(fresh.events[3].type, 'ADDED');
  fresh.close();

  const start = Date.now();
  const short = await openWatch('timeoutSeconds=1');
  await short.ended;
  assert.ok(Date.now() - start < 3000, 'the stream ends after timeoutSeconds');
});

test('raw watch: ERROR 410 Expired after compaction', async () => {
  for (let i = 0; i < 5; i++) await api.call('PATCH', `${EW}/w2`, { raw: JSON.stringify({ metadata: { labels: { i: String(i) } } }), contentType: 'application/merge-patch+json' });
  api.store.compact(2);
  const old = await openWatch('resourceVersion=1');
  await old.ended;
  assert.equal(old.events.length, 1);
  assert.equal(old.events[0].type, 'ERROR');
  assert.equal(old.events[0].object.code, 410);
  assert.equal(old.events[0].object.reason, 'Expired');
});

test('bookmarks carry apiVersion and kind (fake clock)', async () => {
  const clock = new FakeClock(Date.now());
  const other = await startTestApi({ clock });
  try {
    const events: any[] = [];
    const u = new URL(`${other.url}/api/v1/namespaces/default/serviceaccounts?watch=1&allowWatchBookmarks=true&resourceVersion=0`);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, ca: other.material.apiCaPem, headers: { Authorization: `Bearer ${other.material.adminToken}` } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => d.split('\n').filter(Boolean).forEach((l) => events.push(JSON.parse(l))));
    });
    req.on('error', () => {});
    req.end();
    await waitFor('the default ServiceAccount', () => events.length === 1);
    clock.advance(BOOKMARK_INTERVAL_MS);
    await waitFor('a bookmark', () => events.length === 2);
    assert.deepEqual(events[1], { type: 'BOOKMARK', object: { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { resourceVersion: String(other.store.revision()) } } });
    req.destroy();
  } finally {
    await other.stop();
  }
});
