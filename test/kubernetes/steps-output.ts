// Conformance steps on what users read: Table output (Accept: application/json;as=Table), the
// columns of `kubectl get -o wide`, `kubectl explain`, and the Status a delete answers.
import type { ApiTarget } from './api-target.js';
import { explainFields, explainHeader, identity, kubectlView, NS, replyStatus, tableHeader, tableRows, type Step } from './conformance-steps.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

/** Column definitions and the shape of rows of a Table reply. */
async function table(t: ApiTarget, path: string): Promise<unknown> {
  const r = await t.call('GET', path, { accept: TABLE });
  if (r.status !== 200) return replyStatus(r);
  const rows = (r.json.rows ?? []) as any[];
  return {
    kind: r.json.kind,
    apiVersion: r.json.apiVersion,
    columns: (r.json.columnDefinitions as any[]).map((c) => `${c.name} ${c.type}${c.format ? ` ${c.format}` : ''} p${c.priority}`),
    rows: rows.map((row) => ({ cells: row.cells.length, first: row.cells[0], object: row.object?.kind })),
    hasResourceVersion: Boolean(r.json.metadata?.resourceVersion),
  };
}

export const outputSteps: Step[] = [
  {
    name: 'Table output of ConfigMaps, Services, Secrets and a single Namespace',
    run: async (t) => ({
      configmaps: await table(t, `/api/v1/namespaces/${NS}/configmaps?labelSelector=conformance%3Dyes`),
      services: await table(t, `/api/v1/namespaces/${NS}/services`),
      secrets: await table(t, `/api/v1/namespaces/${NS}/secrets?labelSelector=conformance%3Dyes`),
      namespace: await table(t, `/api/v1/namespaces/${NS}`),
      withoutObject: await table(t, `/api/v1/namespaces/${NS}/configmaps?labelSelector=conformance%3Dyes&includeObject=None`),
    }),
    expect: { configmaps: { kind: 'Table', apiVersion: 'meta.k8s.io/v1', columns: ['Name string name p0', 'Data string p0', 'Age string p0'] } },
  },
  {
    name: 'kubectl get -o wide: column headers',
    run: async (t) => {
      const get = async (args: string[]) => {
        const r = await t.kubectl(['get', ...args, '-o', 'wide']);
        return r.code === 0 ? tableHeader(r.stdout) : kubectlView(r);
      };
      return {
        configmaps: await get(['configmaps', '-n', NS]),
        services: await get(['services', '-n', NS]),
        secrets: await get(['secrets', '-n', NS]),
        namespaces: await get(['namespaces', NS]),
        serviceaccounts: await get(['serviceaccounts', '-n', NS]),
      };
    },
    expect: { configmaps: ['NAME', 'DATA', 'AGE'], services: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'] },
  },
  {
    name: 'kubectl get: a missing object, and an unknown resource type',
    run: async (t) => ({
      missing: kubectlView(await t.kubectl(['get', 'configmap', 'nope', '-n', NS])),
      unknownType: kubectlView(await t.kubectl(['get', 'nosuchthings'])),
    }),
    expect: { missing: { exit: 1, stderr: 'Error from server (NotFound): configmaps "nope" not found' } },
  },
  {
    name: 'kubectl api-resources -o wide: names, short names, scope, kind, verbs, categories',
    run: async (t) => {
      const r = await t.kubectl(['api-resources', '-o', 'wide']);
      if (r.code !== 0) return kubectlView(r);
      const wanted = ['configmaps', 'secrets', 'serviceaccounts', 'services', 'namespaces', 'endpoints', 'leases', 'endpointslices', 'deployments', 'tokenreviews', 'externalworkloads', 'workloadgroups'];
      const rows = tableRows(r.stdout).filter((row) => wanted.includes(row.NAME) && !row.APIVERSION.startsWith('events.'));
      // Verbs are a set (kube-apiserver lists CRD verbs in its own order).
      return Object.fromEntries(rows.map((row) => [`${row.NAME} ${row.APIVERSION}`, { ...row, VERBS: row.VERBS.split(',').sort().join(',') }]));
    },
    expect: { 'configmaps v1': { SHORTNAMES: 'cm', NAMESPACED: 'true', KIND: 'ConfigMap', VERBS: 'create,delete,deletecollection,get,list,patch,update,watch' } },
  },
  {
    name: 'kubectl explain: ConfigMap and Service fields',
    run: async (t) => {
      const explain = async (what: string) => {
        const r = await t.kubectl(['explain', what]);
        return r.code === 0 ? { header: explainHeader(r.stdout), fields: explainFields(r.stdout) } : kubectlView(r);
      };
      return { configmap: await explain('configmap'), servicePorts: await explain('service.spec.ports'), namespaceSpec: await explain('namespace.spec') };
    },
    expect: { configmap: { header: ['KIND: ConfigMap', 'VERSION: v1'] } },
  },
  {
    name: 'delete: a Status Success for a ConfigMap, the Namespace object (Terminating) for a namespace',
    run: async (t) => {
      const cm = await t.call('DELETE', `/api/v1/namespaces/${NS}/configmaps/second`);
      const again = await t.call('DELETE', `/api/v1/namespaces/${NS}/configmaps/second`);
      return {
        configmap: { code: cm.status, kind: cm.json?.kind, status: cm.json?.status, details: cm.json?.details && { name: cm.json.details.name, kind: cm.json.details.kind } },
        again: replyStatus(again),
      };
    },
    expect: { configmap: { code: 200 }, again: { code: 404, reason: 'NotFound' } },
  },
];

/** Last step (it ends the namespace the others use). */
export const namespaceDeleteStep: Step = {
  name: 'delete of a namespace answers it Terminating; writes into it are then 403 Forbidden',
  run: async (t) => {
    const r = await t.call('DELETE', `/api/v1/namespaces/${NS}`);
    const write = await t.call('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'late' } } });
    return { code: r.status, ...identity(r.json), phase: r.json?.status?.phase, write: write.status === 404 ? 'namespace already gone' : replyStatus(write) };
  },
  expect: { code: 200, kind: 'Namespace', phase: 'Terminating' },
};
