// The control-plane components `outpost up` starts after the API, in order, each with the slice of
// the parsed flags it needs (the flags themselves: flags.ts). Identity comes first: the others get
// their mTLS certificates from it.
import type { RunningComponent } from '../core/component.js';
import type { ClusterContext } from '../kube/cluster-view.js';
import type { IdentityOptions } from '../identity/component.js';
import type { ControllersOptions } from '../controllers/component.js';
import type { DestinationOptions } from '../destination/component.js';
import type { PolicyOptions } from '../policy/component.js';
import type { VizOptions } from '../viz/component.js';
import type { InjectorOptions } from '../injector/component.js';
import type { ComponentName, ControlPlaneFlags } from './flags.js';

/** A component ready to start from the control plane's flags (and the process's cluster view). */
export interface LoadedComponent {
  name: ComponentName;
  start(ctx: ClusterContext, flags: ControlPlaneFlags): Promise<RunningComponent>;
}

export async function loadComponents(): Promise<LoadedComponent[]> {
  const [identity, controllers, destination, policy, viz, injector] = await Promise.all([
    import('../identity/component.js'),
    import('../controllers/component.js'),
    import('../destination/component.js'),
    import('../policy/component.js'),
    import('../viz/component.js'),
    import('../injector/component.js'),
  ]);
  return [
    { name: 'identity', start: (ctx, f) => identity.component.start(ctx, identityOptions(f)) },
    { name: 'controllers', start: (ctx, f) => controllers.component.start(ctx, controllersOptions(f)) },
    { name: 'destination', start: (ctx, f) => destination.component.start(ctx, destinationOptions(f)) },
    { name: 'policy', start: (ctx, f) => policy.component.start(ctx, policyOptions(f)) },
    { name: 'viz', start: (ctx, f) => viz.component.start(ctx, vizOptions(f)) },
    { name: 'injector', start: (ctx, f) => injector.component.start(ctx, injectorOptions(f)) },
  ];
}

export function identityOptions(f: ControlPlaneFlags): IdentityOptions {
  return {
    port: f['identity-port'],
    trustAnchorsFile: f['identity-trust-anchors-file'],
    issuerCertFile: f['identity-issuer-cert'],
    issuerKeyFile: f['identity-issuer-key'],
    issuanceLifetimeMs: f['identity-issuance-lifetime'],
    trustDomain: f['identity-trust-domain'],
    rateLimit: f['identity-rate-limit'],
    podNaming: f['identity-naming'],
    // Against Kubernetes (a pod's data dir is an emptyDir) the key must outlive the process.
    jwtKeyStore: f.kubeconfig || f['in-cluster'] ? 'secret' : 'data-dir',
  };
}

export function controllersOptions(f: ControlPlaneFlags): ControllersOptions {
  return { healthPort: f['health-port'], disconnectGraceMs: f['workload-disconnect-grace'], autoRemoveAfterMs: f['auto-registered-remove-after'] };
}

export function destinationOptions(f: ControlPlaneFlags): DestinationOptions {
  return { port: f['destination-port'], queueCapacity: f['destination-queue'], podNaming: f['identity-naming'] };
}

export function policyOptions(f: ControlPlaneFlags): PolicyOptions {
  return { port: f['policy-port'], defaultInboundPolicy: f['default-inbound-policy'], queueCapacity: f['destination-queue'], podNaming: f['identity-naming'] };
}

export function vizOptions(f: ControlPlaneFlags): VizOptions {
  return { port: f['viz-port'], prometheusUrl: f['prometheus-url'], scrapeIntervalMs: f['scrape-interval'], scrapeTargets: f['scrape-target'], trustDomain: f['identity-trust-domain'], podNaming: f['identity-naming'] };
}

export function injectorOptions(f: ControlPlaneFlags): InjectorOptions {
  return {
    // Opt-in (embedded `outpost up` has no pods): --injector, or --components naming it (as `outpost install`'s Deployment does).
    enabled: f.injector || (f.components ?? '').split(',').map((c) => c.trim()).includes('injector'),
    port: f['injector-port'],
    failurePolicy: f['injector-failure-policy'],
    proxyImage: f['injector-proxy-image'],
    identityAddress: f['injector-identity-address'],
    destinationAddress: f['injector-destination-address'],
    policyAddress: f['injector-policy-address'],
    tokenExpirationMs: f['injector-token-expiration'],
  };
}
