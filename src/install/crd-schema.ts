// Turns the embedded API's structural schema of a kind (src/apiserver/resources) into the
// openAPIV3Schema of its CustomResourceDefinition, and grafts the CEL rules (cel-rules.ts) that
// carry the semantic checks a schema cannot express. The schema is never written twice: the CRD
// is derived from the descriptor the embedded API validates with.
import type { Schema } from '../apiserver/resources/types.js';
import type { CelRule } from './cel-rules.js';

/** A CRD's JSONSchemaProps: the structural subset plus CEL validations. */
export type CrdSchema = Omit<Schema, 'properties' | 'items' | 'additionalProperties'> & {
  properties?: Record<string, CrdSchema>;
  items?: CrdSchema;
  additionalProperties?: CrdSchema;
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string; reason?: string }[];
};

/**
 * The openAPIV3Schema of one version. `metadata` becomes `{type: object}`: a CRD may not describe
 * ObjectMeta (the API server validates it, like the embedded one does in validateObjectMeta).
 */
export function crdSchemaOf(root: Schema, rules: CelRule[] = []): CrdSchema {
  const out = convert(root);
  if (out.properties?.metadata) out.properties.metadata = { type: 'object' };
  for (const rule of rules) graft(out, rule);
  return out;
}

function convert(s: Schema): CrdSchema {
  const out: CrdSchema = {};
  for (const [k, v] of Object.entries(s) as [keyof Schema, unknown][]) {
    if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([n, p]) => [n, convert(p)]));
    else if (k === 'items') out.items = convert(v as Schema);
    else if (k === 'additionalProperties') {
      // `true` is spelled x-kubernetes-preserve-unknown-fields in a structural schema.
      if (v === true) out['x-kubernetes-preserve-unknown-fields'] = true;
      else if (v && typeof v === 'object') out.additionalProperties = convert(v as Schema);
    } else (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** The sub-schema at a dotted path (`spec.workloadIPs[].ip`: `[]` steps into array items). */
export function schemaNodeAt(root: CrdSchema, path: string): CrdSchema {
  let cur: CrdSchema | undefined = root;
  for (const part of path.split('.').filter(Boolean)) {
    const name = part.replace(/\[\]$/, '');
    if (name) cur = cur?.properties?.[name];
    if (part.endsWith('[]')) cur = cur?.items;
    if (!cur) throw new Error(`CEL rule path ${path}: no such field in the schema`);
  }
  return cur!;
}

function graft(root: CrdSchema, rule: CelRule): void {
  const node = schemaNodeAt(root, rule.at);
  if (rule.maxLength !== undefined && node.maxLength === undefined) node.maxLength = rule.maxLength;
  if (rule.maxItems !== undefined && node.maxItems === undefined) node.maxItems = rule.maxItems;
  if (!rule.rule) return;
  node['x-kubernetes-validations'] ??= [];
  node['x-kubernetes-validations'].push({
    rule: rule.rule,
    message: rule.message,
    ...(rule.fieldPath ? { fieldPath: rule.fieldPath } : {}),
    ...(rule.reason ? { reason: rule.reason } : {}),
  });
}
