// Discovery and OpenAPI documents generated from the registry have the shapes kubectl 1.32 and
// client-node 1.4 rely on (wire spec sections 2 and 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGGREGATED_DISCOVERY_CONTENT_TYPE,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  negotiateDiscovery,
} from '../../src/apiserver/discovery.js';
import { openApiDocument, openApiIndex, parseOpenApiPath } from '../../src/apiserver/openapi.js';
import { RESOURCE_TYPES, resolveResourceName } from '../../src/apiserver/resources/index.js';

const KUBECTL_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

test('aggregated discovery content type and negotiation', () => {
  assert.equal(AGGREGATED_DISCOVERY_CONTENT_TYPE, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  assert.equal(negotiateDiscovery(KUBECTL_ACCEPT), 'v2');
  assert.equal(negotiateDiscovery('application/json, */*'), undefined);
  assert.equal(negotiateDiscovery(undefined), undefined);
});

test('/api aggregated: the core group with v1, services and the serviceaccounts token subresource', () => {
  const doc = aggregatedDiscovery('/api');
  assert.equal(doc.kind, 'APIGroupDiscoveryList');
  assert.equal(doc.apiVersion, 'apidiscovery.k8s.io/v2');
  assert.equal(doc.items.length, 1);
  assert.equal(doc.items[0].metadata.name, '');
  const v1 = doc.items[0].versions[0];
  assert.equal(v1.version, 'v1');
  assert.equal(v1.freshness, 'Current');
  const names = v1.resources.map((r) => r.resource);
  for (const r of ['namespaces', 'services', 'serviceaccounts', 'configmaps', 'secrets', 'events']) assert.ok(names.includes(r), r);
  const svc = v1.resources.find((r) => r.resource === 'services')!;
  assert.deepEqual(svc.shortNames, ['svc']);
  assert.equal(svc.scope, 'Namespaced');
  assert.equal(svc.responseKind.kind, 'Service');
  const ns = v1.resources.find((r) => r.resource === 'namespaces')!;
  assert.equal(ns.scope, 'Cluster');
  const sa = v1.resources.find((r) => r.resource === 'serviceaccounts')!;
  assert.deepEqual(sa.subresources, [{ subresource: 'token', responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] }]);
});

