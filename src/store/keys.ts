// Keys, continue tokens, sorted-key search and deep freezing: the small pure helpers of the store.
import type { KubeObject, ResourceRef } from './types.js';

/** Errors in what the caller passed (a missing name, a malformed continue token): HTTP 400. */
export class StoreInputError extends Error {
  readonly reason = 'BadRequest' as const;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'StoreInputError';
  }
}

export function refKey(ref: ResourceRef): string {
  return `${ref.group}/${ref.resource}`;
}

/** "services" or "externalworkloads.workload.linkerd.io", as Kubernetes names a resource in messages. */
export function qualifiedResource(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

/**
 * Key of an object inside its collection. NUL sorts before every other character, so sorting keys
 * orders by namespace, then name, like etcd's /registry/<resource>/<ns>/<name> keys.
 */
export function objectKey(namespace: string, name: string): string {
  return `${namespace}\0${name}`;
}

export function identify(obj: KubeObject): { namespace: string; name: string } {
  const name = obj?.metadata?.name;
  if (typeof name !== 'string' || name === '') throw new StoreInputError('metadata.name is required', 'metadata.name');
  const namespace = obj.metadata.namespace ?? '';
  if (typeof namespace !== 'string') throw new StoreInputError('metadata.namespace must be a string', 'metadata.namespace');
  if (name.includes('\0') || namespace.includes('\0')) {
    throw new StoreInputError('metadata.name and metadata.namespace must not contain NUL', 'metadata.name');
  }
  return { namespace, name };
}

export interface ContinueToken {
  /** The revision every page of this list is consistent with. */
  rev: number;
  /** The key of the last item returned; the next page starts after it. */
  key: string;
}

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 1, rev: t.rev, key: t.key })).toString('base64url');
}

export function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; rev?: unknown; key?: unknown };
    if (t.v === 1 && Number.isSafeInteger(t.rev) && (t.rev as number) >= 0 && typeof t.key === 'string') {
      return { rev: t.rev as number, key: t.key };
    }
  } catch {}
  throw new StoreInputError('continue key is not valid: malformed token', 'continue');
}

/** Index of the first element of the sorted array that is > key (strict) or >= key. */
export function lowerBound(sorted: readonly string[], key: string, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = sorted[mid];
    if (k < key || (strict && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Freezes an object graph so cached objects handed to callers cannot be mutated by accident. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
