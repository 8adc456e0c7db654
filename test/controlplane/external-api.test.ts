// `outpost up --kubeconfig FILE`: the same components against an API that is not embedded — here
// an API server started on its own, in another data dir, standing in for a cluster's. The control
// plane publishes its trust roots there, its controllers write the EndpointSlices there, and the
// CLI finds that API from the control plane's data dir. A bad kubeconfig fails in one line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApi, type TestApi } from '../apiserver/http/harness.js';
import { waitFor } from '../support/wait.js';
import { writeUnreachableKubeconfig } from '../support/kubeconfig.js';
import { outpost, spawnOutpost, FREE_COMPONENT_PORT_FLAGS } from '../support/cli.js';


describe('outpost up against an API that is not embedded', () => {
  let api: TestApi;
  let work: string;
  let dataDir: string;
  let proc: ChildProcess | undefined;
  let output = '';

  before(async () => {
    api = await startTestApi();
    work = mkdtempSync(join(tmpdir(), 'outpost-external-'));
    dataDir = join(work, 'data');
    // This stand-in API grants ServiceAccounts nothing (docs/api-auth.md): every component uses the
    // kubeconfig's credentials. Against a real cluster each runs as its own ServiceAccount (test/kubernetes/).
    proc = spawnOutpost(['up', '--kubeconfig', api.kubeconfig, '--component-credentials', 'kubeconfig', '--data-dir', dataDir, ...FREE_COMPONENT_PORT_FLAGS]);
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    await waitFor('the control plane to start', () => output.includes('Outpost control plane is up'), { timeoutMs: 40_000, intervalMs: 200, abortIf: () => proc!.exitCode !== null && `outpost up exited:\n${output}` });
  });

  after(async () => {
    proc?.kill('SIGTERM');
    await new Promise((r) => (proc && proc.exitCode === null ? proc.once('exit', r) : r(undefined)));
    await api?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('runs no API of its own and records the one it uses', () => {
    assert.match(output, /API https:\/\/127\.0\.0\.1:\d+, not embedded/);
    assert.ok(!existsSync(join(dataDir, 'state.db')), 'no embedded store');
    const info = JSON.parse(readFileSync(join(dataDir, 'control-plane.json'), 'utf8'));
    assert.equal(info.listeners.api, api.url);
    assert.equal(info.kubeconfig, api.kubeconfig);
  });

  it('publishes its trust roots and writes EndpointSlices in that API; the CLI finds the API from the data dir', async () => {
    const roots = await waitFor('the trust-roots ConfigMap', async () => {
      const r = await api.kubectl(['get', 'configmap', 'outpost-identity-trust-roots', '-n', 'outpost', '-o', 'jsonpath={.data.ca-bundle\\.crt}']);
      return r.code === 0 && r.stdout.includes('BEGIN CERTIFICATE') ? r.stdout : undefined;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    assert.equal(roots.trim(), readFileSync(join(dataDir, 'pki', 'trust-anchors.crt'), 'utf8').trim());

    const file = join(work, 'shop.yaml');
    writeFileSync(
      file,
      `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: 8080 }] }
---
apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata: { name: web-vm, namespace: shop, labels: { app: web }, annotations: { outpost.io/assume-ready: "true" } }
spec:
  meshTLS: { identity: "spiffe://cluster.local/ns/shop/sa/web", serverName: web-vm.shop.svc.cluster.local }
  workloadIPs: [{ ip: 10.0.9.1 }]
  ports: [{ name: http, port: 8080 }]
`,
    );
    const applied = await api.kubectl(['apply', '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
    await waitFor('the EndpointSlice written by the external control plane', async () => {
      const r = await api.kubectl(['get', 'endpointslices', '-n', 'shop', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[*].addresses[*]}']);
      return r.stdout.trim() === '10.0.9.1' ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    // No --kubeconfig: the CLI reads the API from the control plane's data dir.
    const diag = await outpost(['diagnostics', 'endpoints', 'svc/web', '-n', 'shop', '--data-dir', dataDir]);
    assert.equal(diag.code, 0, diag.stderr);
    assert.match(diag.stdout, /10\.0\.9\.1\s+8080\s+4143\s+\S+\s+spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web/);
    const check = await outpost(['check', '--data-dir', dataDir]);
    assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
    assert.doesNotMatch(check.stdout, /×/);
  });

  it('refuses a kubeconfig it cannot use, in one line naming the flag', async () => {
    const missing = await outpost(['up', '--kubeconfig', join(work, 'nope'), '--data-dir', join(work, 'other'), ...FREE_COMPONENT_PORT_FLAGS]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /--kubeconfig: cannot read .*nope/);
    const down = join(work, 'down.kubeconfig');
    writeUnreachableKubeconfig(down);
    const unreachable = await outpost(['up', '--kubeconfig', down, '--data-dir', join(work, 'other2'), ...FREE_COMPONENT_PORT_FLAGS]);
    assert.notEqual(unreachable.code, 0);
    assert.match(unreachable.stderr, /--kubeconfig: cannot reach the API at https:\/\/127\.0\.0\.1:1/);
  });

  it('refuses to start when a component has no ServiceAccount, saying to apply outpost install', async () => {
    const bare = await startTestApi();
    try {
      const r = await outpost(['up', '--kubeconfig', bare.kubeconfig, '--data-dir', join(work, 'bare'), ...FREE_COMPONENT_PORT_FLAGS]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /ServiceAccount outpost\/outpost-identity does not exist in the cluster/);
      assert.match(r.stderr, /outpost install/);
    } finally {
      await bare.stop();
    }
  });
});
