// The packaged executable (dist-package/outpost, built here by `npm run package` when stale): its
// --version names the commit, its assets unpack into a private directory that a tampered file or a
// foreign directory cannot subvert, and onboard's --with-binary/--binary refuse what they cannot ship.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outpost, REPO_ROOT } from '../support/cli.js';
import { buildExecutable } from '../../scripts/package/executable.js';

const EXE = join(REPO_ROOT, 'dist-package', 'outpost');
const hasPackagingTools = ['git', 'dpkg-deb'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

describe('the packaged executable', { skip: hasPackagingTools ? false : 'needs git and dpkg-deb to build it', timeout: 300_000 }, () => {
  let work: string;
  /** A port already taken, so that `outpost up` stops right after opening its store. */
  let taken: Server;
  let takenPort: string;
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(EXE, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

  before(async () => {
    const built = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'package', 'build.ts'), '--if-stale'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 300_000 });
    assert.equal(built.status, 0, `npm run package failed:\n${built.stdout}`);
    work = mkdtempSync(join(tmpdir(), 'outpost-exe-'));
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = String((taken.address() as { port: number }).port);
  }, { timeout: 300_000 });

  after(() => taken?.close());

  it('--version names the commit it was built from; from source it stays `outpost 0.1.0`', async () => {
    const commit = execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    assert.equal(run(['--version']).stdout, `outpost 0.1.0 (commit ${commit})\n`);
    const fromSource = await outpost(['--version']);
    assert.equal(fromSource.stdout, 'outpost 0.1.0\n');
  });

  it('runs `outpost up` with its embedded SQLite addon, unpacked 0700 under OUTPOST_ASSET_DIR', () => {
    const assets = join(work, 'assets');
    const dataDir = join(work, 'data');
    // `outpost up` opens the store (better-sqlite3) before it listens; the taken API port makes it stop right after.
    const r = run(['up', '--data-dir', dataDir, '--listen', '127.0.0.1', '--api-port', takenPort, '--identity-port', '0', '--destination-port', '0', '--policy-port', '0', '--health-port', '0', '--admin-port', '0', '--viz-port', '0'], { OUTPOST_ASSET_DIR: assets });
    const unpacked = readdirSync(assets).map((d) => join(assets, d));
    assert.equal(unpacked.length, 1, `one content-addressed folder: ${unpacked.join(', ')}; outpost up said: ${r.stderr}`);
    assert.equal(statSync(assets).mode & 0o777, 0o700);
    assert.equal(statSync(unpacked[0]).mode & 0o777, 0o700);
    for (const f of ['better_sqlite3.node', 'original_dst.node', 'proto/outpost/identity.proto']) assert.ok(existsSync(join(unpacked[0], f)), `${f} unpacked`);
    assert.ok(existsSync(join(dataDir, 'store.db')) || readdirSync(dataDir).some((f) => f.endsWith('.db')), `the SQLite store was created: ${readdirSync(dataDir).join(', ')}; ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /better-sqlite3|dlopen|Cannot find module/);
  });

  it('replaces an unpacked file whose content was changed, and refuses an asset dir others can enter', () => {
    const assets = join(work, 'assets');
    const [dir] = readdirSync(assets).map((d) => join(assets, d));
    const proto = join(dir, 'proto', 'outpost', 'identity.proto');
    const original = readFileSync(proto, 'utf8');
    writeFileSync(proto, 'syntax = "proto3"; // tampered\n');
    const dataDir = join(work, 'data2');
    run(['up', '--data-dir', dataDir, '--listen', '127.0.0.1', '--api-port', takenPort, '--identity-port', '0', '--destination-port', '0', '--policy-port', '0', '--health-port', '0', '--admin-port', '0', '--viz-port', '0'], { OUTPOST_ASSET_DIR: assets });
    assert.equal(readFileSync(proto, 'utf8'), original, 'the tampered file was rewritten from the executable');

    const open = join(work, 'open-assets');
    mkdirSync(open);
    chmodSync(open, 0o755);
    const r = run(['up', '--data-dir', join(work, 'data3'), '--api-port', '0'], { OUTPOST_ASSET_DIR: open });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^outpost up: ${open} \\(where the executable unpacks its native addons\\) is not a private directory of uid \\d+ \\(it must be a real directory owned by you, mode 0700`, 'm'));
  });

  it('onboard --binary refuses a file that is not the outpost executable, before touching the API', async () => {
    const notOutpost = await outpost(['workload', 'onboard', 'vm-1', '-n', 'ns', '--ip', '198.18.0.9', '--binary', '/bin/true', '--kubeconfig', join(work, 'none')]);
    assert.equal(notOutpost.code, 2, notOutpost.stderr);
    assert.match(notOutpost.stderr, /^outpost workload: --binary: \/bin\/true is not an outpost executable/m);
    const launcher = await outpost(['workload', 'onboard', 'vm-1', '-n', 'ns', '--ip', '198.18.0.9', '--binary', join(REPO_ROOT, 'bin', 'outpost.js'), '--kubeconfig', join(work, 'none')]);
    assert.equal(launcher.code, 2, launcher.stderr);
    assert.match(launcher.stderr, /--binary: .*bin\/outpost\.js is a \d+-byte launcher, not the self-contained executable/);
    const fromSource = await outpost(['workload', 'onboard', 'vm-1', '-n', 'ns', '--ip', '198.18.0.9', '--with-binary', '--kubeconfig', join(work, 'none')]);
    assert.equal(fromSource.code, 2, fromSource.stderr);
    assert.match(fromSource.stderr, /--with-binary: this outpost runs from source \(node\), not the packaged executable; .*--binary dist-package\/outpost/);
  });

  it('building the executable again from the same tree gives the same bytes', async () => {
    const commit = execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const again = join(work, 'outpost-again');
    await buildExecutable({ root: REPO_ROOT, work: join(work, 'build-again'), out: again, commit, log: () => {} });
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    assert.equal(sha(again), sha(EXE));
  });
});
