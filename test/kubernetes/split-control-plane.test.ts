// The control plane split as its Deployments run it: identity in one `outpost up --components`
// process, destination+policy in a second and the controllers (with viz and the injector) in a third, each as its own
// ServiceAccount (tokens from the real TokenRequest API) against the real kube-apiserver. The
// components apart from identity get their serving certificates from the identity service over the
// network with their own tokens (docs/adr/0022) and renew them; two VMs then get certificates from
// identity, endpoints from the separate destination, and talk mTLS. A token of another ServiceAccount
// asking for the destination's names is refused.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, run } from '../support/cli.js';
import { createE2eNetwork, type E2eHost, type E2eNetwork, type HostProcess } from '../e2e/hosts.js';
import { writeVmTools } from '../e2e/vm-tools.js';
import { installCaMaterial } from '../../src/install/ca.js';

import { eventually as eventuallyWithLogs, OUTPOST, orderedSteps, scenarioSkip } from '../e2e/scenario.js';
const BENCH = join(REPO_ROOT, 'scripts', 'real-kubernetes.sh');
const NS = 'payments';
const SERVICE = 'payment-processor';
const SERVER_VM = 'payment-processor-vm-1';
const CLIENT_VM = 'checkout-vm-1';
/** Short enough that the separate components renew their certificates (at 70 %) during the test. */
const ISSUANCE_LIFETIME = '60s';

const skip = scenarioSkip(['curl', 'nsenter', 'unshare', 'setpriv'], 'curl, nsenter, unshare and setpriv (util-linux)');

/** Run inside the cluster host: one Certify call for outpost/destination with the given token; prints the outcome as JSON. */
const CERTIFY_SCRIPT = `
import { readFileSync } from 'node:fs';
import { certifyOnce, CertifyCallError } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'src/api/identity/certify-call.ts')).href)};
import { createCsr, generateWorkloadKey } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'src/core/identity/csr.ts')).href)};
const [addr, anchorsFile, token] = process.argv.slice(2);
const names = { identity: 'spiffe://cluster.local/ns/outpost/sa/outpost-destination', serverName: 'destination.outpost.svc.cluster.local' };
const csr = await createCsr(generateWorkloadKey(), names);
try {
  const res = await certifyOnce({ addr, trustAnchorsPem: readFileSync(anchorsFile, 'utf8') }, { identity: names.identity, token, csr, workload: 'outpost/destination' });
  console.log(JSON.stringify({ issued: true, validUntil: res.validUntil }));
} catch (e) {
  if (!(e instanceof CertifyCallError)) throw e;
  console.log(JSON.stringify({ issued: false, reason: e.reason, message: e.message }));
}
`;

