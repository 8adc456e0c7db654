// The mesh's shared model: what discovery resolves (a service's endpoints), what policy decides (a
// port's protocol, authorizations and routes) and what tap observes (a request event), in the one
// shape the control plane (destination, policy, explain, viz) and the proxy both use. Neither side
// owns it; the proxy and the control plane import it from here instead of from each other.

import type { RouteMatch, RouteTable } from '../core/routes/http-route.js';

// Discovery (destination service)

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

// Inbound policy (policy service)

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

// Tap (the proxy's tap server, relayed by the viz)

/** One live request event as tap carries it (proto/outpost/tap.proto TapEvent): the proxy publishes these, the viz relays them. */
export interface TapEventFields {
  direction: 'inbound' | 'outbound';
  source: string;
  destination: string;
  sourceIdentity: string;
  destinationIdentity: string;
  method: string;
  authority: string;
  path: string;
  status: number;
  /** The gRPC status of a gRPC response (a failed call is still HTTP 200); undefined for plain HTTP. */
  grpcStatus?: number;
  latencyMs: number;
  timestampMs: number;
  destinationLabels: Record<string, string>;
  tls: boolean;
}
