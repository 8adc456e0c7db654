// Conformance steps on a custom resource, ExternalWorkload (served natively by the embedded API,
// through `outpost install`'s CRD by kube-apiserver): create, 409/404, 422 from the schema and CEL,
// the patch types a CRD accepts (415 for strategic merge), the status subresource, apply
// conflicts, watch, Table columns, `kubectl get -o wide`, `kubectl explain`, and delete's answer.
import { CustomObjectsApi, Watch } from '@kubernetes/client-node';
import type { ApiTarget, HttpReply } from './api-target.js';
import { waitFor } from '../support/wait.js';
import { clientStatus, explainFields, explainHeader, identity, kubectlView, listNames, managers, NS, replyStatus, serverFilled, tableHeader, viaClient, type Step } from './conformance-steps.js';

const GROUP = 'workload.linkerd.io';
const EWS = `/apis/${GROUP}/v1beta1/namespaces/${NS}/externalworkloads`;
const custom = (t: ApiTarget) => t.kc.makeApiClient(CustomObjectsApi);
const at = { group: GROUP, version: 'v1beta1', namespace: NS, plural: 'externalworkloads' };
const ew = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: `${GROUP}/v1beta1`,
  kind: 'ExternalWorkload',
  metadata: { name, labels: { conformance: 'yes' } },
  spec: { meshTLS: { identity: `spiffe://cluster.local/ns/${NS}/sa/${name}`, serverName: `${name}.${NS}.svc.cluster.local` }, workloadIPs: [{ ip: '198.18.0.10' }], ports: [{ name: 'http', port: 8080 }], ...extra },
});
/**
 * A 422's view without kube-apiserver's marker cause (field "<nil>": "some validation rules were not
 * checked because the object was invalid"), reported as `celSkipped` instead.
 */
function withoutCelSkipped(r: HttpReply): Record<string, unknown> {
  const causes = (r.json?.details?.causes ?? []) as { field?: string; message?: string }[];
  const skipped = causes.some((c) => c.field === '<nil>' && /validation rules were not checked/.test(c.message ?? ''));
  const json = skipped ? { ...r.json, details: { ...r.json.details, causes: causes.filter((c) => c.field !== '<nil>') } } : r.json;
  return { ...replyStatus({ ...r, json }), celSkipped: skipped };
}

const patch = (t: ApiTarget, path: string, type: string, body: unknown) => t.call('PATCH', path, { raw: JSON.stringify(body), contentType: type });

