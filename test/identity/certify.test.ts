// Table tests of the Certify decision (docs/adr/0002): which caller may become which workload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizeCertify, type Caller } from '../../src/identity/certify.js';
import { Refusal, REFUSAL_STATUS } from '../../src/identity/refusal.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { FakeDirectory, guideWorkload } from './fixtures.js';
import { status } from '@grpc/grpc-js';

const ID = 'spiffe://cluster.local/payment-processor';
const SN = 'payment-processor-vm-1.payments.svc.cluster.local';
const WL = 'payments/payment-processor-vm-1';

function directory(): FakeDirectory {
  const d = new FakeDirectory();
  d.addServiceAccount('payments', 'payment-processor-sa', 'good');
  d.addServiceAccount('payments', 'other-sa', 'other-sa-token');
  d.addServiceAccount('shop', 'payment-processor-sa', 'shop-token');
  d.addWorkload(guideWorkload());
  d.addWorkload({ metadata: { name: 'unbound-vm', namespace: 'payments' } });
  d.addWorkload({
    metadata: { name: 'redis-vm-1', namespace: 'payments', labels: { workloadGroup: 'redis' } },
    spec: { meshTLS: { serverName: 'redis-vm-1.payments.svc.cluster.local' } },
  });
  d.groups.set('payments/redis', { metadata: { name: 'redis', namespace: 'payments', annotations: { 'outpost.io/service-account': 'payment-processor-sa' } }, spec: { meshTLS: { identity: 'spiffe://cluster.local/redis-cache' } } });
  return d;
}

/** Marks the guide workload revoked (docs/adr/0009). */
function revoke(d: FakeDirectory): void {
  const ew = d.workloads.get('payments/payment-processor-vm-1')!;
  const annotations = { ...(ew.metadata.annotations ?? {}), 'outpost.io/revoked-at': '2026-11-25T14:00:00.000Z', 'outpost.io/revoked-reason': 'lost laptop' };
  d.workloads.set('payments/payment-processor-vm-1', { ...ew, metadata: { ...ew.metadata, annotations } });
}

const csr = (identity = ID, serverName = SN) => createCsr(generateWorkloadKey(), { identity, serverName });

interface Case {
  name: string;
  workload?: string;
  identity?: string;
  caller: Caller;
  csr?: () => Promise<Buffer>;
  mutate?: (d: FakeDirectory) => void;
  reason?: string;
  code?: number;
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'bootstrap with the bound ServiceAccount token', caller: { token: 'good' } },
  { name: 'a group member inherits the group binding and identity', workload: 'payments/redis-vm-1', identity: 'spiffe://cluster.local/redis-cache', caller: { token: 'good' }, csr: () => csr('spiffe://cluster.local/redis-cache', 'redis-vm-1.payments.svc.cluster.local') },
  { name: 'renewal with a matching verified certificate', caller: { certificate: { identity: ID, serverName: SN } } },
  { name: 'no token and no certificate', caller: {}, reason: 'no_credentials', code: status.UNAUTHENTICATED },
  { name: 'invalid (expired or tampered) token', caller: { token: 'forged' }, reason: 'token_invalid', code: status.UNAUTHENTICATED },
  { name: 'token from another namespace', caller: { token: 'shop-token' }, reason: 'namespace_mismatch', code: status.PERMISSION_DENIED, message: /ServiceAccount shop\/payment-processor-sa, which cannot certify workloads in namespace payments/ },
  { name: 'workload bound to another ServiceAccount', caller: { token: 'other-sa-token' }, reason: 'service_account_mismatch', code: status.PERMISSION_DENIED, message: /is not bound to ServiceAccount payments\/other-sa, whose token this is/ },
  { name: 'unbound workload, with the kubectl annotate command', workload: 'payments/unbound-vm', caller: { token: 'good' }, reason: 'workload_unbound', code: status.FAILED_PRECONDITION, message: /kubectl annotate externalworkload unbound-vm -n payments outpost\.io\/service-account=payment-processor-sa/ },
  { name: 'unknown workload', workload: 'payments/nope', caller: { token: 'good' }, reason: 'workload_not_found', code: status.FAILED_PRECONDITION },
  { name: 'malformed workload reference', workload: 'payment-processor-vm-1', caller: { token: 'good' }, reason: 'invalid_request', code: status.INVALID_ARGUMENT },
  { name: 'another identity requested', identity: 'spiffe://cluster.local/admin', caller: { token: 'good' }, reason: 'identity_mismatch', code: status.INVALID_ARGUMENT, message: /has identity spiffe:\/\/cluster\.local\/payment-processor/ },
  { name: 'CSR with an extra SAN', caller: { token: 'good' }, csr: async () => csr(ID, 'evil.example.com'), reason: 'csr_invalid', code: status.INVALID_ARGUMENT },
  { name: 'deleted ServiceAccount: its token is refused', caller: { token: 'good' }, mutate: (d) => d.serviceAccounts.delete('payments/payment-processor-sa'), reason: 'token_invalid' },
  { name: 'deleted ServiceAccount stops renewals', caller: { certificate: { identity: ID, serverName: SN } }, mutate: (d) => d.serviceAccounts.delete('payments/payment-processor-sa'), reason: 'service_account_missing', code: status.PERMISSION_DENIED, message: /outpost workload onboard payment-processor-vm-1 -n payments --renew/ },
  { name: 'deleted ExternalWorkload stops renewals', caller: { certificate: { identity: ID, serverName: SN } }, mutate: (d) => d.workloads.delete(`payments/payment-processor-vm-1`), reason: 'workload_deleted', code: status.PERMISSION_DENIED },
  { name: 'revoked workload: renewal refused, naming the revocation and the undo', caller: { certificate: { identity: ID, serverName: SN } }, mutate: (d) => revoke(d), reason: 'workload_revoked', code: status.PERMISSION_DENIED, message: /payments\/payment-processor-vm-1 was revoked at 2026-11-25T14:00:00\.000Z \(lost laptop\).*outpost workload revoke --undo payment-processor-vm-1 -n payments/ },
  { name: 'revoked workload: a bootstrap token is refused too', caller: { token: 'good' }, mutate: (d) => revoke(d), reason: 'workload_revoked', code: status.PERMISSION_DENIED },
  { name: "another workload's certificate cannot renew this one", caller: { certificate: { identity: 'spiffe://cluster.local/redis-cache', serverName: 'redis-vm-1.payments.svc.cluster.local' } }, reason: 'certificate_mismatch', code: status.PERMISSION_DENIED },
];

for (const c of cases) {
  test(c.reason ? `refused: ${c.name}` : `allowed: ${c.name}`, async () => {
    const d = directory();
    c.mutate?.(d);
    const run = async () => authorizeCertify({ identity: c.identity ?? ID, workload: c.workload ?? WL, csr: await (c.csr ?? csr)(), caller: c.caller }, d);
    if (!c.reason) {
      const ent = await run();
      assert.equal(ent.kind, c.caller.token ? 'bootstrap' : 'renewal');
      return;
    }
    await assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof Refusal, String(e));
      assert.equal(e.reason, c.reason);
      if (c.code !== undefined) assert.equal(REFUSAL_STATUS[e.reason], c.code);
      if (c.message) assert.match(e.message, c.message);
      return true;
    });
  });
}
