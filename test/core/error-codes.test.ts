// The error-code registry and docs/errors.md list the same codes, and every code thrown is registered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../../src/core/error-codes.js';
import { REPO_ROOT } from '../support/paths.js';

test('docs/errors.md documents exactly the registered codes', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
});

test('every code thrown in src/ is registered', () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(join(REPO_ROOT, 'src'));
  const thrown = new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/new OutpostError\('([A-Z_]+)'/g)].map((m) => m[1])));
  for (const code of thrown) assert.ok(code in ERROR_CODES, `${code} is thrown but not in src/core/error-codes.ts`);
});
