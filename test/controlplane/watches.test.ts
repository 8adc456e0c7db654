// `outpost up` runs identity, controllers, destination, policy and viz in one process: they read the
// API through one cluster view, so the process opens exactly one watch per resource type (before:
// ExternalWorkloads five times). Read from the control plane's admin /metrics, as an operator would.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnOutpost, FREE_PORT_FLAGS } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

const dir = join(mkdtempSync(join(tmpdir(), 'outpost-watches-')), 'data');
let proc: ChildProcess | undefined;
let output = '';

after(() => {
  proc?.kill('SIGKILL');
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

/** `name{resource="x"} v` rows of one metric family. */
function rows(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{resource="([^"]+)"\\} (\\d+)$`, 'gm'))) out.set(m[1], Number(m[2]));
  return out;
}

test('outpost up opens one watch per resource type, shared by every component', async () => {
  proc = spawnOutpost(['up', '--data-dir', dir, ...FREE_PORT_FLAGS]);
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  await waitFor('control-plane.json', () => existsSync(join(dir, 'control-plane.json')), { timeoutMs: 30_000, intervalMs: 100, abortIf: () => proc?.exitCode !== null && `outpost up exited:\n${output}`, context: () => `output:\n${output}` });
  const admin = JSON.parse(readFileSync(join(dir, 'control-plane.json'), 'utf8')).listeners.admin as string;
  const metrics = async () => (await fetch(`http://${admin}/metrics`)).text();

  // Every type listed has its watch open (pods: not served by the embedded API, so never watched).
  const text = await waitFor('every listed type to be watched', async () => {
    const t = await metrics();
    const lists = rows(t, 'outpost_kube_lists_total');
    const open = rows(t, 'outpost_kube_watches_open');
    return lists.size > 0 && [...lists.keys()].every((r) => (open.get(r) ?? 0) >= 1) ? t : undefined;
  }, { timeoutMs: 20_000, intervalMs: 200 });
  const opened = rows(text, 'outpost_kube_watches_opened_total');
  console.log(`watches opened per resource type by one outpost up:\n${[...opened].map(([r, n]) => `  ${r} ${n}`).join('\n')}`);
  for (const kind of ['externalworkloads', 'workloadgroups', 'services', 'endpointslices', 'servers', 'httproutes', 'namespaces', 'serviceaccounts', 'configmaps/outpost']) {
    assert.equal(opened.get(kind), 1, `${kind}: one watch for the whole process`);
  }
  for (const [resource, n] of opened) assert.equal(n, 1, `${resource} watched ${n} times`);
  assert.deepEqual([...rows(text, 'outpost_kube_informer_restarts_total').values()].filter((n) => n > 0), [], 'no informer restarted');
  assert.equal(rows(text, 'outpost_kube_watches_opened_total').has('pods'), false, 'pods are not served: no watch is held open for them');

  proc.kill('SIGTERM');
  await waitFor('outpost up to exit', () => proc!.exitCode !== null, { timeoutMs: 15_000, context: () => `output:\n${output}` });
});
