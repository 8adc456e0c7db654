// Issue 13's proof on a real cluster: the guide's namespace and api-deployment.yaml applied with
// kubectl → the real kube-controller-manager creates the ReplicaSet and 3 Pods → the real
// kube-apiserver calls the injector → the stored Pods carry outpost-init and the proxy sidecar.
// There is no kubelet, so the test plays it for one Pod: it runs that Pod's outpost-init args
// (real iptables in a network namespace with the Pod's IP) and its proxy container (its env, the
// projected token minted by the real TokenRequest API for that pod, as uid 2102), patches the Pod's
// IP and Ready condition, and shows pod → VM (postgres, through the capture) and VM → pod requests
// over mTLS with the right identities in both proxies' metrics, the guide's policy enforced.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRealKubernetes, type RealKubernetes } from '../support/real-kubernetes.js';
import { canUseNetns } from '../support/netns.js';
import { REPO_ROOT } from '../support/paths.js';
import { waitFor } from '../support/wait.js';
import { createE2eNetwork, type E2eHost, type E2eNetwork } from '../e2e/hosts.js';
import { startControlPlane, type RunningControlPlane } from '../../src/controlplane/start.js';
import { createLogger, silentLogger } from '../../src/core/log.js';
import { renderCrds } from '../../src/install/crds.js';
import { renderWebhookConfiguration } from '../../src/injector/webhook-config.js';
import { FREE_PORTS } from '../support/control-plane.js';

const skip = canUseNetns() ? false : 'needs root and network namespaces (ip netns)';
const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');
const APPS = join(REPO_ROOT, 'test', 'kubernetes', 'fixtures', 'apps.ts');
const BRIDGE = join(REPO_ROOT, 'test', 'kubernetes', 'fixtures', 'ns-bridge.ts');
// By path: commands in a VM's mount namespace start in / where `tsx` does not resolve.
const TSX = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const NODE = [process.execPath, '--import', TSX];
const NS = 'hybrid-app';
const API_ID = 'spiffe://cluster.local/ns/hybrid-app/sa/api-server';
const PG_ID = 'spiffe://cluster.local/ns/hybrid-app/sa/postgres';
const guide = (f: string) => readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'guide', f), 'utf8');

let kube: RealKubernetes;
let net: E2eNetwork;
let cp: RunningControlPlane;
let work: string;
let podHost: E2eHost;
let vmHost: E2eHost;
let pod: any;
const rootProcs: ChildProcess[] = [];
const NODE_NAME = 'bench-node';
let heartbeats: NodeJS.Timeout | undefined;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const k = async (args: string[], input?: string) => {
  const r = await kube.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const metricsOf = async (host: E2eHost) => (await net.exec(host, 'curl', ['-s', 'http://127.0.0.1:4191/metrics'])).stdout;

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'outpost-pods-'));
  kube = await startRealKubernetes();
  // The CRDs `outpost install` renders, so the control plane's informers find their kinds.
  await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: renderCrds() }));
  await k(['wait', '--for', 'condition=established', 'crd', '--all', '--timeout', '60s']);
  // Pods and VMs on one bridge; a subnet clear of the bench's Service range (198.19.252.0/22; docs/kubernetes.md).
  for (;;) {
    net = createE2eNetwork(['pod', 'vm'], join(work, 'disks'), { ipv6: true });
    if (Number(net.cluster.address.split('.')[2]) < 252) break;
    await net.destroy();
  }
  [podHost, vmHost] = net.vms;
  const gw = net.cluster.address;
  const ports = { identity: await freePort(), destination: await freePort(), policy: await freePort(), health: await freePort() };
  const log = process.env.OUTPOST_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger;
  cp = await startControlPlane({
    dataDir: join(work, 'cp'),
    listen: '127.0.0.1',
    apiPort: 0,
    kubeconfig: kube.kubeconfig,
    componentCredentials: 'kubeconfig',
    log,
    flags: {
      ...FREE_PORTS,
      'identity-port': ports.identity, 'destination-port': ports.destination, 'policy-port': ports.policy, 'health-port': ports.health,
      injector: true, 'injector-port': 0,
      'injector-identity-address': `${gw}:${ports.identity}`, 'injector-destination-address': `${gw}:${ports.destination}`, 'injector-policy-address': `${gw}:${ports.policy}`,
    },
  });
  // The control plane listens on 127.0.0.1; proxies in the namespaces reach it at the bridge address.
  for (const port of Object.values(ports)) {
    const sock = join(work, `cp-${port}.sock`);
    const root = spawn(process.execPath, ['--import', TSX, BRIDGE, 'listen-unix', sock, `127.0.0.1:${port}`], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    rootProcs.push(root);
    await new Promise((r) => root.stdout!.once('data', r));
    net.start(net.cluster, `bridge-${port}`, process.execPath, ['--import', TSX, BRIDGE, 'listen-tcp', `${gw}:${port}`, sock], join(work, `bridge-${port}.log`));
  }
  const webhook = renderWebhookConfiguration({ trustAnchorsPem: readFileSync(join(work, 'cp', 'pki', 'trust-anchors.crt'), 'utf8'), failurePolicy: 'Ignore', url: cp.info.listeners.injector });
  await k(['apply', '-f', '-'], JSON.stringify(webhook));
});

