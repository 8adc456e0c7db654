// Decides whether a Certify request may be signed (docs/adr/0002): who the caller is (bootstrap
// token or current certificate), which workload it may become, and whether the CSR asks for exactly
// that workload's names, which it must be allowed to hold (claims.ts). Pure apart from the lookups.
// Messages tell a caller only what it is entitled to (docs/adr/0003); the rest goes to `internal`.
import type { EffectiveWorkload } from '../core/workloads/effective.js';
import { DEFAULT_TRUST_DOMAIN, SERVICE_ACCOUNT_ANNOTATION } from '../core/workloads/effective.js';
import { REVOKED_AT_ANNOTATION, REVOKED_REASON_ANNOTATION, undoRevokeCommand } from '../core/workloads/revocation.js';
import { checkClaim, type Claimant, type ClaimLookups } from './claims.js';
import { checkCsr, CsrRefusal } from './csr-check.js';
import { EXPECTED_IDENTITY_KEY, EXPECTED_SERVER_NAME_KEY, Refusal } from './refusal.js';

export interface ReviewedToken {
  namespace: string;
  serviceAccount: string;
  uid: string;
}

/** How the caller authenticated. `certificate` is set only when the TLS layer verified the chain. */
export interface Caller {
  token?: string;
  certificate?: { identity?: string; serverName?: string; /** Its public key (EC point), proven in the handshake. */ publicKey?: Uint8Array };
}

export interface CertifyInput {
  identity: string;
  workload: string;
  csr: Uint8Array;
  caller: Caller;
}

export interface CertifyLookups extends ClaimLookups {
  /** Validates a token (TokenReview); throws a Refusal when it is not a valid ServiceAccount token. */
  reviewToken(token: string): Promise<ReviewedToken>;
  findWorkload(namespace: string, name: string): Promise<Claimant | undefined>;
  /** The uid of a ServiceAccount, undefined if it does not exist. */
  serviceAccountUid(namespace: string, name: string): Promise<string | undefined>;
  /** Trust domain of the identities this control plane issues (default cluster.local). */
  trustDomain?: string;
}

export interface Entitlement {
  kind: 'bootstrap' | 'renewal';
  workload: EffectiveWorkload;
  /** The CSR's checked public key (DER SubjectPublicKeyInfo). */
  spki: Buffer;
  /** A bootstrap whose token may enrol again (a pod's projected token, rotated by the kubelet); others are single-use (docs/adr/0018). */
  reusableToken?: boolean;
  /** A control-plane service's serving certificate (src/identity/control-plane-services.ts), not a workload leaf. */
  service?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function parseWorkloadRef(ref: string): { namespace: string; name: string } {
  const [namespace, name, ...rest] = ref.split('/');
  if (rest.length || !namespace || !name || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name)) {
    throw new Refusal('invalid_request', `workload must be "namespace/name" of an ExternalWorkload, got "${ref}"`);
  }
  return { namespace, name };
}

export function annotateCommand(w: { namespace: string; name: string }, serviceAccount = 'SERVICE_ACCOUNT'): string {
  return `kubectl annotate externalworkload ${w.name} -n ${w.namespace} ${SERVICE_ACCOUNT_ANNOTATION}=${serviceAccount}`;
}

export async function authorizeCertify(input: CertifyInput, lookups: CertifyLookups): Promise<Entitlement> {
  const ref = parseWorkloadRef(input.workload);
  const token = input.caller.token;
  if (token) return authorizeBootstrap(input, ref, await lookups.reviewToken(token), lookups);
  if (input.caller.certificate) return authorizeRenewal(input, ref, input.caller.certificate, lookups);
  throw new Refusal(
    'no_credentials',
    'no credentials: send a ServiceAccount token (kubectl create token SA -n NS), or renew over mTLS with a current, unexpired certificate issued under this control plane\'s trust anchors',
  );
}

async function authorizeBootstrap(input: CertifyInput, ref: { namespace: string; name: string }, sa: ReviewedToken, lookups: CertifyLookups): Promise<Entitlement> {
  const who = `ServiceAccount ${sa.namespace}/${sa.serviceAccount}`;
  if (sa.namespace !== ref.namespace) {
    throw new Refusal('namespace_mismatch', `the token belongs to ${who}, which cannot certify workloads in namespace ${ref.namespace}; create a token for a ServiceAccount in ${ref.namespace}`);
  }
  const workload = await lookups.findWorkload(ref.namespace, ref.name);
  if (!workload) {
    throw new Refusal('workload_not_found', `ExternalWorkload ${ref.namespace}/${ref.name} does not exist; create it first (kubectl apply -f <workload>.yaml)`);
  }
  if (!workload.serviceAccount) {
    throw new Refusal(
      'workload_unbound',
      `ExternalWorkload ${ref.namespace}/${ref.name} is not bound to a ServiceAccount, so no token may claim it; bind it with: ${annotateCommand(ref, sa.serviceAccount)}`,
    );
  }
  if (workload.serviceAccount !== sa.serviceAccount) {
    // The caller is not entitled to learn which ServiceAccount the workload is bound to.
    throw new Refusal(
      'service_account_mismatch',
      `ExternalWorkload ${ref.namespace}/${ref.name} is not bound to ${who}, whose token this is; use a token of the ServiceAccount it is bound to (annotation ${SERVICE_ACCOUNT_ANNOTATION} on the workload or its WorkloadGroup)`,
      {},
      `bound to ServiceAccount ${workload.serviceAccount}`,
    );
  }
  const uid = await lookups.serviceAccountUid(ref.namespace, sa.serviceAccount);
  if (!uid || (sa.uid && uid !== sa.uid)) {
    throw new Refusal('service_account_missing', `${who} no longer exists (or was recreated); its tokens are revoked — create the ServiceAccount and a new token`);
  }
  refuseRevoked(workload);
  await checkClaim(workload, lookups, { trustDomain: lookups.trustDomain ?? DEFAULT_TRUST_DOMAIN });
  return { kind: 'bootstrap', workload, spki: checkNames(input, workload) };
}

