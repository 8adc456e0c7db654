// `outpost inject` / `uninject` and the pod mutation, table-tested against Linkerd-style manifests:
// the guide's Deployment, multi-document files, Lists, every workload kind, config annotations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { transformManifests } from '../../src/inject/manifests.js';
import { decideInjection } from '../../src/inject/annotations.js';
import { injectPodTemplate, type Container, type PodTemplate } from '../../src/inject/pod.js';
import { defaultMeshSettings } from '../../src/inject/mesh.js';
import { outpost } from '../support/cli.js';

const ANCHORS = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const mesh = defaultMeshSettings({ trustAnchorsPem: ANCHORS, createdBy: 'outpost/test', trustDomain: 'cluster.local' });
const manual = { action: 'inject', manual: true, mesh } as const;
const annotate = { action: 'inject', manual: false } as const;

// The guide's api-deployment.yaml, verbatim (with its comments).
const API_DEPLOYMENT = `# api-deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-server
  namespace: hybrid-app
spec:
  replicas: 3
  selector:
    matchLabels:
      app: api-server
  template:
    metadata:
      labels:
        app: api-server
      annotations:
        linkerd.io/inject: enabled
    spec:
      containers:
        - name: api
          image: myregistry/api-server:v1.0.0
          ports:
            - containerPort: 8080
          env:
            # The API connects to external workloads via service names
            - name: DATABASE_URL
              value: "postgres://postgres:5432/myapp"
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: postgres
  namespace: hybrid-app
spec:
  ports:
    - name: postgres
      port: 5432
  selector:
    app: postgres
`;

const template = (kind: string, name: string, extra = '') => `apiVersion: v1
kind: ${kind}
metadata:
  name: ${name}
spec:
  template:
    metadata:
      labels: { app: ${name} }${extra}
    spec:
      containers: [{ name: app, image: busybox }]
`;

type Doc = Record<string, any>;
const docsOf = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJS() as Doc);
const podTemplateOf = (d: Doc) => (d.kind === 'Pod' ? d : d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template : d.spec.template);

test('inject adds linkerd.io/inject: enabled to the pod template of every workload kind, at the right path', () => {
  const cronjob = `apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{ name: job, image: busybox }]
          restartPolicy: OnFailure
`;
  const pod = `apiVersion: v1
kind: Pod
metadata: { name: debug }
spec:
  containers: [{ name: sh, image: busybox }]
`;
  const input = [template('StatefulSet', 'db'), template('DaemonSet', 'agent'), template('Job', 'migrate'), template('ReplicaSet', 'rs'), cronjob, pod].join('---\n');
  const r = transformManifests(input, 'all.yaml', annotate);
  assert.deepEqual(r.errors, []);
  const out = docsOf(r.output);
  assert.equal(out.length, 6);
  for (const d of out) assert.equal(podTemplateOf(d).metadata.annotations['linkerd.io/inject'], 'enabled', `${d.kind} is annotated`);
  // Nothing else moved: the CronJob still runs at 3 a.m., the job template's restartPolicy is kept.
  assert.equal(out[4].spec.schedule, '0 3 * * *');
  assert.equal(out[4].spec.jobTemplate.spec.template.spec.restartPolicy, 'OnFailure');
  assert.deepEqual(r.report.map((l) => `${l.kind} "${l.name}" ${l.outcome}`), [
    'statefulset "db" injected',
    'daemonset "agent" injected',
    'job "migrate" injected',
    'replicaset "rs" injected',
    'cronjob "nightly" injected',
    'pod "debug" injected',
  ]);
});

