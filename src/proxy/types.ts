// The seams of the proxy: the data path (inbound/outbound) consumes these interfaces; the
// control-plane clients (destination, policy, identity) and static configuration implement them.
// Listeners registered here must not block: they are called on the event loop with a snapshot.

import type { RouteMatch, RouteTable } from '../core/routes/http-route.js';

export type ProtocolHint = 'unknown' | 'h2' | 'opaque';

/** One endpoint of a logical service, as discovery gives it. */
export interface ResolvedEndpoint {
  /** IP of the workload. */
  address: string;
  /** The app's target port on that workload. */
  port: number;
  /** The peer proxy's inbound port, where connections go (the target port travels inside). */
  inboundPort: number;
  /** SPIFFE id the peer's certificate must carry; undefined = the peer is not meshed (plain TCP). */
  identity?: string;
  /** SNI to send. */
  serverName?: string;
  protocolHint: ProtocolHint;
  weight: number;
  /** dst_* metric labels (dst_namespace, dst_service, dst_external_workload, ...). */
  labels: Record<string, string>;
  zone?: string;
}

export interface EndpointSnapshot {
  /** False when the service does not exist at all. */
  exists: boolean;
  endpoints: ResolvedEndpoint[];
  /** Labels common to the service (dst_service, dst_namespace). */
  labels: Record<string, string>;
  /** True when the service's port is opaque. */
  opaque?: boolean;
  /** The port's HTTPRoutes (parentRefs kind Service): name each request's route for metrics. */
  routes?: RouteTable;
}

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

export type ProxyProtocol = 'detect' | 'opaque' | 'http1' | 'http2' | 'grpc' | 'tls';

export interface Authorization {
  /** CIDRs the client address must be in; empty = any. */
  networks: { net: string; except: string[] }[];
  /** unauthenticated, or mTLS with allowed identities ('*' = any authenticated; '*.suffix' = suffix match). */
  authentication: { kind: 'unauthenticated' } | { kind: 'meshTLS'; identities: string[] };
  labels: Record<string, string>;
}

/** An HTTPRoute of a Server: its full matches (any one is enough, Gateway API precedence across routes) and who may use it. */
export interface HttpRoutePolicy {
  labels: Record<string, string>;
  matches: RouteMatch[];
  authorizations: Authorization[];
}

export interface InboundPortPolicy {
  protocol: ProxyProtocol;
  authorizations: Authorization[];
  httpRoutes: HttpRoutePolicy[];
  labels: Record<string, string>;
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
