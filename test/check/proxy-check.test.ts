// `outpost check --proxy` on a VM: the proxy's trust anchors must verify this control plane. Trust
// roots exported from another installation are named as such, with how to fix it — even when the
// proxy cannot start because of them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane.js';
import { outpost } from '../support/cli.js';
import { createRootCA } from '../../src/core/pki.js';

let cp: TestControlPlane;

before(async () => {
  cp = await startTestControlPlane();
});

after(async () => {
  await cp.dispose();
});

/** The guide's proxy-config.yaml, pointing at this control plane; the admin port has nothing on it. */
function proxyConfig(trustAnchors: string): string {
  const file = join(cp.dataDir, `proxy-config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(join(cp.dataDir, 'token'), 'unused\n', { mode: 0o600 });
  writeFileSync(
    file,
    [
      'admin: { port: 1 }',
      'inbound: { port: 4143 }',
      'outbound: { port: 4140 }',
      `identity: { trustAnchors: ${trustAnchors}, tokenPath: ${join(cp.dataDir, 'token')}, endpoint: "${cp.info.listeners.identity}" }`,
      `destination: { endpoint: "${cp.info.listeners.destination}" }`,
      'workload: { name: payment-processor-vm-1, namespace: payments }',
      '',
    ].join('\n'),
  );
  return file;
}

test('trust anchors from another installation are named, with the fix', async () => {
  const other = await createRootCA({ commonName: 'another-installation', lifetimeMs: 86_400_000 });
  const anchors = join(cp.dataDir, 'other-ca.crt');
  writeFileSync(anchors, other.certPem);
  const r = await outpost(['check', '--proxy', '--proxy-config', proxyConfig(anchors)]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /× proxy's trust anchors verify the control plane \(.*other-ca\.crt does not verify the identity service at 127\.0\.0\.1:\d+ .*the trust anchors come from another installation\)/);
  assert.match(r.stdout, /hint: export this control plane's roots with `outpost identity trust-roots > ca\.crt`/);
});

test("this control plane's trust anchors pass that check", async () => {
  const r = await outpost(['check', '--proxy', '--proxy-config', proxyConfig(join(cp.dataDir, 'pki', 'trust-anchors.crt'))]);
  assert.match(r.stdout, /√ proxy's trust anchors verify the control plane \(127\.0\.0\.1:\d+\)/);
  assert.match(r.stdout, /× proxy is running/, 'nothing listens on the admin port in this test');
});
