// ServiceAccount tokens: issuing (TokenRequest) and reviewing (TokenReview, and authenticating API
// requests). Tokens are ES256 JWTs with the claims a real cluster puts in them, bound to the
// ServiceAccount's uid, so deleting (or re-creating) the ServiceAccount revokes them at once.
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { KubeObject } from '../../store/types.js';
import { audiencesOf, keyIdOf, signJwt, verifyJwt, type JwtClaims } from './jwt.js';

/** The API server's own audience, the default of TokenRequest and TokenReview (as in kube-apiserver). */
export const DEFAULT_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const DEFAULT_EXPIRATION_SECONDS = 3600;
/** kube-apiserver refuses shorter tokens ("may not specify a duration less than 10 minutes"). */
export const MIN_EXPIRATION_SECONDS = 600;
/** Accepted clock skew when verifying exp and nbf. */
const LEEWAY_SECONDS = 60;

export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: unknown;
}

export interface IssuedToken {
  token: string;
  audiences: string[];
  expirationSeconds: number;
  expirationTimestamp: string;
}

export interface ServiceAccountUser {
  username: string;
  uid: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export type TokenReviewOutcome = { authenticated: true; user: ServiceAccountUser; audiences: string[] } | { authenticated: false; error: string };

/** Looks up a ServiceAccount by namespace and name (the live object, or undefined). */
export type ServiceAccountLookup = (namespace: string, name: string) => KubeObject | undefined;

interface KubernetesClaim {
  namespace?: string;
  serviceaccount?: { name?: string; uid?: string };
}

export class ServiceAccountTokens {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly kid: string;

  constructor(
    privateKeyPem: string,
    private readonly clock: Clock,
    private readonly issuer = DEFAULT_ISSUER,
  ) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    this.kid = keyIdOf(this.publicKey);
  }

  /** Signs a token for the ServiceAccount. The caller has validated expirationSeconds. */
  issue(serviceAccount: KubeObject, spec: TokenRequestSpec): IssuedToken {
    const audiences = spec.audiences && spec.audiences.length > 0 ? spec.audiences : [DEFAULT_AUDIENCE];
    const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    const now = Math.floor(this.clock.now() / 1000);
    const namespace = serviceAccount.metadata.namespace ?? '';
    const name = serviceAccount.metadata.name ?? '';
    const claims: JwtClaims = {
      aud: audiences,
      exp: now + expirationSeconds,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': { namespace, serviceaccount: { name, uid: serviceAccount.metadata.uid ?? '' } },
      nbf: now,
      sub: `system:serviceaccount:${namespace}:${name}`,
    };
    return {
      token: signJwt(claims, this.privateKey, this.kid),
      audiences,
      expirationSeconds,
      expirationTimestamp: new Date((now + expirationSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  }

  /**
   * Validates signature, expiry, issuer and audience (the token's audiences must intersect
   * `audiences`; empty means the API's own audience), then that the ServiceAccount still exists
   * with the uid the token was bound to.
   */
  review(token: string, audiences: string[], lookup: ServiceAccountLookup): TokenReviewOutcome {
    const verified = verifyJwt(token, this.publicKey, Math.floor(this.clock.now() / 1000), LEEWAY_SECONDS);
    if (!verified.ok) return { authenticated: false, error: `invalid bearer token, ${verified.reason}` };
    const claims = verified.claims;
    if (claims.iss !== this.issuer) return { authenticated: false, error: 'invalid bearer token, token issuer is not trusted' };
    const wanted = audiences.length > 0 ? audiences : [DEFAULT_AUDIENCE];
    const tokenAudiences = audiencesOf(claims);
    const matched = wanted.filter((a) => tokenAudiences.includes(a));
    if (matched.length === 0) {
      return { authenticated: false, error: `invalid bearer token, token audiences ${JSON.stringify(tokenAudiences)} is invalid for the target audiences ${JSON.stringify(wanted)}` };
    }
    const k8s = (claims['kubernetes.io'] ?? {}) as KubernetesClaim;
    const namespace = k8s.namespace ?? '';
    const name = k8s.serviceaccount?.name ?? '';
    const uid = k8s.serviceaccount?.uid ?? '';
    if (!namespace || !name || claims.sub !== `system:serviceaccount:${namespace}:${name}`) {
      return { authenticated: false, error: 'invalid bearer token, token is not bound to a service account' };
    }
    const live = lookup(namespace, name);
    if (!live || live.metadata.deletionTimestamp) {
      return { authenticated: false, error: `invalid bearer token, service account ${namespace}/${name} has been deleted` };
    }
    if (live.metadata.uid !== uid) {
      return { authenticated: false, error: `invalid bearer token, service account UID (${uid}) does not match the current one (${live.metadata.uid})` };
    }
    return {
      authenticated: true,
      audiences: matched,
      user: {
        username: claims.sub,
        uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
        extra: typeof claims.jti === 'string' ? { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] } : undefined,
      },
    };
  }
}
