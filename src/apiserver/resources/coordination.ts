// coordination.k8s.io/v1 Lease: leader election for the controllers.
import { int32, obj, rootSchema, str } from '../schema/builders.js';
import { invalid } from '../../kube/field-errors.js';
import { validateObjectMeta } from '../schema/meta.js';
import { declareResource, NONE, asRecord, col } from './common.js';

const MICRO_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';

export const leaseType = declareResource({
  group: 'coordination.k8s.io',
  kind: 'Lease',
  versions: [
    {
      name: 'v1',
      schema: rootSchema({
        spec: obj({
          holderIdentity: str(),
          leaseDurationSeconds: int32(),
          acquireTime: { ...str({ pattern: MICRO_TIME }), nullable: true },
          renewTime: { ...str({ pattern: MICRO_TIME }), nullable: true },
          leaseTransitions: int32(),
          strategy: str(),
          preferredHolder: str(),
        }),
      }),
      served: true,
      storage: true,
    },
  ],
  builtin: true,
  validate(o) {
    const out = validateObjectMeta(o);
    const spec = asRecord(o.spec);
    if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) out.push(invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
    if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) out.push(invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
    return out;
  },
  table: {
    columns: [col('Holder', { description: 'The holder of the lease.' })],
    cells: (o) => [asRecord(o.spec).holderIdentity || NONE],
  },
});
