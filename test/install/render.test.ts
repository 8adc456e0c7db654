// `outpost install`'s rendering, without a cluster: a CRD for every kind of the embedded API's
// linkerd groups, with that kind's names, versions and schemas; least-privilege rules per component;
// the Deployments, Services and PDBs; the CLI's flags. test/kubernetes/ applies it to a real API server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { RESOURCE_TYPES } from '../../src/apiserver/resources/index.js';
import { crdTypes, renderCrd } from '../../src/install/crds.js';
import { CEL_RULES } from '../../src/install/cel-rules.js';
import { INSTALL_COMPONENTS } from '../../src/install/components.js';
import { renderInstall } from '../../src/install/render.js';
import { installCaMaterial } from '../../src/install/ca.js';
import { outpost } from '../support/cli.js';
import { parseControlPlaneFlags } from '../../src/controlplane/flags.js';

const ca = await installCaMaterial({}, 'cluster.local');
const objects = renderInstall({ image: 'registry.example/outpost:test', ca: ca.material, trustDomain: 'cluster.local' });
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;

describe('CRDs generated from the embedded API descriptors', () => {
  it('has one CRD per kind the embedded API serves under workload.linkerd.io and policy.linkerd.io', () => {
    const kinds = RESOURCE_TYPES.filter((t) => t.group === 'workload.linkerd.io' || t.group === 'policy.linkerd.io').map((t) => `${t.plural}.${t.group}`);
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
    assert.deepEqual(crds.sort(), kinds.sort());
    assert.ok(kinds.includes('workloadgroups.workload.linkerd.io') && kinds.includes('httproutes.policy.linkerd.io'));
  });

  it('carries names, short names, categories, versions, the storage version and the status subresource of each descriptor', () => {
    for (const rt of crdTypes()) {
      const crd = renderCrd(rt) as any;
      assert.equal(crd.spec.names.kind, rt.kind);
      assert.deepEqual(crd.spec.names.shortNames ?? [], rt.shortNames);
      assert.deepEqual(crd.spec.names.categories ?? [], rt.categories ?? []);
      assert.deepEqual(crd.spec.versions.map((v: any) => v.name), rt.versions.map((v) => v.name));
      assert.deepEqual(crd.spec.versions.filter((v: any) => v.storage).map((v: any) => v.name), rt.versions.filter((v) => v.storage).map((v) => v.name));
      for (const v of crd.spec.versions) assert.equal(Boolean(v.subresources?.status), rt.statusSubresource, `${rt.kind} ${v.name} status subresource`);
    }
    const ew = find('CustomResourceDefinition', 'externalworkloads.workload.linkerd.io');
    assert.deepEqual(ew.spec.versions.map((v: any) => [v.name, v.served]), [['v1beta1', true], ['v1alpha1', false]], 'v1alpha1 needs a conversion webhook: listed, not served');
  });

  it('uses the descriptor schema itself: a field, its type, enum, range and default come from src/apiserver/resources', () => {
    const ew = find('CustomResourceDefinition', 'externalworkloads.workload.linkerd.io');
    const rt = RESOURCE_TYPES.find((t) => t.kind === 'ExternalWorkload')!;
    const crdPort = ew.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.ports.items.properties;
    const descPort = (rt.versions[0].schema.properties!.spec.properties!.ports.items as any).properties;
    assert.deepEqual(crdPort.protocol, descPort.protocol);
    assert.deepEqual({ ...crdPort.port }, { ...descPort.port });
    assert.deepEqual(ew.spec.versions[0].schema.openAPIV3Schema.properties.metadata, { type: 'object' }, 'ObjectMeta is validated by the API server, not the CRD');
    const server = find('CustomResourceDefinition', 'servers.policy.linkerd.io');
    const v1beta3 = server.spec.versions.find((v: any) => v.name === 'v1beta3').schema.openAPIV3Schema.properties.spec;
    assert.equal(v1beta3.properties.accessPolicy.default, 'deny');
    assert.equal(v1beta3.properties.port['x-kubernetes-int-or-string'], true);
  });

  it('grafts each CEL rule where the embedded check reports (the rule paths exist in the schemas)', () => {
    const ew = find('CustomResourceDefinition', 'externalworkloads.workload.linkerd.io');
    const ip = ew.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.workloadIPs.items.properties.ip;
    assert.deepEqual(ip['x-kubernetes-validations'].map((r: any) => r.rule), ['isIP(self)']);
    const kinds = new Set(crdTypes().map((t) => t.kind));
    for (const r of CEL_RULES) assert.ok(kinds.has(r.kind), `rule for unknown kind ${r.kind}`);
    const total = objects.filter((o) => o.kind === 'CustomResourceDefinition').flatMap((o: any) => o.spec.versions).map((v: any) => JSON.stringify(v.schema).split('x-kubernetes-validations').length - 1).reduce((a: number, b: number) => a + b, 0);
    assert.ok(total >= CEL_RULES.filter((r) => r.rule).length, 'every rule lands in at least one version');
  });

  it('prints the embedded API columns, by JSONPath', () => {
    const ew = find('CustomResourceDefinition', 'externalworkloads.workload.linkerd.io');
    const cols = ew.spec.versions[0].additionalPrinterColumns;
    assert.deepEqual(cols.map((c: any) => c.name), ['Identity', 'IPs', 'Ready', 'Group', 'Service-Account', 'Age']);
    assert.equal(cols.find((c: any) => c.name === 'Ready').jsonPath, '.status.conditions[?(@.type=="Ready")].status');
    assert.equal(cols.find((c: any) => c.name === 'Group').priority, 1);
  });
});

