// Strategic merge patch, the subset Kubernetes built-ins need (wire spec §6.3): recursive merge
// with null deletes; keyed lists merged by the caller's merge keys; metadata.finalizers merged as
// a set; other lists replaced whole; directives $patch, $retainKeys, $setElementOrder/<list> and
// $deleteFromPrimitiveList/<list>.
import { PatchError } from './errors.js';
import { deepCopy, getOwn, isPlainObject, jsonEqual, setOwn, type JsonObject } from './json.js';

export interface StrategicMergeOptions {
  /** List merge keys by dotted field path without indices, e.g. {'spec.ports': 'port', 'secrets': 'name'}. */
  mergeKeys?: Record<string, string>;
  /** Lists of primitives merged as sets, by dotted path. metadata.finalizers is always one. */
  primitiveMergeLists?: string[];
}

/** Merge strategies that hold for every kind (upstream ObjectMeta struct tags). */
const METADATA_MERGE_KEYS: Record<string, string> = { 'metadata.ownerReferences': 'uid' };
const METADATA_PRIMITIVE_LISTS = ['metadata.finalizers'];

interface Context {
  mergeKeys: Record<string, string>;
  primitiveLists: Set<string>;
}

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

/** Applies `patch` to a copy of `original` (which is not modified; it may be frozen). */
export function strategicMergePatch<T = unknown>(original: unknown, patch: unknown, opts: StrategicMergeOptions = {}): T {
  if (!isPlainObject(patch)) throw new PatchError('BadRequest', 'a strategic merge patch must be a JSON object');
  const ctx: Context = {
    mergeKeys: { ...METADATA_MERGE_KEYS, ...opts.mergeKeys },
    primitiveLists: new Set([...METADATA_PRIMITIVE_LISTS, ...(opts.primitiveMergeLists ?? [])]),
  };
  const base = isPlainObject(original) ? (deepCopy(original) as JsonObject) : {};
  return (mergeMap(base, patch, '', ctx) ?? {}) as T;
}

const isDirective = (k: string) => k === '$patch' || k === '$retainKeys' || k.startsWith(SET_ORDER) || k.startsWith(DELETE_FROM);
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** Merges `patch` into `original` (mutated). Returns undefined when the map itself is deleted. */
function mergeMap(original: JsonObject, patch: JsonObject, path: string, ctx: Context): JsonObject | undefined {
  const directive = getOwn(patch, '$patch');
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return mergeMap({}, rest, path, ctx);
  }
  if (directive !== undefined && directive !== 'merge') {
    throw new PatchError('BadRequest', `unknown patch type: ${JSON.stringify(directive)} in map at ${path || '<root>'}`, path);
  }

  const retain = getOwn(patch, '$retainKeys');
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) {
      throw new PatchError('BadRequest', `$retainKeys at ${path || '<root>'} must be a list of strings`, path);
    }
    for (const k of Object.keys(patch)) {
      if (!isDirective(k) && !retain.includes(k)) {
        throw new PatchError('Invalid', `the patch has a key "${k}" that is not in $retainKeys at ${path || '<root>'}`, join(path, k));
      }
    }
    for (const k of Object.keys(original)) if (!retain.includes(k)) delete original[k];
  }

  for (const [k, values] of Object.entries(patch)) {
    if (!k.startsWith(DELETE_FROM)) continue;
    const field = k.slice(DELETE_FROM.length);
    if (!Array.isArray(values)) throw new PatchError('BadRequest', `${k} at ${path || '<root>'} must be a list`, join(path, field));
    const current = getOwn(original, field);
    if (Array.isArray(current)) setOwn(original, field, current.filter((v) => !values.some((d) => jsonEqual(d, v))));
  }

  for (const [k, value] of Object.entries(patch)) {
    if (isDirective(k)) continue;
    const childPath = join(path, k);
    const current = getOwn(original, k);
    if (value === null) {
      delete original[k];
    } else if (isPlainObject(value)) {
      const merged = mergeMap(isPlainObject(current) ? current : {}, value, childPath, ctx);
      if (merged === undefined) delete original[k];
      else setOwn(original, k, merged);
    } else if (Array.isArray(value)) {
      const order = getOwn(patch, SET_ORDER + k);
      setOwn(original, k, mergeList(Array.isArray(current) ? current : [], value, childPath, ctx, order));
    } else {
      setOwn(original, k, value);
    }
  }

  // An order directive without the list itself only reorders the existing list.
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER)) continue;
    const field = k.slice(SET_ORDER.length);
    const current = getOwn(original, field);
    if (getOwn(patch, field) === undefined && Array.isArray(current)) {
      setOwn(original, field, reorder(current, order, ctx.mergeKeys[join(path, field)], join(path, field)));
    }
  }
  return original;
}

