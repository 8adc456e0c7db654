// The guide on a real cluster, end to end: a "cluster" network namespace runs the real-Kubernetes
// bench (etcd, kube-apiserver, kube-controller-manager) and `outpost up --kubeconfig` (each
// component as its own ServiceAccount), after `outpost install | kubectl apply --server-side`.
// Two VMs (network namespaces) are onboarded with `outpost workload onboard`: their proxies get
// certificates with tokens the real API minted and reviewed (TokenReview as outpost-identity), the
// real cluster holds their EndpointSlice, and vm2's app reaches vm1's over mTLS.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, run } from '../support/cli.js';
import { createE2eNetwork, type E2eHost, type E2eNetwork, type HostProcess } from '../e2e/hosts.js';
import { writeVmTools } from '../e2e/vm-tools.js';
import { installCaMaterial } from '../../src/install/ca.js';
import { OUTPOST, eventually as eventuallyWithLogs, orderedSteps, scenarioSkip } from '../e2e/scenario.js';

const BENCH = join(REPO_ROOT, 'scripts', 'real-kubernetes.sh');
const NS = 'payments';
const SERVICE = 'payment-processor';
const SERVER_VM = 'payment-processor-vm-1';
const CLIENT_VM = 'checkout-vm-1';
const SERVER_ID = `spiffe://cluster.local/ns/${NS}/sa/${SERVER_VM}`;
const CLIENT_ID = `spiffe://cluster.local/ns/${NS}/sa/${CLIENT_VM}`;
const UNIT = 'outpost-proxy.service';

const skip = scenarioSkip(['curl', 'nsenter', 'unshare', 'setpriv'], 'curl, nsenter, unshare and setpriv (util-linux)');

