// The effective spec of an ExternalWorkload: its WorkloadGroup's template and identity overlaid by
// its own spec, plus the documented defaults for identity and server name (docs/adr/0002).
// Pure: used by the controllers, identity, destination and policy alike.

export const GROUP_LABEL = 'workloadGroup';
export const SERVICE_ACCOUNT_ANNOTATION = 'outpost.io/service-account';
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

export interface WorkloadPort {
  name?: string;
  port: number;
  protocol?: string;
}

export interface WorkloadProbe {
  path?: string;
  port?: number;
  scheme?: string;
  period?: string;
  timeout?: string;
  initialDelay?: string;
  failureThreshold?: number;
  successThreshold?: number;
  [k: string]: unknown;
}

/** The parts of ExternalWorkload and WorkloadGroup objects this module reads (v1beta1 shape). */
export interface ExternalWorkloadLike {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string };
  spec?: {
    meshTLS?: { identity?: string; serverName?: string };
    workloadIPs?: { ip: string }[];
    ports?: WorkloadPort[];
    probes?: WorkloadProbe[];
  };
}

export interface WorkloadGroupLike {
  metadata: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { ports?: WorkloadPort[]; probes?: WorkloadProbe[] } };
    meshTLS?: { identity?: string; serverName?: string };
    [k: string]: unknown;
  };
}

export interface EffectiveWorkload {
  namespace: string;
  name: string;
  /** Set for an injected pod taken as a workload (src/core/workloads/pod.ts); absent: an ExternalWorkload. */
  kind?: 'Pod';
  group?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  identity: string;
  serverName: string;
  /** The ServiceAccount this workload runs as (binding), if any. */
  serviceAccount?: string;
  ips: string[];
  ports: WorkloadPort[];
  probes: WorkloadProbe[];
}

/** Name of the group an ExternalWorkload joins, from its `workloadGroup` label. */
export function groupNameOf(ew: ExternalWorkloadLike): string | undefined {
  return ew.metadata.labels?.[GROUP_LABEL] || undefined;
}

/** SPIFFE id of a ServiceAccount: spiffe://<trust-domain>/ns/<ns>/sa/<name>. */
export function serviceAccountIdentity(namespace: string, name: string, trustDomain = DEFAULT_TRUST_DOMAIN): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${name}`;
}

export function effectiveWorkload(ew: ExternalWorkloadLike, group?: WorkloadGroupLike, trustDomain = DEFAULT_TRUST_DOMAIN): EffectiveWorkload {
  const namespace = ew.metadata.namespace ?? 'default';
  const name = ew.metadata.name ?? '';
  const tmpl = group?.spec?.template;
  const labels = { ...(tmpl?.metadata?.labels ?? {}), ...(ew.metadata.labels ?? {}) };
  const annotations = { ...(tmpl?.metadata?.annotations ?? {}), ...(group?.metadata.annotations?.[SERVICE_ACCOUNT_ANNOTATION] ? { [SERVICE_ACCOUNT_ANNOTATION]: group.metadata.annotations[SERVICE_ACCOUNT_ANNOTATION] } : {}), ...(ew.metadata.annotations ?? {}) };
  const serviceAccount = annotations[SERVICE_ACCOUNT_ANNOTATION] || undefined;
  const identity =
    ew.spec?.meshTLS?.identity ||
    group?.spec?.meshTLS?.identity ||
    (serviceAccount ? serviceAccountIdentity(namespace, serviceAccount, trustDomain) : `spiffe://${trustDomain}/ns/${namespace}/externalworkload/${name}`);
  const serverName = ew.spec?.meshTLS?.serverName || `${name}.${namespace}.svc.cluster.local`;
  return {
    namespace,
    name,
    group: group?.metadata.name ?? groupNameOf(ew),
    labels,
    annotations,
    identity,
    serverName,
    serviceAccount,
    ips: (ew.spec?.workloadIPs ?? []).map((w) => w.ip),
    ports: mergePorts(tmpl?.spec?.ports ?? [], ew.spec?.ports ?? []),
    probes: ew.spec?.probes?.length ? ew.spec.probes : (tmpl?.spec?.probes ?? []),
  };
}

/** Group ports first, own ports added; an own port with the same name overrides the group's. */
function mergePorts(groupPorts: WorkloadPort[], own: WorkloadPort[]): WorkloadPort[] {
  const ownNames = new Set(own.map((p) => p.name).filter(Boolean));
  return [...groupPorts.filter((p) => !p.name || !ownNames.has(p.name)), ...own];
}
