// The registry and its lookups: one storage version per kind, version preference order,
// kubectl-style name resolution, and ExternalWorkload conversion in both directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RESOURCE_TYPES,
  findByApiVersionKind,
  findByKind,
  findByShortName,
  findResource,
  groupVersions,
  namedGroups,
  parseApiVersion,
  preferredVersion,
  versionPriority,
} from '../../../src/apiserver/resources/index.js';
import { convertObject } from '../../../src/apiserver/schema/admit.js';

test('every kind has exactly one storage version, a list kind and lower-case plural', () => {
  for (const rt of RESOURCE_TYPES) {
    assert.equal(rt.versions.filter((v) => v.storage).length, 1, rt.kind);
    assert.equal(rt.listKind, `${rt.kind}List`);
    assert.equal(rt.plural, rt.plural.toLowerCase());
    assert.equal(rt.singular, rt.kind.toLowerCase());
    assert.equal(rt.versions[0].served, true);
  }
  assert.equal(new Set(RESOURCE_TYPES.map((t) => `${t.group}/${t.plural}`)).size, RESOURCE_TYPES.length);
});

test('the brief\'s kinds are all served where clients look for them', () => {
  const expected: [string, string, string][] = [
    ['', 'v1', 'namespaces'], ['', 'v1', 'services'], ['', 'v1', 'serviceaccounts'], ['', 'v1', 'configmaps'], ['', 'v1', 'secrets'], ['', 'v1', 'events'],
    ['discovery.k8s.io', 'v1', 'endpointslices'], ['coordination.k8s.io', 'v1', 'leases'], ['authentication.k8s.io', 'v1', 'tokenreviews'], ['apps', 'v1', 'deployments'],
    ['workload.linkerd.io', 'v1beta1', 'externalworkloads'], ['workload.linkerd.io', 'v1alpha1', 'externalworkloads'], ['workload.linkerd.io', 'v1beta1', 'workloadgroups'],
    ['policy.linkerd.io', 'v1beta1', 'servers'], ['policy.linkerd.io', 'v1beta2', 'servers'], ['policy.linkerd.io', 'v1beta3', 'servers'],
    ['policy.linkerd.io', 'v1beta1', 'serverauthorizations'], ['policy.linkerd.io', 'v1alpha1', 'authorizationpolicies'], ['policy.linkerd.io', 'v1alpha1', 'meshtlsauthentications'],
    ['policy.linkerd.io', 'v1alpha1', 'networkauthentications'], ['policy.linkerd.io', 'v1beta1', 'httproutes'], ['policy.linkerd.io', 'v1beta2', 'httproutes'], ['policy.linkerd.io', 'v1beta3', 'httproutes'],
  ];
  for (const [g, v, plural] of expected) assert.ok(findResource(g, v, plural), `${g}/${v}/${plural}`);
  assert.equal(findResource('workload.linkerd.io', 'v1alpha1', 'workloadgroups'), undefined);
  assert.equal(findResource('', 'v1', 'pods'), undefined);
  assert.deepEqual(findByKind('authentication.k8s.io', 'TokenReview')!.verbs, ['create']);
  assert.equal(findByKind('authentication.k8s.io', 'TokenReview')!.virtual, true);
  assert.equal(findByShortName('EW')?.kind, 'ExternalWorkload');
  assert.equal(findByApiVersionKind('policy.linkerd.io/v1beta1', 'Server')?.plural, 'servers');
  assert.equal(findByApiVersionKind('policy.linkerd.io/v1alpha9', 'Server'), undefined);
  assert.deepEqual(parseApiVersion('v1'), { group: '', version: 'v1' });
  assert.deepEqual(parseApiVersion('apps/v1'), { group: 'apps', version: 'v1' });
});

test('versions are preferred GA, then beta, then alpha, higher first', () => {
  assert.ok(versionPriority('v1') > versionPriority('v1beta3'));
  assert.ok(versionPriority('v1beta3') > versionPriority('v1beta1'));
  assert.ok(versionPriority('v1beta1') > versionPriority('v1alpha1'));
  assert.deepEqual(groupVersions('policy.linkerd.io'), ['v1beta3', 'v1beta2', 'v1beta1', 'v1alpha1']);
  assert.equal(preferredVersion(findByKind('policy.linkerd.io', 'Server')!), 'v1beta3');
  assert.equal(preferredVersion(findByKind('workload.linkerd.io', 'ExternalWorkload')!), 'v1beta1');
  assert.ok(!namedGroups().includes(''));
});

test('ExternalWorkload converts between meshTLS (v1beta1) and meshTls (v1alpha1) without touching its input', () => {
  const rt = findByKind('workload.linkerd.io', 'ExternalWorkload')!;
  const stored = Object.freeze({
    apiVersion: 'workload.linkerd.io/v1beta1',
    kind: 'ExternalWorkload',
    metadata: { name: 'a', namespace: 'b' },
    spec: Object.freeze({ meshTLS: { identity: 'spiffe://cluster.local/a', serverName: 'a.b.svc' }, workloadIPs: [{ ip: '10.0.0.1' }] }),
  });
  const alpha = convertObject(rt, stored, 'v1alpha1') as any;
  assert.equal(alpha.apiVersion, 'workload.linkerd.io/v1alpha1');
  assert.deepEqual(alpha.spec, { meshTls: { identity: 'spiffe://cluster.local/a', serverName: 'a.b.svc' }, workloadIPs: [{ ip: '10.0.0.1' }] });
  const back = convertObject(rt, alpha, 'v1beta1');
  assert.deepEqual(back, stored);
  const noTLS = convertObject(rt, { ...stored, spec: { workloadIPs: [] } }, 'v1alpha1') as any;
  assert.deepEqual(noTLS.spec, { workloadIPs: [] });
  const server = findByKind('policy.linkerd.io', 'Server')!;
  assert.equal(convertObject(server, { apiVersion: 'policy.linkerd.io/v1beta3', kind: 'Server', metadata: {} }, 'v1beta1').apiVersion, 'policy.linkerd.io/v1beta1');
});
