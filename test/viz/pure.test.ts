// Table tests of the viz's pure parts: Prometheus text parsing, bounded history and rates,
// histogram quantiles, grouped stats, PromQL generation, resource names, workload discovery and tables.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText } from '../../src/viz/prom-text.js';
import { TargetHistory } from '../../src/viz/history.js';
import { MemoryBackend, matches, type ScrapedTarget } from '../../src/viz/backend.js';
import { groupStats, histogramQuantile } from '../../src/viz/query.js';
import { promqlFor } from '../../src/viz/promql.js';
import { parseResource, parseWindow } from '../../src/viz/resources.js';
import { parseScrapeTarget, workloadInfo } from '../../src/viz/discovery.js';
import { statTable, topRows } from '../../src/viz/format.js';
import { routes, type VizSources } from '../../src/viz/service.js';
import { ProxyMetrics } from '../../src/proxy/metrics/proxy-metrics.js';

describe('parsePrometheusText', () => {
  it('reads names, escaped labels, +Inf and skips comments and unkept families', () => {
    const text = [
      '# HELP request_total x',
      '# TYPE request_total counter',
      'request_total{direction="inbound",authority="a\\"b\\\\c"} 12',
      'response_latency_ms_bucket{le="+Inf"} 3',
      'process_resident_memory_bytes 999',
      'tcp_open_connections 2 1700000000000',
      'garbage line',
    ].join('\n');
    assert.deepEqual(parsePrometheusText(text), [
      { name: 'request_total', labels: { direction: 'inbound', authority: 'a"b\\c' }, value: 12 },
      { name: 'response_latency_ms_bucket', labels: { le: '+Inf' }, value: 3 },
      { name: 'tcp_open_connections', labels: {}, value: 2 },
    ]);
  });

  it('round-trips what the proxy renders', () => {
    const m = new ProxyMetrics();
    m.httpFor('direction="inbound",authority="web:80"').response(200, 7);
    const samples = parsePrometheusText(m.render());
    const ok = samples.find((s) => s.name === 'response_total' && s.labels.classification === 'success');
    assert.equal(ok?.value, 1);
    assert.equal(samples.filter((s) => s.name === 'response_latency_ms_bucket').length, 26);
  });
});

describe('TargetHistory', () => {
  const counter = (v: number) => [{ name: 'request_total', labels: { a: '1' }, value: v }];

  it('rates over 1m from the fine ring, 10m/1h from the coarse ring, across a counter reset', () => {
    const h = new TargetHistory(10_000);
    let t = 0;
    let v = 0;
    // 2 hours at 10 s, 1 request a second, with a proxy restart (counter back to 0) at 90 min.
    for (let i = 0; i <= 720; i++, t += 10_000) {
      if (i === 540) v = 0;
      h.record(t, counter(v));
      v += 10;
    }
    const st = h.byName.get('request_total')![0];
    for (const w of [60_000, 600_000, 3_600_000]) {
      const { delta, seconds } = h.increase(st, w);
      assert.ok(Math.abs(delta / seconds - 1) < 0.02, `window ${w}: ${delta}/${seconds}`);
      assert.ok(seconds <= w / 1000 && seconds >= w / 1000 - 60, `window ${w} spans ${seconds}s`);
    }
  });

  it('keeps bounded memory: fine ring of about a minute, coarse ring of about an hour', () => {
    const h = new TargetHistory(10_000);
    for (let i = 0; i < 2000; i++) h.record(i * 10_000, counter(i));
    const st = h.byName.get('request_total')![0];
    assert.ok(st.fine.length <= 64 && st.coarse.length <= 62);
  });

  it('a series first seen inside the window counts from zero', () => {
    const h = new TargetHistory(1000);
    h.record(0, []);
    h.record(1000, counter(5));
    const st = h.byName.get('request_total')![0];
    assert.deepEqual(h.increase(st, 60_000), { delta: 5, seconds: 1 });
  });
});

describe('histogramQuantile', () => {
  const cases: [number, { le: number; count: number }[], number | undefined][] = [
    [0.5, [{ le: 10, count: 50 }, { le: 20, count: 100 }, { le: Infinity, count: 100 }], 10],
    [0.75, [{ le: 10, count: 50 }, { le: 20, count: 100 }, { le: Infinity, count: 100 }], 15],
    [0.99, [{ le: 10, count: 50 }, { le: Infinity, count: 100 }], 10],
    [0.5, [{ le: 10, count: 0 }, { le: Infinity, count: 0 }], undefined],
    [0.5, [], undefined],
  ];
  for (const [q, buckets, want] of cases) it(`q=${q} of ${JSON.stringify(buckets.map((b) => [b.le, b.count]))} = ${want}`, () => assert.equal(histogramQuantile(q, buckets), want));
});

