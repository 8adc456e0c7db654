// Who may claim which identity and serverName (docs/adr/0016): the control plane's names are
// reserved, `…/ns/<ns>/sa/<sa>` identities belong to that namespace and ServiceAccount, a free-form
// identity to the namespace that held it first, a serverName to the first workload that held it and
// to the workload's own namespace domain unless a cluster admin allowed more. Pure apart from lookups.
// The control plane's own services get their names elsewhere, never as workloads (control-plane-services.ts, ADR 0022).
import type { EffectiveWorkload } from '../core/workloads/effective.js';
import { CLUSTER_DOMAIN, CONTROL_PLANE_NAMESPACE, identityNamespace, isReservedServerName } from '../core/workloads/reserved-names.js';
import { Refusal } from './refusal.js';
/** On a Namespace (cluster-scoped, so only a cluster admin sets it): extra serverNames its workloads may claim. */
export const ALLOWED_SERVER_NAMES_ANNOTATION = 'outpost.io/allowed-server-names';

/** A workload (or group) holding a name, for "who held it first". `created` is ms since the epoch. */
export interface NameHolder {
  kind: 'ExternalWorkload' | 'WorkloadGroup';
  namespace: string;
  name: string;
  created: number;
}

export interface ClaimLookups {
  /** Every workload whose effective serverName is `value`, or every workload or group whose own spec names free-form identity `value`. */
  holders(kind: 'identity' | 'serverName', value: string): Promise<NameHolder[]>;
  /** The patterns of the Namespace's allowed-server-names annotation ([] when none). */
  allowedServerNames(namespace: string): Promise<string[]>;
}

