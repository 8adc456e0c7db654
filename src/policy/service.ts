// The InboundPolicies gRPC service over mTLS: GetPort streams the policy of one port of the
// workload whose identity the caller's certificate carries (anyone else: PERMISSION_DENIED).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../core/log.js';
import type { RevokedPeerGuard } from '../core/tls/revoked-peers.js';
import { openMeteredStream } from '../core/grpc/bounded-stream.js';
import type { MeshView } from '../kube/mesh-view.js';
import { bindServer, callerUris, hostPort, shutdownServer, withSharedEncoding, type RunningGrpcServer } from '../core/grpc/server.js';
import { serviceDefinition } from '../api/load.js';
import type { InboundServer, PortSpec__Output } from '../api/gen/policy.js';
import type { ServiceMetrics } from '../core/grpc/service-metrics.js';
import type { RevocationFeed } from '../kube/revocation-feed.js';
import { addRevocationsService } from './revocations.js';
import type { PolicyWatcher } from './watcher.js';

export interface PolicyServerOptions {
  host: string;
  port: number;
  /** mTLS server credentials (client certificates required): src/core/tls/renewing-credentials.ts. */
  credentials: grpc.ServerCredentials;
  view: MeshView;
  watcher: PolicyWatcher;
  metrics: ServiceMetrics;
  queueCapacity: number;
  log: Logger;
  syncTimeoutMs?: number;
  /** The revocation deny list (docs/adr/0009); served as the Revocations service when given. */
  revocations?: RevocationFeed;
  /** Refuses revoked client certificates on every method (src/core/tls/revoked-peers.ts). */
  revokedPeers?: RevokedPeerGuard;
}

type PortCall = grpc.ServerWritableStream<PortSpec__Output, InboundServer>;

export async function startPolicyServer(opts: PolicyServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, interceptors: opts.revokedPeers ? [opts.revokedPeers.interceptor({ onRefused: () => opts.metrics.permissionDenied++ })] : [] });
  const { metrics, watcher, log } = opts;

  const refuse = (call: PortCall, code: grpc.status, details: string) => {
    if (code === grpc.status.PERMISSION_DENIED) metrics.permissionDenied++;
    else metrics.lookupErrors++;
    call.emit('error', { code, details });
  };

  const getPort = async (call: PortCall) => {
    const uris = callerUris(call);
    const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(call.request.workload ?? '');
    const port = Number(call.request.port);
    if (!m) return refuse(call, grpc.status.INVALID_ARGUMENT, `workload: expected "namespace/name", got "${call.request.workload ?? ''}"`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return refuse(call, grpc.status.INVALID_ARGUMENT, `port: expected 1-65535, got ${call.request.port}`);
    const [namespace, name] = [m[1], m[3]];
    if (!(await opts.view.waitSynced(opts.syncTimeoutMs ?? 5_000))) return refuse(call, grpc.status.UNAVAILABLE, 'the policy service has not read the API yet; retry');
    if (call.cancelled) return;
    const first = watcher.outcome(namespace, name, port);
    if (first.kind === 'not-found') return refuse(call, grpc.status.NOT_FOUND, `workload: no ExternalWorkload or injected pod ${namespace}/${name}`);
    if (!uris.includes(first.identity)) {
      log.warn('refused a policy request for another identity', { workload: `${namespace}/${name}`, caller: uris.join(',') || '(none)' });
      return refuse(call, grpc.status.PERMISSION_DENIED, `the caller's identity (${uris.join(',') || 'none'}) is not the identity of ${namespace}/${name}`);
    }
    const { stream, send, close: cleanup, setUnsubscribe } = openMeteredStream<InboundServer>(call, opts.queueCapacity, metrics);
    const deliver = (outcome: ReturnType<typeof watcher.outcome>) => {
      if (outcome.kind === 'not-found') {
        stream.fail(grpc.status.NOT_FOUND, `workload: externalworkload ${namespace}/${name} was deleted`);
        cleanup();
      } else if (!uris.includes(outcome.identity)) {
        metrics.permissionDenied++;
        stream.fail(grpc.status.PERMISSION_DENIED, `the identity of ${namespace}/${name} changed to ${outcome.identity}`);
        cleanup();
      } else send(outcome.server);
    };
    const sub = watcher.subscribe(namespace, name, port, deliver);
    setUnsubscribe(sub.unsubscribe);
    deliver(sub.initial);
  };

  server.addService(withSharedEncoding(serviceDefinition('outpost.policy.v1.InboundPolicies')), {
    GetPort: (call: PortCall) => void getPort(call),
  });
  if (opts.revocations) addRevocationsService(server, { feed: opts.revocations, metrics, queueCapacity: opts.queueCapacity, log });
  const port = await bindServer(server, hostPort(opts.host, opts.port), opts.credentials);
  return { port, address: hostPort(opts.host, port), stop: () => shutdownServer(server) };
}
