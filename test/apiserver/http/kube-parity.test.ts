// Where the embedded API used to differ from kube-apiserver (issue 12 item 11, issue 19 item 5),
// over real HTTPS and real kubectl: server-side apply conflicts between field managers,
// `__proto__` keys pruned (and no prototype pollution), a merge patch naming another uid,
// malformed and future resourceVersions on list and watch, boolean query parameters.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApi, type TestApi } from './harness.js';

let api: TestApi;
const NS = 'parity';
const CM = `/api/v1/namespaces/${NS}/configmaps`;
const EW = `/apis/workload.linkerd.io/v1beta1/namespaces/${NS}/externalworkloads`;
const ewJson = (name: string, meta = '') =>
  `{"apiVersion":"workload.linkerd.io/v1beta1","kind":"ExternalWorkload","metadata":{"name":"${name}"${meta}},"spec":{"meshTLS":{"identity":"spiffe://cluster.local/${name}","serverName":"${name}.${NS}.svc.cluster.local"},"workloadIPs":[{"ip":"192.0.2.30"}]}}`;

before(async () => {
  api = await startTestApi();
  assert.equal((await api.call('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } })).status, 201);
});
after(async () => {
  await api?.stop();
});

const applyYaml = (name: string, data: Record<string, string>) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name}, namespace: ${NS} }\ndata:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join('\n')}\n`;

async function ssa(manager: string, yaml: string, force = false) {
  const file = join(api.dir, `${manager}-${Date.now()}.yaml`);
  writeFileSync(file, yaml);
  return api.kubectl(['apply', '--server-side', `--field-manager=${manager}`, ...(force ? ['--force-conflicts'] : []), '-f', file]);
}

test('server-side apply: a field another manager owns is a 409 conflict naming manager and field; --force-conflicts takes it over', async () => {
  assert.equal((await ssa('team-a', applyYaml('settings', { replicas: '3', owner: 'a' }))).code, 0);
  // Same value: shared ownership, no conflict.
  const same = await ssa('team-b', applyYaml('settings', { replicas: '3' }));
  assert.equal(same.code, 0, same.stderr);
  const clash = await ssa('team-b', applyYaml('settings', { replicas: '5' }));
  assert.notEqual(clash.code, 0, 'kubectl apply --server-side fails on a conflict');
  assert.match(clash.stderr, /conflict with "team-a"/);
  assert.match(clash.stderr, /\.data\.replicas/);
  const raw = await api.call('PATCH', `${CM}/settings?fieldManager=team-b`, { raw: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { replicas: '5' } }), contentType: 'application/apply-patch+yaml' });
  assert.equal(raw.status, 409, raw.text);
  assert.equal(raw.json.reason, 'Conflict');
  assert.deepEqual(
    raw.json.details.causes.map((c: { reason: string; field: string; message: string }) => [c.reason, c.field, c.message]),
    [['FieldManagerConflict', '.data.replicas', 'conflict with "team-a"']],
  );
  assert.equal((await api.call('GET', `${CM}/settings`)).json.data.replicas, '3', 'nothing changed');

  const forced = await ssa('team-b', applyYaml('settings', { replicas: '5' }), true);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal((await api.call('GET', `${CM}/settings`)).json.data.replicas, '5');
  // team-a lost the field: its next apply without it does not remove it, and setting it now conflicts with team-b.
  assert.equal((await ssa('team-a', applyYaml('settings', { owner: 'a' }))).code, 0);
  assert.equal((await api.call('GET', `${CM}/settings`)).json.data.replicas, '5');
  const back = await ssa('team-a', applyYaml('settings', { owner: 'a', replicas: '1' }));
  assert.match(back.stderr, /conflict with "team-b"/);
});

test('metadata.__proto__ (and a top-level __proto__) is pruned like any unknown field; nothing is polluted', async () => {
  const created = await api.call('POST', EW, { raw: ewJson('proto1', ',"__proto__":{"polluted":"yes"}'), contentType: 'application/json' });
  assert.equal(created.status, 201, created.text);
  assert.doesNotMatch(created.text, /__proto__|polluted/);
  assert.match(String(created.headers.warning), /unknown field \\"metadata.__proto__\\"/);
  const got = await api.call('GET', `${EW}/proto1`);
  assert.doesNotMatch(got.text, /__proto__|polluted/);
  const strict = await api.call('POST', `${EW}?fieldValidation=Strict`, { raw: ewJson('proto2', ',"__proto__":{"x":"y"}'), contentType: 'application/json' });
  assert.equal(strict.status, 400);
  assert.match(strict.json.message, /unknown field "metadata.__proto__"/);
  const top = await api.call('POST', EW, { raw: ewJson('proto3').replace(/^\{/, '{"__proto__":{"polluted":"yes"},'), contentType: 'application/json' });
  assert.equal(top.status, 201, top.text);
  assert.doesNotMatch(top.text, /polluted/);
  const patched = await api.call('PATCH', `${EW}/proto1`, { raw: '{"metadata":{"__proto__":{"polluted":"yes"},"labels":{"a":"b"}}}', contentType: 'application/merge-patch+json' });
  assert.equal(patched.status, 200, patched.text);
  assert.doesNotMatch(patched.text, /__proto__|polluted/);
  const applied = await api.call('PATCH', `${EW}/proto1?fieldManager=p`, { raw: ewJson('proto1', ',"__proto__":{"polluted":"yes"}'), contentType: 'application/apply-patch+yaml' });
  assert.equal(applied.status, 200, applied.text);
  assert.doesNotMatch(applied.text, /__proto__|polluted/);
  const yaml = await api.call('POST', CM, { raw: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: proto-yaml\n  __proto__: { polluted: "yes" }\ndata: { __proto__: "x", a: "1" }\n', contentType: 'application/yaml' });
  assert.equal(yaml.status, 201, yaml.text);
  // data.__proto__ is a legitimate data key (its managedFields entry names it: f:data.f:__proto__); metadata.__proto__ is gone.
  const { managedFields, ...meta } = yaml.json.metadata;
  assert.doesNotMatch(JSON.stringify(meta), /__proto__|polluted/);
  assert.doesNotMatch(JSON.stringify(managedFields), /polluted/);
  assert.equal(yaml.json.data.__proto__, 'x');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
});

test('a patch or update naming another metadata.uid is 409 "Precondition failed: UID in precondition"', async () => {
  const live = await api.call('POST', CM, { body: { metadata: { name: 'uid-check' }, data: { a: '1' } } });
  const uid = live.json.metadata.uid;
  const other = '00000000-0000-4000-8000-000000000000';
  const merge = await api.call('PATCH', `${CM}/uid-check`, { raw: JSON.stringify({ metadata: { uid: other }, data: { a: '2' } }), contentType: 'application/merge-patch+json' });
  assert.equal(merge.status, 409, merge.text);
  assert.equal(merge.json.reason, 'Conflict');
  assert.match(merge.json.message, new RegExp(`Precondition failed: UID in precondition: ${other}, UID in object meta: ${uid}`));
  const put = await api.call('PUT', `${CM}/uid-check`, { body: { metadata: { name: 'uid-check', uid: other }, data: { a: '3' } } });
  assert.equal(put.status, 409);
  assert.equal((await api.call('GET', `${CM}/uid-check`)).json.data.a, '1');
  const ok = await api.call('PATCH', `${CM}/uid-check`, { raw: JSON.stringify({ metadata: { uid }, data: { a: '4' } }), contentType: 'application/merge-patch+json' });
  assert.equal(ok.status, 200, 'the right uid is a precondition that holds');
});

test('resourceVersion: malformed is 400 on list and watch; a future one is 504 "Too large resource version" (ResourceVersionTooLarge)', async () => {
  const bad = await api.call('GET', `${CM}?resourceVersion=abc`);
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.json.reason, 'BadRequest');
  assert.match(bad.json.message, /resourceVersion/);
  assert.equal((await api.call('GET', `${CM}?watch=true&resourceVersion=abc`)).status, 400);
  const current = Number((await api.call('GET', CM)).json.metadata.resourceVersion);
  const future = current + 1000;
  for (const path of [`${CM}?resourceVersion=${future}`, `${CM}?watch=true&resourceVersion=${future}&timeoutSeconds=5`]) {
    const started = Date.now();
    const r = await api.call('GET', path);
    assert.equal(r.status, 504, `${path}: ${r.text}`);
    assert.ok(Date.now() - started < 4500, 'answered, not left hanging');
    assert.equal(r.json.reason, 'Timeout');
    assert.match(r.json.message, new RegExp(`Too large resource version: ${future}, current: \\d+`));
    assert.deepEqual(r.json.details.causes, [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }]);
    assert.equal(r.json.details.retryAfterSeconds, 1);
  }
  assert.equal((await api.call('GET', `${CM}?resourceVersion=${current}`)).status, 200, 'the current resourceVersion lists');
  assert.equal((await api.call('GET', `${CM}?resourceVersion=0`)).status, 200);
});

test('boolean query parameters as Kubernetes parses them: absent, "0" and "false" (any case) are false, anything else true', async () => {
  const isWatch = async (v: string) => {
    const r = await api.call('GET', `${CM}?watch=${v}&timeoutSeconds=1`);
    assert.equal(r.status, 200, r.text);
    if (r.json?.kind === 'ConfigMapList') return false;
    assert.match(r.text, /^\{"type":"ADDED"/, `watch=${v} streams events`);
    return true;
  };
  for (const v of ['true', 'True', 'TRUE', '1', 't', 'yes']) assert.equal(await isWatch(v), true, `watch=${v}`);
  for (const v of ['false', 'False', 'FALSE', '0']) assert.equal(await isWatch(v), false, `watch=${v}`);
});
