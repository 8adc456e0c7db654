// What the identity service knows about workloads and ServiceAccounts: the process's shared caches (so a
// renewal costs no API call), with a direct read whenever the cache would refuse, so a workload
// annotated a moment ago is never refused because the watch event is still in flight.
import { CoreV1Api, CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import type { ClusterView } from '../kube/cluster-view.js';
import type { KindName } from '../kube/kinds.js';
import { effectiveWorkload, groupNameOf, type ExternalWorkloadLike, type WorkloadGroupLike } from '../core/workloads/effective.js';
import { makeKeepAliveApiClient } from '../core/kube-clients.js';
import type { CertifyLookups } from './certify.js';
import { ClaimIndex, createdMs, heldNames } from './claim-index.js';
import { ALLOWED_SERVER_NAMES_ANNOTATION, parseAllowedServerNames, type NameHolder } from './claims.js';
import { unavailable, type WorkloadRecord } from './kube.js';

const GV = { group: 'workload.linkerd.io', version: 'v1beta1' };
const statusCode = (e: unknown): number | undefined => (e as { code?: number }).code;

/** Lookups that read the caches (`cached`) or the API (`fresh`). */
export interface WorkloadDirectory {
  cached: Omit<CertifyLookups, 'reviewToken'>;
  fresh: Omit<CertifyLookups, 'reviewToken'>;
  /** Resolves when every cache has its first list (or after `timeoutMs`). */
  synced(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

interface Cache<T> {
  get(name: string, namespace?: string): T | undefined;
  healthy(): boolean;
  synced: Promise<void>;
  stop(): void;
}

/** A shared informer of the process's cluster view, with an optional change handler of ours. */
function cacheOf<T extends KubernetesObject>(cluster: ClusterView, kind: KindName, onChange?: (change: 'upsert' | 'remove', obj: T) => void): Cache<T> {
  const informer = cluster.informer<T>(kind);
  const unsubscribe = onChange ? informer.subscribe((change, o) => onChange(change === 'delete' ? 'remove' : 'upsert', o)) : () => {};
  return { get: (name, namespace) => informer.get(name, namespace), healthy: () => informer.healthy(), synced: informer.synced, stop: unsubscribe };
}

export function startWorkloadDirectory(cluster: ClusterView, opts: { trustDomain: string }): WorkloadDirectory {
  const kc = cluster.kubeConfig;
  const custom = makeKeepAliveApiClient(kc, CustomObjectsApi);
  const core = makeKeepAliveApiClient(kc, CoreV1Api);
  const claims = new ClaimIndex();
  const indexed = (kind: NameHolder['kind']) => (change: 'upsert' | 'remove', obj: KubernetesObject) =>
    change === 'upsert' ? claims.upsert(kind, obj as ExternalWorkloadLike) : claims.remove(kind, obj as ExternalWorkloadLike);
  const workloads = cacheOf(cluster, 'externalworkloads', indexed('ExternalWorkload'));
  const groups = cacheOf(cluster, 'workloadgroups', indexed('WorkloadGroup'));
  const serviceAccounts = cacheOf(cluster, 'serviceaccounts');
  const namespaces = cacheOf(cluster, 'namespaces');
  const caches = [workloads, groups, serviceAccounts, namespaces];

  const getCustom = async <T>(plural: string, namespace: string, name: string): Promise<T | undefined> => {
    try {
      return (await custom.getNamespacedCustomObject({ ...GV, plural, namespace, name })) as T;
    } catch (e) {
      if (statusCode(e) === 404) return undefined;
      throw unavailable(`read ${plural} ${namespace}/${name}`, e);
    }
  };
  const record = (ew: ExternalWorkloadLike, group: WorkloadGroupLike | undefined): WorkloadRecord => ({
    ...effectiveWorkload(ew, group, opts.trustDomain),
    uid: ew.metadata.uid,
    created: createdMs(ew as KubernetesObject),
    groupCreated: group ? createdMs(group as KubernetesObject) : undefined,
    groupIdentity: group?.spec?.meshTLS?.identity,
  });
  /** A cached holder, re-read: kept (with its fresh creation time) only if it still holds the name. */
  const stillHolds = async (kind: 'identity' | 'serverName', value: string, h: NameHolder): Promise<NameHolder | undefined> => {
    const obj = await getCustom<ExternalWorkloadLike & KubernetesObject>(h.kind === 'ExternalWorkload' ? 'externalworkloads' : 'workloadgroups', h.namespace, h.name);
    if (!obj) return undefined;
    const held = heldNames(h.kind, obj)[kind];
    return held === (kind === 'serverName' ? value.toLowerCase() : value) ? { ...h, created: createdMs(obj) } : undefined;
  };
  // Cached objects are replaced (not mutated) on every watch event, so the computed record can be
  // kept per object pair.
  const records = new WeakMap<object, { group: WorkloadGroupLike | undefined; record: WorkloadRecord }>();
  const cachedRecord = (ew: ExternalWorkloadLike, group: WorkloadGroupLike | undefined): WorkloadRecord => {
    const hit = records.get(ew);
    if (hit && hit.group === group) return hit.record;
    const r = record(ew, group);
    records.set(ew, { group, record: r });
    return r;
  };

  const fresh: WorkloadDirectory['fresh'] = {
    trustDomain: opts.trustDomain,
    async holders(kind, value) {
      const checked = await Promise.all(claims.holders(kind, value).map((h) => stillHolds(kind, value, h)));
      return checked.filter((h): h is NameHolder => h !== undefined);
    },
    async allowedServerNames(namespace) {
      try {
        return parseAllowedServerNames((await core.readNamespace({ name: namespace })).metadata?.annotations?.[ALLOWED_SERVER_NAMES_ANNOTATION]);
      } catch (e) {
        if (statusCode(e) === 404) return [];
        throw unavailable(`read Namespace ${namespace}`, e);
      }
    },
    async findWorkload(namespace, name) {
      const ew = await getCustom<ExternalWorkloadLike>('externalworkloads', namespace, name);
      if (!ew) return undefined;
      const g = groupNameOf(ew);
      return record(ew, g ? await getCustom<WorkloadGroupLike>('workloadgroups', namespace, g) : undefined);
    },
    async serviceAccountUid(namespace, name) {
      try {
        return (await core.readNamespacedServiceAccount({ namespace, name })).metadata?.uid || 'unknown';
      } catch (e) {
        if (statusCode(e) === 404) return undefined;
        throw unavailable(`read ServiceAccount ${namespace}/${name}`, e);
      }
    },
  };
  const allHealthy = () => caches.every((c) => c.healthy());
  const cached: WorkloadDirectory['cached'] = {
    trustDomain: opts.trustDomain,
    async holders(kind, value) {
      return claims.holders(kind, value);
    },
    async allowedServerNames(namespace) {
      if (!allHealthy()) return fresh.allowedServerNames(namespace);
      return parseAllowedServerNames(namespaces.get(namespace)?.metadata?.annotations?.[ALLOWED_SERVER_NAMES_ANNOTATION]);
    },
    async findWorkload(namespace, name) {
      if (!allHealthy()) return fresh.findWorkload(namespace, name);
      const ew = workloads.get(name, namespace) as ExternalWorkloadLike | undefined;
      if (!ew) return undefined;
      const g = groupNameOf(ew);
      return cachedRecord(ew, g ? (groups.get(g, namespace) as WorkloadGroupLike | undefined) : undefined);
    },
    async serviceAccountUid(namespace, name) {
      if (!allHealthy()) return fresh.serviceAccountUid(namespace, name);
      const sa = serviceAccounts.get(name, namespace);
      return sa ? sa.metadata?.uid || 'unknown' : undefined;
    },
  };
  return {
    cached,
    fresh,
    synced: (timeoutMs) => Promise.race([Promise.all(caches.map((c) => c.synced)).then(() => {}), new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]),
    stop: async () => caches.forEach((c) => c.stop()),
  };
}
