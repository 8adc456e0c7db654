// The PromQL adapter against a real Prometheus (Debian's `prometheus`; skipped when it is not
// installed): Prometheus discovers proxies from the viz's /api/prometheus-sd (admin token, mesh CA),
// scrapes them, and `viz stat`/`edges`/`routes` run as PromQL with the same answers as the built-in pipeline.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, outpost } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import { findViz, vizGet, type VizEndpoint } from '../../src/viz/client.js';
import type { StatRow } from '../../src/viz/service.js';
import type { EdgeRow } from '../../src/viz/query.js';
import { inboundLabels, outboundLabels, startFakeProxy, type FakeProxy } from './fake-proxy.js';

const PROMETHEUS = '/usr/bin/prometheus';
const NS = 'prom';
const CLIENT_ID = 'spiffe://cluster.local/ns/prom/sa/client';
const SERVER_ID = 'spiffe://cluster.local/ns/prom/sa/server';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('viz with --prometheus-url (real Prometheus)', { skip: !existsSync(PROMETHEUS) && 'prometheus is not installed (apt-get install prometheus)' }, () => {
  let cp: TestControlPlane;
  let prom: ChildProcess;
  let client: FakeProxy;
  let server: FakeProxy;
  let ep: VizEndpoint;
  let load: NodeJS.Timeout;

  before(async () => {
    client = await startFakeProxy();
    server = await startFakeProxy();
    const promPort = await freePort();
    cp = await startTestControlPlane({ 'prometheus-url': `http://127.0.0.1:${promPort}` });
    const ew = (name: string, id: string, p: FakeProxy) =>
      `---\napiVersion: workload.linkerd.io/v1beta1\nkind: ExternalWorkload\nmetadata: { name: ${name}, namespace: ${NS}, annotations: { viz.outpost.io/admin-address: "${p.address}" } }\nspec: { meshTLS: { identity: "${id}", serverName: ${name}.${NS} }, workloadIPs: [{ ip: 127.0.0.1 }] }\n`;
    const file = join(cp.dataDir, 'prom.yaml');
    const route = `---\napiVersion: policy.linkerd.io/v1beta3\nkind: HTTPRoute\nmetadata: { name: orders, namespace: ${NS} }\nspec: { parentRefs: [{ group: core, kind: Service, name: server }], rules: [{ matches: [{ path: { value: /orders } }] }] }\n`;
    writeFileSync(file, `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n${ew('client', CLIENT_ID, client)}${ew('server', SERVER_ID, server)}${route}`);
    assert.equal((await kubectl(cp.kubeconfigPath, ['apply', '-f', file])).code, 0);
    ep = findViz(cp.dataDir, cp.kubeConfig);
    // The scrape configuration docs/viz.md gives, with test intervals.
    const dir = join(cp.dataDir, 'prometheus');
    mkdirSync(dir);
    writeFileSync(join(dir, 'token'), ep.token!, { mode: 0o600 });
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: outpost-proxies
    http_sd_configs:
      - url: ${ep.url}/api/prometheus-sd
        refresh_interval: 1s
        authorization: { type: Bearer, credentials_file: ${join(dir, 'token')} }
        tls_config: { ca_file: ${cp.info.trustAnchorsFile} }
`,
    );
    prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: ['ignore', 'ignore', openSync(join(dir, 'prometheus.log'), 'w')] });
    const inbound = server.metrics.httpFor(inboundLabels(CLIENT_ID, 8080, 'server.prom:8080'));
    const outboundBase = outboundLabels({ authority: 'server.prom:8080', target: '127.0.0.1:8080', serverId: SERVER_ID, ns: NS, service: 'server', workload: 'server' });
    const outbound = client.metrics.httpFor(outboundBase);
    // Half the client's requests are taken by the HTTPRoute "orders" (all succeed); the rest are [DEFAULT] (half fail).
    const outboundOrders = client.metrics.httpFor(`${outboundBase},route_name="orders"`);
    // The server also takes opaque TCP: 10 connections a second, 1000 bytes each way, 2 open.
    const tcpLabels = 'direction="inbound",peer="src",tls="true",client_id="' + CLIENT_ID + '"';
    server.metrics.tcpOpenConnections.cell(tcpLabels).value = 2;
    let sent = 0;
    const start = Date.now();
    load = setInterval(() => {
      const due = Math.floor(((Date.now() - start) / 1000) * 50);
      for (; sent < due; sent++) {
        const status = sent % 4 === 3 ? 500 : 200;
        inbound.request.value++;
        inbound.response(status, 20 + (sent % 20));
        const out = sent % 2 === 0 ? outboundOrders : outbound;
        out.request.value++;
        out.response(sent % 2 === 0 ? 200 : status, 21);
        if (sent % 5 === 0) {
          server.metrics.tcpOpenTotal.cell(tcpLabels).value++;
          server.metrics.tcpCloseTotal.cell(tcpLabels).value++;
          server.metrics.tcpReadBytes.cell(tcpLabels).value += 1000;
          server.metrics.tcpWriteBytes.cell(tcpLabels).value += 1000;
          server.metrics.tcpConnectionDuration.cell(tcpLabels).observe(150);
        }
      }
    }, 20);
  });

  after(async () => {
    clearInterval(load);
    prom?.kill('SIGTERM');
    await new Promise((r) => (prom && prom.exitCode === null ? prom.once('exit', r) : r(undefined)));
    await cp?.dispose();
    await client?.close();
    await server?.close();
  });

  it('stat, edges, routes and check answer from Prometheus, with the success rate and latency of the load', async () => {
    const row = await waitFor(
      'Prometheus to hold a rate for the server',
      async () => {
        const body = await vizGet<{ rows: StatRow[]; backend: string }>(ep, '/api/stat', { resource: 'ew', namespace: NS });
        assert.equal(body.backend, 'prometheus');
        const r = body.rows.find((x) => x.name === 'server');
        return r && r.successRate !== undefined && r.rps > 0 ? r : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 250 },
    ).catch((e) => {
      const log = readFileSync(join(cp.dataDir, 'prometheus', 'prometheus.log'), 'utf8').split('\n').filter((l) => /level=(warn|error)/.test(l));
      throw new Error(`${e.message}; prometheus said: ${log.slice(-5).join(' | ')}`);
    });
    // Prometheus' rate() divides by the whole window, so RPS climbs to the load over the first minute;
    // ratios (success) and quantiles do not depend on it.
    assert.ok(Math.abs(row.successRate! - 0.75) < 0.075, `success ${row.successRate}`);
    assert.ok(row.latencyP50! >= 20 && row.latencyP50! <= 40, `p50 ${row.latencyP50}`);
    assert.ok(row.rps > 0 && row.rps <= 55, `rps ${row.rps}`);
    assert.equal(row.meshed, '1/1');
    // The same workload's TCP numbers, from Prometheus too, under their own names.
    const tcp = await waitFor(
      'Prometheus to hold the server\'s TCP connections',
      async () => {
        const body = await vizGet<{ rows: StatRow[] }>(ep, '/api/stat', { resource: 'ew/server', namespace: NS });
        const t = body.rows[0]?.tcp;
        return t && t.connectionsPerSec > 0 && t.durationP50 !== undefined ? t : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    assert.equal(tcp.active, 2);
    assert.equal(tcp.successRate, undefined, 'no errno and no connections to the app counted: not judged');
    assert.ok(tcp.connectionsPerSec <= 11 && Math.abs(tcp.bytesPerSec / tcp.connectionsPerSec - 2000) < 200, `cps ${tcp.connectionsPerSec} bytes/s ${tcp.bytesPerSec}`);
    assert.ok(tcp.durationP50! >= 100 && tcp.durationP50! <= 200, `duration p50 ${tcp.durationP50}`);
    // The client's outbound series may reach Prometheus a scrape after the server's inbound ones.
    const edges = await waitFor(
      'Prometheus to hold the edge',
      async () => {
        const body = await vizGet<{ rows: EdgeRow[] }>(ep, '/api/edges', { namespace: NS });
        return body.rows.length ? body : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    assert.deepEqual(edges.rows.map((e) => [e.src, e.dst, e.secured, e.clientId, e.serverId]), [['client', 'server', true, CLIENT_ID, SERVER_ID]]);
    const routes = await waitFor(
      'Prometheus to hold the route',
      async () => {
        const body = await vizGet<{ rows: { route: string; rps: number; successRate?: number }[] }>(ep, '/api/routes', { resource: 'svc/server', namespace: NS });
        return body.rows.every((r) => r.rps > 0) ? body.rows : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    assert.deepEqual(routes.map((r) => r.route), ['orders', '[DEFAULT]']);
    assert.equal(routes[0].successRate, 1);
    assert.ok(Math.abs(routes[1].successRate! - 0.5) < 0.1, `[DEFAULT] success ${routes[1].successRate}`);
    const check = await vizGet<{ backend: string; targets: { workload: string; adminAddress: string; up: boolean }[] }>(ep, '/api/check');
    assert.equal(check.backend, 'prometheus');
    assert.deepEqual(check.targets.map((t) => [t.workload, t.adminAddress, t.up]), [[`${NS}/client`, client.address, true], [`${NS}/server`, server.address, true]], 'counted from Prometheus\' own up series');
    const r = await outpost(['viz', 'check', '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /√ 2\/2 proxies scraped by Prometheus/);
  });

  it('`viz check` names a proxy Prometheus cannot scrape, with Prometheus\' reason', async () => {
    await client.close();
    const r = await waitFor(
      'Prometheus to see the client down',
      async () => {
        const res = await outpost(['viz', 'check', '--data-dir', cp.dataDir]);
        return res.code !== 0 ? res : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    assert.match(r.stdout, /× 1\/2 proxies scraped by Prometheus/);
    assert.match(r.stdout, new RegExp(`${NS}/client at ${client.address.replace(/\./g, '\\.')}: Prometheus: .*(refused|connect)`));
  });
});
