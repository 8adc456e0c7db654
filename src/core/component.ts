// The contract between `outpost up` and each control-plane component (identity, controllers,
// health, destination, policy, viz). Each component starts with its typed options (taken from the
// control plane's one flag table, src/controlplane/flags.ts), against the API through
// @kubernetes/client-node only, and reports its listeners for control-plane.json.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from './clock.js';
import type { Logger } from './log.js';

export interface ServiceCertificate {
  certPem: string;
  keyPem: string;
  /** Leaf first, then intermediates. */
  chainPem: string;
}

/** What the identity component shares with the others once it has started. */
export interface IdentityAuthority {
  trustDomain: string;
  /** The current trust-anchor bundle (PEM). */
  trustAnchorsPem(): string;
  /** Issues an mTLS certificate for a control-plane service, e.g. "destination" → spiffe://<td>/ns/outpost/sa/outpost-destination, DNS destination.outpost.svc.cluster.local, plus localhost and the listen IP. */
  issueServiceCertificate(service: string): Promise<ServiceCertificate>;
}

export interface ControlPlaneContext {
  dataDir: string;
  /** The address every listener binds to (--listen). */
  listen: string;
  log: Logger;
  clock: Clock;
  /** Admin access to the API (the embedded one or a real cluster). */
  kubeConfig: KubeConfig;
  /** Set once the identity component has started. */
  identity?: IdentityAuthority;
}

export interface RunningComponent {
  /** listener name → address, for control-plane.json (e.g. { identity: "127.0.0.1:8080" }). */
  listeners: Record<string, string>;
  stop(): Promise<void>;
  /** The component's Prometheus metrics (text exposition format), served on the control plane's admin port. */
  metricsText?(): string;
  /** Only the identity component: its authority, handed to the components started after it. */
  identityAuthority?: IdentityAuthority;
}

/**
 * A component with options `O`: what `outpost up` hands it from the parsed flags (controlplane/components.ts).
 * `Ctx` is what its start() needs beyond ControlPlaneContext (src/kube adds the process's cluster view).
 */
export interface ControlPlaneComponent<O, Ctx extends ControlPlaneContext = ControlPlaneContext> {
  name: string;
  start(ctx: Ctx, options: O): Promise<RunningComponent>;
}
