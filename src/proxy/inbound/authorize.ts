// Inbound authorization (pure): does a port's policy allow this client (identity, address) and, for
// HTTP, this method and path? The answer carries the labels the authz metrics need.
import { BlockList, isIPv6 } from 'node:net';
import type { Authorization, HttpRoutePolicy, InboundPortPolicy } from '../types.js';

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

export function routeMatches(r: HttpRoutePolicy, method: string, path: string): boolean {
  if (r.methods.length > 0 && !r.methods.includes(method)) return false;
  if (r.pathPrefixes.length === 0) return true;
  for (const p of r.pathPrefixes) if (path.startsWith(p)) return true;
  return false;
}

/** Request-level decision: the first matching route's authorizations, else the port's. */
export function authorizeRequest(policy: InboundPortPolicy | undefined, clientId: string | undefined, clientIp: string, method: string, path: string): AuthzDecision {
  if (!policy) return DENY_NO_POLICY;
  if (policy.httpRoutes.length === 0) return authorizeConnection(policy, clientId, clientIp);
  for (const r of policy.httpRoutes) {
    if (!routeMatches(r, method, path)) continue;
    const a = firstAllowed(r.authorizations.length ? r.authorizations : policy.authorizations, clientId, clientIp);
    return a ? { allowed: true, labels: { ...r.labels, ...a.labels } } : DENY_UNAUTHORIZED;
  }
  return DENY_NO_ROUTE;
}
