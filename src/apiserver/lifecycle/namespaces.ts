// Namespace lifecycle: `default` and `kube-system` exist from the start and cannot be deleted;
// deleting a namespace marks it Terminating, deletes everything in it a moment later, and removes
// it once empty (objects held by finalizers keep it Terminating until they go).
import { randomUUID } from 'node:crypto';
import type { TimerHandle } from '../../core/clock.js';
import type { KubeObject } from '../../store/types.js';
import { refOf } from '../server/registry.js';
import { forbidden } from '../server/status.js';
import { clone, storeFailure, timestamp, type ApiContext, type WriteRequest, type WriteResult } from '../handlers/context.js';
import { convertTo } from '../handlers/admission.js';
import { deleteObject, getLive, removeObject } from '../handlers/write.js';
import type { ResourceType } from '../resources/types.js';

const NAMESPACES = { group: '', resource: 'namespaces' };
export const SYSTEM_NAMESPACES = ['default', 'kube-system'];

/** Creates the system namespaces if missing (first start), each with its `default` ServiceAccount. */
export async function ensureSystemNamespaces(ctx: ApiContext): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    if (ctx.store.get(NAMESPACES, '', name)) {
      await ensureDefaultServiceAccount(ctx, name);
      continue;
    }
    await ctx.store.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, uid: randomUUID(), creationTimestamp: timestamp(ctx.clock), generation: 1, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    await ensureDefaultServiceAccount(ctx, name);
  }
}

/** Every namespace has a `default` ServiceAccount, as kube-controller-manager makes sure of. */
export async function ensureDefaultServiceAccount(ctx: ApiContext, namespace: string): Promise<void> {
  const ref = { group: '', resource: 'serviceaccounts' };
  if (ctx.store.get(ref, namespace, 'default')) return;
  try {
    await ctx.store.create(ref, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace, uid: randomUUID(), creationTimestamp: timestamp(ctx.clock), generation: 1 },
    });
  } catch (e) {
    if ((e as { reason?: string }).reason !== 'AlreadyExists') throw e;
  }
}

export async function deleteNamespace(ctx: ApiContext, req: WriteRequest): Promise<WriteResult> {
  const name = req.name!;
  if (SYSTEM_NAMESPACES.includes(name)) throw forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
  let live = getLive(ctx, req);
  const answer = (o: KubeObject): WriteResult => ({ code: 200, object: convertTo(req.served.type, o, req.served.version.name), warnings: [] });
  if (req.dryRun) return answer(live);
  if (!live.metadata.deletionTimestamp) {
    const marked = clone(live);
    marked.metadata.deletionTimestamp = timestamp(ctx.clock);
    marked.status = { ...(marked.status as object | undefined), phase: 'Terminating' };
    try {
      live = await ctx.store.update(NAMESPACES, marked, Number(live.metadata.resourceVersion));
    } catch (e) {
      throw storeFailure(e, req.served, name);
    }
  }
  // Like kube's namespace controller, the contents go a moment later: `kubectl delete -f` of a
  // file holding a namespace and objects in it still finds those objects to delete.
  scheduleNamespaceCleanup(ctx, name);
  return answer(live);
}

/** Delay before a Terminating namespace's contents are deleted. */
export const NAMESPACE_CLEANUP_DELAY_MS = 1000;

const cleanups = new WeakMap<ApiContext, Map<string, TimerHandle>>();

export function scheduleNamespaceCleanup(ctx: ApiContext, namespace: string, delayMs = NAMESPACE_CLEANUP_DELAY_MS): void {
  let pending = cleanups.get(ctx);
  if (!pending) cleanups.set(ctx, (pending = new Map()));
  if (pending.has(namespace)) return;
  const timer = ctx.clock.setTimeout(() => {
    pending.delete(namespace);
    purgeNamespace(ctx, namespace)
      .then(() => finalizeNamespaceIfEmpty(ctx, namespace))
      .catch((e) => ctx.log.warn('namespace cleanup failed', { namespace, error: e }));
  }, delayMs);
  timer.unref?.();
  pending.set(namespace, timer);
}

/** Resumes cleanups of namespaces left Terminating by a previous run; stops them on shutdown. */
export function resumeNamespaceCleanups(ctx: ApiContext): () => void {
  for (const ns of ctx.store.list(NAMESPACES).items) {
    if (ns.metadata.deletionTimestamp) scheduleNamespaceCleanup(ctx, ns.metadata.name!, 0);
  }
  return () => {
    for (const timer of cleanups.get(ctx)?.values() ?? []) ctx.clock.clearTimeout(timer);
    cleanups.delete(ctx);
  };
}

function namespacedTypes(ctx: ApiContext): ResourceType[] {
  return ctx.index.stored().filter((t) => t.namespaced);
}

/** Deletes every object in the namespace through the normal delete path. */
async function purgeNamespace(ctx: ApiContext, namespace: string): Promise<void> {
  for (const type of namespacedTypes(ctx)) {
    const served = { type, version: type.versions.find((v) => v.storage) ?? type.versions[0] };
    for (const obj of ctx.store.list(refOf(type), { namespace }).items) {
      const req: WriteRequest = { served, namespace, name: obj.metadata.name, dryRun: false, fieldValidation: 'Ignore' };
      try {
        await deleteObject(ctx, req, {});
      } catch (e) {
        if ((e as { code?: number }).code !== 404) ctx.log.warn('namespace cleanup could not delete an object', { namespace, resource: type.plural, name: obj.metadata.name, error: e });
      }
    }
  }
}

/** Finalizations in flight, so concurrent callers (the DELETE and the last object's removal) share one result. */
const finalizing = new WeakMap<ApiContext, Map<string, Promise<KubeObject | undefined>>>();

/** Removes a Terminating namespace once nothing is left in it. Returns the deleted namespace, if removed. */
export function finalizeNamespaceIfEmpty(ctx: ApiContext, namespace: string): Promise<KubeObject | undefined> {
  let inFlight = finalizing.get(ctx);
  if (!inFlight) finalizing.set(ctx, (inFlight = new Map()));
  const running = inFlight.get(namespace);
  if (running) return running;
  const p = finalize(ctx, namespace).finally(() => inFlight.delete(namespace));
  inFlight.set(namespace, p);
  return p;
}

async function finalize(ctx: ApiContext, namespace: string): Promise<KubeObject | undefined> {
  const ns = ctx.store.get(NAMESPACES, '', namespace);
  if (!ns?.metadata.deletionTimestamp || (ns.metadata.finalizers ?? []).length > 0) return undefined;
  for (const type of namespacedTypes(ctx)) {
    if (ctx.store.list(refOf(type), { namespace, limit: 1 }).items.length > 0) return undefined;
  }
  const type = ctx.index.byResource('', 'namespaces')!;
  const served = { type, version: type.versions[0] };
  try {
    return await removeObject(ctx, { served, name: namespace, dryRun: false, fieldValidation: 'Ignore' }, ns);
  } catch (e) {
    if ((e as { code?: number }).code === 404 || (e as { code?: number }).code === 409) return undefined;
    throw e;
  }
}
