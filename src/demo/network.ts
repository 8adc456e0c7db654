// Where the demo's workloads live: as root, one network namespace each, joined by veth pairs to a
// bridge in the root namespace that holds the gateway address (the control plane is reachable
// there); otherwise distinct loopback addresses 127.x.y.z on this host. Addresses are pure; the
// `ip` calls are the adapter, and every object created is recorded so cleanup removes exactly those.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { OutpostError } from '../core/errors.js';

export interface DemoHost {
  workload: string;
  address: string;
  /** Network namespace name; undefined in loopback mode. */
  netns?: string;
}

export interface DemoNetwork {
  mode: 'netns' | 'loopback';
  /** Address the workloads reach the control plane at. */
  gateway: string;
  hosts: DemoHost[];
  bridge?: string;
  /** Prefix for spawning a command inside a host: ['ip', 'netns', 'exec', NS] or []. */
  execPrefix(host: DemoHost): string[];
}

/** Parses "A.B.C.0/24" (only /24 networks: the demo numbers hosts .1, .11, .12, ...). */
export function parseSubnet24(cidr: string, flag = 'subnet'): [number, number, number] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(cidr);
  const octets = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (!m || octets.some((o) => o > 255)) throw new OutpostError('INVALID_ARGUMENT', `--${flag}: expected a /24 network like 198.18.0.0/24, got "${cidr}"`, { field: flag });
  return octets as [number, number, number];
}

/** Pure: the demo's addresses. Netns mode must stay in 198.18.0.0/15, loopback mode in 127.0.0.0/8. */
export function planAddresses(mode: 'netns' | 'loopback', subnet: string, workloads: string[]): { gateway: string; addresses: Record<string, string> } {
  const [a, b, c] = parseSubnet24(subnet);
  if (mode === 'netns' && !(a === 198 && (b === 18 || b === 19))) throw new OutpostError('INVALID_ARGUMENT', `--subnet: network namespaces use the benchmarking range 198.18.0.0/15, got ${subnet}`, { field: 'subnet' });
  if (mode === 'loopback' && a !== 127) throw new OutpostError('INVALID_ARGUMENT', `--subnet: without network namespaces the demo uses loopback addresses (127.0.0.0/8), got ${subnet}`, { field: 'subnet' });
  if (mode === 'loopback' && b === 0 && c === 0) throw new OutpostError('INVALID_ARGUMENT', '--subnet: 127.0.0.0/24 holds 127.0.0.1, which the workloads\' apps use; pick another, e.g. 127.0.10.0/24', { field: 'subnet' });
  const addresses = Object.fromEntries(workloads.map((w, i) => [w, `${a}.${b}.${c}.${11 + i}`]));
  return { gateway: mode === 'netns' ? `${a}.${b}.${c}.1` : '127.0.0.1', addresses };
}

export function canUseNetns(): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  const name = `outpost-probe-${randomBytes(3).toString('hex')}`;
  if (spawnSync('ip', ['netns', 'add', name], { stdio: 'ignore' }).status !== 0) return false;
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  return true;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

export interface CreatedNetwork {
  netns: string[];
  links: string[];
}

/** Creates the namespaces and the bridge; records each object in `created` as soon as it exists. */
export function createNetwork(mode: 'netns' | 'loopback', subnet: string, workloads: string[], created: CreatedNetwork): DemoNetwork {
  const { gateway, addresses } = planAddresses(mode, subnet, workloads);
  if (mode === 'loopback') {
    return { mode, gateway, hosts: workloads.map((w) => ({ workload: w, address: addresses[w] })), execPrefix: () => [] };
  }
  const id = randomBytes(2).toString('hex');
  const bridge = `opdemo${id}`;
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    created.links.push(bridge);
    // Bridged demo traffic must not be dropped by the host's iptables FORWARD policy (br_netfilter).
    spawnSync('ip', ['link', 'set', bridge, 'type', 'bridge', 'nf_call_iptables', '0'], { stdio: 'ignore' });
    ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const hosts = workloads.map((w, i) => {
      const ns = `outpost-demo-${w}-${id}`;
      const hostSide = `opd${id}h${i}`;
      ip('netns', 'add', ns);
      created.netns.push(ns);
      ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', `opd${id}p${i}`);
      created.links.push(hostSide);
      ip('link', 'set', `opd${id}p${i}`, 'netns', ns);
      ip('-n', ns, 'link', 'set', `opd${id}p${i}`, 'name', 'eth0');
      ip('link', 'set', hostSide, 'master', bridge);
      ip('link', 'set', hostSide, 'up');
      ip('-n', ns, 'addr', 'add', `${addresses[w]}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      return { workload: w, address: addresses[w], netns: ns };
    });
    return { mode, gateway, hosts, bridge, execPrefix: (h) => (h.netns ? ['ip', 'netns', 'exec', h.netns] : []) };
  } catch (e) {
    destroyNetwork(created);
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new OutpostError('INTERNAL', `cannot create the demo's network namespaces: ${stderr || (e as Error).message}`, { hint: 'run without root, or pass --no-netns, to use loopback addresses instead' });
  }
}

/** Removes what createNetwork made (namespaces first: deleting one removes its veth pair). */
export function destroyNetwork(created: CreatedNetwork): string[] {
  const problems: string[] = [];
  for (const ns of created.netns.splice(0)) {
    const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8' });
    if (r.status !== 0 && !/No such file/.test(r.stderr ?? '')) problems.push(`netns ${ns}: ${r.stderr?.trim()}`);
  }
  for (const link of created.links.splice(0).reverse()) {
    const r = spawnSync('ip', ['link', 'del', link], { encoding: 'utf8' });
    if (r.status !== 0 && !/Cannot find device/.test(r.stderr ?? '')) problems.push(`link ${link}: ${r.stderr?.trim()}`);
  }
  return problems;
}