/** The claimant: its effective names, and when it (and its group, which may carry the identity) was created. */
export type Claimant = EffectiveWorkload & { created?: number; groupCreated?: number; groupIdentity?: string };

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** The path of a SPIFFE id of the trust domain ("ns/payments/sa/x"), or undefined for another domain or a malformed id. */
export function spiffePath(identity: string, trustDomain: string): string | undefined {
  const prefix = `spiffe://${trustDomain}/`;
  if (!identity.startsWith(prefix)) return undefined;
  const path = identity.slice(prefix.length);
  if (!path || path.split('/').some((s) => s === '' || s === '.' || s === '..') || /[?#%\s]/.test(path)) return undefined;
  return path;
}

/** Free-form identities (not `ns/...`) are the ones whose owner is "the namespace that held it first". */
export function isFreeFormIdentity(identity: string): boolean {
  return identityNamespace(identity) === undefined;
}

/** True when `serverName` matches one allowed pattern: an exact name, or `*.suffix` for one or more labels before the suffix. */
export function serverNameAllowedBy(serverName: string, patterns: string[]): boolean {
  return patterns.some((p) => (p.startsWith('*.') ? serverName.endsWith(p.slice(1)) && serverName.length > p.length - 1 : serverName === p));
}

/** The patterns of an allowed-server-names annotation (comma or whitespace separated; malformed entries ignored). */
export function parseAllowedServerNames(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((p) => p.trim().toLowerCase())
    .filter((p) => DNS_NAME.test(p.startsWith('*.') ? p.slice(2) : p));
}

const order = (h: NameHolder) => h.created;

/**
 * Throws a Refusal when the workload may not hold its identity or serverName. Called only once the
 * caller is entitled to the workload, so messages may name the workload's own names; they never
 * name another namespace's workloads (the log gets those).
 */
export async function checkClaim(w: Claimant, lookups: ClaimLookups, opts: { trustDomain: string; clusterDomain?: string }): Promise<void> {
  const clusterDomain = opts.clusterDomain ?? CLUSTER_DOMAIN;
  const ref = `ExternalWorkload ${w.namespace}/${w.name}`;
  if (w.namespace === CONTROL_PLANE_NAMESPACE) {
    throw new Refusal('identity_not_allowed', `namespace ${CONTROL_PLANE_NAMESPACE} is the control plane's; no workload certificate is issued in it — create ${w.name} in another namespace`);
  }
  checkIdentityForm(w, ref, opts.trustDomain);
  await checkServerName(w, ref, lookups, clusterDomain);
  if (isFreeFormIdentity(w.identity)) await checkIdentityOwner(w, ref, lookups);
}

function checkIdentityForm(w: Claimant, ref: string, trustDomain: string): void {
  const path = spiffePath(w.identity, trustDomain);
  if (path === undefined) {
    throw new Refusal('identity_not_allowed', `${ref} has identity ${w.identity}, which is not a SPIFFE id of this control plane's trust domain (spiffe://${trustDomain}/...); fix spec.meshTLS.identity`);
  }
  const parts = path.split('/');
  if (parts[0] !== 'ns') return;
  if (parts[1] !== w.namespace) {
    throw new Refusal('identity_not_allowed', `${ref} has identity ${w.identity}, which belongs to namespace ${parts[1] ?? '(none)'}; a workload may only hold identities of its own namespace (spiffe://${trustDomain}/ns/${w.namespace}/...)`);
  }
  if (parts[2] === 'sa' && (parts.length !== 4 || parts[3] !== w.serviceAccount)) {
    throw new Refusal(
      'identity_not_allowed',
      `${ref} has identity ${w.identity}, the identity of ServiceAccount ${w.namespace}/${parts[3] ?? ''}, but it is bound to ServiceAccount ${w.serviceAccount ?? '(none)'}; bind it to that ServiceAccount or drop spec.meshTLS.identity`,
    );
  }
  if (parts[2] === 'externalworkload' && (parts.length !== 4 || parts[3] !== w.name)) {
    throw new Refusal('identity_not_allowed', `${ref} has identity ${w.identity}, the default identity of another workload; drop spec.meshTLS.identity or name a free-form identity`);
  }
}

async function checkServerName(w: Claimant, ref: string, lookups: ClaimLookups, clusterDomain: string): Promise<void> {
  const sn = w.serverName.toLowerCase();
  if (!DNS_NAME.test(sn)) throw new Refusal('server_name_not_allowed', `${ref} has serverName "${w.serverName}", which is not a DNS name; fix spec.meshTLS.serverName`);
  if (isReservedServerName(sn, clusterDomain)) {
    throw new Refusal('server_name_not_allowed', `${ref} has serverName ${sn}, a name of the control plane; choose a name under ${w.namespace}.svc.${clusterDomain}`);
  }
  const own = `.${w.namespace}.svc.${clusterDomain}`;
  if (!(sn.endsWith(own) && sn.length > own.length) && !serverNameAllowedBy(sn, await lookups.allowedServerNames(w.namespace))) {
    throw new Refusal(
      'server_name_not_allowed',
      `${ref} has serverName ${sn}, outside its namespace's domain (*${own}); choose a name there, or have a cluster admin allow it: kubectl annotate namespace ${w.namespace} ${ALLOWED_SERVER_NAMES_ANNOTATION}=${sn}`,
    );
  }
  // Unique per workload, so a certificate's DNS name says which workload it was issued to (health
  // reports, the deny list of docs/adr/0009): the first workload that held it keeps it.
  const others = (await lookups.holders('serverName', sn)).filter((h) => !(h.namespace === w.namespace && h.name === w.name));
  const mine = w.created ?? Number.POSITIVE_INFINITY;
  const older = others.filter((h) => order(h) <= mine);
  if (older.length > 0) {
    throw new Refusal('server_name_taken', `${ref} has serverName ${sn}, which another workload already holds; choose another spec.meshTLS.serverName`, {}, `held by ${older.map((h) => `${h.namespace}/${h.name}`).join(', ')}`);
  }
}

async function checkIdentityOwner(w: Claimant, ref: string, lookups: ClaimLookups): Promise<void> {
  const holders = await lookups.holders('identity', w.identity);
  // When the claimant holds it: from its own spec since it was created, or through its group.
  const since = Math.min(w.created ?? Number.POSITIVE_INFINITY, w.groupIdentity === w.identity ? (w.groupCreated ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY);
  const sameNs = holders.filter((h) => h.namespace === w.namespace).map(order);
  const first = Math.min(since, ...sameNs);
  // Ties (creation times have second precision) go to nobody: deny when in doubt.
  const older = holders.filter((h) => h.namespace !== w.namespace && order(h) <= first);
  if (older.length > 0) {
    throw new Refusal(
      'identity_taken',
      `${ref} has identity ${w.identity}, which workloads of another namespace held first; an identity belongs to one namespace — choose another spec.meshTLS.identity`,
      {},
      `held by ${older.map((h) => `${h.kind} ${h.namespace}/${h.name}`).join(', ')}`,
    );
  }
}
