// The destination component of the control plane: informers over the API, the endpoints watcher
// and the Destination gRPC service on --destination-port (mTLS, certificate from identity).
import type { RunningComponent } from '../core/component.js';
import type { ClusterComponent } from '../kube/cluster-view.js';
import { DESTINATION_KINDS, MeshView } from '../kube/mesh-view.js';
import { ServiceMetrics } from '../core/grpc/service-metrics.js';
import { startDestinationServer } from './service.js';
import { renewingServerCredentials } from '../core/tls/renewing-credentials.js';
import { RevokedPeerGuard } from '../core/tls/revoked-peers.js';
import { RevocationFeed } from '../kube/revocation-feed.js';
import { DestinationWatcher } from './watcher.js';
import type { PodNaming } from '../core/workloads/pod.js';

/** Metrics of every destination service running in this process (Prometheus text), for the lead to serve. */
const live = new Set<ServiceMetrics>();
export function destinationMetricsText(): string {
  return [...live].map((m) => m.text()).join('');
}

export interface RunningDestination extends RunningComponent {
  metricsText(): string;
  watcher: DestinationWatcher;
}

/** What the destination service is started with (src/controlplane/flags.ts). */
export interface DestinationOptions {
  port: number;
  /** Updates queued per stream before a client that does not read is disconnected. */
  queueCapacity: number;
  /** The serverName meshed pods are announced with. */
  podNaming: PodNaming;
}

export const component: ClusterComponent<DestinationOptions> = {
  name: 'destination',
  async start(ctx, options): Promise<RunningComponent> {
    if (!ctx.identity) {
      // Without identity there is no certificate to serve mTLS with: never serve discovery in the clear.
      ctx.log.error('destination not started: the identity component did not start');
      return { listeners: {}, stop: async () => {} };
    }
    const view = new MeshView(ctx.cluster, DESTINATION_KINDS, ctx.identity.trustDomain);
    const watcher = new DestinationWatcher(view, options.podNaming);
    const metrics = new ServiceMetrics('destination', () => view.restarts());
    // The certificate first: if it cannot be issued, nothing is left running.
    const tls = await renewingServerCredentials(ctx.identity, 'destination', { clock: ctx.clock, log: ctx.log });
    const revocations = new RevocationFeed(ctx.cluster);
    view.start();
    try {
      const server = await startDestinationServer({
        host: ctx.listen,
        port: options.port,
        credentials: tls.credentials,
        view,
        watcher,
        metrics,
        queueCapacity: options.queueCapacity,
        log: ctx.log,
        revokedPeers: new RevokedPeerGuard(revocations),
      });
      live.add(metrics);
      ctx.log.info('destination service listening', { address: server.address });
      const running: RunningDestination = {
        listeners: { destination: server.address },
        metricsText: () => metrics.text(),
        watcher,
        async stop() {
          live.delete(metrics);
          tls.stop();
          await server.stop();
          await Promise.all([view.stop(), revocations.stop()]);
        },
      };
      return running;
    } catch (e) {
      tls.stop();
      await Promise.all([view.stop(), revocations.stop()]);
      throw e;
    }
  },
};