async function authorizeRenewal(input: CertifyInput, ref: { namespace: string; name: string }, cert: { identity?: string; serverName?: string }, lookups: CertifyLookups): Promise<Entitlement> {
  const reenrol = `re-enrol with \`outpost workload onboard ${ref.name} -n ${ref.namespace} --renew\``;
  const workload = await lookups.findWorkload(ref.namespace, ref.name);
  if (!workload) throw new Refusal('workload_deleted', `ExternalWorkload ${ref.namespace}/${ref.name} no longer exists, so its certificate is not renewed`);
  if (cert.identity !== workload.identity || cert.serverName !== workload.serverName) {
    // The caller knows its own certificate's names, not (necessarily) the workload's.
    throw new Refusal(
      'certificate_mismatch',
      `the client certificate (${cert.identity ?? 'no URI'}, ${cert.serverName ?? 'no DNS name'}) is not a certificate of ExternalWorkload ${ref.namespace}/${ref.name}; ${reenrol}`,
      {},
      `the workload has identity ${workload.identity}, serverName ${workload.serverName}`,
    );
  }
  refuseRevoked(workload);
  if (!workload.serviceAccount) {
    throw new Refusal('workload_unbound', `ExternalWorkload ${ref.namespace}/${ref.name} is no longer bound to a ServiceAccount; bind it with: ${annotateCommand(ref)}`);
  }
  if (!(await lookups.serviceAccountUid(ref.namespace, workload.serviceAccount))) {
    throw new Refusal('service_account_missing', `ServiceAccount ${ref.namespace}/${workload.serviceAccount}, bound to this workload, was deleted, so renewals stopped; ${reenrol}`);
  }
  await checkClaim(workload, lookups, { trustDomain: lookups.trustDomain ?? DEFAULT_TRUST_DOMAIN });
  return { kind: 'renewal', workload, spki: checkNames(input, workload) };
}

/** A revoked workload (docs/adr/0009) gets no certificate, neither bootstrap nor renewal. */
function refuseRevoked(workload: EffectiveWorkload): void {
  const revokedAt = workload.annotations[REVOKED_AT_ANNOTATION];
  if (!revokedAt) return;
  const reason = workload.annotations[REVOKED_REASON_ANNOTATION];
  throw new Refusal(
    'workload_revoked',
    `ExternalWorkload ${workload.namespace}/${workload.name} was revoked at ${revokedAt}${reason ? ` (${reason})` : ''}, so no certificate is issued or renewed for it; undo with: ${undoRevokeCommand(workload.namespace, workload.name)}`,
  );
}

/** The requested identity must be the workload's effective identity, and the CSR must ask for exactly its names. */
function checkNames(input: CertifyInput, workload: EffectiveWorkload): Buffer {
  if (input.identity !== workload.identity) {
    const details = { [EXPECTED_IDENTITY_KEY]: workload.identity, [EXPECTED_SERVER_NAME_KEY]: workload.serverName };
    const asked = input.identity ? `identity ${input.identity} was requested, but` : 'no identity was requested;';
    throw new Refusal('identity_mismatch', `${asked} ExternalWorkload ${workload.namespace}/${workload.name} has identity ${workload.identity} (serverName ${workload.serverName})`, details);
  }
  try {
    const provenKey = input.caller.token ? undefined : input.caller.certificate?.publicKey;
    return checkCsr(input.csr, { identity: workload.identity, serverName: workload.serverName }, { provenKey }).spki;
  } catch (e) {
    if (e instanceof CsrRefusal) throw new Refusal('csr_invalid', e.message);
    throw e;
  }
}

/** Refusals that a stale cache could cause (a watch event still in flight); worth one fresh look. */
const CACHE_SENSITIVE = new Set([
  'workload_revoked', 'workload_not_found', 'workload_unbound', 'workload_deleted', 'service_account_mismatch', 'service_account_missing', 'identity_mismatch', 'certificate_mismatch', 'csr_invalid',
  'identity_not_allowed', 'identity_taken', 'server_name_not_allowed', 'server_name_taken',
]);

/**
 * Decides with the cached lookups, and before refusing for a reason a stale cache could explain,
 * decides again with fresh ones. The token is reviewed once.
 */
export async function authorizeWithFreshFallback(
  input: CertifyInput,
  reviewToken: CertifyLookups['reviewToken'],
  cached: Omit<CertifyLookups, 'reviewToken'>,
  fresh: Omit<CertifyLookups, 'reviewToken'>,
): Promise<Entitlement> {
  let review: Promise<ReviewedToken> | undefined;
  const once = (token: string) => (review ??= reviewToken(token));
  try {
    return await authorizeCertify(input, { ...cached, reviewToken: once });
  } catch (e) {
    if (!(e instanceof Refusal) || !CACHE_SENSITIVE.has(e.reason)) throw e;
    return authorizeCertify(input, { ...fresh, reviewToken: once });
  }
}
