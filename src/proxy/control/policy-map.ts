// Maps the policy service's InboundServer (src/api/gen, as src/api/load.ts decodes it) to the proxy's InboundPortPolicy.
// Pure and table-tested. Anything the proxy cannot understand maps to the narrower reading (deny).
import type { Authorization, HttpRoutePolicy, InboundPortPolicy, ProxyProtocol } from '../../api/model.js';
import type { Authorization__Output, InboundServer__Output } from '../../api/gen/policy.js';
import { fromWireRouteMatches } from '../../api/route-match.js';

const PROTOCOLS: Record<string, ProxyProtocol> = { DETECT: 'detect', OPAQUE: 'opaque', HTTP1: 'http1', HTTP2: 'http2', GRPC: 'grpc', TLS: 'tls' };

export function toAuthorization(wire: Authorization__Output): Authorization {
  const authn = wire.authentication;
  const kind = authn?.authn ?? (authn?.meshTls ? 'meshTls' : authn?.unauthenticated ? 'unauthenticated' : undefined);
  return {
    networks: (wire.networks ?? []).filter((n) => n.net).map((n) => ({ net: n.net!, except: [...(n.except ?? [])] })),
    // An authorization without a (known) authentication matches nobody rather than everybody.
    authentication: kind === 'unauthenticated' ? { kind: 'unauthenticated' } : { kind: 'meshTLS', identities: kind === 'meshTls' ? [...(authn?.meshTls?.identities ?? [])] : [] },
    labels: { ...(wire.labels ?? {}) },
  };
}

export function toInboundPortPolicy(wire: InboundServer__Output): InboundPortPolicy {
  const httpRoutes: HttpRoutePolicy[] = (wire.httpRoutes ?? []).map((r) => ({
    labels: { ...(r.labels ?? {}) },
    // A route without (understood) matches takes no request: an older policy server's flattened
    // prefixes are ignored, so its requests are refused rather than over-granted.
    matches: fromWireRouteMatches(r.matches),
    authorizations: (r.authorizations ?? []).map(toAuthorization),
  }));
  return {
    protocol: PROTOCOLS[String(wire.protocol ?? 'DETECT')] ?? 'detect',
    authorizations: (wire.authorizations ?? []).map(toAuthorization),
    httpRoutes,
    labels: { ...(wire.labels ?? {}) },
  };
}
