// Auto-registration (docs/adr/0010), the pure part: a Certify `workload` of the form
// "NAMESPACE/group:GROUP@IP" names a WorkloadGroup and the caller's address; this module parses it,
// derives the member's deterministic name, checks the token is entitled to the group, and decides
// whether to create the member, reclaim an existing one, or refuse.
import { isIP } from 'node:net';
import { GROUP_LABEL, SERVICE_ACCOUNT_ANNOTATION, type ExternalWorkloadLike, type WorkloadGroupLike } from '../core/workloads/effective.js';
import type { ReviewedToken } from './certify.js';
import { Refusal } from './refusal.js';

/** Set "true" on every ExternalWorkload the identity service registered; only these are ever removed automatically. */
export const AUTO_REGISTERED_ANNOTATION = 'outpost.io/auto-registered';
/** Trailing metadata naming the workload a group request was registered as ("namespace/name"). */
export const REGISTERED_WORKLOAD_KEY = 'outpost-workload';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A member's name is used as a DNS label (EndpointSlice hostname): 63 characters at most. */
const MAX_NAME = 63;

export interface GroupRef {
  namespace: string;
  group: string;
  /** The address as given (validated). */
  ip: string;
}

/** True when a Certify `workload` asks for auto-registration. */
export function isGroupRef(ref: string): boolean {
  return /^[^/]+\/group:/.test(ref);
}

/** "NAMESPACE/group:GROUP@IP" → its parts; throws an invalid_request Refusal saying what is wrong. */
export function parseGroupRef(ref: string): GroupRef {
  const m = /^([^/]+)\/group:([^@/]+)@([^/]+)$/.exec(ref);
  const form = 'workload must be "NAMESPACE/group:GROUP@IP" to auto-register into a WorkloadGroup';
  if (!m) throw new Refusal('invalid_request', `${form}, got "${ref}"`);
  const [, namespace, group, ip] = m;
  if (!DNS_LABEL.test(namespace)) throw new Refusal('invalid_request', `${form}: "${namespace}" is not a namespace name`);
  if (!DNS_LABEL.test(group)) throw new Refusal('invalid_request', `${form}: "${group}" is not a WorkloadGroup name`);
  if (ip.includes('%') || isIP(ip) === 0) throw new Refusal('invalid_request', `${form}: "${ip}" is not an IPv4 or IPv6 address`);
  if (ip === '0.0.0.0' || ip === '::' || ip === '255.255.255.255') throw new Refusal('invalid_request', `${form}: ${ip} is not the address of one host`);
  const name = memberName(group, ip);
  if (name.length > MAX_NAME) {
    throw new Refusal('invalid_request', `the member name "${name}" would be longer than ${MAX_NAME} characters; use a shorter WorkloadGroup name`);
  }
  return { namespace, group, ip: canonicalIp(ip) };
}

/** IPv4 as is; IPv6 in its canonical compressed lower-case form, so one address has one name. */
export function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/**
 * The member's name: `<group>-<ip>` with dots and colons as dashes, deterministic so that a restarted
 * VM reclaims its entry. An IPv6 address ending in "::" gets a trailing "0" (same address, valid name).
 */
export function memberName(group: string, ip: string): string {
  let suffix = canonicalIp(ip).toLowerCase().replace(/[.:]/g, '-');
  if (suffix.endsWith('-')) suffix += '0';
  return `${group}-${suffix}`;
}

/** The token may register members of the group: same namespace, and the group is bound to the token's ServiceAccount. */
export function checkGroupEntitlement(ref: GroupRef, group: WorkloadGroupLike | undefined, sa: ReviewedToken): string {
  const who = `ServiceAccount ${sa.namespace}/${sa.serviceAccount}`;
  if (sa.namespace !== ref.namespace) {
    throw new Refusal('namespace_mismatch', `the token belongs to ${who}, which cannot register workloads in namespace ${ref.namespace}; create a token for a ServiceAccount in ${ref.namespace}`);
  }
  if (!group) {
    throw new Refusal('group_not_found', `WorkloadGroup ${ref.namespace}/${ref.group} does not exist; create it first (kubectl apply -f workload-group.yaml)`);
  }
  const bound = group.metadata.annotations?.[SERVICE_ACCOUNT_ANNOTATION];
  if (!bound) {
    throw new Refusal(
      'group_unbound',
      `WorkloadGroup ${ref.namespace}/${ref.group} is not bound to a ServiceAccount, so no token may register members; bind it with: kubectl annotate workloadgroup ${ref.group} -n ${ref.namespace} ${SERVICE_ACCOUNT_ANNOTATION}=${sa.serviceAccount}`,
    );
  }
  if (bound !== sa.serviceAccount) {
    // The caller is not entitled to learn which ServiceAccount the group is bound to.
    throw new Refusal(
      'service_account_mismatch',
      `WorkloadGroup ${ref.namespace}/${ref.group} is not bound to ${who}, whose token this is; use a token of the ServiceAccount it is bound to (annotation ${SERVICE_ACCOUNT_ANNOTATION} on the group)`,
      {},
      `bound to ServiceAccount ${bound}`,
    );
  }
  return bound;
}

/** The ExternalWorkload an auto-registration wants: the group template supplies the rest through the effective spec. */
export function desiredMember(ref: GroupRef, serviceAccount: string): ExternalWorkloadLike & { apiVersion: string; kind: string } {
  return {
    apiVersion: 'workload.linkerd.io/v1beta1',
    kind: 'ExternalWorkload',
    metadata: {
      name: memberName(ref.group, ref.ip),
      namespace: ref.namespace,
      labels: { [GROUP_LABEL]: ref.group },
      annotations: { [AUTO_REGISTERED_ANNOTATION]: 'true', [SERVICE_ACCOUNT_ANNOTATION]: serviceAccount },
    },
    spec: { workloadIPs: [{ ip: ref.ip }] },
  };
}

export type RegistrationPlan =
  | { action: 'create'; body: ReturnType<typeof desiredMember> }
  | { action: 'keep' }
  | { action: 'patch'; patch: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec?: { workloadIPs: { ip: string }[] } } };

/**
 * What to do given the object already under the member's name: nothing there → create; an
 * auto-registered member of this group → reclaim it (restoring our labels, annotations and address
 * if they drifted); anything else (a hand-made workload) is never taken over.
 */
export function planRegistration(ref: GroupRef, serviceAccount: string, existing: ExternalWorkloadLike | undefined): RegistrationPlan {
  const want = desiredMember(ref, serviceAccount);
  if (!existing) return { action: 'create', body: want };
  const name = want.metadata.name!;
  if (existing.metadata.annotations?.[AUTO_REGISTERED_ANNOTATION] !== 'true') {
    throw new Refusal(
      'workload_conflict',
      `ExternalWorkload ${ref.namespace}/${name} already exists and was not auto-registered, so it is not taken over; start the proxy with workload.name ${name}, or delete that workload`,
    );
  }
  const labels = want.metadata.labels!;
  const annotations = want.metadata.annotations!;
  const sameMeta =
    Object.entries(labels).every(([k, v]) => existing.metadata.labels?.[k] === v) && Object.entries(annotations).every(([k, v]) => existing.metadata.annotations?.[k] === v);
  const ips = existing.spec?.workloadIPs ?? [];
  const sameIp = ips.length === 1 && ips[0].ip === ref.ip;
  if (sameMeta && sameIp) return { action: 'keep' };
  return { action: 'patch', patch: { metadata: { labels, annotations }, ...(sameIp ? {} : { spec: { workloadIPs: [{ ip: ref.ip }] } }) } };
}
