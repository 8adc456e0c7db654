// Text tables for the viz CLI, with Linkerd's column names and number formats (pure).
import type { EdgeRow } from './query.js';
import type { RouteRow, StatRow } from './service.js';
import type { TapEvent } from './tap-client.js';

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const formatSuccess = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(2)}%`);
/** HTTP requests per second; `-` where there was no HTTP (a TCP-only row's connections are in the TCP table). */
export const formatRps = (v: number, protocol?: string) => (protocol === 'none' || protocol === 'tcp' ? '-' : `${v.toFixed(1)}rps`);
export const formatLatency = (v: number | undefined) => (v === undefined ? '-' : `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)}ms`);
/** A connection lifetime: ms below a second, then seconds, then minutes. */
export const formatDuration = (v: number | undefined) => (v === undefined ? '-' : v < 1000 ? formatLatency(v) : v < 60_000 ? `${(v / 1000).toFixed(1).replace(/\.0$/, '')}s` : `${(v / 60_000).toFixed(1).replace(/\.0$/, '')}m`);
export const formatBytesRate = (v: number) => (v < 1000 ? `${Math.round(v)}B/s` : v < 1e6 ? `${(v / 1000).toFixed(1)}kB/s` : `${(v / 1e6).toFixed(1)}MB/s`);

export function statTable(rows: StatRow[], opts: { allNamespaces: boolean; wide: boolean }): string {
  const header = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'MESHED', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99', 'TCP_CONN', ...(opts.wide ? ['HEALTH', 'PROTOCOL'] : [])];
  const body = rows.map((r) => [
    ...(opts.allNamespaces ? [r.namespace] : []),
    r.name,
    r.meshed,
    formatSuccess(r.successRate),
    formatRps(r.rps, r.protocol),
    formatLatency(r.latencyP50),
    formatLatency(r.latencyP95),
    formatLatency(r.latencyP99),
    r.protocol === 'none' && r.tcpConnections === 0 ? '-' : String(r.tcpConnections),
    ...(opts.wide ? [r.health ?? '-', r.protocol === 'http' && r.tcp ? 'http+tcp' : r.protocol] : []),
  ]);
  const http = table(header, body);
  const tcp = rows.filter((r) => r.tcp);
  return tcp.length ? `${http}

${tcpTable(tcp, opts)}` : http;
}

/**
 * TCP connections of the rows that had any (HTTP connections included, as the proxy counts them):
 * success of closes, connections and bytes (read + written) per second, open now, and how long
 * connections lived — lifetimes, not request latencies.
 */
export function tcpTable(rows: StatRow[], opts: { allNamespaces: boolean }): string {
  const header = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'TCP', 'MESHED', 'SUCCESS', 'CONNECTIONS/S', 'BYTES/S', 'ACTIVE_CONN', 'DURATION_P50', 'DURATION_P95', 'DURATION_P99'];
  const body = rows.map((r) => {
    const t = r.tcp!;
    return [...(opts.allNamespaces ? [r.namespace] : []), r.name, r.meshed, formatSuccess(t.successRate), `${t.connectionsPerSec.toFixed(1)}/s`, formatBytesRate(t.bytesPerSec), String(t.active), formatDuration(t.durationP50), formatDuration(t.durationP95), formatDuration(t.durationP99)];
  });
  return table(header, body);
}

export function edgesTable(rows: EdgeRow[], opts: { wide: boolean }): string {
  const header = ['SRC', 'DST', 'SRC_NS', 'DST_NS', 'SECURED', ...(opts.wide ? ['CLIENT_ID', 'SERVER_ID'] : [])];
  const body = rows.map((e) => [e.src, e.dst, e.srcNamespace, e.dstNamespace, e.secured ? '√' : 'x', ...(opts.wide ? [e.clientId || '-', e.serverId || '-'] : [])]);
  return table(header, body);
}

/** Linkerd's columns; wide adds MATCHES (each of the route's matches, e.g. "GET /orders*"). */
export function routesTable(rows: RouteRow[], opts: { wide?: boolean } = {}): string {
  const body = rows.map((r) => [r.route, r.service, formatSuccess(r.successRate), formatRps(r.rps), formatLatency(r.latencyP50), formatLatency(r.latencyP95), formatLatency(r.latencyP99), ...(opts.wide ? [r.matches.join(', ') || '-'] : [])]);
  return table(['ROUTE', 'SERVICE', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99', ...(opts.wide ? ['MATCHES'] : [])], body);
}

/** One tap line per completed request, in the style of Linkerd's tap `rsp` lines. */
export function tapLine(e: TapEvent): string {
  const proxy = e.direction === 'inbound' ? 'in' : 'out';
  const latencyUs = Math.round(e.latencyMs * 1000);
  return `rsp workload=${e.workload} proxy=${proxy} src=${e.source || "-"} dst=${e.destination || "-"} tls=${e.tls} :method=${e.method} :authority=${e.authority} :path=${e.path} :status=${e.status}${e.grpcStatus === undefined ? '' : ` grpc-status=${e.grpcStatus}`} latency=${latencyUs}µs src_id=${e.sourceIdentity || '-'} dst_id=${e.destinationIdentity || '-'}`;
}

export interface TopRow {
  source: string;
  destination: string;
  method: string;
  path: string;
  count: number;
  best: number;
  worst: number;
  last: number;
  ok: number;
}

/** Aggregates tap events by (source, destination, method, path), most requested first (`viz top`). */
export function topRows(events: TapEvent[]): TopRow[] {
  const rows = new Map<string, TopRow>();
  for (const e of events) {
    const source = e.sourceIdentity ? idName(e.sourceIdentity) : e.source.split(':')[0];
    const destination = e.destinationIdentity ? idName(e.destinationIdentity) : e.destination;
    const k = [source, destination, e.method, e.path].join(' ');
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { source, destination, method: e.method, path: e.path, count: 0, best: Infinity, worst: 0, last: 0, ok: 0 }));
    r.count++;
    r.best = Math.min(r.best, e.latencyMs);
    r.worst = Math.max(r.worst, e.latencyMs);
    r.last = e.latencyMs;
    if (!tapFailure(e)) r.ok++;
  }
  return [...rows.values()].sort((a, b) => b.count - a.count || a.path.localeCompare(b.path));
}

/** A tap event is a failure on a 5xx, or on a gRPC call whose grpc-status is not OK (the HTTP status is then 200). */
export function tapFailure(e: Pick<TapEvent, 'status' | 'grpcStatus'>): boolean {
  return e.status >= 500 || (e.grpcStatus !== undefined && e.grpcStatus !== 0);
}

const idName = (id: string) => id.replace(/^spiffe:\/\/[^/]+\//, '');

export function topTable(rows: TopRow[]): string {
  return table(
    ['Source', 'Destination', 'Method', 'Path', 'Count', 'Best', 'Worst', 'Last', 'Success Rate'],
    rows.map((r) => [r.source, r.destination, r.method, r.path, String(r.count), formatLatency(r.best), formatLatency(r.worst), formatLatency(r.last), formatSuccess(r.ok / r.count)]),
  );
}
