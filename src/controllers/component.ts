// The controllers component of `outpost up`: EndpointSlices for external workloads, WorkloadGroup
// status and effective labels, and the workload health API (--health-port, mTLS) that feeds the
// Ready condition. See docs/endpoints.md.
import type { ClusterComponent } from '../kube/cluster-view.js';
import { renewingServerCredentials, type RenewingCredentials } from '../core/tls/renewing-credentials.js';
import { RevokedPeerGuard } from '../core/tls/revoked-peers.js';
import { RevocationFeed } from '../kube/revocation-feed.js';
import { startControllers } from './run.js';

/** What the controllers are started with (src/controlplane/flags.ts). */
export interface ControllersOptions {
  /** Port of the workload health API. */
  healthPort: number;
  /** How long an external workload stays ready after its proxy stops reporting. */
  disconnectGraceMs: number;
  /** How long an auto-registered workload may have lost its heartbeat before it is deleted. */
  autoRemoveAfterMs: number;
}

export const component: ClusterComponent<ControllersOptions> = {
  name: 'controllers',
  async start(ctx, options) {
    let health;
    let tls: RenewingCredentials | undefined;
    let revocations: RevocationFeed | undefined;
    if (ctx.identity) {
      tls = await renewingServerCredentials(ctx.identity, 'health', { clock: ctx.clock, log: ctx.log });
      revocations = new RevocationFeed(ctx.cluster);
      health = { host: ctx.listen, port: options.healthPort, credentials: tls.credentials, revokedPeers: new RevokedPeerGuard(revocations) };
    } else {
      ctx.log.warn('no identity component: the workload health API is not served (workloads are ready only if annotated outpost.io/assume-ready=true)');
    }
    const running = await startControllers({
      kubeConfig: ctx.kubeConfig,
      cluster: ctx.cluster,
      clock: ctx.clock,
      log: ctx.log,
      disconnectGraceMs: options.disconnectGraceMs,
      autoRemoveAfterMs: options.autoRemoveAfterMs,
      health,
      trustDomain: ctx.identity?.trustDomain,
    }).catch(async (e: unknown) => {
      tls?.stop();
      await revocations?.stop();
      throw e;
    });
    const host = ctx.listen.includes(':') ? `[${ctx.listen}]` : ctx.listen;
    const listeners: Record<string, string> = running.healthPort !== undefined ? { health: `${host}:${running.healthPort}` } : {};
    return {
      listeners,
      stop: async () => {
        tls?.stop();
        await running.stop();
        await revocations?.stop();
      },
    };
  },
};
