// The proxy's metric families, with Linkerd's names and labels so existing dashboards work.
// Callers build a label string once per connection/endpoint and keep the returned handles.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Registry, joinLabels, type CounterCell, type HistogramCell, type Family } from '../../core/metrics/registry.js';

export class HttpMetrics {
  readonly request: CounterCell;
  /** Cells by `status` for plain HTTP, `status|grpcStatus` for gRPC. */
  private readonly byStatus = new Map<number | string, { ok: CounterCell; fail: CounterCell; latency: HistogramCell }>();

  constructor(
    private readonly m: ProxyMetrics,
    private readonly labels: string,
  ) {
    this.request = m.requestTotal.cell(labels);
  }

  /**
   * Records one response; `failure` also when the status alone says success (e.g. grpc-status != 0).
   * A gRPC response carries its `grpc_status` label, as Linkerd's proxy labels it.
   */
  response(status: number, latencyMs: number, failure = status >= 500, grpcStatus?: number): void {
    const key = grpcStatus === undefined ? status : `${status}|${grpcStatus}`;
    let s = this.byStatus.get(key);
    if (!s) {
      const base = joinLabels(this.labels, `status_code="${status}"`);
      const grpc = grpcStatus === undefined ? '' : `grpc_status="${grpcStatus}"`;
      s = {
        ok: this.m.responseTotal.cell(joinLabels(joinLabels(base, 'classification="success"'), grpc)),
        fail: this.m.responseTotal.cell(joinLabels(joinLabels(base, 'classification="failure"'), grpc)),
        latency: this.m.responseLatency.cell(joinLabels(base, grpc)),
      };
      this.byStatus.set(key, s);
    }
    (failure ? s.fail : s.ok).value++;
    s.latency.observe(latencyMs);
  }
}

interface TcpCells {
  open: CounterCell;
  openNow: CounterCell;
  close: CounterCell;
  read: CounterCell;
  write: CounterCell;
  duration: HistogramCell;
  /** tcp_close_total cells with an errno label, by errno (Linkerd-style failed closes). */
  failedClose: Map<string, CounterCell>;
  closedRead: number;
  closedWrite: number;
  live: Set<Socket>;
}

/** Set on a socket that closes because of a failure (e.g. the app refused the proxied connection). */
const FAILED = Symbol('outpost.tcpFailure');
type MaybeFailed = Socket & { [FAILED]?: string };

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requestTotal = this.registry.counter('request_total', 'Total count of HTTP requests.');
  readonly responseTotal = this.registry.counter('response_total', 'Total count of HTTP responses.');
  readonly responseLatency = this.registry.histogram('response_latency_ms', 'Elapsed times between a request\'s headers being received and its response stream completing');
  readonly tcpOpenTotal = this.registry.counter('tcp_open_total', 'Total count of opened connections');
  readonly tcpOpenConnections = this.registry.gauge('tcp_open_connections', 'Number of currently-open connections');
  readonly tcpReadBytes = this.registry.counter('tcp_read_bytes_total', 'Total count of bytes read from peers');
  readonly tcpWriteBytes = this.registry.counter('tcp_write_bytes_total', 'Total count of bytes written to peers');
  readonly tcpCloseTotal = this.registry.counter('tcp_close_total', 'Total count of closed connections');
  readonly tcpConnectionDuration = this.registry.histogram('tcp_connection_duration_ms', 'Connection lifetimes');
  readonly httpAuthzAllow = this.registry.counter('inbound_http_authz_allow_total', 'The total number of inbound HTTP requests that were authorized');
  readonly httpAuthzDeny = this.registry.counter('inbound_http_authz_deny_total', 'The total number of inbound HTTP requests that could not be processed due to a proxy error');
  readonly tcpAuthzAllow = this.registry.counter('inbound_tcp_authz_allow_total', 'The total number of inbound TCP connections that were authorized');
  readonly tcpAuthzDeny = this.registry.counter('inbound_tcp_authz_deny_total', 'The total number of inbound TCP connections that were denied');
  readonly targetPortRefused = this.registry.counter('inbound_target_port_refused_total', 'Inbound requests and connections refused because their target port is not a declared port of the workload, or is one of the proxy\'s own');
  readonly pendingRefused = this.registry.counter('listener_pending_refused_total', 'Connections closed before they were established: too many pending from one client address, TLS handshake timeout, or no first request within the header timeout');
  readonly authoritiesEvicted = this.registry.counter('outbound_authorities_evicted_total', 'Outbound authorities closed, with their discovery streams, after timeouts.idle without a request or connection');
  private readonly http = new Map<string, HttpMetrics>();
  private readonly tcp = new Map<string, TcpCells>();

  httpFor(labels: string): HttpMetrics {
    let h = this.http.get(labels);
    if (!h) {
      h = new HttpMetrics(this, labels);
      this.http.set(labels, h);
    }
    return h;
  }

  /** Counts a connection open now and its bytes and close later (bytes are read at scrape and close). */
  trackConnection(labels: string, socket: Socket): void {
    let t = this.tcp.get(labels);
    if (!t) {
      t = {
        open: this.tcpOpenTotal.cell(labels),
        openNow: this.tcpOpenConnections.cell(labels),
        close: this.tcpCloseTotal.cell(labels),
        read: this.tcpReadBytes.cell(labels),
        write: this.tcpWriteBytes.cell(labels),
        duration: this.tcpConnectionDuration.cell(labels),
        failedClose: new Map(),
        closedRead: 0,
        closedWrite: 0,
        live: new Set(),
      };
      this.tcp.set(labels, t);
    }
    const cells = t;
    cells.open.value++;
    cells.openNow.value++;
    cells.live.add(socket);
    const opened = performance.now();
    socket.once('close', () => {
      cells.live.delete(socket);
      cells.openNow.value--;
      const errno = (socket as MaybeFailed)[FAILED];
      if (errno === undefined) cells.close.value++;
      else {
        let c = cells.failedClose.get(errno);
        if (!c) cells.failedClose.set(errno, (c = this.tcpCloseTotal.cell(joinLabels(labels, `errno="${errno}"`))));
        c.value++;
      }
      cells.duration.observe(performance.now() - opened);
      cells.closedRead += socket.bytesRead;
      cells.closedWrite += socket.bytesWritten;
    });
  }

  /**
   * Marks a tracked socket as failed before it is destroyed: its close is counted with an errno label
   * (e.g. ECONNREFUSED when the proxied-to app refused, ETIMEDOUT when connecting timed out).
   */
  markFailed(socket: Socket, err: Error | string): void {
    const code = typeof err === 'string' ? err : (err as Error & { code?: string }).code;
    (socket as MaybeFailed)[FAILED] = code && /^[A-Z0-9_]+$/.test(code) ? code : 'EIO';
  }

  authz(family: Family<CounterCell>, labels: string): CounterCell {
    return family.cell(labels);
  }

  render(): string {
    for (const t of this.tcp.values()) {
      let r = t.closedRead;
      let w = t.closedWrite;
      for (const s of t.live) {
        r += s.bytesRead;
        w += s.bytesWritten;
      }
      t.read.value = r;
      t.write.value = w;
    }
    return this.registry.render();
  }
}