describe('the guide on a real cluster: VMs onboarded, certified through the real TokenReview, talking mTLS', { skip, timeout: 300_000 }, () => {
  let net: E2eNetwork;
  let work: string;
  let kubeDir: string;
  let dataDir: string;
  let cluster: E2eHost;
  let vm1: E2eHost;
  let vm2: E2eHost;
  let vmBin: string;
  let controlPlane: HostProcess;
  const procs: HostProcess[] = [];
  const { step } = orderedSteps();

  const bundle = (vm: string) => join(work, `${vm}-bundle`);
  const unitsDir = (vm: E2eHost) => join(work, `units-${vm.name}`);
  const unitLog = (vm: E2eHost) => (existsSync(join(unitsDir(vm), `${UNIT}.log`)) ? readFileSync(join(unitsDir(vm), `${UNIT}.log`), 'utf8').split('\n').slice(-15).join('\n') : '(no log)');
  const logs = () => [...procs.map((p) => net.tail(p, 25)), ...[vm1, vm2].map((vm) => `--- proxy on ${vm.name} ---\n${unitLog(vm)}`)].join('\n');
  const kubectl = (args: string[], timeoutMs = 30_000) => net.exec(cluster, 'kubectl', ['--kubeconfig', join(kubeDir, 'kubeconfig'), '--cache-dir', join(work, 'kube-cache'), ...args], { timeoutMs });
  const outpostOn = (host: E2eHost, args: string[]) => net.exec(host, OUTPOST[0], [...OUTPOST.slice(1), ...args], { timeoutMs: 60_000 });
  const onVm = (vm: E2eHost, cmd: string, args: string[]) => net.exec(vm, cmd, args, { env: { PATH: `${vmBin}:${process.env.PATH}`, OUTPOST_E2E_UNITS: unitsDir(vm) }, timeoutMs: 60_000 });

  const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number) => eventuallyWithLogs(what, fn, timeoutMs, logs, 250);

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'outpost-kube-vms-'));
    kubeDir = join(work, 'kube');
    dataDir = join(work, 'cluster-data');
    vmBin = writeVmTools(work);
    net = createE2eNetwork(['vm1', 'vm2'], work);
    ({ cluster } = net);
    [vm1, vm2] = net.vms;

    // The real cluster runs on the cluster host's loopback, like a control-plane node's.
    const up = await net.exec(cluster, 'bash', [BENCH, 'up', kubeDir], { timeoutMs: 180_000 });
    assert.equal(up.code, 0, `the real-Kubernetes bench did not start:\n${up.stderr}`);

    const { material } = await installCaMaterial({}, 'cluster.local');
    writeFileSync(join(work, 'anchors.crt'), material.trustAnchorsPem);
    writeFileSync(join(work, 'issuer.crt'), material.issuerCertPem);
    writeFileSync(join(work, 'issuer.key'), material.issuerKeyPem, { mode: 0o600 });
    const caFlags = ['--identity-trust-anchors-file', join(work, 'anchors.crt'), '--identity-issuer-cert', join(work, 'issuer.crt'), '--identity-issuer-key', join(work, 'issuer.key')];
    const rendered = await run(OUTPOST[0], [...OUTPOST.slice(1), 'install', '--out', join(work, 'install'), ...caFlags], { cwd: REPO_ROOT });
    assert.equal(rendered.code, 0, rendered.stderr);
    const applied = await kubectl(['apply', '--server-side', '-f', join(work, 'install')], 60_000);
    assert.equal(applied.code, 0, applied.stderr);
    const established = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=outpost'], 70_000);
    assert.equal(established.code, 0, established.stderr);

    controlPlane = net.start(cluster, 'outpost up --kubeconfig', OUTPOST[0], [
      ...OUTPOST.slice(1), 'up', '--kubeconfig', join(kubeDir, 'kubeconfig'), '--data-dir', dataDir, '--listen', cluster.address, ...caFlags,
      '--identity-port', '0', '--destination-port', '0', '--policy-port', '0', '--health-port', '0', '--admin-port', '0', '--viz-port', '0', '--scrape-interval', '1s',
    ], join(work, 'control-plane.log'));
    procs.push(controlPlane);
    await eventually('outpost up --kubeconfig', async () => {
      if (controlPlane.child.exitCode !== null) assert.fail(`outpost up exited with ${controlPlane.child.exitCode}`);
      return readFileSync(controlPlane.logFile, 'utf8').includes('Outpost control plane is up') ? true : undefined;
    }, 60_000);
    const app = `require('node:http').createServer((q, s) => s.end('payment-processor on vm1 ' + q.url)).listen(8080, '127.0.0.1')`;
    procs.push(net.start(vm1, 'app@vm1', process.execPath, ['-e', app], join(work, 'app-vm1.log')));
  });

  after(async () => {
    await net?.destroy();
    if (kubeDir) await run('bash', [BENCH, 'down', kubeDir], { timeoutMs: 60_000 });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  step("applies the guide's Service and onboards two VMs (ServiceAccount, token and workload in the real cluster)", async () => {
    const ns = await kubectl(['create', 'namespace', NS]);
    assert.equal(ns.code, 0, ns.stderr);
    const applied = await kubectl(['apply', '-f', join(REPO_ROOT, 'test', 'fixtures', 'guide', 'payment-service.yaml')]);
    assert.equal(applied.code, 0, applied.stderr);
    for (const [vm, name, extra] of [
      [vm1, SERVER_VM, ['--port', 'http:8080', '--label', `app=${SERVICE}`]],
      [vm2, CLIENT_VM, ['--label', 'app=checkout']],
    ] as const) {
      const r = await outpostOn(cluster, ['workload', 'onboard', name, '-n', NS, '--ip', vm.address, ...extra, '--control-plane-host', cluster.address, '--data-dir', dataDir, '--out', bundle(name)]);
      assert.equal(r.code, 0, `onboard ${name}: ${r.stderr}\n${r.stdout}`);
    }
    const sa = await kubectl(['get', 'serviceaccount', SERVER_VM, '-n', NS, '-o', 'name']);
    assert.equal(sa.stdout.trim(), `serviceaccount/${SERVER_VM}`);
  });

  step('each proxy obtains its certificate with its token (reviewed by the real kube-apiserver); vm1 turns ready in the EndpointSlice', async () => {
    for (const [vm, name] of [[vm1, SERVER_VM], [vm2, CLIENT_VM]] as const) {
      mkdirSync(unitsDir(vm), { recursive: true });
      const r = await onVm(vm, join(bundle(name), 'install.sh'), []);
      assert.equal(r.code, 0, `install.sh on ${vm.name}: ${r.stderr}\n${r.stdout}`);
    }
    for (const vm of [vm1, vm2]) {
      await eventually(`the proxy on ${vm.name} to be ready`, async () => {
        const r = await net.exec(vm, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:4191/ready']);
        return r.stdout === '200' ? true : undefined;
      }, 40_000);
    }
    // The identity service recorded the issuance on each workload, as its own ServiceAccount.
    for (const name of [SERVER_VM, CLIENT_VM]) {
      const ev = await eventually(`the IdentityIssued Event of ${name}`, async () => {
        const r = await kubectl(['get', 'events', '-n', NS, '--field-selector', `reason=IdentityIssued,involvedObject.name=${name}`, '-o', 'jsonpath={.items[*].message}']);
        return r.stdout.trim() || undefined;
      }, 20_000);
      assert.match(ev, new RegExp(`issued certificate for spiffe://cluster\\.local/ns/${NS}/sa/${name}`));
    }
    await eventually(`${vm1.address} ready in the ${SERVICE} EndpointSlice`, async () => {
      const r = await kubectl(['get', 'endpointslices', '-n', NS, '-l', `kubernetes.io/service-name=${SERVICE},endpointslice.kubernetes.io/managed-by=outpost-external-workloads-controller`, '-o', 'json']);
      const eps = (JSON.parse(r.stdout).items as any[]).flatMap((s) => s.endpoints ?? []);
      return eps.some((e) => e.addresses.includes(vm1.address) && e.conditions?.ready === true) ? true : undefined;
    }, 30_000);
  });

  step("vm2's app reaches vm1's app over mTLS, each side seeing the other's identity", async () => {
    const call = () => net.exec(vm2, 'curl', ['-s', '-m', '5', '-w', '\n%{http_code}', '-x', 'http://127.0.0.1:4140', `http://${SERVICE}.${NS}.svc.cluster.local:8080/charge`]);
    const r = await eventually("a 200 through vm2's proxy", async () => {
      const res = await call();
      return res.stdout.endsWith('\n200') ? res : undefined;
    }, 20_000);
    assert.equal(r.stdout, 'payment-processor on vm1 /charge\n200');
    const server = (await net.exec(vm1, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;
    assert.ok(server.split('\n').some((l) => l.startsWith('request_total{') && l.includes('direction="inbound"') && l.includes('tls="true"') && l.includes(`client_id="${CLIENT_ID}"`)), 'vm1 saw vm2 over mTLS');
    const client = (await net.exec(vm2, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;
    assert.ok(client.split('\n').some((l) => l.startsWith('request_total{') && l.includes('direction="outbound"') && l.includes('tls="true"') && l.includes(`server_id="${SERVER_ID}"`)), 'vm2 reached vm1 over mTLS');
  });

  step('outpost check and outpost explain answer against the real cluster', async () => {
    const check = await outpostOn(cluster, ['check', '--data-dir', dataDir]);
    assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
    assert.doesNotMatch(check.stdout, /×/);
    const explain = await outpostOn(cluster, ['explain', `externalworkload/${SERVER_VM}`, '-n', NS, '--data-dir', dataDir]);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, new RegExp(SERVICE));
    assert.doesNotMatch(readFileSync(controlPlane.logFile, 'utf8'), /forbidden/i, 'no request of the control plane was refused');
  });
});
