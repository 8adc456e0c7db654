// Test helper: network namespaces joined by a veth pair, acting as separate hosts with addresses
// in 198.18.0.0/15 (the benchmarking range). Needs root and iproute2; `canUseNetns()` tells.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function canUseNetns(): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  const name = `op-probe-${randomBytes(3).toString('hex')}`;
  const ok = spawnSync('ip', ['netns', 'add', name]).status === 0;
  if (ok) spawnSync('ip', ['netns', 'del', name]);
  return ok;
}

export interface Host {
  /** Namespace name, for `ip netns exec NAME ...`. */
  ns: string;
  address: string;
  /** IPv6 address in 2001:2::/48 (the IPv6 benchmarking range). */
  address6: string;
}

export interface HostPair {
  a: Host;
  b: Host;
  /** Runs a command inside a host's namespace. */
  exec(host: Host, cmd: string, args: string[]): { code: number; stdout: string; stderr: string };
  destroy(): void;
}

/** Two hosts on one /30: a = 198.18.N.1, b = 198.18.N.2; and on one /64: 2001:2:0:N::1 and ::2. */
export function createHostPair(prefix = 'op'): HostPair {
  const id = randomBytes(3).toString('hex');
  const octet = 1 + (parseInt(id.slice(0, 2), 16) % 250);
  const a: Host = { ns: `${prefix}-a-${id}`, address: `198.18.${octet}.1`, address6: `2001:2:0:${octet.toString(16)}::1` };
  const b: Host = { ns: `${prefix}-b-${id}`, address: `198.18.${octet}.2`, address6: `2001:2:0:${octet.toString(16)}::2` };
  const va = `va${id}`;
  const vb = `vb${id}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  ip('netns', 'add', a.ns);
  ip('netns', 'add', b.ns);
  try {
    ip('link', 'add', va, 'type', 'veth', 'peer', 'name', vb);
    ip('link', 'set', va, 'netns', a.ns);
    ip('link', 'set', vb, 'netns', b.ns);
    for (const [h, dev] of [[a, va], [b, vb]] as const) {
      ip('-n', h.ns, 'addr', 'add', `${h.address}/30`, 'dev', dev);
      ip('-n', h.ns, 'addr', 'add', `${h.address6}/64`, 'dev', dev, 'nodad');
      ip('-n', h.ns, 'link', 'set', dev, 'up');
      ip('-n', h.ns, 'link', 'set', 'lo', 'up');
    }
  } catch (e) {
    spawnSync('ip', ['netns', 'del', a.ns]);
    spawnSync('ip', ['netns', 'del', b.ns]);
    throw e;
  }
  return {
    a,
    b,
    exec(host, cmd, args) {
      const r = spawnSync('ip', ['netns', 'exec', host.ns, cmd, ...args], { encoding: 'utf8', timeout: 30_000 });
      return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    destroy() {
      spawnSync('ip', ['netns', 'del', a.ns]);
      spawnSync('ip', ['netns', 'del', b.ns]);
    },
  };
}
