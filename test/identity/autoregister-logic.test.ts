// The pure part of auto-registration (docs/adr/0010), table-tested: the "NS/group:GROUP@IP" form,
// the deterministic DNS-safe member name, the group entitlement, and create / keep / reclaim / refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGroupEntitlement, desiredMember, isGroupRef, memberName, parseGroupRef, planRegistration } from '../../src/identity/autoregister.js';
import { Refusal } from '../../src/identity/refusal.js';
import type { WorkloadGroupLike } from '../../src/core/workloads/effective.js';

const refusedWith = (f: () => unknown, reason: string, message: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof Refusal && e.reason === reason && message.test(e.message));

test('parseGroupRef: the exact form, valid names and one host address', () => {
  assert.deepEqual(parseGroupRef('caching/group:redis-cache-fleet@127.0.10.1'), { namespace: 'caching', group: 'redis-cache-fleet', ip: '127.0.10.1' });
  assert.deepEqual(parseGroupRef('caching/group:g@FE80:0:0::1'), { namespace: 'caching', group: 'g', ip: 'fe80::1' });
  assert.equal(isGroupRef('caching/group:g@127.0.0.1'), true);
  assert.equal(isGroupRef('payments/payment-processor-vm-1'), false);
  const bad: [string, RegExp][] = [
    ['caching/group:g', /must be "NAMESPACE\/group:GROUP@IP"/],
    ['group:g@127.0.0.1', /must be "NAMESPACE\/group:GROUP@IP"/],
    ['Caching/group:g@127.0.0.1', /"Caching" is not a namespace name/],
    ['caching/group:G_1@127.0.0.1', /"G_1" is not a WorkloadGroup name/],
    ['caching/group:g@10.0.0', /"10.0.0" is not an IPv4 or IPv6 address/],
    ['caching/group:g@fe80::1%eth0', /is not an IPv4 or IPv6 address/],
    ['caching/group:g@0.0.0.0', /is not the address of one host/],
    [`caching/group:${'g'.repeat(55)}@127.0.0.1`, /longer than 63 characters; use a shorter WorkloadGroup name/],
  ];
  for (const [ref, message] of bad) refusedWith(() => parseGroupRef(ref), 'invalid_request', message);
});

test('memberName: deterministic, DNS-1123 label, one name per address', () => {
  const cases: [string, string, string][] = [
    ['redis-cache-fleet', '127.0.10.1', 'redis-cache-fleet-127-0-10-1'],
    ['g', '::1', 'g---1'],
    ['g', 'fe80:0000::0001', 'g-fe80--1'],
    ['g', 'FE80::1', 'g-fe80--1'],
    ['g', 'fd00::', 'g-fd00--0'],
  ];
  for (const [group, ip, want] of cases) {
    assert.equal(memberName(group, ip), want, `${group} ${ip}`);
    assert.match(want, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  }
});

test('checkGroupEntitlement: same namespace, group exists, bound to the token\'s ServiceAccount', () => {
  const ref = parseGroupRef('caching/group:redis-cache-fleet@127.0.10.1');
  const sa = { namespace: 'caching', serviceAccount: 'redis-sa', uid: 'u' };
  const group = (bound?: string): WorkloadGroupLike => ({ metadata: { name: 'redis-cache-fleet', namespace: 'caching', annotations: bound ? { 'outpost.io/service-account': bound } : {} } });
  assert.equal(checkGroupEntitlement(ref, group('redis-sa'), sa), 'redis-sa');
  refusedWith(() => checkGroupEntitlement(ref, group('redis-sa'), { ...sa, namespace: 'payments' }), 'namespace_mismatch', /cannot register workloads in namespace caching/);
  refusedWith(() => checkGroupEntitlement(ref, undefined, sa), 'group_not_found', /WorkloadGroup caching\/redis-cache-fleet does not exist/);
  refusedWith(() => checkGroupEntitlement(ref, group(), sa), 'group_unbound', /kubectl annotate workloadgroup redis-cache-fleet -n caching outpost\.io\/service-account=redis-sa/);
  refusedWith(() => checkGroupEntitlement(ref, group('other-sa'), sa), 'service_account_mismatch', /is not bound to ServiceAccount caching\/redis-sa, whose token this is/);
});

test('planRegistration: create when absent, keep or reclaim our own, never take over a hand-made workload', () => {
  const ref = parseGroupRef('caching/group:redis-cache-fleet@127.0.10.1');
  const ours = desiredMember(ref, 'redis-sa');
  assert.deepEqual(ours.metadata, {
    name: 'redis-cache-fleet-127-0-10-1',
    namespace: 'caching',
    labels: { workloadGroup: 'redis-cache-fleet' },
    annotations: { 'outpost.io/auto-registered': 'true', 'outpost.io/service-account': 'redis-sa' },
  });
  assert.deepEqual(ours.spec, { workloadIPs: [{ ip: '127.0.10.1' }] });

  assert.deepEqual(planRegistration(ref, 'redis-sa', undefined), { action: 'create', body: ours });
  // Extra labels a user added are kept (no patch needed).
  assert.deepEqual(planRegistration(ref, 'redis-sa', { ...ours, metadata: { ...ours.metadata, labels: { ...ours.metadata.labels, zone: 'a' } } }), { action: 'keep' });
  // A drifted binding or address is restored.
  const drifted = { ...ours, metadata: { ...ours.metadata, annotations: { 'outpost.io/auto-registered': 'true', 'outpost.io/service-account': 'old-sa' } }, spec: { workloadIPs: [{ ip: '127.0.10.9' }] } };
  assert.deepEqual(planRegistration(ref, 'redis-sa', drifted), {
    action: 'patch',
    patch: { metadata: { labels: ours.metadata.labels, annotations: ours.metadata.annotations }, spec: { workloadIPs: [{ ip: '127.0.10.1' }] } },
  });
  refusedWith(() => planRegistration(ref, 'redis-sa', { metadata: { name: ours.metadata.name, namespace: 'caching' } }), 'workload_conflict', /was not auto-registered, so it is not taken over/);
});
