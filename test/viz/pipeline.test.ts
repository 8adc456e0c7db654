// The viz pipeline end to end with a real control plane: ExternalWorkloads (discovered through the
// API) point at servers rendering the proxy's own metrics; stat, edges and routes from the CLI and
// the API match the generated load within 10 %, and only admins may read them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, outpost } from '../support/cli.js';
import { findViz, vizGet } from '../../src/viz/client.js';
import type { StatRow } from '../../src/viz/service.js';
import type { EdgeRow } from '../../src/viz/query.js';
import { inboundLabels, outboundLabels, startFakeProxy, type FakeProxy } from './fake-proxy.js';

const NS = 'hybrid-app';
const API_ID = 'spiffe://cluster.local/ns/hybrid-app/sa/api-server';
const PG_ID = 'spiffe://cluster.local/ns/hybrid-app/sa/postgres';
const RATE = 40; // requests a second api-server sends to postgres
const FAILURE_EVERY = 10; // every 10th fails: 90 % success

function manifests(api: FakeProxy, pg: FakeProxy): string {
  const ew = (name: string, app: string, id: string, admin: string) => `---
apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata:
  name: ${name}
  namespace: ${NS}
  labels: { app: ${app} }
  annotations: { viz.outpost.io/admin-address: "${admin}" }
spec:
  meshTLS: { identity: "${id}", serverName: ${name}.${NS}.svc.cluster.local }
  workloadIPs: [{ ip: 127.0.0.1 }]
  ports: [{ name: http, port: 5432 }]
`;
  return `apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
${ew('api-server-vm', 'api-server', API_ID, api.address)}${ew('postgres', 'postgres', PG_ID, pg.address)}---
apiVersion: v1
kind: Service
metadata: { name: postgres, namespace: ${NS} }
spec: { ports: [{ port: 5432 }] }
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: { name: orders, namespace: ${NS} }
spec:
  parentRefs: [{ name: postgres, kind: Service, group: core, port: 5432 }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /orders } }] }]
`;
}

