// An in-memory index from owner uid to the objects that name it in ownerReferences, kept current
// from the store's watch stream, so garbage collection finds dependents without scanning
// every collection on each delete.
import type { KubeObject, Store, StoreEvent, WatchHandle } from '../../store/types.js';
import type { ResourceType } from '../resources/types.js';
import { refOf, type ResourceIndex } from '../server/registry.js';

export interface DependentRef {
  type: ResourceType;
  namespace: string;
  name: string;
}

export class OwnerIndex {
  private readonly byOwner = new Map<string, Map<string, DependentRef>>();
  private readonly handles: WatchHandle[] = [];

  constructor(store: Store, index: ResourceIndex) {
    const from = store.revision();
    for (const type of index.stored()) {
      const ref = refOf(type);
      for (const obj of store.list(ref, { filter: (o) => (o.metadata.ownerReferences ?? []).length > 0 }).items) this.add(type, obj);
      this.handles.push(store.watch(ref, { fromRevision: from }, (e) => this.apply(type, e)));
    }
  }

  /** Objects whose ownerReferences name `uid`. */
  dependentsOf(uid: string): DependentRef[] {
    return [...(this.byOwner.get(uid)?.values() ?? [])];
  }

  close(): void {
    for (const h of this.handles) h.close();
  }

  private apply(type: ResourceType, e: StoreEvent): void {
    if (e.previous) this.remove(type, e.previous);
    if (e.type === 'DELETED') this.remove(type, e.object);
    else this.add(type, e.object);
  }

  private key(type: ResourceType, obj: KubeObject): string {
    return `${type.group}/${type.plural}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
  }

  private add(type: ResourceType, obj: KubeObject): void {
    for (const owner of obj.metadata.ownerReferences ?? []) {
      let deps = this.byOwner.get(owner.uid);
      if (!deps) this.byOwner.set(owner.uid, (deps = new Map()));
      deps.set(this.key(type, obj), { type, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' });
    }
  }

  private remove(type: ResourceType, obj: KubeObject): void {
    for (const owner of obj.metadata.ownerReferences ?? []) {
      const deps = this.byOwner.get(owner.uid);
      if (!deps) continue;
      deps.delete(this.key(type, obj));
      if (deps.size === 0) this.byOwner.delete(owner.uid);
    }
  }
}
