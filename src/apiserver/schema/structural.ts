// The structural-schema engine: type/enum/range checks with Kubernetes field paths, unknown-field
// detection and pruning, and schema defaulting. Pure functions over plain JSON values.
import type { FieldCause, Schema } from '../resources/types.js';
import { child, index, invalid, key, notSupported, required, tooLong, tooMany, typeInvalid } from '../../kube/field-errors.js';

type Json = unknown;

function isPlainObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The declared sub-schema of a field: own properties only, so "__proto__" or "constructor" is an unknown field, never Object.prototype. */
function propertySchema(schema: Schema | undefined, name: string): Schema | undefined {
  const props = schema?.properties;
  return props && Object.prototype.hasOwnProperty.call(props, name) ? props[name] : undefined;
}

/** Validates `value` against `schema`; returns every violation (empty when valid). Nulls count as absent. */
export function validateSchema(value: Json, schema: Schema, path = ''): FieldCause[] {
  const causes: FieldCause[] = [];
  walkValidate(value, schema, path, causes);
  return causes;
}

function walkValidate(value: Json, schema: Schema, path: string, out: FieldCause[]): void {
  if (value === null || value === undefined) return;
  if (schema['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))) {
      out.push(typeInvalid(path, value, 'integer,string'));
      return;
    }
  } else if (schema.type && !hasType(value, schema.type)) {
    out.push(typeInvalid(path, value, schema.type));
    return;
  }
  if (schema.enum && !schema.enum.includes(value as string | number)) {
    out.push(notSupported(path, value, schema.enum));
    return;
  }
  if (typeof value === 'string') checkString(value, schema, path, out);
  else if (typeof value === 'number') checkNumber(value, schema, path, out);
  else if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push(tooMany(path, value.length, schema.maxItems));
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      out.push(invalid(path, value.length, `${path} in body should have at least ${schema.minItems} items`));
    }
    if (schema.items) value.forEach((item, i) => walkValidate(item, schema.items!, index(path, i), out));
  } else if (isPlainObject(value)) {
    for (const name of schema.required ?? []) {
      if (value[name] === undefined || value[name] === null) out.push(required(child(path, name)));
    }
    for (const [name, v] of Object.entries(value)) {
      const sub = propertySchema(schema, name);
      if (sub) walkValidate(v, sub, child(path, name), out);
      else if (typeof schema.additionalProperties === 'object') walkValidate(v, schema.additionalProperties, key(path, name), out);
    }
  }
}

function hasType(value: Json, type: NonNullable<Schema['type']>): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
  }
}

function checkString(value: string, schema: Schema, path: string, out: FieldCause[]): void {
  if (schema.maxLength !== undefined && value.length > schema.maxLength) out.push(tooLong(path, schema.maxLength));
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    out.push(invalid(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
  }
  if (schema.pattern && !compiled(schema.pattern).test(value)) {
    out.push(invalid(path, value, `${path} in body should match '${schema.pattern}'`));
  }
  if (schema.format === 'date-time' && !isRfc3339(value)) {
    out.push(invalid(path, value, `${path} in body must be of type date-time`));
  }
}

function checkNumber(value: number, schema: Schema, path: string, out: FieldCause[]): void {
  if (schema.maximum !== undefined && value > schema.maximum) {
    out.push(invalid(path, value, `${path} in body should be less than or equal to ${schema.maximum}`));
  } else if (schema.minimum !== undefined && value < schema.minimum) {
    out.push(invalid(path, value, `${path} in body should be greater than or equal to ${schema.minimum}`));
  } else if (schema.format === 'int32' && (value > 2147483647 || value < -2147483648)) {
    out.push(invalid(path, value, `${path} in body must be a 32-bit integer`));
  }
}

const patternCache = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) patternCache.set(pattern, (re = new RegExp(pattern)));
  return re;
}

/** A deep copy of a JSON value (faster than structuredClone for plain data). */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) Object.defineProperty(out, k, { value: cloneJson((value as Record<string, unknown>)[k]), writable: true, enumerable: true, configurable: true });
    return out as T;
  }
  return value;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
export function isRfc3339(s: string): boolean {
  return RFC3339.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T')));
}

/** Paths of fields the schema does not know (`spec.bogus`, `spec.ports[0].nope`), without changing `value`. */
export function findUnknownFields(value: Json, schema: Schema, path = ''): string[] {
  const out: string[] = [];
  walkUnknown(value, schema, path, out, false);
  return out;
}

/** Removes unknown fields (and nulls in non-nullable fields) in place; returns the removed unknown paths. */
export function pruneUnknownFields(value: Json, schema: Schema, path = ''): string[] {
  const out: string[] = [];
  walkUnknown(value, schema, path, out, true);
  return out;
}

function walkUnknown(value: Json, schema: Schema, path: string, out: string[], prune: boolean): void {
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => walkUnknown(item, schema.items!, index(path, i), out, prune));
    return;
  }
  if (!isPlainObject(value)) return;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const name of Object.keys(value)) {
    const v = value[name];
    const sub = propertySchema(schema, name);
    if (sub) {
      if (v === null && prune && !sub.nullable) delete value[name];
      else walkUnknown(v, sub, child(path, name), out, prune);
    } else if (typeof schema.additionalProperties === 'object') {
      walkUnknown(v, schema.additionalProperties, key(path, name), out, prune);
    } else if (!preserve && schema.additionalProperties !== true && (schema.type === 'object' || schema.properties)) {
      out.push(child(path, name));
      if (prune) delete value[name];
    }
  }
}

/** Fills schema defaults in place, top-down (a defaulted object gets its own nested defaults too). */
export function applySchemaDefaults(value: Json, schema: Schema): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applySchemaDefaults(item, schema.items);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    if ((value[name] === undefined || (value[name] === null && !sub.nullable)) && sub.default !== undefined) {
      value[name] = cloneJson(sub.default);
    }
    if (value[name] !== undefined) applySchemaDefaults(value[name], sub);
  }
  if (typeof schema.additionalProperties === 'object') {
    for (const [name, v] of Object.entries(value)) {
      if (!propertySchema(schema, name)) applySchemaDefaults(v, schema.additionalProperties);
    }
  }
}

/** The sub-schema at a dotted path ('spec.ports'), following array items; undefined if unknown. */
export function schemaAt(schema: Schema, path: string): Schema | undefined {
  let cur: Schema | undefined = schema;
  for (const part of path.split('.').filter(Boolean)) {
    while (cur?.type === 'array' && cur.items) cur = cur.items;
    cur = propertySchema(cur, part) ?? (typeof cur?.additionalProperties === 'object' ? cur.additionalProperties : undefined);
    if (!cur) return undefined;
  }
  return cur;
}
