// The viz queries (stat, edges, routes) as compositions of MetricsBackend.sumBy, so the in-memory
// store and Prometheus answer them the same way. HTTP numbers come from response_total and
// response_latency_ms; TCP numbers (connections, bytes, lifetimes) from the tcp_* families, kept
// apart and named as what they are, so a workload serving both shows both.
import type { Matchers, MetricsBackend, SumRow } from './backend.js';

/** A group's TCP connections over the window (every connection the proxy tracked, HTTP ones included). */
export interface TcpStats {
  /** Connections opened per second (inbound: without those the policy refused). */
  connectionsPerSec: number;
  /** Bytes read plus bytes written per second. */
  bytesPerSec: number;
  /** Connections open now. */
  active: number;
  /** 0..1 of closed connections that closed cleanly, undefined when the proxy cannot tell. */
  successRate?: number;
  /** Connection lifetimes (tcp_connection_duration_ms), not request latencies. */
  durationP50?: number;
  durationP95?: number;
  durationP99?: number;
}

export interface GroupStats {
  key: Record<string, string>;
  /** HTTP success, 0..1; undefined when there were no HTTP responses to judge. */
  successRate?: number;
  /** HTTP requests per second (0 without HTTP traffic). */
  rps: number;
  latencyP50?: number;
  latencyP95?: number;
  latencyP99?: number;
  tcpConnections: number;
  /** HTTP traffic seen ('http'), only TCP connections ('tcp'), or nothing. */
  protocol: 'http' | 'tcp' | 'none';
  /** The group's TCP numbers, when it had TCP connections in the window. */
  tcp?: TcpStats;
}

const groupKey = (labels: Record<string, string>, by: string[]) => by.map((b) => labels[b] ?? '').join('\u0000');

/** Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (!sorted.length) return undefined;
  const total = sorted[sorted.length - 1].count;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe; // Prometheus returns the highest finite bound
      const inBucket = b.count - prevCount;
      return inBucket <= 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

function quantilesByGroup(rows: SumRow[], by: string[]): Map<string, { p50?: number; p95?: number; p99?: number }> {
  const buckets = new Map<string, { le: number; count: number }[]>();
  for (const r of rows) {
    const k = groupKey(r.labels, by);
    const le = r.labels.le === '+Inf' ? Infinity : Number(r.labels.le);
    let list = buckets.get(k);
    if (!list) buckets.set(k, (list = []));
    const same = list.find((b) => b.le === le);
    if (same) same.count += r.value;
    else list.push({ le, count: r.value });
  }
  const out = new Map<string, { p50?: number; p95?: number; p99?: number }>();
  for (const [k, list] of buckets) out.set(k, { p50: histogramQuantile(0.5, list), p95: histogramQuantile(0.95, list), p99: histogramQuantile(0.99, list) });
  return out;
}

/** Success, RPS, latency and TCP connections of every group of `by` among series matching `match`. */
export async function groupStats(
  backend: MetricsBackend,
  opts: { match: Matchers; by: string[]; windowMs: number; tcpMatch?: Matchers; inboundTcpSuccess?: boolean },
): Promise<Map<string, GroupStats>> {
  const { match, by, windowMs } = opts;
  const tcpMatch = opts.tcpMatch ?? match;
  const [toApp, denied] = opts.inboundTcpSuccess
    ? await Promise.all([
        backend.sumBy({ metric: 'tcp_open_total', match: { ...match, peer: 'dst' }, by, windowMs, fn: 'rate' }),
        backend.sumBy({ metric: 'inbound_tcp_authz_deny_total', match, by, windowMs, fn: 'rate' }),
      ])
    : [[], []];
  const [responses, latency, tcpOpen, tcpOpened, tcpClosed, tcpDuration, tcpRead, tcpWrite] = await Promise.all([
    backend.sumBy({ metric: 'response_total', match, by: [...by, 'classification'], windowMs, fn: 'rate' }),
    backend.sumBy({ metric: 'response_latency_ms_bucket', match, by: [...by, 'le'], windowMs, fn: 'rate' }),
    backend.sumBy({ metric: 'tcp_open_connections', match: tcpMatch, by, windowMs, fn: 'last' }),
    backend.sumBy({ metric: 'tcp_open_total', match: tcpMatch, by, windowMs, fn: 'rate' }),
    backend.sumBy({ metric: 'tcp_close_total', match: tcpMatch, by: [...by, 'errno'], windowMs, fn: 'rate' }),
    backend.sumBy({ metric: 'tcp_connection_duration_ms_bucket', match: tcpMatch, by: [...by, 'le'], windowMs, fn: 'rate' }),
    backend.sumBy({ metric: 'tcp_read_bytes_total', match: tcpMatch, by, windowMs, fn: 'rate' }),
    backend.sumBy({ metric: 'tcp_write_bytes_total', match: tcpMatch, by, windowMs, fn: 'rate' }),
  ]);
  const out = new Map<string, GroupStats>();
  const get = (labels: Record<string, string>) => {
    const k = groupKey(labels, by);
    let g = out.get(k);
    if (!g) {
      const key: Record<string, string> = {};
      for (const b of by) key[b] = labels[b] ?? '';
      out.set(k, (g = { key, rps: 0, tcpConnections: 0, protocol: 'none' }));
    }
    return g;
  };
  const ok = new Map<string, number>();
  const fail = new Map<string, number>();
  for (const r of responses) {
    const g = get(r.labels);
    g.rps += r.value;
    const m = r.labels.classification === 'success' ? ok : fail;
    const k = groupKey(r.labels, by);
    m.set(k, (m.get(k) ?? 0) + r.value);
  }
  for (const r of tcpOpen) get(r.labels).tcpConnections += Math.round(r.value);
  const httpLatency = quantilesByGroup(latency, by);
  for (const [k, g] of out) {
    const total = (ok.get(k) ?? 0) + (fail.get(k) ?? 0);
    if (total > 0) {
      g.protocol = 'http';
      g.successRate = (ok.get(k) ?? 0) / total;
      const q = httpLatency.get(k);
      Object.assign(g, { latencyP50: q?.p50, latencyP95: q?.p95, latencyP99: q?.p99 });
    } else g.rps = 0;
  }
  // TCP: connections opened per second, closed with an errno = failed, bytes both ways, lifetimes.
  const sumByKey = (rows: SumRow[]) => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(groupKey(r.labels, by), (m.get(groupKey(r.labels, by)) ?? 0) + r.value);
    return m;
  };
  const opened = sumByKey(tcpOpened);
  const closedOk = sumByKey(tcpClosed.filter((r) => !r.labels.errno));
  const closedErr = sumByKey(tcpClosed.filter((r) => r.labels.errno));
  const bytes = sumByKey([...tcpRead, ...tcpWrite]);
  const tcpLatency = quantilesByGroup(tcpDuration, by);
  // Linkerd's proxy labels failed closes with errno; a proxy that never does cannot tell failures apart.
  const errnoReported = closedErr.size > 0;
  // Without errno, an inbound connection succeeded when the proxy reached the local app with it
  // (tcp_open_total peer="dst"); connections the policy denied are not the app's failures.
  const reachedApp = sumByKey(toApp);
  const deniedByPolicy = sumByKey(denied);
  for (const r of [...tcpOpened, ...tcpOpen]) get(r.labels);
  for (const [k, g] of out) {
    const active = g.tcpConnections;
    if (!opened.has(k) && active === 0) continue;
    // Inbound, connections the policy refused are not load on the workload: count admitted ones.
    const connectionsPerSec = Math.max(0, (opened.get(k) ?? 0) - (opts.inboundTcpSuccess ? (deniedByPolicy.get(k) ?? 0) : 0));
    if (connectionsPerSec === 0 && active === 0) continue;
    const tcp: TcpStats = { connectionsPerSec, bytesPerSec: bytes.get(k) ?? 0, active };
    const closed = (closedOk.get(k) ?? 0) + (closedErr.get(k) ?? 0);
    if (closed > 0 && errnoReported) tcp.successRate = (closedOk.get(k) ?? 0) / closed;
    // Only proxies that count their connections to the app (some series exist) can be judged.
    else if (opts.inboundTcpSuccess && connectionsPerSec > 0 && reachedApp.has(k)) tcp.successRate = Math.min(1, (reachedApp.get(k) ?? 0) / connectionsPerSec);
    const q = tcpLatency.get(k);
    if (q) Object.assign(tcp, { durationP50: q.p50, durationP95: q.p95, durationP99: q.p99 });
    g.tcp = tcp;
    if (g.protocol === 'none') g.protocol = 'tcp';
  }
  return out;
}

