// Table tests of the pure revocation helpers (docs/adr/0009): the deny list's JSON, idempotent
// add/remove, and matching a peer certificate's DNS SANs against revoked serverNames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certificateIsRevoked, dnsNamesOf, isRevokedWorkload, parseRevocations, serializeRevocations, withRevocation, withoutRevocation, type RevocationEntry } from '../../src/core/workloads/revocation.js';

const entry = (workload: string, over: Partial<RevocationEntry> = {}): RevocationEntry => ({
  namespace: 'payments', workload, identity: 'spiffe://cluster.local/ns/payments/sa/vm', serverName: `${workload}.payments.svc.cluster.local`, revokedAt: '2026-11-25T14:00:00.000Z', reason: '', ...over,
});

test('parseRevocations: round-trips, drops malformed entries, lower-cases serverNames, never throws', () => {
  const list = [entry('vm-1'), entry('vm-2', { reason: 'stolen' })];
  assert.deepEqual(parseRevocations(serializeRevocations(list)), list);
  const cases: [string, string | undefined, string[]][] = [
    ['missing', undefined, []],
    ['not JSON', '{oops', []],
    ['not a list', '{"namespace":"a"}', []],
    ['entry without serverName dropped', JSON.stringify([{ namespace: 'a', workload: 'b' }, entry('vm-3')]), ['vm-3']],
    ['upper-case serverName', JSON.stringify([{ namespace: 'a', workload: 'b', serverName: 'B.A.svc' }]), ['b']],
  ];
  for (const [what, json, workloads] of cases) assert.deepEqual(parseRevocations(json).map((e) => e.workload), workloads, what);
  assert.equal(parseRevocations(JSON.stringify([{ namespace: 'a', workload: 'b', serverName: 'B.A.svc' }]))[0].serverName, 'b.a.svc');
});

test('withRevocation is idempotent and keeps the first revocation time; withoutRevocation removes only that workload', () => {
  const one = withRevocation([], entry('vm-2'));
  assert.equal(withRevocation(one, entry('vm-2', { revokedAt: '2027-01-01T00:00:00.000Z' })), one, 'same entry again: unchanged list');
  const moved = withRevocation(one, entry('vm-2', { serverName: 'new.payments.svc.cluster.local', revokedAt: '2027-01-01T00:00:00.000Z' }));
  assert.deepEqual(moved.map((e) => [e.serverName, e.revokedAt]), [['new.payments.svc.cluster.local', '2026-11-25T14:00:00.000Z']]);
  const two = withRevocation(one, entry('vm-1'));
  assert.deepEqual(two.map((e) => e.workload), ['vm-1', 'vm-2'], 'sorted');
  assert.deepEqual(withoutRevocation(two, 'payments', 'vm-2').map((e) => e.workload), ['vm-1']);
  assert.deepEqual(withoutRevocation(two, 'other', 'vm-2').length, 2);
});

test('certificateIsRevoked matches DNS SANs only (not the shared SPIFFE URI), case-insensitively', () => {
  const revoked = new Set(['vm-1.payments.svc.cluster.local']);
  const cases: [string, string | undefined, boolean][] = [
    ['its serverName', 'DNS:vm-1.payments.svc.cluster.local, URI:spiffe://cluster.local/ns/payments/sa/vm', true],
    ['upper case', 'URI:spiffe://cluster.local/ns/payments/sa/vm, DNS:VM-1.payments.svc.cluster.local', true],
    ['same identity, other serverName', 'DNS:vm-2.payments.svc.cluster.local, URI:spiffe://cluster.local/ns/payments/sa/vm', false],
    ['the name only in a URI', 'URI:spiffe://vm-1.payments.svc.cluster.local', false],
    ['no SANs', undefined, false],
  ];
  for (const [what, san, want] of cases) assert.equal(certificateIsRevoked({ subjectaltname: san }, revoked), want, what);
  assert.equal(certificateIsRevoked(undefined, revoked), false);
  assert.equal(certificateIsRevoked({ subjectaltname: 'DNS:vm-1.payments.svc.cluster.local' }, new Set()), false);
  assert.deepEqual(dnsNamesOf('DNS:a, IP Address:127.0.0.1, DNS:b'), ['a', 'b']);
  assert.equal(isRevokedWorkload({ metadata: { annotations: { 'outpost.io/revoked-at': '2026-11-25T14:00:00Z' } } }), true);
  assert.equal(isRevokedWorkload({ metadata: {} }), false);
});
