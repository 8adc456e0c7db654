// The control plane split as its Deployments run it: identity in one `outpost up --components`
// process, destination+policy in a second and the controllers (with viz and the injector) in a third, each as its own
// ServiceAccount (tokens from the real TokenRequest API) against the real kube-apiserver. The
// components apart from identity get their serving certificates from the identity service over the
// network with their own tokens (docs/adr/0022) and renew them; two VMs then get certificates from
// identity, endpoints from the separate destination, and talk mTLS. A token of another ServiceAccount
// asking for the destination's names is refused.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/paths.js';
import type { HostProcess } from '../e2e/hosts.js';
import { eventually as eventuallyWithLogs, OUTPOST, orderedSteps, scenarioSkip } from '../e2e/scenario.js';
import { callServiceFromVm2, installGuideProxies, NS, onboardGuideVms, SERVER_VM, serverVmReadyInSlice, startGuideCluster, type GuideCluster } from '../e2e/guide-cluster.js';

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
  let s: GuideCluster;
  const parts: Record<'identity' | 'discovery' | 'controllers', HostProcess> = {} as never;
  const { step } = orderedSteps();

  const dataDir = (part: string) => join(s.work, `data-${part}`);
  const logOf = (p: HostProcess) => readFileSync(p.logFile, 'utf8');
  const logs = () => s.procs.map((p) => s.net.tail(p, 25)).join('\n');
  const kubectl = (args: string[], timeoutMs?: number) => s.kubectl(args, timeoutMs);
  const identityAddress = () => `${s.cluster.address}:8080`;

  const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number) => eventuallyWithLogs(what, fn, timeoutMs, logs);

  async function startPart(name: keyof typeof parts, args: string[]): Promise<void> {
    const p = s.net.start(s.cluster, `outpost up (${name})`, OUTPOST[0], [
      ...OUTPOST.slice(1), 'up', '--kubeconfig', s.kubeconfig(), '--data-dir', dataDir(name), '--listen', s.cluster.address, '--admin-port', '0', ...args,
    ], join(s.work, `${name}.log`));
    parts[name] = p;
    s.procs.push(p);
    await eventually(`outpost up (${name})`, async () => {
      if (p.child.exitCode !== null) assert.fail(`outpost up (${name}) exited with ${p.child.exitCode}`);
      return logOf(p).includes('Outpost control plane is up') ? true : undefined;
    }, 60_000);
  }

  before(async () => {
    s = await startGuideCluster('outpost-kube-split-');
    writeFileSync(join(s.work, 'certify.mts'), CERTIFY_SCRIPT);

    // The ports the Deployments use; each process is alone on them in the cluster host.
    await startPart('identity', ['--components', 'identity', '--identity-port', '8080', '--identity-issuance-lifetime', ISSUANCE_LIFETIME, ...s.caFlags]);
    await startPart('discovery', ['--components', 'destination,policy', '--identity-address', identityAddress(), '--destination-port', '8086', '--policy-port', '8090']);
    await startPart('controllers', ['--components', 'controllers,viz,injector', '--identity-address', identityAddress(), '--health-port', '8087', '--viz-port', '0', '--injector-port', '0']);
  });

  after(async () => {
    await s?.stop();
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
      const r = await s.net.exec(s.cluster, process.execPath, ['--import', 'tsx', join(s.work, 'certify.mts'), identityAddress(), join(s.work, 'anchors.crt'), token.stdout.trim()], { timeoutMs: 30_000 });
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
    await onboardGuideVms(s, ['--kubeconfig', s.kubeconfig(), '--data-dir', dataDir('identity')]);
    await installGuideProxies(s, eventually);
    await serverVmReadyInSlice(s, eventually);
  });

  step("vm2's app reaches vm1's over mTLS with endpoints from the separate destination", async () => {
    const r = await eventually("a 200 through vm2's proxy", async () => {
      const res = await callServiceFromVm2(s, '/charge');
      return res.stdout.endsWith('\n200') ? res : undefined;
    }, 20_000);
    assert.equal(r.stdout, 'payment-processor on vm1 /charge\n200');
    const client = (await s.net.exec(s.vm2, 'curl', ['-sf', 'http://127.0.0.1:4191/metrics'])).stdout;
    assert.ok(client.split('\n').some((l) => l.startsWith('request_total{') && l.includes('direction="outbound"') && l.includes('tls="true"') && l.includes(`server_id="spiffe://cluster.local/ns/${NS}/sa/${SERVER_VM}"`)), 'vm2 reached vm1 over mTLS');
  });

  step('the separate components renew their certificates from identity before they expire, and keep serving', async () => {
    // Issued for 60 s, renewed at 70 %: within a minute of their start each has re-issued.
    for (const part of ['discovery', 'controllers'] as const) {
      await eventually(`a renewal in ${part}`, async () => (/re-issued the service certificate/.test(logOf(parts[part])) ? true : undefined), 70_000);
    }
    const res = await callServiceFromVm2(s, '/after-renewal');
    assert.equal(res.stdout, 'payment-processor on vm1 /after-renewal\n200');
    assert.doesNotMatch(logs(), /forbidden/i, 'no request of the control plane was refused');
  });
});
