// `outpost up` on a data dir whose state.db is damaged (issue 12 item 12): one line with the error
// code's hint, the file, SQLite's reason and how to recover (docs/errors.md), exit 1, no stack
// trace — for a file that is not a database and for a database with damaged pages.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outpost, FREE_PORT_FLAGS } from '../support/cli.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { ERROR_CODES } from '../../src/core/error-codes.js';

const root = mkdtempSync(join(tmpdir(), 'outpost-corrupt-'));
after(() => rmSync(root, { recursive: true, force: true }));

function dataDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

async function damagedPages(dir: string): Promise<void> {
  const db = join(dir, 'state.db');
  const store = openSqliteStore(db);
  for (let i = 0; i < 300; i++) await store.create({ group: '', resource: 'configmaps' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'default' }, data: { x: 'y'.repeat(500) } });
  store.close();
  const fd = openSync(db, 'r+');
  writeSync(fd, Buffer.alloc(16_384, 0xab), 0, 16_384, Math.floor(statSync(db).size / 8192) * 4096);
  closeSync(fd);
}

for (const [name, damage, reason] of [
  ['not a database', (dir: string) => writeFileSync(join(dir, 'state.db'), 'this is not an SQLite file, just bytes '.repeat(200)), /file is not a database \(SQLITE_NOTADB\)/],
  ['damaged pages', damagedPages, /database disk image is malformed \(SQLITE_CORRUPT\)/],
] as const) {
  test(`state.db ${name}: STORE_CORRUPT names the file and how to recover`, async () => {
    const dir = dataDir(name.replace(/ /g, '-'));
    await damage(dir);
    const db = join(dir, 'state.db');
    const r = await outpost(['up', '--data-dir', dir, ...FREE_PORT_FLAGS], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, no stack trace:\n${r.stderr}`);
    assert.match(lines[0], new RegExp(`^outpost up: the API store ${db} cannot be read: `));
    assert.match(lines[0], reason);
    assert.ok(lines[0].includes(`mv ${db} ${db}.corrupt`), lines[0]);
    assert.match(lines[0], /restore .* from a backup/);
    assert.ok(ERROR_CODES.STORE_CORRUPT, 'a registered code');
  });
}