describe('least privilege per component', () => {
  const rules = (c: string) => [...find('ClusterRole', `outpost-${c}`)?.rules ?? [], ...find('Role', `outpost-${c}`)?.rules ?? []];
  const grants = (c: string, group: string, resource: string, verb: string) =>
    rules(c).some((r: any) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

  it('gives every component its own ServiceAccount, bound to its own roles', () => {
    for (const c of INSTALL_COMPONENTS) {
      assert.ok(find('ServiceAccount', c.serviceAccount), c.serviceAccount);
      for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
        const b = find(kind, c.serviceAccount);
        if (b) assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: c.serviceAccount, namespace: 'outpost' }]);
      }
    }
  });

  it('grants no wildcard, no Secret access but identity\'s to its JWT key Secret by name, and no write to destination, policy or viz', () => {
    for (const o of objects.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role') as any[]) {
      for (const r of o.rules) {
        assert.ok(![...r.apiGroups, ...r.resources, ...r.verbs].includes('*'), `${o.metadata.name}: wildcard`);
        if (!r.resources.includes('secrets')) continue;
        // The one exception: get/update of the (empty-rendered) JWT signing key Secret, in a Role, by name.
        assert.deepEqual([o.kind, o.metadata.name, r.resources, r.verbs, r.resourceNames], ['Role', 'outpost-identity', ['secrets'], ['get', 'update'], ['outpost-identity-jwt-key']], `${o.metadata.name}: secrets`);
      }
    }
    const jwtSecret = find('Secret', 'outpost-identity-jwt-key');
    assert.equal(jwtSecret.data, undefined, 'rendered empty: identity generates the key in the cluster');
    for (const c of ['destination', 'policy', 'viz']) {
      for (const r of rules(c)) assert.deepEqual(r.verbs.filter((v: string) => !['get', 'list', 'watch'].includes(v)), [], `${c} writes ${r.resources}`);
    }
  });

  it('gives identity TokenReviews, ServiceAccounts and ExternalWorkloads; the controllers slices, status and their Lease', () => {
    assert.ok(grants('identity', 'authentication.k8s.io', 'tokenreviews', 'create'));
    assert.ok(grants('identity', '', 'serviceaccounts', 'get'));
    for (const v of ['get', 'list', 'watch']) assert.ok(grants('identity', 'workload.linkerd.io', 'externalworkloads', v));
    assert.ok(!grants('identity', 'workload.linkerd.io', 'externalworkloads', 'delete'));
    assert.ok(grants('controllers', 'discovery.k8s.io', 'endpointslices', 'create'));
    assert.ok(grants('controllers', 'workload.linkerd.io', 'externalworkloads/status', 'patch'));
    assert.deepEqual(find('Role', 'outpost-controllers').rules.find((r: any) => r.verbs.includes('update')).resourceNames, ['outpost-controllers']);
    assert.ok(!grants('destination', 'workload.linkerd.io', 'externalworkloads', 'delete'));
    assert.ok(grants('destination', 'policy.linkerd.io', 'servers', 'watch') && grants('policy', 'policy.linkerd.io', 'authorizationpolicies', 'watch'));
  });
});

