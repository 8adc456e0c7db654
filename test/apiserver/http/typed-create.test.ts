// kubectl >= 1.32 sends protobuf for its typed `create` commands: configmap, secret (generic,
// docker-registry), service (clusterip, nodeport, externalname) and deployment work against the server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApi, type TestApi } from './harness.js';

let api: TestApi;
const ok = async (args: string[]) => {
  const r = await api.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));

before(async () => {
  api = await startTestApi();
  await ok(['create', 'namespace', 'typed']);
});
after(async () => api?.stop());

test('kubectl create configmap --from-literal / --from-file stores data and binaryData', async () => {
  assert.match(await ok(['create', 'configmap', 'app-config', '-n', 'typed', '--from-literal=mode=fast', '--from-literal=level=3']), /configmap\/app-config created/);
  assert.deepEqual((await json(['get', 'configmap', 'app-config', '-n', 'typed'])).data, { level: '3', mode: 'fast' });
  const file = join(api.dir, 'blob.bin');
  writeFileSync(file, Buffer.from([0xff, 0x00, 0x01]));
  await ok(['create', 'configmap', 'blob', '-n', 'typed', `--from-file=${file}`]);
  assert.deepEqual((await json(['get', 'configmap', 'blob', '-n', 'typed'])).binaryData, { 'blob.bin': '/wAB' });
  assert.match(await ok(['get', 'configmaps', '-n', 'typed']), /app-config\s+2\s/);
});

test('kubectl create secret generic / docker-registry stores base64 data and the type', async () => {
  assert.match(await ok(['create', 'secret', 'generic', 'db-creds', '-n', 'typed', '--from-literal=password=s3cret']), /secret\/db-creds created/);
  const s = await json(['get', 'secret', 'db-creds', '-n', 'typed']);
  assert.equal(s.type, 'Opaque');
  assert.equal(Buffer.from(s.data.password, 'base64').toString(), 's3cret');
  await ok(['create', 'secret', 'docker-registry', 'regcred', '-n', 'typed', '--docker-server=registry.example', '--docker-username=u', '--docker-password=p']);
  const r = await json(['get', 'secret', 'regcred', '-n', 'typed']);
  assert.equal(r.type, 'kubernetes.io/dockerconfigjson');
  assert.equal(JSON.parse(Buffer.from(r.data['.dockerconfigjson'], 'base64').toString()).auths['registry.example'].username, 'u');
  const dup = await api.kubectl(['create', 'secret', 'generic', 'db-creds', '-n', 'typed', '--from-literal=a=b']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /already exists/);
});

test('kubectl create service clusterip / externalname and create deployment', async () => {
  await ok(['create', 'service', 'clusterip', 'web', '-n', 'typed', '--tcp=80:http', '--tcp=5678:8080']);
  const svc = await json(['get', 'service', 'web', '-n', 'typed']);
  assert.deepEqual(svc.spec.selector, { app: 'web' });
  assert.deepEqual(svc.spec.ports.map((p: { port: number; targetPort: unknown; protocol: string }) => [p.port, p.targetPort, p.protocol]), [[80, 'http', 'TCP'], [5678, 8080, 'TCP']]);
  assert.match(svc.spec.clusterIP, /^10\.\d+\.\d+\.\d+$/);
  await ok(['create', 'service', 'externalname', 'ext', '-n', 'typed', '--external-name=db.example.com']);
  assert.match(await ok(['get', 'svc', 'ext', '-n', 'typed']), /ext\s+ExternalName\s+<none>\s+db\.example\.com/);
  await ok(['create', 'deployment', 'api', '-n', 'typed', '--image=nginx', '--port=80', '--replicas=0']);
  const d = await json(['get', 'deployment', 'api', '-n', 'typed']);
  assert.equal(d.spec.replicas, 0);
  assert.deepEqual(d.spec.template.spec.containers, [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], resources: {} }]);
});

test('a protobuf body of a kind the decoder does not know is 415 Unsupported Media Type', async () => {
  const body = Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x07, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x01, 0x58]); // typeMeta {v1, X}
  const r = await api.call('POST', '/api/v1/namespaces/typed/configmaps', { raw: body, contentType: 'application/vnd.kubernetes.protobuf' });
  assert.equal(r.status, 415);
  assert.match(r.json.message, /unknown format/);
  assert.equal(r.json.reason, 'UnsupportedMediaType');
});
