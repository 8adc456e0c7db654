// Constructors for Kubernetes-style field errors (Status causes): the reason names and message
// bodies follow apimachinery's field.Error, so kubectl prints them as on a real cluster.

/** One cause of a 422 Invalid Status: which field, the reason (FieldValueInvalid, …) and the message. */
export interface FieldCause {
  reason: string;
  message: string;
  field: string;
}

/** Formats a value the way field.Error does: strings quoted, numbers and booleans bare, objects as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function required(field: string, detail?: string): FieldCause {
  return { reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' };
}

export function invalid(field: string, value: unknown, detail?: string): FieldCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${formatValue(value)}${detail ? `: ${detail}` : ''}` };
}

export function typeInvalid(field: string, value: unknown, expected: string): FieldCause {
  const shown = typeof value === 'object' && value !== null ? (Array.isArray(value) ? '"array"' : '"object"') : formatValue(value);
  return { reason: 'FieldValueTypeInvalid', field, message: `Invalid value: ${shown}: ${field || 'body'} in body must be of type ${expected}: ${JSON.stringify(jsType(value))}` };
}

export function notSupported(field: string, value: unknown, valid: readonly (string | number)[]): FieldCause {
  return { reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${formatValue(value)}: supported values: ${valid.map((v) => formatValue(v)).join(', ')}` };
}

export function duplicate(field: string, value: unknown): FieldCause {
  return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${formatValue(value)}` };
}

export function forbidden(field: string, detail: string): FieldCause {
  return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` };
}

export function tooLong(field: string, max: number): FieldCause {
  return { reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` };
}

export function tooMany(field: string, actual: number, max: number): FieldCause {
  return { reason: 'FieldValueTooMany', field, message: `Too many: ${actual}: must have at most ${max} items` };
}

/** The Go type name a JSON value decodes to, used in type errors. */
export function jsType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `field: message` lines joined like kubectl shows them: `spec.x: Required value, spec.y: Invalid value: …`. */
export function describeCauses(causes: FieldCause[]): string {
  if (causes.length === 1) return `${causes[0].field}: ${causes[0].message}`;
  return `[${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]`;
}

/** Field path helpers: child('spec','ports') → 'spec.ports'; index('spec.ports', 0) → 'spec.ports[0]'. */
export function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}
