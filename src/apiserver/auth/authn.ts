// Who is calling, and what they may do. The admin bearer token has every right; a valid
// ServiceAccount token authenticates but grants only discovery (see docs/api-auth.md);
// anything else is anonymous and gets 401, except the health endpoints.
import { timingSafeEqual } from 'node:crypto';
import { DEFAULT_AUDIENCE, type ServiceAccountLookup, type ServiceAccountTokens, type ServiceAccountUser } from './serviceaccount-tokens.js';

export type Requester = { kind: 'admin'; username: 'system:admin' } | { kind: 'serviceaccount'; username: string; user: ServiceAccountUser };

export class Authenticator {
  private readonly admin: Buffer;

  constructor(
    adminToken: string,
    private readonly tokens: ServiceAccountTokens,
    private readonly lookup: ServiceAccountLookup,
  ) {
    this.admin = Buffer.from(adminToken);
  }

  /** The requester for an Authorization header, or undefined (anonymous or an invalid token). */
  authenticate(authorization: string | undefined): Requester | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const token = m[1];
    const given = Buffer.from(token);
    // Constant time for same-length tokens; the admin token's length is not a secret.
    if (given.length === this.admin.length && timingSafeEqual(given, this.admin)) return { kind: 'admin', username: 'system:admin' };
    const review = this.tokens.review(token, [DEFAULT_AUDIENCE], this.lookup);
    if (!review.authenticated) return undefined;
    return { kind: 'serviceaccount', username: review.user.username, user: review.user };
  }
}

/** What a request does, for authorization. */
export type RequestAttributes = { resourceRequest: false; path: string } | { resourceRequest: true; verb: string; group: string; resource: string; namespace?: string };

/** Non-resource paths every authenticated caller may read (like the system:discovery role). */
const DISCOVERY_PATHS = /^\/(version|api|apis|openapi|livez|readyz|healthz)(\/|$)/;

/**
 * The minimal authorization model: admin may do everything; a ServiceAccount may read discovery
 * and nothing else (there is no RBAC yet, so nothing can be granted to it).
 */
export function authorize(requester: Requester, attrs: RequestAttributes): boolean {
  if (requester.kind === 'admin') return true;
  if (!attrs.resourceRequest) return DISCOVERY_PATHS.test(attrs.path);
  return false;
}

/** The 403 message kube-apiserver uses. */
export function forbiddenMessage(requester: Requester, attrs: RequestAttributes & { resourceRequest: true }, qualified: string, name?: string): string {
  const target = name ? `${qualified} "${name}"` : qualified;
  const scope = attrs.namespace ? ` in the namespace "${attrs.namespace}"` : ' at the cluster scope';
  return `${target} is forbidden: User "${requester.username}" cannot ${attrs.verb} resource "${attrs.resource}" in API group "${attrs.group}"${scope}`;
}
