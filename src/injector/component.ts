// The proxy injector component (`outpost up --injector`): the mutating admission webhook that puts
// the Outpost proxy into pods (src/inject/pod.ts), served over HTTPS on --injector-port with a
// certificate from the mesh CA (its caBundle is the trust-anchor bundle).
import { CoreV1Api } from '@kubernetes/client-node';
import type { TimerHandle } from '../core/clock.js';
import type { ControlPlaneComponent, RunningComponent } from '../core/component.js';
import { OutpostError } from '../core/errors.js';
import { makeKeepAliveApiClient } from '../core/kube-clients.js';
import { OUTPOST_VERSION } from '../core/version.js';
import { defaultMeshSettings, DEFAULT_PROXY_IMAGE, DEFAULT_TOKEN_EXPIRATION_SECONDS } from '../inject/mesh.js';
import { createInjectorEventRecorder } from './events.js';
import { createInjectorMetrics } from './metrics.js';
import { startInjectorServer, type FailurePolicy } from './server.js';
import { watchUninjectedPods } from './uninjected-pods.js';
import { DEFAULT_EXCLUDED_NAMESPACES } from './webhook-config.js';

/** Like the viz: re-issue the serving certificate well before its 30-day lifetime ends. */
const CERT_REFRESH_MS = 7 * 86_400_000;
/** Namespace annotations are read per pod; a short cache spares the API a read per replica. */
const NAMESPACE_CACHE_MS = 5_000;
/** Its certificate names outpost-injector.outpost.svc, the Service `outpost install` creates. */
export const INJECTOR_SERVICE = 'injector';

export const component: ControlPlaneComponent = {
  name: 'injector',
  flags: {
    injector: { type: 'bool', help: 'serve the proxy injector webhook (pods in a real cluster; see docs/kubernetes.md)' },
    'injector-port': { type: 'int', default: 8443, min: 0, max: 65535, help: 'port of the proxy injector webhook (HTTPS)' },
    'injector-failure-policy': { type: 'string', default: 'Ignore', help: 'the webhook failurePolicy: Ignore (a pod is created without a proxy when the injector cannot answer) or Fail' },
    'injector-proxy-image': { type: 'string', default: DEFAULT_PROXY_IMAGE, help: 'image repository of the injected proxy (tagged with the version)' },
    'injector-identity-address': { type: 'string', default: 'outpost-identity.outpost.svc.cluster.local:8080', help: 'identity service address injected proxies dial' },
    'injector-destination-address': { type: 'string', default: 'outpost-destination.outpost.svc.cluster.local:8086', help: 'destination service address injected proxies dial' },
    'injector-policy-address': { type: 'string', default: 'outpost-policy.outpost.svc.cluster.local:8090', help: 'policy service address injected proxies dial' },
    'injector-token-expiration': { type: 'duration', default: DEFAULT_TOKEN_EXPIRATION_SECONDS * 1000, help: "lifetime of pods' projected identity tokens (at least 10m)" },
  },
  async start(ctx): Promise<RunningComponent> {
    const f = ctx.flags;
    // Opt-in (embedded `outpost up` has no pods): --injector, or --components naming it (as `outpost install`'s Deployment does).
    const selected = String(f.components ?? '').split(',').map((c) => c.trim()).includes('injector');
    if (!f.injector && !selected) return { listeners: {}, stop: async () => {} };
    const identity = ctx.identity;
    if (!identity) throw new OutpostError('CONFIG_INVALID', '--injector needs the identity component in this process or --identity-address (its certificate and the trust anchors come from the mesh CA)', { field: 'injector' });
    const failurePolicy = String(f['injector-failure-policy'] ?? 'Ignore');
    if (failurePolicy !== 'Ignore' && failurePolicy !== 'Fail') throw new OutpostError('CONFIG_INVALID', `--injector-failure-policy: must be Ignore or Fail, got "${failurePolicy}"`, { field: 'injector-failure-policy' });
    const expirationMs = Number(f['injector-token-expiration'] ?? DEFAULT_TOKEN_EXPIRATION_SECONDS * 1000);
    if (!(expirationMs >= 600_000)) throw new OutpostError('CONFIG_INVALID', '--injector-token-expiration: must be at least 10m (the shortest projected token the API issues)', { field: 'injector-token-expiration' });
    for (const flag of ['injector-identity-address', 'injector-destination-address', 'injector-policy-address']) {
      if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(String(f[flag]))) throw new OutpostError('CONFIG_INVALID', `--${flag}: "${String(f[flag])}" is not host:port`, { field: flag });
    }
    const mesh = () =>
      defaultMeshSettings({
        trustAnchorsPem: identity.trustAnchorsPem(),
        trustDomain: identity.trustDomain,
        createdBy: `outpost/proxy-injector ${OUTPOST_VERSION}`,
        proxyImage: String(f['injector-proxy-image'] ?? DEFAULT_PROXY_IMAGE),
        identity: String(f['injector-identity-address']),
        destination: String(f['injector-destination-address']),
        policy: String(f['injector-policy-address']),
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
    const cert = await identity.issueServiceCertificate(INJECTOR_SERVICE);
    const server = await startInjectorServer({
      host: ctx.listen,
      port: Number(f['injector-port'] ?? 8443),
      tls: { certChainPem: cert.chainPem, keyPem: cert.keyPem },
      mesh,
      namespaceAnnotations,
      failurePolicy: failurePolicy as FailurePolicy,
      metrics,
      events,
      log: ctx.log.child('injector'),
    });
    const watch = watchUninjectedPods({ kubeConfig: ctx.kubeConfig, trustDomain: identity.trustDomain, excludedNamespaces: DEFAULT_EXCLUDED_NAMESPACES, namespaceAnnotations, metrics, events, clock: ctx.clock, log: ctx.log.child('injector') });
    let stopped = false;
    let refresh: TimerHandle | undefined;
    const renewLater = () => {
      refresh = ctx.clock.setTimeout(() => {
        identity.issueServiceCertificate(INJECTOR_SERVICE).then(
          (c) => server.setCertificate({ certChainPem: c.chainPem, keyPem: c.keyPem }),
          (e) => ctx.log.warn('injector certificate renewal failed', { error: (e as Error).message }),
        ).finally(() => !stopped && renewLater());
      }, CERT_REFRESH_MS);
      refresh.unref?.();
    };
    renewLater();
    const host = ctx.listen === '0.0.0.0' || ctx.listen === '::' ? '127.0.0.1' : ctx.listen;
    ctx.log.info('proxy injector listening', { port: server.port, failurePolicy });
    return {
      listeners: { injector: `https://${host.includes(':') ? `[${host}]` : host}:${server.port}/inject` },
      metricsText: () => metrics.render(),
      async stop() {
        stopped = true;
        if (refresh) ctx.clock.clearTimeout(refresh);
        await watch.stop();
        await events.flush();
        await server.close();
      },
    };
  },
};
