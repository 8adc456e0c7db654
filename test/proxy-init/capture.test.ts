// Transparent capture for real: proxy-init installs iptables rules inside a network namespace
// acting as a VM; connections are redirected and the proxy side reads their original destination.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { canUseNetns, createHostPair, type HostPair } from '../support/netns.js';
import { REPO_ROOT } from '../support/paths.js';
import { waitFor } from '../support/wait.js';
import { splitRule } from '../../src/proxy-init/iptables.js';

const root = canUseNetns();
const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');
let pair: HostPair;
let listener: ChildProcess;
const seen: { listener: number; originalDst: string }[] = [];

const outpostIn = (args: string[]) => pair.exec(pair.b, process.execPath, ['--import', 'tsx', MAIN, 'proxy-init', ...args]);
const FLAGS = ['--external-workload', '--inbound-ports', '8080,9090', '--proxy-uid', '2102'];

before(async () => {
  if (!root) return;
  pair = createHostPair('opinit');
  // b is the VM: the proxy's inbound (4143) and outbound (4140) ports are played by a listener that reports SO_ORIGINAL_DST.
  listener = spawn('ip', ['netns', 'exec', pair.b.ns, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test/proxy-init/fixtures/capture-listener.ts'), '4143', '4140'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let listening = 0;
  await new Promise<void>((resolve) => {
    createInterface({ input: listener.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line);
      if (msg.listening && ++listening === 4) resolve();
      if (msg.originalDst) seen.push(msg);
    });
  });
});

after(() => {
  if (!root) return;
  listener?.kill();
  pair?.destroy();
});

/** Connects from `host` with bash's /dev/tcp (optionally as another uid) and returns what the server said. */
function connect(from: 'a' | 'b', address: string, port: number, uid?: number): string {
  const script = `exec 3<>/dev/tcp/${address}/${port} && timeout 2 head -n1 <&3`; // bash takes IPv6 addresses as they are
  const cmd = uid === undefined ? ['bash', '-c', script] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'bash', '-c', script];
  return pair.exec(from === 'a' ? pair.a : pair.b, cmd[0], cmd.slice(1)).stdout.trim();
}

test('proxy-init installs capture rules, and --check confirms them', { skip: !root && 'needs root and network namespaces' }, () => {
  const before = outpostIn(['--check', ...FLAGS]);
  assert.equal(before.code, 1, 'check fails before install');
  assert.match(before.stdout, /iptables: chain OUTPOST-INBOUND is missing/);
  assert.match(before.stdout, /ip6tables: chain OUTPOST-INBOUND is missing/);
  const r = outpostIn(FLAGS);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /capture installed \(IPv4 and IPv6\)/);
  const c = outpostIn(['--check', ...FLAGS]);
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assert.match(c.stdout, /✓ capture rules are in place/);
});

test('re-running is idempotent', { skip: !root && 'needs root and network namespaces' }, () => {
  assert.equal(outpostIn(FLAGS).code, 0);
  assert.equal(outpostIn(FLAGS).code, 0);
  const c = outpostIn(['--check', ...FLAGS]);
  assert.equal(c.code, 0, c.stdout);
  for (const binary of ['iptables', 'ip6tables']) {
    const save = pair.exec(pair.b, binary, ['-t', 'nat', '-S']).stdout;
    assert.equal(save.split('\n').filter((l) => l.includes('-j OUTPOST-INBOUND')).length, 1, binary);
  }
});

test('inbound connections to a workload port reach the proxy inbound port, with the original destination', { skip: !root && 'needs root and network namespaces' }, async () => {
  assert.equal(connect('a', pair.b.address, 8080), 'captured');
  const hit = await waitFor('a connection captured to the inbound port', () => seen.find((s) => s.listener === 4143));
  assert.equal(hit.originalDst, `${pair.b.address}:8080`);
});

test('IPv6 too: inbound to a captured port reaches the proxy, never the app in plaintext', { skip: !root && 'needs root and network namespaces' }, async () => {
  assert.equal(connect('a', pair.b.address6, 9090), 'captured');
  const hit = await waitFor('an IPv6 connection captured to the inbound port, original destination port 9090', () => seen.find((s) => s.listener === 4143 && s.originalDst === `${pair.b.address6}:9090`));
  assert.ok(hit);
});

test('IPv6 too: the app\'s outbound connections reach the proxy outbound port', { skip: !root && 'needs root and network namespaces' }, async () => {
  assert.equal(connect('b', pair.a.address6, 6379), 'captured');
  assert.ok(await waitFor('an IPv6 connection captured to the outbound port, original destination port 6379', () => seen.find((s) => s.listener === 4140 && s.originalDst === `${pair.a.address6}:6379`)));
});

test('--check notices a rule removed from one family only', { skip: !root && 'needs root and network namespaces' }, () => {
  const line = pair.exec(pair.b, 'ip6tables', ['-t', 'nat', '-S', 'OUTPOST-OUTBOUND']).stdout.split('\n').find((l) => l.includes('REDIRECT'))!;
  const removed = pair.exec(pair.b, 'ip6tables', ['-t', 'nat', '-D', ...splitRule(line.slice(3))]);
  assert.equal(removed.code, 0, removed.stderr);
  const c = outpostIn(['--check', ...FLAGS]);
  assert.equal(c.code, 1);
  assert.match(c.stdout, /ip6tables: chain OUTPOST-OUTBOUND lacks rule/);
  assert.doesNotMatch(c.stdout, /^× iptables:/m);
  assert.equal(outpostIn(FLAGS).code, 0);
});

test("the app's outbound connections reach the proxy outbound port, with the original destination", { skip: !root && 'needs root and network namespaces' }, async () => {
  assert.equal(connect('b', pair.a.address, 5432), 'captured');
  assert.ok(await waitFor('a connection captured to the outbound port, original destination port 5432', () => seen.find((s) => s.listener === 4140 && s.originalDst === `${pair.a.address}:5432`)));
});

test("the proxy's own user is not captured", { skip: !root && 'needs root and network namespaces' }, async () => {
  const serverCode = "require('net').createServer((s) => s.end('direct\\n')).listen(7000, () => console.log('up'))";
  const server = spawn('ip', ['netns', 'exec', pair.a.ns, process.execPath, '-e', serverCode], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => server.stdout!.once('data', r));
  const before = seen.length;
  const got = connect('b', pair.a.address, 7000, 2102);
  server.kill();
  assert.equal(got, 'direct');
  assert.equal(seen.length, before, 'nothing reached the proxy listener');
});

test('--uninstall removes every rule', { skip: !root && 'needs root and network namespaces' }, () => {
  const r = outpostIn(['--uninstall']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed the Outpost capture rules \(iptables\)\nremoved the Outpost capture rules \(ip6tables\)/);
  for (const binary of ['iptables', 'ip6tables']) assert.doesNotMatch(pair.exec(pair.b, binary, ['-t', 'nat', '-S']).stdout, /OUTPOST/, binary);
  assert.equal(outpostIn(['--check', ...FLAGS]).code, 1);
});
