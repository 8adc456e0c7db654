// Acceptance against a real control plane (embedded API, identity, controllers, destination,
// policy): the guide's manifests applied with real kubectl, `outpost diagnostics` output, and
// gRPC streams over mTLS with certificates from the control plane's issuer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { kubectl, outpost, REPO_ROOT } from '../support/cli.js';
import { controlPlanePki } from '../support/pki.js';
import { currentAddresses, destinationClient, policyClient, Recorder } from './harness.js';

let cp: TestControlPlane;
const clients: grpc.Client[] = [];
const GUIDE = join(REPO_ROOT, 'test', 'fixtures', 'guide');

const sliceYaml = (ns: string, svc: string, portName: string, port: number, ip: string, ew: string, ready: boolean) => `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${svc}-test
  namespace: ${ns}
  labels:
    kubernetes.io/service-name: ${svc}
    endpointslice.kubernetes.io/managed-by: outpost-test
addressType: IPv4
ports:
- name: ${portName}
  port: ${port}
  protocol: TCP
endpoints:
- addresses: ["${ip}"]
  conditions: {ready: ${ready}}
  targetRef: {kind: ExternalWorkload, name: ${ew}, namespace: ${ns}}
`;

async function kc(args: string[], input?: string): Promise<string> {
  const r = await kubectl(cp.kubeconfigPath, args, { input, timeoutMs: 30_000 });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function clientCreds(uri: string): Promise<grpc.ChannelCredentials> {
  const leaf = await (await controlPlanePki(cp.dataDir)).leaf({ commonName: 'test-client', identity: uri, usages: ['client'] });
  return grpc.credentials.createSsl(Buffer.from(leaf.trustAnchorsPem), Buffer.from(leaf.keyPem), Buffer.from(leaf.chainPem));
}

before(async () => {
  cp = await startTestControlPlane();
  for (const f of ['00-namespaces.yaml', 'namespace.yaml', 'external-workload.yaml', 'payment-service.yaml', 'services.yaml', 'traffic-policy.yaml']) {
    await kc(['apply', '-f', join(GUIDE, f)]);
  }
  await kc(['apply', '-f', '-'], sliceYaml('payments', 'payment-processor', 'http', 8080, '10.0.50.100', 'payment-processor-vm-1', true));
  await kc(['apply', '-f', '-'], sliceYaml('hybrid-app', 'postgres', 'postgres', 5432, '10.0.100.50', 'postgres-primary', true));
});

after(async () => {
  for (const c of clients) c.close();
  await cp?.dispose();
});

test('diagnostics endpoints: the guide payment VM with its identity and server name', async () => {
  const r = await outpost(['diagnostics', 'endpoints', 'svc/payment-processor', '-n', 'payments', '--kubeconfig', cp.kubeconfigPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /10\.0\.50\.100\s+8080\s+4143\s+h2\s+spiffe:\/\/cluster\.local\/payment-processor\s+payment-processor-vm-1\.payments\.svc\.cluster\.local/);
});

test('diagnostics endpoints -o json: the hybrid-app postgres endpoint is opaque', async () => {
  const r = await outpost(['diagnostics', 'endpoints', 'svc/postgres', '-n', 'hybrid-app', '-o', 'json', '--kubeconfig', cp.kubeconfigPath]);
  assert.equal(r.code, 0, r.stderr);
  const [set] = JSON.parse(r.stdout);
  const ep = set.endpoints.find((e: any) => e.address === '10.0.100.50');
  assert.equal(ep.protocol_hint, 'PROTOCOL_OPAQUE');
});

test('diagnostics policy: postgres-server + postgres-auth admit only the api-server identity on 5432', async () => {
  const r = await outpost(['diagnostics', 'policy', 'externalworkload/postgres-primary', '-n', 'hybrid-app', '--port', '5432', '-o', 'json', '--kubeconfig', cp.kubeconfigPath]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.policy.protocol, 'OPAQUE');
  assert.deepEqual(out.policy.authorizations.map((a: any) => a.authentication), [{ mesh_tls: { identities: ['spiffe://cluster.local/ns/hybrid-app/sa/api-server'] } }]);
  const missing = await outpost(['diagnostics', 'policy', 'externalworkload/nope', '-n', 'hybrid-app', '--port', '5432', '--kubeconfig', cp.kubeconfigPath]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found/);
});

test('the running destination service streams a readiness flip; policy streams an edit', async () => {
  const dst = destinationClient(cp.info.listeners.destination, await clientCreds('spiffe://cluster.local/ns/hybrid-app/sa/api-server'));
  const pol = policyClient(cp.info.listeners.policy, await clientCreds('spiffe://cluster.local/ns/hybrid-app/externalworkload/postgres-primary'));
  clients.push(dst, pol);
  const rec = new Recorder(dst.Get({ path: 'postgres.hybrid-app.svc.cluster.local:5432' }));
  await rec.until((m) => currentAddresses(m).includes('10.0.100.50:5432'), 10_000, 'the postgres endpoint');
  const prec = new Recorder(pol.GetPort({ workload: 'hybrid-app/postgres-primary', port: 5432 }));
  const [p] = await prec.until((m) => m.length >= 1, 10_000, 'the policy');
  assert.equal(p.protocol, 'OPAQUE');

  await kc(['apply', '-f', '-'], sliceYaml('hybrid-app', 'postgres', 'postgres', 5432, '10.0.100.50', 'postgres-primary', false));
  await rec.until((m) => !currentAddresses(m).includes('10.0.100.50:5432'), 10_000, 'the endpoint removed');

  await kc(['patch', 'serverauthorization', 'postgres-auth', '-n', 'hybrid-app', '--type', 'merge', '-p', '{"spec":{"client":{"meshTLS":{"serviceAccounts":[{"name":"api-server"},{"name":"web"}]}}}}']);
  const msgs = await prec.until((m) => m.length >= 2, 10_000, 'the policy edit');
  assert.deepEqual(msgs.at(-1).authorizations[0].authentication.meshTls.identities, ['spiffe://cluster.local/ns/hybrid-app/sa/api-server', 'spiffe://cluster.local/ns/hybrid-app/sa/web']);
  rec.call.cancel();
  prec.call.cancel();

  const other = policyClient(cp.info.listeners.policy, await clientCreds('spiffe://cluster.local/ns/hybrid-app/sa/api-server'));
  clients.push(other);
  const denied = await new Recorder(other.GetPort({ workload: 'hybrid-app/postgres-primary', port: 5432 })).ended(10_000);
  assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
});
