// What the demo prints (pure): a table per interval — connection rates from each proxy's /metrics,
// success rates as the api-server observed its calls — and the final summary line.
import type { AppStats, OpCounters } from './apps/app.js';
import { httpSuccessShare, type ProxyCounters, type Rates } from './metrics.js';

export interface DemoSummary {
  /** The load generator's HTTP requests to the api-server through the mesh (client-observed). */
  web: OpCounters;
  postgres: OpCounters;
  redis: OpCounters;
  intruder: { attempts: number; refused: number; admitted: number };
  /** inbound_tcp_authz_deny_total on postgres-primary's proxy. */
  postgresDenied: number;
  /** Client identities postgres-primary's proxy admitted. */
  postgresClients: string[];
  /** api-server's proxy: inbound HTTP responses, failures and policy refusals (cumulative). */
  apiHttp: { responses: number; failures: number; denied: number };
}

export function summarise(stats: Record<string, AppStats>, counters: Record<string, ProxyCounters | undefined>, previous?: DemoSummary): DemoSummary {
  const calls = stats['api-server']?.calls;
  const pg = counters['postgres-primary'];
  return {
    web: { ...(calls?.web ?? { ok: 0, fail: 0 }) },
    postgres: { ...(calls?.postgres ?? { ok: 0, fail: 0 }) },
    redis: { ...(calls?.redis ?? { ok: 0, fail: 0 }) },
    intruder: { ...(stats['redis-cache']?.intruder ?? { attempts: 0, refused: 0, admitted: 0 }) },
    postgresDenied: pg?.inboundDenied ?? previous?.postgresDenied ?? 0,
    postgresClients: pg?.clientIds ?? previous?.postgresClients ?? [],
    apiHttp: counters['api-server'] ? { responses: counters['api-server'].httpResponses, failures: counters['api-server'].httpFailures, denied: counters['api-server'].httpDenied } : (previous?.apiHttp ?? { responses: 0, failures: 0, denied: 0 }),
  };
}

const pct = (c: OpCounters | undefined) => (c && c.ok + c.fail > 0 ? `${((100 * c.ok) / (c.ok + c.fail)).toFixed(1)}%` : '-');
const num = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));

/** `previous`: the last interval's summary, so an error is shown only in the interval it happened. */
const share = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);

/**
 * SUCCESS and RPS of api-server: inbound HTTP from its proxy's metrics. Of postgres and redis
 * (opaque TCP, one call per connection): RPS = connections admitted per second by their proxies,
 * SUCCESS = the api-server's calls that got a correct answer.
 */
export function formatTable(elapsedSec: number, rows: { workload: string; rates?: Rates }[], stats: Record<string, AppStats>, summary: DemoSummary, previous?: DemoSummary): string[] {
  const calls = stats['api-server']?.calls;
  const lines = [`[${String(elapsedSec).padStart(4)}s] ${'WORKLOAD'.padEnd(17)} ${'SUCCESS'.padStart(8)} ${'RPS'.padStart(6)} ${'OUT conn/s'.padStart(11)} ${'mTLS'.padStart(6)} ${'DENIED'.padStart(7)}`];
  for (const r of rows) {
    const http = r.workload === 'api-server';
    const success = http ? share(r.rates?.httpSuccess) : pct(r.workload === 'postgres-primary' ? summary.postgres : summary.redis);
    const rps = http ? r.rates?.httpPerSec : r.rates?.inboundPerSec;
    const mtls = r.rates?.mtlsShare === undefined ? '-' : `${Math.round(r.rates.mtlsShare * 100)}%`;
    lines.push(`        ${r.workload.padEnd(17)} ${success.padStart(8)} ${num(rps).padStart(6)} ${num(r.rates?.outboundPerSec).padStart(11)} ${mtls.padStart(6)} ${String(r.rates?.deniedTotal ?? '-').padStart(7)}`);
  }
  const i = summary.intruder;
  lines.push(`        policy: redis-cache → postgres refused ${i.refused}/${i.refused + i.admitted}${i.admitted ? ` (ADMITTED ${i.admitted}!)` : ''}; postgres proxy denied ${summary.postgresDenied}`);
  for (const upstream of ['web', 'postgres', 'redis'] as const) {
    const c = calls?.[upstream];
    const failed = (c?.fail ?? 0) - (previous?.[upstream].fail ?? 0);
    if (c?.lastError && failed > 0) lines.push(`        ${failed} ${upstream === 'web' ? 'request' : upstream + ' call'}${failed === 1 ? '' : 's'} failed, last: ${c.lastError}`);
  }
  return lines;
}

export function formatSummary(s: DemoSummary): string {
  return [
    `Summary: postgres success ${pct(s.postgres)} (${s.postgres.ok}/${s.postgres.ok + s.postgres.fail})`,
    `redis success ${pct(s.redis)} (${s.redis.ok}/${s.redis.ok + s.redis.fail})`,
    `policy refused redis-cache → postgres ${s.intruder.refused}/${s.intruder.refused + s.intruder.admitted} (postgres proxy denied ${s.postgresDenied})`,
    `postgres clients: ${s.postgresClients.join(' ') || '-'}`,
    `api-server HTTP success ${share(httpSuccessShare({ httpResponses: s.apiHttp.responses, httpFailures: s.apiHttp.failures, httpDenied: s.apiHttp.denied }))} (${s.apiHttp.responses - s.apiHttp.failures}/${s.apiHttp.responses + s.apiHttp.denied}, from its proxy)`,
  ].join(', ');
}
