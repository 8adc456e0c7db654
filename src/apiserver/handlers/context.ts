// What every handler works with: the store, the resource index, the clock, token signing, and
// the lifecycle hooks (garbage collection, namespace cascade) that run after deletes.
import type { ServiceIpAllocator } from '../service-ips.js';
import { randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { StoreError, type KubeObject, type Store } from '../../store/types.js';
import type { ServiceAccountTokens } from '../auth/serviceaccount-tokens.js';
import type { ResourceIndex, ServedResource } from '../server/registry.js';
import { ApiError, alreadyExists, badRequest, conflict, forbidden, internalError, notFound, qualifiedResource } from '../server/status.js';
import type { FieldValidation } from './admission.js';

export interface ApiContext {
  store: Store;
  index: ResourceIndex;
  clock: Clock;
  log: Logger;
  tokens: ServiceAccountTokens;
  /** Cluster IPs of new Services (src/apiserver/service-ips.ts). */
  serviceIPs?: ServiceIpAllocator;
  /** Called after an object is really removed from the store (garbage collection, namespace finalization). */
  afterDelete(deleted: KubeObject, served: ServedResource, opts: { orphanDependents: boolean }): void;
  /** Called after an object is created (e.g. a new namespace gets its `default` ServiceAccount). */
  afterCreate?(created: KubeObject, served: ServedResource): Promise<void>;
}

/** One write request's parameters, parsed from the URL and query. */
export interface WriteRequest {
  served: ServedResource;
  /** Namespace from the path; undefined for cluster-scoped types. */
  namespace?: string;
  /** Name from the path (undefined on a collection POST). */
  name?: string;
  subresource?: string;
  dryRun: boolean;
  fieldValidation: FieldValidation;
  fieldManager?: string;
  force?: boolean;
  /**
   * Who an HTTP write is recorded as in managedFields (an `Update` entry; see
   * patch/update-ownership.ts). Undefined for the server's own writes and for apply, which records
   * its own `Apply` entry.
   */
  manager?: string;
}

export interface WriteResult {
  code: number;
  object: KubeObject;
  warnings: string[];
  /** DELETE only: the object is gone (not kept by finalizers). */
  removed?: boolean;
}

/** Kubernetes timestamps: RFC 3339, UTC, second precision. */
export function timestamp(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName's random suffix, the alphabet kube-apiserver uses (no vowels, no confusable digits). */
export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += NAME_SUFFIX_ALPHABET[randomInt(NAME_SUFFIX_ALPHABET.length)];
  return out;
}

export const clone = <T>(v: T): T => structuredClone(v);
export const deepEqual = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);

/** Everything but metadata and status: a change here bumps metadata.generation. */
export function specPart(obj: KubeObject): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind') Object.defineProperty(rest, k, { value: v, enumerable: true });
  return rest;
}

/**
 * The namespace must exist and not be terminating before anything is created in it; the 403 names
 * the object refused (`what`), with a NamespaceTerminating cause, as kube-apiserver's admission does.
 */
export function requireLiveNamespace(ctx: ApiContext, namespace: string, forCreate: boolean, what: { group: string; plural: string; name: string }): void {
  const ns = ctx.store.get({ group: '', resource: 'namespaces' }, '', namespace);
  if (!ns) throw notFound('', 'namespaces', namespace);
  if (forCreate && ns.metadata.deletionTimestamp) {
    const reason = `unable to create new content in namespace ${namespace} because it is being terminated`;
    const resource = qualifiedResource(what.group, what.plural);
    throw forbidden(`${what.name ? `${resource} "${what.name}"` : resource} is forbidden: ${reason}`, {
      name: what.name,
      group: what.group,
      kind: what.plural,
      causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace', message: reason }],
    });
  }
}

/** Maps store failures to Status errors for this resource. */
export function storeFailure(e: unknown, served: ServedResource, name: string): ApiError {
  if (e instanceof ApiError) return e;
  const { group, plural } = served.type;
  if (e instanceof StoreError) {
    switch (e.reason) {
      case 'AlreadyExists':
        return alreadyExists(group, plural, name);
      case 'NotFound':
        return notFound(group, plural, name);
      case 'Conflict':
        return conflict(group, plural, name);
      case 'Expired':
        return new ApiError(410, 'Expired', e.message);
    }
  }
  if (e instanceof Error && (e as { reason?: string }).reason === 'BadRequest') return badRequest(e.message);
  return internalError(e instanceof Error ? e.message : String(e));
}
