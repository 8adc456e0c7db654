// Which Server selects a workload's port: label selectors (podSelector OR externalWorkloadSelector,
// both matched against the workload's effective labels) and ports by number or by name. Pure.
import type { EffectiveWorkload } from '../core/workloads/effective.js';
import type { ProxyProtocol } from '../api/model.js';
import type { LabelSelector, ServerObject } from '../kube/objects.js';

/** Kubernetes label-selector semantics: an empty selector matches everything, an absent one nothing. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expr.key);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        if (!has || !values.includes(labels[expr.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[expr.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // unknown operator: match nothing (deny when in doubt)
    }
  }
  return true;
}

/** The guide selects VMs with `podSelector`: both selectors are matched against the workload's effective labels. */
export type SelectableWorkload = Pick<EffectiveWorkload, 'namespace' | 'labels' | 'ports'>;

export function serverSelectsWorkload(server: ServerObject, workload: SelectableWorkload): boolean {
  if ((server.metadata.namespace ?? 'default') !== workload.namespace) return false;
  const spec = server.spec ?? {};
  return selectorMatches(spec.podSelector, workload.labels) || selectorMatches(spec.externalWorkloadSelector, workload.labels);
}

/** A Server's port is a number or the name of one of the workload's ports. */
export function serverPortMatches(server: ServerObject, port: number, workload: Pick<EffectiveWorkload, 'ports'>): boolean {
  const p = server.spec?.port;
  if (p === undefined || p === null) return false;
  if (typeof p === 'number') return p === port;
  if (/^\d+$/.test(p)) return Number(p) === port;
  return workload.ports.some((wp) => wp.name === p && wp.port === port);
}

/** The Server for a workload's port. When several match, the oldest name wins (sorted), so the answer is stable. */
export function serverForPort(servers: readonly ServerObject[], workload: SelectableWorkload, port: number): ServerObject | undefined {
  const matching = servers.filter((s) => serverSelectsWorkload(s, workload) && serverPortMatches(s, port, workload));
  matching.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return matching[0];
}

/** Server.spec.proxyProtocol ("unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS") to the proxy's protocol. */
export function proxyProtocolOf(server: ServerObject | undefined): ProxyProtocol {
  switch ((server?.spec?.proxyProtocol ?? '').toLowerCase()) {
    case 'opaque':
      return 'opaque';
    case 'http/1':
      return 'http1';
    case 'http/2':
      return 'http2';
    case 'grpc':
      return 'grpc';
    case 'tls':
      return 'tls';
    default:
      return 'detect';
  }
}

export const OPAQUE_PORTS_ANNOTATION = 'config.linkerd.io/opaque-ports';

/** Parses "5432,6379" or "4000-4100" style opaque-port annotations. */
export function parsePortList(value: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const lo = Number(range[1]);
      const hi = Math.min(Number(range[2]), lo + 65535);
      for (let p = lo; p <= hi && p <= 65535; p++) out.add(p);
    } else if (/^\d+$/.test(part)) out.add(Number(part));
  }
  return out;
}
