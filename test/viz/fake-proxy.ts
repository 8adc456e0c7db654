// Test helper: HTTP servers that serve /metrics rendered by the proxy's own metrics registry, so the
// viz pipeline reads exactly the text a proxy writes; load is recorded at a steady rate.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProxyMetrics } from '../../src/proxy/metrics/proxy-metrics.js';
import { labelString } from '../../src/core/metrics/registry.js';

export interface FakeProxy {
  metrics: ProxyMetrics;
  address: string;
  close(): Promise<void>;
}

export async function startFakeProxy(metrics = new ProxyMetrics()): Promise<FakeProxy> {
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics.render());
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    metrics,
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** Inbound HTTP labels as the proxy writes them (src/proxy/inbound/policies.ts). */
export const inboundLabels = (clientId: string, port: number, authority: string) =>
  labelString({ direction: 'inbound', target_addr: `127.0.0.1:${port}`, tls: clientId ? 'true' : 'no_identity', client_id: clientId || undefined, authority });

/** Outbound labels as the proxy writes them (src/proxy/outbound/logical.ts). */
export const outboundLabels = (o: { authority: string; target: string; serverId: string; ns: string; service: string; workload: string }) =>
  labelString({ direction: 'outbound', authority: o.authority, target_addr: o.target, tls: o.serverId ? 'true' : 'no_identity', server_id: o.serverId || undefined, dst_namespace: o.ns, dst_service: o.service, dst_external_workload: o.workload });

/** Calls `tick(i)` every `everyMs` until stopped. */
export function steady(everyMs: number, tick: (i: number) => void): { stop(): void; count(): number } {
  let i = 0;
  const t = setInterval(() => tick(i++), everyMs);
  return { stop: () => clearInterval(t), count: () => i };
}
