// The current deny list of revoked workloads (docs/adr/0009), kept from ConfigMap
// outpost/outpost-revocations through the process's shared ConfigMap informer of that namespace.
// Read by every component that serves mTLS (destination, policy, the health API) and by policy's
// Revocations stream.
import type { KubernetesObject } from '@kubernetes/client-node';
import { REVOCATIONS_CONFIGMAP, REVOCATIONS_KEY, REVOCATIONS_NAMESPACE, parseRevocations, type RevocationEntry } from '../core/workloads/revocation.js';
import type { ClusterView } from './cluster-view.js';
import type { Informer } from './informer.js';
import type { ConfigMapObject } from './objects.js';
import type { RevocationList } from '../api/gen/policy.js';

type Listener = (list: RevocationList) => void;

/** The current deny list, kept from the ConfigMap by an informer; listeners hear every change. */
export class RevocationFeed {
  private readonly informer: Informer<ConfigMapObject & KubernetesObject>;
  private readonly unsubscribe: () => void;
  private readonly listeners = new Set<Listener>();
  private entries: RevocationEntry[] = [];
  private wire: RevocationList = { revocations: [] };
  private json = '';

  constructor(cluster: ClusterView) {
    this.informer = cluster.informer<ConfigMapObject & KubernetesObject>('configmaps', { namespace: REVOCATIONS_NAMESPACE });
    this.unsubscribe = this.informer.subscribe((kind, cm) => {
      if (cm.metadata?.name !== REVOCATIONS_CONFIGMAP) return;
      this.update(kind === 'delete' ? undefined : cm.data?.[REVOCATIONS_KEY]);
    });
  }

  /** Resolves once the ConfigMap was listed (or after timeoutMs). */
  waitSynced(timeoutMs: number): Promise<void> {
    return Promise.race([this.informer.synced, new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
  }

  current(): readonly RevocationEntry[] {
    return this.entries;
  }

  currentWire(): RevocationList {
    return this.wire;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private update(json: string | undefined): void {
    const entries = parseRevocations(json);
    const key = JSON.stringify(entries);
    if (key === this.json) return;
    this.json = key;
    this.entries = entries;
    this.wire = {
      revocations: entries.map((e) => ({ namespace: e.namespace, workload: e.workload, identity: e.identity, serverName: e.serverName, revokedAt: e.revokedAt, reason: e.reason })),
    };
    for (const l of [...this.listeners]) l(this.wire);
  }

  /** Stops hearing changes (the shared informer stays with the ClusterView). */
  async stop(): Promise<void> {
    this.listeners.clear();
    this.unsubscribe();
  }
}
