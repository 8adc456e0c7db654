// Server semantics over raw HTTPS: generation, status isolation, optimistic concurrency, dryRun,
// fieldValidation, finalizers, ownerReference GC, body limits and malformed bodies, restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from './harness.js';

let api: TestApi;
const EW = '/apis/workload.linkerd.io/v1beta1/namespaces/semantics/externalworkloads';
const ew = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'workload.linkerd.io/v1beta1',
  kind: 'ExternalWorkload',
  metadata: { name, labels: { app: 'sem' } },
  spec: { meshTLS: { identity: `spiffe://cluster.local/${name}`, serverName: `${name}.semantics.svc.cluster.local` }, workloadIPs: [{ ip: '192.0.2.10' }], ports: [{ name: 'http', port: 8080 }] },
  ...extra,
});

before(async () => {
  api = await startTestApi();
  assert.equal((await api.call('POST', '/api/v1/namespaces', { body: { metadata: { name: 'semantics' } } })).status, 201);
});
after(async () => {
  await api?.stop();
});

test('create fills server fields; generation bumps on spec changes only; status is isolated', async () => {
  const created = await api.call('POST', EW, { body: ew('g1', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }) });
  assert.equal(created.status, 201, created.text);
  const meta = created.json.metadata;
  assert.match(meta.uid, /^[0-9a-f-]{36}$/);
  assert.match(meta.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(meta.generation, 1);
  assert.equal(created.json.status, undefined, 'status is not set through the main resource');
  assert.equal(created.json.spec.ports[0].protocol, 'TCP', 'schema default');

  const labelled = await api.call('PATCH', `${EW}/g1`, { raw: '{"metadata":{"labels":{"x":"y"}},"status":{"conditions":[]}}', contentType: 'application/merge-patch+json' });
  assert.equal(labelled.json.metadata.generation, 1);
  assert.ok(Number(labelled.json.metadata.resourceVersion) > Number(meta.resourceVersion));
  const respec = await api.call('PATCH', `${EW}/g1`, { raw: '{"spec":{"workloadIPs":[{"ip":"192.0.2.11"}]}}', contentType: 'application/merge-patch+json' });
  assert.equal(respec.json.metadata.generation, 2);

  const status = await api.call('PUT', `${EW}/g1/status`, { body: { ...respec.json, spec: { ...respec.json.spec, workloadIPs: [{ ip: '192.0.2.99' }] }, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] } } });
  assert.equal(status.status, 200, status.text);
  assert.equal(status.json.status.conditions[0].status, 'True');
  assert.equal(status.json.spec.workloadIPs[0].ip, '192.0.2.11', 'the status endpoint ignores spec');
  assert.equal(status.json.metadata.generation, 2);
  const mainPut = await api.call('PUT', `${EW}/g1`, { body: { ...status.json, status: { conditions: [] } } });
  assert.equal(mainPut.json.status.conditions[0].status, 'True', 'the main endpoint ignores status');
});

