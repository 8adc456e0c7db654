// Bad input through real kubectl: each rejection names the field or the limit, nothing stored
// changes, and the server keeps serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from './harness.js';

let api: TestApi;

const manifest = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'workload.linkerd.io/v1beta1',
    kind: 'ExternalWorkload',
    metadata: { name: 'vm', namespace: 'bad' },
    spec: { meshTLS: { identity: 'spiffe://cluster.local/vm', serverName: 'vm.bad.svc.cluster.local' }, workloadIPs: [{ ip: '192.0.2.1' }], ports: [{ name: 'http', port: 8080 }], ...spec },
    ...extra,
  });

before(async () => {
  api = await startTestApi();
  assert.equal((await api.kubectl(['create', 'namespace', 'bad'])).code, 0);
  const r = await api.kubectl(['apply', '-f', '-'], manifest({}));
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await api?.stop();
});

async function rejected(input: string, pattern: RegExp, args: string[] = ['apply', '-f', '-']): Promise<void> {
  const before = api.store.revision();
  const live = JSON.stringify(api.store.get({ group: 'workload.linkerd.io', resource: 'externalworkloads' }, 'bad', 'vm'));
  const r = await api.kubectl(args, input);
  assert.equal(r.code, 1, `expected a rejection, got: ${r.stdout}`);
  assert.match(r.stderr, pattern);
  assert.equal(api.store.revision(), before, 'nothing was written');
  assert.equal(JSON.stringify(api.store.get({ group: 'workload.linkerd.io', resource: 'externalworkloads' }, 'bad', 'vm')), live);
}

test('invalid values are 422 with the field named', async () => {
  await rejected(manifest({ workloadIPs: [{ ip: '999.1.1.1' }] }), /The ExternalWorkload "vm" is invalid: spec\.workloadIPs\[0\]\.ip: Invalid value: "999\.1\.1\.1"/);
  await rejected(manifest({ ports: [{ name: 'http', port: 70000 }] }), /spec\.ports\[0\]\.port: Invalid value: 70000/);
  await rejected(manifest({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }), /spec\.ports\[1\]\.name: Duplicate value: "http"/);
  await rejected(manifest({ meshTLS: { identity: 'not a uri', serverName: 'vm.bad.svc.cluster.local' } }), /spec\.meshTLS\.identity/);
  // The same through create (POST) on a new name.
  await rejected(manifest({ workloadIPs: [{ ip: '999.1.1.1' }] }, { metadata: { name: 'vm2', namespace: 'bad' } }), /spec\.workloadIPs\[0\]\.ip/, ['create', '-f', '-']);
});

test('unknown fields: strict rejects, warn warns', async () => {
  await rejected(manifest({ bogus: true }), /unknown field "spec\.bogus"/);
  const warn = await api.kubectl(['apply', '--validate=warn', '-f', '-'], manifest({ bogus: true }, { metadata: { name: 'vm3', namespace: 'bad' } }));
  assert.equal(warn.code, 0, warn.stderr);
  assert.match(warn.stderr, /Warning: unknown field "spec\.bogus"/);
});

test('malformed and oversized bodies; the server keeps serving', async () => {
  const before = api.store.revision();
  const malformed = await api.call('PATCH', '/apis/workload.linkerd.io/v1beta1/namespaces/bad/externalworkloads/vm', { raw: '{"spec": [', contentType: 'application/merge-patch+json' });
  assert.equal(malformed.status, 400);
  assert.match(malformed.json.message, /error decoding patch/);
  const big = manifest({}, { metadata: { name: 'big', namespace: 'bad', annotations: { blob: 'x'.repeat(10 * 1024 * 1024) } } });
  const r = await api.kubectl(['create', '--validate=false', '-f', '-'], big);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /request body is too large: the limit is 3145728 bytes/);
  assert.equal(api.store.revision(), before);
  const ok = await api.kubectl(['get', 'ew', 'vm', '-n', 'bad', '-o', 'name']);
  assert.equal(ok.stdout.trim(), 'externalworkload.workload.linkerd.io/vm');
});
