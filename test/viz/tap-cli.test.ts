// `outpost viz tap` as a user pipes it: `| head` ends it quietly (no EPIPE stack trace), and a tap on
// a workload whose every port is opaque says why nothing will come and where its TCP numbers are
// (issue 12 item 12), with real proxies joined to a real control plane.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createMesh, meshIssuerFlags, serving, startTestProxy, upstreamTo, type Mesh } from '../proxy/mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, spawnOutpost } from '../support/cli.js';

const NS = 'tapcli';
let mesh: Mesh;
let cp: TestControlPlane;
let app: http.Server;
let server: RunningProxy;
let client: RunningProxy;
let load: NodeJS.Timeout;
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });

before(async () => {
  mesh = await createMesh();
  cp = await startTestControlPlane({ ...meshIssuerFlags(mesh), 'scrape-interval': 300 });
  app = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  const s = await mesh.issue('web', NS, 'web');
  const c = await mesh.issue('client', NS, 'client');
  server = await startTestProxy(mesh, s, serving(appPort));
  client = await startTestProxy(mesh, c, { upstreams: [upstreamTo(`web.${NS}:80`, [{ proxy: server, appPort, identity: s.identity, serverName: s.serverName }])] });
  const port = client.ports.upstreams[`web.${NS}:80`];
  const ew = (name: string, id: string, extra: string, annotations: string) => `---
apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata:
  name: ${name}
  namespace: ${NS}
  annotations: { ${annotations} }
spec:
  meshTLS: { identity: "${id}", serverName: ${name}.${NS}.svc.cluster.local }
  workloadIPs: [{ ip: 127.0.0.1 }]
  ports: [${extra}]
`;
  const file = join(cp.dataDir, 'tap.yaml');
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n` +
      ew('web', s.identity, `{ name: http, port: ${appPort} }`, `viz.outpost.io/admin-address: "127.0.0.1:${server.ports.admin}", viz.outpost.io/tap-address: "127.0.0.1:${server.ports.tap}"`) +
      ew('cache', 'spiffe://cluster.local/ns/tapcli/sa/cache', '{ name: redis, port: 6379 }, { name: sentinel, port: 26379 }', 'config.linkerd.io/opaque-ports: "6379,26379"'),
  );
  const applied = await kubectl(cp.kubeconfigPath, ['apply', '-f', file]);
  assert.equal(applied.code, 0, applied.stderr);
  load = setInterval(() => {
    http.get({ host: '127.0.0.1', port, path: '/orders', agent }, (res) => res.resume()).on('error', () => {});
  }, 20);
});

after(async () => {
  clearInterval(load);
  agent.destroy();
  await client?.close();
  await server?.close();
  app?.close();
  await cp?.dispose();
  mesh?.cleanup();
});

test('`viz tap … | head -1`: the tap ends quietly once its reader goes away', async () => {
  const proc = spawnOutpost(['viz', 'tap', `ew/web`, '-n', NS, '--data-dir', cp.dataDir]);
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  // Like `head -1`: read the first line, then close the pipe.
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no tap line; stderr: ${stderr}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        proc.stdout!.destroy();
        resolve(out.split('\n')[0]);
      }
    });
  });
  assert.match(first, /:path=\/orders|\/orders/);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, `exit code; stderr: ${stderr}`);
  assert.doesNotMatch(stderr, /EPIPE|Error|at /);
});

test('tap on a workload whose ports are all opaque says that tap shows HTTP, and where its TCP numbers are', async () => {
  const proc = spawnOutpost(['viz', 'tap', 'ew/cache', '-n', NS, '--data-dir', cp.dataDir]);
  let stderr = '';
  const said = new Promise<void>((resolve) =>
    proc.stderr!.on('data', (d) => {
      stderr += d;
      if (stderr.includes('\n')) resolve();
    }),
  );
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await said;
  proc.kill('SIGINT');
  clearTimeout(timer);
  assert.match(stderr, /tap tapcli\/cache: every port of this workload is opaque, and tap shows HTTP requests only: see `outpost viz stat ew\/cache -n tapcli` for its TCP connections/);
});
