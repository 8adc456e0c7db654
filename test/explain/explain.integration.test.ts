// `outpost explain` as a user runs it: the real CLI against a real control plane loaded with the
// guide's manifests (kubectl apply). Only the API on 127.0.0.1 is contacted; the manifests' 10.x
// addresses are data, never dialled.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { REPO_ROOT, kubectl, outpost } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import type { Explanation } from '../../src/explain/facts.js';
import { run as identityCommand } from '../../src/cli/commands/identity.js';

const GUIDE = join(REPO_ROOT, 'test', 'fixtures', 'guide');

describe('outpost explain externalworkload (real control plane, guide manifests)', () => {
  let cp: TestControlPlane;
  let kc: string;
  let work: string;
  const k = async (args: string[]) => {
    const r = await kubectl(kc, args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    cp = await startTestControlPlane();
    kc = cp.kubeconfigPath;
    work = mkdtempSync(join(tmpdir(), 'outpost-explain-'));
    await k(['apply', '-f', join(GUIDE, '00-namespaces.yaml'), '-f', join(GUIDE, 'namespace.yaml')]);
    await k(['apply', '-f', join(GUIDE, 'external-workload.yaml'), '-f', join(GUIDE, 'payment-service.yaml'), '-f', join(GUIDE, 'external-workload-advanced.yaml'), '-f', join(GUIDE, 'services.yaml'), '-f', join(GUIDE, 'traffic-policy.yaml')]);
    // The guide's step before enrolling the VM.
    await k(['create', 'serviceaccount', 'payment-processor-sa', '-n', 'payments']);
  });
  after(async () => {
    await cp?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('an unbound workload: names the kubectl annotate that binds it, and says no traffic', async () => {
    const r = await outpost(['explain', 'externalworkload/payment-processor-vm-1', '-n', 'payments', '--kubeconfig', kc]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^× not bound to a ServiceAccount/m);
    assert.ok(r.stdout.includes('fix: kubectl annotate externalworkload payment-processor-vm-1 -n payments outpost.io/service-account=payment-processor-sa'), r.stdout);
    assert.match(r.stdout, /× no proxy has ever reported for it/);
    assert.match(r.stdout, /svc\/payment-processor\s+selects it \(app=payment-processor\); ports 8080→8080\/TCP; in .* \(NOT ready\)/);
    assert.match(r.stdout, /outpost proxy-init --external-workload --check/);
    assert.equal(r.stdout.trim().split('\n').at(-1), '× no traffic: not bound to a ServiceAccount: the identity service refuses to certify it (docs/adr/0002)');
  });

  it('bound, enrolled with a token, assume-ready: certificate from the issuance Event, a ready endpoint of the payment-processor slice, as JSON ($KUBECONFIG)', async () => {
    await k(['annotate', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments', 'outpost.io/service-account=payment-processor-sa', 'outpost.io/assume-ready=true']);
    await waitFor('a ready endpoint in the payment-processor slice', async () => {
      const out = await k(['get', 'endpointslices', '-n', 'payments', '-l', 'kubernetes.io/service-name=payment-processor', '-o', 'jsonpath={.items[*].endpoints[*].conditions.ready}']);
      return out.includes('true') || undefined;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    // The guide's enrolment: a bootstrap token obtains a certificate (in-process `outpost identity certify`);
    // the identity service records an issuance Event that explain reads back.
    const tokenFile = join(work, 'token');
    writeFileSync(tokenFile, await k(['create', 'token', 'payment-processor-sa', '--namespace', 'payments', '--duration=1h']));
    const log = console.log;
    console.log = () => {};
    try {
      const code = await identityCommand(['certify', '--token', tokenFile, '--workload', 'payments/payment-processor-vm-1', '--trust-anchors', cp.info.trustAnchorsFile!, '--out', join(work, 'certs'), '--data-dir', cp.dataDir]);
      assert.equal(code, 0);
    } finally {
      console.log = log;
    }
    await waitFor('the issuance Event', async () => (await k(['get', 'events', '-n', 'payments', '-o', 'jsonpath={.items[*].reason}'])).includes('IdentityIssued') || undefined, { timeoutMs: 10_000, intervalMs: 100 });
    const r = await outpost(['explain', 'ew/payment-processor-vm-1', '-n', 'payments', '-o', 'json'], { env: { ...process.env, KUBECONFIG: kc } });
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout) as Explanation;
    const section = (id: string) => e.sections.find((s) => s.id === id)!;
    assert.equal(section('enrolment').verdict, 'ok');
    assert.equal(section('enrolment').data.serviceAccount, 'payment-processor-sa');
    const cert = section('certificate');
    assert.equal(cert.verdict, 'ok', cert.summary);
    assert.equal(cert.data.certificateNotAfterSource, 'event');
    assert.equal((cert.data.lastIssuance as { reason: string }).reason, 'IdentityIssued');
    const validForH = (Date.parse(cert.data.certificateNotAfter as string) - Date.now()) / 3_600_000;
    assert.ok(validForH > 23 && validForH <= 24, `certificate valid for ${validForH} h`);
    assert.equal(section('health').verdict, 'ok');
    const services = section('services');
    assert.equal(services.verdict, 'ok', services.summary);
    assert.deepEqual((services.data.selectedBy as { service: string; inSlice: boolean; ready: boolean; addresses: string[] }[]).map((f) => [f.service, f.inSlice, f.ready, f.addresses]), [['payment-processor', true, true, ['10.0.50.100']]]);
    assert.equal(e.reachable, true);
    assert.equal(e.summary, 'traffic can reach it');
  });

  it('postgres-primary under postgres-server/postgres-auth: only the api-server ServiceAccount may connect to 5432', async () => {
    const r = await outpost(['explain', 'externalworkload/postgres-primary', '-n', 'hybrid-app', '--data-dir', cp.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.trim() === 'port 5432 (postgres)');
    assert.ok(at > 0, r.stdout);
    assert.equal(lines[at + 1].trim(), 'server/postgres-server, protocol opaque');
    const allows = lines.slice(at + 1).filter((l) => /^\s+allows /.test(l));
    assert.deepEqual(allows.map((l) => l.trim()), ['allows identities spiffe://cluster.local/ns/hybrid-app/sa/api-server (serverauthorization/postgres-auth)']);
    assert.match(r.stdout, /✓ every port admits some clients/);
  });

  it('a WorkloadGroup member: selected by the headless Service through the group template\'s labels', async () => {
    await k(['apply', '-f', join(GUIDE, 'workload-group.yaml'), '-f', join(GUIDE, 'redis-vm-1.yaml'), '-f', join(GUIDE, 'redis-headless-service.yaml')]);
    await waitFor('redis-vm-1 in the redis-cache slice', async () => {
      const out = await k(['get', 'endpointslices', '-n', 'caching', '-l', 'kubernetes.io/service-name=redis-cache', '-o', 'jsonpath={.items[*].endpoints[*].targetRef.name}']);
      return out.includes('redis-vm-1') || undefined;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    const r = await outpost(['explain', 'externalworkload/redis-vm-1', '-n', 'caching', '-o', 'json', '--kubeconfig', kc]);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout) as Explanation;
    assert.equal(e.workload.group, 'redis-cache-fleet');
    assert.equal(e.workload.identity, 'spiffe://cluster.local/redis-cache');
    assert.deepEqual(e.workload.ports.map((p) => p.port), [6379, 26379, 9121]);
    const services = e.sections.find((s) => s.id === 'services')!;
    assert.deepEqual((services.data.selectedBy as { service: string; inSlice: boolean; ready: boolean }[]).map((f) => [f.service, f.inSlice, f.ready]), [['redis-cache', true, false]]);
    assert.match(e.summary, /^no traffic: not bound to a ServiceAccount/);
  });

  it('an unknown workload: one line and exit 1', async () => {
    const r = await outpost(['explain', 'externalworkload/nope', '-n', 'payments', '--kubeconfig', kc]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'externalworkload payments/nope not found\n');
    assert.equal(r.stdout, '');
  });
});
