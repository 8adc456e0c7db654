// The guide on a real cluster, the steps its suites share (test/kubernetes/vms.test.ts and
// split-control-plane.test.ts): a "cluster" network namespace running the real-Kubernetes bench with
// `outpost install` applied (CA from installCaMaterial), two VM namespaces with the VM tools, the
// guide's app on vm1; then the guide's Service, two VMs onboarded with `outpost workload onboard`,
// their bundles' install.sh run on the VMs, and the proxies ready.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, run, type RunResult } from '../support/cli.js';
import { installCaMaterial } from '../../src/install/ca.js';
import { createE2eNetwork, type E2eHost, type E2eNetwork, type HostProcess } from './hosts.js';
import { writeVmTools } from './vm-tools.js';
import { OUTPOST } from './scenario.js';

const BENCH = join(REPO_ROOT, 'scripts', 'real-kubernetes.sh');
export const NS = 'payments';
export const SERVICE = 'payment-processor';
export const SERVER_VM = 'payment-processor-vm-1';
export const CLIENT_VM = 'checkout-vm-1';

/** Polls like scenario.ts's `eventually`, with the suite's logs on failure. */
export type Eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number) => Promise<T>;

export interface GuideCluster {
  net: E2eNetwork;
  work: string;
  cluster: E2eHost;
  vm1: E2eHost;
  vm2: E2eHost;
  /** The background processes of the suite (the app on vm1 first); their logs go into failures. */
  procs: HostProcess[];
  /** Flags that make `outpost install` / `outpost up` use the CA material written into the work dir. */
  caFlags: string[];
  kubeconfig(): string;
  kubectl(args: string[], timeoutMs?: number): Promise<RunResult>;
  outpostOn(host: E2eHost, args: string[]): Promise<RunResult>;
  /** Runs a command on a VM with the VM tools (systemctl stand-in) on its PATH. */
  onVm(vm: E2eHost, cmd: string, args: string[]): Promise<RunResult>;
  /** Where a VM's systemd stand-in writes its units and their logs. */
  unitsDir(vm: E2eHost): string;
  /** The onboarding bundle of a workload. */
  bundle(name: string): string;
  stop(): Promise<void>;
}

/** The cluster host with the bench up and `outpost install` applied, two VMs, the guide's app on vm1. */
export async function startGuideCluster(workPrefix: string): Promise<GuideCluster> {
  const work = mkdtempSync(join(tmpdir(), workPrefix));
  const kubeDir = join(work, 'kube');
  const vmBin = writeVmTools(work);
  const net = createE2eNetwork(['vm1', 'vm2'], work);
  const { cluster } = net;
  const [vm1, vm2] = net.vms;
  const kubeconfig = () => join(kubeDir, 'kubeconfig');
  const kubectl = (args: string[], timeoutMs = 30_000) => net.exec(cluster, 'kubectl', ['--kubeconfig', kubeconfig(), '--cache-dir', join(work, 'kube-cache'), ...args], { timeoutMs });
  const unitsDir = (vm: E2eHost) => join(work, `units-${vm.name}`);
  const s: GuideCluster = {
    net,
    work,
    cluster,
    vm1,
    vm2,
    procs: [],
    caFlags: ['--identity-trust-anchors-file', join(work, 'anchors.crt'), '--identity-issuer-cert', join(work, 'issuer.crt'), '--identity-issuer-key', join(work, 'issuer.key')],
    kubeconfig,
    kubectl,
    outpostOn: (host, args) => net.exec(host, OUTPOST[0], [...OUTPOST.slice(1), ...args], { timeoutMs: 60_000 }),
    onVm: (vm, cmd, args) => net.exec(vm, cmd, args, { env: { PATH: `${vmBin}:${process.env.PATH}`, OUTPOST_E2E_UNITS: unitsDir(vm) }, timeoutMs: 60_000 }),
    unitsDir,
    bundle: (name) => join(work, `${name}-bundle`),
    async stop() {
      await net.destroy();
      await run('bash', [BENCH, 'down', kubeDir], { timeoutMs: 60_000 });
      rmSync(work, { recursive: true, force: true });
    },
  };
  try {
    await setUp(s, kubeDir);
  } catch (e) {
    await s.stop();
    throw e;
  }
  return s;
}

