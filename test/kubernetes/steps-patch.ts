// Conformance steps on the four patch types (JSON, merge, strategic merge, apply) and on
// server-side apply ownership: 409 conflicts without force, takeover with force, through raw
// requests, client-node and `kubectl apply --server-side`.
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ApiTarget } from './api-target.js';
import { kubectlView, managers, NS, replyStatus, viaClient, type Step } from './conformance-steps.js';
import { statusView } from './conformance-compare.js';

const core = (t: ApiTarget) => t.kc.makeApiClient(CoreV1Api);
const CMS = `/api/v1/namespaces/${NS}/configmaps`;
const SVCS = `/api/v1/namespaces/${NS}/services`;
const patch = (t: ApiTarget, path: string, type: string, body: unknown) => t.call('PATCH', path, { raw: typeof body === 'string' ? body : JSON.stringify(body), contentType: type });
const JSON_PATCH = 'application/json-patch+json';
const MERGE = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const APPLY = 'application/apply-patch+yaml';
const ports = (r: { status: number; json: any }) => (r.status === 200 ? (r.json.spec.ports as any[]).map((p) => `${p.name}:${p.port}`) : statusView(r.status, r.json));

export const patchSteps: Step[] = [
  {
    name: 'JSON patch: add, replace, remove; a failed test op and a missing path',
    run: async (t) => {
      await t.call('POST', CMS, { body: { metadata: { name: 'patched' }, data: { a: '1', b: '2' } } });
      const ok = await patch(t, `${CMS}/patched`, JSON_PATCH, [
        { op: 'add', path: '/metadata/labels', value: { via: 'json' } },
        { op: 'replace', path: '/data/a', value: 'one' },
        { op: 'remove', path: '/data/b' },
      ]);
      const failedTest = await patch(t, `${CMS}/patched`, JSON_PATCH, [{ op: 'test', path: '/data/a', value: 'nope' }]);
      const missing = await patch(t, `${CMS}/patched`, JSON_PATCH, [{ op: 'remove', path: '/data/nope' }]);
      const notAList = await patch(t, `${CMS}/patched`, JSON_PATCH, { op: 'add' });
      return { code: ok.status, labels: ok.json.metadata.labels, data: ok.json.data, failedTest: replyStatus(failedTest), missing: replyStatus(missing), notAList: replyStatus(notAList) };
    },
    expect: { code: 200, labels: { via: 'json' }, data: { a: 'one' }, notAList: { code: 400 } },
  },
  {
    name: 'merge patch (client-node): set and delete keys with null; invalid JSON is 400',
    run: async (t) => {
      const r = await viaClient(
        core(t).patchNamespacedConfigMapWithHttpInfo({ namespace: NS, name: 'patched', body: { data: { a: null, c: '3' }, metadata: { labels: { via: 'merge' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      );
      const bad = await patch(t, `${CMS}/patched`, MERGE, '{"data":');
      const missing = await patch(t, `${CMS}/absent`, MERGE, { data: { a: '1' } });
      return { code: r.code, data: r.body.data, labels: r.body.metadata.labels, invalidJson: replyStatus(bad), missingObject: replyStatus(missing) };
    },
    expect: { code: 200, data: { c: '3' }, labels: { via: 'merge' }, invalidJson: { code: 400 }, missingObject: { code: 404, reason: 'NotFound' } },
  },
  {
    name: 'strategic merge patch: Service ports merge by port, $patch: delete removes one',
    run: async (t) => {
      await t.call('POST', SVCS, { body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] } } });
      const merged = await patch(t, `${SVCS}/web`, STRATEGIC, { spec: { ports: [{ name: 'alt', port: 8080 }, { name: 'web', port: 80 }] } });
      const deleted = await patch(t, `${SVCS}/web`, STRATEGIC, { spec: { ports: [{ port: 443, $patch: 'delete' }] } });
      const replaced = await patch(t, `${SVCS}/web`, STRATEGIC, { spec: { selector: { $patch: 'replace', tier: 'x' } } });
      return { merged: ports(merged), deleted: ports(deleted), selector: replaced.json?.spec?.selector };
    },
    expect: { deleted: ['alt:8080', 'web:80'], selector: { tier: 'x' } },
  },
  {
    name: 'apply patch: create by apply, 409 for another manager, takeover with force',
    run: async (t) => {
      const body = (value: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { owned: value } });
      const created = await patch(t, `${CMS}/applied?fieldManager=alice`, APPLY, body('alice'));
      const same = await patch(t, `${CMS}/applied?fieldManager=alice`, APPLY, body('alice'));
      const conflict = await patch(t, `${CMS}/applied?fieldManager=bob`, APPLY, body('bob'));
      const forced = await patch(t, `${CMS}/applied?fieldManager=bob&force=true`, APPLY, body('bob'));
      return {
        created: created.status,
        unchanged: same.status,
        conflict: { ...replyStatus(conflict), message: conflict.json?.message },
        forced: { code: forced.status, value: forced.json?.data?.owned, managers: managers(forced.json) },
      };
    },
    expect: { created: 201, unchanged: 200, conflict: { code: 409, reason: 'Conflict' }, forced: { code: 200, value: 'bob', managers: ['bob Apply'] } },
  },
  {
    name: 'apply patch: no fieldManager, and force on a non-apply patch, are refused',
    run: async (t) => ({
      noManager: replyStatus(await patch(t, `${CMS}/applied`, APPLY, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"}}')),
      forceOnMerge: replyStatus(await patch(t, `${CMS}/applied?force=true`, MERGE, { data: { x: '1' } })),
    }),
    expect: { noManager: { reason: 'Invalid' }, forceOnMerge: { reason: 'Invalid' } },
  },
  {
    name: 'apply patch: an update by another manager shares ownership (managedFields)',
    run: async (t) => {
      const r = await patch(t, `${CMS}/applied?fieldManager=carol`, MERGE, { data: { extra: 'x' } });
      return { code: r.status, managers: managers(r.json) };
    },
    expect: { code: 200, managers: ['bob Apply', 'carol Update'] },
  },
  {
    name: 'apply patch: fields written by an update (its User-Agent the manager) conflict with an applier',
    run: async (t) => {
      await core(t).createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'updated' }, data: { k: 'from-update' } } });
      const body = (v: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'updated' }, data: { k: v } });
      const same = await patch(t, `${CMS}/updated?fieldManager=dave`, APPLY, body('from-update'));
      const clash = await patch(t, `${CMS}/updated?fieldManager=dave`, APPLY, body('from-apply'));
      const taken = await patch(t, `${CMS}/updated?fieldManager=erin`, MERGE, { data: { k: 'from-erin' } });
      return { same: { code: same.status, managers: managers(same.json) }, clash: { ...replyStatus(clash), message: clash.json?.message }, taken: { code: taken.status, managers: managers(taken.json) } };
    },
    expect: {
      same: { code: 200, managers: ['dave Apply', 'node-fetch Update'] },
      clash: { code: 409, reason: 'Conflict', details: { causes: [{ field: '.data.k', reason: 'FieldManagerConflict' }] } },
      taken: { code: 200, managers: ['erin Update', 'node-fetch Update'] },
    },
  },
  {
    name: 'kubectl apply --server-side: conflict exit and message, then --force-conflicts',
    run: async (t) => {
      const manifest = (v: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kapplied', namespace: NS }, data: { k: v } });
      const first = await t.kubectl(['apply', '--server-side', '--field-manager', 'first', '-f', '-'], manifest('1'));
      const clash = await t.kubectl(['apply', '--server-side', '--field-manager', 'second', '-f', '-'], manifest('2'));
      const forced = await t.kubectl(['apply', '--server-side', '--field-manager', 'second', '--force-conflicts', '-f', '-'], manifest('2'));
      return { first: kubectlView(first, true), clash: { exit: clash.code, conflictLines: clash.stderr.split('\n').filter((l) => /conflict/i.test(l)).map((l) => l.trim()) }, forced: kubectlView(forced, true) };
    },
    expect: { first: { exit: 0, stdout: 'configmap/kapplied serverside-applied' }, clash: { exit: 1 }, forced: { exit: 0 } },
  },
];
