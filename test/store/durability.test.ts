// Kill -9 durability: every write the store acknowledged is there after the process is SIGKILLed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore } from '../../src/store/sqlite.js';

const writer = fileURLToPath(new URL('./fixtures/acking-writer.ts', import.meta.url));

test('every acknowledged write survives kill -9', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-store-kill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'state.db');
  const child = spawn(process.execPath, ['--import', 'tsx', writer, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const acked = new Map<string, number>();
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [word, name, rev] = line.split(' ');
        if (word === 'ack') acked.set(name, Number(rev));
      }
      if (acked.size >= 500) resolve();
    });
  });
  // Kill while it is still writing: the acks read so far must all be durable.
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;

  const store = openSqliteStore(path);
  t.after(() => store.close());
  const ref = { group: 'workload.linkerd.io', resource: 'externalworkloads' };
  let missing = 0;
  for (const [name, rev] of acked) {
    const o = store.get(ref, 'ns', name);
    if (!o || o.metadata.resourceVersion !== String(rev)) missing++;
  }
  assert.equal(missing, 0, `${missing} of ${acked.size} acknowledged writes were lost`);
  const maxAcked = Math.max(...acked.values());
  assert.ok(store.revision() >= maxAcked);
  const next = await store.create(ref, { metadata: { name: 'after-restart', namespace: 'ns' } });
  assert.ok(Number(next.metadata.resourceVersion) > maxAcked, 'revisions keep increasing after the crash');
});