async function setUp(s: GuideCluster, kubeDir: string): Promise<void> {
  const { net, cluster, work, kubectl } = s;
  // The real cluster runs on the cluster host's loopback, like a control-plane node's.
  const up = await net.exec(cluster, 'bash', [BENCH, 'up', kubeDir], { timeoutMs: 180_000 });
  assert.equal(up.code, 0, `the real-Kubernetes bench did not start:\n${up.stderr}`);
  const { material } = await installCaMaterial({}, 'cluster.local');
  writeFileSync(join(work, 'anchors.crt'), material.trustAnchorsPem);
  writeFileSync(join(work, 'issuer.crt'), material.issuerCertPem);
  writeFileSync(join(work, 'issuer.key'), material.issuerKeyPem, { mode: 0o600 });
  const rendered = await run(OUTPOST[0], [...OUTPOST.slice(1), 'install', '--out', join(work, 'install'), ...s.caFlags], { cwd: REPO_ROOT });
  assert.equal(rendered.code, 0, rendered.stderr);
  const applied = await kubectl(['apply', '--server-side', '-f', join(work, 'install')], 60_000);
  assert.equal(applied.code, 0, applied.stderr);
  const established = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=outpost'], 70_000);
  assert.equal(established.code, 0, established.stderr);

  const app = `require('node:http').createServer((q, s) => s.end('payment-processor on vm1 ' + q.url)).listen(8080, '127.0.0.1')`;
  s.procs.push(net.start(s.vm1, 'app@vm1', process.execPath, ['-e', app], join(work, 'app-vm1.log')));
}

/** The guide's Service, then `outpost workload onboard` for the server VM (vm1) and the client VM (vm2), run on the cluster host. */
export async function onboardGuideVms(s: GuideCluster, onboardFlags: string[]): Promise<void> {
  const ns = await s.kubectl(['create', 'namespace', NS]);
  assert.equal(ns.code, 0, ns.stderr);
  const applied = await s.kubectl(['apply', '-f', join(REPO_ROOT, 'test', 'fixtures', 'guide', 'payment-service.yaml')]);
  assert.equal(applied.code, 0, applied.stderr);
  for (const [vm, name, extra] of [
    [s.vm1, SERVER_VM, ['--port', 'http:8080', '--label', `app=${SERVICE}`]],
    [s.vm2, CLIENT_VM, ['--label', 'app=checkout']],
  ] as const) {
    const r = await s.outpostOn(s.cluster, ['workload', 'onboard', name, '-n', NS, '--ip', vm.address, ...extra, ...onboardFlags, '--control-plane-host', s.cluster.address, '--out', s.bundle(name)]);
    assert.equal(r.code, 0, `onboard ${name}: ${r.stderr}\n${r.stdout}`);
  }
}

/** Runs each VM's bundle install.sh on the VM (the proxy as a unit of the VM's systemd stand-in) and waits for both proxies to be ready. */
export async function installGuideProxies(s: GuideCluster, eventually: Eventually): Promise<void> {
  for (const [vm, name] of [[s.vm1, SERVER_VM], [s.vm2, CLIENT_VM]] as const) {
    mkdirSync(s.unitsDir(vm), { recursive: true });
    const r = await s.onVm(vm, join(s.bundle(name), 'install.sh'), []);
    assert.equal(r.code, 0, `install.sh on ${vm.name}: ${r.stderr}\n${r.stdout}`);
  }
  for (const vm of [s.vm1, s.vm2]) {
    await eventually(`the proxy on ${vm.name} to be ready`, async () => {
      const r = await s.net.exec(vm, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:4191/ready']);
      return r.stdout === '200' ? true : undefined;
    }, 40_000);
  }
}

/** Waits for vm1 to be a ready endpoint of the guide's Service in the EndpointSlice Outpost's controller manages. */
export async function serverVmReadyInSlice(s: GuideCluster, eventually: Eventually): Promise<void> {
  await eventually(`${s.vm1.address} ready in the ${SERVICE} EndpointSlice`, async () => {
    const r = await s.kubectl(['get', 'endpointslices', '-n', NS, '-l', `kubernetes.io/service-name=${SERVICE},endpointslice.kubernetes.io/managed-by=outpost-external-workloads-controller`, '-o', 'json']);
    const eps = (JSON.parse(r.stdout).items as { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[]).flatMap((x) => x.endpoints ?? []);
    return eps.some((e) => e.addresses.includes(s.vm1.address) && e.conditions?.ready === true) ? true : undefined;
  }, 30_000);
}

/** vm2's app calling the guide's Service through vm2's proxy (outbound HTTP proxy port 4140). */
export function callServiceFromVm2(s: GuideCluster, path: string): Promise<RunResult> {
  return s.net.exec(s.vm2, 'curl', ['-s', '-m', '5', '-w', '\n%{http_code}', '-x', 'http://127.0.0.1:4140', `http://${SERVICE}.${NS}.svc.cluster.local:8080${path}`]);
}
