// Wires the controllers together: the shared informers (src/kube) feed one index; the EndpointSlice and WorkloadGroup
// controllers write only while this process holds the Lease; the health server (any process)
// turns proxy reports into Ready conditions. Used by the component, tests and the benchmark.
import type { RevokedPeerGuard } from '../core/tls/revoked-peers.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type KubeConfig, type KubernetesObject, type V1EndpointSlice, type V1Endpoints, type V1Service } from '@kubernetes/client-node';
import type * as grpc from '@grpc/grpc-js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_TRUST_DOMAIN, effectiveWorkload, type WorkloadGroupLike } from '../core/workloads/effective.js';
import { isRevokedWorkload } from '../core/workloads/revocation.js';
import { AutoRemover } from './autoremove/controller.js';
import { DEFAULT_REMOVE_AFTER_MS } from './autoremove/rule.js';
import { EndpointSliceController } from './endpoints/controller.js';
import { WorkloadIndex, keyOf } from './endpoints/index.js';
import { ENDPOINTS_MANAGED_BY_LABEL } from './endpoints/mirror.js';
import { WorkloadGroupController } from './groups/controller.js';
import { awaitingProxyCondition, neverReported, readyConditionOf } from './health/conditions.js';
import { startHealthServer, type RunningHealthServer } from './health/server.js';
import { WorkloadStatusWriter } from './health/status-writer.js';
import { HealthTracker, disconnectGraceFor, heartbeatIntervalFor } from './health/tracker.js';
import type { ExternalWorkloadObject, WorkloadProxyStatus } from '../kube/objects.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from './labels.js';
import { ApiClients } from '../core/kube-clients.js';
import { LeaderElector } from './runtime/leader.js';
import { ClusterView } from '../kube/cluster-view.js';
import type { KindName } from '../kube/kinds.js';

export const LEASE_NAMESPACE = 'outpost';
export const LEASE_NAME = 'outpost-controllers';

export interface ControllersOptions {
  kubeConfig: KubeConfig;
  /** The process's cluster view (`outpost up`); started alone (tests, benchmarks), the controllers make their own. */
  cluster?: ClusterView;
  clock: Clock;
  log: Logger;
  /** Default disconnect grace (--workload-disconnect-grace). */
  disconnectGraceMs: number;
  /** Health server: listen address, port (0 = free), and its TLS material. Omitted: no health server. */
  health?: { host: string; port: number; credentials: grpc.ServerCredentials; revokedPeers?: RevokedPeerGuard };
  trustDomain?: string;
  /** Default time an auto-registered workload may have lost its heartbeat before it is deleted (--auto-registered-remove-after; per group: outpost.io/remove-after). */
  autoRemoveAfterMs?: number;
  onAutoRemove?: (workloadKey: string) => void;
  leaseDurationMs?: number;
  leaseRetryMs?: number;
  onSliceWrite?: (op: 'create' | 'update' | 'delete', slice: V1EndpointSlice) => void;
  onEndpointsWrite?: (op: 'create' | 'update' | 'delete', endpoints: V1Endpoints) => void;
}

export interface RunningControllers {
  index: WorkloadIndex;
  endpoints: EndpointSliceController;
  healthPort?: number;
  isLeader(): boolean;
  /** Resolves when no slice, group or status work is queued (for tests and benchmarks). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startControllers(opts: ControllersOptions): Promise<RunningControllers> {
  const { kubeConfig, clock, log } = opts;
  const index = new WorkloadIndex();
  const api = new ApiClients(kubeConfig);
  const endpoints = new EndpointSliceController({ api, index, clock, log: log.child('endpointslices'), onWrite: opts.onSliceWrite, onEndpointsWrite: opts.onEndpointsWrite });
  const groups = new WorkloadGroupController({ api, index, clock, log: log.child('workloadgroups') });
  const statusWriter = new WorkloadStatusWriter({ api, index, clock, log: log.child('health') });
  let leading = false;

  const graceMsFor = (workloadKey: string): number => {
    const ew = index.workloads.get(workloadKey);
    return disconnectGraceFor(ew && index.groupOf(ew), opts.disconnectGraceMs);
  };
  /** The last status.proxy reported per workload uid, to mark it disconnected when its streams close. */
  const lastProxy = new Map<string, WorkloadProxyStatus>();
  const tracker = new HealthTracker({ clock, graceMsFor, setCondition: (key, c) => statusWriter.set(key, c) });
  const autoRemover = new AutoRemover({ api, index, clock, log: log.child('autoremove'), defaultRemoveAfterMs: opts.autoRemoveAfterMs ?? DEFAULT_REMOVE_AFTER_MS, graceMsFor, onDelete: opts.onAutoRemove });

