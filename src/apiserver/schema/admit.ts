// The admission pipeline every write goes through: prune (and report) unknown fields, apply
// schema and kind defaults, validate against the schema, then the kind's semantic rules, then
// convert to the storage version. The HTTP layer decides what unknown fields mean (Strict/Warn/Ignore).
import type { FieldCause, ResourceType, ResourceVersionDef } from '../resources/types.js';
import type { KubeObject } from '../../store/types.js';
import { applySchemaDefaults, cloneJson, pruneUnknownFields, validateSchema } from './structural.js';

export interface AdmissionResult {
  /** The pruned, defaulted object, converted to the storage version (a copy; the input is untouched). */
  object: KubeObject;
  /** Paths of fields the schema does not know (`spec.bogus`); they were pruned from `object`. */
  unknownFields: string[];
  /** Schema and semantic violations; non-empty means 422 Invalid. */
  causes: FieldCause[];
}

export function versionOf(rt: ResourceType, version: string): ResourceVersionDef | undefined {
  return rt.versions.find((v) => v.name === version);
}

export function storageVersion(rt: ResourceType): ResourceVersionDef {
  return rt.versions.find((v) => v.storage) ?? rt.versions[0];
}

export function apiVersionString(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Converts to `toVersion` with the kind's converter (or by relabelling apiVersion), and sets apiVersion/kind. */
export function convertObject(rt: ResourceType, obj: KubeObject, toVersion: string): KubeObject {
  const target = apiVersionString(rt.group, toVersion);
  const converted = rt.convert && obj.apiVersion !== target ? rt.convert(obj, toVersion) : { ...obj };
  converted.apiVersion = target;
  converted.kind = rt.kind;
  return converted;
}

/** A copy of `input` stamped with the kind and the apiVersion of `version`, and that version's definition. */
function typedCopy(rt: ResourceType, version: string, input: KubeObject): { def: ResourceVersionDef; obj: KubeObject } {
  const def = versionOf(rt, version);
  if (!def) throw new Error(`${rt.kind} has no version ${version}`);
  const obj = cloneJson(input);
  obj.apiVersion = apiVersionString(rt.group, version);
  obj.kind = rt.kind;
  return { def, obj };
}

/**
 * Admits a create or update body written at `version` (the URL's version). `old` (storage version)
 * is passed to the kind's update rules. Semantic causes on a field that already failed the schema
 * are dropped, so each bad field is reported once.
 */
export function admitObject(rt: ResourceType, version: string, input: KubeObject, old?: KubeObject): AdmissionResult {
  const { def, obj } = typedCopy(rt, version, input);
  if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
  const unknownFields = pruneUnknownFields(obj, def.schema);
  applySchemaDefaults(obj, def.schema);
  const causes = validateSchema(obj, def.schema);
  const stored = convertObject(rt, obj, storageVersion(rt).name);
  rt.applyDefaults?.(stored);
  const semantic = rt.validate?.(stored, old) ?? [];
  return { object: stored, unknownFields, causes: mergeCauses(causes, semantic) };
}

/** Admits a write to the status subresource: only `status` is checked (the caller keeps the stored spec). */
export function admitStatus(rt: ResourceType, version: string, input: KubeObject): AdmissionResult {
  const { def, obj } = typedCopy(rt, version, input);
  const statusSchema = def.schema.properties?.status;
  const unknownFields = statusSchema && obj.status !== undefined ? pruneUnknownFields(obj.status, statusSchema, 'status') : [];
  if (statusSchema && obj.status !== undefined) applySchemaDefaults(obj.status, statusSchema);
  const causes = statusSchema ? validateSchema(obj.status, statusSchema, 'status') : [];
  const stored = convertObject(rt, obj, storageVersion(rt).name);
  const semantic = rt.validateStatus?.(stored) ?? [];
  return { object: stored, unknownFields, causes: mergeCauses(causes, semantic) };
}

function mergeCauses(schemaCauses: FieldCause[], semantic: FieldCause[]): FieldCause[] {
  const failed = new Set(schemaCauses.map((c) => c.field));
  return [...schemaCauses, ...semantic.filter((c) => !failed.has(c.field))];
}
