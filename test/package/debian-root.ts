// Test helper: a minimal Debian root (debootstrap --variant=minbase), cached between runs in
// ~/.cache/outpost/ (OUTPOST_DEBIAN_ROOT_CACHE overrides), made from the mirror this machine's apt
// uses. No Node.js, npm or compiler is in it. Mounted per test as an overlay, so the cache stays clean.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const SUITE = 'bookworm';
/** setpriv and setsid (util-linux) run the proxy as its user, both in minbase; iptables is what `install.sh --capture` needs. */
const DEBOOTSTRAP_ARGS = ['--variant=minbase', '--include=iptables', SUITE];

/** The first Debian archive URL in /etc/apt/sources.list and sources.list.d (one-line and deb822 formats), not the security archive. */
export function aptMirror(etc = '/etc/apt'): string | undefined {
  const files = [join(etc, 'sources.list'), ...(existsSync(join(etc, 'sources.list.d')) ? readdirSync(join(etc, 'sources.list.d')).sort().map((f) => join(etc, 'sources.list.d', f)) : [])];
  for (const file of files.filter((f) => existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    const urls = [...text.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/gm), ...text.matchAll(/^\s*URIs:\s*(\S+)/gim)].map((m) => m[1]);
    const archive = urls.find((u) => /^https?:\/\//.test(u) && !/security/.test(u));
    if (archive) return archive;
  }
  return undefined;
}

export type DebianRoot = { root: string; made: boolean } | { skip: string };

/** The cached root, made with debootstrap when missing; a skip reason when debootstrap cannot reach the archive. */
export function debianRoot(log: (line: string) => void = () => {}): DebianRoot {
  const cache = process.env.OUTPOST_DEBIAN_ROOT_CACHE ?? join(homedir(), '.cache', 'outpost');
  const root = join(cache, `debootstrap-${SUITE}`);
  const marker = join(root, '.outpost-debootstrap');
  const mirror = aptMirror();
  if (!mirror) return { skip: 'no Debian mirror in /etc/apt/sources.list* to debootstrap from' };
  const wanted = [...DEBOOTSTRAP_ARGS, mirror].join(' ');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === wanted) return { root, made: false };
  if (spawnSync('sh', ['-c', 'command -v debootstrap'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('debootstrap is not installed (scripts/test.sh installs it: apt-get install debootstrap)');
  }
  mkdirSync(cache, { recursive: true });
  const tmp = `${root}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  log(`debootstrap ${wanted} (once; cached in ${root})`);
  const r = spawnSync('debootstrap', [...DEBOOTSTRAP_ARGS, tmp, mirror], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    rmSync(tmp, { recursive: true, force: true });
    const lines = out.trim().split('\n');
    // Only an unreachable archive is a reason to skip; anything else is a failure.
    if (/Failed getting release file|Couldn't download|Temporary failure resolving|Could not resolve|Connection refused|timed out/i.test(out) || r.error?.message.includes('ETIMEDOUT')) {
      return { skip: `debootstrap cannot reach the Debian archive at ${mirror}: ${lines.slice(-2).join(' ')}` };
    }
    throw new Error(`debootstrap ${wanted} failed (exit ${r.status}):\n${lines.slice(-15).join('\n')}`);
  }
  writeFileSync(join(tmp, '.outpost-debootstrap'), wanted + '\n');
  rmSync(root, { recursive: true, force: true });
  renameSync(tmp, root);
  return { root, made: true };
}