describe('the control plane split into its Deployments: identity, destination+policy and controllers as separate processes', { skip, timeout: 400_000 }, () => {
  let net: E2eNetwork;
  let work: string;
  let kubeDir: string;
  let cluster: E2eHost;
  let vm1: E2eHost;
  let vm2: E2eHost;
  let vmBin: string;
  const parts: Record<'identity' | 'discovery' | 'controllers', HostProcess> = {} as never;
  const procs: HostProcess[] = [];
  const { step } = orderedSteps();

  const dataDir = (part: string) => join(work, `data-${part}`);
  const bundle = (vm: string) => join(work, `${vm}-bundle`);
  const unitsDir = (vm: E2eHost) => join(work, `units-${vm.name}`);
  const logOf = (p: HostProcess) => readFileSync(p.logFile, 'utf8');
  const logs = () => procs.map((p) => net.tail(p, 25)).join('\n');
  const kubeconfig = () => join(kubeDir, 'kubeconfig');
  const kubectl = (args: string[], timeoutMs = 30_000) => net.exec(cluster, 'kubectl', ['--kubeconfig', kubeconfig(), '--cache-dir', join(work, 'kube-cache'), ...args], { timeoutMs });
  const outpostOn = (host: E2eHost, args: string[]) => net.exec(host, OUTPOST[0], [...OUTPOST.slice(1), ...args], { timeoutMs: 60_000 });
  const onVm = (vm: E2eHost, cmd: string, args: string[]) => net.exec(vm, cmd, args, { env: { PATH: `${vmBin}:${process.env.PATH}`, OUTPOST_E2E_UNITS: unitsDir(vm) }, timeoutMs: 60_000 });
  const identityAddress = () => `${cluster.address}:8080`;

  const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number) => eventuallyWithLogs(what, fn, timeoutMs, logs);

  async function startPart(name: keyof typeof parts, args: string[]): Promise<void> {
    const p = net.start(cluster, `outpost up (${name})`, OUTPOST[0], [
      ...OUTPOST.slice(1), 'up', '--kubeconfig', kubeconfig(), '--data-dir', dataDir(name), '--listen', cluster.address, '--admin-port', '0', ...args,
    ], join(work, `${name}.log`));
    parts[name] = p;
    procs.push(p);
    await eventually(`outpost up (${name})`, async () => {
      if (p.child.exitCode !== null) assert.fail(`outpost up (${name}) exited with ${p.child.exitCode}`);
      return logOf(p).includes('Outpost control plane is up') ? true : undefined;
    }, 60_000);
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'outpost-kube-split-'));
    kubeDir = join(work, 'kube');
    vmBin = writeVmTools(work);
    net = createE2eNetwork(['vm1', 'vm2'], work);
    ({ cluster } = net);
    [vm1, vm2] = net.vms;
    const up = await net.exec(cluster, 'bash', [BENCH, 'up', kubeDir], { timeoutMs: 180_000 });
    assert.equal(up.code, 0, `the real-Kubernetes bench did not start:\n${up.stderr}`);

    const { material } = await installCaMaterial({}, 'cluster.local');
    writeFileSync(join(work, 'anchors.crt'), material.trustAnchorsPem);
    writeFileSync(join(work, 'issuer.crt'), material.issuerCertPem);
    writeFileSync(join(work, 'issuer.key'), material.issuerKeyPem, { mode: 0o600 });
    writeFileSync(join(work, 'certify.mts'), CERTIFY_SCRIPT);
    const caFlags = ['--identity-trust-anchors-file', join(work, 'anchors.crt'), '--identity-issuer-cert', join(work, 'issuer.crt'), '--identity-issuer-key', join(work, 'issuer.key')];
    const rendered = await run(OUTPOST[0], [...OUTPOST.slice(1), 'install', '--out', join(work, 'install'), ...caFlags], { cwd: REPO_ROOT });
    assert.equal(rendered.code, 0, rendered.stderr);
    const applied = await kubectl(['apply', '--server-side', '-f', join(work, 'install')], 60_000);
    assert.equal(applied.code, 0, applied.stderr);
    const established = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=outpost'], 70_000);
    assert.equal(established.code, 0, established.stderr);

    // The ports the Deployments use; each process is alone on them in the cluster host.
    await startPart('identity', ['--components', 'identity', '--identity-port', '8080', '--identity-issuance-lifetime', ISSUANCE_LIFETIME, ...caFlags]);
    await startPart('discovery', ['--components', 'destination,policy', '--identity-address', identityAddress(), '--destination-port', '8086', '--policy-port', '8090']);
    await startPart('controllers', ['--components', 'controllers,viz,injector', '--identity-address', identityAddress(), '--health-port', '8087', '--viz-port', '0', '--injector-port', '0']);
    const app = `require('node:http').createServer((q, s) => s.end('payment-processor on vm1 ' + q.url)).listen(8080, '127.0.0.1')`;
    procs.push(net.start(vm1, 'app@vm1', process.execPath, ['-e', app], join(work, 'app-vm1.log')));
  });

  after(async () => {
    await net?.destroy();
    if (kubeDir) await run('bash', [BENCH, 'down', kubeDir], { timeoutMs: 60_000 });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  step('each component runs as its own ServiceAccount; the ones apart from identity got their certificates from it over the network', async () => {
    for (const [part, components] of [['identity', ['identity']], ['discovery', ['destination', 'policy']], ['controllers', ['controllers', 'viz', 'injector']]] as const) {
      const log = logOf(parts[part]);
      for (const c of components) assert.match(log, new RegExp(`component runs as its own ServiceAccount component=${c} serviceAccount=outpost/outpost-${c}`), `${part}:\n${log}`);
      if (part !== 'identity') for (const c of components) assert.match(log, new RegExp(`component gets its certificate from the identity service component=${c} identity=${identityAddress().replace(/\./g, '\\.')}`));
    }
    const identityLog = logOf(parts.identity);
    for (const service of ['destination', 'policy', 'health', 'viz', 'injector']) assert.match(identityLog, new RegExp(`control-plane service certificate issued service=${service}`), identityLog);
    assert.doesNotMatch(logOf(parts.identity), /component=destination|component=controllers/, 'identity runs nothing else');
    assert.doesNotMatch(logOf(parts.discovery), /component=identity|component=controllers/, 'destination+policy run nothing else');
  });

  step("a token of another ServiceAccount asking for the destination's names is refused; the destination's own is not", async () => {
    const certify = async (sa: string, ns: string) => {
      const token = await kubectl(['create', 'token', sa, '-n', ns, '--duration=10m']);
      assert.equal(token.code, 0, token.stderr);
      const r = await net.exec(cluster, process.execPath, ['--import', 'tsx', join(work, 'certify.mts'), identityAddress(), join(work, 'anchors.crt'), token.stdout.trim()], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { issued: boolean; reason?: string; message?: string };
    };
    for (const [sa, ns] of [['outpost-policy', 'outpost'], ['outpost-controllers', 'outpost'], ['default', 'default']]) {
      const r = await certify(sa, ns);
      assert.equal(r.issued, false, `${ns}/${sa} got the destination's certificate`);
      assert.equal(r.reason, 'identity_not_allowed', `${ns}/${sa}: ${r.message}`);
      assert.match(r.message!, /issued only to ServiceAccount outpost\/outpost-destination/);
    }
    assert.equal((await certify('outpost-destination', 'outpost')).issued, true);
  });

  step('two VMs onboard; their proxies get certificates from identity and are ready (health through the separate controllers)', async () => {
    const ns = await kubectl(['create', 'namespace', NS]);
    assert.equal(ns.code, 0, ns.stderr);
    const applied = await kubectl(['apply', '-f', join(REPO_ROOT, 'test', 'fixtures', 'guide', 'payment-service.yaml')]);
    assert.equal(applied.code, 0, applied.stderr);
    for (const [vm, name, extra] of [
      [vm1, SERVER_VM, ['--port', 'http:8080', '--label', `app=${SERVICE}`]],
      [vm2, CLIENT_VM, ['--label', 'app=checkout']],
    ] as const) {
      const r = await outpostOn(cluster, ['workload', 'onboard', name, '-n', NS, '--ip', vm.address, ...extra, '--kubeconfig', kubeconfig(), '--control-plane-host', cluster.address, '--data-dir', dataDir('identity'), '--out', bundle(name)]);
      assert.equal(r.code, 0, `onboard ${name}: ${r.stderr}\n${r.stdout}`);
    }
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
    await eventually(`${vm1.address} ready in the ${SERVICE} EndpointSlice`, async () => {
      const r = await kubectl(['get', 'endpointslices', '-n', NS, '-l', `kubernetes.io/service-name=${SERVICE},endpointslice.kubernetes.io/managed-by=outpost-external-workloads-controller`, '-o', 'json']);
      const eps = (JSON.parse(r.stdout).items as any[]).flatMap((s) => s.endpoints ?? []);
      return eps.some((e) => e.addresses.includes(vm1.address) && e.conditions?.ready === true) ? true : undefined;
    }, 30_000);
  });

  step("vm2's app reaches vm1's over mTLS with endpoints from the separate destination", async () => {
    const r = await eventually("a 200 through vm2's proxy", async () => {
      const res = await net.exec(vm2, 'curl', ['-s', '-m', '5', '-w', '\n%{http_code}', '-x', 'http://127.0.0.1:4140', `http://${SERVICE}.${NS}.svc.cluster.local:8080/charge`]);
      return res.stdout.endsWith('\n200') ? res : undefined;
    }, 20_000);
    assert.equal(r.stdout, 'payment-processor on vm1 /charge\n200');
    const client = (await net.exec(vm2, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;
    assert.ok(client.split('\n').some((l) => l.startsWith('request_total{') && l.includes('direction="outbound"') && l.includes('tls="true"') && l.includes(`server_id="spiffe://cluster.local/ns/${NS}/sa/${SERVER_VM}"`)), 'vm2 reached vm1 over mTLS');
  });

  step('the separate components renew their certificates from identity before they expire, and keep serving', async () => {
    // Issued for 60 s, renewed at 70 %: within a minute of their start each has re-issued.
    for (const part of ['discovery', 'controllers'] as const) {
      await eventually(`a renewal in ${part}`, async () => (/re-issued the service certificate/.test(logOf(parts[part])) ? true : undefined), 70_000);
    }
    const res = await net.exec(vm2, 'curl', ['-s', '-m', '5', '-w', '\n%{http_code}', '-x', 'http://127.0.0.1:4140', `http://${SERVICE}.${NS}.svc.cluster.local:8080/after-renewal`]);
    assert.equal(res.stdout, 'payment-processor on vm1 /after-renewal\n200');
    assert.doesNotMatch(logs(), /forbidden/i, 'no request of the control plane was refused');
  });
});