describe('viz pipeline (built-in scraper)', () => {
  let cp: TestControlPlane;
  let api: FakeProxy;
  let pg: FakeProxy;
  let load: NodeJS.Timeout;
  let sent = 0;

  before(async () => {
    api = await startFakeProxy();
    pg = await startFakeProxy();
    cp = await startTestControlPlane({ 'scrape-interval': 250 });
    const file = join(cp.dataDir, 'viz.yaml');
    writeFileSync(file, manifests(api, pg));
    const applied = await kubectl(cp.kubeconfigPath, ['apply', '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
    // Steady load by the wall clock: whatever the timer jitter, `RATE` requests a second are recorded.
    const inbound = pg.metrics.httpFor(inboundLabels(API_ID, 5432, 'postgres.hybrid-app.svc.cluster.local:5432'));
    const outbound = api.metrics.httpFor(outboundLabels({ authority: 'postgres.hybrid-app.svc.cluster.local:5432', target: '127.0.0.1:5432', serverId: PG_ID, ns: NS, service: 'postgres', workload: 'postgres' }));
    pg.metrics.tcpOpenConnections.cell(inboundLabels(API_ID, 5432, '').replace(/,authority=""/, '') + ',peer="src"').value = 3;
    const start = Date.now();
    load = setInterval(() => {
      const due = Math.floor(((Date.now() - start) / 1000) * RATE);
      for (; sent < due; sent++) {
        const fail = sent % FAILURE_EVERY === FAILURE_EVERY - 1;
        const latency = 5 + (sent % 10); // 5..14 ms
        inbound.request.value++;
        inbound.response(fail ? 500 : 200, latency);
        outbound.request.value++;
        outbound.response(fail ? 500 : 200, latency + 1);
      }
    }, 20);
    await new Promise((r) => setTimeout(r, 3000));
  });

  after(async () => {
    clearInterval(load);
    await cp?.dispose();
    await api?.close();
    await pg?.close();
  });

  it('`viz stat ew` shows success rate, RPS, latency and TCP connections that match the load', async () => {
    const r = await outpost(['viz', 'stat', 'ew', '-n', NS, '-o', 'json', '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as StatRow[];
    const postgres = rows.find((x) => x.name === 'postgres')!;
    assert.ok(postgres, r.stdout);
    assert.equal(postgres.meshed, '1/1');
    assert.ok(Math.abs(postgres.rps - RATE) / RATE < 0.1, `rps ${postgres.rps} vs ${RATE}`);
    assert.ok(Math.abs(postgres.successRate! - 0.9) < 0.03, `success ${postgres.successRate}`);
    assert.ok(postgres.latencyP50! >= 5 && postgres.latencyP50! <= 15, `p50 ${postgres.latencyP50}`);
    assert.ok(postgres.latencyP99! >= postgres.latencyP95! && postgres.latencyP95! >= postgres.latencyP50!);
    assert.equal(postgres.tcpConnections, 3);
    const apiRow = rows.find((x) => x.name === 'api-server-vm')!;
    assert.equal(apiRow.protocol, 'none', 'api-server receives no traffic');
  });

  it('the guide\'s `viz stat deploy/api-server` maps to the workload labelled app=api-server, as a table', async () => {
    const r = await outpost(['viz', 'stat', 'deploy/api-server', '-n', NS, '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = r.stdout.trim().split('\n');
    assert.match(header, /^NAME\s+MESHED\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99\s+TCP_CONN$/);
    assert.match(row, /^api-server\s+1\/1\s/);
  });

  it('`--from deploy/api-server` and `svc` read the client side; routes list the HTTPRoute and [DEFAULT]', async () => {
    const ep = findViz(cp.dataDir, cp.kubeConfig);
    const from = await vizGet<{ rows: StatRow[] }>(ep, '/api/stat', { resource: 'ew', namespace: NS, from: 'deploy/api-server' });
    const pgFrom = from.rows.find((x) => x.name === 'postgres')!;
    assert.ok(Math.abs(pgFrom.rps - RATE) / RATE < 0.1, `from rps ${pgFrom.rps}`);
    const svc = await vizGet<{ rows: StatRow[] }>(ep, '/api/stat', { resource: 'svc/postgres', namespace: NS });
    assert.ok(Math.abs(svc.rows[0].rps - RATE) / RATE < 0.1);
    const routes = await vizGet<{ rows: { route: string; rps: number }[] }>(ep, '/api/routes', { resource: 'svc/postgres', namespace: NS });
    assert.deepEqual(routes.rows.map((x) => x.route), ['orders', '[DEFAULT]']);
    assert.ok(Math.abs(routes.rows[1].rps - RATE) / RATE < 0.1);
  });

  it('`viz edges` shows api-server → postgres secured, with both identities in -o wide', async () => {
    const r = await outpost(['viz', 'edges', 'ew', '-n', NS, '-o', 'wide', '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SRC\s+DST\s+SRC_NS\s+DST_NS\s+SECURED\s+CLIENT_ID\s+SERVER_ID/);
    const line = r.stdout.split('\n').find((l) => l.startsWith('api-server-vm'))!;
    assert.ok(line, r.stdout);
    assert.deepEqual(line.split(/\s+/), ['api-server-vm', 'postgres', NS, NS, '√', API_ID, PG_ID]);
    const ep = findViz(cp.dataDir, cp.kubeConfig);
    const json = await vizGet<{ rows: EdgeRow[] }>(ep, '/api/edges', { namespace: NS });
    assert.equal(json.rows.length, 1);
  });

  it('`viz check` reports the backend and every proxy scraped', async () => {
    const r = await outpost(['viz', 'check', '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /√ 2\/2 proxies scraped/);
  });

  it('refuses callers without the admin token, and ServiceAccount tokens', async () => {
    const ep = findViz(cp.dataDir, cp.kubeConfig);
    await assert.rejects(vizGet({ ...ep, token: undefined }, '/api/stat', { resource: 'ew', namespace: NS }), /admin bearer token/);
    await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', 'intruder', '-n', NS]);
    const t = await kubectl(cp.kubeconfigPath, ['create', 'token', 'intruder', '-n', NS]);
    assert.equal(t.code, 0, t.stderr);
    await assert.rejects(vizGet({ ...ep, token: t.stdout.trim() }, '/api/stat', { resource: 'ew', namespace: NS }), /admin bearer token/);
  });
});
