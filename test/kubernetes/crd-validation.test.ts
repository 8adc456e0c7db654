// The CRDs of `outpost install` on a real kube-apiserver accept and reject what the embedded API
// accepts and rejects: every manifest of the guide is accepted by both; a table of bad manifests is
// rejected by both with 422, naming the same field (or, where CEL cannot name a list index, the
// list). The checks only the embedded API makes are listed in src/install/cel-rules.ts
// (EMBEDDED_ONLY): the real API accepts those, which this test proves too, so the list stays true.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { startRealKubernetes, type RealKubernetes } from '../support/real-kubernetes.js';
import { startTestApi, type TestApi } from '../apiserver/http/harness.js';
import { guideManifests } from '../controllers/guide.js';
import { findByApiVersionKind } from '../../src/apiserver/resources/index.js';
import { renderCrds } from '../../src/install/crds.js';
import { toYaml, type K8sObject } from '../../src/install/render.js';
import { BAD_MANIFESTS, EMBEDDED_ONLY_MANIFESTS, GOOD_EDGE_MANIFESTS, TABLE_NAMESPACE } from './validation-table.js';

interface Reply {
  status: number;
  body: { reason?: string; details?: { causes?: { field?: string; message?: string }[] }; message?: string };
}

/** POSTs an object to its collection, as a client would create it. */
async function create(kubeconfig: string, obj: K8sObject): Promise<Reply> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const rt = findByApiVersionKind(obj.apiVersion, obj.kind);
  if (!rt) throw new Error(`unknown kind ${obj.apiVersion} ${obj.kind}`);
  const prefix = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const url = new URL(`${kc.getCurrentCluster()!.server}${prefix}${rt.namespaced ? `/namespaces/${obj.metadata.namespace}` : ''}/${rt.plural}`);
  const opts: Parameters<typeof request>[1] = { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts as never);
  const payload = JSON.stringify(obj);
  return new Promise((resolve, reject) => {
    const req = request(url, { ...opts, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const fields = (r: Reply) => (r.body.details?.causes ?? []).map((c) => c.field ?? '');
const describeReply = (r: Reply) => `${r.status} ${r.body.message ?? ''}`;

describe('the CRDs on a real kube-apiserver validate like the embedded API', { timeout: 240_000 }, () => {
  let kube: RealKubernetes;
  let embedded: TestApi;

  before(async () => {
    [kube, embedded] = await Promise.all([startRealKubernetes(), startTestApi()]);
    const crds = await kube.kubectl(['apply', '--server-side', '-f', '-'], toYaml(renderCrds() as K8sObject[]));
    assert.equal(crds.code, 0, crds.stderr);
    const established = await kube.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=outpost']);
    assert.equal(established.code, 0, established.stderr);
    for (const api of [kube.kubectl, embedded.kubectl]) {
      const ns = await api(['create', 'namespace', TABLE_NAMESPACE]);
      assert.equal(ns.code, 0, ns.stderr);
    }
  });

  after(async () => {
    await Promise.all([kube?.stop(), embedded?.stop()]);
  });

  it('establishes a CRD for every kind, served at the versions the embedded API serves', async () => {
    const r = await kube.kubectl(['api-resources', '--api-group=workload.linkerd.io', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['externalworkloads.workload.linkerd.io', 'workloadgroups.workload.linkerd.io']);
    const versions = await kube.kubectl(['api-versions']);
    for (const v of ['policy.linkerd.io/v1alpha1', 'policy.linkerd.io/v1beta1', 'policy.linkerd.io/v1beta2', 'policy.linkerd.io/v1beta3', 'workload.linkerd.io/v1beta1']) assert.match(versions.stdout, new RegExp(`^${v}$`, 'm'));
    const short = await kube.kubectl(['get', 'ew,wg,srv,saz', '-A']);
    assert.equal(short.code, 0, short.stderr);
  });

  it('accepts every manifest of the guide, applied with kubectl', async () => {
    const docs = guideManifests();
    const namespaces = docs.filter((d) => d.kind === 'Namespace');
    const rest = docs.filter((d) => d.kind !== 'Namespace');
    for (const batch of [namespaces, rest]) {
      const r = await kube.kubectl(['apply', '-f', '-'], toYaml(batch));
      assert.equal(r.code, 0, r.stderr);
    }
    const ews = await kube.kubectl(['get', 'externalworkloads', '-A', '-o', 'name']);
    assert.equal(ews.stdout.trim().split('\n').length, docs.filter((d) => d.kind === 'ExternalWorkload').length);
    // The printer columns come from the embedded API's table columns.
    const table = await kube.kubectl(['get', 'ew', 'payment-processor-vm-1', '-n', 'payments']);
    assert.match(table.stdout, /^NAME\s+IDENTITY\s+IPS\s+READY\s+AGE/);
    assert.match(table.stdout, /payment-processor-vm-1\s+spiffe:\/\/cluster\.local\/payment-processor\s+10\.0\.50\.100/);
  });

  it('accepts the same edge cases as the embedded API', async () => {
    for (const c of GOOD_EDGE_MANIFESTS) {
      const [real, emb] = await Promise.all([create(kube.kubeconfig, c.manifest), create(embedded.kubeconfig, c.manifest)]);
      assert.equal(emb.status, 201, `${c.name}: embedded ${describeReply(emb)}`);
      assert.equal(real.status, 201, `${c.name}: real ${describeReply(real)}`);
    }
  });

  for (const c of BAD_MANIFESTS) {
    it(`rejects ${c.name}, naming ${c.field}`, async () => {
      const [real, emb] = await Promise.all([create(kube.kubeconfig, c.manifest), create(embedded.kubeconfig, c.manifest)]);
      assert.equal(emb.status, 422, `embedded: ${describeReply(emb)}`);
      assert.equal(real.status, 422, `real: ${describeReply(real)}`);
      assert.ok(fields(emb).includes(c.field), `embedded names ${JSON.stringify(fields(emb))}, not ${c.field}`);
      assert.ok(fields(real).includes(c.realField ?? c.field), `real names ${JSON.stringify(fields(real))}, not ${c.realField ?? c.field}: ${real.body.message}`);
    });
  }

  it('accepts what only the embedded API checks (EMBEDDED_ONLY), so that list is true', async () => {
    for (const c of EMBEDDED_ONLY_MANIFESTS) {
      const [real, emb] = await Promise.all([create(kube.kubeconfig, c.manifest), create(embedded.kubeconfig, c.manifest)]);
      assert.equal(emb.status, 422, `${c.name}: embedded ${describeReply(emb)}`);
      assert.ok(fields(emb).includes(c.field), `${c.name}: embedded names ${JSON.stringify(fields(emb))}`);
      assert.equal(real.status, 201, `${c.name}: real ${describeReply(real)}`);
    }
  });
});
