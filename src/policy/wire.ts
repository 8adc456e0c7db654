// Maps a computed inbound port policy to the InboundServer message of proto/outpost/policy.proto
// (proto-loader objects, keepCase, enums as strings).
import type { Authorization, InboundPortPolicy } from '../api/model.js';
import { toWireRouteMatch, type WireRouteMatch } from '../core/routes/route-wire.js';

export interface WireAuthorization {
  networks: { net: string; except: string[] }[];
  authentication: { unauthenticated: Record<string, never> } | { mesh_tls: { identities: string[] } };
  labels: Record<string, string>;
}

export interface WireInboundServer {
  protocol: 'DETECT' | 'OPAQUE' | 'HTTP1' | 'HTTP2' | 'GRPC' | 'TLS';
  authorizations: WireAuthorization[];
  http_routes: { labels: Record<string, string>; matches: WireRouteMatch[]; authorizations: WireAuthorization[] }[];
  labels: Record<string, string>;
}

function toWireAuthorization(a: Authorization): WireAuthorization {
  return {
    networks: a.networks.map((n) => ({ net: n.net, except: n.except })),
    authentication: a.authentication.kind === 'unauthenticated' ? { unauthenticated: {} } : { mesh_tls: { identities: a.authentication.identities } },
    labels: a.labels,
  };
}

export function toWireInboundServer(p: InboundPortPolicy): WireInboundServer {
  return {
    protocol: p.protocol.toUpperCase() as WireInboundServer['protocol'],
    authorizations: p.authorizations.map(toWireAuthorization),
    http_routes: p.httpRoutes.map((r) => ({ labels: r.labels, matches: r.matches.map(toWireRouteMatch), authorizations: r.authorizations.map(toWireAuthorization) })),
    labels: p.labels,
  };
}
