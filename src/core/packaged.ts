// The packaged executable (Node single-executable application, docs/adr/0017): whether this process
// is one, and its embedded assets (the .proto files and the native addons) extracted once into a
// private 0700 directory, content-addressed, so that protobuf loading and process.dlopen find files.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sea from 'node:sea';
import { OutpostError } from './errors.js';

/** The asset that lists every other asset: name → sha256 (written by scripts/package/build.ts). */
export const ASSET_MANIFEST = 'manifest.json';

export function isPackaged(): boolean {
  return sea.isSea();
}

/** A directory only this user may enter: created 0700, or an existing one that is ours, 0700, and not a symlink. */
function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new OutpostError('DATA_DIR_UNSAFE', `${dir} (where the executable unpacks its native addons) is not a private directory of uid ${uid}`, { hint: 'it must be a real directory owned by you, mode 0700; remove it or set OUTPOST_ASSET_DIR' });
  }
  return dir;
}

/** Where assets are extracted: $OUTPOST_ASSET_DIR, else systemd's $RUNTIME_DIRECTORY, else $XDG_RUNTIME_DIR, else the temp dir; one outpost-UID folder in it. */
export function assetBaseDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OUTPOST_ASSET_DIR) return env.OUTPOST_ASSET_DIR;
  const parent = env.RUNTIME_DIRECTORY?.split(':')[0] || env.XDG_RUNTIME_DIR || tmpdir();
  return join(parent, `outpost-${process.getuid?.() ?? 'user'}`);
}

let extracted: string | undefined;

/** The directory holding the embedded assets, extracted on first use; files already there are kept when their sha256 matches. */
export function packagedAssetDir(): string {
  if (extracted) return extracted;
  if (!isPackaged()) throw new OutpostError('INTERNAL', 'packagedAssetDir() outside the packaged executable');
  const manifest = JSON.parse(sea.getAsset(ASSET_MANIFEST, 'utf8')) as Record<string, string>;
  const digest = createHash('sha256').update(JSON.stringify(manifest)).digest('hex').slice(0, 16);
  const base = privateDir(assetBaseDir());
  const dir = privateDir(join(base, digest));
  for (const [name, sha] of Object.entries(manifest)) {
    const path = join(dir, name);
    let current: Buffer | undefined;
    try {
      current = readFileSync(path);
    } catch {}
    if (current && createHash('sha256').update(current).digest('hex') === sha) continue;
    const data = Buffer.from(sea.getAsset(name));
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, data, { mode: name.endsWith('.node') ? 0o700 : 0o600 });
    renameSync(tmp, path);
  }
  extracted = dir;
  return dir;
}

/** In the packaged executable: the embedded native addon, extracted then loaded with process.dlopen; otherwise undefined (load it from node_modules). */
export function packagedAddon<T extends object>(assetName: string): T | undefined {
  if (!isPackaged()) return undefined;
  const mod = { exports: {} as T };
  process.dlopen(mod, join(packagedAssetDir(), assetName));
  return mod.exports;
}
