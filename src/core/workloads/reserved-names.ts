// Names a workload may never claim, and the namespace an identity belongs to (docs/adr/0016). Pure:
// shared by the identity service (which enforces every claim rule) and the API (which refuses at
// once what no cluster state could make valid).

/** Namespace of the control plane: its identities and DNS names are never issued to a workload. */
export const CONTROL_PLANE_NAMESPACE = 'outpost';
/** Cluster DNS domain of default serverNames (`<name>.<ns>.svc.cluster.local`). */
export const CLUSTER_DOMAIN = 'cluster.local';

/** The control plane's DNS names: its namespace's service domain, and localhost (its certificates carry both). */
export function isReservedServerName(serverName: string, clusterDomain = CLUSTER_DOMAIN): boolean {
  const sn = serverName.toLowerCase();
  const cp = `${CONTROL_PLANE_NAMESPACE}.svc.${clusterDomain}`;
  return sn === 'localhost' || sn.endsWith('.localhost') || sn === cp || sn.endsWith(`.${cp}`);
}

/** The namespace of an identity of the `spiffe://<td>/ns/<ns>/...` form; undefined for free-form identities. */
export function identityNamespace(identity: string): string | undefined {
  const m = /^spiffe:\/\/[^/]+\/ns\/([^/]*)/.exec(identity);
  return m ? m[1] : undefined;
}

/**
 * The control-plane services whose serving certificates the identity service issues over the
 * network (docs/adr/0022), and the one ServiceAccount of `outpost` whose token may ask for each.
 * Identity issues its own certificate and is not listed: no token ever gets it.
 */
export const CONTROL_PLANE_SERVICE_ACCOUNTS: Readonly<Record<string, string>> = {
  destination: 'outpost-destination',
  policy: 'outpost-policy',
  // The controllers serve the health API.
  health: 'outpost-controllers',
  viz: 'outpost-viz',
  injector: 'outpost-injector',
};

/** The names a control-plane service's certificate carries (the CSR asks for the first URI and DNS name). */
export function controlPlaneServiceNames(service: string, trustDomain: string, clusterDomain = CLUSTER_DOMAIN): { identity: string; serverName: string; dns: string[] } {
  const serverName = `${service}.${CONTROL_PLANE_NAMESPACE}.svc.${clusterDomain}`;
  // outpost-<service>.outpost.svc too: its Service as `outpost install` names it, the name the API server verifies when it calls a webhook.
  return { identity: `spiffe://${trustDomain}/ns/${CONTROL_PLANE_NAMESPACE}/sa/outpost-${service}`, serverName, dns: [serverName, `outpost-${service}.${CONTROL_PLANE_NAMESPACE}.svc`, 'localhost'] };
}
