// Maps a computed inbound port policy to the InboundServer message of proto/outpost/policy.proto
// (src/api/gen types, enums by name).
import type { Authorization, InboundPortPolicy } from '../api/model.js';
import type { Authorization as WireAuthorization, InboundServer, ProxyProtocol } from '../api/gen/policy.js';
import { toWireRouteMatch } from '../api/route-match.js';

function toWireAuthorization(a: Authorization): WireAuthorization {
  return {
    networks: a.networks.map((n) => ({ net: n.net, except: n.except })),
    authentication: a.authentication.kind === 'unauthenticated' ? { unauthenticated: {} } : { meshTls: { identities: a.authentication.identities } },
    labels: a.labels,
  };
}

export function toWireInboundServer(p: InboundPortPolicy): Required<InboundServer> {
  return {
    protocol: p.protocol.toUpperCase() as ProxyProtocol,
    authorizations: p.authorizations.map(toWireAuthorization),
    httpRoutes: p.httpRoutes.map((r) => ({ labels: r.labels, matches: r.matches.map(toWireRouteMatch), authorizations: r.authorizations.map(toWireAuthorization) })),
    labels: p.labels,
  };
}