test('inject passes other kinds through unchanged, annotates Namespaces, and keeps comments', () => {
  const ns = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hybrid-app\n`;
  const r = transformManifests([ns, SERVICE, API_DEPLOYMENT].join('---\n'), 'app.yaml', annotate);
  const [nsOut, svcOut, depOut] = docsOf(r.output);
  assert.equal(nsOut.metadata.annotations['linkerd.io/inject'], 'enabled');
  assert.deepEqual(svcOut, parse(SERVICE));
  assert.deepEqual(depOut, parse(API_DEPLOYMENT), 'the guide already annotates its template: nothing to change');
  assert.match(r.output, /# The API connects to external workloads via service names/);
  assert.deepEqual(r.report.map((l) => l.outcome), ['annotated', 'skipped', 'injected']);
  assert.match(r.report[1].detail!, /Service has no pod template/);
});

test('inject reads a List (kubectl get -o yaml) and JSON', () => {
  const list = { apiVersion: 'v1', kind: 'List', items: [parse(template('Deployment', 'web')), parse(SERVICE)] };
  const r = transformManifests(JSON.stringify(list), 'stdin', annotate);
  const out = docsOf(r.output)[0];
  assert.equal(out.items[0].spec.template.metadata.annotations['linkerd.io/inject'], 'enabled');
  assert.deepEqual(out.items[1], parse(SERVICE));
});

test('an outpost.io/inject: disabled on the template is overwritten too, so the annotation means what inject says', () => {
  const r = transformManifests(template('Deployment', 'web', '\n      annotations: { outpost.io/inject: disabled }'), 'x', annotate);
  const a = docsOf(r.output)[0].spec.template.metadata.annotations;
  assert.deepEqual(a, { 'outpost.io/inject': 'enabled', 'linkerd.io/inject': 'enabled' });
});

test('--manual: the proxy is a native sidecar after outpost-init, before the app\'s init containers', () => {
  const withInit = API_DEPLOYMENT.replace('      containers:', '      initContainers:\n        - name: migrate\n          image: migrate:1\n      containers:');
  const r = transformManifests(withInit, 'api.yaml', manual);
  assert.deepEqual(r.errors, []);
  const spec = docsOf(r.output)[0].spec.template.spec;
  assert.deepEqual(spec.initContainers.map((c: Container) => c.name), ['outpost-init', 'outpost-proxy', 'migrate']);
  const [init, proxy] = spec.initContainers;
  assert.equal(proxy.restartPolicy, 'Always');
  assert.equal(init.restartPolicy, undefined, 'outpost-init runs to completion');
  assert.deepEqual(init.args.slice(0, 2), ['proxy-init', '--pod']);
  assert.deepEqual(init.securityContext.capabilities, { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] });
  assert.equal(proxy.securityContext.runAsUser, 2102);
  assert.equal(proxy.securityContext.runAsNonRoot, true);
  assert.deepEqual(spec.containers.map((c: Container) => c.name), ['api'], 'the app containers are untouched');
  const token = spec.volumes.find((v: Doc) => v.name === 'outpost-identity-token').projected.sources[0].serviceAccountToken;
  assert.deepEqual(token, { audience: 'identity.outpost.io', expirationSeconds: 600, path: 'token' });
  const env = Object.fromEntries(proxy.env.map((e: Doc) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
  assert.equal(env.OUTPOST_PROXY_WORKLOAD_NAME, 'metadata.name');
  assert.equal(env.OUTPOST_PROXY_WORKLOAD_KIND, 'Pod');
  assert.equal(env.OUTPOST_PROXY_IDENTITY_TOKEN_PATH, '/var/run/secrets/outpost.io/serviceaccount/token');
  assert.equal(env.OUTPOST_PROXY_IDENTITY_TRUST_ANCHORS_PEM, ANCHORS);
  assert.equal(env.OUTPOST_PROXY_DESTINATION_ENDPOINT, 'outpost-destination.outpost.svc.cluster.local:8086');
  assert.equal(env.OUTPOST_PROXY_INBOUND_PORTS, '8080', 'the inbound forwards only to the containers\' declared ports');
  const meta = docsOf(r.output)[0].spec.template.metadata;
  assert.equal(meta.annotations['outpost.io/identity'], 'spiffe://cluster.local/ns/hybrid-app/sa/default');
  assert.equal(meta.labels['linkerd.io/proxy-deployment'], 'api-server');
  assert.equal(meta.annotations['linkerd.io/proxy-version'], mesh.version);
  assert.match(r.output, /# The API connects to external workloads via service names/, 'comments inside the app container survive');
});

const manualAnnotations = (annotations: Record<string, string>) => {
  const t: PodTemplate = { metadata: { annotations: { 'linkerd.io/inject': 'enabled', ...annotations } }, spec: { serviceAccountName: 'api-server', containers: [{ name: 'api' }] } };
  return injectPodTemplate(t, { namespace: 'hybrid-app' }, mesh);
};

test('Linkerd config annotations tune the proxy and the capture rules', () => {
  const cases: [Record<string, string>, (init: Doc, proxy: Doc) => void][] = [
    [{ 'config.linkerd.io/skip-inbound-ports': '22,8000-8002' }, (init) => assert.equal(init.args[init.args.indexOf('--skip-inbound-ports') + 1], '22,4143,4190,4191,8000,8001,8002')],
    [{ 'config.linkerd.io/skip-outbound-ports': '3306,5432' }, (init) => assert.equal(init.args[init.args.indexOf('--skip-outbound-ports') + 1], '3306,5432')],
    [{ 'config.linkerd.io/skip-outbound-ips': '10.96.0.1,192.168.0.0/16' }, (init) => assert.equal(init.args[init.args.indexOf('--skip-outbound-cidrs') + 1], '10.96.0.1/32,192.168.0.0/16')],
    [{ 'config.linkerd.io/proxy-uid': '2200' }, (init, proxy) => (assert.equal(init.args[init.args.indexOf('--proxy-uid') + 1], '2200'), assert.equal(proxy.securityContext.runAsUser, 2200))],
    [{ 'config.linkerd.io/proxy-cpu-request': '100m', 'config.linkerd.io/proxy-memory-limit': '250Mi' }, (_, proxy) => assert.deepEqual(proxy.resources, { requests: { cpu: '100m' }, limits: { memory: '250Mi' } })],
    [{ 'config.linkerd.io/proxy-log-level': 'warn,linkerd=info' }, (_, proxy) => assert.ok(proxy.env.some((e: Doc) => e.name === 'OUTPOST_PROXY_LOG_LEVEL' && e.value === 'warn'))],
    [{ 'config.linkerd.io/proxy-image': 'registry.local/outpost', 'config.linkerd.io/proxy-version': 'dev' }, (init, proxy) => (assert.equal(proxy.image, 'registry.local/outpost:dev'), assert.equal(init.image, 'registry.local/outpost:dev'))],
  ];
  for (const [annotations, check] of cases) {
    const out = manualAnnotations(annotations);
    assert.equal(out.result, 'injected', JSON.stringify(annotations));
    if (out.result !== 'injected') continue;
    const [init, proxy] = out.template.spec!.initContainers!;
    check(init, proxy);
    assert.equal(out.identity, 'spiffe://cluster.local/ns/hybrid-app/sa/api-server');
  }
});

test('bad config annotations are all reported, each naming the annotation', () => {
  const out = manualAnnotations({ 'config.linkerd.io/proxy-uid': 'root', 'config.linkerd.io/skip-inbound-ports': '80,http', 'config.linkerd.io/proxy-memory-request': 'lots', 'config.linkerd.io/skip-outbound-ips': '10.0.0.0/33' });
  assert.equal(out.result, 'invalid');
  assert.deepEqual(out.result === 'invalid' ? out.errors.map((e) => e.split(':')[0]) : [], [
    'annotation config.linkerd.io/proxy-uid',
    'annotation config.linkerd.io/proxy-memory-request',
    'annotation config.linkerd.io/skip-inbound-ports',
    'annotation config.linkerd.io/skip-outbound-ips',
  ]);
});

test('who is injected: disabled on the pod wins over the namespace; the namespace decides otherwise', () => {
  const cases: [Record<string, string> | undefined, Record<string, string> | undefined, boolean][] = [
    [{ 'linkerd.io/inject': 'enabled' }, undefined, true],
    [undefined, { 'linkerd.io/inject': 'enabled' }, true],
    [undefined, { 'outpost.io/inject': 'enabled' }, true],
    [{ 'linkerd.io/inject': 'disabled' }, { 'linkerd.io/inject': 'enabled' }, false],
    [{ 'outpost.io/inject': 'disabled', 'linkerd.io/inject': 'enabled' }, undefined, false],
    [{ 'linkerd.io/inject': 'enabled' }, { 'linkerd.io/inject': 'disabled' }, true],
    [{ 'linkerd.io/inject': 'ingress' }, { 'linkerd.io/inject': 'enabled' }, false],
    [undefined, undefined, false],
    [{}, { 'linkerd.io/inject': 'disabled' }, false],
  ];
  for (const [pod, ns, want] of cases) assert.equal(decideInjection(pod, ns).inject, want, `pod ${JSON.stringify(pod)} ns ${JSON.stringify(ns)}`);
});

test('injection is idempotent, refuses hostNetwork pods, and uninject restores the manifest', () => {
  const once = transformManifests(API_DEPLOYMENT, 'api.yaml', manual);
  const twice = transformManifests(once.output, 'api.yaml', manual);
  assert.equal(twice.output, once.output);
  assert.deepEqual(twice.report.map((l) => l.detail), ['already injected']);
  const linkerdInjected = `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers: [{ name: app }, { name: linkerd-proxy }]\n`;
  assert.equal(transformManifests(linkerdInjected, 'p', manual).report[0].detail, 'already injected');
  const host = injectPodTemplate({ metadata: { annotations: { 'linkerd.io/inject': 'enabled' } }, spec: { hostNetwork: true, containers: [] } }, { namespace: 'x' }, mesh);
  assert.equal(host.result, 'skipped');

  const back = transformManifests(once.output, 'api.yaml', { action: 'uninject' });
  const expected = parse(API_DEPLOYMENT);
  delete expected.spec.template.metadata.annotations;
  assert.deepEqual(docsOf(back.output)[0], expected);
  assert.deepEqual(back.report.map((l) => l.outcome), ['uninjected']);
  assert.deepEqual(transformManifests(SERVICE, 's', { action: 'uninject' }).report[0].outcome, 'skipped');
});

test('outpost inject / uninject on the command line: stdin, files, report on stderr, bad input exits 2 with one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-inject-'));
  writeFileSync(join(dir, 'ca.crt'), ANCHORS);
  writeFileSync(join(dir, 'web.yaml'), template('Deployment', 'web'));
  const piped = await outpost(['inject', '-'], { input: template('Deployment', 'web') });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(docsOf(piped.stdout)[0].spec.template.metadata.annotations['linkerd.io/inject'], 'enabled');
  assert.match(piped.stderr, /deployment "web" injected/);

  const manualRun = await outpost(['inject', '--manual', '--trust-anchors', join(dir, 'ca.crt'), '--destination-address', '198.18.0.1:8086', join(dir, 'web.yaml')]);
  assert.equal(manualRun.code, 0, manualRun.stderr);
  const proxy = docsOf(manualRun.stdout)[0].spec.template.spec.initContainers[1];
  assert.ok(proxy.env.some((e: Doc) => e.name === 'OUTPOST_PROXY_DESTINATION_ENDPOINT' && e.value === '198.18.0.1:8086'));
  const un = await outpost(['uninject', '-'], { input: manualRun.stdout });
  assert.equal(un.code, 0);
  assert.deepEqual(docsOf(un.stdout)[0], parse(template('Deployment', 'web')));

  const bad = await outpost(['inject', '--manual', '--trust-anchors', join(dir, 'ca.crt'), '-'], { input: template('Deployment', 'web', '\n      annotations: { config.linkerd.io/proxy-uid: "-1" }') });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /stdin: deployment "web": annotation config.linkerd.io\/proxy-uid: "-1" is not a uid/);
  assert.equal(bad.stdout, '', 'nothing half-written on stdout');
  const missing = await outpost(['inject', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope.yaml: no such file/);
  const broken = await outpost(['inject', '-'], { input: 'kind: Deployment\n  bad: : :\n' });
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /stdin: invalid YAML/);
});

test('the injected proxy container\'s environment is a configuration the proxy accepts, as a pod (no health stream)', async () => {
  const { parseProxyConfig } = await import('../../src/proxy/config.js');
  const out = manualAnnotations({ 'config.linkerd.io/proxy-log-level': 'debug' });
  assert.equal(out.result, 'injected');
  const proxy = out.result === 'injected' ? out.template.spec!.initContainers![1] : undefined;
  // The kubelet resolves the downward-API fields; here the pod is api-server-abc in hybrid-app.
  const fields: Record<string, string> = { 'metadata.name': 'api-server-abc', 'metadata.namespace': 'hybrid-app' };
  const env = Object.fromEntries((proxy!.env as Doc[]).map((e) => [e.name, e.value ?? fields[e.valueFrom.fieldRef.fieldPath]]));
  const config = parseProxyConfig({}, env);
  assert.equal(config.identity.trustAnchorsPem, ANCHORS);
  assert.equal(config.identity.tokenPath, '/var/run/secrets/outpost.io/serviceaccount/token');
  assert.deepEqual(config.workload, { name: 'api-server-abc', namespace: 'hybrid-app', group: undefined, address: undefined, kind: 'Pod' });
  assert.equal(config.health.endpoint, undefined, 'the kubelet probes a pod; no ExternalWorkload health stream');
  assert.deepEqual(config.policy.endpoint, { host: 'outpost-policy.outpost.svc.cluster.local', port: 8090 });
  assert.equal(config.log.level, 'debug');
  assert.deepEqual(config.inbound.ports, env.OUTPOST_PROXY_INBOUND_PORTS ? env.OUTPOST_PROXY_INBOUND_PORTS.split(',').map(Number) : []);
  assert.throws(() => parseProxyConfig({}, { ...env, OUTPOST_PROXY_IDENTITY_TRUST_ANCHORS_PEM: 'not a pem' }), /identity.trustAnchorsPem: must hold PEM certificates/);
});
