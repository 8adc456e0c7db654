// A pod's identity from its projected ServiceAccount token, against the real kube-apiserver: the
// TokenRequest API mints a token bound to the pod (audience identity.outpost.io), TokenReview names
// the pod, and the identity service's decision grants exactly spiffe://<td>/ns/<ns>/sa/<sa> for
// that pod, again and again (not single-use), and nothing for another workload or audience.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { startRealKubernetes, type RealKubernetes } from '../support/real-kubernetes.js';
import { waitFor } from '../support/wait.js';
import { createTokenReviewer } from '../../src/identity/kube.js';
import { withPodIdentity } from '../../src/identity/pod-identity.js';
import { Refusal } from '../../src/identity/refusal.js';
import { createCsr } from '../../src/core/identity/csr.js';

let kube: RealKubernetes;
const IDENTITY = 'spiffe://cluster.local/ns/hybrid-app/sa/api-server';
const SERVER_NAME = 'api-server.hybrid-app.serviceaccount.identity.outpost.cluster.local';

before(async () => {
  kube = await startRealKubernetes();
  const setup = `apiVersion: v1
kind: Namespace
metadata: {name: hybrid-app}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: api-server, namespace: hybrid-app}
---
apiVersion: v1
kind: Pod
metadata: {name: api-server-0, namespace: hybrid-app}
spec:
  serviceAccountName: api-server
  containers: [{name: api, image: example.invalid/api:1}]
`;
  await waitFor('the namespace and pod', async () => (await kube.kubectl(['apply', '-f', '-'], setup)).code === 0, { timeoutMs: 30_000, intervalMs: 500 });
});
after(async () => kube?.stop());

const mint = async (audience: string) => {
  const r = await kube.kubectl(['create', 'token', 'api-server', '-n', 'hybrid-app', '--audience', audience, '--bound-object-kind', 'Pod', '--bound-object-name', 'api-server-0', '--duration', '10m']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
};

test("a pod's projected token certifies that pod as its ServiceAccount, every time it is presented", async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  const reviewToken = createTokenReviewer(kc);
  const next = async () => assert.fail('a pod token must not take the ExternalWorkload path');
  const authorize = withPodIdentity({ trustDomain: 'cluster.local', naming: 'spiffe', next });
  const token = await mint('identity.outpost.io');
  const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = await createCsr(keyPem, { identity: IDENTITY, serverName: SERVER_NAME });

  // The proxy first asks without knowing its names; the refusal tells it.
  await assert.rejects(authorize({ identity: '', workload: 'hybrid-app/api-server-0', csr, caller: { token } }, reviewToken), (e: Refusal) => e.reason === 'identity_mismatch' && e.details['outpost-expected-identity'] === IDENTITY && e.details['outpost-expected-server-name'] === SERVER_NAME);
  for (let i = 0; i < 2; i++) {
    const ent = await authorize({ identity: IDENTITY, workload: 'hybrid-app/api-server-0', csr, caller: { token } }, reviewToken);
    assert.equal(ent.workload.identity, IDENTITY);
    assert.equal(ent.workload.serviceAccount, 'api-server');
  }
  await assert.rejects(authorize({ identity: IDENTITY, workload: 'hybrid-app/postgres-primary', csr, caller: { token } }, reviewToken), (e: Refusal) => e.reason === 'pod_mismatch');
  await assert.rejects(authorize({ identity: 'spiffe://cluster.local/ns/hybrid-app/sa/postgres', workload: 'hybrid-app/api-server-0', csr, caller: { token } }, reviewToken), (e: Refusal) => e.reason === 'identity_mismatch');

  // The pod's API token (another audience) is no identity credential.
  const apiToken = await mint('https://kubernetes.default.svc.cluster.local');
  await assert.rejects(authorize({ identity: IDENTITY, workload: 'hybrid-app/api-server-0', csr, caller: { token: apiToken } }, reviewToken), (e: Refusal) => e.reason === 'token_invalid');

  // Once the pod is gone, the API server no longer accepts its token.
  assert.equal((await kube.kubectl(['delete', 'pod', 'api-server-0', '-n', 'hybrid-app', '--wait=false', '--grace-period=0', '--force'])).code, 0);
  await waitFor('the token to be refused', async () => {
    try {
      await authorize({ identity: IDENTITY, workload: 'hybrid-app/api-server-0', csr, caller: { token } }, reviewToken);
      return false;
    } catch (e) {
      return e instanceof Refusal && e.reason === 'token_invalid';
    }
  }, { timeoutMs: 20_000, intervalMs: 500 });
});