after(async () => {
  if (heartbeats) clearInterval(heartbeats);
  await net?.destroy();
  for (const p of rootProcs) p.kill();
  await cp?.stop();
  await kube?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the guide's Deployment gets injected Pods; one of them, run as the kubelet would, talks to a VM over mTLS both ways", { skip, timeout: 420_000 }, async (t) => {
  // The guide's manifests; the VM's address is the test's, and the Deployment runs as ServiceAccount
  // api-server (the guide's policy admits that ServiceAccount only).
  const namespaceAndPostgres = guide('namespace.yaml').split(/^---$/m).filter((d) => /kind: Namespace|name: postgres-primary/.test(d)).join('---\n').replace('10.0.100.50', vmHost.address);
  const services = guide('services.yaml').split(/^---$/m).filter((d) => /name: postgres\b/.test(d)).join('\n');
  const deployment = guide('api-deployment.yaml').replace(/( +)containers:/, '$1serviceAccountName: api-server\n$1containers:');
  await k(['apply', '-f', '-'], namespaceAndPostgres);
  await k(['create', 'serviceaccount', 'api-server', '-n', NS]);
  await k(['create', 'serviceaccount', 'postgres', '-n', NS]);
  await k(['annotate', 'externalworkload', 'postgres-primary', '-n', NS, 'outpost.io/service-account=postgres']);
  await k(['apply', '-f', '-'], `${services}\n---\n${guide('traffic-policy.yaml')}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api-server, namespace: ${NS}}\nspec:\n  selector: {app: api-server}\n  ports: [{name: http, port: 8080, targetPort: 8080}]\n`);
  await k(['apply', '-f', '-'], deployment);

  let pods: any[] = [];
  await waitFor('3 injected pods of api-server', async () => {
    pods = JSON.parse((await kube.kubectl(['get', 'pods', '-n', NS, '-l', 'app=api-server', '-o', 'json'])).stdout).items;
    return pods.length === 3;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  for (const p of pods) assert.deepEqual(p.spec.initContainers.map((c: any) => c.name), ['outpost-init', 'outpost-proxy']);
  pod = pods[0];
  const [init, proxy] = pod.spec.initContainers;

  // The kubelet's part. A Node it heartbeats (the EndpointSlice controller skips pods on unknown
  // nodes, the node lifecycle controller marks pods of a silent node not ready), the pod bound to it,
  // its IP, its projected token, outpost-init, the proxy as uid 2102, the app.
  await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE_NAME, labels: { 'kubernetes.io/hostname': NODE_NAME } } }));
  const heartbeat = async () => {
    const now = new Date().toISOString();
    await kube.kubectl(['patch', 'node', NODE_NAME, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'played by the test', lastHeartbeatTime: now, lastTransitionTime: now }], addresses: [{ type: 'InternalIP', address: podHost.address }] } })]);
    await kube.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: NODE_NAME, namespace: 'kube-node-lease' }, spec: { holderIdentity: NODE_NAME, leaseDurationSeconds: 40, renewTime: now.replace('Z', '000Z') } }));
  };
  await heartbeat();
  heartbeats = setInterval(() => void heartbeat(), 5_000);
  await k(['create', '--raw', `/api/v1/namespaces/${NS}/pods/${pod.metadata.name}/binding`, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name, namespace: NS }, target: { apiVersion: 'v1', kind: 'Node', name: NODE_NAME } }));
  await k(['patch', 'pod', pod.metadata.name, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', podIP: podHost.address, podIPs: [{ ip: podHost.address }] } })]);
  const projected = pod.spec.volumes.find((v: any) => v.name === 'outpost-identity-token').projected.sources[0].serviceAccountToken;
  const token = (await k(['create', 'token', 'api-server', '-n', NS, '--audience', projected.audience, '--duration', `${projected.expirationSeconds}s`, '--bound-object-kind', 'Pod', '--bound-object-name', pod.metadata.name, '--bound-object-uid', pod.metadata.uid])).trim();
  const podDir = join(work, 'pod');
  chmodSync(work, 0o711); // the proxy's uid must reach its own token and state dir (both 0600/0700, its own)
  mkdirSync(join(podDir, 'identity'), { recursive: true, mode: 0o700 });
  writeFileSync(join(podDir, 'token'), token, { mode: 0o600 });
  for (const f of ['', 'identity', 'token']) chownSync(join(podDir, f), 2102, 2102);
  const initRun = await net.exec(podHost, process.execPath, ['--import', TSX, MAIN, ...init.args]);
  assert.equal(initRun.code, 0, initRun.stderr);
  const fields: Record<string, string> = { 'metadata.name': pod.metadata.name, 'metadata.namespace': NS };
  const env: Record<string, string> = Object.fromEntries(proxy.env.map((e: any) => [e.name, e.value ?? fields[e.valueFrom.fieldRef.fieldPath]]));
  // Where the kubelet would mount the token and the memory volume.
  env.OUTPOST_PROXY_IDENTITY_TOKEN_PATH = join(podDir, 'token');
  env.OUTPOST_PROXY_IDENTITY_DIR = join(podDir, 'identity');
  assert.deepEqual(proxy.command, ['outpost']);
  const startPodProxy = () => net.start(podHost, 'pod-proxy', 'setpriv', [`--reuid=${proxy.securityContext.runAsUser}`, `--regid=${proxy.securityContext.runAsGroup}`, '--clear-groups', ...NODE, MAIN, ...proxy.args], join(work, 'pod-proxy.log'), env);
  let podProxy = startPodProxy();
  net.start(podHost, 'api', process.execPath, ['--import', TSX, APPS, 'http', 'api-server', '8080'], join(work, 'api.log'));
  await waitFor('the pod proxy to be ready', async () => (await net.exec(podHost, 'curl', ['-sf', 'http://127.0.0.1:4191/ready'])).code === 0, { timeoutMs: 60_000, intervalMs: 500 }).catch((e) => {
    throw new Error(`${e.message}\n${net.tail(podProxy, 30)}`);
  });
  await waitFor('an IdentityIssued Event on the Pod', async () => {
    const events = JSON.parse(await k(['get', 'events', '-n', NS, '--field-selector', `involvedObject.kind=Pod,involvedObject.name=${pod.metadata.name}`, '-o', 'json'])).items;
    return events.some((e: any) => e.reason === 'IdentityIssued' && e.message.includes(API_ID));
  }, { timeoutMs: 20_000, intervalMs: 250 });
  await k(['patch', 'pod', pod.metadata.name, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }] } })]);

  // The VM: postgres (a line server with /health for the guide's probe) and its proxy, bootstrapped with a token.
  const vmDir = join(work, 'vm');
  mkdirSync(vmDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(vmDir, 'token'), (await k(['create', 'token', 'postgres', '-n', NS, '--audience', 'identity.outpost.io', '--duration', '1h'])).trim(), { mode: 0o600 });
  net.start(vmHost, 'postgres', process.execPath, ['--import', TSX, APPS, 'postgres', '5432', '8081'], join(work, 'postgres.log'));
  const gw = net.cluster.address;
  const vmProxy = net.start(vmHost, 'vm-proxy', process.execPath, ['--import', TSX, MAIN, 'proxy'], join(work, 'vm-proxy.log'), {
    OUTPOST_PROXY_IDENTITY_TRUST_ANCHORS: join(work, 'cp', 'pki', 'trust-anchors.crt'),
    OUTPOST_PROXY_IDENTITY_TOKEN_PATH: join(vmDir, 'token'),
    OUTPOST_PROXY_IDENTITY_DIR: join(vmDir, 'identity'),
    OUTPOST_PROXY_IDENTITY_ENDPOINT: env.OUTPOST_PROXY_IDENTITY_ENDPOINT,
    OUTPOST_PROXY_DESTINATION_ENDPOINT: env.OUTPOST_PROXY_DESTINATION_ENDPOINT,
    OUTPOST_PROXY_POLICY_ENDPOINT: env.OUTPOST_PROXY_POLICY_ENDPOINT,
    OUTPOST_PROXY_HEALTH_ENDPOINT: `${gw}:${new URL(`tcp://${cp.info.listeners.health}`).port}`,
    OUTPOST_PROXY_WORKLOAD_NAME: 'postgres-primary',
    OUTPOST_PROXY_WORKLOAD_NAMESPACE: NS,
    OUTPOST_PROXY_UPSTREAMS: JSON.stringify([
      { service: `api-server.${NS}`, port: 8080, listen: '127.0.0.1:18080' },
      { service: `postgres.${NS}`, port: 5432, listen: '127.0.0.1:15432', protocol: 'opaque' },
    ]),
  });
  await waitFor('the VM proxy to be ready', async () => (await net.exec(vmHost, 'curl', ['-sf', 'http://127.0.0.1:4191/ready'])).code === 0, { timeoutMs: 60_000, intervalMs: 500 }).catch((e) => {
    throw new Error(`${e.message}\n${net.tail(vmProxy, 30)}`);
  });
  await waitFor('ExternalWorkload postgres-primary Ready', async () => /True/.test((await kube.kubectl(['get', 'ew', 'postgres-primary', '-n', NS, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout), { timeoutMs: 60_000, intervalMs: 500 });
  await waitFor("the real EndpointSlice controller's slice with the pod", async () => {
    const slices = JSON.parse((await kube.kubectl(['get', 'endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=api-server', '-o', 'json'])).stdout).items;
    return slices.some((s: any) => (s.endpoints ?? []).some((e: any) => e.addresses.includes(podHost.address) && e.targetRef?.kind === 'Pod' && e.conditions?.ready));
  }, { timeoutMs: 60_000, intervalMs: 500 });

  await t.test('pod → VM: the app dials the postgres Service IP, outpost-init captures it, the proxies speak mTLS', async () => {
    const clusterIP = (await k(['get', 'svc', 'postgres', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    let out = '';
    await waitFor('a pong from postgres through the mesh', async () => {
      const r = await net.exec(podHost, process.execPath, ['--import', TSX, APPS, 'tcp-client', clusterIP, '5432', 'hello from the pod']);
      out = r.stdout + r.stderr;
      return r.code === 0 && /pong: hello from the pod/.test(r.stdout);
    }, { timeoutMs: 30_000, intervalMs: 500 }).catch((e) => {
      throw new Error(`${e.message}: ${out}\n${net.tail(podProxy)}\n${net.tail(vmProxy)}`);
    });
    const podMetrics = await metricsOf(podHost);
    assert.match(podMetrics, new RegExp(`direction="outbound"[^\\n]*tls="true"[^\\n]*server_id="${PG_ID}"`), 'the pod proxy saw the VM\'s identity');
    const vmMetrics = await metricsOf(vmHost);
    assert.match(vmMetrics, new RegExp(`direction="inbound"[^\\n]*tls="true"[^\\n]*client_id="${API_ID}"`), "the VM proxy saw the pod's identity");
  });

  await t.test('VM → pod: the api-server Service resolves to the pod, with its ServiceAccount identity', async () => {
    let out = '';
    await waitFor('an answer from the pod', async () => {
      const r = await net.exec(vmHost, 'curl', ['-s', '--max-time', '3', 'http://127.0.0.1:18080/']);
      out = r.stdout + r.stderr;
      return r.code === 0 && r.stdout.trim() === 'api-server';
    }, { timeoutMs: 30_000, intervalMs: 500 }).catch((e) => {
      throw new Error(`${e.message}: ${out}\n${net.tail(podProxy)}\n${net.tail(vmProxy)}`);
    });
    assert.match(await metricsOf(vmHost), new RegExp(`direction="outbound"[^\\n]*tls="true"[^\\n]*server_id="${API_ID}"`));
    assert.match(await metricsOf(podHost), new RegExp(`direction="inbound"[^\\n]*tls="true"[^\\n]*client_id="${PG_ID}"`));
  });

  await t.test("Server.podSelector selects the pod: only postgres' ServiceAccount may call api-server, the pod itself is refused", async () => {
    await k(['apply', '-f', '-'], `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: api-server-http, namespace: ${NS}}
spec:
  podSelector: {matchLabels: {app: api-server}}
  port: 8080
  proxyProtocol: HTTP/1
---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: api-server-from-postgres, namespace: ${NS}}
spec:
  server: {name: api-server-http}
  client: {meshTLS: {serviceAccounts: [{name: postgres}]}}
`);
    const apiIP = (await k(['get', 'svc', 'api-server', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    // The pod's own app (ServiceAccount api-server) through the capture: refused once the Server applies.
    let status = '';
    await waitFor('the pod to be refused by its own Server', async () => {
      const r = await net.exec(podHost, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', `http://${apiIP}:8080/`]);
      status = r.stdout;
      return status === '403';
    }, { timeoutMs: 30_000, intervalMs: 500 }).catch((e) => {
      throw new Error(`${e.message}: last status ${status}\n${net.tail(podProxy)}`);
    });
    const vm = await net.exec(vmHost, 'curl', ['-s', '--max-time', '3', 'http://127.0.0.1:18080/']);
    assert.equal(vm.stdout.trim(), 'api-server', 'postgres is authorized');
  });

  await t.test('the pod token is not single-use: a restarted sidecar (its memory volume gone) enrols again with it', async () => {
    await net.stop(podProxy);
    rmSync(join(podDir, 'identity'), { recursive: true, force: true });
    mkdirSync(join(podDir, 'identity'), { mode: 0o700 });
    chownSync(join(podDir, 'identity'), 2102, 2102);
    podProxy = startPodProxy();
    await waitFor('the restarted pod proxy to be ready', async () => (await net.exec(podHost, 'curl', ['-sf', 'http://127.0.0.1:4191/ready'])).code === 0, { timeoutMs: 60_000, intervalMs: 500 }).catch((e) => {
      throw new Error(`${e.message}\n${net.tail(podProxy, 30)}`);
    });
    assert.ok(readFileSync(join(podDir, 'token'), 'utf8').trim(), 'the projected token file is left in place');
  });

  await t.test("the guide's policy: only api-server may reach postgres", async () => {
    // The VM itself (ServiceAccount postgres) through its own proxy is refused by postgres-server's authorization.
    const r = await net.exec(vmHost, process.execPath, ['--import', TSX, APPS, 'tcp-client', '127.0.0.1', '15432', 'hello from postgres']);
    assert.doesNotMatch(r.stdout, /pong/);
    assert.notEqual(r.code, 0);
    const r2 = await net.exec(podHost, process.execPath, ['--import', TSX, APPS, 'tcp-client', (await k(['get', 'svc', 'postgres', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])).trim(), '5432', 'again']);
    assert.match(r2.stdout, /pong: again/, 'api-server still is');
  });
});
