// `npm run package`: the single executable and the packages into dist-package/ (docs/packaging.md).
// --if-stale skips the build when dist-package/input.sha256 matches the inputs (scripts/test.sh).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OUTPOST_VERSION } from '../../src/core/version.js';
import { buildExecutable } from './executable.js';
import { buildPackages } from './packages.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const OUT = join(ROOT, 'dist-package');
const INPUT_FILE = join(OUT, 'input.sha256');

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

/** A digest of everything the build reads: tracked and untracked sources, the node binary, the native addons. */
function inputDigest(): string {
  const h = createHash('sha256');
  const files = git(['ls-files', '--cached', '--others', '--exclude-standard', '--', 'src', 'proto', 'scripts/package', 'native', 'package.json', 'package-lock.json']).split('\n').filter(Boolean).sort();
  for (const f of files) {
    const path = join(ROOT, f);
    if (existsSync(path)) h.update(f).update('\0').update(readFileSync(path)).update('\0');
  }
  h.update(git(['describe', '--always', '--dirty'])).update(process.execPath).update(String(statSync(process.execPath).mtimeMs)).update(process.version);
  for (const addon of ['node_modules/better-sqlite3/build/Release/better_sqlite3.node', 'node_modules/outpost-original-dst/build/Release/original_dst.node']) {
    const path = join(ROOT, addon);
    if (existsSync(path)) h.update(readFileSync(path));
  }
  return h.digest('hex');
}

async function main(): Promise<void> {
  const ifStale = process.argv.includes('--if-stale');
  const digest = inputDigest();
  if (ifStale && existsSync(INPUT_FILE) && readFileSync(INPUT_FILE, 'utf8').trim() === digest) {
    console.log('dist-package/ is up to date');
    return;
  }
  const started = Date.now();
  const log = (line: string): void => console.log(`[package ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  const commit = git(['describe', '--always', '--dirty', '--abbrev=12']);
  const epoch = Number(git(['log', '-1', '--format=%ct']));
  rmSync(OUT, { recursive: true, force: true });
  const work = join(OUT, '.work');
  mkdirSync(work, { recursive: true });
  const executable = join(OUT, 'outpost');
  await buildExecutable({ root: ROOT, work, out: executable, commit, log });
  const version = execFileSync(executable, ['--version'], { encoding: 'utf8' }).trim();
  log(`it runs: ${version}`);
  const names = ['outpost', ...buildPackages({ executable, work, outDir: OUT, version: OUTPOST_VERSION, commit, epoch, log })];
  if (!process.env.OUTPOST_PACKAGE_KEEP_WORK) rmSync(work, { recursive: true, force: true });
  const sums = names.map((n) => `${createHash('sha256').update(readFileSync(join(OUT, n))).digest('hex')}  ${n}`);
  writeFileSync(join(OUT, 'SHA256SUMS'), sums.join('\n') + '\n');
  writeFileSync(INPUT_FILE, digest + '\n');
  for (const n of names) log(`${n}  ${(statSync(join(OUT, n)).size / 1e6).toFixed(1)} MB`);
  log('done: dist-package/ (SHA256SUMS lists every file)');
}

await main();
