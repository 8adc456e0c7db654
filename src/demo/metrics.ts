// Reads the proxies' Prometheus /metrics (admin port) and turns two scrapes into per-workload
// rates (pure), the numbers the demo prints every few seconds.
import { parseMetricsText, type Sample } from '../core/metrics/prom-text.js';

export interface ProxyCounters {
  /** Inbound connections the policy admitted / refused. */
  inboundAllowed: number;
  inboundDenied: number;
  /** Of the admitted, those from an mTLS-authenticated client. */
  inboundAllowedMtls: number;
  /** Outbound connections the app opened through the proxy. */
  outboundOpened: number;
  /** Inbound HTTP requests, responses, failed responses and requests the policy refused. */
  httpRequests: number;
  httpResponses: number;
  httpFailures: number;
  httpDenied: number;
  clientIds: string[];
}

const sum = (samples: Sample[], name: string, pred: (l: Record<string, string>) => boolean = () => true) =>
  samples.filter((s) => s.name === name && pred(s.labels)).reduce((a, s) => a + s.value, 0);

export function proxyCounters(samples: Sample[]): ProxyCounters {
  const inbound = (l: Record<string, string>) => l.direction === 'inbound';
  return {
    inboundAllowed: sum(samples, 'inbound_tcp_authz_allow_total') + sum(samples, 'inbound_http_authz_allow_total'),
    inboundDenied: sum(samples, 'inbound_tcp_authz_deny_total') + sum(samples, 'inbound_http_authz_deny_total'),
    inboundAllowedMtls: sum(samples, 'inbound_tcp_authz_allow_total', (l) => l.tls === 'true') + sum(samples, 'inbound_http_authz_allow_total', (l) => l.tls === 'true'),
    outboundOpened: sum(samples, 'tcp_open_total', (l) => l.direction === 'outbound' && l.peer === 'src'),
    httpRequests: sum(samples, 'request_total', inbound),
    httpResponses: sum(samples, 'response_total', inbound),
    httpFailures: sum(samples, 'response_total', (l) => inbound(l) && l.classification === 'failure'),
    httpDenied: sum(samples, 'inbound_http_authz_deny_total'),
    clientIds: [...new Set(samples.filter((s) => s.name === 'inbound_tcp_authz_allow_total' && s.labels.client_id).map((s) => s.labels.client_id))].sort(),
  };
}

export interface Rates {
  inboundPerSec: number;
  outboundPerSec: number;
  deniedTotal: number;
  /** Share of admitted inbound connections that were mTLS, over the interval; undefined with none. */
  mtlsShare?: number;
  httpPerSec: number;
  /** Inbound HTTP success over the interval: successful responses / (responses + policy refusals). */
  httpSuccess?: number;
}

/** Cumulative inbound HTTP success share; undefined before any request. */
export function httpSuccessShare(c: Pick<ProxyCounters, 'httpResponses' | 'httpFailures' | 'httpDenied'>): number | undefined {
  const total = c.httpResponses + c.httpDenied;
  return total > 0 ? (c.httpResponses - c.httpFailures) / total : undefined;
}

export function rates(prev: ProxyCounters | undefined, cur: ProxyCounters, seconds: number): Rates {
  const d = (k: keyof Omit<ProxyCounters, 'clientIds'>) => Math.max(0, cur[k] - (prev?.[k] ?? 0));
  const allowed = d('inboundAllowed');
  return {
    inboundPerSec: allowed / seconds,
    outboundPerSec: d('outboundOpened') / seconds,
    deniedTotal: cur.inboundDenied,
    mtlsShare: allowed ? d('inboundAllowedMtls') / allowed : undefined,
    httpPerSec: d('httpRequests') / seconds,
    httpSuccess: httpSuccessShare({ httpResponses: d('httpResponses'), httpFailures: d('httpFailures'), httpDenied: d('httpDenied') }),
  };
}

export async function scrape(address: string, timeoutMs = 2000): Promise<Sample[] | undefined> {
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? parseMetricsText(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

export async function isReady(address: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${address}/ready`, { signal: AbortSignal.timeout(1000) });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}
