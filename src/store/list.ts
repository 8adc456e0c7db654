// Paging over a collection's sorted keys (limit/continue), and reconstructing a collection's state
// at an older revision from the event log so that every page of one list is consistent.
import { deepFreeze, encodeContinue, lowerBound, objectKey } from './keys.js';
import type { EventRow, Statements } from './schema.js';
import type { KubeObject, ListResult, ResourceRef } from './types.js';

export interface PageRequest {
  /** Every key of the collection, sorted. */
  keys: readonly string[];
  read: (key: string) => KubeObject | undefined;
  revision: number;
  /** Start after this key (from a continue token). */
  after?: string;
  namespace?: string;
  filter?: (obj: KubeObject) => boolean;
  limit?: number;
}

/** One page: up to `limit` matching items after `after`; a continue token only if more match. */
export function listPage(r: PageRequest): ListResult {
  const prefix = r.namespace === undefined ? undefined : objectKey(r.namespace, '');
  let i = r.after !== undefined ? lowerBound(r.keys, r.after, true) : 0;
  if (prefix !== undefined) i = Math.max(i, lowerBound(r.keys, prefix, false));
  const limit = r.limit && r.limit > 0 ? r.limit : Infinity;
  const items: KubeObject[] = [];
  let lastKey = '';
  let more = false;
  for (; i < r.keys.length; i++) {
    const k = r.keys[i];
    if (prefix !== undefined && !k.startsWith(prefix)) break;
    const obj = r.read(k);
    if (!obj || (r.filter && !r.filter(obj))) continue;
    if (items.length >= limit) {
      more = true;
      break;
    }
    items.push(obj);
    lastKey = k;
  }
  return { items, revision: r.revision, ...(more ? { continue: encodeContinue({ rev: r.revision, key: lastKey }) } : {}) };
}

export function eventsAfter(stmts: Statements, ref: ResourceRef, rev: number, namespace: string | undefined): Iterable<EventRow> {
  return namespace === undefined
    ? stmts.eventsAfter.iterate(rev, ref.group, ref.resource)
    : stmts.eventsAfterInNamespace.iterate(rev, ref.group, ref.resource, namespace);
}

/**
 * For every object of `ref` changed after `rev`: its state at `rev` (null = it did not exist).
 * The first event after `rev` tells: ADDED means absent then, otherwise its `previous` state.
 */
export function stateAt(stmts: Statements, ref: ResourceRef, rev: number, namespace: string | undefined): Map<string, KubeObject | null> {
  const past = new Map<string, KubeObject | null>();
  for (const row of eventsAfter(stmts, ref, rev, namespace)) {
    const k = objectKey(row.namespace, row.name);
    if (past.has(k)) continue;
    past.set(k, row.type === 'ADDED' || row.previous === null ? null : deepFreeze(JSON.parse(row.previous) as KubeObject));
  }
  return past;
}
