// `outpost up` as a user runs it: a real process, a fresh data dir, real kubectl with full TLS
// verification, a second `up` refused at once, and a clean stop on SIGTERM.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { kubectl, outpost, spawnOutpost, FREE_PORT_FLAGS } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

const dir = join(mkdtempSync(join(tmpdir(), 'outpost-up-')), 'data');
let proc: ChildProcess | undefined;
let output = '';

after(() => {
  proc?.kill('SIGKILL');
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

test('first start creates a private data dir, a kubeconfig kubectl trusts, and control-plane.json', async () => {
  proc = spawnOutpost(['up', '--data-dir', dir, ...FREE_PORT_FLAGS]);
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  await waitFor('control-plane.json', () => existsSync(join(dir, 'control-plane.json')), { timeoutMs: 30_000, intervalMs: 100, abortIf: () => proc?.exitCode !== null && `outpost up exited:\n${output}`, context: () => `output:\n${output}` });
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const kubeconfig = join(dir, 'kubeconfig');
  assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);
  assert.doesNotMatch(readFileSync(kubeconfig, 'utf8'), /insecure-skip-tls-verify/);
  const info = JSON.parse(readFileSync(join(dir, 'control-plane.json'), 'utf8'));
  assert.match(info.listeners.api, /^https:\/\/127\.0\.0\.1:\d+$/);
  const r = await kubectl(kubeconfig, ['get', 'ns']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /default\s+Active/);
  const livez = await kubectl(kubeconfig, ['get', '--raw', '/livez']);
  assert.equal(livez.stdout.trim(), 'ok');
  const readyz = await kubectl(kubeconfig, ['get', '--raw', '/readyz']);
  assert.equal(readyz.stdout.trim(), 'ok');
  assert.match(output, /export KUBECONFIG=/);
  // The admin endpoint serves every component's metrics.
  const metrics = await (await fetch(`http://${info.listeners.admin}/metrics`)).text();
  assert.match(metrics, /^# (HELP|TYPE) identity_/m);
  assert.equal((await fetch(`http://${info.listeners.admin}/ready`)).status, 200);
});

test('a second `outpost up` on the same data dir fails at once with a clear message', async () => {
  const started = Date.now();
  const r = await outpost(['up', '--data-dir', dir, ...FREE_PORT_FLAGS], { timeoutMs: 20_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /in use by a running control plane \(pid \d+\)/);
  assert.ok(Date.now() - started < 15_000);
});

test('bad flags are all reported on one line with a non-zero exit', async () => {
  const r = await outpost(['up', '--api-port', '70000', '--listen']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--api-port: must be at most 65535/);
  assert.match(r.stderr, /--listen: needs a value/);
});

test('SIGTERM stops it cleanly and releases the data dir', async () => {
  const exited = new Promise<number | null>((resolve) => proc!.once('exit', (code) => resolve(code)));
  proc!.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  assert.equal(existsSync(join(dir, 'outpost.lock')), false);
  assert.equal(existsSync(join(dir, 'control-plane.json')), false);
  proc = undefined;
});

test('outpost up --components runs only the named components, and refuses an unknown one in one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-up-components-'));
  try {
    const bad = await outpost(['up', '--components', 'identity,nope', '--data-dir', join(dir, 'a'), '--api-port', '0', '--admin-port', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr.trim(), /^outpost up: --components: unknown component "nope" \(known: identity, controllers, destination, policy, viz, injector\)/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line, nothing started');
    const both = await outpost(['up', '--in-cluster', '--kubeconfig', join(dir, 'k'), '--data-dir', join(dir, 'b')]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--in-cluster: may not be given together with --kubeconfig/);
    const proc: ChildProcess = spawnOutpost(['up', '--components', 'identity', '--data-dir', join(dir, 'c'), '--api-port', '0', '--admin-port', '0', '--identity-port', '0']);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 30_000;
    while (!out.includes('Press Ctrl-C') && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode === null ? proc.once('exit', r) : r(undefined)));
    assert.match(out, /identity\s+127\.0\.0\.1:\d+/);
    assert.doesNotMatch(out, /destination\s+127|policy\s+127|health\s+127/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
