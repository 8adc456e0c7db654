// `outpost up --identity-naming=linkerd` under an imported Linkerd-style issuer, against the real
// kube-apiserver: a pod certified with its projected token gets the DNS SAN a Linkerd control plane
// would give its ServiceAccount (URI SAN still first, read back by openssl), the destination service
// announces that serverName for the pod's endpoint, and a TLS client that verifies the peer by that
// name (openssl s_client -verify_hostname, as a Linkerd proxy verifies a DNS-like identity) accepts
// the pod's certificate, and refuses it under Outpost's own name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startRealKubernetes, type RealKubernetes } from '../support/real-kubernetes.js';
import { run } from '../support/cli.js';
import { FREE_PORTS } from '../support/control-plane.js';
import { currentAddresses, destinationClient, Recorder } from '../destination/harness.js';
import { startControlPlane, type RunningControlPlane } from '../../src/controlplane/start.js';
import { silentLogger } from '../../src/core/log.js';
import { createIntermediateCA, createRootCA } from '../../src/core/pki.js';
import { renderCrds } from '../../src/install/crds.js';
import { certifyOnce, CertifyCallError } from '../../src/api/identity/certify-call.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { derToPem } from '../../src/identity/authority.js';

const NS = 'hybrid-app';
const IDENTITY = 'spiffe://cluster.local/ns/hybrid-app/sa/api-server';
const LINKERD_NAME = 'api-server.hybrid-app.serviceaccount.identity.linkerd.cluster.local';
const OUTPOST_NAME = 'api-server.hybrid-app.serviceaccount.identity.outpost.cluster.local';

let kube: RealKubernetes;
let cp: RunningControlPlane;
let work: string;
let anchorsFile: string;
let tlsServer: Server | undefined;
const clients: grpc.Client[] = [];

const k = async (args: string[], input?: string) => {
  const r = await kube.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'outpost-linkerd-naming-'));
  kube = await startRealKubernetes();
  await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: renderCrds() }));
  await k(['wait', '--for', 'condition=established', 'crd', '--all', '--timeout', '60s']);
  // A Linkerd-style trust anchor and issuer (the names Linkerd's docs give them), imported.
  const root = await createRootCA({ commonName: 'root.linkerd.cluster.local', lifetimeMs: 86_400_000 });
  const issuer = await createIntermediateCA(root, { commonName: 'identity.linkerd.cluster.local', lifetimeMs: 86_400_000 });
  anchorsFile = join(work, 'ca.crt');
  writeFileSync(anchorsFile, root.certPem, { mode: 0o600 });
  writeFileSync(join(work, 'issuer.crt'), issuer.certPem, { mode: 0o600 });
  writeFileSync(join(work, 'issuer.key'), issuer.keyPem!, { mode: 0o600 });
  // A meshed pod (its proxy announced itself) and a Service whose slice points at it (no traffic goes
  // there: the API refuses loopback endpoints; the pod's TLS side is played on 127.0.0.1 below).
  await k(['apply', '-f', '-'], `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: api-server, namespace: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: api-server-0, namespace: ${NS}, labels: {app: api-server}, annotations: {linkerd.io/proxy-version: test}}
spec:
  serviceAccountName: api-server
  containers: [{name: api, image: example.invalid/api:1, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api-server, namespace: ${NS}}
spec:
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: api-server-test
  namespace: ${NS}
  labels: {kubernetes.io/service-name: api-server, endpointslice.kubernetes.io/managed-by: outpost-test}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- addresses: ["198.18.0.10"]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: api-server-0, namespace: ${NS}}
`);
  cp = await startControlPlane({
    dataDir: join(work, 'cp'),
    listen: '127.0.0.1',
    apiPort: 0,
    kubeconfig: kube.kubeconfig,
    componentCredentials: 'kubeconfig',
    components: ['identity', 'destination'],
    log: silentLogger,
    flags: {
      ...FREE_PORTS,
      'identity-naming': 'linkerd',
      'identity-trust-anchors-file': anchorsFile,
      'identity-issuer-cert': join(work, 'issuer.crt'),
      'identity-issuer-key': join(work, 'issuer.key'),
    },
  });
});

