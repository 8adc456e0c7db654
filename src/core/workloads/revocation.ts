// Workload revocation (docs/adr/0009): the annotations on a revoked ExternalWorkload, the deny list
// published in ConfigMap outpost/outpost-revocations, and how a peer certificate is matched against it.
// Pure: shared by the CLI, the controllers, identity, policy and the proxy.

export const REVOKED_AT_ANNOTATION = 'outpost.io/revoked-at';
export const REVOKED_REASON_ANNOTATION = 'outpost.io/revoked-reason';
export const REVOCATIONS_NAMESPACE = 'outpost';
export const REVOCATIONS_CONFIGMAP = 'outpost-revocations';
export const REVOCATIONS_KEY = 'revocations.json';

/** One revoked workload. serverName is unique per workload, so it names exactly this workload's certificates. */
export interface RevocationEntry {
  namespace: string;
  workload: string;
  identity: string;
  serverName: string;
  /** RFC 3339. */
  revokedAt: string;
  reason: string;
}

/** True when the object carries the revoked-at annotation. */
export function isRevokedWorkload(obj: { metadata?: { annotations?: Record<string, string> } }): boolean {
  return Boolean(obj.metadata?.annotations?.[REVOKED_AT_ANNOTATION]);
}

/** The command that undoes a revocation, for messages. */
export function undoRevokeCommand(namespace: string, name: string): string {
  return `outpost workload revoke --undo ${name} -n ${namespace}`;
}

const isEntry = (e: unknown): e is RevocationEntry => {
  const r = e as Record<string, unknown> | null;
  return Boolean(r) && typeof r === 'object' && typeof r!.namespace === 'string' && typeof r!.workload === 'string' && typeof r!.serverName === 'string' && r!.serverName !== '';
};

/** The entries of the ConfigMap's JSON; malformed entries are dropped, malformed JSON gives []. */
export function parseRevocations(json: string | undefined): RevocationEntry[] {
  if (!json) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.filter(isEntry).map((e) => ({
    namespace: e.namespace,
    workload: e.workload,
    identity: typeof e.identity === 'string' ? e.identity : '',
    serverName: e.serverName.toLowerCase(),
    revokedAt: typeof e.revokedAt === 'string' ? e.revokedAt : '',
    reason: typeof e.reason === 'string' ? e.reason : '',
  }));
}

export function serializeRevocations(entries: RevocationEntry[]): string {
  return `${JSON.stringify(entries, null, 2)}\n`;
}

const sameWorkload = (e: RevocationEntry, namespace: string, workload: string) => e.namespace === namespace && e.workload === workload;

/**
 * The list with `entry` in it. Idempotent: an existing entry for the same workload is kept as it is
 * (first revocation time wins) unless its serverName changed, then it is replaced.
 */
export function withRevocation(entries: RevocationEntry[], entry: RevocationEntry): RevocationEntry[] {
  const existing = entries.find((e) => sameWorkload(e, entry.namespace, entry.workload));
  if (existing && existing.serverName === entry.serverName && existing.identity === entry.identity) return entries;
  const rest = entries.filter((e) => !sameWorkload(e, entry.namespace, entry.workload));
  return [...rest, { ...entry, revokedAt: existing?.revokedAt || entry.revokedAt }].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.workload.localeCompare(b.workload));
}

export function withoutRevocation(entries: RevocationEntry[], namespace: string, workload: string): RevocationEntry[] {
  return entries.filter((e) => !sameWorkload(e, namespace, workload));
}

/** DNS names of a certificate, from Node's subjectaltname form "DNS:a, URI:spiffe://..., IP Address:...". */
export function dnsNamesOf(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).trim().toLowerCase());
}

/** True when any DNS SAN of the certificate is a revoked serverName. */
export function certificateIsRevoked(cert: { subjectaltname?: string } | undefined, revokedServerNames: ReadonlySet<string>): boolean {
  if (!cert || revokedServerNames.size === 0) return false;
  return dnsNamesOf(cert.subjectaltname).some((n) => revokedServerNames.has(n));
}
