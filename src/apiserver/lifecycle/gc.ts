// Garbage collection by ownerReferences, run inside the server: when an owner is removed, its
// dependents lose that reference and, if no owner remains, are deleted in the background
// (through the normal delete path, so their finalizers and their own dependents are honoured).
import type { Logger } from '../../core/log.js';
import type { KubeObject, Store } from '../../store/types.js';
import type { ResourceType } from '../resources/types.js';
import { refOf, type ResourceIndex } from '../server/registry.js';
import { OwnerIndex } from './owners.js';

export interface OwnerRemoved {
  uid: string;
  /** The owner's namespace ('' for cluster-scoped owners, whose dependents may be anywhere). */
  namespace: string;
  /** propagationPolicy Orphan: dependents only lose the reference. */
  orphanDependents?: boolean;
}

/** Deletes a dependent through the API's delete path (finalizers, cascades). */
export type DeleteDependent = (type: ResourceType, obj: KubeObject) => Promise<void>;

export class GarbageCollector {
  private readonly queue: OwnerRemoved[] = [];
  private running: Promise<void> | undefined;

  private readonly owners: OwnerIndex;

  constructor(
    private readonly store: Store,
    private readonly index: ResourceIndex,
    private readonly deleteDependent: DeleteDependent,
    private readonly log: Logger,
  ) {
    this.owners = new OwnerIndex(store, index);
  }

  close(): void {
    this.owners.close();
  }

  ownerRemoved(owner: OwnerRemoved): void {
    this.queue.push(owner);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /**
   * A dependent created (or given owners) while all its owners are already gone is collected too,
   * as Kubernetes' garbage collector does for dangling references.
   */
  checkOwners(type: ResourceType, obj: KubeObject): void {
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0 || refs.some((r) => this.ownerExists(r, obj.metadata.namespace ?? ''))) return;
    for (const r of refs) this.ownerRemoved({ uid: r.uid, namespace: obj.metadata.namespace ?? '' });
  }

  /** Resolves once every queued collection has run (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (let owner = this.queue.shift(); owner; owner = this.queue.shift()) {
      for (const dep of this.owners.dependentsOf(owner.uid)) {
        // A namespaced owner only owns dependents in its own namespace (as in Kubernetes).
        if (owner.namespace && dep.namespace !== owner.namespace) continue;
        const live = this.store.get(refOf(dep.type), dep.namespace, dep.name);
        if (live) await this.collect(dep.type, live, owner.uid, owner.orphanDependents ?? false);
      }
    }
  }

  private async collect(type: ResourceType, dependent: KubeObject, ownerUid: string, orphan: boolean): Promise<void> {
    const ref = refOf(type);
    const ns = dependent.metadata.namespace ?? '';
    const name = dependent.metadata.name ?? '';
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const live = this.store.get(ref, ns, name);
        if (!live) return;
        const remaining = (live.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid && this.ownerExists(r, ns));
        if (remaining.length > 0 || orphan) {
          const next = structuredClone(live);
          const kept = (live.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
          if (kept.length > 0) next.metadata.ownerReferences = kept;
          else delete next.metadata.ownerReferences;
          try {
            await this.store.update(ref, next, Number(live.metadata.resourceVersion));
            return;
          } catch (e) {
            if ((e as { reason?: string }).reason === 'Conflict') continue;
            throw e;
          }
        }
        await this.deleteDependent(type, live);
        return;
      }
    } catch (e) {
      if ((e as { reason?: string }).reason === 'NotFound' || (e as { code?: number }).code === 404) return;
      this.log.warn('garbage collection of a dependent failed', { resource: type.plural, namespace: ns, name, error: e });
    }
  }

  private ownerExists(ref: { apiVersion: string; kind: string; name: string; uid: string }, namespace: string): boolean {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.slice(0, ref.apiVersion.lastIndexOf('/')) : '';
    const type = this.index.kind(group, ref.kind);
    // An owner of a kind this server does not serve cannot be checked: keep the dependent.
    if (!type) return true;
    const owner = this.store.get(refOf(type), type.namespaced ? namespace : '', ref.name);
    return !!owner && owner.metadata.uid === ref.uid;
  }
}