describe('groupStats over the memory backend', () => {
  it('success rate, RPS, latency per workload; TCP-only groups report connections', async () => {
    const mk = (workload: string, text: string, prev: string): ScrapedTarget => {
      const history = new TargetHistory(1000);
      history.record(0, parsePrometheusText(prev));
      history.record(10_000, parsePrometheusText(text));
      return { labels: { namespace: 'ns', workload, app: workload, workload_kind: 'externalworkload' }, history };
    };
    const web = new ProxyMetrics();
    const before = web.render();
    const h = web.httpFor('direction="inbound",tls="true"');
    for (let i = 0; i < 100; i++) h.response(i < 90 ? 200 : 503, i < 50 ? 4 : 40);
    const db = new ProxyMetrics();
    const dbBefore = db.render();
    db.tcpOpenTotal.cell('direction="inbound",peer="src"').value = 50;
    const backend = new MemoryBackend(() => [mk('web', web.render(), before), mk('db', db.render(), dbBefore)]);
    const stats = await groupStats(backend, { match: { direction: 'inbound' }, by: ['namespace', 'workload'], windowMs: 60_000 });
    const w = stats.get('ns\u0000web')!;
    assert.equal(w.protocol, 'http');
    assert.equal(w.rps, 10);
    assert.equal(w.successRate, 0.9);
    assert.ok(w.latencyP50! > 3 && w.latencyP50! <= 5, `p50 ${w.latencyP50}`);
    assert.ok(w.latencyP99! > 30 && w.latencyP99! <= 50, `p99 ${w.latencyP99}`);
    const d = stats.get('ns\u0000db')!;
    assert.deepEqual([d.protocol, d.rps, d.successRate, d.latencyP50], ['tcp', 0, undefined, undefined], 'no HTTP: no requests, no request success, no request latency');
    assert.deepEqual([d.tcp?.connectionsPerSec, d.tcp?.successRate], [5, undefined], 'connections per second, under that name');
    const judged = await groupStats(backend, { match: { direction: 'inbound' }, by: ['namespace', 'workload'], windowMs: 60_000, inboundTcpSuccess: true });
    assert.equal(judged.get('ns\u0000db')!.successRate, undefined, 'a proxy that does not count connections to its app is not judged');
  });

  it('without errno, inbound TCP success = connections that reached the app / connections the policy admitted', async () => {
    const db = new ProxyMetrics();
    const before = db.render();
    db.tcpOpenTotal.cell('direction="inbound",peer="src",tls="true"').value = 50;
    db.tcpOpenTotal.cell('direction="inbound",peer="dst",target_addr="127.0.0.1:5432"').value = 36;
    db.tcpAuthzDeny.cell('direction="inbound",srv_kind="server",srv_name="pg"').value = 5;
    const history = new TargetHistory(1000);
    history.record(0, parsePrometheusText(before));
    history.ingestText(10_000, db.render());
    const backend = new MemoryBackend(() => [{ labels: { namespace: 'ns', workload: 'db', app: 'db', workload_kind: 'externalworkload' }, history }]);
    const stats = await groupStats(backend, { match: { direction: 'inbound' }, tcpMatch: { direction: 'inbound', peer: 'src' }, by: ['workload'], windowMs: 60_000, inboundTcpSuccess: true });
    const d = stats.get('db')!;
    // RPS counts the connections the policy admitted (45 of 50 in 10 s), as the load on the workload.
    assert.deepEqual([d.protocol, d.tcp?.connectionsPerSec], ['tcp', 4.5]);
    assert.equal(d.tcp?.successRate, 0.8);
    assert.equal(d.successRate, undefined, 'no HTTP success rate for TCP');
  });

  it('a workload serving HTTP and opaque TCP gets both: requests with latency, and connections/s, bytes/s, active connections and connection durations', async () => {
    const m = new ProxyMetrics();
    const before = m.render();
    const h = m.httpFor('direction="inbound",tls="true"');
    for (let i = 0; i < 100; i++) h.response(200, 4);
    const tcp = 'direction="inbound",peer="src",tls="true"';
    m.tcpOpenTotal.cell(tcp).value = 30;
    m.tcpCloseTotal.cell(tcp).value = 27;
    m.tcpCloseTotal.cell(`${tcp},errno="ECONNREFUSED"`).value = 3;
    m.tcpOpenConnections.cell(tcp).value = 4;
    m.tcpReadBytes.cell(tcp).value = 60_000;
    m.tcpWriteBytes.cell(tcp).value = 40_000;
    for (let i = 0; i < 30; i++) m.tcpConnectionDuration.cell(tcp).observe(i < 15 ? 40 : 4000);
    const history = new TargetHistory(1000);
    history.record(0, parsePrometheusText(before));
    history.record(10_000, parsePrometheusText(m.render()));
    const backend = new MemoryBackend(() => [{ labels: { namespace: 'ns', workload: 'pg', app: 'pg', workload_kind: 'externalworkload' }, history }]);
    const g = (await groupStats(backend, { match: { direction: 'inbound' }, tcpMatch: { direction: 'inbound', peer: 'src' }, by: ['workload'], windowMs: 60_000 })).get('pg')!;
    assert.deepEqual([g.protocol, g.rps, g.successRate], ['http', 10, 1]);
    assert.ok(g.latencyP50! <= 5, 'request latency from response_latency_ms');
    const t = g.tcp!;
    assert.deepEqual([t.connectionsPerSec, t.bytesPerSec, t.active, t.successRate], [3, 10_000, 4, 0.9]);
    assert.ok(t.durationP50! > 30 && t.durationP50! <= 50 && t.durationP99! > 3000, `durations ${t.durationP50}/${t.durationP99}`);
    const out = statTable([{ namespace: 'ns', kind: 'externalworkload', name: 'pg', meshed: '1/1', ...g, tcpConnections: g.tcpConnections }], { allNamespaces: false, wide: false });
    const [httpPart, tcpPart] = out.split('\n\n');
    assert.match(httpPart, /^pg\s+1\/1\s+100\.00%\s+10\.0rps\s/m);
    assert.deepEqual(tcpPart.split('\n').map((l) => l.split(/\s+/)), [
      ['TCP', 'MESHED', 'SUCCESS', 'CONNECTIONS/S', 'BYTES/S', 'ACTIVE_CONN', 'DURATION_P50', 'DURATION_P95', 'DURATION_P99'],
      ['pg', '1/1', '90.00%', '3.0/s', '10.0kB/s', '4', `${Math.round(t.durationP50!)}ms`, `${(t.durationP95! / 1000).toFixed(1).replace(/\.0$/, '')}s`, `${(t.durationP99! / 1000).toFixed(1).replace(/\.0$/, '')}s`],
    ]);
  });

  it('routes on a Service with only opaque TCP says so instead of printing a success rate', async () => {
    const m = new ProxyMetrics();
    const before = m.render();
    const out = 'direction="outbound",peer="dst",tls="true",dst_namespace="ns",dst_service="postgres"';
    m.tcpOpenTotal.cell(out).value = 50;
    m.tcpCloseTotal.cell(out).value = 50;
    const history = new TargetHistory(1000);
    history.record(0, parsePrometheusText(before));
    history.record(10_000, parsePrometheusText(m.render()));
    const backend = new MemoryBackend(() => [{ labels: { namespace: 'ns', workload: 'api', app: 'api', workload_kind: 'externalworkload' }, history }]);
    const src: VizSources = { backend, workloads: () => [], proxyUp: () => true, serviceRoutes: () => [] };
    const r = await routes(src, { service: 'postgres', namespace: 'ns', windowMs: 60_000 });
    assert.deepEqual(r, { rows: [], notice: "no HTTP traffic: this Service's traffic is opaque TCP; see outpost viz stat svc/postgres -n ns" });
    const idle = await routes(src, { service: 'other', namespace: 'ns', windowMs: 60_000 });
    assert.deepEqual(idle.rows.map((x) => [x.route, x.successRate]), [['[DEFAULT]', undefined]], 'no traffic at all: the [DEFAULT] row with no success rate');
  });

  it('matchers: equal, not equal, and set', () => {
    assert.ok(matches({ a: 'x' }, { a: 'x' }));
    assert.ok(!matches({ a: 'x' }, { a: '!x' }));
    assert.ok(matches({ a: 'x' }, { a: '!' }));
    assert.ok(!matches({}, { a: '!' }));
  });
});

