// Conformance steps on rejected writes: 422 Invalid bodies (Status with details.causes naming the
// field and the reason) from client-node and raw requests, and the line kubectl prints for them.
import { CoreV1Api } from '@kubernetes/client-node';
import type { ApiTarget } from './api-target.js';
import { clientStatus, kubectlView, NS, replyStatus, type Step } from './conformance-steps.js';

const core = (t: ApiTarget) => t.kc.makeApiClient(CoreV1Api);
const CMS = `/api/v1/namespaces/${NS}/configmaps`;

export const invalidSteps: Step[] = [
  {
    name: '422: ConfigMap with an invalid name and an invalid data key',
    run: (t) => clientStatus(core(t).createNamespacedConfigMapWithHttpInfo({ namespace: NS, body: { metadata: { name: 'Bad_Name' }, data: { 'bad key': 'v' } } })),
    expect: { code: 422, reason: 'Invalid', details: { name: 'Bad_Name', kind: 'ConfigMap' } },
  },
  {
    name: '422: Namespace with an invalid name',
    run: (t) => clientStatus(core(t).createNamespaceWithHttpInfo({ body: { metadata: { name: 'UPPER.case' } } })),
    expect: { code: 422, reason: 'Invalid', details: { name: 'UPPER.case', kind: 'Namespace' } },
  },
  {
    name: '422: Service with port 0, an unknown protocol and a duplicate port name',
    run: (t) =>
      clientStatus(
        core(t).createNamespacedServiceWithHttpInfo({
          namespace: NS,
          body: { metadata: { name: 'bad-ports' }, spec: { ports: [{ name: 'a', port: 0 }, { name: 'a', port: 81, protocol: 'XYZ' }] } },
        }),
      ),
    expect: { code: 422, reason: 'Invalid', details: { name: 'bad-ports', kind: 'Service' } },
  },
  {
    name: '422: Service without ports, and with a bad selector label value',
    run: (t) => clientStatus(core(t).createNamespacedServiceWithHttpInfo({ namespace: NS, body: { metadata: { name: 'no-ports' }, spec: { selector: { app: 'not ok!' } } } })),
    expect: { code: 422, reason: 'Invalid' },
  },
  {
    name: '422: changing an immutable ConfigMap, and a Secret type',
    run: async (t) => {
      await t.call('POST', CMS, { body: { metadata: { name: 'frozen' }, immutable: true, data: { a: '1' } } });
      const frozen = replyStatus(await t.call('PUT', `${CMS}/frozen`, { body: { metadata: { name: 'frozen' }, immutable: true, data: { a: '2' } } }));
      const secretType = replyStatus(
        await t.call('PATCH', `/api/v1/namespaces/${NS}/secrets/opaque`, { body: { type: 'example.com/other' }, contentType: 'application/merge-patch+json' }),
      );
      return { frozen, secretType };
    },
    expect: { frozen: { code: 422, reason: 'Invalid' }, secretType: { code: 422, reason: 'Invalid' } },
  },
  {
    name: '422: a metadata.labels value that is not a valid label',
    run: (t) => t.call('POST', CMS, { body: { metadata: { name: 'bad-label', labels: { 'a/b/c': 'x', ok: '-starts-with-dash' } } } }).then(replyStatus),
    expect: { code: 422, reason: 'Invalid' },
  },
  {
    name: '400: a body that is not JSON, and a kind that does not match the URL',
    run: async (t) => ({
      notJson: replyStatus(await t.call('POST', CMS, { raw: '{"metadata": ', contentType: 'application/json' })),
      wrongKind: replyStatus(await t.call('POST', CMS, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wrong-kind' } } })),
    }),
    expect: { notJson: { code: 400, reason: 'BadRequest' }, wrongKind: { code: 400, reason: 'BadRequest' } },
  },
  {
    name: 'kubectl create of an invalid manifest prints one line naming the field',
    run: async (t) => kubectlView(await t.kubectl(['create', '-n', NS, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kbad' }, spec: { ports: [{ port: 70000 }] } }))),
    expect: { exit: 1 },
  },
];
