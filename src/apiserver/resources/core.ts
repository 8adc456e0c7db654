// core/v1 kinds other than Service: Namespace, ServiceAccount (its `token` subresource is
// served by the HTTP layer), ConfigMap, Secret and Event.
import type { KubeObject } from '../../store/types.js';
import type { FieldCause, ResourceType } from './types.js';
import { arr, bool, dateTime, int32, obj, objectReferenceSchema, preserved, rootSchema, str, stringMap, strings, conditionSchema } from '../schema/builders.js';
import { invalid, key, tooLong } from '../../kube/field-errors.js';
import { configMapKey } from '../../kube/formats.js';
import { validateObjectMeta } from '../schema/meta.js';
import { declareResource, NONE, asArray, asRecord, col } from './common.js';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const MAX_DATA_BYTES = 1024 * 1024;

export const namespaceType = declareResource({
  group: '',
  kind: 'Namespace',
  shortNames: ['ns'],
  namespaced: false,
  versions: [
    {
      name: 'v1',
      schema: rootSchema({
        spec: obj({ finalizers: strings() }),
        status: obj({ phase: str({ enum: ['Active', 'Terminating'] }), conditions: arr(conditionSchema) }),
      }),
      served: true,
      storage: true,
    },
  ],
  builtin: true,
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  applyDefaults(o) {
    const status = (o.status ??= {}) as Record<string, unknown>;
    status.phase ??= 'Active';
    const spec = (o.spec ??= {}) as Record<string, unknown>;
    spec.finalizers ??= ['kubernetes'];
    if (o.metadata.name) o.metadata.labels = { ...(o.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: o.metadata.name };
  },
  validate: (o) => validateObjectMeta(o, 'dns1123-label'),
  table: {
    columns: [col('Status', { description: 'The phase: Active or Terminating.' })],
    cells: (o) => [asRecord(o.status).phase ?? 'Active'],
  },
});

export const serviceAccountType = declareResource({
  group: '',
  kind: 'ServiceAccount',
  shortNames: ['sa'],
  versions: [
    {
      name: 'v1',
      schema: rootSchema({
        secrets: arr(objectReferenceSchema),
        imagePullSecrets: arr(obj({ name: str() })),
        automountServiceAccountToken: bool(),
      }),
      served: true,
      storage: true,
    },
  ],
  builtin: true,
  mergeKeys: { secrets: 'name' },
  validate: (o) => validateObjectMeta(o),
  table: {
    columns: [col('Secrets', { type: 'integer', description: 'Number of referenced secrets.' })],
    cells: (o) => [asArray(o.secrets).length],
  },
});

function validateDataKeys(maps: [string, unknown][], out: FieldCause[]): number {
  const seen = new Set<string>();
  let size = 0;
  for (const [path, m] of maps) {
    for (const [k, v] of Object.entries(asRecord(m))) {
      for (const e of configMapKey(k)) out.push(invalid(key(path, k), k, e));
      if (seen.has(k)) out.push(invalid(key(path, k), k, 'duplicate of key present in another data field'));
      seen.add(k);
      size += String(v).length;
    }
  }
  return size;
}

export const configMapType = declareResource({
  group: '',
  kind: 'ConfigMap',
  shortNames: ['cm'],
  versions: [
    { name: 'v1', schema: rootSchema({ data: stringMap(), binaryData: stringMap(), immutable: bool() }), served: true, storage: true },
  ],
  builtin: true,
  validate(o, old) {
    const out = validateObjectMeta(o);
    const size = validateDataKeys([['data', o.data], ['binaryData', o.binaryData]], out);
    if (size > MAX_DATA_BYTES) out.push(tooLong('data', MAX_DATA_BYTES));
    out.push(...immutableData(o, old));
    return out;
  },
  table: {
    columns: [col('Data', { description: 'Number of keys.' })],
    cells: (o) => [Object.keys(asRecord(o.data)).length + Object.keys(asRecord(o.binaryData)).length],
  },
});

function immutableData(o: KubeObject, old?: KubeObject): FieldCause[] {
  if (!old || old.immutable !== true) return [];
  const same = JSON.stringify([old.data ?? {}, old.binaryData ?? {}]) === JSON.stringify([o.data ?? {}, o.binaryData ?? {}]);
  const out: FieldCause[] = [];
  if (!same) out.push({ reason: 'FieldValueForbidden', field: 'data', message: 'Forbidden: field is immutable when `immutable` is set' });
  if (o.immutable !== true) out.push({ reason: 'FieldValueForbidden', field: 'immutable', message: 'Forbidden: field is immutable when `immutable` is set' });
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const secretType = declareResource({
  group: '',
  kind: 'Secret',
  versions: [
    {
      name: 'v1',
      schema: rootSchema({ type: str({ default: 'Opaque' }), data: stringMap(), stringData: stringMap(), immutable: bool() }),
      served: true,
      storage: true,
    },
  ],
  builtin: true,
  applyDefaults(o) {
    o.type ??= 'Opaque';
    // Like the API server: stringData is write-only and merged into data (base64).
    if (o.stringData && typeof o.stringData === 'object') {
      const data = { ...asRecord(o.data) };
      for (const [k, v] of Object.entries(asRecord(o.stringData))) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      o.data = data;
      delete o.stringData;
    }
  },
  validate(o, old) {
    const out = validateObjectMeta(o);
    const size = validateDataKeys([['data', o.data]], out);
    for (const [k, v] of Object.entries(asRecord(o.data))) {
      if (typeof v === 'string' && !BASE64.test(v)) out.push(invalid(key('data', k), '<secret contents redacted>', 'must be base64-encoded'));
    }
    if (size > MAX_DATA_BYTES) out.push(tooLong('data', MAX_DATA_BYTES));
    if (old && old.type !== undefined && o.type !== old.type) out.push(invalid('type', o.type, 'field is immutable'));
    out.push(...immutableData(o, old));
    return out;
  },
  table: {
    columns: [col('Type'), col('Data')],
    cells: (o) => [o.type ?? 'Opaque', Object.keys(asRecord(o.data)).length],
  },
});

const microTime = (): ReturnType<typeof str> => ({ ...str({ description: 'RFC 3339 time with microseconds.' }), nullable: true });

export const eventType = declareResource({
  group: '',
  kind: 'Event',
  shortNames: ['ev'],
  versions: [
    {
      name: 'v1',
      schema: rootSchema(
        {
          involvedObject: objectReferenceSchema,
          reason: str(),
          message: str(),
          source: obj({ component: str(), host: str() }),
          firstTimestamp: { ...dateTime(), nullable: true },
          lastTimestamp: { ...dateTime(), nullable: true },
          count: int32(),
          type: str(),
          eventTime: microTime(),
          series: preserved(),
          action: str(),
          related: objectReferenceSchema,
          reportingComponent: str(),
          reportingInstance: str(),
        },
        ['involvedObject'],
      ),
      served: true,
      storage: true,
    },
  ],
  builtin: true,
  validate(o) {
    const out = validateObjectMeta(o);
    if (o.type !== undefined && o.type !== 'Normal' && o.type !== 'Warning') {
      out.push({ reason: 'FieldValueNotSupported', field: 'type', message: `Unsupported value: ${JSON.stringify(o.type)}: supported values: "Normal", "Warning"` });
    }
    return out;
  },
  table: {
    columns: [col('Last Seen', { type: 'date' }), col('Type'), col('Reason'), col('Object'), col('Message')],
    cells: (o) => {
      const ref = asRecord(o.involvedObject);
      return [
        o.lastTimestamp ?? o.eventTime ?? o.firstTimestamp ?? o.metadata.creationTimestamp ?? null,
        o.type ?? NONE,
        o.reason ?? '',
        `${String(ref.kind ?? '').toLowerCase()}/${ref.name ?? ''}`,
        o.message ?? '',
      ];
    },
  },
});

export const CORE_TYPES: ResourceType[] = [namespaceType, serviceAccountType, configMapType, secretType, eventType];
