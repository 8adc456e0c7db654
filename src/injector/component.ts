// The proxy injector component (`outpost up --injector`): the mutating admission webhook that puts
// the Outpost proxy into pods (src/inject/pod.ts), served over HTTPS on --injector-port with a
// certificate from the mesh CA (its caBundle is the trust-anchor bundle).
import { CoreV1Api } from '@kubernetes/client-node';
import type { RunningComponent } from '../core/component.js';
import type { ClusterComponent } from '../kube/cluster-view.js';
import { OutpostError } from '../core/errors.js';
import { makeKeepAliveApiClient } from '../core/kube-clients.js';
import { renewServiceCertificate } from '../core/tls/service-certificate.js';
import { OUTPOST_VERSION } from '../core/version.js';
import { defaultMeshSettings } from '../inject/mesh.js';
import { createInjectorEventRecorder } from './events.js';
import { createInjectorMetrics } from './metrics.js';
import { startInjectorServer, type FailurePolicy, type RunningInjectorServer } from './server.js';
import { watchUninjectedPods } from './uninjected-pods.js';
import { DEFAULT_EXCLUDED_NAMESPACES } from './webhook-config.js';

/** Namespace annotations are read per pod; a short cache spares the API a read per replica. */
const NAMESPACE_CACHE_MS = 5_000;
/** Its certificate names outpost-injector.outpost.svc, the Service `outpost install` creates. */
export const INJECTOR_SERVICE = 'injector';

/** What the injector is started with (src/controlplane/flags.ts). */
export interface InjectorOptions {
  /** Opt-in: embedded `outpost up` has no pods (--injector, or --components naming it). */
  enabled: boolean;
  port: number;
  failurePolicy: FailurePolicy;
  proxyImage: string;
  /** host:port injected proxies dial for identity, destination and policy. */
  identityAddress: string;
  destinationAddress: string;
  policyAddress: string;
  tokenExpirationMs: number;
}

export const component: ClusterComponent<InjectorOptions> = {
  name: 'injector',
  async start(ctx, options): Promise<RunningComponent> {
    if (!options.enabled) return { listeners: {}, stop: async () => {} };
    const identity = ctx.identity;
    if (!identity) throw new OutpostError('CONFIG_INVALID', '--injector needs the identity component in this process or --identity-address (its certificate and the trust anchors come from the mesh CA)', { field: 'injector' });
    const { failurePolicy, tokenExpirationMs: expirationMs } = options;
    const mesh = () =>
      defaultMeshSettings({
        trustAnchorsPem: identity.trustAnchorsPem(),
        trustDomain: identity.trustDomain,
        createdBy: `outpost/proxy-injector ${OUTPOST_VERSION}`,
        proxyImage: options.proxyImage,
        identity: options.identityAddress,
        destination: options.destinationAddress,
        policy: options.policyAddress,
        tokenExpirationSeconds: Math.floor(expirationMs / 1000),
      });
    const core = makeKeepAliveApiClient(ctx.kubeConfig, CoreV1Api);
    const cache = new Map<string, { at: number; annotations: Record<string, string> | undefined }>();
    const namespaceAnnotations = async (ns: string) => {
      const hit = cache.get(ns);
      if (hit && ctx.clock.now() - hit.at < NAMESPACE_CACHE_MS) return hit.annotations;
      const obj = await core.readNamespace({ name: ns });
      if (cache.size > 1000) cache.clear();
      cache.set(ns, { at: ctx.clock.now(), annotations: obj.metadata?.annotations });
      return obj.metadata?.annotations;
    };
    const metrics = createInjectorMetrics();
    const events = createInjectorEventRecorder(ctx.kubeConfig, { log: ctx.log, clock: ctx.clock, onDrop: () => metrics.eventDropped() });
    // Re-issued at 70 % of its lifetime and after a trust-anchor change, as every control-plane service's.
    const serving: { server?: RunningInjectorServer } = {};
    const cert = await renewServiceCertificate(identity, INJECTOR_SERVICE, {
      clock: ctx.clock,
      log: ctx.log,
      onRenewed: (c) => serving.server?.setCertificate({ certChainPem: c.chainPem, keyPem: c.keyPem }),
    });
    const server = await startInjectorServer({
      host: ctx.listen,
      port: options.port,
      tls: { certChainPem: cert.current().chainPem, keyPem: cert.current().keyPem },
      mesh,
      namespaceAnnotations,
      failurePolicy,
      metrics,
      events,
      log: ctx.log.child('injector'),
    }).catch((e: unknown) => {
      cert.stop();
      throw e;
    });
    serving.server = server;
    const watch = watchUninjectedPods({ cluster: ctx.cluster, trustDomain: identity.trustDomain, excludedNamespaces: DEFAULT_EXCLUDED_NAMESPACES, namespaceAnnotations, metrics, events, clock: ctx.clock, log: ctx.log.child('injector') });
    const host = ctx.listen === '0.0.0.0' || ctx.listen === '::' ? '127.0.0.1' : ctx.listen;
    ctx.log.info('proxy injector listening', { port: server.port, failurePolicy });
    return {
      listeners: { injector: `https://${host.includes(':') ? `[${host}]` : host}:${server.port}/inject` },
      metricsText: () => metrics.render(),
      async stop() {
        cert.stop();
        await watch.stop();
        await events.flush();
        await server.close();
      },
    };
  },
};
