// Pure parts of the demo: addresses per mode, metrics parsing into rates, the summary line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planAddresses } from '../../src/demo/network.js';
import { parseMetricsText } from '../../src/core/metrics/prom-text.js';
import { proxyCounters, rates } from '../../src/demo/metrics.js';
import { formatSummary, summarise } from '../../src/demo/report.js';

describe('demo addresses', () => {
  it('numbers the workloads in the subnet and keeps each mode in its range', () => {
    assert.deepEqual(planAddresses('netns', '198.18.0.0/24', ['a', 'b']), { gateway: '198.18.0.1', addresses: { a: '198.18.0.11', b: '198.18.0.12' } });
    assert.deepEqual(planAddresses('loopback', '127.0.10.0/24', ['a']), { gateway: '127.0.0.1', addresses: { a: '127.0.10.11' } });
    assert.throws(() => planAddresses('netns', '10.0.0.0/24', ['a']), /--subnet: network namespaces use the benchmarking range/);
    assert.throws(() => planAddresses('loopback', '198.18.0.0/24', ['a']), /--subnet: without network namespaces/);
    assert.throws(() => planAddresses('loopback', '127.0.0.0/24', ['a']), /holds 127\.0\.0\.1/);
    assert.throws(() => planAddresses('netns', '198.18.0.0/16', ['a']), /expected a \/24 network/);
  });
});

describe('demo metrics', () => {
  const scrape = (allow: number, deny: number, out: number) =>
    parseMetricsText(
      [
        '# TYPE inbound_tcp_authz_allow_total counter',
        `inbound_tcp_authz_allow_total{direction="inbound",target_addr="127.0.0.1:5432",tls="true",client_id="spiffe://cluster.local/ns/hybrid-app/sa/api-server",srv_kind="server",srv_name="postgres-server"} ${allow}`,
        `inbound_tcp_authz_deny_total{direction="inbound",tls="true",client_id="spiffe://x"} ${deny}`,
        `tcp_open_total{direction="outbound",peer="src",authority="postgres.hybrid-app.svc.cluster.local:5432"} ${out}`,
        `tcp_open_total{direction="outbound",peer="dst"} ${out}`,
      ].join('\n'),
    );
  it('turns two scrapes into per-second rates, counting each app connection once', () => {
    const a = proxyCounters(scrape(10, 1, 20));
    const b = proxyCounters(scrape(35, 3, 70));
    assert.deepEqual(b.clientIds, ['spiffe://cluster.local/ns/hybrid-app/sa/api-server']);
    assert.deepEqual(rates(a, b, 5), { inboundPerSec: 5, outboundPerSec: 10, deniedTotal: 3, mtlsShare: 1, httpPerSec: 0, httpSuccess: undefined });
  });
  it('summarises client-observed success and the policy outcome', () => {
    const api = proxyCounters(
      parseMetricsText(
        [
          'request_total{direction="inbound",tls="true"} 11',
          'response_total{direction="inbound",status_code="200",classification="success"} 9',
          'response_total{direction="inbound",status_code="502",classification="failure"} 1',
          'inbound_http_authz_deny_total{direction="inbound"} 1',
        ].join('\n'),
      ),
    );
    const s = summarise({ 'api-server': { app: 'api-server', calls: { postgres: { ok: 9, fail: 1 }, redis: { ok: 9, fail: 0 } } }, 'redis-cache': { app: 'redis', intruder: { attempts: 4, refused: 3, admitted: 0 } } }, { 'postgres-primary': proxyCounters(scrape(9, 3, 0)), 'api-server': api });
    assert.equal(
      formatSummary(s),
      'Summary: postgres success 90.0% (9/10), redis success 100.0% (9/9), policy refused redis-cache → postgres 3/3 (postgres proxy denied 3), postgres clients: spiffe://cluster.local/ns/hybrid-app/sa/api-server, api-server HTTP success 81.8% (9/11, from its proxy)',
    );
    assert.equal(rates(undefined, api, 1).httpSuccess, 9 / 11, 'a refused request counts as a failure');
  });
});

describe('demo port check', () => {
  it('names every busy port and what to do, before anything starts', async () => {
    const { createServer } = await import('node:net');
    const { checkPorts } = await import('../../src/demo/run.js');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      await assert.rejects(checkPorts([['API', '127.0.0.1', port]]), (e: Error & { hint?: string }) => {
        assert.equal(e.message, `ports in use on this machine: ${port} (API)`);
        assert.match(e.hint ?? '', /--free-ports/);
        return true;
      });
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
    await checkPorts([['API', '127.0.0.1', port]]);
  });
});
