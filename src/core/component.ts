// The contract between `outpost up` and each control-plane component (identity, controllers,
// health, destination, policy, viz). Each component declares its flags, starts against the API
// through @kubernetes/client-node only, and reports its listeners for control-plane.json.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from './clock.js';
import type { FlagSpecs } from './flags.js';
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
  /** Parsed flags of every component (each reads its own). */
  flags: Record<string, unknown>;
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

export interface ControlPlaneComponent {
  name: string;
  flags: FlagSpecs;
  start(ctx: ControlPlaneContext): Promise<RunningComponent>;
}
