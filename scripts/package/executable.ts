// Builds the single executable (Node SEA, docs/adr/0017): esbuild bundles src/cli/packaged-main.ts
// into one CommonJS file, the .proto files and native addons become SEA assets (with a sha256
// manifest), node writes the blob and postject injects it into a copy of this node binary.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';

const require = createRequire(import.meta.url);
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Optional packages that dependencies probe inside try/catch (debug, ws, node-fetch); not installed, not bundled. */
const ABSENT_OPTIONAL = ['supports-color', 'bufferutil', 'utf-8-validate', 'encoding'];

/** Resolves the absent optional packages to a module that throws MODULE_NOT_FOUND, as require() would (and SEA's require would warn). */
const absentOptional: Plugin = {
  name: 'absent-optional',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${ABSENT_OPTIONAL.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'absent-optional' }));
    b.onLoad({ filter: /.*/, namespace: 'absent-optional' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}'`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

export interface ExecutableInput {
  root: string;
  work: string;
  out: string;
  commit: string;
  log: (line: string) => void;
}

/** name inside the executable → file on this machine */
function assetFiles(root: string): Record<string, string> {
  const assets: Record<string, string> = {};
  const protoDir = join(root, 'proto', 'outpost');
  for (const f of readdirSync(protoDir).filter((f) => f.endsWith('.proto')).sort()) assets[`proto/outpost/${f}`] = join(protoDir, f);
  assets['proto/spiffe/workload.proto'] = join(root, 'proto', 'spiffe', 'workload.proto');
  assets['better_sqlite3.node'] = join(require.resolve('better-sqlite3/package.json', { paths: [root] }), '..', 'build', 'Release', 'better_sqlite3.node');
  assets['original_dst.node'] = join(require.resolve('outpost-original-dst/package.json', { paths: [root] }), '..', 'build', 'Release', 'original_dst.node');
  for (const [name, path] of Object.entries(assets)) {
    if (!existsSync(path)) throw new Error(`asset ${name}: ${path} is missing (run \`npm ci\`, which builds the native addons)`);
  }
  return assets;
}

/** Runs a build step, showing its output only when it fails (postject warns about every ELF note it copies). */
function quiet(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`);
}

/** postject from node_modules (devDependency), else the npm registry through npm exec. */
function postjectCommand(root: string): string[] {
  try {
    return [process.execPath, join(require.resolve('postject/package.json', { paths: [root] }), '..', 'dist', 'cli.js')];
  } catch {
    return ['npm', 'exec', '--yes', '--package=postject@1.0.0-alpha.6', '--', 'postject'];
  }
}

/** The node binary becomes the executable: it must carry the SEA fuse and not load a shared libnode. */
function checkNodeBinary(): void {
  if ((process.config.variables as { node_shared?: boolean }).node_shared) {
    throw new Error(`${process.execPath} is built against a shared libnode: the executable would not be self-contained; build with the official (or NodeSource) node 20 binary`);
  }
  if (!readFileSync(process.execPath).includes(FUSE)) throw new Error(`${process.execPath} has no single-executable-application support (node ${process.version}); use node 20.12 or later`);
}

export async function buildExecutable(input: ExecutableInput): Promise<void> {
  const { root, work, out, commit, log } = input;
  checkNodeBinary();
  mkdirSync(work, { recursive: true });
  const bundle = join(work, 'outpost.cjs');
  log(`bundling src/cli/packaged-main.ts (esbuild, commit ${commit})`);
  await build({
    entryPoints: [join(root, 'src', 'cli', 'packaged-main.ts')],
    outfile: bundle,
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Native addons are SEA assets (src/core/packaged.ts); these requires are never taken when packaged.
    external: ['outpost-original-dst'],
    plugins: [absentOptional],
    define: { __OUTPOST_COMMIT__: JSON.stringify(commit), 'import.meta.url': '__outpostModuleUrl' },
    banner: { js: 'const __outpostModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
    legalComments: 'none',
    minify: true,
    keepNames: true,
    logLevel: 'warning',
  });

  const assets = assetFiles(root);
  const manifest: Record<string, string> = {};
  for (const [name, path] of Object.entries(assets)) manifest[name] = createHash('sha256').update(readFileSync(path)).digest('hex');
  const manifestPath = join(work, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  const blob = join(work, 'outpost.blob');
  const config = {
    // Relative to the work dir: the blob records the main script's path as given.
    main: 'outpost.cjs',
    output: 'outpost.blob',
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    // V8's code cache would save ~50 ms of CPU at start-up, but its bytes differ from build to build (docs/adr/0017).
    useCodeCache: false,
    assets: { 'manifest.json': manifestPath, ...assets },
  };
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2) + '\n');
  log(`writing the SEA blob (${Object.keys(assets).length} assets)`);
  quiet(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], work);

  log(`injecting it into a copy of ${process.execPath} (node ${process.version}) with postject`);
  copyFileSync(process.execPath, out);
  chmodSync(out, 0o755);
  const [cmd, ...args] = postjectCommand(root);
  quiet(cmd, [...args, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], root);
  log(`built ${relative(root, out)}`);
}