  /**
   * A workload no proxy reports for here: "awaiting proxy" (or assumed ready). On becoming leader
   * (`adopt`), a workload a proxy reported ready for gets the grace period to reconnect to us; it is
   * not adopted later, so reports through another control plane's health server are not overruled.
   */
  const settleCondition = (ew: ExternalWorkloadObject, adopt = false) => {
    const uid = ew.metadata.uid ?? '';
    if (!leading || tracker.has(uid)) return;
    const cond = readyConditionOf(ew);
    if (neverReported(cond)) statusWriter.set(keyOf(ew), awaitingProxyCondition(ew, clock.now()), true);
    else if (adopt && cond!.status === 'True') tracker.adopt(uid, keyOf(ew));
  };

  // The process's shared informers (or, started alone, a view of our own): a change handler per type.
  const cluster = opts.cluster ?? new ClusterView({ kubeConfig, clock, log: log.child('informer') });
  const watching: { synced: Promise<void>; unsubscribe: () => void }[] = [];
  const watch = <T extends KubernetesObject>(kind: KindName, handlers: { upsert(o: T): void; remove(o: T): void }, how: { only?: (o: T) => boolean; labelSelector?: string; resync?: boolean } = {}) => {
    const informer = cluster.informer<T>(kind, { labelSelector: how.labelSelector });
    const unsubscribe = informer.subscribe(
      (change, o) => {
        // An object leaving the filtered set (its label changed) is gone for us.
        if (how.only && !how.only(o)) return void (change !== 'add' && handlers.remove(o));
        if (change === 'delete') handlers.remove(o);
        else handlers.upsert(o);
      },
      { resync: how.resync },
    );
    watching.push({ synced: informer.synced, unsubscribe });
  };
  const ours = (o: KubernetesObject) => o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;

  // Services resync (client-go style): every Service's slices are reconciled again each period.
  watch<V1Service>('services', { upsert: (s) => endpoints.enqueue(index.upsertService(s).services), remove: (s) => endpoints.enqueue(index.removeService(s).services) }, { resync: true });
  watch<ExternalWorkloadObject & KubernetesObject>('externalworkloads', {
    upsert: (ew) => {
      const a = index.upsertWorkload(ew);
      endpoints.enqueue(a.services);
      groups.workloadChanged(keyOf(ew), a.groups);
      settleCondition(ew);
      autoRemover.workloadChanged(ew);
    },
    remove: (ew) => {
      const a = index.removeWorkload(ew);
      endpoints.enqueue(a.services);
      groups.workloadChanged(keyOf(ew), a.groups);
      tracker.forget(ew.metadata.uid ?? '');
      lastProxy.delete(ew.metadata.uid ?? '');
    },
  });
  watch<WorkloadGroupLike & KubernetesObject>('workloadgroups', {
    upsert: (g) => {
      const a = index.upsertGroup(g);
      endpoints.enqueue(a.services);
      groups.groupsChanged(a.groups);
      autoRemover.groupChanged();
    },
    remove: (g) => {
      endpoints.enqueue(index.removeGroup(g).services);
      autoRemover.groupChanged();
    },
  });
  // Our EndpointSlices, from the one slice informer the destination service reads too.
  watch<V1EndpointSlice>('endpointslices', { upsert: (s) => endpoints.sliceSeen(s), remove: (s) => endpoints.sliceGone(s) }, { only: ours });
  // The core/v1 Endpoints we mirror (labelled as ours; only the controllers read Endpoints); a hand-made one is learnt on a create conflict.
  watch<V1Endpoints>('endpoints', { upsert: (e) => endpoints.endpointsSeen(e), remove: (e) => endpoints.endpointsGone(e) }, { labelSelector: `${ENDPOINTS_MANAGED_BY_LABEL}=${MANAGED_BY}` });

