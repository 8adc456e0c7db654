// apps/v1 Deployment: stored only so that manifests mixing pods and VMs (the guide's
// api-deployment.yaml) apply. Outpost runs no containers; the pod template is kept as written.
import type { KubeObject } from '../../store/types.js';
import type { FieldCause } from './types.js';
import { bool, int32, labelSelectorSchema, obj, preserved, rootSchema, stringMap } from '../schema/builders.js';
import { invalid, required } from '../../kube/field-errors.js';
import { validateLabelSelector, validateLabels } from '../../kube/selectors.js';
import { validateObjectMeta } from '../schema/meta.js';
import { declareResource, asRecord, col } from './common.js';

const deploymentSchema = rootSchema(
  {
    spec: obj(
      {
        replicas: int32({ minimum: 0, default: 1 }),
        selector: labelSelectorSchema,
        template: obj({ metadata: obj({ labels: stringMap(), annotations: stringMap(), name: { type: 'string' } }, undefined, { 'x-kubernetes-preserve-unknown-fields': true }), spec: preserved() }),
        strategy: preserved(),
        minReadySeconds: int32({ minimum: 0 }),
        revisionHistoryLimit: int32({ minimum: 0 }),
        progressDeadlineSeconds: int32({ minimum: 0 }),
        paused: bool(),
      },
      ['selector', 'template'],
    ),
    status: preserved(),
  },
  ['spec'],
  'Deployment is stored for compatibility; Outpost does not run containers.',
);

function validateDeployment(o: KubeObject): FieldCause[] {
  const out = validateObjectMeta(o);
  const spec = asRecord(o.spec);
  const selector = asRecord(spec.selector);
  out.push(...validateLabelSelector(selector as never, 'spec.selector'));
  const templateLabels = asRecord(asRecord(asRecord(spec.template).metadata).labels) as Record<string, string>;
  out.push(...validateLabels(templateLabels, 'spec.template.metadata.labels'));
  const matchLabels = asRecord(selector.matchLabels);
  if (spec.selector !== undefined && !Object.keys(matchLabels).length && !Array.isArray(selector.matchExpressions)) {
    out.push(required('spec.selector', 'a non-empty selector is required'));
  }
  if (Object.entries(matchLabels).some(([k, v]) => templateLabels[k] !== v)) {
    out.push(invalid('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`'));
  }
  return out;
}

export const deploymentType = declareResource({
  group: 'apps',
  kind: 'Deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  versions: [{ name: 'v1', schema: deploymentSchema, served: true, storage: true }],
  statusSubresource: true,
  builtin: true,
  validate: validateDeployment,
  table: {
    columns: [col('Ready'), col('Up-to-date', { type: 'integer' }), col('Available', { type: 'integer' })],
    cells: (o) => {
      const status = asRecord(o.status);
      const replicas = typeof asRecord(o.spec).replicas === 'number' ? (asRecord(o.spec).replicas as number) : 1;
      return [`${Number(status.readyReplicas ?? 0)}/${replicas}`, Number(status.updatedReplicas ?? 0), Number(status.availableReplicas ?? 0)];
    },
  },
});
