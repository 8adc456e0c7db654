// The viz's answers (stat, edges, routes, workloads) from discovery plus a MetricsBackend; the
// HTTP server only encodes these as JSON.
import type { MetricsBackend } from './backend.js';
import type { WorkloadInfo } from './workload-info.js';
import { describeMatch, type ServiceRoute } from '../core/routes/http-route.js';
import { edgeRows, groupStats, type EdgeRow, type GroupStats, type TcpStats } from './query.js';
import type { ResourceKind, ResourceRef } from './resources.js';

export interface StatRow {
  namespace: string;
  kind: ResourceKind;
  name: string;
  /** "proxies/workloads", or "-" for kinds without workloads (svc, authority). */
  meshed: string;
  health?: string;
  successRate?: number;
  rps: number;
  latencyP50?: number;
  latencyP95?: number;
  latencyP99?: number;
  tcpConnections: number;
  protocol: GroupStats['protocol'];
  /** Connections/s, bytes/s, active connections and connection durations, when there were TCP connections. */
  tcp?: TcpStats;
}

export interface StatRequest {
  resource: ResourceRef;
  namespace: string;
  allNamespaces: boolean;
  windowMs: number;
  from?: ResourceRef & { namespace: string };
}

export interface VizSources {
  backend: MetricsBackend;
  workloads(): WorkloadInfo[];
  /** Whether the viz currently scrapes this workload's proxy successfully (MESHED). */
  proxyUp(w: WorkloadInfo): boolean;
  /** The HTTPRoutes attached to a Service (any port), oldest first. */
  serviceRoutes(namespace: string, service: string): ServiceRoute[];
}

const groupLabel = (kind: ResourceKind) => (kind === 'deployment' ? 'app' : 'workload');