test('optimistic concurrency, AlreadyExists, dryRun, generateName, v1alpha1 conversion', async () => {
  const a = (await api.call('POST', EW, { body: ew('c1') })).json;
  assert.equal((await api.call('POST', EW, { body: ew('c1') })).json.reason, 'AlreadyExists');
  const first = await api.call('PUT', `${EW}/c1`, { body: { ...a, metadata: { ...a.metadata, labels: { v: '1' } } } });
  assert.equal(first.status, 200);
  const stale = await api.call('PUT', `${EW}/c1`, { body: { ...a, metadata: { ...a.metadata, labels: { v: '2' } } } });
  assert.equal(stale.status, 409);
  assert.match(stale.json.message, /the object has been modified/);
  const stalePatch = await api.call('PATCH', `${EW}/c1`, { raw: JSON.stringify({ metadata: { resourceVersion: a.metadata.resourceVersion, labels: { v: '3' } } }), contentType: 'application/merge-patch+json' });
  assert.equal(stalePatch.status, 409);

  const dry = await api.call('POST', `${EW}?dryRun=All`, { body: ew('dry') });
  assert.equal(dry.status, 201);
  assert.equal((await api.call('GET', `${EW}/dry`)).status, 404);
  assert.equal((await api.call('DELETE', `${EW}/c1?dryRun=All`)).status, 200);
  assert.equal((await api.call('GET', `${EW}/c1`)).status, 200);

  const gen = await api.call('POST', EW, { body: { ...ew('gen'), metadata: { generateName: 'gen-' } } });
  assert.equal(gen.status, 201);
  assert.match(gen.json.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  const noName = await api.call('POST', EW, { body: { ...ew('gen'), metadata: {} } });
  assert.equal(noName.status, 422);

  const alpha = await api.call('GET', '/apis/workload.linkerd.io/v1alpha1/namespaces/semantics/externalworkloads/c1');
  assert.equal(alpha.json.apiVersion, 'workload.linkerd.io/v1alpha1');
  assert.equal(alpha.json.spec.meshTls.identity, 'spiffe://cluster.local/c1');
  const alphaBody = { ...ew('a1'), apiVersion: 'workload.linkerd.io/v1alpha1' } as Record<string, any>;
  alphaBody.spec = { ...alphaBody.spec, meshTls: alphaBody.spec.meshTLS, meshTLS: undefined };
  const createdAlpha = await api.call('POST', '/apis/workload.linkerd.io/v1alpha1/namespaces/semantics/externalworkloads', { body: alphaBody });
  assert.equal(createdAlpha.status, 201, createdAlpha.text);
  assert.equal(createdAlpha.json.apiVersion, 'workload.linkerd.io/v1alpha1');
  assert.equal((await api.call('GET', `${EW}/a1`)).json.spec.meshTLS.identity, 'spiffe://cluster.local/a1', 'stored as v1beta1');
  assert.equal((await api.call('POST', '/apis/workload.linkerd.io/v1beta1/namespaces/nowhere/externalworkloads', { body: ew('x') })).json.message, 'namespaces "nowhere" not found');
});

test('validation: 422 causes name each field; fieldValidation Strict/Warn/Ignore; nothing stored changes', async () => {
  const before = api.store.revision();
  const bad = ew('bad');
  bad.spec = { ...bad.spec, workloadIPs: [{ ip: '999.1.1.1' }], ports: [{ name: 'http', port: 70000 }, { name: 'http', port: 81 }] };
  const r = await api.call('POST', EW, { body: bad });
  assert.equal(r.status, 422);
  assert.equal(r.json.reason, 'Invalid');
  const fields = r.json.details.causes.map((c: { field: string }) => c.field);
  for (const f of ['spec.workloadIPs[0].ip', 'spec.ports[0].port', 'spec.ports[1].name']) assert.ok(fields.includes(f), `${f} in ${fields}`);
  const unknown = { ...ew('unk'), spec: { ...ew('unk').spec, bogus: 1 } };
  const strict = await api.call('POST', `${EW}?fieldValidation=Strict`, { body: unknown });
  assert.equal(strict.status, 400);
  assert.match(strict.json.message, /strict decoding error: unknown field "spec.bogus"/);
  assert.equal(api.store.revision(), before, 'rejected writes change nothing');
  const warn = await api.call('POST', `${EW}?fieldValidation=Warn`, { body: unknown });
  assert.equal(warn.status, 201);
  assert.match(String(warn.headers.warning), /299 - "unknown field \\"spec.bogus\\""/);
  assert.equal(warn.json.spec.bogus, undefined, 'unknown fields are pruned');
  const ignore = await api.call('POST', `${EW}?fieldValidation=Ignore`, { body: { ...unknown, metadata: { name: 'unk2' } } });
  assert.equal(ignore.status, 201);
  assert.equal(ignore.headers.warning, undefined);
});

test('bad bodies: malformed JSON, wrong kind, too large; the server keeps serving', async () => {
  const malformed = await api.call('POST', EW, { raw: '{"metadata": {', contentType: 'application/json' });
  assert.equal(malformed.status, 400);
  assert.match(malformed.json.message, /not valid JSON/);
  const notObject = await api.call('POST', EW, { raw: '[1,2]' });
  assert.equal(notObject.status, 400);
  const wrongKind = await api.call('POST', EW, { body: { ...ew('k'), kind: 'Service' } });
  assert.equal(wrongKind.status, 400);
  const big = { ...ew('big'), metadata: { name: 'big', annotations: { blob: 'x'.repeat(10 * 1024 * 1024) } } };
  const tooLarge = await api.call('POST', EW, { body: big });
  assert.equal(tooLarge.status, 413);
  assert.match(tooLarge.json.message, /limit is 3145728 bytes/);
  const unsupported = await api.call('POST', EW, { raw: 'x', contentType: 'text/plain' });
  assert.equal(unsupported.status, 415);
  assert.equal((await api.call('GET', '/version')).status, 200);
  assert.equal((await api.call('GET', '/nope')).status, 404);
  assert.equal((await api.call('GET', '/apis/authentication.k8s.io/v1/tokenreviews')).status, 405);
  assert.equal((await api.call('GET', `${EW}?labelSelector=${encodeURIComponent('a in (')}`)).status, 400);
  assert.equal((await api.call('GET', `${EW}?fieldSelector=spec.x%3D1`)).json.message, 'field label not supported: spec.x');
});

test('finalizers hold deletion; removing the last one deletes', async () => {
  await api.call('POST', EW, { body: { ...ew('fin'), metadata: { name: 'fin', finalizers: ['example.com/hold'] } } });
  const del = await api.call('DELETE', `${EW}/fin`);
  assert.equal(del.status, 200);
  assert.ok(del.json.metadata.deletionTimestamp);
  assert.equal((await api.call('GET', `${EW}/fin`)).status, 200);
  const released = await api.call('PATCH', `${EW}/fin`, { raw: '{"metadata":{"finalizers":null}}', contentType: 'application/merge-patch+json' });
  assert.equal(released.status, 200);
  assert.equal((await api.call('GET', `${EW}/fin`)).status, 404);
});

test('deleting an owner deletes its dependents (Service -> EndpointSlices)', async () => {
  const svc = await api.call('POST', '/api/v1/namespaces/semantics/services', { body: { metadata: { name: 'owner' }, spec: { ports: [{ port: 80 }] } } });
  assert.equal(svc.status, 201, svc.text);
  const owned = { apiVersion: 'v1', kind: 'Service', name: 'owner', uid: svc.json.metadata.uid, controller: true };
  const slice = (name: string, refs: unknown[]) => ({
    metadata: { name, labels: { 'kubernetes.io/service-name': 'owner' }, ownerReferences: refs },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['192.0.2.1'] }],
    ports: [{ port: 80 }],
  });
  const ES = '/apis/discovery.k8s.io/v1/namespaces/semantics/endpointslices';
  assert.equal((await api.call('POST', ES, { body: slice('owner-a', [owned]) })).status, 201);
  assert.equal((await api.call('POST', ES, { body: slice('unowned', []) })).status, 201);
  assert.equal((await api.call('DELETE', '/api/v1/namespaces/semantics/services/owner')).status, 200);
  for (let i = 0; i < 50 && (await api.call('GET', `${ES}/owner-a`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await api.call('GET', `${ES}/owner-a`)).status, 404);
  assert.equal((await api.call('GET', `${ES}/unowned`)).status, 200);
  // propagationPolicy Orphan keeps dependents and only drops the reference.
  const svc2 = await api.call('POST', '/api/v1/namespaces/semantics/services', { body: { metadata: { name: 'owner2' }, spec: { ports: [{ port: 80 }] } } });
  assert.equal((await api.call('POST', ES, { body: slice('orphan', [{ ...owned, name: 'owner2', uid: svc2.json.metadata.uid }]) })).status, 201);
  assert.equal((await api.call('DELETE', '/api/v1/namespaces/semantics/services/owner2', { body: { propagationPolicy: 'Orphan' } })).status, 200);
  for (let i = 0; i < 50 && (await api.call('GET', `${ES}/orphan`)).json.metadata.ownerReferences; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await api.call('GET', `${ES}/orphan`)).json.metadata.ownerReferences, undefined);
  // A dependent whose owner is already gone is collected as well.
  assert.equal((await api.call('POST', ES, { body: slice('dangling', [owned]) })).status, 201);
  for (let i = 0; i < 50 && (await api.call('GET', `${ES}/dangling`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await api.call('GET', `${ES}/dangling`)).status, 404);
});

