// Small constructors for structural schemas, plus the shared pieces every kind uses
// (ObjectMeta, label selectors, conditions, object references).
import type { Schema } from '../resources/types.js';

export const str = (extra: Partial<Schema> = {}): Schema => ({ type: 'string', ...extra });
export const int = (extra: Partial<Schema> = {}): Schema => ({ type: 'integer', ...extra });
export const int32 = (extra: Partial<Schema> = {}): Schema => ({ type: 'integer', format: 'int32', ...extra });
export const int64 = (extra: Partial<Schema> = {}): Schema => ({ type: 'integer', format: 'int64', ...extra });
export const bool = (extra: Partial<Schema> = {}): Schema => ({ type: 'boolean', ...extra });
export const dateTime = (extra: Partial<Schema> = {}): Schema => ({ type: 'string', format: 'date-time', ...extra });
export const arr = (items: Schema, extra: Partial<Schema> = {}): Schema => ({ type: 'array', items, ...extra });
export const strings = (extra: Partial<Schema> = {}): Schema => arr(str(), extra);
export const stringMap = (extra: Partial<Schema> = {}): Schema => ({ type: 'object', additionalProperties: str(), ...extra });
export const intOrString = (extra: Partial<Schema> = {}): Schema => ({ 'x-kubernetes-int-or-string': true, ...extra });
/** An object whose content is kept as is (no pruning below it). */
export const preserved = (extra: Partial<Schema> = {}): Schema => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...extra });

export function obj(properties: Record<string, Schema>, required?: string[], extra: Partial<Schema> = {}): Schema {
  return { type: 'object', properties, ...(required?.length ? { required } : {}), ...extra };
}

export const ownerReferenceSchema = obj(
  { apiVersion: str(), kind: str(), name: str(), uid: str(), controller: bool(), blockOwnerDeletion: bool() },
  ['apiVersion', 'kind', 'name', 'uid'],
);

export const objectMetaSchema: Schema = obj(
  {
    name: str(),
    generateName: str(),
    namespace: str(),
    selfLink: str(),
    uid: str(),
    resourceVersion: str(),
    generation: int64(),
    creationTimestamp: { ...dateTime(), nullable: true },
    deletionTimestamp: dateTime(),
    deletionGracePeriodSeconds: int64(),
    labels: stringMap(),
    annotations: stringMap(),
    ownerReferences: arr(ownerReferenceSchema),
    finalizers: strings(),
    managedFields: arr(preserved()),
  },
  undefined,
  { description: 'Standard object metadata.' },
);

/** The schema of a whole object: apiVersion, kind and metadata, then the kind's own top-level fields. */
export function rootSchema(properties: Record<string, Schema>, required?: string[], description?: string): Schema {
  return obj({ apiVersion: str(), kind: str(), metadata: objectMetaSchema, ...properties }, required, description ? { description } : {});
}

export const labelSelectorSchema: Schema = obj({
  matchLabels: stringMap(),
  matchExpressions: arr(
    obj({ key: str(), operator: str({ enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }), values: strings() }, ['key', 'operator']),
  ),
});

export const conditionSchema: Schema = obj(
  {
    type: str({ maxLength: 316 }),
    status: str({ enum: ['True', 'False', 'Unknown'] }),
    reason: str({ maxLength: 1024 }),
    message: str({ maxLength: 32768 }),
    lastProbeTime: { ...dateTime(), nullable: true },
    lastTransitionTime: { ...dateTime(), nullable: true },
    observedGeneration: int64(),
  },
  ['type', 'status'],
);

export const objectReferenceSchema: Schema = obj({
  kind: str(),
  namespace: str(),
  name: str(),
  uid: str(),
  apiVersion: str(),
  resourceVersion: str(),
  fieldPath: str(),
});

/** Linkerd/Gateway-API style reference to another resource. */
export const targetRefSchema = (requiredFields: string[] = ['kind', 'name']): Schema =>
  obj(
    {
      group: str({ maxLength: 253 }),
      kind: str({ minLength: 1, maxLength: 63, pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$' }),
      name: str({ minLength: 1, maxLength: 253 }),
      namespace: str({ maxLength: 253 }),
      port: int32({ minimum: 1, maximum: 65535 }),
      sectionName: str({ maxLength: 253 }),
    },
    requiredFields,
  );