export async function stat(src: VizSources, req: StatRequest): Promise<StatRow[]> {
  const { resource, windowMs } = req;
  const nsMatch = (label: string): Record<string, string> => (req.allNamespaces ? {} : { [label]: req.namespace });
  let by: string[];
  let match: Record<string, string>;
  let tcpMatch: Record<string, string> | undefined;
  if (req.from) {
    const f = req.from;
    const fromMatch: Record<string, string> = { direction: 'outbound', namespace: f.namespace };
    if (f.kind !== 'namespace' && f.name) fromMatch[groupLabel(f.kind)] = f.name;
    if (resource.kind === 'service') by = ['dst_namespace', 'dst_service'];
    else if (resource.kind === 'authority') by = ['dst_namespace', 'authority'];
    else if (resource.kind === 'namespace') by = ['dst_namespace'];
    // Destination workloads: as discovery labelled them, else by the server identity (resolved below).
    else by = ['dst_namespace', 'dst_external_workload', 'server_id'];
    match = { ...fromMatch };
    if (by[0] === 'dst_namespace' && by[1] !== 'dst_external_workload') match.dst_namespace = req.allNamespaces ? '!' : req.namespace;
  } else if (resource.kind === 'service') {
    by = ['dst_namespace', 'dst_service'];
    match = { direction: 'outbound', dst_namespace: req.allNamespaces ? '!' : req.namespace, dst_service: '!' };
  } else {
    by = resource.kind === 'namespace' ? ['namespace'] : resource.kind === 'authority' ? ['namespace', 'authority'] : ['namespace', groupLabel(resource.kind)];
    match = { direction: 'inbound', ...nsMatch('namespace') };
    tcpMatch = { ...match, peer: 'src' };
  }
  let stats = await groupStats(src.backend, { match, by, windowMs, tcpMatch, inboundTcpSuccess: match.direction === 'inbound' });
  if (by[2] === 'server_id') stats = byDestinationWorkload(stats, src.workloads(), req);
  const rows = new Map<string, StatRow>();
  const rowKind: ResourceKind = req.from && resource.kind === 'deployment' ? 'externalworkload' : resource.kind;
  const empty = (namespace: string, name: string): StatRow => ({ namespace, kind: rowKind, name, meshed: '-', rps: 0, tcpConnections: 0, protocol: 'none' });
  // Workload-backed kinds list every workload (traffic or not), with MESHED = proxies up / workloads.
  const withWorkloads = !req.from && (resource.kind === 'externalworkload' || resource.kind === 'deployment' || resource.kind === 'namespace');
  if (withWorkloads) {
    const counts = new Map<string, { up: number; total: number; health: Set<string> }>();
    for (const w of src.workloads()) {
      if (!req.allNamespaces && w.labels.namespace !== req.namespace) continue;
      const name = resource.kind === 'namespace' ? w.labels.namespace : resource.kind === 'deployment' ? w.labels.app : w.labels.workload;
      const k = `${w.labels.namespace}/${name}`;
      let c = counts.get(k);
      if (!c) counts.set(k, (c = { up: 0, total: 0, health: new Set() }));
      c.total++;
      if (src.proxyUp(w)) c.up++;
      c.health.add(w.health);
      if (!rows.has(k)) rows.set(k, empty(w.labels.namespace, name));
    }
    for (const [k, c] of counts) {
      const r = rows.get(k)!;
      r.meshed = `${c.up}/${c.total}`;
      r.health = c.health.size === 1 ? [...c.health][0] : c.health.has('NotReady') ? 'NotReady' : 'Unknown';
    }
  }
  for (const g of stats.values()) {
    const namespace = g.key[by[0]] || req.namespace;
    const name = by.length > 1 ? g.key[by[1]] : g.key[by[0]];
    if (!name) continue;
    const k = `${namespace}/${name}`;
    let r = rows.get(k);
    if (!r) {
      if (withWorkloads) continue; // traffic of a workload that no longer exists
      rows.set(k, (r = empty(namespace, name)));
    }
    Object.assign(r, { successRate: g.successRate, rps: g.rps, latencyP50: g.latencyP50, latencyP95: g.latencyP95, latencyP99: g.latencyP99, tcpConnections: g.tcpConnections, protocol: g.protocol, tcp: g.tcp });
  }
  let out = [...rows.values()];
  if (resource.name) {
    out = out.filter((r) => r.name === resource.name);
    // deploy/NAME also finds a workload named NAME whose app label differs.
    if (!out.length && resource.kind === 'deployment') {
      const w = src.workloads().find((x) => x.labels.workload === resource.name && (req.allNamespaces || x.labels.namespace === req.namespace));
      if (w) return (await stat(src, { ...req, resource: { kind: 'deployment', name: w.labels.app } })).map((r) => ({ ...r, name: resource.name! }));
    }
  }
  return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** Folds --from groups keyed by (dst_namespace, dst_external_workload, server_id) into one per destination workload. */
function byDestinationWorkload(stats: Map<string, GroupStats>, workloads: WorkloadInfo[], req: StatRequest): Map<string, GroupStats> {
  const byIdentity = new Map(workloads.filter((w) => w.identity).map((w) => [w.identity, w]));
  const out = new Map<string, GroupStats>();
  for (const g of stats.values()) {
    const w = g.key.server_id ? byIdentity.get(g.key.server_id) : undefined;
    const name = g.key.dst_external_workload || w?.labels.workload;
    const namespace = g.key.dst_external_workload ? g.key.dst_namespace : (w?.labels.namespace ?? g.key.dst_namespace);
    if (!name || (!req.allNamespaces && namespace !== req.namespace)) continue;
    const k = `${namespace}/${name}`;
    const key = { dst_namespace: namespace, dst_external_workload: name };
    const prev = out.get(k);
    if (!prev || (prev.protocol !== 'http' && g.protocol === 'http')) out.set(k, { ...g, key, tcpConnections: g.tcpConnections + (prev?.tcpConnections ?? 0), tcp: mergeTcp(prev?.tcp, g.tcp) });
    else {
      if (g.protocol === 'http' && prev.protocol === 'http') prev.rps += g.rps;
      prev.tcpConnections += g.tcpConnections;
      prev.tcp = mergeTcp(prev.tcp, g.tcp);
    }
  }
  return out;
}

/** Two groups' TCP numbers as one: rates and counts add, success weighs by connections, durations take the worse. */
function mergeTcp(a: TcpStats | undefined, b: TcpStats | undefined): TcpStats | undefined {
  if (!a || !b) return a ?? b;
  const cps = a.connectionsPerSec + b.connectionsPerSec;
  const judged = [a, b].filter((t) => t.successRate !== undefined);
  const judgedCps = judged.reduce((n, t) => n + t.connectionsPerSec, 0);
  const worse = (x?: number, y?: number) => (x === undefined ? y : y === undefined ? x : Math.max(x, y));
  return {
    connectionsPerSec: cps,
    bytesPerSec: a.bytesPerSec + b.bytesPerSec,
    active: a.active + b.active,
    successRate: judged.length && judgedCps > 0 ? judged.reduce((n, t) => n + t.successRate! * t.connectionsPerSec, 0) / judgedCps : judged[0]?.successRate,
    durationP50: worse(a.durationP50, b.durationP50),
    durationP95: worse(a.durationP95, b.durationP95),
    durationP99: worse(a.durationP99, b.durationP99),
  };
}

export async function edges(src: VizSources, req: { namespace: string; allNamespaces: boolean; windowMs: number }): Promise<EdgeRow[]> {
  const workloads = src.workloads();
  const identities = new Map(workloads.map((w) => [w.key, w.identity]));
  const byIdentity = new Map(workloads.filter((w) => w.identity).map((w) => [w.identity, { namespace: w.labels.namespace, name: w.labels.workload }]));
  const rows = await edgeRows(src.backend, { windowMs: req.windowMs, identityOf: (ns, name) => identities.get(`${ns}/${name}`) ?? '', workloadOf: (id) => byIdentity.get(id) });
  return req.allNamespaces ? rows : rows.filter((e) => e.srcNamespace === req.namespace || e.dstNamespace === req.namespace);
}

export interface RouteRow {
  route: string;
  service: string;
  matches: string[];
  successRate?: number;
  rps: number;
  latencyP50?: number;
  latencyP95?: number;
  latencyP99?: number;
}

/**
 * Per-route numbers for a service from its clients' outbound series: the HTTPRoutes attached to it
 * (oldest first), by the route_name the client proxies label requests with (ADR 0011); requests no
 * route took are the [DEFAULT] row (as in Linkerd).
 */
export async function routes(src: VizSources, req: { service: string; namespace: string; windowMs: number }): Promise<{ rows: RouteRow[]; notice?: string }> {
  const by = ['dst_namespace', 'dst_service', 'route_name'];
  const stats = await groupStats(src.backend, { match: { direction: 'outbound', dst_namespace: req.namespace, dst_service: req.service }, by, windowMs: req.windowMs });
  // Opaque TCP has no routes and no requests: say so rather than print a success rate of nothing.
  const groups = [...stats.values()];
  if (!groups.some((g) => g.protocol === 'http') && groups.some((g) => g.tcp && g.tcp.connectionsPerSec + g.tcp.active > 0)) {
    return { rows: [], notice: `no HTTP traffic: this Service's traffic is opaque TCP; see outpost viz stat svc/${req.service} -n ${req.namespace}` };
  }
  const rows: RouteRow[] = [];
  const attached = src.serviceRoutes(req.namespace, req.service);
  const byRoute = new Map([...stats.values()].map((g) => [g.key.route_name, g]));
  const row = (route: string, matches: string[], g: GroupStats | undefined): RouteRow => ({
    route,
    service: req.service,
    matches,
    rps: g?.rps ?? 0,
    successRate: g?.successRate,
    latencyP50: g?.latencyP50,
    latencyP95: g?.latencyP95,
    latencyP99: g?.latencyP99,
  });
  for (const r of attached) {
    rows.push(row(r.name, r.matches.map(describeMatch), byRoute.get(r.name)));
    byRoute.delete(r.name);
  }
  // A route deleted or detached within the window keeps its numbers under its name (no matches).
  for (const [name, g] of byRoute) if (name) rows.push(row(name, [], g));
  const rest = [...byRoute.entries()].filter(([name]) => !name).map(([, g]) => g);
  const rps = rest.reduce((a, g) => a + g.rps, 0);
  const weighted = (f: (g: GroupStats) => number | undefined) => (rest.length === 1 ? f(rest[0]) : rest.length ? rest.map(f).reduce((a, v) => Math.max(a ?? 0, v ?? 0), undefined as number | undefined) : undefined);
  const okRps = rest.reduce((a, g) => a + (g.successRate ?? 0) * g.rps, 0);
  rows.push({ ...row('[DEFAULT]', [], undefined), rps, successRate: rps > 0 ? okRps / rps : undefined, latencyP50: weighted((g) => g.latencyP50), latencyP95: weighted((g) => g.latencyP95), latencyP99: weighted((g) => g.latencyP99) });
  return { rows };
}
