// `outpost up` as a user runs it, with its one flag table: a bad value exits 2 with one line naming
// the flag and nothing started; `--components=NAME --help` shows that component's flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outpost } from '../support/cli.js';

test('`outpost up` with a bad value: exit 2 and one line naming the flag, nothing started', async () => {
  const r = await outpost(['up', '--data-dir', '/nonexistent/outpost', '--default-inbound-policy=nope', '--api-port=0'], { timeoutMs: 30_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^outpost up: --default-inbound-policy: expected all-unauthenticated, all-authenticated, cluster-unauthenticated, cluster-authenticated, deny, got "nope" \(see `outpost <command> --help`\)\n$/);
});

test('`outpost up --components=policy --help` shows the control plane and policy flags', async () => {
  const r = await outpost(['up', '--components=policy', '--help'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Component policy:\n {6}--policy-port INT/);
  assert.match(r.stdout, /--default-inbound-policy STRING\n\s+policy of ports no Server selects \(default all-unauthenticated\); one of all-unauthenticated/);
  assert.doesNotMatch(r.stdout, /--viz-port/);
});