function mergeList(original: unknown[], patch: unknown[], path: string, ctx: Context, order: unknown): unknown[] {
  const replaceDirective = patch.findIndex((item) => isPlainObject(item) && getOwn(item, '$patch') === 'replace');
  if (replaceDirective >= 0) {
    return replaceList(patch.filter((_, i) => i !== replaceDirective), path, ctx);
  }
  const key = ctx.mergeKeys[path];
  if (key !== undefined) {
    const serverOrder = original.map((o) => (isPlainObject(o) ? getOwn(o, key) : undefined));
    let result = original;
    const fromPatch: unknown[] = [];
    for (const item of patch) {
      if (!isPlainObject(item)) throw new PatchError('BadRequest', `the list ${path} is merged by "${key}" but an item is not an object`, path);
      const kv = getOwn(item, key);
      if (kv === undefined) {
        throw new PatchError('BadRequest', `map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`, path);
      }
      const same = (o: unknown) => isPlainObject(o) && jsonEqual(getOwn(o, key), kv);
      if (getOwn(item, '$patch') === 'delete') {
        result = result.filter((o) => !same(o));
        continue;
      }
      const index = result.findIndex(same);
      const merged = mergeMap(index >= 0 ? (result[index] as JsonObject) : {}, item, path, ctx);
      if (index >= 0) {
        if (merged === undefined) result.splice(index, 1);
        else result[index] = merged;
      } else if (merged !== undefined) result.push(merged);
      if (merged !== undefined && !fromPatch.includes(merged)) fromPatch.push(merged);
    }
    if (order !== undefined) return reorder(result, order, key, path);
    return interleave(result.filter((o) => !fromPatch.includes(o)), fromPatch, (o) => serverOrder.findIndex((k) => k !== undefined && jsonEqual(k, getOwn(o as JsonObject, key))));
  }
  if (ctx.primitiveLists.has(path)) {
    const result = [...original];
    for (const v of patch) {
      if (isPlainObject(v) || Array.isArray(v)) throw new PatchError('BadRequest', `the list ${path} holds only primitive values`, path);
      if (!result.some((o) => jsonEqual(o, v))) result.push(v);
    }
    return order === undefined ? result : reorder(result, order, undefined, path);
  }
  return replaceList(patch, path, ctx);
}

/**
 * The order kube-apiserver gives a merged keyed list: the patch's items in patch order, the items
 * only the server had in their order, interleaved by their position in the live list (upstream
 * mergeSortedSlice): a server-only item goes first when both were in the live list and it came first.
 */
function interleave(serverOnly: unknown[], fromPatch: unknown[], liveIndex: (o: unknown) => number): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < fromPatch.length) {
    if (j >= fromPatch.length) out.push(serverOnly[i++]);
    else if (i >= serverOnly.length) out.push(fromPatch[j++]);
    else {
      const li = liveIndex(serverOnly[i]);
      const ri = liveIndex(fromPatch[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]);
      else out.push(fromPatch[j++]);
    }
  }
  return out;
}

/** An atomic list: the patch's items, with directives stripped from any maps inside. */
function replaceList(items: unknown[], path: string, ctx: Context): unknown[] {
  const out: unknown[] = [];
  for (const item of items) {
    if (isPlainObject(item)) {
      const m = mergeMap({}, item, path, ctx);
      if (m !== undefined) out.push(m);
    } else out.push(deepCopy(item));
  }
  return out;
}

/** Orders `items` as `order` lists them; items not listed keep their relative order, after the listed ones. */
function reorder(items: unknown[], order: unknown, key: string | undefined, path: string): unknown[] {
  if (!Array.isArray(order)) throw new PatchError('BadRequest', `$setElementOrder/${path} must be a list`, path);
  const identity = (o: unknown) => (key !== undefined && isPlainObject(o) ? getOwn(o, key) : o);
  const wanted = order.map(identity);
  const rank = (o: unknown, i: number) => {
    const r = wanted.findIndex((w) => jsonEqual(w, identity(o)));
    return r >= 0 ? r : wanted.length + i;
  };
  return items
    .map((o, i) => ({ o, r: rank(o, i) }))
    .sort((a, b) => a.r - b.r)
    .map((x) => x.o);
}
