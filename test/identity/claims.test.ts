// Who may claim which identity and serverName (docs/adr/0016): a table of claims against the pure
// check, then the security review's attack against a real control plane (real kubectl, real TLS):
// a workload of `payments` asking for the viz's identity and destination's DNS name is refused,
// another namespace cannot take the guide's identity, a namespace admin can allow a serverName.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { checkClaim, type Claimant } from '../../src/identity/claims.js';
import { Refusal } from '../../src/identity/refusal.js';
import { effectiveWorkload, type ExternalWorkloadLike } from '../../src/core/workloads/effective.js';
import { certifyOnce, CertifyCallError } from '../../src/api/identity/certify-call.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { kubectl, REPO_ROOT } from '../support/cli.js';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { FakeDirectory } from './fixtures.js';

const T0 = Date.parse('2026-11-25T10:00:00Z');

function ew(ns: string, name: string, meshTLS: { identity?: string; serverName?: string } = {}, sa = 'app-sa', created = T0): ExternalWorkloadLike {
  return { metadata: { name, namespace: ns, annotations: { 'outpost.io/service-account': sa }, creationTimestamp: new Date(created).toISOString() } as ExternalWorkloadLike['metadata'], spec: { meshTLS } };
}

describe('claims: the pure check', () => {
  const d = new FakeDirectory();
  // The guide's workload holds its identity first; another payments workload shares it.
  d.addWorkload(ew('payments', 'payment-processor-vm-1', { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' }, 'payment-processor-sa'));
  d.addWorkload(ew('payments', 'payment-processor-vm-2', { identity: 'spiffe://cluster.local/payment-processor' }, 'payment-processor-sa', T0 + 60_000));
  d.addWorkload(ew('shop', 'thief', { identity: 'spiffe://cluster.local/payment-processor' }, 'app-sa', T0 + 120_000));
  d.addWorkload(ew('shop', 'early-bird', { identity: 'spiffe://cluster.local/shared' }, 'app-sa', T0));
  d.addWorkload(ew('payments', 'same-second', { identity: 'spiffe://cluster.local/shared' }, 'app-sa', T0));
  d.addWorkload(ew('payments', 'copycat', { serverName: 'payment-processor-vm-1.payments.svc.cluster.local' }, 'app-sa', T0 + 300_000));
  d.addWorkload(ew('payments', 'vanity', { serverName: 'pay.example.com' }));
  d.namespaceAnnotations.set('payments', { 'outpost.io/allowed-server-names': '*.pay.example.org, checkout.example.net' });

  const cases: { name: string; ns: string; wl: string; meshTLS?: { identity?: string; serverName?: string }; sa?: string; reason?: string; message?: RegExp }[] = [
    { name: "the guide's workload keeps its identity and serverName", ns: 'payments', wl: 'payment-processor-vm-1', sa: 'payment-processor-sa' },
    { name: 'a second workload of the same namespace shares the identity', ns: 'payments', wl: 'payment-processor-vm-2', sa: 'payment-processor-sa' },
    { name: 'the ServiceAccount identity of the bound ServiceAccount', ns: 'payments', wl: 'x', meshTLS: { identity: 'spiffe://cluster.local/ns/payments/sa/app-sa' } },
    { name: 'the control-plane identity of the viz', ns: 'payments', wl: 'x', meshTLS: { identity: 'spiffe://cluster.local/ns/outpost/sa/outpost-viz' }, reason: 'identity_not_allowed', message: /belongs to namespace outpost/ },
    { name: "destination's DNS name", ns: 'payments', wl: 'x', meshTLS: { serverName: 'destination.outpost.svc.cluster.local' }, reason: 'server_name_not_allowed', message: /a name of the control plane/ },
    { name: 'localhost', ns: 'payments', wl: 'x', meshTLS: { serverName: 'localhost' }, reason: 'server_name_not_allowed' },
    { name: 'a workload in the control-plane namespace', ns: 'outpost', wl: 'x', reason: 'identity_not_allowed', message: /control plane's/ },
    { name: 'another ServiceAccount of the namespace', ns: 'payments', wl: 'x', meshTLS: { identity: 'spiffe://cluster.local/ns/payments/sa/admin-sa' }, reason: 'identity_not_allowed', message: /bound to ServiceAccount app-sa/ },
    { name: "another namespace's ServiceAccount", ns: 'shop', wl: 'x', meshTLS: { identity: 'spiffe://cluster.local/ns/payments/sa/app-sa' }, reason: 'identity_not_allowed', message: /belongs to namespace payments/ },
    { name: 'another trust domain', ns: 'payments', wl: 'x', meshTLS: { identity: 'spiffe://evil.example/payment-processor' }, reason: 'identity_not_allowed', message: /trust domain/ },
    { name: 'a free-form identity another namespace held first', ns: 'shop', wl: 'thief', reason: 'identity_taken', message: /another namespace held first/ },
    { name: 'a tie between namespaces goes to nobody', ns: 'payments', wl: 'same-second', reason: 'identity_taken' },
    { name: 'a serverName another workload holds', ns: 'payments', wl: 'copycat', reason: 'server_name_taken' },
    { name: "a serverName outside the namespace's domain", ns: 'payments', wl: 'vanity', reason: 'server_name_not_allowed', message: /kubectl annotate namespace payments outpost\.io\/allowed-server-names=pay\.example\.com/ },
    { name: 'a serverName of another namespace', ns: 'shop', wl: 'x', meshTLS: { serverName: 'api.payments.svc.cluster.local' }, reason: 'server_name_not_allowed' },
    { name: 'a serverName the admin allowed by wildcard', ns: 'payments', wl: 'x', meshTLS: { serverName: 'eu.pay.example.org' } },
    { name: 'a serverName the admin allowed exactly', ns: 'payments', wl: 'x', meshTLS: { serverName: 'checkout.example.net' } },
    { name: 'the wildcard needs a label before the suffix', ns: 'payments', wl: 'x', meshTLS: { serverName: 'pay.example.org' }, reason: 'server_name_not_allowed' },
  ];
  for (const c of cases) {
    test(`${c.reason ? 'refused' : 'allowed'}: ${c.name}`, async () => {
      const obj = d.workloads.get(`${c.ns}/${c.wl}`) ?? ew(c.ns, c.wl, c.meshTLS ?? {}, c.sa ?? 'app-sa', T0 + 600_000);
      const w: Claimant = { ...effectiveWorkload(obj), created: Date.parse(String((obj.metadata as { creationTimestamp?: string }).creationTimestamp)) };
      const run = checkClaim(w, d, { trustDomain: 'cluster.local' });
      if (!c.reason) return assert.equal(await run, undefined);
      await assert.rejects(run, (e: unknown) => {
        assert.ok(e instanceof Refusal);
        assert.equal(e.reason, c.reason);
        if (c.message) assert.match(e.message, c.message);
        // Never names the other holders (they are in the log detail only).
        for (const held of (e.internal ?? '').replace(/^held by /, '').split(', ').filter(Boolean)) assert.ok(!e.message.includes(held.split(' ').pop()!), `${e.message} names ${held}`);
        return true;
      });
    });
  }
});

describe('claims: against a real control plane', () => {
  let cp: TestControlPlane;
  let work: string;
  let anchors: string;
  const k = async (args: string[]) => {
    const r = await kubectl(cp.kubeconfigPath, args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (doc: object) => {
    const file = join(work, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(doc));
    return k(['apply', '-f', file]);
  };
  const workload = (ns: string, name: string, sa: string, meshTLS: { identity?: string; serverName?: string }) => ({
    apiVersion: 'workload.linkerd.io/v1beta1',
    kind: 'ExternalWorkload',
    metadata: { name, namespace: ns, annotations: { 'outpost.io/service-account': sa } },
    spec: { meshTLS, workloadIPs: [{ ip: '192.0.2.10' }], ports: [{ name: 'http', port: 8080 }] },
  });
  /** Certify as the workload with a fresh token of its ServiceAccount; the names are the workload's. */
  const certify = async (ns: string, name: string, sa: string, names: { identity: string; serverName: string }) => {
    const token = (await k(['create', 'token', sa, '-n', ns, '--duration=1h'])).trim();
    const csr = await createCsr(generateWorkloadKey(), names);
    return certifyOnce({ addr: cp.info.listeners.identity, trustAnchorsPem: anchors }, { ...names, workload: `${ns}/${name}`, token, csr });
  };
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof CertifyCallError, String(e));
      return e;
    }
    return assert.fail('certified, but a refusal was expected');
  };

  before(async () => {
    cp = await startTestControlPlane();
    work = mkdtempSync(join(tmpdir(), 'outpost-claims-'));
    await k(['apply', '-f', join(REPO_ROOT, 'test', 'fixtures', 'guide', '00-namespaces.yaml')]);
    await k(['apply', '-f', join(REPO_ROOT, 'test', 'fixtures', 'guide', 'external-workload.yaml')]);
    await k(['create', 'namespace', 'shop']);
    for (const [ns, sa] of [['payments', 'payment-processor-sa'], ['payments', 'attacker-sa'], ['shop', 'shop-sa']]) await k(['create', 'serviceaccount', sa, '-n', ns]);
    await k(['annotate', 'externalworkload', 'payment-processor-vm-1', '-n', 'payments', 'outpost.io/service-account=payment-processor-sa']);
    anchors = await k(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.ca-bundle\\.crt}']);
  });
  after(async () => {
    await cp?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the guide's workload is certified with its identity", async () => {
    const r = await certify('payments', 'payment-processor-vm-1', 'payment-processor-sa', { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' });
    assert.ok(r.leafDer.length > 0);
  });

  test("a payments workload cannot obtain the viz's identity with destination's DNS name", async () => {
    // The API refuses it at once (422 naming the field): no cluster state could make it valid.
    const names = { identity: 'spiffe://cluster.local/ns/outpost/sa/outpost-viz', serverName: 'destination.outpost.svc.cluster.local' };
    const file = join(work, 'impostor.json');
    writeFileSync(file, JSON.stringify(workload('payments', 'impostor', 'attacker-sa', names)));
    const r = await kubectl(cp.kubeconfigPath, ['apply', '-f', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.meshTLS\.identity: Invalid value: "spiffe:\/\/cluster\.local\/ns\/outpost\/sa\/outpost-viz": is an identity of namespace outpost/);
    assert.match(r.stderr, /spec\.meshTLS\.serverName: Invalid value: "destination\.outpost\.svc\.cluster\.local": is a name of the control plane/);
    // What only the identity service can know: the ServiceAccount identity of another binding.
    const sa = { identity: 'spiffe://cluster.local/ns/payments/sa/payment-processor-sa', serverName: 'impostor.payments.svc.cluster.local' };
    await apply(workload('payments', 'impostor', 'attacker-sa', sa));
    const e = await refusal(certify('payments', 'impostor', 'attacker-sa', sa));
    assert.equal(e.grpcCode, status.PERMISSION_DENIED);
    assert.equal(e.reason, 'identity_not_allowed');
    assert.match(e.message, /bound to ServiceAccount attacker-sa/);
  });

  test("another namespace cannot take the guide's identity; an admin can allow a serverName outside the namespace", async () => {
    const stolen = { identity: 'spiffe://cluster.local/payment-processor', serverName: 'thief.shop.svc.cluster.local' };
    await apply(workload('shop', 'thief', 'shop-sa', stolen));
    const e = await refusal(certify('shop', 'thief', 'shop-sa', stolen));
    assert.equal(e.reason, 'identity_taken');
    assert.doesNotMatch(e.message, /payments|payment-processor-vm-1/, 'the refusal does not say who holds it');

    const vanity = { identity: 'spiffe://cluster.local/shop-web', serverName: 'www.shop.example.com' };
    await apply(workload('shop', 'web', 'shop-sa', vanity));
    assert.equal((await refusal(certify('shop', 'web', 'shop-sa', vanity))).reason, 'server_name_not_allowed');
    await k(['annotate', 'namespace', 'shop', 'outpost.io/allowed-server-names=*.shop.example.com']);
    const r = await certify('shop', 'web', 'shop-sa', vanity);
    assert.ok(r.leafDer.length > 0, 'allowed once the admin annotated the namespace');
  });
});
