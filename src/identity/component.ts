// The identity component of the control plane: loads (or creates) the CA, publishes the trust roots,
// serves Certify over TLS, and issues the other components' mTLS certificates (identityAuthority).
import type { ControlPlaneContext, IdentityAuthority } from '../core/component.js';
import type { ClusterComponent } from '../kube/cluster-view.js';
import type { TimerHandle } from '../core/clock.js';
import { OutpostError } from '../core/errors.js';
import { Authority } from './authority.js';
import { prepareCaMaterial, watchMaterial } from './ca-material.js';
import { authorizeWithFreshFallback } from './certify.js';
import { withPodIdentity } from './pod-identity.js';
import type { PodNaming } from '../core/workloads/pod.js';
import { withControlPlaneServices } from './control-plane-services.js';
import { startWorkloadDirectory } from './directory.js';
import { createMemberStore, withAutoRegistration } from './registrar.js';
import { createEventRecorder, createTokenReviewer, publishTrustRoots, TRUST_ROOTS_NAMESPACE } from './kube.js';
import { identityMetrics } from './metrics.js';
import { createRateLimiter } from '../core/rate-limit.js';
import { startIdentityServer } from './server.js';
import { loadOrCreateJwtKey } from './jwt-key.js';
import { JWT_KEY_SECRET, loadOrCreateJwtKeyInSecret } from './jwt-key-secret.js';
import { jwtHandlers } from './jwt-service.js';
import { createTokenLedger } from './token-ledger.js';
import type { ServingMaterial } from '../core/tls/material-provider.js';

/** Control-plane service certificates (destination, policy, health, identity itself). Components keep them in memory. */
export const SERVICE_CERT_LIFETIME_MS = 30 * 86_400_000;

/** Metrics of the identity service in this process (Prometheus text), for `outpost up` to serve. */
export function identityMetricsText(): string {
  return identityMetrics.render();
}

/** What the identity component is started with (flags identity-*, src/controlplane/flags.ts). */
export interface IdentityOptions {
  port: number;
  /** Import: the trust anchors, issuer certificate and key files (else a CA is generated in DATA_DIR/pki). */
  trustAnchorsFile?: string;
  issuerCertFile?: string;
  issuerKeyFile?: string;
  issuanceLifetimeMs: number;
  trustDomain: string;
  /** Certify requests per second per caller IP; 0: no limit. */
  rateLimit: number;
  /** The DNS name (serverName) of pods' certificates. */
  podNaming: PodNaming;
  /** Where the JWT-SVID signing key is kept: DATA_DIR/pki (embedded API) or its Secret (against Kubernetes). */
  jwtKeyStore: 'data-dir' | 'secret';
}

