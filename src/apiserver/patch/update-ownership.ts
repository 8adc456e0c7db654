// managedFields for writes that are not server-side apply (create, update, merge/JSON/strategic
// patches), as kube-apiserver's field manager keeps them (pure): the writing manager (fieldManager,
// else the User-Agent's product name, else "unknown") gets an `Update` entry owning the fields it
// set or changed, which other managers lose; fields the object no longer has leave every entry.
// Apply conflicts then see these owners too (field-ownership.ts).
import { fieldSetOf } from './apply.js';
import { withoutFields } from './field-ownership.js';
import { getOwn, isPlainObject, jsonEqual, type JsonObject } from './json.js';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

export interface UpdateWrite {
  manager: string;
  apiVersion: string;
  subresource?: string;
  now: string;
}

/** The manager kube-apiserver names for a write without fieldManager: the User-Agent up to its first "/". */
export function managerOf(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const product = (userAgent ?? '').split('/')[0].slice(0, 128);
  return product || 'unknown';
}

const define = (o: JsonObject, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });

/** Top-level structs, never owned as a whole ("." marks maps and list items, not structs). */
const STRUCTS = new Set(['f:metadata', 'f:spec', 'f:status']);

/** Field set of the leaves of `after` that differ from `before`; "." on maps `before` did not have. */
function changedFields(before: unknown, after: unknown, set: unknown, depth = 0): JsonObject | undefined {
  if (!isPlainObject(set)) return undefined;
  const out: JsonObject = {};
  for (const k of Object.keys(set)) {
    if (!k.startsWith('f:')) continue;
    const name = k.slice(2);
    const b = isPlainObject(before) ? getOwn(before, name) : undefined;
    const a = isPlainObject(after) ? getOwn(after, name) : undefined;
    const sub = getOwn(set, k);
    const isMap = isPlainObject(a) && Object.keys(sub as JsonObject).some((c) => c.startsWith('f:'));
    if (!isMap) {
      if (!jsonEqual(a, b)) define(out, k, {});
      continue;
    }
    const inner = changedFields(b, a, sub, depth + 1);
    if (inner === undefined && isPlainObject(b)) continue;
    const entry = inner ?? {};
    if (!isPlainObject(b) && !(depth === 0 && STRUCTS.has(k))) define(entry, '.', {});
    define(out, k, entry);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * `set` without the leaves of `taken`, keeping a map the entry created ("."): an `Update` manager
 * that created a map still owns it when another takes its keys (kube-apiserver keeps such an entry;
 * an `Apply` entry left without leaves goes, see withoutFields).
 */
function withoutLeaves(set: unknown, taken: unknown): JsonObject | undefined {
  if (!isPlainObject(set)) return undefined;
  const out: JsonObject = {};
  for (const k of Object.keys(set)) {
    const v = getOwn(set, k);
    const t = isPlainObject(taken) ? getOwn(taken, k) : undefined;
    if (t === undefined || k === '.') {
      define(out, k, v);
      continue;
    }
    const vChildren = isPlainObject(v) && Object.keys(v).some((c) => c.startsWith('f:'));
    const tChildren = isPlainObject(t) && Object.keys(t).some((c) => c.startsWith('f:'));
    if (!vChildren || !tChildren) continue;
    const kept = withoutLeaves(v, t);
    if (kept) define(out, k, kept);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Union of two field sets. */
function union(a: unknown, b: unknown): JsonObject {
  const out: JsonObject = {};
  for (const s of [a, b]) {
    if (!isPlainObject(s)) continue;
    for (const k of Object.keys(s)) {
      const prev = getOwn(out, k);
      define(out, k, prev === undefined ? getOwn(s, k) : union(prev, getOwn(s, k)));
    }
  }
  return out;
}

/** The part of `set` the object still has (`present` is the object's own field set). */
function stillPresent(set: unknown, present: unknown): JsonObject | undefined {
  if (!isPlainObject(set) || !isPlainObject(present)) return undefined;
  const out: JsonObject = {};
  for (const k of Object.keys(set)) {
    if (k === '.') {
      define(out, k, {});
      continue;
    }
    const p = getOwn(present, k);
    if (p === undefined) continue;
    const v = getOwn(set, k);
    const hasChildren = isPlainObject(v) && Object.keys(v).some((c) => c.startsWith('f:'));
    define(out, k, hasChildren ? (stillPresent(v, p) ?? {}) : v);
  }
  return Object.keys(out).some((k) => k.startsWith('f:')) ? out : undefined;
}

/**
 * managedFields after `write` turned `before` (undefined on create) into `after`. Entries whose
 * fields are all gone are dropped; the writer's entry keeps its time when its fields did not change.
 */
export function recordUpdate(entries: readonly ManagedFieldsEntry[], before: unknown, after: unknown, write: UpdateWrite): ManagedFieldsEntry[] {
  const present = fieldSetOf(after);
  const changed = changedFields(before, after, present);
  const mineOf = (e: ManagedFieldsEntry) => e.manager === write.manager && e.operation === 'Update' && (e.subresource ?? '') === (write.subresource ?? '');
  const mine = entries.find(mineOf);
  const out: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (e === mine) continue;
    const left = !changed ? e.fieldsV1 : e.operation === 'Update' ? withoutLeaves(e.fieldsV1, changed) : withoutFields(e.fieldsV1, changed);
    const kept = stillPresent(left, present);
    if (kept) out.push(jsonEqual(kept, e.fieldsV1) ? e : { ...e, fieldsV1: kept });
  }
  const fields = stillPresent(union(mine?.fieldsV1, changed), present);
  if (fields) {
    const same = mine && jsonEqual(fields, mine.fieldsV1) && mine.apiVersion === write.apiVersion;
    const entry: ManagedFieldsEntry = { manager: write.manager, operation: 'Update', apiVersion: write.apiVersion, time: write.now, fieldsType: 'FieldsV1', fieldsV1: fields };
    if (write.subresource) entry.subresource = write.subresource;
    out.push(same ? mine : entry);
  }
  return out;
}
