// The guide on a real cluster, end to end: a "cluster" network namespace runs the real-Kubernetes
// bench (etcd, kube-apiserver, kube-controller-manager) and `outpost up --kubeconfig` (each
// component as its own ServiceAccount), after `outpost install | kubectl apply --server-side`.
// Two VMs (network namespaces) are onboarded with `outpost workload onboard`: their proxies get
// certificates with tokens the real API minted and reviewed (TokenReview as outpost-identity), the
// real cluster holds their EndpointSlice, and vm2's app reaches vm1's over mTLS.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { E2eHost, HostProcess } from '../e2e/hosts.js';
import { OUTPOST, eventually as eventuallyWithLogs, orderedSteps, scenarioSkip } from '../e2e/scenario.js';
import { callServiceFromVm2, CLIENT_VM, installGuideProxies, NS, onboardGuideVms, SERVER_VM, SERVICE, serverVmReadyInSlice, startGuideCluster, type GuideCluster } from '../e2e/guide-cluster.js';

const SERVER_ID = `spiffe://cluster.local/ns/${NS}/sa/${SERVER_VM}`;
const CLIENT_ID = `spiffe://cluster.local/ns/${NS}/sa/${CLIENT_VM}`;
const UNIT = 'outpost-proxy.service';

const skip = scenarioSkip(['curl', 'nsenter', 'unshare', 'setpriv'], 'curl, nsenter, unshare and setpriv (util-linux)');

describe('the guide on a real cluster: VMs onboarded, certified through the real TokenReview, talking mTLS', { skip, timeout: 300_000 }, () => {
  let s: GuideCluster;
  let dataDir: string;
  let controlPlane: HostProcess;
  const { step } = orderedSteps();

  const unitLog = (vm: E2eHost) => {
    const file = join(s.unitsDir(vm), `${UNIT}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
  };
  const logs = () => [...s.procs.map((p) => s.net.tail(p, 25)), ...[s.vm1, s.vm2].map((vm) => `--- proxy on ${vm.name} ---\n${unitLog(vm)}`)].join('\n');
  const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number) => eventuallyWithLogs(what, fn, timeoutMs, logs, 250);

  before(async () => {
    s = await startGuideCluster('outpost-kube-vms-');
    dataDir = join(s.work, 'cluster-data');
    controlPlane = s.net.start(s.cluster, 'outpost up --kubeconfig', OUTPOST[0], [
      ...OUTPOST.slice(1), 'up', '--kubeconfig', s.kubeconfig(), '--data-dir', dataDir, '--listen', s.cluster.address, ...s.caFlags,
      '--identity-port', '0', '--destination-port', '0', '--policy-port', '0', '--health-port', '0', '--admin-port', '0', '--viz-port', '0', '--scrape-interval', '1s',
    ], join(s.work, 'control-plane.log'));
    s.procs.push(controlPlane);
    await eventually('outpost up --kubeconfig', async () => {
      if (controlPlane.child.exitCode !== null) assert.fail(`outpost up exited with ${controlPlane.child.exitCode}`);
      return readFileSync(controlPlane.logFile, 'utf8').includes('Outpost control plane is up') ? true : undefined;
    }, 60_000);
  });

  after(async () => {
    await s?.stop();
  });

  step("applies the guide's Service and onboards two VMs (ServiceAccount, token and workload in the real cluster)", async () => {
    await onboardGuideVms(s, ['--data-dir', dataDir]);
    const sa = await s.kubectl(['get', 'serviceaccount', SERVER_VM, '-n', NS, '-o', 'name']);
    assert.equal(sa.stdout.trim(), `serviceaccount/${SERVER_VM}`);
  });

  step('each proxy obtains its certificate with its token (reviewed by the real kube-apiserver); vm1 turns ready in the EndpointSlice', async () => {
    await installGuideProxies(s, eventually);
    // The identity service recorded the issuance on each workload, as its own ServiceAccount.
    for (const name of [SERVER_VM, CLIENT_VM]) {
      const ev = await eventually(`the IdentityIssued Event of ${name}`, async () => {
        const r = await s.kubectl(['get', 'events', '-n', NS, '--field-selector', `reason=IdentityIssued,involvedObject.name=${name}`, '-o', 'jsonpath={.items[*].message}']);
        return r.stdout.trim() || undefined;
      }, 20_000);
      assert.match(ev, new RegExp(`issued certificate for spiffe://cluster\\.local/ns/${NS}/sa/${name}`));
    }
    await serverVmReadyInSlice(s, eventually);
  });

  step("vm2's app reaches vm1's app over mTLS, each side seeing the other's identity", async () => {
    const r = await eventually("a 200 through vm2's proxy", async () => {
      const res = await callServiceFromVm2(s, '/charge');
      return res.stdout.endsWith('\n200') ? res : undefined;
    }, 20_000);
    assert.equal(r.stdout, 'payment-processor on vm1 /charge\n200');
    const server = (await s.net.exec(s.vm1, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;
    assert.ok(server.split('\n').some((l) => l.startsWith('request_total{') && l.includes('direction="inbound"') && l.includes('tls="true"') && l.includes(`client_id="${CLIENT_ID}"`)), 'vm1 saw vm2 over mTLS');
    const client = (await s.net.exec(s.vm2, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;
    assert.ok(client.split('\n').some((l) => l.startsWith('request_total{') && l.includes('direction="outbound"') && l.includes('tls="true"') && l.includes(`server_id="${SERVER_ID}"`)), 'vm2 reached vm1 over mTLS');
  });

  step('outpost check and outpost explain answer against the real cluster', async () => {
    const check = await s.outpostOn(s.cluster, ['check', '--data-dir', dataDir]);
    assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
    assert.doesNotMatch(check.stdout, /×/);
    const explain = await s.outpostOn(s.cluster, ['explain', `externalworkload/${SERVER_VM}`, '-n', NS, '--data-dir', dataDir]);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, new RegExp(SERVICE));
    assert.doesNotMatch(readFileSync(controlPlane.logFile, 'utf8'), /forbidden/i, 'no request of the control plane was refused');
  });
});
