// `outpost viz routes svc/NAME` with real proxies joined to a real control plane: the client proxy
// learns the Service's HTTPRoutes from the destination stream, labels its requests with route_name,
// and the viz shows each route's rate and success next to [DEFAULT]; a route added while traffic
// flows takes its requests within seconds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net, { type AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { createMesh, meshIssuerFlags, startTestProxy, type Mesh } from '../proxy/mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, outpost } from '../support/cli.js';
import type { RouteRow } from '../../src/viz/service.js';

const NS = 'shop';
const ORDERS_RATE = 20;
const OTHER_RATE = 10;
const AUTHORITY = `web.${NS}.svc.cluster.local`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('viz routes with real proxies and the destination service', () => {
  let mesh: Mesh;
  let cp: TestControlPlane;
  let app: net.Server;
  let web: RunningProxy;
  let client: RunningProxy;
  let load: NodeJS.Timeout | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  /** A request the way an app with HTTP_PROXY set sends it: absolute-form to the client proxy. */
  const send = (path: string) =>
    new Promise<number>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: client.ports.outbound, path: `http://${AUTHORITY}${path}`, headers: { host: AUTHORITY }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
    });

  const apply = async (name: string, yaml: string) => {
    const file = join(cp.dataDir, name);
    writeFileSync(file, yaml);
    const r = await kubectl(cp.kubeconfigPath, ['apply', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
  };

  const route = (name: string, prefix: string) => `apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${NS} }
spec:
  parentRefs: [{ name: web, kind: Service, group: core, port: 80 }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: ${prefix} } }] }]
`;

  const clientMetrics = () => fetch(`http://127.0.0.1:${client.ports.admin}/metrics`).then((r) => r.text());

  before(async () => {
    mesh = await createMesh();
    cp = await startTestControlPlane({ ...meshIssuerFlags(mesh), 'scrape-interval': 300 });
    const l = cp.info.listeners;
    // The app speaks HTTP/1.1 and h2c (prior knowledge) on one port, as a gRPC-and-REST server does.
    const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
      res.statusCode = req.url?.includes('/fail') ? 500 : 200;
      res.end('ok');
    };
    const h1 = http.createServer(handler);
    const h2 = http2.createServer(handler);
    app = net.createServer((sock) =>
      sock.once('data', (first) => {
        sock.pause();
        if (first.subarray(0, 3).toString('latin1') !== 'PRI') {
          sock.unshift(first);
          h1.emit('connection', sock);
          return void sock.resume();
        }
        // HTTP/2 sessions read a net.Socket's handle directly (past unshift): hand them a stream instead.
        const conn = new Duplex({
          read: () => void sock.resume(),
          write: (chunk, enc, cb) => void sock.write(chunk, enc, cb),
          final: (cb) => (sock.end(), cb()),
        });
        conn.push(first);
        sock.on('data', (c) => void (conn.push(c) || sock.pause()));
        sock.on('end', () => conn.push(null));
        sock.on('close', () => conn.destroy());
        sock.on('error', () => {});
        h2.emit('connection', conn);
      }),
    );
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as AddressInfo).port;
    const w = await mesh.issue('web', NS, 'web', { serverName: `web.${NS}.svc.cluster.local` });
    const c = await mesh.issue('client', NS, 'client', { serverName: `client.${NS}.svc.cluster.local` });
    web = await startTestProxy(mesh, w, { workload: { name: 'web', namespace: NS }, destination: { endpoint: l.destination }, policy: { endpoint: l.policy }, health: { endpoint: l.health } });
    client = await startTestProxy(mesh, c, { destination: { endpoint: l.destination } });
    const ew = (name: string, id: string, p: RunningProxy, probes: string) => `---
apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata:
  name: ${name}
  namespace: ${NS}
  labels: { app: ${name} }
  annotations:
    config.outpost.io/proxy-inbound-port: "${p.ports.inbound}"
    viz.outpost.io/admin-address: "127.0.0.1:${p.ports.admin}"
    viz.outpost.io/tap-address: "127.0.0.1:${p.ports.tap}"
spec:
  meshTLS: { identity: "${id}", serverName: ${name}.${NS}.svc.cluster.local }
  workloadIPs: [{ ip: 127.0.0.1 }]
  ports: [{ name: http, port: ${appPort} }]
${probes}`;
    const probes = `  probes: [{ path: /health, port: ${appPort}, period: 300ms, timeout: 1s, failureThreshold: 2, successThreshold: 1 }]\n`;
    await apply(
      'shop.yaml',
      `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n${ew('web', w.identity, web, probes)}${ew('client', c.identity, client, '')}---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NS} }
spec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: ${appPort} }] }
---
${route('orders', '/orders')}`,
    );
    // Wait until web is ready and discovered, and the client proxy holds the route.
    let labelled = false;
    let last = '';
    for (let i = 0; i < 80 && !labelled; i++) {
      const status = await send('/orders/warmup');
      last = `status ${status}; ${(await clientMetrics()).split('\n').filter((l) => l.startsWith('response_total')).join('\n')}`;
      labelled = status === 200 && last.includes('route_name="orders"');
      if (!labelled) await sleep(250);
    }
    assert.ok(labelled, `the client proxy labels /orders requests with route_name="orders"; last: ${last}`);
    let sent = 0;
    let other = 0;
    const start = Date.now();
    load = setInterval(() => {
      const s = (Date.now() - start) / 1000;
      for (; sent < Math.floor(s * ORDERS_RATE); sent++) void send(sent % 10 === 9 ? `/orders/fail/${sent}` : `/orders/${sent}`);
      for (; other < Math.floor(s * OTHER_RATE); other++) void send(`/catalog/${other}`);
    }, 25);
    await sleep(4000);
  });

  after(async () => {
    clearInterval(load);
    agent.destroy();
    await client?.close();
    await web?.close();
    app?.close();
    await cp?.dispose();
    mesh?.cleanup();
  });

  it('`outpost viz routes svc/web` shows the HTTPRoute\'s own rate and success, and the rest under [DEFAULT]', async () => {
    const json = await outpost(['viz', 'routes', 'svc/web', '-n', NS, '-o', 'json', '--data-dir', cp.dataDir]);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as RouteRow[];
    assert.deepEqual(rows.map((r) => [r.route, r.matches]), [['orders', ['* /orders*']], ['[DEFAULT]', []]]);
    const [orders, rest] = rows;
    assert.ok(Math.abs(orders.rps - ORDERS_RATE) / ORDERS_RATE < 0.15, `orders rps ${orders.rps}`);
    assert.ok(Math.abs(orders.successRate! - 0.9) < 0.06, `orders success ${orders.successRate}`);
    assert.ok(orders.latencyP50! > 0 && orders.latencyP99! < 1000, `orders latency ${orders.latencyP50}/${orders.latencyP99}`);
    assert.ok(Math.abs(rest.rps - OTHER_RATE) / OTHER_RATE < 0.15, `[DEFAULT] rps ${rest.rps}`);
    assert.equal(rest.successRate, 1);
    const table = await outpost(['viz', 'routes', 'svc/web', '-n', NS, '--data-dir', cp.dataDir]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0], /^ROUTE\s+SERVICE\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99$/);
    assert.match(lines[1], /^orders\s+web\s+(8\d|9\d)\.\d+%\s+\d+\.\d+/);
    assert.match(lines[2], /^\[DEFAULT\]\s+web\s+100\.00%/);
    const wide = await outpost(['viz', 'routes', 'svc/web', '-n', NS, '-o', 'wide', '--data-dir', cp.dataDir]);
    assert.match(wide.stdout.split('\n')[1], /^orders\s.*\s\* \/orders\*$/);
  });

  it('a route created while traffic flows takes its requests in the client proxy within seconds, HTTP/1 and HTTP/2 alike', async () => {
    await apply('catalog.yaml', `${route('catalog', '/catalog')}---\n${route('h2probe', '/h2probe')}`);
    let seen = false;
    for (let i = 0; i < 40 && !seen; i++) {
      await sleep(250);
      seen = /response_total\{[^}]*route_name="catalog"[^}]*\} [1-9]/.test(await clientMetrics());
    }
    assert.ok(seen, 'requests to /catalog are counted with route_name="catalog"');
    // An HTTP/2 app (h2c prior knowledge, as gRPC clients send) goes through the same route table.
    const h2 = http2.connect(`http://127.0.0.1:${client.ports.outbound}`);
    for (let i = 0; i < 3; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = h2.request({ ':method': 'GET', ':path': `/h2probe/${i}`, ':authority': AUTHORITY });
        req.on('response', (h) => req.on('end', () => resolve(Number(h[':status']))));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      assert.equal(status, 200);
    }
    h2.close();
    await sleep(100); // the proxy counts a response when its stream ends, just after the client read it
    const h2Counted = (await clientMetrics())
      .split('\n')
      .filter((l) => l.startsWith('response_total{') && l.includes('route_name="h2probe"'))
      .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    assert.equal(h2Counted, 3, 'the HTTP/2 requests are counted under route_name="h2probe"');
    let rows: RouteRow[] = [];
    for (let i = 0; i < 20 && !(rows.find((x) => x.route === 'catalog')?.rps ?? 0); i++) {
      await sleep(300);
      const v = await outpost(['viz', 'routes', 'svc/web', '-n', NS, '-o', 'json', '--data-dir', cp.dataDir]);
      assert.equal(v.code, 0, v.stderr);
      rows = JSON.parse(v.stdout) as RouteRow[];
    }
    assert.deepEqual(rows.map((x) => [x.route, x.matches]), [['orders', ['* /orders*']], ['catalog', ['* /catalog*']], ['h2probe', ['* /h2probe*']], ['[DEFAULT]', []]], 'oldest route first');
    assert.ok(rows[1].rps > 0, JSON.stringify(rows));
    const r = await kubectl(cp.kubeconfigPath, ['delete', 'httproute', 'catalog', '-n', NS]);
    assert.equal(r.code, 0, r.stderr);
    await sleep(500);
    const after = JSON.parse((await outpost(['viz', 'routes', 'svc/web', '-n', NS, '-o', 'json', '--data-dir', cp.dataDir])).stdout) as RouteRow[];
    assert.deepEqual(after.map((x) => [x.route, x.matches]), [['orders', ['* /orders*']], ['h2probe', ['* /h2probe*']], ['catalog', []], ['[DEFAULT]', []]], 'a deleted route keeps its numbers, without matches, within the window');
  });
});