export const customSteps: Step[] = [
  {
    name: 'ExternalWorkload: create (client-node CustomObjectsApi) with defaults, then 409 and 404',
    run: async (t) => {
      const r = await viaClient(custom(t).createNamespacedCustomObjectWithHttpInfo({ ...at, body: ew('vm-1') }));
      const again = await clientStatus(custom(t).createNamespacedCustomObjectWithHttpInfo({ ...at, body: ew('vm-1') }));
      const missing = await clientStatus(custom(t).getNamespacedCustomObjectWithHttpInfo({ ...at, name: 'vm-missing' }));
      return { code: r.code, ...identity(r.body), filled: serverFilled(r.body), protocol: r.body.spec?.ports?.[0]?.protocol, status: r.body.status, again, missing };
    },
    expect: {
      code: 201,
      kind: 'ExternalWorkload',
      protocol: 'TCP',
      again: { code: 409, reason: 'AlreadyExists', details: { name: 'vm-1', group: GROUP, kind: 'externalworkloads' } },
      missing: { code: 404, reason: 'NotFound', details: { name: 'vm-missing', group: GROUP, kind: 'externalworkloads' } },
    },
  },
  {
    name: 'ExternalWorkload: 422 for a port out of range, a bad IP, a missing meshTLS identity',
    run: async (t) => ({
      port: replyStatus(await t.call('POST', EWS, { body: ew('bad-port', { ports: [{ name: 'http', port: 70000 }] }) })),
      ip: replyStatus(await t.call('POST', EWS, { body: ew('bad-ip', { workloadIPs: [{ ip: 'not-an-ip' }] }) })),
      identity: withoutCelSkipped(await t.call('POST', EWS, { body: ew('no-identity', { meshTLS: { serverName: 'x.svc' } }) })),
    }),
    expect: {
      port: { code: 422, reason: 'Invalid', details: { name: 'bad-port', group: GROUP, kind: 'ExternalWorkload' } },
      identity: { code: 422, reason: 'Invalid', details: { causes: [{ field: 'spec.meshTLS.identity', reason: 'FieldValueRequired' }] } },
      ip: { code: 422, reason: 'Invalid' },
    },
  },
  {
    name: 'ExternalWorkload: merge and JSON patch apply, strategic merge is 415',
    run: async (t) => {
      const merge = await patch(t, `${EWS}/vm-1`, 'application/merge-patch+json', { metadata: { labels: { tier: 'db' } } });
      const json = await patch(t, `${EWS}/vm-1`, 'application/json-patch+json', [{ op: 'replace', path: '/spec/ports/0/port', value: 9090 }]);
      const strategic = await patch(t, `${EWS}/vm-1`, 'application/strategic-merge-patch+json', { metadata: { labels: { x: 'y' } } });
      return { merge: { code: merge.status, tier: merge.json?.metadata?.labels?.tier }, json: { code: json.status, port: json.json?.spec?.ports?.[0]?.port }, strategic: replyStatus(strategic) };
    },
    expect: { merge: { code: 200, tier: 'db' }, json: { code: 200, port: 9090 }, strategic: { code: 415, reason: 'UnsupportedMediaType' } },
  },
  {
    name: 'ExternalWorkload: status only through the status subresource',
    run: async (t) => {
      const conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'Probe', message: 'ok' }];
      const viaMain = await patch(t, `${EWS}/vm-1`, 'application/merge-patch+json', { status: { conditions } });
      const viaStatus = await patch(t, `${EWS}/vm-1/status`, 'application/merge-patch+json', { status: { conditions }, metadata: { labels: { ignored: 'yes' } } });
      return {
        main: { code: viaMain.status, status: viaMain.json?.status ?? null },
        status: { code: viaStatus.status, ready: viaStatus.json?.status?.conditions?.[0]?.status, labelIgnored: viaStatus.json?.metadata?.labels?.ignored === undefined },
      };
    },
    expect: { main: { code: 200, status: null }, status: { code: 200, ready: 'True', labelIgnored: true } },
  },
  {
    name: 'ExternalWorkload: apply conflicts between managers, force takes over',
    run: async (t) => {
      const applied = (port: number) => ({ apiVersion: `${GROUP}/v1beta1`, kind: 'ExternalWorkload', metadata: { name: 'vm-applied' }, spec: { ...ew('vm-applied').spec, ports: [{ name: 'http', port }] } });
      const first = await patch(t, `${EWS}/vm-applied?fieldManager=alice`, 'application/apply-patch+yaml', applied(8080));
      const clash = await patch(t, `${EWS}/vm-applied?fieldManager=bob`, 'application/apply-patch+yaml', applied(8081));
      const forced = await patch(t, `${EWS}/vm-applied?fieldManager=bob&force=true`, 'application/apply-patch+yaml', applied(8081));
      return { first: first.status, clash: replyStatus(clash), forced: { code: forced.status, port: forced.json?.spec?.ports?.[0]?.port, managers: managers(forced.json) } };
    },
    expect: { first: 201, clash: { code: 409, reason: 'Conflict' }, forced: { code: 200, port: 8081 } },
  },
  {
    name: 'ExternalWorkload: watch (client-node) and field and label selectors on a list',
    run: async (t) => {
      const events: string[] = [];
      const list = await t.call('GET', EWS);
      const controller = await new Watch(t.kc).watch(EWS, { resourceVersion: list.json.metadata.resourceVersion }, (type, obj) => events.push(`${type} ${obj.metadata?.name}`), () => {});
      try {
        await t.call('POST', EWS, { body: ew('vm-2') });
        await patch(t, `${EWS}/vm-2`, 'application/merge-patch+json', { metadata: { labels: { tier: 'web' } } });
        await waitFor(`${t.name}: two ExternalWorkload events`, () => events.length >= 2, 10_000);
      } finally {
        controller.abort();
      }
      return {
        events,
        byName: listNames(await t.call('GET', `${EWS}?fieldSelector=metadata.name%3Dvm-2`)),
        byLabel: listNames(await t.call('GET', `${EWS}?labelSelector=tier%3Ddb`)),
        unsupported: replyStatus(await t.call('GET', `${EWS}?fieldSelector=spec.ports%3D1`)),
      };
    },
    expect: { events: ['ADDED vm-2', 'MODIFIED vm-2'], byName: { names: ['vm-2'] }, byLabel: { names: ['vm-1'] }, unsupported: { code: 400, reason: 'BadRequest' } },
  },
  {
    name: 'ExternalWorkload: Table columns, kubectl get -o wide, kubectl explain',
    run: async (t) => {
      const table = await t.call('GET', `${EWS}/vm-1`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
      const wide = await t.kubectl(['get', 'externalworkloads', '-n', NS, '-o', 'wide']);
      const explain = await t.kubectl(['explain', 'externalworkload.spec']);
      return {
        columns: (table.json?.columnDefinitions as any[] | undefined)?.map((c) => `${c.name} p${c.priority}`),
        firstCells: table.json?.rows?.[0]?.cells?.slice(0, 3),
        wide: wide.code === 0 ? tableHeader(wide.stdout) : kubectlView(wide),
        explain: explain.code === 0 ? { header: explainHeader(explain.stdout), fields: explainFields(explain.stdout) } : kubectlView(explain),
      };
    },
  },
  {
    name: 'ExternalWorkload: delete answers a Status Success naming it',
    run: async (t) => {
      const r = await t.call('DELETE', `${EWS}/vm-2`);
      return { code: r.status, kind: r.json?.kind, status: r.json?.status, details: { name: r.json?.details?.name, group: r.json?.details?.group, kind: r.json?.details?.kind } };
    },
    expect: { code: 200, kind: 'Status', status: 'Success', details: { name: 'vm-2', group: GROUP, kind: 'externalworkloads' } },
  },
];
