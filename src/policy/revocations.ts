// The Revocations gRPC service (proto/outpost/policy.proto, docs/adr/0009): the deny list of revoked
// workloads from ConfigMap outpost/outpost-revocations (an informer), streamed to every proxy with a
// valid client certificate — the full list first, then the full list again on every change.
import * as grpc from '@grpc/grpc-js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { REVOCATIONS_CONFIGMAP, REVOCATIONS_KEY, REVOCATIONS_NAMESPACE, parseRevocations, type RevocationEntry } from '../core/workloads/revocation.js';
import { openMeteredStream } from '../core/grpc/bounded-stream.js';
import { callerUris } from '../core/grpc/server.js';
import { ResilientInformer } from '../destination/informers.js';
import type { ServiceMetrics } from '../core/grpc/service-metrics.js';

interface ConfigMapLike {
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string>;
}

export interface WireRevocationList {
  revocations: { namespace: string; workload: string; identity: string; server_name: string; revoked_at: string; reason: string }[];
}

type Listener = (list: WireRevocationList) => void;

/** The current deny list, kept from the ConfigMap by an informer; listeners hear every change. */
export class RevocationFeed {
  private readonly informer: ResilientInformer<ConfigMapLike & { metadata: { name?: string } }>;
  private readonly listeners = new Set<Listener>();
  private entries: RevocationEntry[] = [];
  private wire: WireRevocationList = { revocations: [] };
  private json = '';

  constructor(kc: KubeConfig, log: Logger, clock: Clock) {
    this.informer = new ResilientInformer(kc, `/api/v1/namespaces/${REVOCATIONS_NAMESPACE}/configmaps`, log, clock, (kind, cm) => {
      if (cm.metadata?.name !== REVOCATIONS_CONFIGMAP) return;
      this.update(kind === 'delete' ? undefined : cm.data?.[REVOCATIONS_KEY]);
    });
  }

  start(): void {
    this.informer.start();
  }

  /** Resolves once the ConfigMap was listed (or after timeoutMs). */
  waitSynced(timeoutMs: number): Promise<void> {
    return Promise.race([this.informer.synced, new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
  }

  current(): readonly RevocationEntry[] {
    return this.entries;
  }

  currentWire(): WireRevocationList {
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
      revocations: entries.map((e) => ({ namespace: e.namespace, workload: e.workload, identity: e.identity, server_name: e.serverName, revoked_at: e.revokedAt, reason: e.reason })),
    };
    for (const l of [...this.listeners]) l(this.wire);
  }

  stop(): Promise<void> {
    this.listeners.clear();
    return this.informer.stop();
  }
}

type WatchCall = grpc.ServerWritableStream<{ workload?: string }, WireRevocationList>;

/**
 * Adds the Revocations service to a gRPC server whose credentials already require a client
 * certificate under the trust anchors: any such caller may watch (the list is not secret, and every
 * proxy needs it).
 */
export function addRevocationsService(
  server: grpc.Server,
  pkg: any,
  opts: { feed: RevocationFeed; metrics: ServiceMetrics; queueCapacity: number; log: Logger; syncTimeoutMs?: number },
): void {
  const { feed, metrics } = opts;
  const watch = async (call: WatchCall) => {
    if (callerUris(call).length === 0) {
      metrics.permissionDenied++;
      call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'a client certificate with a SPIFFE identity is required' });
      return;
    }
    await feed.waitSynced(opts.syncTimeoutMs ?? 5_000);
    if (call.cancelled) return;
    const { send, setUnsubscribe } = openMeteredStream<WireRevocationList>(call, opts.queueCapacity, metrics);
    setUnsubscribe(feed.subscribe((list) => send(list)));
    send(feed.currentWire());
  };
  server.addService(pkg.outpost.policy.v1.Revocations.service, {
    WatchRevocations: (call: WatchCall) => void watch(call),
  });
}
