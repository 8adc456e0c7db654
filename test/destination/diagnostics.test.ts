// `outpost diagnostics` errors a user meets first: bad arguments, an API that is not there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outpost } from '../support/cli.js';
import { writeUnreachableKubeconfig } from '../support/kubeconfig.js';

test('diagnostics: usage errors exit 2; an unreachable API exits 1 and says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-diag-'));
  try {
    const kubeconfig = writeUnreachableKubeconfig(join(dir, 'kubeconfig'));
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
