// The API objects onboarding wants (pure): the ServiceAccount and the ExternalWorkload (or its
// group membership), and the merge patch that brings an existing workload to that state without
// dropping what the user added (probes, meshTLS, other labels).
import { GROUP_LABEL, SERVICE_ACCOUNT_ANNOTATION } from '../core/workloads/effective.js';
import type { OnboardRequest } from './request.js';

export const INBOUND_PORT_ANNOTATION = 'config.outpost.io/proxy-inbound-port';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'outpost-onboard';
export const EXTERNAL_WORKLOAD = { group: 'workload.linkerd.io', version: 'v1beta1', plural: 'externalworkloads' } as const;
export const WORKLOAD_GROUP = { group: 'workload.linkerd.io', version: 'v1beta1', plural: 'workloadgroups' } as const;

export interface ServiceAccountManifest {
  apiVersion: 'v1';
  kind: 'ServiceAccount';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
}

export interface ExternalWorkloadManifest {
  apiVersion: string;
  kind: 'ExternalWorkload';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { workloadIPs: { ip: string }[]; ports?: { name: string; port: number; protocol: string }[]; probes?: unknown[] };
}

export function serviceAccountManifest(req: Pick<OnboardRequest, 'namespace' | 'serviceAccount'>): ServiceAccountManifest {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: req.serviceAccount, namespace: req.namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } } };
}

function workloadLabels(req: OnboardRequest): Record<string, string> {
  return { ...req.labels, ...(req.group ? { [GROUP_LABEL]: req.group } : {}) };
}

function workloadAnnotations(req: OnboardRequest): Record<string, string> {
  return { [SERVICE_ACCOUNT_ANNOTATION]: req.serviceAccount, ...(req.inboundPort !== 4143 ? { [INBOUND_PORT_ANNOTATION]: String(req.inboundPort) } : {}) };
}

export function externalWorkloadManifest(req: OnboardRequest, probes?: unknown[]): ExternalWorkloadManifest {
  return {
    apiVersion: `${EXTERNAL_WORKLOAD.group}/${EXTERNAL_WORKLOAD.version}`,
    kind: 'ExternalWorkload',
    metadata: { name: req.name, namespace: req.namespace, labels: workloadLabels(req), annotations: workloadAnnotations(req) },
    spec: {
      workloadIPs: [{ ip: req.ip }],
      // A group member without its own ports takes the group template's.
      ...(req.ports.length ? { ports: req.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) } : {}),
      ...(probes?.length ? { probes } : {}),
    },
  };
}

/**
 * JSON merge patch (RFC 7386) from an existing workload to the wanted one: labels and annotations
 * are merged, the address and (when given) the ports replaced; other fields stay. Returns
 * undefined when nothing would change, so a re-run writes nothing.
 */
export function externalWorkloadPatch(
  existing: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { workloadIPs?: { ip: string }[]; ports?: unknown[]; probes?: unknown[] } },
  wanted: ExternalWorkloadManifest,
): Record<string, unknown> | undefined {
  const patch: { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } = {};
  const changedEntries = (have: Record<string, string> | undefined, want: Record<string, string>) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(want)) if (have?.[k] !== v) out[k] = v;
    return Object.keys(out).length ? out : undefined;
  };
  const labels = changedEntries(existing.metadata?.labels, wanted.metadata.labels);
  const annotations = changedEntries(existing.metadata?.annotations, wanted.metadata.annotations);
  if (labels || annotations) patch.metadata = { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) };
  const spec: Record<string, unknown> = {};
  if (JSON.stringify(existing.spec?.workloadIPs ?? []) !== JSON.stringify(wanted.spec.workloadIPs)) spec.workloadIPs = wanted.spec.workloadIPs;
  if (wanted.spec.ports && JSON.stringify(normalisePorts(existing.spec?.ports)) !== JSON.stringify(wanted.spec.ports)) spec.ports = wanted.spec.ports;
  if (wanted.spec.probes && !probesMatch(existing.spec?.probes ?? [], wanted.spec.probes)) spec.probes = wanted.spec.probes;
  if (Object.keys(spec).length) patch.spec = spec;
  return patch.metadata || patch.spec ? patch : undefined;
}

/** The API fills in probe defaults (timeout, thresholds): a stored probe matches when every field we set is equal. */
function probesMatch(have: unknown[], want: unknown[]): boolean {
  return have.length === want.length && want.every((w, i) => Object.entries(w as Record<string, unknown>).every(([k, v]) => JSON.stringify((have[i] as Record<string, unknown>)?.[k]) === JSON.stringify(v)));
}

function normalisePorts(ports: unknown[] | undefined): unknown[] {
  return (ports ?? []).map((p) => {
    const q = p as { name?: string; port?: number; protocol?: string };
    return { name: q.name, port: q.port, protocol: q.protocol ?? 'TCP' };
  });
}
