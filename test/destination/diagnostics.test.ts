// `outpost diagnostics` errors a user meets first: bad arguments, an API that is not there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outpost } from '../support/cli.js';

test('diagnostics: usage errors exit 2; an unreachable API exits 1 and says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-diag-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    // Port 1 on loopback: nothing listens there.
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n');
    const [bad, noPort, down] = await Promise.all([
      outpost(['diagnostics', 'endpoints', 'deploy/x', '--kubeconfig', kubeconfig]),
      outpost(['diagnostics', 'policy', 'externalworkload/x', '-n', 'a', '--kubeconfig', kubeconfig]),
      outpost(['diagnostics', 'endpoints', 'svc/x', '-n', 'a', '--kubeconfig', kubeconfig]),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected svc\/NAME/);
    assert.equal(noPort.code, 2);
    assert.match(noPort.stderr, /--port is required/);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the API at https:\/\/127\.0\.0\.1:1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
