// Admission of an object body for one served version: unknown-field handling per
// fieldValidation (Strict → 400, Warn → warnings, Ignore), pruning, schema defaulting and
// validation, conversion to the storage version, and the type's own defaults and checks.
import type { KubeObject } from '../../store/types.js';
import type { FieldCause, ResourceType, Schema } from '../resources/types.js';
import { applySchemaDefaults, findUnknownFields, pruneUnknownFields, validateSchema } from '../schema/structural.js';
import { apiVersionOf, storageVersion, type ServedResource } from '../server/registry.js';
import { badRequest } from '../server/status.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(v: string | null): FieldValidation {
  if (v === null || v === '' || v === 'Warn') return 'Warn';
  if (v === 'Strict' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation must be one of Strict, Warn or Ignore, not "${v}"`);
}

const STRING: Schema = { type: 'string' };
const STRING_MAP: Schema = { type: 'object', additionalProperties: STRING };
const LOOSE_OBJECT: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

/** ObjectMeta, so that `metadata.bogus` is an unknown field as on a real server. */
const OBJECT_META: Schema = {
  type: 'object',
  properties: {
    name: STRING,
    generateName: STRING,
    namespace: STRING,
    selfLink: STRING,
    uid: STRING,
    resourceVersion: STRING,
    generation: { type: 'integer' },
    creationTimestamp: { type: 'string', nullable: true },
    deletionTimestamp: { type: 'string', nullable: true },
    deletionGracePeriodSeconds: { type: 'integer' },
    labels: STRING_MAP,
    annotations: STRING_MAP,
    ownerReferences: {
      type: 'array',
      items: {
        type: 'object',
        required: ['apiVersion', 'kind', 'name', 'uid'],
        properties: { apiVersion: STRING, kind: STRING, name: STRING, uid: STRING, controller: { type: 'boolean' }, blockOwnerDeletion: { type: 'boolean' } },
      },
    },
    finalizers: { type: 'array', items: STRING },
    managedFields: { type: 'array', items: LOOSE_OBJECT },
  },
};

const schemaCache = new WeakMap<Schema, Schema>();

/** The version's schema with apiVersion, kind and metadata added (descriptors leave them out). */
export function fullSchema(served: ServedResource): Schema {
  const base = served.version.schema;
  let full = schemaCache.get(base);
  if (!full) {
    full = { ...base, type: 'object', properties: { apiVersion: STRING, kind: STRING, metadata: OBJECT_META, ...base.properties } };
    schemaCache.set(base, full);
  }
  return full;
}

export interface SchemaOutcome {
  warnings: string[];
  causes: FieldCause[];
}

/**
 * Applies the served version's schema to `obj` in place: unknown fields (per fieldValidation),
 * pruning, defaults, then structural validation. Strict with unknown fields throws 400.
 */
export function applyVersionSchema(served: ServedResource, obj: KubeObject, mode: FieldValidation): SchemaOutcome {
  const schema = fullSchema(served);
  const warnings: string[] = [];
  const unknown = findUnknownFields(obj, schema);
  if (unknown.length > 0) {
    const text = unknown.map((f) => `unknown field ${JSON.stringify(f)}`);
    if (mode === 'Strict') {
      const kind = served.type.kind;
      throw badRequest(`${kind} in version "${served.version.name}" cannot be handled as a ${kind}: strict decoding error: ${text.join(', ')}`);
    }
    if (mode === 'Warn') warnings.push(...text);
  }
  pruneUnknownFields(obj, schema);
  applySchemaDefaults(obj, schema);
  return { warnings, causes: validateSchema(obj, schema) };
}

/** Converts an object to another served version of its type (identity when the type has no converter). */
export function convertTo(type: ResourceType, obj: KubeObject, version: string): KubeObject {
  const target = apiVersionOf(type.group, version);
  if (obj.apiVersion === target) return obj;
  const converted = type.convert ? type.convert(obj, version) : { ...obj };
  converted.apiVersion = target;
  converted.kind = type.kind;
  return converted;
}

export function toStorage(type: ResourceType, obj: KubeObject): KubeObject {
  return convertTo(type, obj, storageVersion(type));
}

/** The type's own defaults and semantic checks, on the storage-version object. */
export function semanticCauses(type: ResourceType, obj: KubeObject, old?: KubeObject): FieldCause[] {
  type.applyDefaults?.(obj);
  return type.validate?.(obj, old) ?? [];
}