export interface EdgeRow {
  srcNamespace: string;
  src: string;
  dstNamespace: string;
  dst: string;
  clientId: string;
  serverId: string;
  secured: boolean;
  /** Requests or connections per second seen on the edge. */
  rps: number;
}

/**
 * Edges from the clients' outbound metrics: source = the scraped proxy's workload, destination =
 * dst_external_workload (or dst_pod/dst_service), secured = tls="true" with a server identity.
 */
export async function edgeRows(
  backend: MetricsBackend,
  opts: { windowMs: number; identityOf: (ns: string, workload: string) => string; workloadOf: (identity: string) => { namespace: string; name: string } | undefined },
): Promise<EdgeRow[]> {
  const by = ['namespace', 'workload', 'dst_namespace', 'dst_external_workload', 'dst_pod', 'dst_service', 'tls', 'server_id'];
  const match = { direction: 'outbound' };
  const [http, tcp, open] = await Promise.all([
    backend.sumBy({ metric: 'request_total', match, by, windowMs: opts.windowMs, fn: 'rate' }),
    backend.sumBy({ metric: 'tcp_open_total', match, by, windowMs: opts.windowMs, fn: 'rate' }),
    backend.sumBy({ metric: 'tcp_open_connections', match, by, windowMs: opts.windowMs, fn: 'last' }),
  ]);
  const edges = new Map<string, EdgeRow>();
  const add = (r: SumRow, rate: number) => {
    const l = r.labels;
    // The destination workload: as discovery labelled it, else the workload holding the server identity.
    const byId = l.server_id ? opts.workloadOf(l.server_id) : undefined;
    const dst = l.dst_external_workload || l.dst_pod || byId?.name || l.dst_service;
    const dstNamespace = l.dst_external_workload || l.dst_pod ? l.dst_namespace : (byId?.namespace ?? l.dst_namespace);
    if (!dst) return;
    const k = [l.namespace, l.workload, dstNamespace, dst].join('/');
    let e = edges.get(k);
    if (!e) {
      e = { srcNamespace: l.namespace, src: l.workload, dstNamespace, dst, clientId: opts.identityOf(l.namespace, l.workload), serverId: l.server_id ?? '', secured: true, rps: 0 };
      edges.set(k, e);
    }
    e.rps += rate;
    if (l.tls !== 'true' || !l.server_id) e.secured = false;
    if (l.server_id) e.serverId = l.server_id;
  };
  const seen = (r: SumRow) => r.value > 0;
  for (const r of http.filter(seen)) add(r, r.value);
  for (const r of tcp.filter(seen)) add(r, http.length ? 0 : r.value);
  for (const r of open.filter(seen)) add(r, 0);
  return [...edges.values()].sort((a, b) => `${a.src}/${a.dst}`.localeCompare(`${b.src}/${b.dst}`));
}
