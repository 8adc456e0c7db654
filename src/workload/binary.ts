// The executable an onboarding bundle carries (`--with-binary`, `--binary PATH`): chosen and checked
// before the API is touched, then copied into the bundle as ./outpost for install.sh to install.
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OutpostError } from '../core/errors.js';
import { isPackaged } from '../core/packaged.js';

/** The file name of the executable inside a bundle (install.sh installs it to /usr/bin/outpost). */
export const BUNDLED_BINARY = 'outpost';

export interface BundledBinary {
  path: string;
  /** What it prints for --version, e.g. "outpost 0.1.0 (commit e56be43)". */
  version: string;
}

/**
 * Which executable goes into the bundle: --binary PATH, else with --with-binary (default: on in the
 * packaged executable) this process; undefined for none. Throws naming the flag when it is unusable.
 */
export function chooseBundledBinary(flags: { 'with-binary': boolean; binary?: string }, packaged = isPackaged()): BundledBinary | undefined {
  if (flags.binary !== undefined) return checkBinary(resolve(flags.binary), 'binary');
  if (!flags['with-binary']) return undefined;
  if (!packaged) {
    throw new OutpostError('INVALID_ARGUMENT', '--with-binary: this outpost runs from source (node), not the packaged executable; build one with `npm run package` and pass --binary dist-package/outpost', { field: 'with-binary' });
  }
  return checkBinary(process.execPath, 'with-binary');
}

function checkBinary(path: string, field: string): BundledBinary {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a regular file');
    accessSync(path, constants.X_OK);
    size = st.size;
  } catch (e) {
    throw new OutpostError('INVALID_ARGUMENT', `--${field}: ${path} is not an executable file (${(e as Error).message})`, { field });
  }
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, NODE_OPTIONS: '' } });
  const version = (r.stdout ?? '').trim();
  if (r.status !== 0 || !/^outpost \S+/.test(version)) {
    throw new OutpostError('INVALID_ARGUMENT', `--${field}: ${path} is not an outpost executable (\`${path} --version\` printed ${JSON.stringify(version || (r.stderr ?? '').trim().slice(0, 80))})`, { field });
  }
  if (size < 1024 * 1024) throw new OutpostError('INVALID_ARGUMENT', `--${field}: ${path} is a ${size}-byte launcher, not the self-contained executable (build it with \`npm run package\`)`, { field });
  return { path, version };
}

/** Copies the executable into the bundle directory as ./outpost (0755). */
export function copyBinaryIntoBundle(bundleDir: string, binary: BundledBinary): string {
  const dest = join(bundleDir, BUNDLED_BINARY);
  copyFileSync(binary.path, dest);
  chmodSync(dest, 0o755);
  return dest;
}
