// Conformance steps on core resources both servers serve without CRDs: create/get/update with
// their error replies (409 AlreadyExists, 404, 409 on a stale resourceVersion, 422 bodies), label
// and field selectors, list paging, dry run and strict field validation.
import { CoreV1Api } from '@kubernetes/client-node';
import type { ApiTarget } from './api-target.js';
import { clientStatus, identity, listNames, managers, NS, replyStatus, serverFilled, viaClient, type Step } from './conformance-steps.js';

const core = (t: ApiTarget) => t.kc.makeApiClient(CoreV1Api);
const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = { k: 'v' }) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });
const CMS = `/api/v1/namespaces/${NS}/configmaps`;
const q = (s: string) => encodeURIComponent(s);

export const coreSteps: Step[] = [
  {
    name: 'namespace: create (client-node) fills in phase, finalizer and the name label',
    run: async (t) => {
      const r = await viaClient(core(t).createNamespaceWithHttpInfo({ body: { metadata: { name: NS } } }));
      return { code: r.code, ...identity(r.body), phase: r.body.status?.phase, finalizers: r.body.spec?.finalizers, labels: r.body.metadata?.labels };
    },
    expect: { code: 201, kind: 'Namespace', phase: 'Active', finalizers: ['kubernetes'], labels: { 'kubernetes.io/metadata.name': NS } },
  },
  {
    name: 'configmap: create (client-node) returns the object with server-filled metadata',
    run: async (t) => {
      const r = await viaClient(core(t).createNamespacedConfigMapWithHttpInfo({ namespace: NS, body: cm('first', { conformance: 'yes', app: 'web', tier: 'front' }) }));
      return { code: r.code, ...identity(r.body), filled: serverFilled(r.body), managers: managers(r.body) };
    },
    expect: { code: 201, kind: 'ConfigMap', apiVersion: 'v1', filled: { uid: true, resourceVersion: true, creationTimestamp: true, generationAbsentOrOne: true } },
  },
  {
    name: 'configmap: create of an existing name is 409 AlreadyExists',
    run: (t) => clientStatus(core(t).createNamespacedConfigMapWithHttpInfo({ namespace: NS, body: cm('first') })),
    expect: { code: 409, reason: 'AlreadyExists', details: { name: 'first', kind: 'configmaps' } },
  },
  {
    name: 'configmap: get of a missing name is 404 NotFound',
    run: (t) => clientStatus(core(t).readNamespacedConfigMapWithHttpInfo({ namespace: NS, name: 'missing' })),
    expect: { code: 404, reason: 'NotFound', details: { name: 'missing', kind: 'configmaps' } },
  },
  {
    name: 'configmap: update with a stale resourceVersion is 409 Conflict',
    run: async (t) => {
      const old = await core(t).readNamespacedConfigMap({ namespace: NS, name: 'first' });
      await core(t).replaceNamespacedConfigMap({ namespace: NS, name: 'first', body: { ...old, data: { k: 'v2' } } });
      return clientStatus(core(t).replaceNamespacedConfigMapWithHttpInfo({ namespace: NS, name: 'first', body: { ...old, data: { k: 'v3' } } }));
    },
    expect: { code: 409, reason: 'Conflict', details: { name: 'first', kind: 'configmaps' } },
  },
  {
    name: 'configmap: update without resourceVersion is unconditional',
    run: async (t) => {
      const r = await t.call('PUT', `${CMS}/first`, { body: cm('first', { conformance: 'yes', app: 'web', tier: 'front' }, { k: 'v4' }) });
      return { code: r.status, data: r.json?.data };
    },
    expect: { code: 200, data: { k: 'v4' } },
  },
  {
    name: 'configmap: delete with a mismatched uid precondition is 409 Conflict',
    run: (t) => t.call('DELETE', `${CMS}/first`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } }).then(replyStatus),
    expect: { code: 409, reason: 'Conflict', details: { name: 'first' } },
  },
  {
    name: 'label selectors: equality, set-based, existence (list)',
    run: async (t) => {
      await core(t).createNamespacedConfigMap({ namespace: NS, body: cm('second', { conformance: 'yes', app: 'web', tier: 'back' }) });
      await core(t).createNamespacedConfigMap({ namespace: NS, body: cm('third', { conformance: 'yes', app: 'db' }) });
      const selectors = ['app=web', 'app!=web', 'app==db', 'tier in (front,back)', 'tier notin (back)', '!tier', 'tier', 'app=web,tier=front', 'app in (web),!tier'];
      const out: Record<string, unknown> = {};
      for (const s of selectors) out[s] = listNames(await t.call('GET', `${CMS}?labelSelector=${q(`conformance=yes,${s}`)}`));
      return out;
    },
    expect: { 'app=web': { kind: 'ConfigMapList', names: ['first', 'second'] }, '!tier': { kind: 'ConfigMapList', names: ['third'] } },
  },
  {
    name: 'label selectors: a malformed selector is 400 BadRequest',
    run: async (t) => replyStatus(await t.call('GET', `${CMS}?labelSelector=${q('app in web')}`)),
    expect: { code: 400, reason: 'BadRequest' },
  },
  {
    name: 'field selectors: metadata.name and metadata.namespace, across namespaces',
    run: async (t) => ({
      byName: listNames(await t.call('GET', `${CMS}?fieldSelector=${q('metadata.name=second')}`)),
      notName: listNames(await t.call('GET', `${CMS}?labelSelector=conformance%3Dyes&fieldSelector=${q('metadata.name!=second')}`)),
      allNamespaces: listNames(await t.call('GET', `/api/v1/configmaps?labelSelector=conformance%3Dyes&fieldSelector=${q(`metadata.namespace=${NS}`)}`)),
      namespacesByPhase: listNames(await t.call('GET', `/api/v1/namespaces?fieldSelector=${q(`status.phase=Active,metadata.name=${NS}`)}`)),
    }),
    expect: { byName: { names: ['second'] }, notName: { names: ['first', 'third'] } },
  },
  {
    name: 'field selectors: Secret type, and an unsupported field is 400 BadRequest',
    run: async (t) => {
      await core(t).createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'opaque', labels: { conformance: 'yes' } }, stringData: { a: 'b' } } });
      await core(t).createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'tls', labels: { conformance: 'yes' } }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'x', 'tls.key': 'y' } } });
      const secrets = `/api/v1/namespaces/${NS}/secrets?labelSelector=conformance%3Dyes&fieldSelector=`;
      return {
        opaque: listNames(await t.call('GET', secrets + q('type=Opaque'))),
        tls: listNames(await t.call('GET', secrets + q('type!=Opaque'))),
        unsupported: replyStatus(await t.call('GET', `${CMS}?fieldSelector=${q('data.k=v')}`)),
      };
    },
    expect: { opaque: { names: ['opaque'] }, tls: { names: ['tls'] }, unsupported: { code: 400, reason: 'BadRequest' } },
  },
  {
    name: 'list: limit and continue page through a list',
    run: async (t) => {
      const first = await t.call('GET', `${CMS}?labelSelector=conformance%3Dyes&limit=2`);
      const token = first.json.metadata.continue;
      const rest = await t.call('GET', `${CMS}?labelSelector=conformance%3Dyes&limit=2&continue=${q(token ?? '')}`);
      const bad = await t.call('GET', `${CMS}?limit=2&continue=not-a-token`);
      return { first: listNames(first), hasContinue: typeof token === 'string' && token.length > 0, rest: listNames(rest), lastHasContinue: Boolean(rest.json.metadata.continue), badToken: replyStatus(bad) };
    },
    expect: { first: { names: ['first', 'second'] }, hasContinue: true, rest: { names: ['third'] }, lastHasContinue: false, badToken: { code: 400 } },
  },
  {
    name: 'create with generateName: a 5-character random suffix; delete of a collection answers the deleted',
    run: async (t) => {
      const a = await t.call('POST', CMS, { body: { metadata: { generateName: 'gen-', labels: { gen: 'yes' } } } });
      await t.call('POST', CMS, { body: { metadata: { generateName: 'gen-', labels: { gen: 'yes' } } } });
      const gone = await t.call('DELETE', `${CMS}?labelSelector=gen%3Dyes`);
      const after = await t.call('GET', `${CMS}?labelSelector=gen%3Dyes`);
      return {
        code: a.status,
        nameShape: /^gen-[a-z0-9]{5}$/.test(a.json?.metadata?.name ?? ''),
        generateNameKept: a.json?.metadata?.generateName,
        collection: { code: gone.status, kind: gone.json?.kind, items: (gone.json?.items ?? []).length },
        left: listNames(after),
      };
    },
    expect: { code: 201, nameShape: true, generateNameKept: 'gen-', collection: { code: 200, kind: 'ConfigMapList', items: 2 }, left: { names: [] } },
  },
  {
    name: 'create with dryRun=All answers 201 and stores nothing',
    run: async (t) => {
      const r = await t.call('POST', `${CMS}?dryRun=All`, { body: cm('dry') });
      const get = await t.call('GET', `${CMS}/dry`);
      return { code: r.status, ...identity(r.json), afterwards: get.status };
    },
    expect: { code: 201, kind: 'ConfigMap', afterwards: 404 },
  },
  {
    name: 'fieldValidation=Strict: an unknown field is 400 BadRequest naming it',
    run: async (t) => {
      const r = await t.call('POST', `${CMS}?fieldValidation=Strict`, { body: { ...cm('strict'), spec: { x: 1 }, metadata: { name: 'strict', bogus: true } } });
      return { ...replyStatus(r), message: r.json?.message };
    },
    expect: { code: 400, reason: 'BadRequest' },
  },
  {
    name: 'fieldValidation=Warn (the default): an unknown field is dropped with a Warning header',
    run: async (t) => {
      const r = await t.call('POST', `${CMS}?fieldValidation=Warn`, { body: { ...cm('warned'), spec: { x: 1 } } });
      return { code: r.status, warning: String(r.headers.warning ?? ''), stored: 'spec' in (r.json ?? {}) };
    },
    expect: { code: 201, stored: false },
  },
];
