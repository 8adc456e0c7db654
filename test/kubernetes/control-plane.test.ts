// `outpost install | kubectl apply --server-side -f -` on a real kube-apiserver, then
// `outpost up --kubeconfig` with each component running as its own ServiceAccount: the rendered
// RBAC is enough (every EndpointSlice, status, Lease and the trust roots get written, and nothing is
// refused), and `kubectl auth can-i --as` shows it is not more than needed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRealKubernetes, type RealKubernetes } from '../support/real-kubernetes.js';
import { outpost, spawnOutpost, FREE_COMPONENT_PORT_FLAGS } from '../support/cli.js';
import { guideManifests } from '../controllers/guide.js';
import { waitFor } from '../support/wait.js';
import { installCaMaterial } from '../../src/install/ca.js';
import { toYaml } from '../../src/install/render.js';

const SA = (c: string) => `system:serviceaccount:outpost:outpost-${c}`;

/** [component, verb, resource, namespace (and subresource) flags, allowed]. */
const CAN_I: [string, string, string, string[], boolean][] = [
  ['identity', 'create', 'tokenreviews.authentication.k8s.io', [], true],
  ['identity', 'get', 'serviceaccounts', ['-n', 'payments'], true],
  ['identity', 'watch', 'externalworkloads.workload.linkerd.io', ['-A'], true],
  ['identity', 'create', 'externalworkloads.workload.linkerd.io', ['-n', 'caching'], true],
  ['identity', 'update', 'configmaps/outpost-identity-trust-roots', ['-n', 'outpost'], true],
  ['identity', 'update', 'configmaps/outpost-revocations', ['-n', 'outpost'], false],
  ['identity', 'get', 'secrets', ['-n', 'outpost'], false],
  // Its JWT signing key: that one Secret, read and filled; not the issuer's, not to be listed or created.
  ['identity', 'get', 'secrets/outpost-identity-jwt-key', ['-n', 'outpost'], true],
  ['identity', 'update', 'secrets/outpost-identity-jwt-key', ['-n', 'outpost'], true],
  ['identity', 'get', 'secrets/outpost-identity-issuer', ['-n', 'outpost'], false],
  ['identity', 'list', 'secrets', ['-n', 'outpost'], false],
  ['identity', 'create', 'secrets', ['-n', 'outpost'], false],
  ['viz', 'get', 'secrets/outpost-identity-jwt-key', ['-n', 'outpost'], false],
  ['destination', 'get', 'secrets/outpost-identity-jwt-key', ['-n', 'outpost'], false],
  ['identity', 'create', 'secrets', ['-n', 'payments'], false],
  ['identity', 'delete', 'externalworkloads.workload.linkerd.io', ['-n', 'payments'], false],
  ['identity', 'create', 'namespaces', [], false],
  ['destination', 'watch', 'endpointslices.discovery.k8s.io', ['-A'], true],
  ['destination', 'watch', 'servers.policy.linkerd.io', ['-A'], true],
  ['destination', 'delete', 'externalworkloads.workload.linkerd.io', ['-n', 'payments'], false],
  ['destination', 'create', 'endpointslices.discovery.k8s.io', ['-n', 'payments'], false],
  ['destination', 'list', 'secrets', ['-A'], false],
  ['policy', 'watch', 'authorizationpolicies.policy.linkerd.io', ['-A'], true],
  ['policy', 'watch', 'configmaps', ['-n', 'outpost'], true],
  ['policy', 'list', 'configmaps', ['-n', 'payments'], false],
  ['policy', 'patch', 'servers.policy.linkerd.io', ['-n', 'hybrid-app'], false],
  ['controllers', 'create', 'endpointslices.discovery.k8s.io', ['-n', 'payments'], true],
  ['controllers', 'patch', 'externalworkloads.workload.linkerd.io', ['-n', 'payments', '--subresource=status'], true],
  ['controllers', 'patch', 'workloadgroups.workload.linkerd.io', ['-n', 'caching', '--subresource=status'], true],
  ['controllers', 'patch', 'workloadgroups.workload.linkerd.io', ['-n', 'caching'], false],
  ['destination', 'patch', 'externalworkloads.workload.linkerd.io', ['-n', 'payments', '--subresource=status'], false],
  ['controllers', 'update', 'leases.coordination.k8s.io/outpost-controllers', ['-n', 'outpost'], true],
  ['controllers', 'update', 'leases.coordination.k8s.io/kube-controller-manager', ['-n', 'kube-system'], false],
  ['controllers', 'update', 'services', ['-n', 'payments'], false],
  ['controllers', 'create', 'secrets', ['-n', 'outpost'], false],
  ['controllers', 'update', 'externalworkloads.workload.linkerd.io', ['-n', 'payments'], false],
  ['viz', 'list', 'externalworkloads.workload.linkerd.io', ['-A'], true],
  ['viz', 'list', 'pods', ['-A'], true], // injected pods' proxies are scrape targets (viz stat deploy/NAME)
  ['viz', 'delete', 'pods', ['-A'], false],
  ['viz', 'get', 'secrets', ['-n', 'outpost'], false],
  // Components apart from identity read the trust anchors (ADR 0022), that one ConfigMap only.
  ['viz', 'get', 'configmaps/outpost-identity-trust-roots', ['-n', 'outpost'], true],
  ['viz', 'get', 'configmaps/outpost-revocations', ['-n', 'outpost'], false],
  ['destination', 'get', 'configmaps/outpost-identity-trust-roots', ['-n', 'outpost'], true],
  ['destination', 'update', 'configmaps/outpost-identity-trust-roots', ['-n', 'outpost'], false],
];

