// The policy component of the control plane: informers over the API, the policy watcher and the
// InboundPolicies gRPC service on --policy-port (mTLS, certificate from identity).
import type { ControlPlaneComponent, RunningComponent } from '../core/component.js';
import { OutpostError } from '../core/errors.js';
import { DEFAULT_QUEUE_CAPACITY } from '../core/grpc/bounded-stream.js';
import { ClusterView } from '../destination/cluster-view.js';
import { ServiceMetrics } from '../core/grpc/service-metrics.js';
import { DEFAULT_POLICIES, isDefaultPolicy } from './compute.js';
import { POLICY_KINDS } from './inputs.js';
import { RevocationFeed } from './revocations.js';
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

export const component: ControlPlaneComponent = {
  name: 'policy',
  flags: {
    'policy-port': { type: 'int', default: 8090, min: 0, max: 65535, help: 'port of the inbound policy gRPC service, mTLS' },
    'default-inbound-policy': { type: 'string', default: 'all-unauthenticated', help: `policy of ports no Server selects: ${DEFAULT_POLICIES.join(', ')}` },
  },
  async start(ctx): Promise<RunningComponent> {
    const clusterDefault = String(ctx.flags['default-inbound-policy'] ?? 'all-unauthenticated');
    if (!isDefaultPolicy(clusterDefault)) {
      throw new OutpostError('CONFIG_INVALID', `--default-inbound-policy: expected one of ${DEFAULT_POLICIES.join(', ')}, got "${clusterDefault}"`, { field: 'default-inbound-policy' });
    }
    if (!ctx.identity) {
      ctx.log.error('policy not started: the identity component did not start');
      return { listeners: {}, stop: async () => {} };
    }
    const view = new ClusterView(ctx.kubeConfig, POLICY_KINDS, ctx.log, ctx.clock, ctx.identity.trustDomain);
    const watcher = new PolicyWatcher(view, clusterDefault);
    const metrics = new ServiceMetrics('policy', () => view.restarts());
    const revocations = new RevocationFeed(ctx.kubeConfig, ctx.log.child('revocations'), ctx.clock);
    // The certificate first: if it cannot be issued, nothing is left running.
    const tls = await renewingServerCredentials(ctx.identity, 'policy', { clock: ctx.clock, log: ctx.log });
    view.start();
    revocations.start();
    try {
      const server = await startPolicyServer({
        host: ctx.listen,
        port: Number(ctx.flags['policy-port'] ?? 8090),
        credentials: tls.credentials,
        view,
        watcher,
        metrics,
        queueCapacity: Number(ctx.flags['destination-queue'] ?? DEFAULT_QUEUE_CAPACITY),
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
