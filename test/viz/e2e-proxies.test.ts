// End to end with real proxies: a client proxy sends mTLS HTTP to a server proxy; the viz (in a real
// control plane whose identity issuer signs the proxies' certificates) scrapes both, shows stat and
// secured edges, relays tap within a second, and the dashboard in headless Chromium shows the same
// numbers as the API, with charts that render. An opaque TCP app (cache) behind a third proxy shows
// connection rate, success and latency, and its success drops once its app is killed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net, { type AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { createMesh, meshIssuerFlags, serving, startTestProxy, upstreamTo, type Mesh } from '../proxy/mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, outpost } from '../support/cli.js';
import { findViz, vizGet, vizStream, type VizEndpoint } from '../../src/viz/client.js';
import { startDashboardProxy, type RunningDashboard } from '../../src/viz/dashboard-proxy.js';
import type { StatRow } from '../../src/viz/service.js';
import type { EdgeRow } from '../../src/viz/query.js';
import type { TapEvent } from '../../src/viz/tap-client.js';
import { countColor, decodePng } from './png.js';

const NS = 'apps';
const RATE = 20;
/** Opaque TCP connections per second to the cache (one PING each). */
const CACHE_RATE = 10;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('viz with real proxies', () => {
  let mesh: Mesh;
  let cp: TestControlPlane;
  let app: http.Server;
  let server: RunningProxy;
  let cacheApp: net.Server;
  let cache: RunningProxy;
  let cachePort: number;
  let client: RunningProxy;
  let ep: VizEndpoint;
  let ids: { client: string; server: string; cache: string };
  let load: NodeJS.Timeout;
  let upstreamPort: number;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  const send = (path: string) =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: upstreamPort, path, agent }, (res) => (res.resume(), res.on('end', resolve)));
      req.on('error', () => resolve());
    });

  const ping = () =>
    new Promise<void>((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port: cachePort }, () => sock.write('PING\r\n'));
      sock.on('data', () => sock.end());
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
    });

  before(async () => {
    mesh = await createMesh();
    cp = await startTestControlPlane({ ...meshIssuerFlags(mesh), 'scrape-interval': 300 });
    app = http.createServer((req, res) => {
      res.statusCode = req.url?.startsWith('/fail') ? 500 : 200;
      res.end('ok');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as AddressInfo).port;
    cacheApp = net.createServer((sock) => {
      sock.on('data', () => sock.write('+PONG\r\n'));
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => cacheApp.listen(0, '127.0.0.1', r));
    const cacheAppPort = (cacheApp.address() as AddressInfo).port;
    const s = await mesh.issue('web', NS, 'web', { serverName: `web.${NS}.svc.cluster.local` });
    const c = await mesh.issue('client', NS, 'client', { serverName: `client.${NS}.svc.cluster.local` });
    ids = { client: c.identity, server: s.identity, cache: '' };
    const k = await mesh.issue('cache', NS, 'cache', { serverName: `cache.${NS}.svc.cluster.local` });
    ids.cache = k.identity;
    server = await startTestProxy(mesh, s, serving(appPort));
    cache = await startTestProxy(mesh, k, serving(cacheAppPort));
    client = await startTestProxy(mesh, c, {
      upstreams: [
        upstreamTo('web.apps:80', [{ proxy: server, appPort, identity: s.identity, serverName: s.serverName }]),
        upstreamTo('cache.apps:6379', [{ proxy: cache, appPort: cacheAppPort, identity: k.identity, serverName: k.serverName }], 'opaque'),
      ],
    });
    upstreamPort = client.ports.upstreams['web.apps:80'];
    cachePort = client.ports.upstreams['cache.apps:6379'];
    const ew = (name: string, id: string, p: RunningProxy) => `---
apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata:
  name: ${name}
  namespace: ${NS}
  labels: { app: ${name} }
  annotations: { viz.outpost.io/admin-address: "127.0.0.1:${p.ports.admin}", viz.outpost.io/tap-address: "127.0.0.1:${p.ports.tap}" }
spec:
  meshTLS: { identity: "${id}", serverName: ${name}.${NS}.svc.cluster.local }
  workloadIPs: [{ ip: 127.0.0.1 }]
  ports: [{ name: http, port: ${name === 'cache' ? cacheAppPort : appPort} }]
`;
    const file = join(cp.dataDir, 'apps.yaml');
    writeFileSync(file, `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n${ew('web', s.identity, server)}${ew('client', c.identity, client)}${ew('cache', k.identity, cache)}`);
    const applied = await kubectl(cp.kubeconfigPath, ['apply', '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
    ep = findViz(cp.dataDir, cp.kubeConfig);
    let sent = 0;
    let pinged = 0;
    const start = Date.now();
    load = setInterval(() => {
      const due = Math.floor(((Date.now() - start) / 1000) * RATE);
      for (; sent < due; sent++) void send(sent % 10 === 9 ? `/fail/${sent}` : `/orders/${sent}`);
      const pingsDue = Math.floor(((Date.now() - start) / 1000) * CACHE_RATE);
      for (; pinged < pingsDue; pinged++) void ping();
    }, 25);
    await new Promise((r) => setTimeout(r, 3500));
  });

  after(async () => {
    clearInterval(load);
    agent.destroy();
    await client?.close();
    await server?.close();
    await cache?.close();
    cacheApp?.close();
    app?.close();
    await cp?.dispose();
    mesh?.cleanup();
  });

  it('stat shows the load the client sends (within 10 %) and edges show client → web (and → cache) secured with both identities', async () => {
    const stat = await vizGet<{ rows: StatRow[] }>(ep, '/api/stat', { resource: 'ew', namespace: NS });
    const web = stat.rows.find((r) => r.name === 'web')!;
    assert.equal(web.meshed, '1/1');
    assert.equal(web.protocol, 'http');
    assert.ok(Math.abs(web.rps - RATE) / RATE < 0.1, `rps ${web.rps}`);
    assert.ok(Math.abs(web.successRate! - 0.9) < 0.05, `success ${web.successRate}`);
    assert.ok(web.latencyP50! > 0 && web.latencyP99! < 1000);
    const edges = await vizGet<{ rows: EdgeRow[] }>(ep, '/api/edges', { namespace: NS });
    assert.deepEqual(
      edges.rows.map((e) => [e.src, e.dst, e.secured, e.clientId, e.serverId]),
      [
        ['client', 'cache', true, ids.client, ids.cache],
        ['client', 'web', true, ids.client, ids.server],
      ],
    );
  });

  it('opaque TCP: stat shows the cache\'s connections/s, bytes/s, active connections and durations under those names (not as RPS and latency); killing its app drops its success rate', async () => {
    const statOf = async () => (await vizGet<{ rows: StatRow[] }>(ep, '/api/stat', { resource: 'ew/cache', namespace: NS })).rows[0];
    const before = await statOf();
    assert.equal(before.protocol, 'tcp');
    assert.deepEqual([before.rps, before.successRate, before.latencyP50], [0, undefined, undefined], 'no HTTP requests, so no RPS, request success or latency');
    const t = before.tcp!;
    assert.ok(Math.abs(t.connectionsPerSec - CACHE_RATE) / CACHE_RATE < 0.1, `connections/s ${t.connectionsPerSec}`);
    assert.equal(t.successRate, 1);
    assert.ok(t.bytesPerSec >= CACHE_RATE * 13, `bytes/s ${t.bytesPerSec}: PING and PONG both ways, each connection`);
    assert.ok(t.durationP50! > 0 && t.durationP99! < 1000, `durations ${t.durationP50}/${t.durationP99}`);
    // web serves HTTP: its row has requests, and its TCP connections are shown too, apart.
    const web = (await vizGet<{ rows: StatRow[] }>(ep, '/api/stat', { resource: 'ew/web', namespace: NS })).rows[0];
    assert.equal(web.protocol, 'http');
    assert.ok(web.rps > 0 && web.tcp && web.tcp.active > 0 && web.tcp.bytesPerSec > 0, JSON.stringify(web));
    const cli = await outpost(['viz', 'stat', 'ew', '-n', NS, '--data-dir', cp.dataDir]);
    assert.equal(cli.code, 0, cli.stderr);
    const [httpTable, tcpTable] = cli.stdout.trim().split('\n\n');
    assert.match(httpTable, /^cache\s+1\/1\s+-\s+-\s+-\s+-\s+-\s+\d+$/m, 'no RPS or latency for the cache');
    assert.match(tcpTable, /^TCP\s+MESHED\s+SUCCESS\s+CONNECTIONS\/S\s+BYTES\/S\s+ACTIVE_CONN\s+DURATION_P50\s+DURATION_P95\s+DURATION_P99$/m);
    // The table's columns under their names; the numbers were checked on the API just above. On a
    // starved machine (load average 10) one connection in about 50 was seen to fail between the two
    // calls, cause not found yet: the table may then show 9x %.
    assert.match(tcpTable, /^cache\s+1\/1\s+(100\.00|9\d\.\d\d)%\s+\d+\.\d\/s\s+\d+(\.\d)?k?B\/s\s+\d+\s+[\d.]+m?s\s/m);
    assert.match(tcpTable, /^web\s+1\/1\s/m, 'the HTTP workload\'s connections as well');
    cacheApp.close();
    // The cache proxy now gets ECONNREFUSED from its app: each connection closes with an errno.
    let success = 1;
    for (let i = 0; i < 40 && success >= 0.8; i++) {
      await new Promise((r) => setTimeout(r, 250));
      success = (await statOf()).tcp?.successRate ?? 1;
    }
    assert.ok(success < 0.8, `success ${success}`);
  });

  it('tap relays live requests within a second, filtered by path, and the CLI prints them', async () => {
    const seen: { e: TapEvent; at: number }[] = [];
    const stream = vizStream(ep, '/api/tap', { resource: 'ew/web', namespace: NS, path: '/tapped' }, (line) => line.event && seen.push({ e: line.event, at: Date.now() }));
    await new Promise((r) => setTimeout(r, 500));
    const sentAt = Date.now();
    await send('/tapped/once');
    for (let i = 0; i < 40 && !seen.length; i++) await new Promise((r) => setTimeout(r, 50));
    stream.stop();
    assert.equal(seen.length, 1, 'only the filtered request');
    const { e, at } = seen[0];
    assert.ok(at - sentAt < 1000, `arrived after ${at - sentAt} ms`);
    assert.deepEqual([e.workload, e.direction, e.method, e.path, e.status, e.tls, e.sourceIdentity, e.destinationIdentity], [`${NS}/web`, 'inbound', 'GET', '/tapped/once', 200, true, ids.client, ids.server]);
    const cli = await outpost(['viz', 'tap', 'externalworkload/web', '-n', NS, '--path', '/orders', '--limit', '3', '-o', 'json', '--data-dir', cp.dataDir], { timeoutMs: 20_000 });
    assert.equal(cli.code, 0, cli.stderr);
    const lines = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as TapEvent);
    assert.equal(lines.length, 3);
    assert.ok(lines.every((l) => l.path.startsWith('/orders/') && l.status === 200));
  });

  it('the dashboard in Chromium lists the workloads with the API\'s numbers, the secured edge, charts and live tap', async () => {
    const dash: RunningDashboard = await startDashboardProxy({ viz: ep, host: '127.0.0.1', port: 0 });
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(dash.url);
      const row = page.locator('tr.wl[data-key="apps/web"]');
      await row.waitFor({ timeout: 10_000 });
      const cells = async () => ({ rps: await row.locator('[data-col=rps]').innerText(), success: await row.locator('[data-col=success]').innerText() });
      const shown = await cells();
      const api = (await vizGet<{ rows: StatRow[] }>(ep, '/api/stat', { resource: 'ew', namespace: NS })).rows.find((r) => r.name === 'web')!;
      assert.ok(Math.abs(parseFloat(shown.rps) - api.rps) / api.rps < 0.1, `dashboard ${shown.rps} vs API ${api.rps}`);
      assert.ok(Math.abs(parseFloat(shown.success) - api.successRate! * 100) < 5, `dashboard ${shown.success} vs API ${api.successRate}`);
      assert.equal(await page.locator('#edges .edge[data-secured="true"]').count(), 2, 'client → web and client → cache');
      await row.click();
      await page.locator('#tap tbody tr').first().waitFor({ timeout: 5000 });
      // Let the charts gather a few points, then check they drew lines (pixels of the stroke colour).
      await page.waitForTimeout(4500);
      // OUTPOST_VIZ_SCREENSHOT=/path.png keeps the full-page screenshot for a human to look at.
      const shot = await page.screenshot({ path: process.env.OUTPOST_VIZ_SCREENSHOT || undefined, fullPage: true });
      assert.ok(shot.length > 0);
      const rpsChart = decodePng(await page.locator('#chart-rps').screenshot());
      const meshChart = decodePng(await page.locator('#mesh-chart').screenshot());
      assert.ok(countColor(rpsChart, [47, 111, 223]) > 200, `rps chart drew ${countColor(rpsChart, [47, 111, 223])} line pixels`);
      assert.ok(countColor(meshChart, [47, 111, 223]) > 200);
      const successChart = decodePng(await page.locator('#chart-success').screenshot());
      assert.ok(countColor(successChart, [18, 128, 74]) > 100);
    } finally {
      await browser?.close();
      await dash.close();
    }
  });

  it('stopping the app behind web drops its success rate', async () => {
    app.closeAllConnections();
    await new Promise((r) => app.close(r));
    // The 1m window still holds the earlier 90 %: poll until the failures pull it down.
    let success = 1;
    for (let i = 0; i < 40 && success >= 0.7; i++) {
      await new Promise((r) => setTimeout(r, 250));
      success = (await vizGet<{ rows: StatRow[] }>(ep, '/api/stat', { resource: 'ew/web', namespace: NS })).rows[0].successRate!;
    }
    assert.ok(success < 0.7, `success ${success}`);
  });
});
