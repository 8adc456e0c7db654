// The Prometheus adapter: answers MetricsBackend.sumBy with PromQL over the HTTP API
// (/api/v1/query). Prometheus must attach the viz's target labels (namespace, workload, app,
// workload_kind), which it does when it discovers proxies from the viz's /api/prometheus-sd.
import http from 'node:http';
import https from 'node:https';
import { OutpostError } from '../core/errors.js';
import type { Matchers, MetricsBackend, SumQuery, SumRow } from './backend.js';

const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function promqlMatchers(match: Matchers): string {
  return Object.entries(match)
    .map(([k, v]) => (v.startsWith('!') ? `${k}!="${escapeValue(v.slice(1))}"` : `${k}="${escapeValue(v)}"`))
    .join(',');
}

/** The PromQL expression of one sumBy query (pure, table-tested). */
export function promqlFor(q: SumQuery): string {
  const selector = `${q.metric}{${promqlMatchers(q.match)}}`;
  const range = `${Math.max(1, Math.round(q.windowMs / 1000))}s`;
  const inner = q.fn === 'last' ? selector : `${q.fn}(${selector}[${range}])`;
  return `sum by (${q.by.join(',')}) (${inner})`;
}

export class PrometheusBackend implements MetricsBackend {
  readonly kind = 'prometheus';
  private readonly base: URL;

  constructor(url: string, private readonly timeoutMs = 5000) {
    try {
      this.base = new URL(url);
    } catch {
      throw new OutpostError('CONFIG_INVALID', `--prometheus-url: "${url}" is not a URL`, { field: 'prometheus-url' });
    }
  }

  async sumBy(q: SumQuery): Promise<SumRow[]> {
    const body = await this.query(promqlFor(q));
    const rows: SumRow[] = [];
    for (const r of body.data?.result ?? []) {
      const labels: Record<string, string> = {};
      for (const b of q.by) labels[b] = r.metric?.[b] ?? '';
      const value = Number(r.value?.[1]);
      if (Number.isFinite(value)) rows.push({ labels, value });
    }
    return rows;
  }

  /**
   * The proxies Prometheus scrapes, from its own `up` series of the targets the viz's
   * /api/prometheus-sd gave it (they carry `namespace` and `workload`); a down target's reason
   * comes from Prometheus' /api/v1/targets.
   */
  async scrapeTargets(): Promise<{ workload: string; adminAddress: string; up: boolean; lastError?: string }[]> {
    const body = await this.query('up{namespace!="",workload!=""}');
    const out = (body.data?.result ?? []).map((r: any) => ({
      workload: `${r.metric?.namespace}/${r.metric?.workload}`,
      adminAddress: String(r.metric?.instance ?? ''),
      up: Number(r.value?.[1]) === 1,
    })) as { workload: string; adminAddress: string; up: boolean; lastError?: string }[];
    if (out.some((t) => !t.up)) {
      const targets = await this.get('api/v1/targets', { state: 'active' }, 'targets').catch(() => undefined);
      for (const t of out) {
        if (t.up) continue;
        const hit = (targets?.data?.activeTargets ?? []).find((a: any) => a.labels?.instance === t.adminAddress);
        t.lastError = hit?.lastError ? `Prometheus: ${hit.lastError}` : 'Prometheus reports up=0';
      }
    }
    return out.sort((a, b) => a.workload.localeCompare(b.workload));
  }

  private query(promql: string): Promise<any> {
    return this.get('api/v1/query', { query: promql }, promql);
  }

  private get(path: string, params: Record<string, string>, what: string): Promise<any> {
    const url = new URL(path, this.base.href.endsWith('/') ? this.base : new URL(this.base.href + '/'));
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.get(url, { timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (res.statusCode !== 200 || body.status !== 'success') return reject(new OutpostError('API_UNREACHABLE', `prometheus: ${body.error ?? `HTTP ${res.statusCode}`} for ${what}`));
            resolve(body);
          } catch (e) {
            reject(new OutpostError('API_UNREACHABLE', `prometheus: unreadable answer (${(e as Error).message})`));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new OutpostError('API_UNREACHABLE', `prometheus at ${this.base.host}: timeout`)));
      req.on('error', reject);
    });
  }
}
