// The Revocations gRPC service (proto/outpost/policy.proto, docs/adr/0009): the deny list of revoked
// workloads from ConfigMap outpost/outpost-revocations (kube/revocation-feed.ts), streamed to every proxy with a
// valid client certificate — the full list first, then the full list again on every change.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../core/log.js';
import { openMeteredStream } from '../core/grpc/bounded-stream.js';
import { callerUris } from '../core/grpc/server.js';
import type { ServiceMetrics } from '../core/grpc/service-metrics.js';
import type { RevocationFeed } from '../kube/revocation-feed.js';
import { serviceDefinition } from '../api/load.js';
import type { RevocationList, RevocationsRequest__Output } from '../api/gen/policy.js';

type WatchCall = grpc.ServerWritableStream<RevocationsRequest__Output, RevocationList>;

/**
 * Adds the Revocations service to a gRPC server whose credentials already require a client
 * certificate under the trust anchors: any such caller may watch (the list is not secret, and every
 * proxy needs it).
 */
export function addRevocationsService(
  server: grpc.Server,
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
    const { send, setUnsubscribe } = openMeteredStream<RevocationList>(call, opts.queueCapacity, metrics);
    setUnsubscribe(feed.subscribe((list) => send(list)));
    send(feed.currentWire());
  };
  server.addService(serviceDefinition('outpost.policy.v1.Revocations'), {
    WatchRevocations: (call: WatchCall) => void watch(call),
  });
}
