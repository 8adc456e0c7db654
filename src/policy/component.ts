// The policy component of the control plane: informers over the API, the policy watcher and the
// InboundPolicies gRPC service on --policy-port (mTLS, certificate from identity).
import type { RunningComponent } from '../core/component.js';
import type { ClusterComponent } from '../kube/cluster-view.js';
import { MeshView } from '../kube/mesh-view.js';
import { ServiceMetrics } from '../core/grpc/service-metrics.js';
import type { DefaultPolicy } from './compute.js';
import type { PodNaming } from '../core/workloads/pod.js';
import { POLICY_KINDS } from './inputs.js';
import { RevocationFeed } from '../kube/revocation-feed.js';
import { startPolicyServer } from './service.js';
import { renewingServerCredentials } from '../core/tls/renewing-credentials.js';
import { RevokedPeerGuard } from '../core/tls/revoked-peers.js';
import { PolicyWatcher } from './watcher.js';

const live = new Set<ServiceMetrics>();
/** Metrics of every policy service running in this process (Prometheus text), for the lead to serve. */
export function policyMetricsText(): string {
  return [...live].map((m) => m.text()).join('');
}

export interface RunningPolicy extends RunningComponent {
  metricsText(): string;
}

/** What the policy service is started with (src/controlplane/flags.ts). */
export interface PolicyOptions {
  port: number;
  /** The cluster's default inbound policy: of ports no Server selects. */
  defaultInboundPolicy: DefaultPolicy;
  /** Updates queued per stream before a client that does not read is disconnected. */
  queueCapacity: number;
  /** The DNS name of meshed pods' certificates. */
  podNaming: PodNaming;
}

export const component: ClusterComponent<PolicyOptions> = {
  name: 'policy',
  async start(ctx, options): Promise<RunningComponent> {
    const clusterDefault = options.defaultInboundPolicy;
    if (!ctx.identity) {
      ctx.log.error('policy not started: the identity component did not start');
      return { listeners: {}, stop: async () => {} };
    }
    const view = new MeshView(ctx.cluster, POLICY_KINDS, ctx.identity.trustDomain);
    const watcher = new PolicyWatcher(view, clusterDefault, options.podNaming);
    const metrics = new ServiceMetrics('policy', () => view.restarts());
    const revocations = new RevocationFeed(ctx.cluster);
    // The certificate first: if it cannot be issued, nothing is left running.
    const tls = await renewingServerCredentials(ctx.identity, 'policy', { clock: ctx.clock, log: ctx.log });
    view.start();
    try {
      const server = await startPolicyServer({
        host: ctx.listen,
        port: options.port,
        credentials: tls.credentials,
        view,
        watcher,
        metrics,
        queueCapacity: options.queueCapacity,
        log: ctx.log,
        revocations,
        revokedPeers: new RevokedPeerGuard(revocations),
      });
      live.add(metrics);
      ctx.log.info('policy service listening', { address: server.address });
      const running: RunningPolicy = {
        listeners: { policy: server.address },
        metricsText: () => metrics.text(),
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