export const component: ClusterComponent<IdentityOptions> = {
  name: 'identity',
  async start(ctx, options) {
    const log = ctx.log;
    const { trustDomain, issuanceLifetimeMs: lifetimeMs, rateLimit: rate, port } = options;
    const source = await prepareCaMaterial(ctx.dataDir, {
      trustAnchorsFile: options.trustAnchorsFile,
      issuerCertFile: options.issuerCertFile,
      issuerKeyFile: options.issuerKeyFile,
    });
    let authority = Authority.load(source.material, trustDomain, ctx.clock.now());
    if (source.generated) log.info('generated the identity trust anchor and issuer', { dir: `${ctx.dataDir}/pki` });
    // Against Kubernetes the data dir is a pod's emptyDir: the key lives in a Secret of its own.
    const jwtKey = options.jwtKeyStore === 'secret' ? await loadOrCreateJwtKeyInSecret(ctx.kubeConfig) : loadOrCreateJwtKey(ctx.dataDir);
    const keyWhere = options.jwtKeyStore === 'secret' ? `Secret ${TRUST_ROOTS_NAMESPACE}/${JWT_KEY_SECRET}` : `${ctx.dataDir}/pki`;
    log.info(jwtKey.generated ? 'generated the JWT-SVID signing key' : 'loaded the JWT-SVID signing key', { in: keyWhere, kid: jwtKey.key.kid });
    const publish = (anchorsPem: string) => publishWithRetry(ctx, anchorsPem, jwtKey.key.jwksJson);
    await publish(authority.trustAnchorsPem());

    const serving = (): ServingMaterial & { notAfter: number } => {
      const c = authority.issueServiceCertificate('identity', { listen: ctx.listen, lifetimeMs: SERVICE_CERT_LIFETIME_MS, now: ctx.clock.now() });
      return { trustAnchorsPem: authority.trustAnchorsPem(), certChainPem: c.chainPem, keyPem: c.keyPem, notAfter: c.notAfter };
    };
    const directory = startWorkloadDirectory(ctx.cluster, { trustDomain });
    const reviewToken = createTokenReviewer(ctx.kubeConfig);
    const tokens = createTokenLedger(ctx.kubeConfig, { clock: ctx.clock, log });
    await directory.synced(5_000);
    const first = serving();
    const rateLimiter = createRateLimiter({ ratePerSecond: rate, burst: Math.max(10, rate * 2), clock: ctx.clock });
    const server = await startIdentityServer(
      {
        host: ctx.listen,
        port,
        authority: () => authority,
        authorize: withControlPlaneServices({
          trustDomain,
          reviewToken,
          next: withAutoRegistration({
          reviewToken,
          store: createMemberStore(ctx.kubeConfig),
          authorize: withPodIdentity({ trustDomain, naming: options.podNaming, next: (input, review) => authorizeWithFreshFallback(input, review, directory.cached, directory.fresh) }),
          trustDomain,
          log,
          onRegistered: (action) => identityMetrics.workloadRegistered(action),
          }),
        }),
        lifetimeMs,
        rateLimiter,
        jwt: jwtHandlers({ key: jwtKey.key, trustDomain, rateLimiter, clock: ctx.clock, log }),
        metrics: identityMetrics,
        events: createEventRecorder(ctx.kubeConfig, { log, clock: ctx.clock, onDrop: () => identityMetrics.eventsDropped() }),
        tokens,
        clock: ctx.clock,
        log,
      },
      first,
    ).catch(async (e: unknown) => {
      tokens.stop();
      await directory.stop();
      throw new OutpostError('CONFIG_INVALID', `--identity-port: cannot listen on ${ctx.listen}:${port} (${(e as Error).message}); is the port in use?`, { field: 'identity-port', cause: e });
    });

    // Refresh our own serving certificate at 70 % of its lifetime, and whenever the issuer changes.
    let refreshTimer: TimerHandle | undefined;
    const scheduleRefresh = (notAfter: number) => {
      if (refreshTimer) ctx.clock.clearTimeout(refreshTimer);
      const now = ctx.clock.now();
      refreshTimer = ctx.clock.setTimeout(refreshServing, Math.max(1_000, (notAfter - now) * 0.7));
      refreshTimer.unref?.();
    };
    function refreshServing() {
      const next = serving();
      server.setServingMaterial(next);
      scheduleRefresh(next.notAfter);
    }
    scheduleRefresh(first.notAfter);

    const watcher = watchMaterial(
      source,
      (material) => {
        try {
          const next = Authority.load(material, trustDomain, ctx.clock.now());
          const anchorsChanged = next.trustAnchorsPem() !== authority.trustAnchorsPem();
          authority = next;
          refreshServing();
          log.info('loaded a new identity issuer from disk', { issuer: next.issuerCertificate.subject.replace(/\n/g, ','), validTo: next.issuerCertificate.validTo });
          if (anchorsChanged) void publish(next.trustAnchorsPem());
        } catch (e) {
          log.warn('ignoring the changed identity CA files; keeping the current issuer', { error: e });
        }
      },
      { log, dataDir: ctx.dataDir },
    );

    const identityAuthority: IdentityAuthority = {
      trustDomain,
      trustAnchorsPem: () => authority.trustAnchorsPem(),
      async issueServiceCertificate(service: string) {
        const c = authority.issueServiceCertificate(service, { listen: ctx.listen, lifetimeMs: SERVICE_CERT_LIFETIME_MS, now: ctx.clock.now() });
        identityMetrics.issued('service');
        return { certPem: c.certPem, keyPem: c.keyPem, chainPem: c.chainPem };
      },
    };
    const advertised = ctx.listen === '0.0.0.0' || ctx.listen === '::' ? '127.0.0.1' : ctx.listen;
    log.info('identity service listening', { port: server.port, trustDomain });
    return {
      listeners: { identity: `${advertised.includes(':') ? `[${advertised}]` : advertised}:${server.port}` },
      identityAuthority,
      metricsText: identityMetricsText,
      async stop() {
        watcher.close();
        if (refreshTimer) ctx.clock.clearTimeout(refreshTimer);
        await server.close();
        tokens.stop();
        await directory.stop();
      },
    };
  },
};

async function publishWithRetry(ctx: ControlPlaneContext, bundle: string, jwksJson: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await publishTrustRoots(ctx.kubeConfig, bundle, jwksJson);
      return;
    } catch (e) {
      if (attempt >= 5) {
        ctx.log.warn('could not publish the trust roots ConfigMap outpost/outpost-identity-trust-roots', { error: e });
        return;
      }
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
