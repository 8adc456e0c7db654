// Which DNS names the VM's DNS proxy answers itself, pure: the Kubernetes forms of a Service name —
// <svc>.<ns>.svc.<cluster-domain> and <svc>.<ns>.svc (authoritative: a missing Service is NXDOMAIN),
// <svc>.<ns> and, in the workload's own namespace, <svc> (a missing Service falls through to the
// VM's resolvers, so that example.com still resolves).
export interface MeshName {
  service: string;
  namespace: string;
  /** The name can only be a Service's: answer NXDOMAIN when there is none rather than forwarding. */
  authoritative: boolean;
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function meshNameOf(name: string, ownNamespace: string | undefined, clusterDomain: string): MeshName | undefined {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  const domain = ['svc', ...clusterDomain.toLowerCase().split('.')];
  const suffixIs = (n: number, parts: string[]) => labels.length === n + parts.length && labels.slice(n).join('.') === parts.join('.');
  let found: MeshName | undefined;
  if (labels.length > domain.length && labels.slice(-domain.length).join('.') === domain.join('.')) {
    // Under svc.<cluster-domain>: only <svc>.<ns> is a Service; anything else there does not exist.
    found = labels.length === 2 + domain.length ? { service: labels[0], namespace: labels[1], authoritative: true } : { service: '', namespace: '', authoritative: true };
  } else if (suffixIs(2, ['svc'])) found = { service: labels[0], namespace: labels[1], authoritative: true };
  else if (labels.length === 2) found = { service: labels[0], namespace: labels[1], authoritative: false };
  else if (labels.length === 1 && ownNamespace) found = { service: labels[0], namespace: ownNamespace, authoritative: false };
  if (!found) return undefined;
  if (found.service && !(LABEL.test(found.service) && LABEL.test(found.namespace))) return found.authoritative ? { service: '', namespace: '', authoritative: true } : undefined;
  return found;
}

/** The nameservers of a resolv.conf (port 53), in order. */
export function nameserversOf(resolvConf: string): string[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((a): a is string => !!a)
    .map((a) => a.replace(/%.*$/, ''));
}