describe('workloads of the control plane', () => {
  it('runs each component as its ServiceAccount from --image, controllers twice, with a Service and a PDB each', () => {
    for (const c of INSTALL_COMPONENTS) {
      const d = find('Deployment', c.serviceAccount);
      assert.equal(d.spec.template.spec.serviceAccountName, c.serviceAccount);
      assert.equal(d.spec.template.spec.containers[0].image, 'registry.example/outpost:test');
      assert.ok(d.spec.template.spec.containers[0].args.includes(`--components=${c.name}`));
      assert.ok(find('PodDisruptionBudget', c.serviceAccount));
      assert.ok(objects.some((o: any) => o.kind === 'Service' && o.spec.selector['app.kubernetes.io/name'] === c.serviceAccount));
    }
    assert.equal(find('Deployment', 'outpost-controllers').spec.replicas, 2);
    // outpost-<service>: a name the components' serving certificates carry, and what injected proxies dial.
    assert.deepEqual(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name), ['outpost-identity', 'outpost-destination', 'outpost-policy', 'outpost-health', 'outpost-viz', 'outpost-injector']);
  });

  it("renders Deployment args that `outpost up`'s flag table accepts, --identity-naming passed to every component", () => {
    const IN_A_POD = { KUBERNETES_SERVICE_HOST: '10.96.0.1' }; // what the kubelet sets (--in-cluster needs it)
    const linkerd = renderInstall({ image: 'registry.example/outpost:test', ca: ca.material, trustDomain: 'cluster.local', identityNaming: 'linkerd' });
    for (const c of INSTALL_COMPONENTS) {
      const args = (o: typeof objects) => (o.find((x) => x.kind === 'Deployment' && x.metadata.name === c.serviceAccount) as any).spec.template.spec.containers[0].args.slice(1);
      assert.equal(parseControlPlaneFlags(args(objects), IN_A_POD).flags['identity-naming'], 'spiffe', c.name);
      assert.equal(parseControlPlaneFlags(args(linkerd), IN_A_POD).flags['identity-naming'], 'linkerd', c.name);
    }
  });

  it('has every component but identity get its certificate from the identity Service, reading only the trust-roots ConfigMap (ADR 0022)', () => {
    const identitySvc = find('Service', 'outpost-identity');
    assert.ok(identitySvc.spec.ports.some((p: any) => p.port === 8080));
    for (const c of INSTALL_COMPONENTS) {
      const args: string[] = find('Deployment', c.serviceAccount).spec.template.spec.containers[0].args;
      const dials = args.filter((a) => a.startsWith('--identity-address='));
      assert.deepEqual(dials, c.name === 'identity' ? [] : ['--identity-address=outpost-identity.outpost.svc.cluster.local:8080'], c.name);
      if (c.name === 'identity') continue;
      const rules = find('Role', c.serviceAccount).rules as any[];
      assert.ok(rules.some((r) => r.verbs.join() === 'get' && r.resources.join() === 'configmaps' && r.resourceNames?.join() === 'outpost-identity-trust-roots'), c.name);
    }
  });

  it('publishes the trust anchors and mounts the issuer only into identity', () => {
    assert.equal(find('ConfigMap', 'outpost-identity-trust-roots').data['ca-bundle.crt'], ca.material.trustAnchorsPem);
    assert.equal(find('Secret', 'outpost-identity-issuer').stringData['tls.key'], ca.material.issuerKeyPem);
    const mounting = objects.filter((o: any) => o.kind === 'Deployment' && o.spec.template.spec.volumes.some((v: any) => v.secret)).map((o) => o.metadata.name);
    assert.deepEqual(mounting, ['outpost-identity']);
  });
});

describe('outpost install (CLI)', () => {
  it('prints multi-document YAML; --out writes one 0600 file per object', async () => {
    const printed = await outpost(['install', '--image', 'x/outpost:1']);
    assert.equal(printed.code, 0, printed.stderr);
    const docs = parseAllDocuments(printed.stdout).map((d) => d.toJS());
    assert.equal(docs.length, objects.length);
    const dir = mkdtempSync(join(tmpdir(), 'outpost-install-'));
    try {
      const out = join(dir, 'manifests');
      const written = await outpost(['install', '--out', out]);
      assert.equal(written.code, 0, written.stderr);
      const files = readdirSync(out);
      assert.equal(files.length, objects.length);
      for (const f of files) assert.equal(statSync(join(out, f)).mode & 0o777, 0o600, f);
      assert.equal((statSync(out).mode & 0o777), 0o700);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('imports a CA with the flags of outpost up, and refuses half of them or a mismatched key in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-install-ca-'));
    try {
      const other = await installCaMaterial({}, 'cluster.local');
      writeFileSync(join(dir, 'anchors.crt'), ca.material.trustAnchorsPem);
      writeFileSync(join(dir, 'issuer.crt'), ca.material.issuerCertPem);
      writeFileSync(join(dir, 'issuer.key'), ca.material.issuerKeyPem);
      writeFileSync(join(dir, 'other.key'), other.material.issuerKeyPem);
      const flags = (key: string) => ['install', '--identity-trust-anchors-file', join(dir, 'anchors.crt'), '--identity-issuer-cert', join(dir, 'issuer.crt'), '--identity-issuer-key', join(dir, key)];
      const ok = await outpost(flags('issuer.key'));
      assert.equal(ok.code, 0, ok.stderr);
      const secret = parseAllDocuments(ok.stdout).map((d) => d.toJS()).find((o) => o.kind === 'Secret');
      assert.equal(secret.stringData['tls.crt'], ca.material.issuerCertPem);
      const half = await outpost(['install', '--identity-issuer-cert', join(dir, 'issuer.crt')]);
      assert.equal(half.code, 2);
      assert.match(half.stderr.trim(), /^outpost install: .*needs all three of --identity-trust-anchors-file/);
      const wrong = await outpost(flags('other.key'));
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /identity-issuer-key.*does not belong to the issuer certificate/);
      assert.equal(wrong.stderr.trim().split('\n').length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

