// The official Kubernetes Python client (Debian python3-kubernetes) watching ExternalWorkloads: its
// watches send `?watch=True`, which must open a watch (events), not answer a plain List.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/paths.js';
import { startTestApi, type TestApi } from './harness.js';

// Debian's python3-kubernetes is installed for the system interpreter (scripts/test.sh installs it).
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(REPO_ROOT, 'test', 'fixtures', 'python', 'watch_externalworkloads.py');
let api: TestApi;

before(async () => {
  api = await startTestApi();
});
after(async () => api?.stop());

const workload = (name: string, ip: string) => `
apiVersion: workload.linkerd.io/v1beta1
kind: ExternalWorkload
metadata: {name: ${name}, namespace: pyclient}
spec:
  meshTLS: {identity: "spiffe://cluster.local/ns/pyclient/sa/${name}", serverName: ${name}.pyclient.svc.cluster.local}
  workloadIPs: [{ip: ${ip}}]
  ports: [{port: 8080, name: http}]
`;

test('a Python controller sees ADDED, MODIFIED and DELETED events for ExternalWorkloads', async () => {
  assert.equal((await api.kubectl(['create', 'namespace', 'pyclient'])).code, 0);
  assert.equal((await api.kubectl(['apply', '-f', '-'], workload('vm-1', '10.0.60.1'))).code, 0);
  const child = spawn(PYTHON, [SCRIPT, api.kubeconfig, 'pyclient', '4', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  const lines = () => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; name?: string; ip?: string });
  const waitForLines = async (n: number) => {
    const deadline = Date.now() + 20_000;
    while (lines().length < n) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`watch printed ${JSON.stringify(lines())}; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitForLines(2); // STARTED, then the existing workload as ADDED
    assert.equal((await api.kubectl(['apply', '-f', '-'], workload('vm-1', '10.0.60.2'))).code, 0);
    await waitForLines(3);
    assert.equal((await api.kubectl(['delete', 'externalworkload', 'vm-1', '-n', 'pyclient'])).code, 0);
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(lines().slice(1), [
      { type: 'ADDED', name: 'vm-1', ip: '10.0.60.1' },
      { type: 'MODIFIED', name: 'vm-1', ip: '10.0.60.2' },
      { type: 'DELETED', name: 'vm-1', ip: '10.0.60.2' },
    ]);
  } finally {
    child.kill();
  }
});
