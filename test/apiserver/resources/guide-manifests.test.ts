// Every manifest of the guide passes the admission pipeline unchanged in meaning: no unknown
// fields, no causes, and the documented defaults filled in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../src/store/types.js';
import { findByApiVersionKind, parseApiVersion } from '../../../src/apiserver/resources/index.js';
import { admitObject } from '../../../src/apiserver/schema/admit.js';

const GUIDE = join(import.meta.dirname, '../../fixtures/guide');

function guideObjects(): { file: string; obj: KubeObject }[] {
  const out: { file: string; obj: KubeObject }[] = [];
  for (const file of readdirSync(GUIDE).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(GUIDE, file), 'utf8'))) {
      const obj = doc.toJS() as KubeObject | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

test('every guide manifest validates cleanly', () => {
  const objects = guideObjects();
  assert.ok(objects.length >= 15, `found ${objects.length} objects`);
  for (const { file, obj } of objects) {
    const rt = findByApiVersionKind(obj.apiVersion!, obj.kind!);
    assert.ok(rt, `${file}: ${obj.apiVersion} ${obj.kind} is not served`);
    const result = admitObject(rt, parseApiVersion(obj.apiVersion!).version, obj);
    assert.deepEqual(result.unknownFields, [], `${file} ${obj.metadata.name}: unknown fields`);
    assert.deepEqual(result.causes, [], `${file} ${obj.metadata.name}: causes`);
  }
});

test('guide objects get Kubernetes defaults', () => {
  const byName = new Map(guideObjects().map(({ obj }) => [`${obj.kind}/${obj.metadata.name}`, obj]));
  const admit = (k: string) => {
    const obj = byName.get(k)!;
    const rt = findByApiVersionKind(obj.apiVersion!, obj.kind!)!;
    return admitObject(rt, parseApiVersion(obj.apiVersion!).version, obj).object as any;
  };
  const headless = admit('Service/redis-cache');
  assert.equal(headless.spec.type, 'ClusterIP');
  assert.equal(headless.spec.clusterIP, 'None');
  assert.equal(headless.spec.ports[0].protocol, 'TCP');
  const svc = admit('Service/payment-processor');
  assert.equal(svc.spec.clusterIP, undefined, 'the cluster IP is allocated when the Service is created (test/apiserver/http/service-ips.test.ts)');
  assert.deepEqual(svc.status, { loadBalancer: {} });
  const server = admit('Server/postgres-server');
  assert.equal(server.spec.accessPolicy, 'deny');
  assert.equal(server.spec.proxyProtocol, 'opaque');
  const ew = admit('ExternalWorkload/postgres-primary');
  assert.equal(ew.spec.probes[0].period, '10s');
  assert.equal(ew.spec.probes[0].failureThreshold, 3);
  const ns = admit('Namespace/payments');
  assert.equal(ns.status.phase, 'Active');
  assert.equal(ns.metadata.labels['kubernetes.io/metadata.name'], 'payments');
});
