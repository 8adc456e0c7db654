// Identity for pods (docs/kubernetes.md, "Pods: injection"): an injected proxy presents its pod's
// projected ServiceAccount token (audience identity.outpost.io, minted and rotated by the kubelet).
// TokenReview names the pod the token is bound to (user.extra authentication.kubernetes.io/pod-name,
// checked by the API server against the live pod and ServiceAccount); such a token may certify only
// that pod, as its ServiceAccount: spiffe://<td>/ns/<ns>/sa/<sa>, the naming of a VM bound to the
// same ServiceAccount (ADR 0002). The token is not single-use: the kubelet rotates it, and the proxy
// renews with the current one. Wraps the ExternalWorkload path, which every other token takes.
import type { EffectiveWorkload } from '../core/workloads/effective.js';
import { serviceAccountIdentity } from '../core/workloads/effective.js';
import { podServerName, type PodNaming } from '../core/workloads/pod.js';
import { parseWorkloadRef, type CertifyInput, type Entitlement, type ReviewedToken } from './certify.js';
import { checkCsr, CsrRefusal } from './csr-check.js';
import { claimedAudiences, IDENTITY_AUDIENCE } from './audience.js';
import { EXPECTED_IDENTITY_KEY, EXPECTED_SERVER_NAME_KEY, Refusal } from './refusal.js';

export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';

export type PodBoundToken = ReviewedToken & { pod?: { name: string; uid?: string } };

/** The pod a reviewed token is bound to, from TokenReview's status.user.extra. */
export function podClaim(extra: Record<string, string[]> | undefined): { pod?: { name: string; uid?: string } } {
  const name = extra?.[POD_NAME_EXTRA]?.[0];
  return name ? { pod: { name, uid: extra?.[POD_UID_EXTRA]?.[0] } } : {};
}

type Authorize = (input: CertifyInput, reviewToken: (token: string) => Promise<ReviewedToken>) => Promise<Entitlement>;

/** `naming`: the DNS name pods' certificates carry (`--identity-naming`, core/workloads/pod.ts). */
export function withPodIdentity(opts: { trustDomain: string; naming: PodNaming; next: Authorize }): Authorize {
  return async (input, reviewToken) => {
    const token = input.caller.token;
    if (!token) return opts.next(input, reviewToken);
    let review: Promise<ReviewedToken> | undefined;
    const once = (t: string) => (review ??= reviewToken(t));
    const reviewed = (await once(token)) as PodBoundToken;
    if (!reviewed.pod) return opts.next(input, once);
    return authorizePod(input, token, reviewed as PodBoundToken & { pod: { name: string } }, opts.trustDomain, opts.naming);
  };
}

function authorizePod(input: CertifyInput, token: string, sa: PodBoundToken & { pod: { name: string } }, trustDomain: string, naming: PodNaming): Entitlement {
  const ref = parseWorkloadRef(input.workload);
  const who = `the token of pod ${sa.namespace}/${sa.pod.name}`;
  // A pod's token from another audience (its API token, say) is not an identity credential.
  if (!claimedAudiences(token).includes(IDENTITY_AUDIENCE)) {
    throw new Refusal('token_invalid', `${who} is not for audience ${IDENTITY_AUDIENCE}; mount a projected ServiceAccount token with that audience (outpost inject does)`);
  }
  if (ref.namespace !== sa.namespace) throw new Refusal('namespace_mismatch', `${who} cannot certify workloads in namespace ${ref.namespace}`);
  if (ref.name !== sa.pod.name) throw new Refusal('pod_mismatch', `${who} may certify only that pod, not ${ref.namespace}/${ref.name}`);
  const identity = serviceAccountIdentity(sa.namespace, sa.serviceAccount, trustDomain);
  const serverName = podServerName(sa.namespace, sa.serviceAccount, trustDomain, naming);
  if (input.identity !== identity) {
    const asked = input.identity ? `identity ${input.identity} was requested, but` : 'no identity was requested;';
    throw new Refusal('identity_mismatch', `${asked} pod ${sa.namespace}/${sa.pod.name} runs as ServiceAccount ${sa.serviceAccount}: ${identity} (serverName ${serverName})`, { [EXPECTED_IDENTITY_KEY]: identity, [EXPECTED_SERVER_NAME_KEY]: serverName });
  }
  let spki: Buffer;
  try {
    spki = checkCsr(input.csr, { identity, serverName }).spki;
  } catch (e) {
    if (e instanceof CsrRefusal) throw new Refusal('csr_invalid', e.message);
    throw e;
  }
  const workload: EffectiveWorkload = { kind: 'Pod', namespace: sa.namespace, name: sa.pod.name, labels: {}, annotations: {}, identity, serverName, serviceAccount: sa.serviceAccount, ips: [], ports: [], probes: [] };
  return { kind: 'bootstrap', workload, spki, reusableToken: true };
}