test('lists: selectors, limit/continue, Table; restart keeps objects and resourceVersions grow', async () => {
  for (const n of ['p1', 'p2', 'p3']) await api.call('POST', EW, { body: { ...ew(n), metadata: { name: n, labels: { page: 'yes', n } } } });
  const page1 = await api.call('GET', `${EW}?labelSelector=page%3Dyes&limit=2`);
  assert.equal(page1.json.items.length, 2);
  assert.ok(page1.json.metadata.continue);
  const page2 = await api.call('GET', `${EW}?labelSelector=page%3Dyes&limit=2&continue=${encodeURIComponent(page1.json.metadata.continue)}`);
  assert.deepEqual(page2.json.items.map((i: any) => i.metadata.name), ['p3']);
  const notin = await api.call('GET', `${EW}?labelSelector=${encodeURIComponent('page,n notin (p1,p2)')}`);
  assert.deepEqual(notin.json.items.map((i: any) => i.metadata.name), ['p3']);
  const byName = await api.call('GET', `/apis/workload.linkerd.io/v1beta1/externalworkloads?fieldSelector=metadata.name%3Dp2`);
  assert.deepEqual(byName.json.items.map((i: any) => i.metadata.namespace + '/' + i.metadata.name), ['semantics/p2']);
  const table = await api.call('GET', EW, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
  assert.equal(table.json.kind, 'Table');
  assert.equal(table.json.rows[0].object.kind, 'PartialObjectMetadata');

  const p1 = (await api.call('GET', `${EW}/p1`)).json;
  const rv = Number(p1.metadata.resourceVersion);
  await api.restart();
  const again = (await api.call('GET', `${EW}/p1`)).json;
  assert.deepEqual(again, p1);
  const next = await api.call('PATCH', `${EW}/p1`, { raw: '{"metadata":{"labels":{"after":"restart"}}}', contentType: 'application/merge-patch+json' });
  assert.ok(Number(next.json.metadata.resourceVersion) > rv);
});
