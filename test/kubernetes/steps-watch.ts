// Conformance steps on watches: client-node's Watch from a list's resourceVersion (ADDED,
// MODIFIED, DELETED), a label-selected watch seeing objects enter and leave the selection, a watch
// of one object by field selector, and the ERROR 410 Expired a watch from a forgotten version gets.
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import type { ApiTarget } from './api-target.js';
import { waitFor } from '../support/wait.js';
import { NS, type Step } from './conformance-steps.js';
import { statusView } from './conformance-compare.js';

const core = (t: ApiTarget) => t.kc.makeApiClient(CoreV1Api);
const CMS = `/api/v1/namespaces/${NS}/configmaps`;
// Leases: the bench's kube-apiserver has no watch cache for them, so etcd compaction shows at once.
const LEASES = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;
const merge = (t: ApiTarget, name: string, body: unknown) => t.call('PATCH', `${CMS}/${name}`, { body, contentType: 'application/merge-patch+json' });
const line = (e: any) => `${e.type} ${e.object?.metadata?.name ?? ''}${e.object?.metadata?.labels?.w ? ` w=${e.object.metadata.labels.w}` : ''}`;

export const watchSteps: Step[] = [
  {
    name: 'watch (client-node Watch) from a list resourceVersion: ADDED, MODIFIED, DELETED',
    run: async (t) => {
      const list = await core(t).listNamespacedConfigMap({ namespace: NS, labelSelector: 'watched=yes' });
      const events: string[] = [];
      const kinds = new Set<string>();
      const controller = await new Watch(t.kc).watch(CMS, { resourceVersion: list.metadata!.resourceVersion, labelSelector: 'watched=yes' }, (type, obj) => {
        events.push(`${type} ${obj.metadata?.name}`);
        kinds.add(`${obj.apiVersion}/${obj.kind}`);
      }, () => {});
      try {
        await t.call('POST', CMS, { body: { metadata: { name: 'w1', labels: { watched: 'yes' } } } });
        await merge(t, 'w1', { data: { changed: 'yes' } });
        await t.call('DELETE', `${CMS}/w1`);
        await waitFor(`${t.name}: three watch events`, () => events.length >= 3, 10_000);
      } finally {
        controller.abort();
      }
      return { events, kinds: [...kinds] };
    },
    expect: { events: ['ADDED w1', 'MODIFIED w1', 'DELETED w1'], kinds: ['v1/ConfigMap'] },
  },
  {
    name: 'watch with a label selector: objects entering it are ADDED, leaving it DELETED (last matching state)',
    run: async (t) => {
      await t.call('POST', CMS, { body: { metadata: { name: 'w2', labels: { w: 'in' } } } });
      const watch = await t.watch(`${CMS}?watch=true&labelSelector=w%3Din`);
      try {
        await waitFor(`${t.name}: the initial ADDED`, () => watch.events.length >= 1, 10_000);
        await merge(t, 'w2', { metadata: { labels: { w: 'out' } } });
        await merge(t, 'w2', { metadata: { labels: { w: 'in' } } });
        await merge(t, 'w2', { data: { x: '1' } });
        await waitFor(`${t.name}: four events`, () => watch.events.length >= 4, 10_000);
      } finally {
        watch.close();
      }
      return { status: watch.status, events: watch.events.map(line) };
    },
    expect: { status: 200, events: ['ADDED w2 w=in', 'DELETED w2 w=in', 'ADDED w2 w=in', 'MODIFIED w2 w=in'] },
  },
  {
    name: 'watch of one object by metadata.name field selector, with a timeout the server ends',
    run: async (t) => {
      const started = Date.now();
      const watch = await t.watch(`${CMS}?watch=true&fieldSelector=metadata.name%3Dw2&timeoutSeconds=2`);
      await merge(t, 'w2', { data: { x: '2' } });
      await t.call('POST', CMS, { body: { metadata: { name: 'w3' } } });
      await watch.ended;
      return { status: watch.status, events: watch.events.map(line), endedByServer: Date.now() - started < 8000 };
    },
    expect: { status: 200, events: ['ADDED w2 w=in', 'MODIFIED w2 w=in'], endedByServer: true },
  },
  {
    name: 'watch with sendInitialEvents (streaming list): the objects, then a bookmark marking their end',
    run: async (t) => {
      const watch = await t.watch(`${CMS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&labelSelector=w%3Din`);
      await Promise.race([watch.ended, waitFor(`${t.name}: the initial-events-end bookmark`, () => watch.events.some((e) => e.type === 'BOOKMARK'), 10_000)]).catch(() => {});
      watch.close();
      const noMatch = await t.call('GET', `${CMS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true`);
      return {
        noMatch: statusView(noMatch.status, noMatch.json),
        status: watch.status,
        events: watch.events.map((e) => (e.type === 'BOOKMARK' ? `BOOKMARK ${e.object?.metadata?.annotations?.['k8s.io/initial-events-end'] ?? ''}` : e.type === 'ERROR' ? `ERROR ${e.object?.code}` : line(e))),
      };
    },
    expect: { status: 200, events: ['ADDED w2 w=in', 'BOOKMARK true'], noMatch: { code: 422, reason: 'Invalid' } },
  },
  {
    name: 'watch and exact list from a compacted resourceVersion: 410 Expired',
    run: async (t) => {
      const created = await t.call('POST', LEASES, { body: { metadata: { name: 'expiring' }, spec: { holderIdentity: 'a' } } });
      const old = created.json.metadata.resourceVersion;
      await t.call('PATCH', `${LEASES}/expiring`, { body: { spec: { holderIdentity: 'b' } }, contentType: 'application/merge-patch+json' });
      await t.call('PATCH', `${LEASES}/expiring`, { body: { spec: { holderIdentity: 'c' } }, contentType: 'application/merge-patch+json' });
      await t.expireWatchHistory();
      const watch = await t.watch(`${LEASES}?watch=true&resourceVersion=${old}`);
      await Promise.race([watch.ended, waitFor(`${t.name}: the ERROR event`, () => watch.events.length >= 1, 10_000)]);
      watch.close();
      const list = await t.call('GET', `${LEASES}?resourceVersion=${old}&resourceVersionMatch=Exact`);
      return { status: watch.status, events: watch.events.map((e) => ({ type: e.type, object: statusView(e.object?.code, e.object) })), exactList: statusView(list.status, list.json) };
    },
    expect: { status: 200, events: [{ type: 'ERROR', object: { code: 410, kind: 'Status', reason: 'Expired' } }], exactList: { code: 410, reason: 'Expired' } },
  },
  {
    name: 'list with resourceVersion and resourceVersionMatch=NotOlderThan of a version not reached yet',
    run: async (t) => {
      const now = await t.call('GET', CMS);
      const future = String(Number(now.json.metadata.resourceVersion) + 1000);
      // A kube-apiserver waits up to its request timeout for that version, then answers 504; both bounded here.
      const r = await t.call('GET', `${CMS}?resourceVersion=${future}&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`);
      return statusView(r.status, r.json);
    },
  },
];