describe('outpost install and outpost up --kubeconfig on a real kube-apiserver', { timeout: 300_000 }, () => {
  let kube: RealKubernetes;
  let work: string;
  let dataDir: string;
  let caFlags: string[];
  let proc: ChildProcess | undefined;
  let output = '';

  before(async () => {
    kube = await startRealKubernetes();
    work = mkdtempSync(join(tmpdir(), 'outpost-kube-cp-'));
    dataDir = join(work, 'data');
    // One CA for both: the issuer Secret `outpost install` renders and the control plane run here.
    const { material } = await installCaMaterial({}, 'cluster.local');
    writeFileSync(join(work, 'anchors.crt'), material.trustAnchorsPem);
    writeFileSync(join(work, 'issuer.crt'), material.issuerCertPem);
    writeFileSync(join(work, 'issuer.key'), material.issuerKeyPem, { mode: 0o600 });
    caFlags = ['--identity-trust-anchors-file', join(work, 'anchors.crt'), '--identity-issuer-cert', join(work, 'issuer.crt'), '--identity-issuer-key', join(work, 'issuer.key')];

    const rendered = await outpost(['install', ...caFlags]);
    assert.equal(rendered.code, 0, rendered.stderr);
    const applied = await kube.kubectl(['apply', '--server-side', '-f', '-'], rendered.stdout);
    assert.equal(applied.code, 0, applied.stderr);
    const established = await kube.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=outpost']);
    assert.equal(established.code, 0, established.stderr);
    const docs = guideManifests();
    for (const batch of [docs.filter((d) => d.kind === 'Namespace'), docs.filter((d) => d.kind !== 'Namespace')]) {
      const r = await kube.kubectl(['apply', '-f', '-'], toYaml(batch));
      assert.equal(r.code, 0, r.stderr);
    }
    // Identity must create the trust roots itself (as its ServiceAccount, which may not create namespaces).
    const deleted = await kube.kubectl(['delete', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost']);
    assert.equal(deleted.code, 0, deleted.stderr);

    proc = spawnOutpost(['up', '--kubeconfig', kube.kubeconfig, '--data-dir', dataDir, '--log-level', 'debug', ...caFlags, ...FREE_COMPONENT_PORT_FLAGS]);
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    await waitFor('the control plane to start', () => {
      if (proc!.exitCode !== null) assert.fail(`outpost up exited ${proc!.exitCode}:\n${output}`);
      return output.includes('Outpost control plane is up');
    }, { timeoutMs: 60_000, intervalMs: 200 });
  });

  after(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc!.once('exit', r));
    }
    await kube?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('applies CRDs, namespace, RBAC, ConfigMap, Secret, Deployments, Services and PDBs; the controllers run twice', async () => {
    const r = await kube.kubectl(['get', 'deploy,svc,pdb,sa,role,rolebinding', '-n', 'outpost', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['deployment.apps/outpost-identity', 'deployment.apps/outpost-controllers', 'service/outpost-identity', 'service/outpost-destination', 'service/outpost-policy', 'service/outpost-health', 'service/outpost-viz', 'poddisruptionbudget.policy/outpost-controllers', 'serviceaccount/outpost-viz', 'role.rbac.authorization.k8s.io/outpost-controllers']) {
      assert.ok(r.stdout.split('\n').includes(name), `${name} missing:\n${r.stdout}`);
    }
    // No kubelet here: the pods are created by the real controllers but never run.
    const pods = await waitFor('the controllers pods', async () => {
      const p = await kube.kubectl(['get', 'pods', '-n', 'outpost', '-l', 'app.kubernetes.io/name=outpost-controllers', '-o', 'jsonpath={range .items[*]}{.spec.serviceAccountName}{"\\n"}{end}']);
      const lines = p.stdout.trim().split('\n').filter(Boolean);
      return lines.length === 2 ? lines : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    assert.deepEqual(pods, ['outpost-controllers', 'outpost-controllers']);
  });

  it('grants each ServiceAccount what its component does, and nothing more (kubectl auth can-i --as)', async () => {
    const wrong: string[] = [];
    for (const [component, verb, resource, ns, allowed] of CAN_I) {
      const r = await kube.kubectl(['auth', 'can-i', verb, resource, ...ns, `--as=${SA(component)}`]);
      const answer = r.stdout.trim();
      if (answer !== (allowed ? 'yes' : 'no')) wrong.push(`${component} ${verb} ${resource} ${ns.join(' ')}: ${answer} ${r.stderr.trim()}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('runs each component as its own ServiceAccount, and the API refuses none of their requests', () => {
    for (const c of ['identity', 'controllers', 'destination', 'policy', 'viz']) assert.match(output, new RegExp(`component runs as its own ServiceAccount component=${c} serviceAccount=outpost/outpost-${c}`));
    assert.doesNotMatch(output, /forbidden|HTTP 403|HTTP-Code: 403/i);
  });

  it('publishes the trust roots as the identity ServiceAccount', async () => {
    const roots = await waitFor('the trust-roots ConfigMap', async () => {
      const r = await kube.kubectl(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.ca-bundle\\.crt}']);
      return r.code === 0 && r.stdout.includes('BEGIN CERTIFICATE') ? r.stdout : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    assert.equal(roots.trim(), readFileSync(join(work, 'anchors.crt'), 'utf8').trim());
  });

  it("writes EndpointSlices for the guide's Services, owned by the Service and managed by Outpost", async () => {
    for (const [ns, svc, ips] of [['payments', 'payment-processor', '10.0.50.100'], ['hybrid-app', 'postgres', '10.0.100.50'], ['caching', 'redis-cache', '10.0.200.10 10.0.200.11']]) {
      const slice = await waitFor(`the EndpointSlice of ${ns}/${svc}`, async () => {
        const r = await kube.kubectl(['get', 'endpointslices', '-n', ns, '-l', `kubernetes.io/service-name=${svc},endpointslice.kubernetes.io/managed-by=outpost-external-workloads-controller`, '-o', 'json']);
        const items = JSON.parse(r.stdout || '{"items":[]}').items;
        return items.length === 1 && items[0].endpoints?.length === ips.split(' ').length ? items[0] : undefined;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      const service = JSON.parse((await kube.kubectl(['get', 'service', svc, '-n', ns, '-o', 'json'])).stdout);
      assert.deepEqual(slice.metadata.ownerReferences.map((o: any) => [o.kind, o.name, o.uid, o.controller]), [['Service', svc, service.metadata.uid, true]]);
      assert.deepEqual(slice.endpoints.flatMap((e: any) => e.addresses).sort(), ips.split(' '));
      assert.ok(slice.endpoints.every((e: any) => e.targetRef.kind === 'ExternalWorkload'));
    }
  });

  it("leaves a selector Service's core/v1 Endpoints to kube-controller-manager, without fighting over it", async () => {
    const endpoints = async () => JSON.parse((await kube.kubectl(['get', 'endpoints', 'postgres', '-n', 'hybrid-app', '-o', 'json'])).stdout).metadata;
    // A change to the Service makes the real endpoints controller sync (and rewrite) its Endpoints.
    const touched = await kube.kubectl(['label', 'service', 'postgres', '-n', 'hybrid-app', 'outpost-test=touched', '--overwrite']);
    assert.equal(touched.code, 0, touched.stderr);
    const first = await waitFor('the endpoints controller to sync postgres', async () => {
      const m = await endpoints();
      return m.labels?.['outpost-test'] === 'touched' ? m : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    await new Promise((r) => setTimeout(r, 3000));
    const later = await endpoints();
    assert.equal(later.labels['endpoints.kubernetes.io/managed-by'], 'endpoint-controller');
    assert.equal(later.resourceVersion, first.resourceVersion, 'nobody rewrote it after the endpoints controller');
  });

  it('writes status (Ready conditions, group members) and holds its Lease, as the controllers ServiceAccount', async () => {
    await waitFor('the Ready condition of payment-processor-vm-1', async () => {
      const r = await kube.kubectl(['get', 'ew', 'payment-processor-vm-1', '-n', 'payments', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}']);
      return r.stdout.trim() || undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    await waitFor('the members of redis-cache-fleet', async () => {
      const r = await kube.kubectl(['get', 'wg', 'redis-cache-fleet', '-n', 'caching', '-o', 'jsonpath={.status.members}']);
      return r.stdout.trim() === '2' || undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    const lease = await kube.kubectl(['get', 'lease', 'outpost-controllers', '-n', 'outpost', '-o', 'jsonpath={.spec.holderIdentity}']);
    assert.match(lease.stdout, /\S/);
  });

  it('answers outpost check and outpost explain against the real cluster', async () => {
    const check = await outpost(['check', '--data-dir', dataDir]);
    assert.equal(check.code, 0, check.stdout);
    assert.doesNotMatch(check.stdout, /×/, check.stdout);
    assert.match(check.stdout, /workload\.linkerd\.io\/v1beta1 serves/);
    const explain = await outpost(['explain', 'externalworkload/payment-processor-vm-1', '-n', 'payments', '--data-dir', dataDir]);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /payment-processor/);
  });
});
