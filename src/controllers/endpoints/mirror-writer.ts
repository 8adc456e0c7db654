// The I/O half of the Endpoints mirror: the Endpoints objects as last seen (watch and our own write
// results, newest resourceVersion wins), and one sync per Service that applies planEndpoints.
import { ApiException, CoreV1Api, type V1Endpoints, type V1Service } from '@kubernetes/client-node';
import type { ApiClients } from '../../core/kube-clients.js';
import { planEndpoints } from './mirror.js';
import type { WorkloadEndpointSource } from './source.js';

const keyOf = (e: V1Endpoints) => `${e.metadata?.namespace ?? 'default'}/${e.metadata?.name ?? ''}`;

/** Is resourceVersion a older than b? Opaque in general; the embedded API and etcd both use integers. */
function older(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

export class EndpointsMirror {
  private readonly current = new Map<string, V1Endpoints>();
  /** Objects we deleted, with the version deleted, so a late watch event does not revive them. */
  private readonly deleted = new Map<string, string | undefined>();
  private readonly api: CoreV1Api;

  constructor(api: ApiClients, private readonly onWrite?: (op: 'create' | 'update' | 'delete', endpoints: V1Endpoints) => void) {
    this.api = api.make(CoreV1Api);
  }

  /** Records an Endpoints object seen on the watch or returned by a write. Returns false if it was not news. */
  observe(e: V1Endpoints, ourWrite = false): boolean {
    const key = keyOf(e);
    const rv = e.metadata?.resourceVersion;
    if (ourWrite) this.deleted.delete(key);
    if (this.deleted.has(key)) {
      const deletedAt = this.deleted.get(key);
      if (!rv || !deletedAt || !older(deletedAt, rv)) return false;
      this.deleted.delete(key);
    }
    const seen = this.current.get(key);
    if (seen && (seen.metadata?.resourceVersion === rv || older(rv, seen.metadata?.resourceVersion))) return false;
    this.current.set(key, e);
    return true;
  }

  /** Records an Endpoints object gone. Returns false if it was already gone. */
  forget(e: V1Endpoints, byUs = false): boolean {
    const key = keyOf(e);
    if (byUs) this.deleted.set(key, e.metadata?.resourceVersion);
    else this.deleted.delete(key);
    return this.current.delete(key);
  }

  /** Service keys (namespace/name) that have an Endpoints object we know of. */
  serviceKeys(): string[] {
    return [...this.current.keys()];
  }

  keyOf(e: V1Endpoints): string {
    return keyOf(e);
  }

  /** Brings the Service's Endpoints object to the desired state; throws (for a retry) on conflicts. */
  async sync(serviceKey: string, service: V1Service | undefined, workloads: WorkloadEndpointSource[]): Promise<void> {
    const plan = planEndpoints(service, workloads, this.current.get(serviceKey));
    const namespace = serviceKey.slice(0, serviceKey.indexOf('/'));
    const name = serviceKey.slice(serviceKey.indexOf('/') + 1);
    try {
      if (plan.op === 'create') this.written('create', await this.api.createNamespacedEndpoints({ namespace, body: plan.endpoints }));
      else if (plan.op === 'update') this.written('update', await this.api.replaceNamespacedEndpoints({ namespace, name, body: plan.endpoints }));
      else if (plan.op === 'delete') {
        try {
          await this.api.deleteNamespacedEndpoints({ name, namespace });
        } catch (e) {
          if (!(e instanceof ApiException && e.code === 404)) throw e;
        }
        this.forget(plan.endpoints, true);
        this.onWrite?.('delete', plan.endpoints);
      }
    } catch (e) {
      // 409 (exists: perhaps a hand-made object the watch does not show us, or a stale version) or
      // 404 (gone): learn the current state, then fail so that the queue retries.
      if (e instanceof ApiException && (e.code === 409 || e.code === 404)) {
        try {
          this.observe(await this.api.readNamespacedEndpoints({ name, namespace }), true);
        } catch (readError) {
          if (readError instanceof ApiException && readError.code === 404) this.forget({ metadata: { name, namespace } }, false);
        }
      }
      throw e;
    }
  }

  private written(op: 'create' | 'update', e: V1Endpoints): void {
    this.observe(e, true);
    this.onWrite?.(op, e);
  }
}
