// What the API server knows about each resource type: names for discovery, versions, schema,
// defaulting, validation and table columns. The HTTP layer is generic over this descriptor;
// each group's kinds are declared in their own file in this folder.
import type { KubeObject } from '../../store/types.js';
import type { FieldCause } from '../../kube/field-errors.js';

/** A structural schema, the OpenAPI v3 subset that CRDs use. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  enum?: (string | number)[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  description?: string;
  /** map<string, X> */
  additionalProperties?: Schema | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  nullable?: boolean;
}

/** One invalid field, as a Status cause. reason: FieldValueRequired, FieldValueInvalid, FieldValueDuplicate, FieldValueNotSupported, FieldValueTooLong, FieldValueForbidden. */
export type { FieldCause } from '../../kube/field-errors.js';

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  /** 0 = always shown, 1 = only with -o wide. */
  priority: number;
}

export interface ResourceVersionDef {
  name: string; // 'v1beta1'
  /** Schema of the whole object (apiVersion/kind/metadata are added by the server). */
  schema: Schema;
  served: boolean;
  storage: boolean;
}

export interface ResourceType {
  group: string; // '' for core
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories?: string[];
  namespaced: boolean;
  /** Served versions, preferred first. Exactly one has storage: true. */
  versions: ResourceVersionDef[];
  /** Has a status subresource (spec and status are written separately). */
  statusSubresource: boolean;
  /** Built-in kinds accept strategic-merge-patch; CRD-style kinds answer 415. */
  builtin: boolean;
  /** List merge keys for strategic merge patch, by JSON path, e.g. {'spec.ports': 'port'}. */
  mergeKeys?: Record<string, string>;
  /** Not stored (tokenreviews): only `create` is served. */
  virtual?: boolean;
  verbs: string[];
  /** Converts an object between served versions (same group). Identity when absent. */
  convert?(obj: KubeObject, toVersion: string): KubeObject;
  /** Fills defaults in place (after schema defaulting). */
  applyDefaults?(obj: KubeObject): void;
  /** Semantic validation beyond the schema. `old` is set on update. */
  validate?(obj: KubeObject, old?: KubeObject): FieldCause[];
  /** Validation of the status subresource, if any. */
  validateStatus?(obj: KubeObject): FieldCause[];
  table: {
    /** Columns after Name and before Age (Age is appended by the server). */
    columns: TableColumn[];
    cells(obj: KubeObject): unknown[];
  };
}
