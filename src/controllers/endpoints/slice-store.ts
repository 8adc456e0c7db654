// Our EndpointSlices as last seen, from the informer and from our own write results (whichever is
// newer), so a reconcile right after a write does not act on a stale cache (duplicate creates,
// needless conflicts). Grouped by Service key.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { SERVICE_NAME_LABEL } from '../labels.js';

const sliceKey = (s: V1EndpointSlice) => `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`;
const serviceKeyOf = (s: V1EndpointSlice) => `${s.metadata?.namespace ?? 'default'}/${s.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`;

/** Is resourceVersion a older than b? Opaque strings in general; the embedded API and etcd both use integers. */
function older(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

export class SliceStore {
  private readonly slices = new Map<string, V1EndpointSlice>();
  private readonly byService = new Map<string, Set<string>>();
  /** Slices we deleted, with the version we deleted, so a late watch event does not revive them. */
  private readonly deleted = new Map<string, string | undefined>();

  forService(serviceKey: string): V1EndpointSlice[] {
    return [...(this.byService.get(serviceKey) ?? [])].map((k) => this.slices.get(k)!).filter(Boolean);
  }

  /** Records a slice seen on the watch or returned by a write. Returns false if it was not news. */
  observe(slice: V1EndpointSlice, ourWrite = false): boolean {
    const key = sliceKey(slice);
    const rv = slice.metadata?.resourceVersion;
    if (ourWrite) this.deleted.delete(key);
    if (this.deleted.has(key)) {
      const deletedAt = this.deleted.get(key);
      if (!rv || !deletedAt || !older(deletedAt, rv)) return false;
      this.deleted.delete(key);
    }
    const current = this.slices.get(key);
    if (current && (current.metadata?.resourceVersion === rv || older(rv, current.metadata?.resourceVersion))) return false;
    if (current) this.byService.get(serviceKeyOf(current))?.delete(key);
    this.slices.set(key, slice);
    let set = this.byService.get(serviceKeyOf(slice));
    if (!set) this.byService.set(serviceKeyOf(slice), (set = new Set()));
    set.add(key);
    return true;
  }

  /** Records a slice gone (watch delete, or our own delete). Returns false if it was already gone. */
  forget(slice: V1EndpointSlice, byUs = false): boolean {
    const key = sliceKey(slice);
    if (byUs) this.deleted.set(key, slice.metadata?.resourceVersion);
    else this.deleted.delete(key);
    const current = this.slices.get(key);
    if (!current) return false;
    this.slices.delete(key);
    this.byService.get(serviceKeyOf(current))?.delete(key);
    return true;
  }

  serviceKeys(): string[] {
    return [...this.byService.entries()].filter(([, v]) => v.size > 0).map(([k]) => k);
  }

  serviceKeyOf(slice: V1EndpointSlice): string {
    return serviceKeyOf(slice);
  }

  get size(): number {
    return this.slices.size;
  }
}