test('/apis aggregated: every named group, preferred version first, short names and status subresources', () => {
  const doc = aggregatedDiscovery('/apis');
  const groups = doc.items.map((g) => g.metadata.name);
  assert.deepEqual(groups, ['apps', 'authentication.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'workload.linkerd.io', 'policy.linkerd.io']);
  const workload = doc.items.find((g) => g.metadata.name === 'workload.linkerd.io')!;
  assert.deepEqual(workload.versions.map((v) => v.version), ['v1beta1', 'v1alpha1']);
  const ew = workload.versions[0].resources.find((r) => r.resource === 'externalworkloads')!;
  assert.deepEqual(ew.shortNames, ['ew']);
  assert.deepEqual(ew.categories, ['external']);
  assert.equal(ew.singularResource, 'externalworkload');
  assert.deepEqual(ew.verbs, ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
  assert.deepEqual(ew.subresources, [{ subresource: 'status', responseKind: { group: '', version: '', kind: 'ExternalWorkload' }, verbs: ['get', 'patch', 'update'] }]);
  assert.deepEqual(workload.versions[1].resources.map((r) => r.resource), ['externalworkloads']);
  const policy = doc.items.find((g) => g.metadata.name === 'policy.linkerd.io')!;
  assert.deepEqual(policy.versions.map((v) => v.version), ['v1beta3', 'v1beta2', 'v1beta1', 'v1alpha1']);
  const v1beta1 = policy.versions.find((v) => v.version === 'v1beta1')!.resources.map((r) => r.resource);
  assert.ok(v1beta1.includes('serverauthorizations') && v1beta1.includes('servers') && v1beta1.includes('httproutes'));
  const tokenReviews = doc.items.find((g) => g.metadata.name === 'authentication.k8s.io')!.versions[0].resources[0];
  assert.deepEqual([tokenReviews.resource, tokenReviews.scope, tokenReviews.verbs], ['tokenreviews', 'Cluster', ['create']]);
});

test('every short name is unique and resolves like kubectl aliases', () => {
  const shortNames = RESOURCE_TYPES.flatMap((t) => t.shortNames);
  assert.equal(new Set(shortNames).size, shortNames.length);
  for (const alias of ['ew', 'externalworkload', 'ExternalWorkload', 'externalworkloads.workload.linkerd.io', 'externalworkloads.v1beta1.workload.linkerd.io']) {
    assert.equal(resolveResourceName(alias)?.kind, 'ExternalWorkload', alias);
  }
  for (const [alias, kind] of [['svc', 'Service'], ['sa', 'ServiceAccount'], ['ns', 'Namespace'], ['cm', 'ConfigMap'], ['srv', 'Server'], ['saz', 'ServerAuthorization'], ['meshtlsauthn', 'MeshTLSAuthentication'], ['netauthn', 'NetworkAuthentication'], ['wg', 'WorkloadGroup']]) {
    assert.equal(resolveResourceName(alias)?.kind, kind, alias);
  }
  assert.equal(resolveResourceName('foos'), undefined);
});

test('legacy documents: APIVersions, APIGroupList, APIGroup, APIResourceList', () => {
  assert.deepEqual(apiVersions('127.0.0.1:6443'), { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] });
  const list = apiGroupList();
  const policy = list.groups.find((g) => g.name === 'policy.linkerd.io')!;
  assert.deepEqual(policy.preferredVersion, { groupVersion: 'policy.linkerd.io/v1beta3', version: 'v1beta3' });
  assert.equal(apiGroup('workload.linkerd.io')?.kind, 'APIGroup');
  assert.equal(apiGroup('nope.example.com'), undefined);

  const ewList = apiResourceList('workload.linkerd.io', 'v1beta1')!;
  assert.equal(ewList.groupVersion, 'workload.linkerd.io/v1beta1');
  const ew = ewList.resources.find((r) => r.name === 'externalworkloads')!;
  assert.deepEqual([ew.singularName, ew.namespaced, ew.kind, ew.shortNames], ['externalworkload', true, 'ExternalWorkload', ['ew']]);
  assert.deepEqual(ewList.resources.find((r) => r.name === 'externalworkloads/status'), { name: 'externalworkloads/status', singularName: '', namespaced: true, kind: 'ExternalWorkload', verbs: ['get', 'patch', 'update'] });

  const core = apiResourceList('', 'v1')!;
  assert.equal(core.groupVersion, 'v1');
  assert.deepEqual(core.resources.find((r) => r.name === 'serviceaccounts/token'), {
    name: 'serviceaccounts/token', singularName: '', namespaced: true, kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1',
  });
  assert.equal(apiResourceList('workload.linkerd.io', 'v9'), undefined);
});

test('OpenAPI v3 index lists every group-version with a hashed URL', () => {
  const index = openApiIndex();
  assert.ok(index.paths['api/v1'].serverRelativeURL.startsWith('/openapi/v3/api/v1?hash='));
  for (const key of ['apis/workload.linkerd.io/v1beta1', 'apis/workload.linkerd.io/v1alpha1', 'apis/policy.linkerd.io/v1beta3', 'apis/policy.linkerd.io/v1alpha1', 'apis/discovery.k8s.io/v1', 'apis/apps/v1']) {
    assert.ok(index.paths[key], key);
  }
  assert.deepEqual(parseOpenApiPath('/openapi/v3/apis/policy.linkerd.io/v1beta3'), { group: 'policy.linkerd.io', version: 'v1beta3' });
  assert.deepEqual(parseOpenApiPath('/openapi/v3/api/v1'), { group: '', version: 'v1' });
  assert.equal(parseOpenApiPath('/openapi/v2'), undefined);
});

test('every served kind has a PATCH with its GVK and fieldValidation (so kubectl validates server-side)', () => {
  for (const rt of RESOURCE_TYPES.filter((t) => !t.virtual)) {
    for (const v of rt.versions.filter((x) => x.served)) {
      const doc = openApiDocument(rt.group, v.name) as any;
      const patchOps = Object.values(doc.paths as Record<string, any>).map((p) => p.patch).filter(Boolean);
      const match = patchOps.find((op) => op['x-kubernetes-group-version-kind'].kind === rt.kind && op['x-kubernetes-group-version-kind'].version === v.name && op['x-kubernetes-group-version-kind'].group === rt.group);
      assert.ok(match, `${rt.kind} ${v.name}`);
      assert.ok(match.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query'), `${rt.kind} ${v.name} fieldValidation`);
      assert.equal(Object.keys(match.requestBody.content).includes('application/strategic-merge-patch+json'), false);
    }
  }
});

test('OpenAPI component schemas carry descriptions and GVKs for kubectl explain', () => {
  const doc = openApiDocument('workload.linkerd.io', 'v1beta1') as any;
  const path = doc.paths['/apis/workload.linkerd.io/v1beta1/namespaces/{namespace}/externalworkloads/{name}'];
  assert.ok(path.get && path.put && path.patch && path.delete);
  assert.ok(doc.paths['/apis/workload.linkerd.io/v1beta1/namespaces/{namespace}/externalworkloads/{name}/status'].patch);
  assert.ok(doc.paths['/apis/workload.linkerd.io/v1beta1/externalworkloads'].get);
  const ew = doc.components.schemas['io.linkerd.workload.v1beta1.ExternalWorkload'];
  assert.deepEqual(ew['x-kubernetes-group-version-kind'], [{ group: 'workload.linkerd.io', version: 'v1beta1', kind: 'ExternalWorkload' }]);
  assert.match(ew.properties.spec.properties.meshTLS.properties.identity.description, /SPIFFE/);
  assert.equal(ew.properties.metadata.allOf[0].$ref, '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  assert.ok(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.labels);
  const core = openApiDocument('', 'v1') as any;
  assert.ok(core.components.schemas['io.k8s.api.core.v1.Service']);
  assert.ok(core.paths['/api/v1/namespaces/{name}'].patch);
  assert.equal(openApiDocument('nope', 'v1'), undefined);
});
