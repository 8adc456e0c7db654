// Which Server (policy.linkerd.io) selects a workload's port: label selectors (podSelector OR
// externalWorkloadSelector, both matched against the workload's effective labels) and ports by
// number or by name. Pure; read by policy (authorization) and destination (opaque-port hints).
import type { EffectiveWorkload } from '../core/workloads/effective.js';
import type { ServerObject } from './objects.js';
import { selectorMatches } from './selectors.js';

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
