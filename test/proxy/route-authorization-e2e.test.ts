// HTTPRoute-scoped authorization through real proxies and the real policy service: a route with
// matches {Exact /admin/status GET, PathPrefix /public POST} and an AuthorizationPolicy on it lets
// the client make exactly those requests; the two crossings of its matches are refused with 403
// over HTTP/1.1 and HTTP/2 (issue 12 item 8), and never reach the app.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createMesh, meshIssuerFlags, startTestProxy, upstreamTo, type Mesh } from './mesh.js';
import type { RunningProxy } from '../../src/proxy/main.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl } from '../support/cli.js';

const NS = 'routes';
let mesh: Mesh;
let cp: TestControlPlane;
let app: http.Server;
let appPort = 0;
const hits: string[] = [];
let server: RunningProxy;
let clientH1: RunningProxy;
let clientH2: RunningProxy;
const AUTHORITY = `api.${NS}:80`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request as an app sends it to its client proxy's upstream listener (HTTP/1.1). */
function send(port: number, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { host: `api.${NS}` }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  mesh = await createMesh();
  cp = await startTestControlPlane(meshIssuerFlags(mesh));
  app = http.createServer((req, res) => (hits.push(`${req.method} ${req.url}`), res.end('ok')));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  const s = await mesh.issue('api', NS, 'api');
  const c = await mesh.issue('client', NS, 'client');
  const l = cp.info.listeners;
  server = await startTestProxy(mesh, s, { workload: { name: 'api', namespace: NS }, destination: { endpoint: l.destination }, policy: { endpoint: l.policy }, health: { endpoint: l.health } });
  const peer = [{ proxy: server, appPort, identity: s.identity, serverName: s.serverName }];
  const up = [upstreamTo(AUTHORITY, peer)];
  // One client proxy reaches the server's inbound over HTTP/1.1, the other over HTTP/2 (both inbound request paths).
  clientH1 = await startTestProxy(mesh, c, { upstreams: up });
  clientH2 = await startTestProxy(mesh, c, { outbound: { port: 0, http1Transport: 'h2' }, upstreams: up });
  const yaml = `apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata:
  name: api
  namespace: ${NS}
  labels: { app: api }
  annotations: { config.outpost.io/proxy-inbound-port: "${server.ports.inbound}" }
spec:
  meshTLS: { identity: "${s.identity}", serverName: ${s.serverName} }
  workloadIPs: [{ ip: 127.0.0.1 }]
  ports: [{ name: http, port: ${appPort} }]
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: api, namespace: ${NS} }
spec: { externalWorkloadSelector: { matchLabels: { app: api } }, port: ${appPort}, proxyProtocol: HTTP/1 }
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: { name: admin-and-public, namespace: ${NS} }
spec:
  parentRefs: [{ group: policy.linkerd.io, kind: Server, name: api }]
  rules:
    - matches:
        - { path: { type: Exact, value: /admin/status }, method: GET }
        - { path: { type: PathPrefix, value: /public }, method: POST }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: { name: client, namespace: ${NS} }
spec: { identities: ["${c.identity}"] }
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: client-on-route, namespace: ${NS} }
spec:
  targetRef: { group: policy.linkerd.io, kind: HTTPRoute, name: admin-and-public }
  requiredAuthenticationRefs: [{ group: policy.linkerd.io, kind: MeshTLSAuthentication, name: client }]
`;
  const file = join(cp.dataDir, 'routes.yaml');
  writeFileSync(file, yaml);
  const r = await kubectl(cp.kubeconfigPath, ['apply', '-f', file]);
  assert.equal(r.code, 0, r.stderr);
  // Wait until the server proxy holds the Server's policy: a path no route takes is refused.
  let status = 0;
  for (let i = 0; i < 80 && status !== 403; i++) {
    status = await send(clientH1.ports.upstreams[AUTHORITY], 'GET', '/elsewhere');
    if (status !== 403) await sleep(250);
  }
  const m = await fetch(`http://127.0.0.1:${server.ports.admin}/metrics`).then((r) => r.text());
  assert.equal(status, 403, `GET /elsewhere is refused once the policy is known; ${m.split('\n').filter((l) => l.includes('authz')).join('\n')}`);
});

after(async () => {
  await clientH1?.close();
  await clientH2?.close();
  await server?.close();
  app?.close();
  await cp?.dispose();
  mesh?.cleanup();
});

const CASES: [string, string, number][] = [
  ['GET', '/admin/status', 200],
  ['POST', '/public', 200],
  ['POST', '/public/items', 200],
  ['POST', '/admin/status/delete-everything', 403],
  ['GET', '/public/items', 403],
  ['DELETE', '/admin/status', 403],
];

for (const [name, proxy] of [
  ['HTTP/1.1', () => clientH1],
  ['HTTP/2', () => clientH2],
] as const) {
  test(`${name} to the inbound: the route's own matches pass, their crossings are 403 and never reach the app`, async () => {
    const port = proxy().ports.upstreams[AUTHORITY];
    const got: string[] = [];
    for (const [m, path] of CASES) got.push(`${m} ${path} -> ${await send(port, m, path)}`);
    assert.deepEqual(
      got,
      CASES.map(([m, path, want]) => `${m} ${path} -> ${want}`),
    );
    for (const [m, path, want] of CASES) if (want === 403) assert.ok(!hits.includes(`${m} ${path}`), `${m} ${path} reached the app`);
  });
}