describe('promqlFor', () => {
  it('renders rate, increase and instant sums with escaped matchers', () => {
    assert.equal(
      promqlFor({ metric: 'response_total', match: { direction: 'inbound', namespace: 'a"b', dst_service: '!' }, by: ['namespace', 'workload', 'classification'], windowMs: 60_000, fn: 'rate' }),
      'sum by (namespace,workload,classification) (rate(response_total{direction="inbound",namespace="a\\"b",dst_service!=""}[60s]))',
    );
    assert.equal(promqlFor({ metric: 'tcp_open_connections', match: {}, by: ['namespace'], windowMs: 600_000, fn: 'last' }), 'sum by (namespace) (tcp_open_connections{})');
  });
});

describe('resources and discovery', () => {
  it('parses Linkerd kinds and short names, refuses others', () => {
    assert.deepEqual(parseResource('deploy/api-server'), { kind: 'deployment', name: 'api-server' });
    assert.deepEqual(parseResource('ew'), { kind: 'externalworkload' });
    assert.deepEqual(parseResource('externalworkload/payment-processor-vm-1'), { kind: 'externalworkload', name: 'payment-processor-vm-1' });
    assert.throws(() => parseResource('cronjob/x'), /KIND/);
    assert.equal(parseWindow('10m'), 600_000);
    assert.throws(() => parseWindow('5m'), /1m, 10m, 1h/);
  });

  it('reads status.proxy.adminAddress first, then the annotation; identity from meshTLS or meshTls', () => {
    const base = { metadata: { name: 'redis', namespace: 'hybrid-app', labels: { app: 'cache' }, annotations: { 'viz.outpost.io/admin-address': '10.0.0.1:4191' } }, spec: { meshTls: { identity: 'spiffe://td/redis' }, workloadIPs: [{ ip: '10.0.0.1' }] } };
    const w = workloadInfo(base);
    assert.deepEqual([w.key, w.labels.app, w.identity, w.adminAddress, w.tapAddress, w.health], ['hybrid-app/redis', 'cache', 'spiffe://td/redis', '10.0.0.1:4191', '10.0.0.1:4190', 'Unknown']);
    const withStatus = workloadInfo({ ...base, status: { proxy: { adminAddress: '10.0.0.1:5000' }, conditions: [{ type: 'Ready', status: 'True' }] } });
    assert.deepEqual([withStatus.adminAddress, withStatus.health], ['10.0.0.1:5000', 'Ready']);
    const bare = workloadInfo({ metadata: { name: 'api-server', namespace: 'hybrid-app' }, spec: {} });
    assert.equal(bare.identity, 'spiffe://cluster.local/ns/hybrid-app/externalworkload/api-server', 'the default identity, as the identity service issues it');
    const member = workloadInfo({ metadata: { name: 'redis-vm-1', namespace: 'cache', labels: { workloadGroup: 'redis' } }, spec: {} }, { metadata: { name: 'redis', namespace: 'cache' }, spec: { meshTLS: { identity: 'spiffe://td/redis' }, template: { metadata: { labels: { app: 'redis' } } } } });
    assert.deepEqual([member.identity, member.labels.app], ['spiffe://td/redis', 'redis']);
    assert.equal(parseScrapeTarget('ns/web=127.0.0.1:9000,tap=127.0.0.1:9001').tapAddress, '127.0.0.1:9001');
    assert.throws(() => parseScrapeTarget('web=127.0.0.1'), /scrape-target/);
  });
});

