// `npm run test:unit` picks the pure test files by their imports and fails a test that starts a
// process anyway: the split between fast and slow tests cannot drift unnoticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths.js';

test('--list: pure files in, files reaching a process harness out, with the import chain that says why', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'unit-tests.ts'), '--list'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^pure {4}test\/support\/helpers\.test\.ts$/m);
  assert.match(r.stdout, /^pure {4}test\/architecture\/import-graph\.test\.ts$/m);
  assert.match(r.stdout, /^not {5}test\/apiserver\/http\/watch\.test\.ts: test\/apiserver\/http\/harness\.ts -> test\/support\/cli\.ts -> a harness that starts processes/m);
  assert.match(r.stdout, /^not {5}test\/controlplane\/up\.test\.ts: imports node:child_process$/m);
  assert.match(r.stdout, /^not {5}test\/proxy\/probes\/runner\.test\.ts: its code under test starts processes \(exec probes run commands\)$/m);
  assert.match(r.stdout, /^not {5}test\/architecture\/unit-tests\.test\.ts: imports node:child_process$/m);
});

test('under the unit guard, a test that starts a process fails naming the command', () => {
  const fixture = join(REPO_ROOT, 'test', 'architecture', 'fixtures', 'starts-a-process.ts');
  // Without NODE_TEST_CONTEXT (set for this file by the runner), the child reports as a runner of its own.
  const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(REPO_ROOT, 'test', 'support', 'unit-guard.ts'), '--test', fixture], { cwd: REPO_ROOT, encoding: 'utf8', env });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /test:unit runs only pure tests, and this one started a process \(child_process\.spawnSync true\): it is not a unit test/);
});
