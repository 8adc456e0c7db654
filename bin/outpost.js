#!/usr/bin/env node
// The `outpost` command: runs the compiled CLI (built by `npm ci` through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(entry)) {
  console.error('outpost: the CLI is not built; run `npm ci` (or `npm run build`) in ' + root);
  process.exit(1);
}
await import(pathToFileURL(entry).href);
