// The destination component of the control plane: informers over the API, the endpoints watcher
// and the Destination gRPC service on --destination-port (mTLS, certificate from identity).
import type { ControlPlaneComponent, RunningComponent } from '../core/component.js';
import { DEFAULT_QUEUE_CAPACITY } from '../core/grpc/bounded-stream.js';
import { ClusterView, DESTINATION_KINDS } from './cluster-view.js';
import { ServiceMetrics } from '../core/grpc/service-metrics.js';
import { startDestinationServer } from './service.js';
import { renewingServerCredentials } from '../core/tls/renewing-credentials.js';
import { RevokedPeerGuard } from '../core/tls/revoked-peers.js';
import { RevocationFeed } from '../policy/revocations.js';
import { DestinationWatcher } from './watcher.js';

/** Metrics of every destination service running in this process (Prometheus text), for the lead to serve. */
const live = new Set<ServiceMetrics>();
export function destinationMetricsText(): string {
  return [...live].map((m) => m.text()).join('');
}

export interface RunningDestination extends RunningComponent {
  metricsText(): string;
  watcher: DestinationWatcher;
}

export const component: ControlPlaneComponent = {
  name: 'destination',
  flags: {
    'destination-port': { type: 'int', default: 8086, min: 0, max: 65535, help: 'port of the destination (discovery) gRPC service, mTLS' },
    'destination-queue': { type: 'int', default: DEFAULT_QUEUE_CAPACITY, min: 1, max: 100_000, help: 'updates queued per destination stream before a client that does not read is disconnected' },
  },
  async start(ctx): Promise<RunningComponent> {
    if (!ctx.identity) {
      // Without identity there is no certificate to serve mTLS with: never serve discovery in the clear.
      ctx.log.error('destination not started: the identity component did not start');
      return { listeners: {}, stop: async () => {} };
    }
    const view = new ClusterView(ctx.kubeConfig, DESTINATION_KINDS, ctx.log, ctx.clock, ctx.identity.trustDomain);
    const watcher = new DestinationWatcher(view);
    const metrics = new ServiceMetrics('destination', () => view.restarts());
    // The certificate first: if it cannot be issued, nothing is left running.
    const tls = await renewingServerCredentials(ctx.identity, 'destination', { clock: ctx.clock, log: ctx.log });
    const revocations = new RevocationFeed(ctx.kubeConfig, ctx.log.child('revocations'), ctx.clock);
    view.start();
    revocations.start();
    try {
      const server = await startDestinationServer({
        host: ctx.listen,
        port: Number(ctx.flags['destination-port'] ?? 8086),
        credentials: tls.credentials,
        view,
        watcher,
        metrics,
        queueCapacity: Number(ctx.flags['destination-queue'] ?? DEFAULT_QUEUE_CAPACITY),
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
