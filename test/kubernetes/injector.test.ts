// The proxy injector against a real kube-apiserver: the API server calls the webhook (HTTPS, its
// certificate from the mesh CA, trusted through the caBundle) for the guide's Deployment, whose
// Pods the real kube-controller-manager creates; failures follow the failurePolicy, with a metric
// and an Event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { startRealKubernetes, type RealKubernetes } from '../support/real-kubernetes.js';
import { waitFor } from '../support/wait.js';
import { newCaMaterial } from '../identity/fixtures.js';
import { Authority } from '../../src/identity/authority.js';
import type { IdentityAuthority, RunningComponent } from '../../src/core/component.js';
import { component as injector } from '../../src/injector/component.js';
import { injectorOptions } from '../../src/controlplane/components.js';
import { controlPlaneFlags } from '../../src/controlplane/flags.js';
import { renderWebhookConfiguration } from '../../src/injector/webhook-config.js';
import { silentLogger } from '../../src/core/log.js';
import { systemClock } from '../../src/core/clock.js';
import { ClusterView } from '../../src/kube/cluster-view.js';

const GUIDE = readFileSync(new URL('../fixtures/guide/api-deployment.yaml', import.meta.url), 'utf8');
const NAMESPACE = `apiVersion: v1
kind: Namespace
metadata:
  name: hybrid-app
  annotations:
    linkerd.io/inject: enabled
`;

let kube: RealKubernetes;
let authority: Authority;
let identity: IdentityAuthority;
const running: RunningComponent[] = [];
let first: RunningComponent;

const views: ClusterView[] = [];
const trackView = (v: ClusterView) => (views.push(v), v);

async function startInjector(kubeConfig: KubeConfig, id: IdentityAuthority = identity): Promise<{ running: RunningComponent; url: string }> {
  const r = await injector.start({
    dataDir: '/nonexistent',
    listen: '127.0.0.1',
    log: silentLogger,
    clock: systemClock,
    kubeConfig,
    cluster: trackView(new ClusterView({ kubeConfig, clock: systemClock, log: silentLogger })),
    identity: id,
  }, injectorOptions(controlPlaneFlags({ injector: true, 'injector-port': 0, 'injector-destination-address': '198.18.0.1:8086', 'injector-identity-address': '198.18.0.1:8080', 'injector-policy-address': '198.18.0.1:8090' })));
  running.push(r);
  return { running: r, url: r.listeners.injector };
}

async function registerWebhook(url: string, failurePolicy: 'Ignore' | 'Fail') {
  const config = renderWebhookConfiguration({ trustAnchorsPem: identity.trustAnchorsPem(), failurePolicy, url });
  const r = await kube.kubectl(['apply', '-f', '-'], JSON.stringify(config));
  assert.equal(r.code, 0, r.stderr);
}

