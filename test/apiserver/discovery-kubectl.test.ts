// Real kubectl reads the generated discovery and OpenAPI documents: api-resources lists every
// kind with its short names, and explain renders the schemas (served by a bare HTTP stub here;
// the full server's kubectl tests live with the HTTP layer).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { AGGREGATED_DISCOVERY_CONTENT_TYPE, aggregatedDiscovery, apiGroupList, apiResourceList, apiVersions, negotiateDiscovery } from '../../src/apiserver/discovery.js';
import { openApiDocument, openApiIndex, parseOpenApiPath } from '../../src/apiserver/openapi.js';
import { kubectl } from '../support/cli.js';

let server: Server;
let dir: string;
let kubeconfig: string;

function reply(res: import('node:http').ServerResponse, body: unknown, contentType = 'application/json', code = 200): void {
  res.writeHead(code, { 'Content-Type': contentType });
  res.end(JSON.stringify(body));
}

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    if (p === '/version') return reply(res, { major: '1', minor: '32', gitVersion: 'v1.32.4', platform: 'linux/amd64' });
    if (p === '/api' || p === '/apis') {
      if (negotiateDiscovery(req.headers.accept)) return reply(res, aggregatedDiscovery(p), AGGREGATED_DISCOVERY_CONTENT_TYPE);
      return reply(res, p === '/api' ? apiVersions('127.0.0.1') : apiGroupList());
    }
    if (p === '/openapi/v3') return reply(res, openApiIndex());
    const gv = parseOpenApiPath(p);
    const doc = gv && openApiDocument(gv.group, gv.version);
    if (doc) return reply(res, doc);
    const legacy = /^\/api\/(v1)$/.exec(p) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(p);
    if (legacy) {
      const [group, version] = legacy[1].includes('/') ? legacy[1].split('/') : ['', legacy[1]];
      const list = apiResourceList(group, version);
      if (list) return reply(res, list);
    }
    reply(res, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' }, 'application/json', 404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'outpost-discovery-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: stub\n  cluster:\n    server: http://127.0.0.1:${port}\ncontexts:\n- name: stub\n  context:\n    cluster: stub\n    user: stub\ncurrent-context: stub\nusers:\n- name: stub\n  user: {}\n`,
  );
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

test('kubectl api-resources lists every kind, short name and group version', async () => {
  const r = await kubectl(kubeconfig, ['api-resources', '--no-headers']);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const find = (name: string) => rows.find((row) => row[0] === name);
  assert.deepEqual(find('externalworkloads'), ['externalworkloads', 'ew', 'workload.linkerd.io/v1beta1', 'true', 'ExternalWorkload']);
  assert.deepEqual(find('servers'), ['servers', 'srv', 'policy.linkerd.io/v1beta3', 'true', 'Server']);
  assert.deepEqual(find('serverauthorizations'), ['serverauthorizations', 'saz', 'policy.linkerd.io/v1beta1', 'true', 'ServerAuthorization']);
  assert.deepEqual(find('services'), ['services', 'svc', 'v1', 'true', 'Service']);
  assert.deepEqual(find('namespaces'), ['namespaces', 'ns', 'v1', 'false', 'Namespace']);
  assert.deepEqual(find('endpointslices'), ['endpointslices', 'discovery.k8s.io/v1', 'true', 'EndpointSlice']);
  assert.deepEqual(find('tokenreviews'), ['tokenreviews', 'authentication.k8s.io/v1', 'false', 'TokenReview']);
});

test('kubectl explain renders the ExternalWorkload and Service schemas', async () => {
  const ew = await kubectl(kubeconfig, ['explain', 'ew.spec.meshTLS']);
  assert.equal(ew.code, 0, ew.stderr);
  assert.match(ew.stdout, /GROUP:\s+workload\.linkerd\.io/);
  assert.match(ew.stdout, /identity\s+<string>/);
  assert.match(ew.stdout, /SPIFFE identity/);
  const ports = await kubectl(kubeconfig, ['explain', 'services.spec.ports']);
  assert.equal(ports.code, 0, ports.stderr);
  assert.match(ports.stdout, /targetPort/);
  assert.match(ports.stdout, /port\s+<integer> -required-/);
});
