// Every CLI command that reads the API finds and loads the kubeconfig the same way
// (src/cli/kube-context.ts): a missing file and an unreadable one are each one line naming the
// file and the flag, never a stack trace or a YAML excerpt.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outpost } from '../support/cli.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-kubeconfig-'));
  writeFileSync(join(dir, 'broken'), 'clusters: [not closed\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const COMMANDS = [
  ['viz', 'stat'],
  ['identity', 'trust-roots'],
  ['workload', 'revoke', 'vm-1', '-n', 'apps'],
];

test('an unreadable kubeconfig: exit 2, one line naming --kubeconfig and the file', async () => {
  for (const cmd of COMMANDS) {
    const r = await outpost([...cmd, '--kubeconfig', join(dir, 'broken')]);
    assert.equal(r.code, 2, `${cmd.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${cmd.join(' ')} printed:\n${r.stderr}`);
    assert.match(lines[0], new RegExp(`--kubeconfig: cannot read ${join(dir, 'broken')}: `));
  }
});

test('a missing kubeconfig: one line saying where it looked and how to get one', async () => {
  for (const cmd of COMMANDS) {
    const r = await outpost([...cmd, '--kubeconfig', join(dir, 'absent')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.trim(), new RegExp(`^outpost \\S+: no kubeconfig at ${join(dir, 'absent')} \\(start \`outpost up\``));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