  const elector = new LeaderElector({
    api, clock, log: log.child('leader'),
    namespace: LEASE_NAMESPACE, name: LEASE_NAME,
    identity: `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    leaseDurationMs: opts.leaseDurationMs, retryPeriodMs: opts.leaseRetryMs,
    onStartedLeading: () => {
      leading = true;
      endpoints.setLeading(true);
      groups.setLeading(true);
      autoRemover.setLeading(true);
      // Slices first: the initial conditions (one write per never-reported workload) wait for them.
      void endpoints.queue.idle().then(() => {
        for (const ew of index.workloads.values()) settleCondition(ew, true);
      });
    },
    onStoppedLeading: () => {
      leading = false;
      endpoints.setLeading(false);
      groups.setLeading(false);
      autoRemover.setLeading(false);
    },
  });

  let stopped = false;
  // Lead only once every cache is complete: acting on a partial view would delete good slices.
  const synced = Promise.all(watching.map((w) => w.synced)).then(async () => {
    if (!stopped) await elector.start();
  });
  const waited = await Promise.race([synced.then(() => true), new Promise<boolean>((r) => clock.setTimeout(() => r(false), 15_000).unref?.())]);
  if (!waited) log.warn('the API has not answered every list yet; the controllers start once it does');

  const stopAll = async () => {
    stopped = true;
    tracker.stop();
    autoRemover.stop();
    statusWriter.stop();
    endpoints.stop();
    groups.stop();
    await elector.stop();
    for (const w of watching) w.unsubscribe();
    if (!opts.cluster) await cluster.stop();
    api.close();
  };

  let health: RunningHealthServer | undefined;
  if (opts.health) {
    const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    health = await startHealthServer({
      host: opts.health.host, port: opts.health.port, credentials: opts.health.credentials, revokedPeers: opts.health.revokedPeers, log: log.child('health'),
      resolve: (workload) => {
        const ew = index.workloads.get(workload);
        if (!ew) return undefined;
        const effective = effectiveWorkload(ew, index.groupOf(ew), trustDomain);
        return {
          uid: ew.metadata.uid ?? '',
          key: workload,
          identity: effective.identity,
          serverName: effective.serverName,
          heartbeatIntervalMs: heartbeatIntervalFor(graceMsFor(workload)),
          probesJson: JSON.stringify(effective.probes),
          ports: effective.ports.map((p) => p.port),
          revoked: isRevokedWorkload(ew),
        };
      },
      onReport: (t, report) => {
        tracker.report(t.uid, t.key, report);
        const proxy = { connected: true, ...report.proxy };
        lastProxy.set(t.uid, proxy);
        statusWriter.setProxy(t.key, proxy);
      },
      onStreamOpened: (t) => tracker.streamOpened(t.uid, t.key),
      onStreamClosed: (t) => {
        tracker.streamClosed(t.uid);
        const last = lastProxy.get(t.uid);
        if (last && !tracker.connected(t.uid)) statusWriter.setProxy(t.key, { ...last, connected: false });
      },
    }).catch(async (e) => {
      await stopAll();
      throw e;
    });
  }

  return {
    index,
    endpoints,
    healthPort: health?.port,
    isLeader: () => elector.isLeader,
    async idle() {
      // Work of one queue queues work in another (slices, then initial conditions): until all are quiet.
      for (;;) {
        await Promise.all([endpoints.queue.idle(), groups.groupQueue.idle(), groups.labelQueue.idle(), statusWriter.idle()]);
        await new Promise((r) => setTimeout(r, 50));
        if (endpoints.queue.length + groups.groupQueue.length + groups.labelQueue.length + statusWriter.length === 0) return;
      }
    },
    async stop() {
      await health?.stop();
      await stopAll();
    },
  };
}
