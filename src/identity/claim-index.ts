// Who holds which serverName and which free-form identity, kept from the workload and group caches'
// events, so that a claim check (claims.ts) costs a map lookup instead of a scan of every workload.
import type { ExternalWorkloadLike, WorkloadGroupLike } from '../core/workloads/effective.js';
import { isFreeFormIdentity, type NameHolder } from './claims.js';

type Obj = (ExternalWorkloadLike | WorkloadGroupLike) & { metadata: { uid?: string; creationTimestamp?: string | Date } };

/** Creation time in ms (0 when unknown: treated as the oldest, so an unknown holder is never overtaken). */
export function createdMs(obj: { metadata?: { creationTimestamp?: string | Date } }): number {
  const t = obj.metadata?.creationTimestamp;
  const ms = t instanceof Date ? t.getTime() : t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

/** The names an object holds: a workload its effective serverName and own free-form identity, a group its free-form identity. */
export function heldNames(kind: NameHolder['kind'], obj: Obj): { serverName?: string; identity?: string } {
  const identity = obj.spec?.meshTLS?.identity;
  const free = identity && isFreeFormIdentity(identity) ? identity : undefined;
  if (kind === 'WorkloadGroup') return { identity: free };
  const serverName = (obj.spec?.meshTLS?.serverName || `${obj.metadata.name}.${obj.metadata.namespace}.svc.cluster.local`).toLowerCase();
  return { serverName, identity: free };
}

export class ClaimIndex {
  private readonly byName = { identity: new Map<string, Map<string, NameHolder>>(), serverName: new Map<string, Map<string, NameHolder>>() };
  private readonly held = new Map<string, { identity?: string; serverName?: string }>();

  upsert(kind: NameHolder['kind'], obj: Obj): void {
    const key = `${kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
    this.remove(kind, obj);
    const names = heldNames(kind, obj);
    const holder: NameHolder = { kind, namespace: obj.metadata.namespace ?? 'default', name: obj.metadata.name ?? '', created: createdMs(obj) };
    for (const k of ['identity', 'serverName'] as const) {
      const v = names[k];
      if (!v) continue;
      let m = this.byName[k].get(v);
      if (!m) this.byName[k].set(v, (m = new Map()));
      m.set(key, holder);
    }
    this.held.set(key, names);
  }

  remove(kind: NameHolder['kind'], obj: Obj): void {
    const key = `${kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
    const names = this.held.get(key);
    if (!names) return;
    this.held.delete(key);
    for (const k of ['identity', 'serverName'] as const) {
      const v = names[k];
      const m = v ? this.byName[k].get(v) : undefined;
      if (!m) continue;
      m.delete(key);
      if (m.size === 0) this.byName[k].delete(v!);
    }
  }

  holders(kind: 'identity' | 'serverName', value: string): NameHolder[] {
    const v = kind === 'serverName' ? value.toLowerCase() : value;
    return [...(this.byName[kind].get(v)?.values() ?? [])];
  }
}
