// Inbound authorization (pure): does a port's policy allow this client (identity, address) and, for
// HTTP, this request? A request takes the Server's HTTPRoute its most specific match selects (the
// core route matcher, the same as outbound), then that route's authorizations apply. The answer
// carries the labels the authz metrics need.
import { BlockList, isIPv6 } from 'node:net';
import { RouteTable, type RequestView } from '../../core/routes/http-route.js';
import type { Authorization, InboundPortPolicy } from '../../api/model.js';

export interface AuthzDecision {
  allowed: boolean;
  /** Labels of the matching authorization or route (for inbound_*_authz_* metrics). */
  labels: Record<string, string>;
}

const DENY_NO_POLICY: AuthzDecision = { allowed: false, labels: { reason: 'no_policy' } };
const DENY_UNAUTHORIZED: AuthzDecision = { allowed: false, labels: { reason: 'unauthorized' } };
const DENY_NO_ROUTE: AuthzDecision = { allowed: false, labels: { reason: 'no_route' } };

export function identityMatches(pattern: string, identity: string | undefined): boolean {
  if (identity === undefined) return false;
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return identity.endsWith(pattern.slice(1));
  return pattern === identity;
}

const networkCache = new WeakMap<Authorization, BlockList | null>();

function networksOf(a: Authorization): BlockList | null {
  let bl = networkCache.get(a);
  if (bl !== undefined) return bl;
  if (a.networks.length === 0) bl = null;
  else {
    bl = new BlockList();
    for (const n of a.networks) addCidr(bl, n.net);
  }
  networkCache.set(a, bl);
  return bl;
}

const exceptCache = new WeakMap<Authorization, BlockList>();
function exceptsOf(a: Authorization): BlockList {
  let bl = exceptCache.get(a);
  if (!bl) {
    bl = new BlockList();
    for (const n of a.networks) for (const e of n.except) addCidr(bl, e);
    exceptCache.set(a, bl);
  }
  return bl;
}

function addCidr(bl: BlockList, cidr: string): void {
  const [ip, bits] = cidr.split('/');
  const family = isIPv6(ip) ? 'ipv6' : 'ipv4';
  const prefix = bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits);
  try {
    bl.addSubnet(ip, prefix, family);
  } catch {}
}

function clientAllowed(a: Authorization, clientId: string | undefined, clientIp: string): boolean {
  const nets = networksOf(a);
  if (nets) {
    const ip = clientIp.startsWith('::ffff:') ? clientIp.slice(7) : clientIp;
    const family = isIPv6(ip) ? 'ipv6' : 'ipv4';
    if (!nets.check(ip, family) || exceptsOf(a).check(ip, family)) return false;
  }
  if (a.authentication.kind === 'unauthenticated') return true;
  for (const p of a.authentication.identities) if (identityMatches(p, clientId)) return true;
  return false;
}

function firstAllowed(authzs: Authorization[], clientId: string | undefined, clientIp: string): Authorization | undefined {
  for (const a of authzs) if (clientAllowed(a, clientId, clientIp)) return a;
  return undefined;
}

/** Connection-level decision (opaque TCP, or HTTP before routes are known). */
export function authorizeConnection(policy: InboundPortPolicy | undefined, clientId: string | undefined, clientIp: string): AuthzDecision {
  if (!policy) return DENY_NO_POLICY;
  const a = firstAllowed(policy.authorizations, clientId, clientIp);
  if (a) return { allowed: true, labels: a.labels };
  // With HTTP routes, a route may authorize what the port alone does not.
  return DENY_UNAUTHORIZED;
}

const routeTables = new WeakMap<InboundPortPolicy, RouteTable>();

/** The policy's routes compiled once (policies are replaced, never mutated, on each update). */
function routeTableOf(policy: InboundPortPolicy): RouteTable {
  let t = routeTables.get(policy);
  if (!t) {
    t = new RouteTable(policy.httpRoutes.map((r, i) => ({ name: String(i), matches: r.matches })));
    routeTables.set(policy, t);
  }
  return t;
}

/** Request-level decision: the matching route's authorizations (the port's when the route has none); no matching route -> denied. */
export function authorizeRequest(policy: InboundPortPolicy | undefined, clientId: string | undefined, clientIp: string, req: RequestView): AuthzDecision {
  if (!policy) return DENY_NO_POLICY;
  if (policy.httpRoutes.length === 0) return authorizeConnection(policy, clientId, clientIp);
  const i = routeTableOf(policy).indexOf(req);
  if (i < 0) return DENY_NO_ROUTE;
  const r = policy.httpRoutes[i];
  const a = firstAllowed(r.authorizations.length ? r.authorizations : policy.authorizations, clientId, clientIp);
  return a ? { allowed: true, labels: { ...r.labels, ...a.labels } } : DENY_UNAUTHORIZED;
}
