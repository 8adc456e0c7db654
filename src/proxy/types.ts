// The seams of the proxy: the data path (inbound/outbound) consumes these interfaces; the
// control-plane clients (destination, policy, identity) and static configuration implement them.
// Listeners registered here must not block: they are called on the event loop with a snapshot.

import type { EndpointSnapshot, InboundPortPolicy, ResolvedEndpoint } from '../api/model.js';

export interface EndpointWatch {
  /** The latest snapshot, once one has arrived (fail static: kept through control-plane outages). */
  current(): EndpointSnapshot | undefined;
  /** Called with every new snapshot; returns an unsubscribe function. */
  subscribe(listener: (s: EndpointSnapshot) => void): () => void;
  close(): void;
}

/** What the control plane knows of an address or a Service name (destination GetProfile). */
export interface DestinationProfile {
  /** The Service, "name.ns.svc.cluster.local", when the address is its cluster IP or the name is a Service's. */
  service?: string;
  /** That Service's cluster IP. */
  clusterIP?: string;
  /** The meshed workload serving that ip:port. */
  endpoint?: ResolvedEndpoint;
  opaque: boolean;
}

export interface ProfileWatch {
  current(): DestinationProfile | undefined;
  subscribe(listener: (p: DestinationProfile) => void): () => void;
  close(): void;
}

export interface Discovery {
  /** Resolves a logical authority such as "postgres.hybrid-app.svc.cluster.local:5432" or "postgres.hybrid-app:5432". */
  resolve(authority: string): EndpointWatch;
  /** Looks up "ip:port" (a captured connection's original destination) or "name.ns:port"; absent without a control plane. */
  profile?(target: string): ProfileWatch;
  close(): void;
}

export interface PolicySource {
  /** The policy of a local port; listeners get every change. Until the first answer, `current` is undefined and traffic is denied. */
  watchPort(port: number): {
    current(): InboundPortPolicy | undefined;
    subscribe(listener: (p: InboundPortPolicy) => void): () => void;
    close(): void;
  };
  close(): void;
}

/** The ports the workload's ExternalWorkload declares (spec.ports, with its WorkloadGroup template's). */
export interface WorkloadPortsSource {
  /** Undefined until the control plane has said (fail static afterwards: the last list is kept). */
  current(): ReadonlySet<number> | undefined;
  subscribe(listener: (ports: ReadonlySet<number>) => void): () => void;
}

/** A workload's TLS credentials. */
export interface Credentials {
  identity: string;
  serverName: string;
  certPem: string;
  keyPem: string;
  /** Leaf's intermediates (PEM), leaf's issuer first. */
  chainPem: string;
  trustAnchorsPem: string;
  notAfter: number;
}

export interface IdentitySource {
  current(): Credentials | undefined;
  /** Called whenever the credentials change (renewal, reload). */
  subscribe(listener: (c: Credentials) => void): () => void;
  close(): void;
}