describe('tables', () => {
  it('stat uses Linkerd columns and formats', () => {
    const out = statTable([{ namespace: 'n', kind: 'externalworkload', name: 'postgres', meshed: '1/1', successRate: 0.9876, rps: 5, latencyP50: 1.25, latencyP95: 12.4, latencyP99: 99.6, tcpConnections: 2, protocol: 'http' }], { allNamespaces: false, wide: false });
    assert.deepEqual(out.split('\n').map((l) => l.split(/\s+/)), [
      ['NAME', 'MESHED', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99', 'TCP_CONN'],
      ['postgres', '1/1', '98.76%', '5.0rps', '1.3ms', '12ms', '100ms', '2'],
    ]);
  });

  it('top aggregates tap events by path, most requested first', () => {
    const ev = (path: string, status: number, latencyMs: number) => ({ workload: 'n/w', direction: 'inbound' as const, source: '1.2.3.4:5', destination: '127.0.0.1:80', sourceIdentity: 'spiffe://td/ns/n/sa/client', destinationIdentity: 'spiffe://td/ns/n/sa/web', method: 'GET', authority: 'web', path, status, latencyMs, timestampMs: 0, tls: true, destinationLabels: {} });
    const rows = topRows([ev('/a', 200, 1), ev('/b', 200, 2), ev('/b', 500, 9)]);
    assert.deepEqual(rows.map((r) => [r.path, r.count, r.best, r.worst, r.ok]), [['/b', 2, 2, 9, 1], ['/a', 1, 1, 1, 1]]);
    assert.equal(rows[0].source, 'ns/n/sa/client');
  });
});
