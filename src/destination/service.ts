// The Destination gRPC service over mTLS: Get streams a Service port's endpoint changes,
// GetProfile a single ip:port (or a service's opaqueness). Every stream has a bounded queue.
import type { RevokedPeerGuard } from '../core/tls/revoked-peers.js';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../core/log.js';
import { parseAuthority } from './authority.js';
import { openMeteredStream } from '../core/grpc/bounded-stream.js';
import type { MeshView } from '../kube/mesh-view.js';
import { bindServer, callerUris, hostPort, shutdownServer, withSharedEncoding, type RunningGrpcServer } from '../core/grpc/server.js';
import { serviceDefinition } from '../api/load.js';
import type { GetDestination__Output, Profile, Update } from '../api/gen/destination.js';
import type { ServiceMetrics } from '../core/grpc/service-metrics.js';
import type { DestinationWatcher } from './watcher.js';

export interface DestinationServerOptions {
  host: string;
  port: number;
  /** mTLS server credentials (client certificates required): src/core/tls/renewing-credentials.ts. */
  credentials: grpc.ServerCredentials;
  view: MeshView;
  watcher: DestinationWatcher;
  metrics: ServiceMetrics;
  queueCapacity: number;
  log: Logger;
  /** How long a first request waits for the caches to fill (after that it answers with what is known). */
  syncTimeoutMs?: number;
  /** Refuses revoked client certificates on every method (src/core/tls/revoked-peers.ts). */
  revokedPeers?: RevokedPeerGuard;
}

type GetCall = grpc.ServerWritableStream<GetDestination__Output, unknown>;

export async function startDestinationServer(opts: DestinationServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, interceptors: opts.revokedPeers ? [opts.revokedPeers.interceptor({ onRefused: () => opts.metrics.permissionDenied++ })] : [] });
  const { metrics, watcher, log } = opts;
  const syncTimeout = opts.syncTimeoutMs ?? 5_000;

  const openStream = <M>(call: GetCall, subscribe: (send: (m: M) => boolean) => { initial: M[]; unsubscribe: () => void }) => {
    const { send, setUnsubscribe } = openMeteredStream<M>(call as unknown as grpc.ServerWritableStream<unknown, M>, opts.queueCapacity, metrics, () =>
      log.warn('closed a stream whose client does not read', { peer: call.getPeer(), path: call.request.path }),
    );
    const sub = subscribe(send);
    setUnsubscribe(sub.unsubscribe);
    for (const m of sub.initial) if (!send(m)) break;
  };

  const refuse = (call: GetCall, code: grpc.status, details: string) => {
    metrics.lookupErrors++;
    call.emit('error', { code, details });
  };

  const prepare = async (call: GetCall) => {
    if (callerUris(call).length === 0 && !call.getAuthContext?.().sslPeerCertificate) {
      refuse(call, grpc.status.UNAUTHENTICATED, 'a client certificate is required');
      return undefined;
    }
    const parsed = parseAuthority(call.request.path ?? '');
    if (parsed.kind === 'invalid') {
      refuse(call, grpc.status.INVALID_ARGUMENT, `path: ${parsed.reason}`);
      return undefined;
    }
    if (!(await opts.view.waitSynced(syncTimeout))) {
      // Never answer "does not exist" from empty caches: the client retries UNAVAILABLE.
      refuse(call, grpc.status.UNAVAILABLE, 'the destination service has not read the API yet; retry');
      return undefined;
    }
    return call.cancelled ? undefined : parsed;
  };

  server.addService(withSharedEncoding(serviceDefinition('outpost.destination.v1.Destination')), {
    Get: (call: GetCall) => {
      void (async () => {
        const parsed = await prepare(call);
        if (!parsed) return;
        if (parsed.kind !== 'service') {
          refuse(call, grpc.status.INVALID_ARGUMENT, 'path: Get takes a service authority (name.namespace:port); use GetProfile for ip:port');
          return;
        }
        openStream<Update>(call, (send) => {
          const sub = watcher.subscribeEndpoints(parsed.namespace, parsed.name, parsed.port, (updates) => {
            for (const u of updates) if (!send(u)) break;
          });
          return { initial: sub.initial, unsubscribe: sub.unsubscribe };
        });
      })();
    },
    GetProfile: (call: GetCall) => {
      void (async () => {
        const parsed = await prepare(call);
        if (!parsed) return;
        openStream<Profile>(call, (send) => {
          const sub = watcher.subscribeProfile(parsed, (p) => void send(p));
          return { initial: [sub.initial], unsubscribe: sub.unsubscribe };
        });
      })();
    },
  });

  const port = await bindServer(server, hostPort(opts.host, opts.port), opts.credentials);
  return { port, address: hostPort(opts.host, port), stop: () => shutdownServer(server) };
}
