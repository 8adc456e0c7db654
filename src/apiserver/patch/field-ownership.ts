// Field ownership between server-side apply managers (pure), over FieldsV1 sets
// (`{"f:data":{".":{},"f:replicas":{}}}`): which fields a manager would take from another one
// (a conflict unless force), taking them over, and what a manager alone owns (what it may prune).
import { getOwn, isPlainObject, jsonEqual, type JsonObject } from './json.js';

export interface FieldConflict {
  manager: string;
  /** Kubernetes' field path: ".data.replicas". */
  field: string;
  /** The same path as field names (names may hold dots: label keys). */
  path: string[];
}

export interface ManagerFields {
  manager: string;
  fieldsV1: unknown;
}

const children = (set: JsonObject): string[] => Object.keys(set).filter((k) => k.startsWith('f:'));
const isLeaf = (set: unknown): boolean => !isPlainObject(set) || children(set).length === 0;

/** The leaf paths (lists of field names) two field sets both hold. */
function sharedLeaves(a: unknown, b: unknown, path: string[] = []): string[][] {
  if (!isPlainObject(a) || !isPlainObject(b)) return [];
  const out: string[][] = [];
  for (const k of children(a)) {
    const bk = getOwn(b, k);
    if (bk === undefined) continue;
    const ak = getOwn(a, k);
    const here = [...path, k.slice(2)];
    if (isLeaf(ak) || isLeaf(bk)) out.push(here);
    else out.push(...sharedLeaves(ak, bk, here));
  }
  return out;
}

function valueAt(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const k of path) cur = isPlainObject(cur) ? getOwn(cur, k) : undefined;
  return cur;
}

/**
 * Fields `applied` (whose field set is `mine`) sets to another value than the live object holds,
 * while another manager owns them. Setting a field to the value it has is shared ownership, not a
 * conflict (as in kube-apiserver's structured-merge-diff).
 */
export function applyConflicts(live: unknown, applied: unknown, mine: unknown, others: readonly ManagerFields[]): FieldConflict[] {
  const out: FieldConflict[] = [];
  for (const o of others) {
    for (const path of sharedLeaves(mine, o.fieldsV1)) {
      if (!jsonEqual(valueAt(live, path), valueAt(applied, path))) out.push({ manager: o.manager, field: '.' + path.join('.'), path });
    }
  }
  return out;
}

/** A copy of `set` without the leaves `remove` holds; maps left without fields go too. Undefined when nothing is left. */
export function withoutFields(set: unknown, remove: unknown): JsonObject | undefined {
  if (!isPlainObject(set)) return undefined;
  const out: JsonObject = {};
  for (const k of Object.keys(set)) {
    const v = getOwn(set, k);
    if (!k.startsWith('f:')) {
      Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
      continue;
    }
    const r = isPlainObject(remove) ? getOwn(remove, k) : undefined;
    let kept: unknown = v;
    if (r !== undefined) {
      if (isLeaf(v) || isLeaf(r)) continue;
      kept = withoutFields(v, r);
      if (kept === undefined) continue;
    }
    Object.defineProperty(out, k, { value: kept, writable: true, enumerable: true, configurable: true });
  }
  return children(out).length > 0 ? out : undefined;
}

/** A field set holding just these paths (for taking conflicting fields from their old owners). */
export function fieldSetOfPaths(paths: readonly string[][]): JsonObject {
  const out: JsonObject = {};
  for (const path of paths) {
    let cur = out;
    for (const k of path) {
      const key = `f:${k}`;
      let next = getOwn(cur, key) as JsonObject | undefined;
      if (!next) Object.defineProperty(cur, key, { value: (next = {}), writable: true, enumerable: true, configurable: true });
      cur = next;
    }
  }
  return out;
}
