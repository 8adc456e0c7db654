// The proxy metrics the viz pipeline keeps from a scrape (Linkerd's names), parsed with the one
// exposition parser (src/core/metrics/prom-text.ts).
import { parseMetricsText, type Sample } from '../core/metrics/prom-text.js';

/** The metric names the pipeline keeps (Linkerd's proxy metrics). */
export const KEPT_METRICS = new Set(['inbound_tcp_authz_deny_total', 'tcp_close_total', 'tcp_read_bytes_total', 'tcp_write_bytes_total', 'tcp_connection_duration_ms_bucket', 'request_total', 'response_total', 'response_latency_ms_bucket', 'tcp_open_connections', 'tcp_open_total']);

export function parsePrometheusText(text: string, keep: (name: string) => boolean = (n) => KEPT_METRICS.has(n)): Sample[] {
  return parseMetricsText(text, keep);
}
