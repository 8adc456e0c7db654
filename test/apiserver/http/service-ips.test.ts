// Service cluster IPs come from the API's range (`outpost up --service-cidr`): every Service its own
// address, an update keeps it, a deleted Service's address is given again, an address asked for
// must be in range and free, and a full range says so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApi, type TestApi } from './harness.js';

let api: TestApi;
const kubectl = (args: string[]) => api.kubectl(args);
const ok = async (args: string[]) => {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const ipOf = async (name: string) => ok(['get', 'svc', name, '-n', 'ips', '-o', 'jsonpath={.spec.clusterIP}']);
const service = (name: string, clusterIP?: string) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ips' }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...(clusterIP ? { clusterIP } : {}) } });

before(async () => {
  // A /29: .0 and .1 are never given, .7 is kept: five addresses, .2 to .6.
  api = await startTestApi({ serviceCidr: '198.18.250.0/29' });
  await ok(['create', 'namespace', 'ips']);
});
after(async () => api?.stop());

test('every Service gets its own address from the range; an update keeps it', async () => {
  for (const n of ['a', 'b', 'c']) await ok(['create', 'service', 'clusterip', n, '-n', 'ips', '--tcp=80:80']);
  assert.deepEqual([await ipOf('a'), await ipOf('b'), await ipOf('c')], ['198.18.250.2', '198.18.250.3', '198.18.250.4']);
  const file = join(api.dir, 'a.json');
  writeFileSync(file, service('a')); // no clusterIP: a replace keeps the allocated one
  await ok(['replace', '-f', file]);
  assert.equal(await ipOf('a'), '198.18.250.2');
});

test('an address asked for must be in the range and not taken', async () => {
  const file = join(api.dir, 'asked.json');
  writeFileSync(file, service('outside', '10.96.0.10'));
  const outside = await kubectl(['create', '-f', file]);
  assert.notEqual(outside.code, 0);
  assert.match(outside.stderr, /spec\.clusterIP: Invalid value: "10\.96\.0\.10": provided IP is not in the valid range\. The range of valid IPs is 198\.18\.250\.0\/29/);
  writeFileSync(file, service('taken', '198.18.250.3'));
  const taken = await kubectl(['create', '-f', file]);
  assert.notEqual(taken.code, 0);
  assert.match(taken.stderr, /provided IP is already allocated/);
  writeFileSync(file, service('mine', '198.18.250.6'));
  await ok(['create', '-f', file]);
  assert.equal(await ipOf('mine'), '198.18.250.6');
});

test('a deleted Service frees its address; a full range is an error naming the flag', async () => {
  await ok(['delete', 'svc', 'b', '-n', 'ips']);
  await ok(['create', 'service', 'clusterip', 'd', '-n', 'ips', '--tcp=80:80']);
  assert.equal(await ipOf('d'), '198.18.250.3');
  await ok(['create', 'service', 'clusterip', 'e', '-n', 'ips', '--tcp=80:80']);
  assert.equal(await ipOf('e'), '198.18.250.5');
  const full = await kubectl(['create', 'service', 'clusterip', 'f', '-n', 'ips', '--tcp=80:80']);
  assert.notEqual(full.code, 0);
  assert.match(full.stderr, /range 198\.18\.250\.0\/29 is full.*--service-cidr/);
});