const getJson = async (args: string[]) => {
  const r = await kube.kubectl([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

before(async () => {
  kube = await startRealKubernetes();
  authority = Authority.load(await newCaMaterial(), 'cluster.local');
  identity = {
    trustDomain: 'cluster.local',
    trustAnchorsPem: () => authority.trustAnchorsPem(),
    issueServiceCertificate: async (s) => authority.issueServiceCertificate(s, { listen: '127.0.0.1', lifetimeMs: 86_400_000, now: Date.now() }),
  };
});
after(async () => {
  for (const r of running) await r.stop();
  for (const v of views) await v.stop();
  await kube?.stop();
});

test('the real API server calls the injector for the guide\'s Deployment: its 3 Pods are stored with the proxy sidecar and outpost-init', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  const { running: inj, url } = await startInjector(kc);
  first = inj;
  await registerWebhook(url, 'Ignore');
  const applied = await kube.kubectl(['apply', '-f', '-'], `${NAMESPACE}---\n${GUIDE}`);
  assert.equal(applied.code, 0, applied.stderr);
  let pods: { items: any[] } = { items: [] };
  await waitFor('3 pods of api-server', async () => {
    pods = await getJson(['get', 'pods', '-n', 'hybrid-app', '-l', 'app=api-server']);
    return pods.items.length === 3;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  for (const pod of pods.items) {
    const inits = pod.spec.initContainers.map((c: any) => c.name);
    assert.deepEqual(inits, ['outpost-init', 'outpost-proxy']);
    const proxy = pod.spec.initContainers[1];
    assert.equal(proxy.restartPolicy, 'Always', 'a native sidecar');
    assert.deepEqual(pod.spec.containers.map((c: any) => c.name), ['api']);
    assert.equal(pod.metadata.annotations['outpost.io/identity'], 'spiffe://cluster.local/ns/hybrid-app/sa/default');
    assert.equal(pod.metadata.labels['linkerd.io/proxy-deployment'], 'api-server', 'the owner is named from the ReplicaSet');
    // The API server kept our projected token next to the one its ServiceAccount admission adds.
    const token = pod.spec.volumes.find((v: any) => v.name === 'outpost-identity-token');
    assert.deepEqual(token.projected.sources[0].serviceAccountToken, { audience: 'identity.outpost.io', expirationSeconds: 600, path: 'token' });
    assert.ok(pod.spec.volumes.some((v: any) => v.name.startsWith('kube-api-access-')));
    assert.ok(proxy.env.some((e: any) => e.name === 'OUTPOST_PROXY_DESTINATION_ENDPOINT' && e.value === '198.18.0.1:8086'));
  }
  assert.match(inj.metricsText!(), /outpost_injector_admissions_total\{result="injected"\} 3/);
  await waitFor('an Injected Event on Deployment api-server', async () => {
    const events = await getJson(['get', 'events', '-n', 'hybrid-app', '--field-selector', 'reason=Injected']);
    return events.items.some((e: any) => e.involvedObject.kind === 'Deployment' && e.involvedObject.name === 'api-server' && /identity spiffe:\/\/cluster.local\/ns\/hybrid-app\/sa\/default/.test(e.message));
  }, { timeoutMs: 20_000, intervalMs: 250 });
});

test('disabled on the pod wins over the namespace; an already injected pod is left as it is; a bad annotation is refused naming it', async () => {
  const pod = (name: string, annotations: Record<string, string>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'hybrid-app', annotations }, spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }], ...extra } });
  const off = await kube.kubectl(['apply', '-f', '-'], pod('opted-out', { 'linkerd.io/inject': 'disabled' }));
  assert.equal(off.code, 0, off.stderr);
  assert.equal((await getJson(['get', 'pod', 'opted-out', '-n', 'hybrid-app'])).spec.initContainers, undefined);

  const sidecar = { name: 'outpost-proxy', image: 'example.invalid/outpost:1', restartPolicy: 'Always' };
  const pre = await kube.kubectl(['apply', '-f', '-'], pod('pre-injected', {}, { initContainers: [sidecar] }));
  assert.equal(pre.code, 0, pre.stderr);
  assert.deepEqual((await getJson(['get', 'pod', 'pre-injected', '-n', 'hybrid-app'])).spec.initContainers.map((c: any) => c.name), ['outpost-proxy']);

  const bad = await kube.kubectl(['apply', '-f', '-'], pod('bad-uid', { 'config.linkerd.io/proxy-uid': 'root' }));
  assert.notEqual(bad.code, 0);
  // The API server turns the 422 Status's causes into its own message.
  assert.match(bad.stderr, /invalid: metadata.annotations\[config.linkerd.io\/proxy-uid\]: "root" is not a uid/);
  assert.equal((await kube.kubectl(['get', 'pod', 'bad-uid', '-n', 'hybrid-app'])).code, 1, 'the pod was not stored');
});