after(async () => {
  for (const c of clients) c.close();
  tlsServer?.close();
  await cp?.stop();
  await kube?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('under --identity-naming=linkerd a pod gets, and is announced with, the name Linkerd gives its ServiceAccount', { timeout: 180_000 }, async (t) => {
  const token = (await k(['create', 'token', 'api-server', '-n', NS, '--audience', 'identity.outpost.io', '--duration', '10m', '--bound-object-kind', 'Pod', '--bound-object-name', 'api-server-0'])).trim();
  const conn = { addr: cp.info.listeners.identity, trustAnchorsPem: readFileSync(anchorsFile, 'utf8') };
  const keyPem = generateWorkloadKey();

  let leafPem = '';
  let chainPem = '';
  await t.test('the refusal names the Linkerd-shaped serverName; certified with it, the URI SAN comes first', async () => {
    // As the proxy does: first ask without knowing its names; the identity service says them.
    const unnamed = await createCsr(keyPem);
    const refused = await certifyOnce(conn, { identity: '', token, csr: unnamed, workload: `${NS}/api-server-0` }).then(
      () => assert.fail('an unnamed request must be refused with the expected names'),
      (e: CertifyCallError) => e,
    );
    assert.deepEqual(refused.expected, { identity: IDENTITY, serverName: LINKERD_NAME });
    const csr = await createCsr(keyPem, { identity: IDENTITY, serverName: LINKERD_NAME });
    const issued = await certifyOnce(conn, { identity: IDENTITY, token, csr, workload: `${NS}/api-server-0` });
    leafPem = derToPem(issued.leafDer);
    chainPem = [leafPem, ...issued.intermediatesDer.map((d) => derToPem(d))].join('');
    const text = execFileSync('openssl', ['x509', '-text', '-noout'], { input: leafPem }).toString();
    const sans = /X509v3 Subject Alternative Name: ?(?:critical)?\n\s+(.+)\n/.exec(text)?.[1].trim();
    assert.equal(sans, `URI:${IDENTITY}, DNS:${LINKERD_NAME}`);
    assert.match(text, /Issuer: CN ?= ?identity\.linkerd\.cluster\.local/);
  });

  let announced = '';
  await t.test("the destination service hands out that serverName for the pod's endpoint", async () => {
    const creds = grpc.credentials.createSsl(Buffer.from(conn.trustAnchorsPem), Buffer.from(keyPem), Buffer.from(chainPem));
    const dst = destinationClient(cp.info.listeners.destination, creds);
    clients.push(dst);
    const rec = new Recorder(dst.Get({ path: `api-server.${NS}.svc.cluster.local:8080` }));
    const updates = await rec.until((m) => currentAddresses(m).includes('198.18.0.10:8080'), 20_000, 'the pod endpoint');
    const ep = updates.flatMap((u: any) => u.add?.endpoints ?? []).find((e: any) => e.address === '198.18.0.10');
    announced = ep.serverName ?? ep.server_name;
    assert.equal(announced, LINKERD_NAME);
    assert.equal(ep.tlsIdentity ?? ep.tls_identity, IDENTITY);
    rec.call.cancel();
  });

  await t.test('a client verifying the peer by that serverName accepts the pod; under the Outpost name it refuses', async () => {
    tlsServer = createServer({ key: keyPem, cert: chainPem, minVersion: 'TLSv1.3' }, (s) => s.end());
    await new Promise<void>((r) => tlsServer!.listen(0, '127.0.0.1', r));
    const port = (tlsServer.address() as { port: number }).port;
    const dial = (name: string) => run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', name, '-verify_hostname', name, '-CAfile', anchorsFile, '-verify_return_error', '-brief'], { input: '', timeoutMs: 15_000 });
    const ok = await dial(announced);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, new RegExp(`Verified peername: ${announced.replace(/\./g, '\\.')}`));
    const wrong = await dial(OUTPOST_NAME);
    assert.notEqual(wrong.code, 0, 'the certificate must not pass for the Outpost-shaped name');
    assert.match(wrong.stderr, /hostname mismatch/i);
  });
});

test('the running control plane records the naming in control-plane.json (for `outpost diagnostics`)', () => {
  assert.equal(cp.info.identityNaming, 'linkerd');
});
