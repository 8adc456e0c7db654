// Server-side apply, approximation (b) of the wire spec §5.2: merge the applied configuration into
// the live object, then prune the fields this field manager applied last time but no longer does.
// The fields a manager applied can be kept as a managedFields-style field set (FieldsV1).
import { PatchError } from './errors.js';
import { jsonMergePatch } from './merge.js';
import { getOwn, isPlainObject, setOwn, type JsonObject } from './json.js';

/**
 * New object = live merged with `applied` (maps merge, lists and scalars replace, null deletes),
 * minus every field present in `previousApplied` (this manager's last applied config, or a
 * skeleton from fieldSetToSkeleton) but absent from `applied`. `live` undefined = create.
 */
export function applyPatch<T = JsonObject>(live: unknown, applied: unknown, previousApplied?: unknown): T {
  if (!isPlainObject(applied)) throw new PatchError('BadRequest', 'an apply patch must be an object');
  const merged = jsonMergePatch<JsonObject>(isPlainObject(live) ? live : {}, applied);
  if (isPlainObject(previousApplied)) prune(merged, previousApplied, applied);
  return merged as T;
}

function prune(target: JsonObject, previous: JsonObject, applied: JsonObject): void {
  for (const k of Object.keys(previous)) {
    const now = getOwn(applied, k);
    if (now === undefined || now === null) {
      delete target[k];
      continue;
    }
    const prev = getOwn(previous, k);
    const cur = getOwn(target, k);
    if (isPlainObject(prev) && isPlainObject(now) && isPlainObject(cur)) prune(cur, prev, now);
  }
}

/** Fields the server owns or that identify the object: never recorded as applied, never pruned. */
const UNOWNED_TOP = new Set(['apiVersion', 'kind']);
const UNOWNED_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink']);

/**
 * The set of fields an applied config sets, as Kubernetes FieldsV1 (`{"f:spec":{"f:ports":{}}}`);
 * maps get a "." entry, lists are atomic leaves. Store it in metadata.managedFields[].fieldsV1.
 */
export function fieldSetOf(applied: unknown): JsonObject {
  return toFieldSet(applied, 0, '');
}

function toFieldSet(value: unknown, depth: number, parentKey: string): JsonObject {
  const out: JsonObject = {};
  if (!isPlainObject(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if (depth === 0 && UNOWNED_TOP.has(k)) continue;
    if (depth === 1 && parentKey === 'metadata' && UNOWNED_META.has(k)) continue;
    const child = toFieldSet(v, depth + 1, k);
    // metadata with only name/namespace sets no field of its own (it would read as owning all metadata).
    if (depth === 0 && k === 'metadata' && Object.keys(child).length === 0) continue;
    if (isPlainObject(v) && Object.keys(child).length > 0) child['.'] = {};
    setOwn(out, `f:${k}`, child);
  }
  return out;
}

/** Turns a FieldsV1 set back into a skeleton object usable as `previousApplied`. */
export function fieldSetToSkeleton(set: unknown): JsonObject {
  const out: JsonObject = {};
  if (!isPlainObject(set)) return out;
  for (const [k, v] of Object.entries(set)) {
    if (k.startsWith('f:')) setOwn(out, k.slice(2), fieldSetToSkeleton(v));
  }
  return out;
}