test('failurePolicy Ignore: an injector that cannot read the namespace lets the pod in without a proxy, counts it and records a Warning Event', async () => {
  // An injector whose ServiceAccount may create Events but not read Namespaces.
  const setup = `apiVersion: v1
kind: ServiceAccount
metadata: {name: crippled-injector, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: crippled-injector}
rules: [{apiGroups: [""], resources: [events], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crippled-injector}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: crippled-injector}
subjects: [{kind: ServiceAccount, name: crippled-injector, namespace: default}]
`;
  assert.equal((await kube.kubectl(['apply', '-f', '-'], setup)).code, 0);
  const token = (await kube.kubectl(['create', 'token', 'crippled-injector', '-n', 'default'])).stdout.trim();
  const admin = new KubeConfig();
  admin.loadFromFile(kube.kubeconfig);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'bench', server: kube.server, caData: admin.getCurrentCluster()!.caData }],
    users: [{ name: 'crippled', token }],
    contexts: [{ name: 'c', cluster: 'bench', user: 'crippled' }],
    currentContext: 'c',
  });
  const { running: inj, url } = await startInjector(kc);
  await registerWebhook(url, 'Ignore');
  const created = await kube.kubectl(['run', 'uninjected', '-n', 'hybrid-app', '--image', 'example.invalid/app:1', '--restart', 'Never']);
  assert.equal(created.code, 0, created.stderr);
  assert.equal((await getJson(['get', 'pod', 'uninjected', '-n', 'hybrid-app'])).spec.initContainers, undefined);
  assert.match(inj.metricsText!(), /outpost_injector_failures_total\{reason="namespace_unreadable"\} 1/);
  await waitFor('an InjectionFailed Event', async () => {
    const events = await getJson(['get', 'events', '-n', 'hybrid-app', '--field-selector', 'reason=InjectionFailed']);
    return events.items.some((e: any) => e.type === 'Warning' && e.involvedObject.kind === 'Pod' && e.involvedObject.name === 'uninjected' && /created WITHOUT the Outpost proxy \(failurePolicy Ignore\)/.test(e.message));
  }, { timeoutMs: 20_000, intervalMs: 250 });
});

test('failurePolicy Fail: with the injector unreachable, the API server refuses the pod', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  const { running: inj, url } = await startInjector(kc);
  await inj.stop();
  running.splice(running.indexOf(inj), 1);
  await registerWebhook(url, 'Fail');
  const refused = await kube.kubectl(['run', 'refused', '-n', 'hybrid-app', '--image', 'example.invalid/app:1', '--restart', 'Never']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /failed calling webhook "proxy-injector.outpost.io"/);
  await registerWebhook(url, 'Ignore');
  const admitted = await kube.kubectl(['run', 'admitted', '-n', 'hybrid-app', '--image', 'example.invalid/app:1', '--restart', 'Never']);
  assert.equal(admitted.code, 0, 'with Ignore the same outage lets pods in');
  // The injector still running sees the pods that asked for a proxy and got none: a metric, an Event each.
  await waitFor('a NotInjected Event on pod admitted', async () => {
    const events = await getJson(['get', 'events', '-n', 'hybrid-app', '--field-selector', 'reason=NotInjected']);
    return events.items.some((e: any) => e.type === 'Warning' && e.involvedObject.kind === 'Pod' && e.involvedObject.name === 'admitted' && /delete the pod/.test(e.message));
  }, { timeoutMs: 20_000, intervalMs: 250 });
  const events = await getJson(['get', 'events', '-n', 'hybrid-app', '--field-selector', 'reason=NotInjected']);
  // (Each injector that ran reports once: the short-lived one above saw `uninjected` too.)
  assert.deepEqual([...new Set(events.items.map((e: any) => e.involvedObject.name))].sort(), ['admitted', 'uninjected'], 'not the opted-out or pre-injected pods, nor the injected ones');
  assert.match(first.metricsText!(), /outpost_injector_uninjected_pods_total 2/);
});

/** The serial number of the certificate an HTTPS listener serves now (a new handshake). */
function servedSerial(url: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().serialNumber);
      s.end();
    });
    s.once('error', reject);
  });
}

test('the injector re-issues its serving certificate at 70 % of its lifetime, without a restart', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  let issued = 0;
  const shortLived: IdentityAuthority = {
    ...identity,
    issueServiceCertificate: async (s) => {
      issued++;
      return authority.issueServiceCertificate(s, { listen: '127.0.0.1', lifetimeMs: 3_000, now: Date.now() });
    },
  };
  const { running: inj, url } = await startInjector(kc, shortLived);
  const before = await servedSerial(url);
  await waitFor('a re-issued certificate on a new handshake', async () => (await servedSerial(url)) !== before, { timeoutMs: 10_000, intervalMs: 200 });
  assert.ok(issued >= 2, `issued ${issued} certificates`);
  await inj.stop();
  running.splice(running.indexOf(inj), 1);
  const stoppedAt = issued;
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal(issued, stoppedAt, 'a stopped injector issues no more certificates');
});
